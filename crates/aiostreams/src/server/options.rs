//! [`ServerOptions`]: asyncio's `start_server` keywords, as a builder.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::DEFAULT_LIMIT;
use crate::net::Family;
use crate::transport::Timeouts;

/// The default listen backlog: the largest value older kernels store (Go's cap too);
/// `listen()` clamps it to `net.core.somaxconn`, so it asks for the system's maximum.
const DEFAULT_BACKLOG: u32 = 65_535;

/// How long a graceful close lingers at most (see [`ServerOptions::linger`]).
pub const DEFAULT_LINGER: Duration = Duration::from_secs(2);

/// asyncio's `start_server`/`start_unix_server` keywords, plus a few of our own.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::{ServerOptions, StreamReader, StreamWriter};
/// let server = ServerOptions::new()
///     .backlog(512)
///     .max_connections(10_000)
///     .start_server(|_r: StreamReader, _w: StreamWriter| async {}, "127.0.0.1", 0)
///     .await?;
/// assert!(server.is_serving());
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "options do nothing until `start_server` (or another start method) is awaited"]
pub struct ServerOptions {
    pub(crate) limit: usize,
    pub(crate) family: Family,
    pub(crate) backlog: u32,
    pub(crate) reuse_address: bool,
    pub(crate) reuse_port: bool,
    pub(crate) keep_alive: bool,
    pub(crate) start_serving: bool,
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_connections_per_ip: Option<usize>,
    pub(crate) linger: Duration,
    pub(crate) listeners_per_address: usize,
    pub(crate) nodelay: bool,
    pub(crate) cleanup_socket: bool,
    /// PROXY protocol on accept (off by default; `proxy/mod.rs`).
    pub(crate) proxy: crate::proxy::ProxySettings,
    /// Keepalive parameters (accepted connections) and the hook (listening sockets).
    pub(crate) tuning: crate::net::Tuning,
    pub(crate) timeouts: Timeouts,
    /// The shutdown signal of the server these options start; moved into the `Server`
    /// at start, and a fresh one for every clone (see `Clone`).
    pub(crate) shutdown: CancellationToken,
    #[cfg(feature = "tls")]
    pub(crate) ssl: Option<std::sync::Arc<rustls::ServerConfig>>,
    #[cfg(feature = "tls")]
    pub(crate) tls_timeouts: crate::net::TlsTimeouts,
}

