//! A server's life: serving at once or not (asyncio's `start_serving=`), how long a
//! graceful close lingers, and the shutdown signal its handlers can watch.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ServerOptions;

impl ServerOptions {
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

    /// Beyond asyncio: how long a graceful close of a client connection lingers at most
    /// (default [`DEFAULT_LINGER`], 2 s; `Duration::ZERO`: close at once, as asyncio).
    ///
    /// [`DEFAULT_LINGER`]: super::DEFAULT_LINGER
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
}
