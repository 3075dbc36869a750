//! Limits: the reader's line limit (asyncio's `limit=`) and the connection limits, in
//! all and per client address (beyond asyncio).

use super::ServerOptions;

impl ServerOptions {
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
}
