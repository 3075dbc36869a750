//! `peek(n)`: wait for bytes without consuming them.

use super::StreamReader;
use crate::Error;
use crate::sansio::ReadOp;

impl StreamReader {
    /// Waits until `n` bytes are buffered (or EOF) and returns the buffered bytes, at
    /// most `n`, without consuming any.
    ///
    /// asyncio: none; Go: `bufio.Reader.Peek(n)`. For protocol sniffing: a TLS
    /// ClientHello or a plain request on one port, a PROXY protocol signature. Fewer than
    /// `n` bytes come back only at EOF (empty at EOF with nothing buffered). The next read
    /// sees the same bytes. `peek(0)` returns at once (after the stored-exception check).
    ///
    /// It is also how a parser that works in place ([`buffer`](Self::buffer), "Parsing
    /// in place") waits for the rest of a record cut by a read: it asks for the bytes it
    /// knows the record needs (`examples/resp_server.rs` does, for RESP commands). A peek
    /// the buffer already answers completes without waiting; one that waits costs what a
    /// `readexactly` that waits costs, and hands out no `Bytes`.
    ///
    /// `n` is bounded by the reader's [limit](Self::limit), so a peek cannot make the
    /// reader hold more than the limit: `n > limit` fails at once with
    /// [`Error::InvalidArgument`] (where Go returns `ErrBufferFull`); use
    /// [`readexactly`](Self::readexactly) to consume a larger block.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidArgument`] (`"peek size exceeds the reader's limit"`) when
    ///   `n > limit`, before anything else;
    /// - the stored exception, if any, including one stored while waiting.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it consumes nothing, whether it completes or not.
    ///
    /// # Examples
    ///
    /// Tell TLS from plain text on one port (a TLS record starts with `0x16 0x03`):
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"GET / HTTP/1.1\r\n")?;
    /// let is_tls = matches!(reader.peek(2).await?, [0x16, 0x03]);
    /// assert!(!is_tls);
    /// assert_eq!(reader.readline().await?, "GET / HTTP/1.1\r\n"); // nothing was consumed
    ///
    /// reader.feed_data(b"ab")?;
    /// reader.feed_eof();
    /// assert_eq!(reader.peek(5).await?, b"ab"); // fewer only at EOF
    /// assert!(reader.peek(reader.limit() + 1).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn peek(&mut self, n: usize) -> Result<&[u8], Error> {
        self.run(ReadOp::peek(n)).await?;
        let buffered = self.buf.buffer();
        Ok(&buffered[..n.min(buffered.len())])
    }
}