/// A clone is the same keywords for another server: it gets its own shutdown signal, so
/// closing one server never cancels the handlers of another started from a clone.
impl Clone for ServerOptions {
    fn clone(&self) -> Self {
        ServerOptions {
            limit: self.limit,
            family: self.family,
            backlog: self.backlog,
            reuse_address: self.reuse_address,
            reuse_port: self.reuse_port,
            keep_alive: self.keep_alive,
            start_serving: self.start_serving,
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            linger: self.linger,
            listeners_per_address: self.listeners_per_address,
            nodelay: self.nodelay,
            cleanup_socket: self.cleanup_socket,
            proxy: self.proxy,
            tuning: self.tuning.clone(),
            timeouts: self.timeouts,
            shutdown: CancellationToken::new(),
            #[cfg(feature = "tls")]
            ssl: self.ssl.clone(),
            #[cfg(feature = "tls")]
            tls_timeouts: self.tls_timeouts,
        }
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerOptions {
    /// asyncio's defaults, except the backlog: limit 64 KiB, backlog 65535 (the system's
    /// maximum, as Go; asyncio: 100), SO_REUSEADDR on (Unix), serving at once,
    /// TCP_NODELAY on accepted connections, Unix socket file removed on close. Beyond
    /// asyncio: no connection limit, no per-address limit, a graceful close lingers up
    /// to [`DEFAULT_LINGER`] (2 s).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::ServerOptions;
    ///
    /// let server = ServerOptions::new()
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(server.is_serving());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> Self {
        ServerOptions {
            limit: DEFAULT_LIMIT,
            family: Family::Unspec,
            backlog: DEFAULT_BACKLOG,
            reuse_address: cfg!(unix),
            reuse_port: false,
            keep_alive: false,
            start_serving: true,
            max_connections: None,
            max_connections_per_ip: None,
            linger: DEFAULT_LINGER,
            listeners_per_address: 1,
            nodelay: true,
            cleanup_socket: true,
            proxy: Default::default(),
            tuning: crate::net::Tuning::default(),
            timeouts: Timeouts::default(),
            shutdown: CancellationToken::new(),
            #[cfg(feature = "tls")]
            ssl: None,
            #[cfg(feature = "tls")]
            tls_timeouts: Default::default(),
        }
    }

    /// Each connection's reader limit (asyncio `limit=`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ServerOptions, StreamReader, StreamWriter};
    ///
    /// async fn handler(mut reader: StreamReader, _writer: StreamWriter) {
    ///     assert_eq!(reader.limit(), 1 << 20);
    ///     let _ = reader.readline().await; // lines up to 1 MiB
    /// }
    /// let _server = ServerOptions::new()
    ///     .limit(1 << 20)
    ///     .start_server(handler, "127.0.0.1", 0)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Address family when resolving hosts (asyncio `family=`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Family, ServerOptions};
    ///
    /// // "localhost" may resolve to 127.0.0.1 and ::1: listen on the IPv4 one only.
    /// let server = ServerOptions::new()
    ///     .family(Family::Inet)
    ///     .start_server(|_reader, _writer| async {}, "localhost", 0)
    ///     .await?;
    /// assert!(server.sockets().iter().all(|s| s.as_inet().unwrap().is_ipv4()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn family(mut self, family: Family) -> Self {
        self.family = family;
        self
    }

    /// The listen backlog (asyncio `backlog=`): how many connections the kernel queues
    /// until they are accepted. Default 65535, which the kernel lowers to its maximum
    /// (`net.core.somaxconn`, 4096 on Linux >= 5.4): Go's choice (it reads somaxconn),
    /// where asyncio's 100 drops the SYNs of a burst of new clients (C10K).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let _server = aiostreams::ServerOptions::new()
    ///     .backlog(100) // asyncio's default
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// SO_REUSEADDR on listening sockets (asyncio `reuse_address=`, default true on Unix).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let _server = aiostreams::ServerOptions::new()
    ///     .reuse_address(false)
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }

    /// SO_REUSEPORT on listening sockets (asyncio `reuse_port=`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::ServerOptions;
    ///
    /// // Two servers on one port: the kernel spreads connections between them.
    /// let first = ServerOptions::new()
    ///     .reuse_port(true)
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// let port = first.sockets()[0].as_inet().unwrap().port();
    /// let _second = ServerOptions::new()
    ///     .reuse_port(true)
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", port)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// SO_KEEPALIVE on accepted connections (asyncio 3.13 `keep_alive=`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let _server = aiostreams::ServerOptions::new()
    ///     .keep_alive(true)
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn keep_alive(mut self, on: bool) -> Self {
        self.keep_alive = on;
        self
    }

