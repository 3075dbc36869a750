//! `drain()` and `wait_closed()`.

use std::future::poll_fn;

use super::StreamWriter;
use crate::Error;

impl StreamWriter {
    /// Waits until the write queue is small enough to write more.
    ///
    /// asyncio: `await writer.drain()`. Returns at once unless more than the high-water
    /// mark (64 KiB by default) is queued; then waits until at most the low-water mark
    /// (16 KiB) is. It does not wait for the queue to be empty.
    ///
    /// # When to await it
    ///
    /// asyncio's idiom, and ours: `write()`, then `drain().await`, after each answer or
    /// after each batch of writes (say, the answers to every request one read brought).
    ///
    /// - **It is what bounds memory.** `write()` never waits, so a peer that reads slower
    ///   than you write grows the queue without limit unless a `drain()` waits for it.
    /// - **It is where a lost connection shows up.** Writes after the connection was
    ///   lost are dropped silently, as in asyncio; `drain()` returns the error.
    /// - **It is not needed for delivery.** Queued bytes leave without it, and
    ///   [`close`](Self::close) sends what is queued before closing.
    /// - **It is cheap when there is nothing to wait for**: with at most the high-water
    ///   mark queued it returns at once, without a system call (about 250 instructions,
    ///   callgrind). A pipelining server may skip it while
    ///   `transport().get_write_buffer_size()` is at most the high-water mark, and await
    ///   it only above (what `aiostreams serve --mode lines` does).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Error, StreamReader, StreamWriter};
    ///
    /// async fn answer_lines(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    ///     loop {
    ///         let line = reader.readline().await?;
    ///         if line.is_empty() {
    ///             return Ok(()); // EOF
    ///         }
    ///         writer.write(&line.to_ascii_uppercase())?;
    ///         writer.drain().await?; // waits only while more than 64 KiB is queued
    ///     }
    /// }
    /// # let server = aiostreams::start_server(answer_lines, "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// # let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// # writer.write(b"hi\n")?;
    /// # assert_eq!(reader.readline().await?, "HI\n");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// In asyncio's order:
    /// - the reader's stored error (e.g. the peer's reset seen by a read);
    /// - [`Error::ConnectionLost`] when the connection was already closed or lost before
    ///   this call (a `drain()` that was waiting when a clean close or `abort()` happened
    ///   returns `Ok`; one waiting when an error ended the connection returns the error).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it changes nothing; the queued bytes are still sent.
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
    /// # let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// // Write as much as you like, then let drain() apply the back-pressure.
    /// for _ in 0..1000 {
    ///     writer.write(&[b'x'; 1023])?;
    ///     writer.write(b"\n")?;
    ///     writer.drain().await?;
    /// }
    /// assert_eq!(reader.readline().await?.len(), 1024);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn drain(&self) -> Result<(), Error> {
        if let Some(err) = self.reader_exception() {
            return Err(err);
        }
        let transport = self.transport();
        // Nothing queued on an open connection (the common case): answered without
        // building the wait.
        let result = match transport.drain_now() {
            Some(done) => done,
            None => {
                let mut waited = false;
                poll_fn(|cx| transport.poll_drain(cx, &mut waited, false)).await
            }
        };
        result.map_err(|e| self.reader_exception().unwrap_or(e))
    }

    /// Waits until the connection is closed.
    ///
    /// asyncio: `await writer.wait_closed()`. It does not close anything: it completes
    /// after [`close`](Self::close) has sent the queue and closed the socket, after an
    /// abort, or after an error ended the connection. A peer's EOF alone does not end it
    /// (the connection stays half-open for writing). Can be awaited any number of times.
    ///
    /// # Errors
    ///
    /// The error that ended the connection (e.g. a reset by the peer), every time.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, and unlike asyncio's, cancelling one `wait_closed()` (e.g. in a
    /// timeout) does not poison the others or later calls.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// writer.close();
    /// writer.wait_closed().await?;
    /// writer.wait_closed().await?; // as often as you like: the same outcome
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_closed(&self) -> Result<(), Error> {
        let transport = self.transport();
        poll_fn(|cx| transport.poll_closed(cx)).await
    }
}
