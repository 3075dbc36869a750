//! The PROXY protocol (HAProxy's, versions 1 and 2) on accepted connections:
//! [`ServerOptions::proxy_protocol`], [`ProxyProtocol`], [`ProxyHeader`].
//!
//! A load balancer (HAProxy `send-proxy`/`send-proxy-v2`, AWS NLB, nginx
//! `proxy_protocol on`) that speaks it sends one header ahead of the client's bytes,
//! naming the client it accepted. With the option on, the server reads that header
//! before anything else (before TLS), and the connection's
//! [`peername`](crate::StreamWriter::peername) is the client's; the proxy's own address
//! stays reachable as [`proxy_peername`](crate::StreamWriter::proxy_peername). The parser
//! is ours, written from the specification (see `docs/DESIGN.md` for why not `ppp`).

mod accept;
mod header;

use std::time::Duration;

pub(crate) use accept::read_header;
pub use header::ProxyHeader;

use crate::transport::SocketAddress;
use crate::{ServerOptions, StreamWriter};

/// How long a client has to send its PROXY header, by default: 10 s (go-proxyproto's
/// `ReadHeaderTimeout` default).
pub const DEFAULT_PROXY_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether accepted connections carry a PROXY protocol header
/// ([`ServerOptions::proxy_protocol`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyProtocol {
    /// Every connection must start with a v1 or v2 header; one that does not is closed.
    /// The setting for a server only a proxy can reach.
    Required,
    /// A connection may start with a header; one that does not is served with the
    /// socket's addresses. Only where untrusted clients cannot connect directly (any
    /// client can send a header naming any address), e.g. while moving behind a proxy.
    Optional,
}

/// The PROXY protocol settings of a server: off (`policy: None`) by default.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProxySettings {
    pub(crate) policy: Option<ProxyProtocol>,
    pub(crate) timeout: Duration,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            policy: None,
            timeout: DEFAULT_PROXY_HEADER_TIMEOUT,
        }
    }
}

impl ServerOptions {
    /// Reads a PROXY protocol header (v1 or v2) at the start of every accepted TCP
    /// connection, before TLS: the connection's `peername()` becomes the client the proxy
    /// names, and the proxy's address is [`proxy_peername()`](crate::StreamWriter::proxy_peername).
    /// Off by default.
    ///
    /// asyncio: none; Go: `github.com/pires/go-proxyproto`'s listener; HAProxy:
    /// `accept-proxy`; nginx: `listen ... proxy_protocol`.
    ///
    /// A header that is malformed (bad signature or version, bad address, a v1 line over
    /// 107 bytes, a v2 header over 2048 bytes), incomplete when the client closes, or not
    /// complete within [`proxy_header_timeout`](Self::proxy_header_timeout) (10 s by
    /// default) closes the connection before the callback runs, with a debug log line
    /// saying why; the server goes on. `UNKNOWN` (v1), `LOCAL` (v2, a proxy's health
    /// check) and non-TCP families keep the socket's addresses. v2 TLVs are skipped.
    /// Only TCP connections carry the header: on a Unix socket server
    /// (`start_unix_server`) the option is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ProxyProtocol, ServerOptions, StreamReader, StreamWriter, open_connection};
    ///
    /// let server = ServerOptions::new()
    ///     .proxy_protocol(ProxyProtocol::Required)
    ///     .start_server(
    ///         |_r: StreamReader, w: StreamWriter| async move {
    ///             let line = format!("you are {}\n", w.peername().unwrap());
    ///             w.write(line.as_bytes())?;
    ///             w.drain().await
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// // What HAProxy's `send-proxy` writes first on its connection to us.
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n")?;
    /// assert_eq!(reader.readline().await?, "you are 203.0.113.7:51000\n");
    /// # Ok(()) }
    /// ```
    pub fn proxy_protocol(mut self, policy: ProxyProtocol) -> Self {
        self.proxy.policy = Some(policy);
        self
    }

    /// How long a client may take to send its whole PROXY header before the connection
    /// is closed ([`DEFAULT_PROXY_HEADER_TIMEOUT`], 10 s, by default). Applies only with
    /// [`proxy_protocol`](Self::proxy_protocol).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    ///
    /// use aiostreams::{ProxyProtocol, ServerOptions};
    ///
    /// let server = ServerOptions::new()
    ///     .proxy_protocol(ProxyProtocol::Required)
    ///     .proxy_header_timeout(Duration::from_millis(100))
    ///     .start_server(
    ///         |_reader, writer: aiostreams::StreamWriter| async move { writer.write(b"served\n") },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// // A client that sends no header in time is closed before the callback runs.
    /// let (mut reader, _writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// assert_eq!(reader.read(100).await?, "");
    /// # Ok(())
    /// # }
    /// ```
    pub fn proxy_header_timeout(mut self, timeout: Duration) -> Self {
        self.proxy.timeout = timeout;
        self
    }
}

impl StreamWriter {
    /// The proxy's address on a connection accepted with
    /// [`ServerOptions::proxy_protocol`] (the socket's own peer), while
    /// [`peername`](Self::peername) is the client the PROXY header named; `None` on a
    /// connection without a header. See [`Transport::proxy_header`](crate::Transport::proxy_header)
    /// for the whole header.
    ///
    /// asyncio: none; go-proxyproto: `Conn.Raw().RemoteAddr()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ProxyProtocol, ServerOptions, StreamReader, StreamWriter, open_connection};
    ///
    /// let server = ServerOptions::new()
    ///     .proxy_protocol(ProxyProtocol::Optional)
    ///     .start_server(
    ///         |_r: StreamReader, w: StreamWriter| async move {
    ///             let proxy = w.proxy_peername().map(|a| a.to_string());
    ///             w.write(format!("{} via {proxy:?}\n", w.peername().unwrap()).as_bytes())?;
    ///             w.drain().await
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// let me = writer.sockname().unwrap();
    /// writer.write(b"PROXY TCP6 2001:db8::5 2001:db8::1 4000 443\r\n")?;
    /// let answer = reader.readline().await?;
    /// assert_eq!(answer, format!("[2001:db8::5]:4000 via Some(\"{me}\")\n").as_str());
    /// # Ok(()) }
    /// ```
    pub fn proxy_peername(&self) -> Option<SocketAddress> {
        self.transport().proxy_peername()
    }
}
