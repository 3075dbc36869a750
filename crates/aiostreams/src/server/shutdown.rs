//! `Server::shutdown(deadline)`: graceful, then forced.

use std::time::Duration;

use super::Server;

/// How a [`Server::shutdown`] ended: how many connections closed gracefully and how many
/// were cut at the deadline.
///
/// Go's `http.Server.Shutdown` returns only "the context expired"; nginx's graceful
/// shutdown logs nothing per connection. Here every connection open when the shutdown
/// began is in exactly one field.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use std::time::Duration;
/// use aiostreams::{ShutdownReport, StreamReader, StreamWriter, start_server};
/// let server = start_server(|_r: StreamReader, _w: StreamWriter| async {}, "127.0.0.1", 0).await?;
/// let report = server.shutdown(Duration::from_secs(1)).await;
/// assert_eq!(report, ShutdownReport::default());
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Connections whose close was over before the deadline: the handler ended, what it
    /// wrote was sent, and (with a lingering close) the client closed too or the linger
    /// time passed. Their clients got every byte and then EOF.
    pub graceful: usize,
    /// Connections aborted at the deadline: a handler still running, or written bytes
    /// still queued. Their clients may see a cut answer.
    pub aborted: usize,
    /// Connections that had sent everything and their FIN but were still lingering at the
    /// deadline (the client had not closed): closed then. Their answers were complete; a
    /// client still sending may see a reset after it.
    pub cut_lingering: usize,
}

impl Server {
    /// Stops accepting, lets handlers finish, and cuts what is left at `deadline`.
    ///
    /// Beyond asyncio (Go: `http.Server.Shutdown(ctx)`; nginx: a graceful `quit`). The
    /// server closes (its [`shutdown_signal`] fires, so handlers that watch it can stop
    /// reading new requests and finish the one in flight), then waits up to `deadline`
    /// for every connection to end: its answer sent, then its lingering close (see
    /// [`ServerOptions::linger`]). At the deadline the connections still up are aborted
    /// and lingering sockets closed. The [`ShutdownReport`] counts each kind.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the server is closed before the first await; dropping the future
    /// only skips the abort at the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    /// use aiostreams::{ServerOptions, StreamReader, StreamWriter, open_connection};
    /// let options = ServerOptions::new();
    /// let signal = options.shutdown_signal();
    /// let server = options
    ///     .start_server(move |mut reader: StreamReader, writer: StreamWriter| {
    ///         let signal = signal.clone();
    ///         async move {
    ///             let request = reader.readline().await?;
    ///             signal.cancelled().await; // still working when the shutdown starts
    ///             writer.write(&request)?;
    ///             writer.drain().await
    ///         }
    ///     }, "127.0.0.1", 0)
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"ping\n")?;
    /// while server.active_connections() == 0 { tokio::task::yield_now().await; }
    /// let (report, answer) = tokio::join!(server.shutdown(Duration::from_secs(5)), async {
    ///     let answer = reader.read_to_eof().await; // the answer, then EOF
    ///     writer.close(); // the client closes: the server's lingering ends
    ///     answer
    /// });
    /// assert_eq!(answer?, "ping\n");
    /// assert_eq!(report.graceful, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// [`shutdown_signal`]: crate::ServerOptions::shutdown_signal
    /// [`ServerOptions::linger`]: crate::ServerOptions::linger
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let before = self.active_connections() + self.core.lingering();
        self.close();
        let graceful_end = tokio::time::timeout(deadline, self.wait_finished(true)).await;
        if graceful_end.is_ok() {
            return ShutdownReport {
                graceful: before,
                ..ShutdownReport::default()
            };
        }
        // Lingering sockets close now; an abort never lingers.
        let cut_lingering = self.core.lingering();
        self.core.cut_lingering();
        let up = self.core.connections();
        let aborted = up.len();
        for inner in up {
            inner.abort();
        }
        self.wait_finished(true).await;
        ShutdownReport {
            graceful: before.saturating_sub(aborted + cut_lingering),
            aborted,
            cut_lingering,
        }
    }
}
