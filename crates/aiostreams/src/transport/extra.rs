//! Typed extra info: asyncio's `get_extra_info('peername')` and friends.

use std::fmt;
use std::net::SocketAddr;

/// A socket address: an internet address or, on Unix, a Unix socket address.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SocketAddress {
    /// An IPv4 or IPv6 address and port.
    Inet(SocketAddr),
    /// A Unix domain socket address (unnamed, a path, or a Linux abstract name); boxed,
    /// as `sockaddr_un` is large and every connection keeps two addresses.
    #[cfg(unix)]
    Unix(Box<std::os::unix::net::SocketAddr>),
}

impl SocketAddress {
    /// The internet address, if this is one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let server = aiostreams::start_server(
    /// #     |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
    /// #         while let Ok(line) = r.readline().await {
    /// #             if line.is_empty() || w.write(&line).is_err() { break; }
    /// #         }
    /// #     },
    /// #     "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let addr = writer.peername().unwrap().as_inet().expect("TCP");
    /// assert_eq!(addr.port(), port);
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_inet(&self) -> Option<SocketAddr> {
        match self {
            SocketAddress::Inet(a) => Some(*a),
            #[cfg(unix)]
            SocketAddress::Unix(_) => None,
        }
    }
}

impl fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketAddress::Inet(a) => write!(f, "{a}"),
            #[cfg(unix)]
            SocketAddress::Unix(a) => match a.as_pathname() {
                Some(p) => write!(f, "{}", p.display()),
                None => f.write_str(""),
            },
        }
    }
}

impl From<SocketAddr> for SocketAddress {
    fn from(a: SocketAddr) -> Self {
        SocketAddress::Inet(a)
    }
}

/// One value of asyncio's `get_extra_info(name)`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ExtraInfo {
    /// `'peername'` or `'sockname'`.
    Address(SocketAddress),
    /// `'peercred'` (beyond asyncio): a Unix peer's pid, uid and gid.
    PeerCredentials(PeerCredentials),
    /// `'sslcontext'`, `'peercert'`, `'cipher'`: the TLS session's parameters.
    #[cfg(feature = "tls")]
    Tls(crate::tls::TlsInfo),
}

/// The credentials of a Unix socket's peer process (SO_PEERCRED), beyond asyncio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCredentials {
    /// The peer's process id, when the platform reports it.
    pub pid: Option<i32>,
    /// The peer's user id.
    pub uid: u32,
    /// The peer's group id.
    pub gid: u32,
}

/// What a transport knows about its connection, fixed at creation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    pub(super) peername: Option<SocketAddress>,
    pub(super) sockname: Option<SocketAddress>,
    pub(super) peer_credentials: Option<PeerCredentials>,
    /// Behind a proxy: the socket's own peer (the proxy) and the header it sent; boxed,
    /// as most connections have none.
    pub(super) proxy: Option<Box<Proxied>>,
}

/// A proxied connection's other addresses.
#[derive(Clone, Debug)]
pub(crate) struct Proxied {
    pub(super) peer: Option<SocketAddress>,
    pub(super) header: crate::ProxyHeader,
}

impl Extra {
    /// Applies a PROXY header: its source is the peer name from now on (a header
    /// without addresses changes nothing), and the socket's peer is kept as the proxy's.
    pub(super) fn proxied(&mut self, header: crate::ProxyHeader) {
        let peer = match header.source {
            Some(source) => self.peername.replace(SocketAddress::Inet(source)),
            None => self.peername.clone(),
        };
        self.proxy = Some(Box::new(Proxied { peer, header }));
    }
}
