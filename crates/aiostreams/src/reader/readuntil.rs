//! `readuntil(sep)`, `readuntil_any(seps)` and `readline()`.

use bytes::Bytes;

use super::StreamReader;
use crate::Error;
use crate::sansio::ReadOp;

impl StreamReader {
    /// Reads up to and including the first occurrence of `separator`.
    ///
    /// asyncio: `readuntil(separator)`. The record (without the separator) may be at most
    /// `limit` bytes long. A complete record already buffered is returned even after EOF.
    ///
    /// # Errors
    ///
    /// In asyncio's order:
    /// - [`Error::InvalidArgument`] for an empty separator (before the stored exception);
    /// - the stored exception;
    /// - [`Error::LimitOverrun`] when the separator starts past the limit
    ///   (`separator_found: true`) or `limit` bytes arrived without one
    ///   (`separator_found: false`), checked before EOF. The buffer is left intact;
    /// - [`Error::IncompleteRead`] (`expected: None`) at EOF without a separator; `partial`
    ///   holds every buffered byte and the buffer is left empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes leave the buffer only when the record is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"lineAAAxxx")?;
    /// assert_eq!(reader.readuntil(b"AAA").await?, "lineAAA");
    /// assert_eq!(reader.buffer(), b"xxx");
    /// # Ok(()) }
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Bytes, Error> {
        if let Some(record) = self.fast(|buf| buf.take_until(separator)) {
            return Ok(record);
        }
        self.run(ReadOp::readuntil(separator)?).await
    }

    /// Reads up to and including whichever separator ends first.
    ///
    /// asyncio 3.13: `readuntil((sep1, sep2, ...))`. Among matches the one with the
    /// earliest end wins even if it is longer; on a tie the shorter separator wins. The
    /// "not found" limit check uses the longest separator, as asyncio does.
    ///
    /// # Errors
    ///
    /// As [`readuntil`](Self::readuntil), plus [`Error::InvalidArgument`] for an empty
    /// list (`"Separator should contain at least one element"`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes leave the buffer only when the record is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"ABCDEFG")?;
    /// assert_eq!(reader.readuntil_any(&[b"DEF", b"BCDE"]).await?, "ABCDE");
    /// # Ok(()) }
    /// ```
    pub async fn readuntil_any(&mut self, separators: &[&[u8]]) -> Result<Bytes, Error> {
        self.run(ReadOp::readuntil_any(separators)?).await
    }

    /// Reads one line, up to and including `\n`.
    ///
    /// asyncio: `readline()`. At EOF it returns the unterminated last line, or empty when
    /// nothing is left. The line (without `\n`) may be at most `limit` bytes long.
    ///
    /// # Errors
    ///
    /// - the stored exception (the buffer is kept);
    /// - [`Error::LimitOverrun`] for a line over the limit (asyncio raises `ValueError`
    ///   with the same text), raised once per over-long line. The whole line is dropped:
    ///   through its `\n` when it was received (the error is then "Separator is found,
    ///   but chunk is longer than limit"; later lines are kept), and otherwise the rest of
    ///   the line as it arrives, so no byte of it is returned by a later read (asyncio
    ///   returns those later pieces as lines; see [`sansio::Mode`](crate::sansio::Mode)).
    ///
    /// # Cost
    ///
    /// A line already buffered (nothing fed pending, no exception stored) takes a fast
    /// path: a search for `\n` (the first 16 bytes as two words, inline, then
    /// `memchr`) and a cut of the buffer, no pull, no lock, no waker registration. The
    /// only atomic read-modify-write is `bytes`' reference count of the returned
    /// [`Bytes`] (one increment, one decrement when it is dropped): the price of handing
    /// the line out without a copy. Several buffered lines (pipelined requests) are cut
    /// from one frozen `Bytes`, without a `BytesMut` split and freeze per line. Measured
    /// with callgrind (`benches/reader_instructions.rs`, 16-byte lines): 120 instructions
    /// per buffered `readline` (122 for [`try_readline`](Self::try_readline)), against 60
    /// for a bare `memchr` + slice split of the same bytes (2.0x), 112 for `memchr` and
    /// the `Bytes` cut alone (the `slice` and `advance` this path uses, and the drop) and
    /// 127 for `memchr` + `Bytes::split_to`. A parser that does not keep the line can
    /// look at it in place for 106 ([`buffer`](Self::buffer), "Parsing in place").
    /// [`readuntil`](Self::readuntil), [`readexactly`](Self::readexactly) and
    /// [`read`](Self::read) have the same fast path, and
    /// [`try_readline`](Self::try_readline) is its synchronous form.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes leave the buffer only when the line is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"line1\nline2")?;
    /// reader.feed_eof();
    /// assert_eq!(reader.readline().await?, "line1\n");
    /// assert_eq!(reader.readline().await?, "line2");
    /// assert_eq!(reader.readline().await?, "");
    /// # Ok(()) }
    /// ```
    pub async fn readline(&mut self) -> Result<Bytes, Error> {
        if let Some(line) = self.fast(|buf| buf.take_line()) {
            return Ok(line);
        }
        self.run(ReadOp::readline()).await
    }
}
