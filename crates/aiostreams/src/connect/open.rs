//! `open_connection` and its options builder.

use std::time::Duration;

use super::accepts::{Entry, Given};
use super::tcp::{TcpConnectOptions, connect_tcp, with_deadline};
use crate::net::Family;
use crate::reader::check_limit;
use crate::transport::Timeouts;
use crate::transport::io::Socket;
use crate::{DEFAULT_LIMIT, Error, StreamReader, StreamWriter};

/// Opens a TCP connection and returns its reader and writer.
///
/// asyncio: `await asyncio.open_connection(host, port)`. Uses the default options; see
/// [`ConnectOptions`] for asyncio's keywords (`limit`, `local_addr`, `family`, `sock`,
/// `happy_eyeballs_delay`, `interleave`) and more.
///
/// # Errors
///
/// [`Error::Connect`] listing every address tried and its error when no address
/// accepted the connection; an [`Error::Io`] naming the host when it does not resolve.
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no connection open.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let port = listener.local_addr()?.port();
/// # tokio::spawn(async move {
/// #     let (mut s, _) = listener.accept().await.unwrap();
/// #     let (mut r, mut w) = s.split();
/// #     tokio::io::copy(&mut r, &mut w).await.unwrap();
/// # });
/// let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
/// writer.write(b"Hello World!\n")?;
/// assert_eq!(reader.readline().await?, "Hello World!\n");
/// writer.close();
/// writer.wait_closed().await?;
/// # Ok(()) }
/// ```
pub async fn open_connection(host: &str, port: u16) -> Result<(StreamReader, StreamWriter), Error> {
    ConnectOptions::new().connect(host, port).await
}

/// Opens a Unix socket connection to `path` (a leading NUL byte: a Linux abstract name).
///
/// asyncio: `await asyncio.open_unix_connection(path)`.
///
/// # Errors
///
/// [`Error::Io`] when the connection fails (e.g. no such file, connection refused).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no connection open.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), aiostreams::Error> {
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("echo.sock");
/// # let _server = aiostreams::start_unix_server(
/// #     |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
/// #         let line = r.readline().await.unwrap();
/// #         w.write(&line).unwrap();
/// #     },
/// #     &path,
/// # )
/// # .await?;
/// let (mut reader, writer) = aiostreams::open_unix_connection(&path).await?;
/// writer.write(b"ping\n")?;
/// assert_eq!(reader.readline().await?, "ping\n");
/// # Ok(())
/// # }
/// ```
#[cfg(unix)]
pub async fn open_unix_connection(
    path: impl AsRef<std::path::Path>,
) -> Result<(StreamReader, StreamWriter), Error> {
    ConnectOptions::new().connect_unix(path).await
}

