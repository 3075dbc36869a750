//! The timeouts of accepted connections (beyond asyncio): reading, writing (a slow
//! reader), and idle.

use std::time::Duration;

use super::ServerOptions;

impl ServerOptions {
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
}
