//! `try_readline`, `try_readuntil`, `try_readexactly`, `try_read`: reads that never wait.

use bytes::Bytes;

use super::StreamReader;
use crate::Error;
use crate::sansio::{ReadOp, Step};

impl StreamReader {
    /// [`readline`](Self::readline) if the buffer already answers it; never waits.
    ///
    /// asyncio: none. For parsers that handle everything that has arrived before they
    /// await again (pipelined RESP or HTTP/1.1 requests): `Ok(Some(line))` is what
    /// `readline().await` would return now, `Ok(None)` means it would wait for input
    /// (nothing was consumed: go on with `readline().await`). Bytes fed through a
    /// [`Feeder`](crate::Feeder) count; nothing is pulled from the source. So a line
    /// over the limit whose `\n` the socket has received but the reader has not pulled
    /// yet is reported "not found" here, "found" by `readline()`; either way the rest of
    /// the line is dropped.
    ///
    /// A line that is already buffered takes the same fast path as `readline()`: see its
    /// docs for the cost.
    ///
    /// # Errors
    ///
    /// As [`readline`](Self::readline).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"PING\r\nPING\r\nPI")?;
    /// let mut answered = 0;
    /// while let Some(line) = reader.try_readline()? {
    ///     assert_eq!(line, "PING\r\n");
    ///     answered += 1;
    /// }
    /// assert_eq!((answered, reader.buffer()), (2, &b"PI"[..]));
    /// reader.feed_data(b"NG\r\n")?;
    /// assert_eq!(reader.readline().await?, "PING\r\n");
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn try_readline(&mut self) -> Result<Option<Bytes>, Error> {
        if let Some(line) = self.fast(|buf| buf.take_line()) {
            return Ok(Some(line));
        }
        self.try_op(ReadOp::readline())
    }

    /// [`readuntil`](Self::readuntil) if the buffer already answers it; never waits.
    ///
    /// asyncio: none. `Ok(None)`: `readuntil` would wait (nothing was consumed).
    ///
    /// # Errors
    ///
    /// As [`readuntil`](Self::readuntil).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"a;b")?;
    /// assert_eq!(reader.try_readuntil(b";")?.as_deref(), Some(&b"a;"[..]));
    /// assert_eq!(reader.try_readuntil(b";")?, None);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn try_readuntil(&mut self, separator: &[u8]) -> Result<Option<Bytes>, Error> {
        if let Some(record) = self.fast(|buf| buf.take_until(separator)) {
            return Ok(Some(record));
        }
        self.try_op(ReadOp::readuntil(separator)?)
    }

    /// [`readexactly`](Self::readexactly) if the buffer already holds `n` bytes (or EOF
    /// came); never waits.
    ///
    /// asyncio: none. `Ok(None)`: `readexactly` would wait (nothing was consumed).
    ///
    /// # Errors
    ///
    /// As [`readexactly`](Self::readexactly).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"abc")?;
    /// assert_eq!(reader.try_readexactly(4)?, None);
    /// assert_eq!(reader.try_readexactly(2)?.as_deref(), Some(&b"ab"[..]));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn try_readexactly(&mut self, n: usize) -> Result<Option<Bytes>, Error> {
        if let Some(bytes) = self.fast(|buf| buf.take_exactly(n)) {
            return Ok(Some(bytes));
        }
        self.try_op(ReadOp::readexactly(n))
    }

    /// [`read`](Self::read) if the buffer holds a byte (or EOF came); never waits.
    ///
    /// asyncio: none. `Ok(None)`: `read(n)` would wait.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut reader = aiostreams::StreamReader::new();
    /// assert_eq!(reader.try_read(10)?, None);
    /// reader.feed_data(b"abc")?;
    /// assert_eq!(reader.try_read(10)?.as_deref(), Some(&b"abc"[..]));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn try_read(&mut self, n: usize) -> Result<Option<Bytes>, Error> {
        if let Some(bytes) = self.fast(|buf| buf.take_some(n)) {
            return Ok(Some(bytes));
        }
        self.try_op(ReadOp::read(n))
    }

    /// One step of `op` on what is buffered (and fed), with the same outcome the async
    /// read would have now, or `None` where it would wait.
    #[inline(never)]
    fn try_op(&mut self, mut op: ReadOp<'_>) -> Result<Option<Bytes>, Error> {
        self.sync_inbox();
        let step = match op.step(&mut self.buf, self.shared.has_exception()) {
            Step::NeedMoreIfReady => op.finish_without_more(&mut self.buf),
            step => step,
        };
        self.publish_flow(false);
        match step {
            Step::Done(result) => result.map(Some),
            Step::RaiseStored => self.shared.exception().map_or(Ok(None), Err),
            Step::NeedMore | Step::NeedMoreIfReady => Ok(None),
        }
    }
}