/// asyncio's `open_connection` keywords, as a builder.
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), aiostreams::Error> {
/// use std::time::Duration;
/// let (_reader, _writer) = aiostreams::ConnectOptions::new()
///     .limit(1 << 20)
///     .happy_eyeballs_delay(Duration::from_millis(250))
///     .connect_timeout(Duration::from_secs(5))
///     .connect("localhost", 8888)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "options do nothing until `connect` (or another connect method) is awaited"]
pub struct ConnectOptions {
    limit: usize,
    tcp: TcpConnectOptions,
    pub(crate) timeouts: Timeouts,
    /// Options set by hand, so an entry point that cannot use one refuses it.
    pub(crate) given: Given,
    #[cfg(feature = "tls")]
    pub(crate) tls: super::ssl::ClientTlsOptions,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnectOptions {
    /// The defaults: limit 64 KiB, any family, TCP_NODELAY on (as asyncio), no keepalive.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let options = aiostreams::ConnectOptions::new();
    /// let (reader, writer) = options.connect("127.0.0.1", port).await?;
    /// // asyncio's defaults: lines up to 64 KiB, TCP_NODELAY on.
    /// assert_eq!(reader.limit(), 64 * 1024);
    /// assert!(writer.transport().with_socket(|s| s.tcp_nodelay()).unwrap()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> Self {
        ConnectOptions {
            limit: DEFAULT_LIMIT,
            tcp: TcpConnectOptions {
                nodelay: true,
                ..TcpConnectOptions::default()
            },
            timeouts: Timeouts::default(),
            given: Given::default(),
            #[cfg(feature = "tls")]
            tls: Default::default(),
        }
    }

    pub(crate) fn tcp(&self) -> &TcpConnectOptions {
        &self.tcp
    }

    /// The reader's limit (asyncio `limit=`). 0 is rejected when connecting;
    /// `create_connection_with` refuses it (its protocol gets the bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use aiostreams::{ConnectOptions, Error};
    ///
    /// let (reader, _writer) = ConnectOptions::new()
    ///     .limit(1 << 20) // lines up to 1 MiB
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// assert_eq!(reader.limit(), 1 << 20);
    /// let zero = ConnectOptions::new().limit(0).connect("127.0.0.1", port).await;
    /// assert!(matches!(zero, Err(Error::InvalidArgument(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self.given.limit = true;
        self
    }

    /// Address family for resolution (asyncio `family=`). This and the next three are
    /// TCP connect options: `connect_unix` and `connect_sock` refuse them.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use aiostreams::{ConnectOptions, Family};
    ///
    /// // "localhost" may resolve to ::1 and 127.0.0.1: try the IPv4 one only.
    /// let (_reader, writer) = ConnectOptions::new()
    ///     .family(Family::Inet)
    ///     .connect("localhost", port)
    ///     .await?;
    /// assert!(writer.peername().unwrap().as_inet().unwrap().is_ipv4());
    /// # Ok(())
    /// # }
    /// ```
    pub fn family(mut self, family: Family) -> Self {
        self.tcp.family = family;
        self
    }

    /// Bind the local end to `(host, port)` before connecting (asyncio `local_addr=`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::ConnectOptions::new()
    ///     .local_addr("127.0.0.1", 0) // port 0: any free one
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// let local = writer.sockname().unwrap().as_inet().unwrap();
    /// assert!(local.ip().is_loopback() && local.port() != 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(mut self, host: impl Into<String>, port: u16) -> Self {
        self.tcp.local_addr = Some((host.into(), port));
        self
    }

    /// Happy Eyeballs (RFC 8305): start the next address's attempt after `delay` if the
    /// previous one has not finished (asyncio `happy_eyeballs_delay=`, 0.25 s suggested).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    ///
    /// // Only 127.0.0.1 listens: if "localhost" gives ::1 first, that attempt fails (or is
    /// // still pending after 250 ms) and the IPv4 one connects.
    /// let (_reader, writer) = aiostreams::ConnectOptions::new()
    ///     .happy_eyeballs_delay(Duration::from_millis(250)) // RFC 8305's suggestion
    ///     .connect("localhost", port)
    ///     .await?;
    /// assert_eq!(writer.peername().unwrap().as_inet().unwrap().port(), port);
    /// # Ok(())
    /// # }
    /// ```
    pub fn happy_eyeballs_delay(mut self, delay: Duration) -> Self {
        self.tcp.happy_eyeballs_delay = Some(delay);
        self
    }

    /// Interleave address families (asyncio `interleave=`; 1 when Happy Eyeballs is on).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    ///
    /// let options = aiostreams::ConnectOptions::new()
    ///     .happy_eyeballs_delay(Duration::from_millis(250))
    ///     .interleave(2); // two addresses of one family, then one of the other
    /// let (_reader, writer) = options.connect("localhost", port).await?;
    /// assert!(writer.peername().unwrap().as_inet().unwrap().ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn interleave(mut self, interleave: usize) -> Self {
        self.tcp.interleave = Some(interleave);
        self
    }

    /// TCP_NODELAY (default on, as asyncio sets it on every TCP transport). Set by hand,
    /// it and [`keepalive`](Self::keepalive) are refused for a Unix socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::ConnectOptions::new()
    ///     .nodelay(false) // let Nagle batch small writes
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// assert!(!writer.transport().with_socket(|s| s.tcp_nodelay()).unwrap()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.tcp.nodelay = nodelay;
        self.given.socket_options = true;
        self
    }

    /// SO_KEEPALIVE (default off).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let options = aiostreams::ConnectOptions::new().keepalive(true);
    /// let (_reader, writer) = options.connect("127.0.0.1", port).await?;
    /// assert!(writer.transport().with_socket(|s| s.keepalive()).unwrap()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keepalive(mut self, keepalive: bool) -> Self {
        self.tcp.keepalive = keepalive;
        self.given.socket_options = true;
        self
    }

    /// TCP keepalive with its parameters: SO_KEEPALIVE on, and the idle time before the
    /// first probe (`TCP_KEEPIDLE`), the interval between probes (`TCP_KEEPINTVL`) and
    /// how many unanswered probes end the connection (`TCP_KEEPCNT`), each where set.
    ///
    /// Go: `net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable, Idle, Interval,
    /// Count}}`; socket2's [`TcpKeepalive`](socket2::TcpKeepalive) builder names them
    /// `with_time`, `with_interval`, `with_retries`. asyncio has no keyword for it. A TCP
    /// option: refused for a Unix socket, as [`nodelay`](Self::nodelay).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    /// use socket2::TcpKeepalive;
    ///
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let keepalive = TcpKeepalive::new()
    ///     .with_time(Duration::from_secs(30))
    ///     .with_interval(Duration::from_secs(5));
    /// let (_reader, writer) = aiostreams::ConnectOptions::new()
    ///     .tcp_keepalive(keepalive)
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// # #[cfg(target_os = "linux")]
    /// assert_eq!(
    ///     writer.transport().with_socket(|s| s.tcp_keepalive_time().ok()),
    ///     Some(Some(Duration::from_secs(30)))
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn tcp_keepalive(mut self, keepalive: socket2::TcpKeepalive) -> Self {
        self.tcp.tuning.keepalive = Some(keepalive);
        self.given.socket_options = true;
        self
    }

    /// Runs `hook` on each new TCP socket before it binds `local_addr` and connects,
    /// after our own options (so it can change them): any socket option socket2 offers
    /// (`SO_RCVBUF`, `IP_TOS`, `SO_MARK`, `TCP_FASTOPEN_CONNECT`...). With Happy Eyeballs
    /// it runs once per attempt.
    ///
    /// Go: `net.Dialer.Control` (raw connection, before dialing); asyncio has none (a
    /// hand-made `sock=`). A connect option: `connect_sock` and `connect_unix` refuse it.
    /// An error from `hook` fails that attempt, as a failed connect does.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::ConnectOptions::new()
    ///     .configure_socket(|socket| socket.set_ttl_v4(17))
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// assert_eq!(writer.transport().with_socket(|s| s.ttl_v4().ok()), Some(Some(17)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn configure_socket(
        mut self,
        hook: impl Fn(socket2::SockRef<'_>) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.tcp.tuning.hook = Some(crate::net::SocketHook::new(hook));
        self
    }

    /// Give up connecting after `timeout` (beyond asyncio), with [`Error::TimedOut`]; the
    /// name resolution counts, the TLS handshake does not (it has its own timeout).
    /// `connect_sock` refuses it (its socket is already connected).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    /// use aiostreams::{ConnectOptions, Error};
    ///
    /// let options = ConnectOptions::new().connect_timeout(Duration::from_secs(5));
    /// let (_reader, _writer) = options.connect("127.0.0.1", port).await?; // or Error::TimedOut
    /// // A socket that is connected already has no connect to time: the option is refused.
    /// let sock = std::net::TcpStream::connect(("127.0.0.1", port))?;
    /// let refused = options.connect_sock(sock).await;
    /// assert!(matches!(refused, Err(Error::InvalidArgument(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.tcp.connect_timeout = Some(timeout);
        self
    }

    /// Beyond asyncio: the connection's read timeout (default none); see
    /// [`ServerOptions::read_timeout`](crate::ServerOptions::read_timeout) and
    /// [`StreamReader::set_read_timeout`]. `create_connection_with` refuses it (its
    /// protocol has no reads to time).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    /// use aiostreams::Error;
    ///
    /// // The server says nothing: the read gives up after 10 s; the connection stays open.
    /// let (mut reader, writer) = aiostreams::ConnectOptions::new()
    ///     .read_timeout(Duration::from_secs(10))
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// // (The outer timeout only keeps a broken example from hanging.)
    /// let read = tokio::time::timeout(Duration::from_secs(60), reader.readline()).await;
    /// let err = read.expect("the read timeout fires first").unwrap_err();
    /// assert!(matches!(err, Error::TimedOut { operation: "read", .. }));
    /// assert!(!writer.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.read = Some(timeout);
        self
    }

    /// Beyond asyncio: the connection's write timeout (default none), as
    /// [`ServerOptions::write_timeout`](crate::ServerOptions::write_timeout): queued bytes
    /// that make no progress this long, or a `drain()` that does not get the queue back
    /// to the low-water mark this long, end the connection; see
    /// [`Transport::set_write_timeout`](crate::Transport::set_write_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    ///
    /// // The server takes none of our bytes: once the socket buffers are full, the queue
    /// // stops moving, and 10 s later drain() fails and the connection ends.
    /// let (_reader, writer) = aiostreams::ConnectOptions::new()
    ///     .write_timeout(Duration::from_secs(10))
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// let chunk = vec![b'x'; 64 * 1024];
    /// let fill = async {
    ///     loop {
    ///         writer.write(&chunk)?;
    ///         if let Err(e) = writer.drain().await {
    ///             return Ok::<_, aiostreams::Error>(e);
    ///         }
    ///     }
    /// };
    /// // (The outer timeout only keeps a broken example from hanging.)
    /// let err = tokio::time::timeout(Duration::from_secs(600), fill).await.expect("cut")?;
    /// assert!(matches!(err, aiostreams::Error::TimedOut { operation: "write", .. }));
    /// assert!(writer.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.write = Some(timeout);
        self
    }

    /// Beyond asyncio: the connection's idle timeout (default none): no byte in either
    /// direction for this long, read waiting or not, and the connection is closed; see
    /// [`StreamReader::set_idle_timeout`]. `create_connection_with` honours it too (a
    /// protocol's `connection_lost` gets the `TimedOut` error).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    ///
    /// // 60 s with nothing sent or received: the connection is closed, and the read waiting
    /// // on it fails.
    /// let (mut reader, writer) = aiostreams::ConnectOptions::new()
    ///     .idle_timeout(Duration::from_secs(60))
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// // (The outer timeout only keeps a broken example from hanging.)
    /// let read = tokio::time::timeout(Duration::from_secs(600), reader.read(100)).await;
    /// let err = read.expect("the idle timeout fires first").unwrap_err();
    /// assert!(matches!(err, aiostreams::Error::TimedOut { operation: "idle", .. }));
    /// assert!(writer.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = Some(timeout);
        self
    }

    /// Connects to `host:port`. See [`open_connection`].
    ///
    /// # Errors
    ///
    /// As [`open_connection`], plus [`Error::InvalidArgument`] for a zero limit.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call leaves no connection open.
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
    /// let (mut reader, writer) = aiostreams::ConnectOptions::new()
    ///     .limit(4096)
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// writer.write(b"hi\n")?;
    /// assert_eq!(reader.readline().await?, "hi\n");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Result<(StreamReader, StreamWriter), Error> {
        let limit = check_limit(self.limit)?;
        #[cfg(feature = "tls")]
        let tls = self.tls.prepare(Some(host))?;
        let stream = connect_tcp(host, port, &self.tcp).await?;
        let socket = Socket::Tcp(stream);
        #[cfg(feature = "tls")]
        return super::ssl::finish(socket, tls, self.timeouts, limit).await;
        #[cfg(not(feature = "tls"))]
        Ok(crate::Transport::builder(socket)
            .timeouts(self.timeouts)
            .streams(limit))
    }

    /// Connects to a Unix socket at `path`. See [`open_unix_connection`].
    ///
    /// # Errors
    ///
    /// As [`open_unix_connection`], plus [`Error::InvalidArgument`] for a zero limit or
    /// a TCP option (`family`, `local_addr`, `happy_eyeballs_delay`, `interleave`,
    /// `nodelay`, `keepalive`); [`Error::TimedOut`] after `connect_timeout`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call leaves no connection open.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("app.sock");
    /// # let _server = aiostreams::start_unix_server(|_reader, _writer| async {}, &path).await?;
    /// use aiostreams::{ConnectOptions, Error};
    ///
    /// let (_reader, _writer) = ConnectOptions::new().limit(4096).connect_unix(&path).await?;
    /// // TCP options make no sense here, and are refused rather than ignored.
    /// let refused = ConnectOptions::new().keepalive(true).connect_unix(&path).await;
    /// assert!(matches!(refused, Err(Error::InvalidArgument(_))));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(unix)]
    pub async fn connect_unix(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<(StreamReader, StreamWriter), Error> {
        let limit = check_limit(self.limit)?;
        self.refuse_unused(Entry::Unix)?;
        #[cfg(feature = "tls")]
        let tls = self.tls.prepare(None)?;
        let socket = Socket::Unix(self.unix_stream(path.as_ref()).await?);
        #[cfg(feature = "tls")]
        return super::ssl::finish(socket, tls, self.timeouts, limit).await;
        #[cfg(not(feature = "tls"))]
        Ok(crate::Transport::builder(socket)
            .timeouts(self.timeouts)
            .streams(limit))
    }

    /// Connects the Unix stream socket at `path` (a leading NUL: a Linux abstract name)
    /// within `connect_timeout`.
    #[cfg(unix)]
    pub(crate) async fn unix_stream(
        &self,
        path: &std::path::Path,
    ) -> Result<tokio::net::UnixStream, Error> {
        let connect = async {
            Ok(if crate::net::is_abstract(path) {
                let addr = socket2::SockAddr::unix(path)?;
                let sock =
                    socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
                sock.connect(&addr)?;
                sock.set_nonblocking(true)?;
                let std: std::os::unix::net::UnixStream = sock.into();
                tokio::net::UnixStream::from_std(std)?
            } else {
                tokio::net::UnixStream::connect(path).await?
            })
        };
        with_deadline(self.tcp.connect_timeout, "connect", connect).await
    }

    /// Wraps an already connected stream socket (asyncio `open_connection(sock=...)`):
    /// TCP, or a Unix stream socket (e.g. one end of a socketpair).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `sock` is not a stream socket
    /// (`"A Stream Socket was expected"`), the limit is zero, or an option that needs a
    /// connect (`family`, `local_addr`, `happy_eyeballs_delay`, `interleave`,
    /// `connect_timeout`) or TCP (`nodelay`, `keepalive` for a Unix socket) was set;
    /// [`Error::Io`] when it cannot be registered with the runtime.
    ///
    /// With TLS, `server_hostname` must be set (there is no host to take it from).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call closes the socket it was given (no TLS session is
    /// left half made).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    /// let (mut reader, writer) = aiostreams::ConnectOptions::new().connect_sock(ours).await?;
    /// let (mut peer_reader, peer_writer) = aiostreams::ConnectOptions::new().connect_sock(theirs).await?;
    /// writer.write(b"over a socketpair\n")?;
    /// assert_eq!(peer_reader.readline().await?, "over a socketpair\n");
    /// peer_writer.write(b"back\n")?;
    /// assert_eq!(reader.readline().await?, "back\n");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_sock(
        &self,
        sock: impl Into<socket2::Socket>,
    ) -> Result<(StreamReader, StreamWriter), Error> {
        let limit = check_limit(self.limit)?;
        #[cfg(feature = "tls")]
        let tls = self.tls.prepare(None)?;
        let socket = from_socket2(sock.into(), &self.tcp)?;
        self.refuse_unused(match socket {
            #[cfg(unix)]
            Socket::Unix(_) => Entry::SockUnix,
            _ => Entry::SockTcp,
        })?;
        #[cfg(feature = "tls")]
        return super::ssl::finish(socket, tls, self.timeouts, limit).await;
        #[cfg(not(feature = "tls"))]
        Ok(crate::Transport::builder(socket)
            .timeouts(self.timeouts)
            .streams(limit))
    }
}

/// Registers a connected socket2 socket with tokio, as TCP or Unix.
pub(crate) fn from_socket2(
    sock: socket2::Socket,
    opts: &TcpConnectOptions,
) -> Result<Socket, Error> {
    if sock.r#type()? != socket2::Type::STREAM {
        return Err(Error::InvalidArgument("A Stream Socket was expected"));
    }
    sock.set_nonblocking(true)?;
    let domain = sock.local_addr()?.domain();
    #[cfg(unix)]
    if domain == socket2::Domain::UNIX {
        let std: std::os::unix::net::UnixStream = sock.into();
        return Ok(Socket::Unix(tokio::net::UnixStream::from_std(std)?));
    }
    let _ = domain;
    sock.set_tcp_nodelay(opts.nodelay)?;
    if opts.keepalive {
        sock.set_keepalive(true)?;
    }
    opts.tuning.keepalive_on(socket2::SockRef::from(&sock))?;
    let std: std::net::TcpStream = sock.into();
    Ok(Socket::Tcp(tokio::net::TcpStream::from_std(std)?))
}
