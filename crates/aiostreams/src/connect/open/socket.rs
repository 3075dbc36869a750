//! How a connection is made: address family, local address, Happy Eyeballs (delay and
//! interleave), the connect timeout, TCP options on the socket, and a hook on it.

use std::time::Duration;

use super::ConnectOptions;
use crate::net::Family;

impl ConnectOptions {
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

    /// Give up connecting after `timeout` (beyond asyncio), with [`Error::TimedOut`]; the
    /// name resolution counts, the TLS handshake does not (it has its own timeout).
    /// `connect_sock` refuses it (its socket is already connected).
    ///
    /// [`Error::TimedOut`]: crate::Error::TimedOut
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
}
