//! `drain()` and `wait_closed()`.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

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
    ///   mark queued it returns at once, without a system call (about 150 instructions,
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
    pub fn drain(&self) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        Drain {
            writer: self,
            started: false,
            waited: false,
        }
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

/// `drain()`'s future, written out so that its common case (nothing queued on an open
/// connection: the reader's stored error, two flags and the reactor's error bit) is
/// inlined into the caller's future, with no state machine of its own; the wait is out
/// of line. (An `async fn` cost ~35 instructions more per call, callgrind.)
struct Drain<'a> {
    writer: &'a StreamWriter,
    /// The first poll ran asyncio's first check, the reader's stored error.
    started: bool,
    /// `poll_drain`'s: set once it waited.
    waited: bool,
}

impl Future for Drain<'_> {
    type Output = Result<(), Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let writer = this.writer;
        if !this.started {
            if let Some(err) = writer.reader_exception() {
                return Poll::Ready(Err(err));
            }
            this.started = true;
            if let Some(done) = writer.transport().drain_now() {
                return Poll::Ready(writer.or_reader_exception(done));
            }
        }
        writer.poll_drain_wait(cx, &mut this.waited)
    }
}

impl StreamWriter {
    /// `drain()` past its fast path: waits until the queue is at or below the low mark.
    #[inline(never)]
    fn poll_drain_wait(&self, cx: &mut Context<'_>, waited: &mut bool) -> Poll<Result<(), Error>> {
        let result = std::task::ready!(self.transport().poll_drain(cx, waited, false));
        Poll::Ready(self.or_reader_exception(result))
    }

    /// A failed drain raises the reader's stored error (a send error reaches the reader
    /// first) rather than its own.
    #[inline]
    fn or_reader_exception(&self, result: Result<(), Error>) -> Result<(), Error> {
        result.map_err(|e| self.reader_exception().unwrap_or(e))
    }
}
