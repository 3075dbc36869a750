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
    ///   with the same text). Like asyncio, the reader first drops the over-long line
    ///   through its `\n` when one was seen (later lines stay buffered), or else clears
    ///   the whole buffer; bytes of that line arriving later are then read as a new line.
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
        // Fast path with the outcome of the loop below: with nothing fed pending and no
        // exception stored, a line already buffered is taken at once. For short lines the
        // polling loop costs more than the search itself (benches/reader.rs).
        if self.shared.is_quiet()
            && let Some(line) = self.buf.take_line()
        {
            self.publish_flow(false);
            return Ok(line);
        }
        self.run(ReadOp::readline()).await
    }
}
