//! The sockets a server listens on and accepts: address family, backlog, address and
//! port reuse, listeners per address, TCP options on accepted connections, a hook on
//! each listening socket, and the Unix socket file.

use super::ServerOptions;
use crate::net::Family;

impl ServerOptions {
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
}