    /// Start accepting at once (asyncio `start_serving=`, default true); with false,
    /// nothing is accepted until [`Server::start_serving`](crate::Server::start_serving).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let server = aiostreams::ServerOptions::new()
    ///     .start_serving(false)
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(!server.is_serving()); // bound, not accepting yet
    /// server.start_serving().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn start_serving(mut self, on: bool) -> Self {
        self.start_serving = on;
        self
    }

    /// Beyond asyncio: stop accepting while this many clients are connected, and resume
    /// when one leaves (Go's `netutil.LimitListener`, nginx's `worker_connections`).
    /// Waiting clients queue in the backlog. A connection counts from its accept until
    /// its socket is closed (a lingering close included, see [`linger`](Self::linger)).
    ///
    /// # Errors
    ///
    /// `0` makes the start method fail with [`Error::InvalidArgument`]
    /// (`"max_connections must be at least 1"`): a server that may never accept is a
    /// mistake, not a configuration.
    ///
    /// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use aiostreams::{Error, ServerOptions, StreamReader, StreamWriter};
    /// let refused = ServerOptions::new()
    ///     .max_connections(0)
    ///     .start_server(|_r: StreamReader, _w: StreamWriter| async {}, "127.0.0.1", 0)
    ///     .await;
    /// assert!(matches!(refused, Err(Error::InvalidArgument("max_connections must be at least 1"))));
    /// # }
    /// ```
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = Some(max);
        self
    }

    /// Beyond asyncio: at most `max` connections from one client IP address at a time
    /// (nginx's `limit_conn` keyed by `$binary_remote_addr`; Go has none). A client over
    /// it is accepted and closed at once (it sees EOF) and logged at `debug`; other
    /// addresses are served meanwhile. An IPv4 client reaching an IPv6 socket counts as
    /// its IPv4 address. Unix socket clients have no address and are not limited. A
    /// connection counts until its socket is closed, as for
    /// [`max_connections`](Self::max_connections).
    ///
    /// Clients behind one NAT or proxy share an address: size `max` for them.
    ///
    /// # Errors
    ///
    /// `0` makes the start method fail with [`Error::InvalidArgument`]
    /// (`"max_connections_per_ip must be at least 1"`).
    ///
    /// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ServerOptions, StreamReader, StreamWriter, open_connection};
    /// let server = ServerOptions::new()
    ///     .max_connections_per_ip(1)
    ///     .start_server(|mut r: StreamReader, w: StreamWriter| async move {
    ///         // Keep the connection open (holding the writer) until the client leaves.
    ///         let _keep = w;
    ///         let _ = r.read_to_eof().await;
    ///     }, "127.0.0.1", 0)
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (_r1, w1) = open_connection("127.0.0.1", port).await?;
    /// let (mut r2, _w2) = open_connection("127.0.0.1", port).await?;
    /// // Without the limit the server would keep the second open and this would time out.
    /// let second = tokio::time::timeout(std::time::Duration::from_secs(10), r2.read_to_eof());
    /// assert_eq!(second.await.expect("the second from 127.0.0.1 is closed")?, "");
    /// drop(w1);
    /// # Ok(()) }
    /// ```
    pub fn max_connections_per_ip(mut self, max: usize) -> Self {
        self.max_connections_per_ip = Some(max);
        self
    }

    /// Beyond asyncio: how long a graceful close of a client connection lingers at most
    /// (default [`DEFAULT_LINGER`], 2 s; `Duration::ZERO`: close at once, as asyncio).
    ///
    /// A lingering close is what Apache and nginx (`lingering_close`,
    /// `lingering_time`) and Go's HTTP server (`closeWriteAndWait`) do: once the queue is
    /// sent, the server half-closes (FIN) and reads and drops what the client still
    /// sends until the client closes too, or this long, and only then closes the socket.
    /// Without it, a client that sent more (a pipelined request) while its answer was
    /// arriving makes the kernel reset the connection, which destroys the part of the
    /// answer still in flight. For the API the connection is over when the close starts
    /// (`wait_closed()` returns, the reader sees EOF, and
    /// [`Server::wait_closed`](crate::Server::wait_closed) and
    /// [`Server::active_connections`](crate::Server::active_connections) no longer count
    /// it); the socket keeps its [`max_connections`](Self::max_connections) and per-IP
    /// slots until it is closed, and [`Server::shutdown`](crate::Server::shutdown) waits
    /// for it, closing lingering sockets at its deadline. An `abort()` or an error does not
    /// linger.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = aiostreams::ServerOptions::new().linger(Duration::from_millis(500));
    /// # let _ = options;
    /// ```
    pub fn linger(mut self, time: Duration) -> Self {
        self.linger = time;
        self
    }

    /// Beyond asyncio: bind `n` listening sockets per address with SO_REUSEPORT, each with
    /// its own accept task, so a multi-thread runtime accepts on every worker (Linux
    /// spreads new connections across them). Default 1.
    ///
    /// # Examples
    ///
    /// ```
    /// // One accept loop per worker thread of a multi-thread runtime.
    /// let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let server = aiostreams::ServerOptions::new()
    ///         .listeners_per_address(workers)
    ///         .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///         .await?;
    ///     assert_eq!(server.sockets().len(), workers); // all on one port
    ///     Ok::<_, aiostreams::Error>(())
    /// })?;
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn listeners_per_address(mut self, n: usize) -> Self {
        self.listeners_per_address = n.max(1);
        self
    }

    /// TCP_NODELAY on accepted connections (default on, as asyncio).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let _server = aiostreams::ServerOptions::new()
    ///     .nodelay(false) // let Nagle batch small writes
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// TCP keepalive with its parameters on every accepted TCP connection: SO_KEEPALIVE
    /// on, `TCP_KEEPIDLE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT` where set (socket2's
    /// [`TcpKeepalive`](socket2::TcpKeepalive): `with_time`, `with_interval`,
    /// `with_retries`).
    ///
    /// Go: `net.ListenConfig{KeepAliveConfig: ..}`; asyncio's `keep_alive=True` is
    /// [`keep_alive`](Self::keep_alive), with the system's parameters.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    ///
    /// let keepalive = socket2::TcpKeepalive::new().with_time(Duration::from_secs(60));
    /// let server = aiostreams::ServerOptions::new()
    ///     .tcp_keepalive(keepalive)
    ///     .start_server(|_r, _w| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// # drop(server);
    /// # Ok(()) }
    /// ```
    pub fn tcp_keepalive(mut self, keepalive: socket2::TcpKeepalive) -> Self {
        self.tuning.keepalive = Some(keepalive);
        self
    }

    /// Runs `hook` on each TCP listening socket before it binds, after our own options
    /// (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY...), so it may change them or set others
    /// (`SO_RCVBUF`, which accepted connections inherit; `IP_FREEBIND`;
    /// `TCP_DEFER_ACCEPT`...). Not run by `serve_sock` (its socket is bound already) or
    /// for Unix servers.
    ///
    /// Go: `net.ListenConfig.Control`. An error from `hook` fails the start with it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let server = aiostreams::ServerOptions::new()
    ///     .configure_socket(|socket| socket.set_recv_buffer_size(256 * 1024))
    ///     .start_server(|_r, _w| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// # drop(server);
    /// # Ok(()) }
    /// ```
    pub fn configure_socket(
        mut self,
        hook: impl Fn(socket2::SockRef<'_>) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.tuning.hook = Some(crate::net::SocketHook::new(hook));
        self
    }

    /// Unix servers: remove the socket file on close if it is still ours (asyncio 3.13
    /// `cleanup_socket=`, default true).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("kept.sock");
    /// let server = aiostreams::ServerOptions::new()
    ///     .cleanup_socket(false)
    ///     .start_unix_server(|_reader, _writer| async {}, &path)
    ///     .await?;
    /// server.close();
    /// assert!(path.exists()); // left for whoever manages it
    /// # Ok(())
    /// # }
    /// ```
    pub fn cleanup_socket(mut self, on: bool) -> Self {
        self.cleanup_socket = on;
        self
    }

    /// Beyond asyncio: each connection's read timeout (default none): a read that must
    /// wait fails with [`Error::TimedOut`](crate::Error::TimedOut) once it has taken this
    /// long since its first wait, trickling bytes included (slowloris), consuming
    /// nothing. With [`idle_timeout`](Self::idle_timeout) set too, the wait for the first
    /// byte of the next request is idle time, and the read clock starts with that byte.
    /// The connection stays open: the handler decides. Go: `http.Server.ReadTimeout`. See [`StreamReader::set_read_timeout`](crate::StreamReader::set_read_timeout),
    /// which changes it on a live connection, and `docs/DESIGN.md` ("Timeouts") for
    /// what it costs (nothing per read answered from the buffer; no system call or
    /// allocation per read that waits).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    /// use aiostreams::{ServerOptions, StreamReader, StreamWriter};
    /// let server = ServerOptions::new()
    ///     .read_timeout(Duration::from_secs(30))
    ///     .idle_timeout(Duration::from_secs(120))
    ///     .write_timeout(Duration::from_secs(30))
    ///     .start_server(|_r: StreamReader, _w: StreamWriter| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(server.is_serving());
    /// # Ok(()) }
    /// ```
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.read = Some(timeout);
        self
    }

    /// Beyond asyncio: each connection's write timeout (default none): queued bytes
    /// that make no progress this long, or a `drain()` that does not get the queue from
    /// above the high-water mark back to the low one this long (a slow reader), end the
    /// connection, failing `drain()` and `wait_closed()` with
    /// [`Error::TimedOut`](crate::Error::TimedOut). Go:
    /// `http.Server.WriteTimeout`, nginx: `send_timeout`. See
    /// [`Transport::set_write_timeout`](crate::Transport::set_write_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    /// use aiostreams::{Error, ServerOptions, StreamReader, StreamWriter};
    ///
    /// // The handler floods a client that reads nothing: once the socket buffers are full,
    /// // nothing moves, and 30 s later drain() fails and the connection ends.
    /// let (report, mut outcome) = tokio::sync::mpsc::unbounded_channel();
    /// let flood = move |_reader: StreamReader, writer: StreamWriter| {
    ///     let report = report.clone();
    ///     async move {
    ///         let chunk = vec![b'x'; 64 * 1024];
    ///         while writer.write(&chunk).is_ok() && writer.drain().await.is_ok() {}
    ///         let _ = report.send(writer.wait_closed().await);
    ///     }
    /// };
    /// let server = ServerOptions::new()
    ///     .write_timeout(Duration::from_secs(30))
    ///     .start_server(flood, "127.0.0.1", 0)
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let _silent = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    /// // (The outer timeout only keeps a broken example from hanging.)
    /// let closed = tokio::time::timeout(Duration::from_secs(600), outcome.recv()).await;
    /// let closed = closed.expect("cut at the write timeout").unwrap();
    /// assert!(matches!(closed, Err(Error::TimedOut { operation: "write", .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.write = Some(timeout);
        self
    }

    /// Beyond asyncio: close a connection on which no byte has moved in either
    /// direction for this long (default none), whether or not its handler is reading.
    /// The connection is closed (a FIN, no lingering), which frees its
    /// [`max_connections`](Self::max_connections) slot: idle sockets cannot squat the
    /// server; the handler's waiting or next read, `drain()` and `wait_closed()` fail
    /// with [`Error::TimedOut`](crate::Error::TimedOut) (`operation: "idle"`). Go: `http.Server.IdleTimeout`, nginx:
    /// `keepalive_timeout`. See [`StreamReader::set_idle_timeout`](crate::StreamReader::set_idle_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    /// use aiostreams::{ServerOptions, StreamReader, StreamWriter, open_connection};
    /// let server = ServerOptions::new()
    ///     .idle_timeout(Duration::from_millis(50))
    ///     .start_server(|mut r: StreamReader, w: StreamWriter| async move {
    ///         let _keep = w;
    ///         let _ = r.readline().await; // fails with TimedOut { operation: "idle" }
    ///     }, "127.0.0.1", 0)
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, _writer) = open_connection("127.0.0.1", port).await?;
    /// // A silent client is closed at the idle timeout (without it this would time out).
    /// let eof = tokio::time::timeout(Duration::from_secs(10), reader.read_to_eof()).await;
    /// assert_eq!(eof.expect("closed by the idle timeout")?, "");
    /// # Ok(()) }
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = Some(timeout);
        self
    }

    /// A token cancelled when the server these options start begins shutting down
    /// ([`Server::close`] or [`Server::shutdown`]); handlers capture a clone to notice and
    /// finish early. Each clone of the options has its own (one per server).
    ///
    /// [`Server::close`]: crate::Server::close
    /// [`Server::shutdown`]: crate::Server::shutdown
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ServerOptions, StreamReader, StreamWriter};
    ///
    /// let options = ServerOptions::new();
    /// let signal = options.shutdown_signal();
    /// let handler = move |mut reader: StreamReader, writer: StreamWriter| {
    ///     let signal = signal.clone();
    ///     async move {
    ///         tokio::select! {
    ///             _ = reader.read_to_eof() => {}
    ///             _ = signal.cancelled() => writer.write(b"shutting down\n").unwrap_or(()),
    ///         }
    ///     }
    /// };
    /// let server = options.start_server(handler, "127.0.0.1", 0).await?;
    /// server.close();
    /// assert!(server.shutdown_signal().is_cancelled());
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown_signal(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serve TLS with this rustls configuration (asyncio `ssl=context`); see
    /// [`server_config_from_pem`](crate::tls::server_config_from_pem). The handshake runs
    /// in each client's own task, bounded by `ssl_handshake_timeout`, so a silent client
    /// never holds up the others; the callback runs once it succeeded.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "tls")] fn main() -> Result<(), aiostreams::Error> {
    /// # let dir = tempfile::tempdir()?;
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    /// # std::fs::write(dir.path().join("cert.pem"), cert.cert.pem())?;
    /// # std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem())?;
    /// # let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use aiostreams::{ServerOptions, tls};
    ///
    /// let config = tls::server_config_from_pem(&cert_pem, &key_pem)?;
    /// let server = ServerOptions::new()
    ///     .ssl(config)
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(server.is_serving());
    /// # Ok(()) })
    /// # }
    /// # #[cfg(not(feature = "tls"))] fn main() {}
    /// ```
    #[cfg(feature = "tls")]
    pub fn ssl(mut self, config: std::sync::Arc<rustls::ServerConfig>) -> Self {
        self.ssl = Some(config);
        self
    }

    /// How long a client's TLS handshake may take (asyncio `ssl_handshake_timeout=`, 60 s).
    ///
    /// The handshake runs in the client's task and holds its
    /// [`max_connections`](Self::max_connections) slot, so this bounds how long silent
    /// TLS clients can keep others out; past it the connection is dropped (logged at
    /// DEBUG on the target `aiostreams::timeout`) and the slot freed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "tls")] fn main() -> Result<(), aiostreams::Error> {
    /// # let dir = tempfile::tempdir()?;
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    /// # std::fs::write(dir.path().join("cert.pem"), cert.cert.pem())?;
    /// # std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem())?;
    /// # let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use std::time::Duration;
    ///
    /// use aiostreams::{ServerOptions, tls};
    ///
    /// let _server = ServerOptions::new()
    ///     .ssl(tls::server_config_from_pem(&cert_pem, &key_pem)?)
    ///     .ssl_handshake_timeout(Duration::from_secs(10))
    ///     .ssl_shutdown_timeout(Duration::from_secs(5))
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// # Ok(()) })
    /// # }
    /// # #[cfg(not(feature = "tls"))] fn main() {}
    /// ```
    #[doc(alias = "handshake_timeout")]
    #[cfg(feature = "tls")]
    pub fn ssl_handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.tls_timeouts.handshake = Some(timeout);
        self
    }

    /// How long a TLS close may take to send close_notify (asyncio
    /// `ssl_shutdown_timeout=`, 30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "tls")] fn main() -> Result<(), aiostreams::Error> {
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use std::time::Duration;
    ///
    /// // Without `ssl`, a TLS timeout is refused, as asyncio refuses it without `ssl=`.
    /// let refused = aiostreams::ServerOptions::new()
    ///     .ssl_shutdown_timeout(Duration::from_secs(5))
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await;
    /// assert!(matches!(refused, Err(aiostreams::Error::InvalidArgument(_))));
    /// # Ok(()) })
    /// # }
    /// # #[cfg(not(feature = "tls"))] fn main() {}
    /// ```
    #[cfg(feature = "tls")]
    pub fn ssl_shutdown_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.tls_timeouts.shutdown = Some(timeout);
        self
    }
}
