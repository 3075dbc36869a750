//! `StreamReader::stats()`: the connection's counters, seen from the reader.

use super::StreamReader;
use crate::ConnectionStats;

impl StreamReader {
    /// The counters of the connection this reader reads (bytes in and out, queued
    /// writes, time connected); `None` for a fed reader or one over any other
    /// `AsyncRead`, which has no connection.
    ///
    /// asyncio: none. The same numbers as the writer's
    /// [`stats`](crate::StreamWriter::stats).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ServerOptions, StreamReader, StreamWriter, open_connection};
    ///
    /// let server = ServerOptions::new()
    ///     .start_server(
    ///         |mut r: StreamReader, w: StreamWriter| async move {
    ///             let line = r.readline().await?;
    ///             w.write(&line)?;
    ///             w.drain().await
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"ping\n")?;
    /// assert_eq!(reader.readline().await?, "ping\n");
    /// let stats = reader.stats().unwrap();
    /// assert_eq!((stats.bytes_in, stats.bytes_out), (5, 5));
    /// assert!(StreamReader::new().stats().is_none());
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> Option<ConnectionStats> {
        self.source.as_ref()?.stats()
    }
}
