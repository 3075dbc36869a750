//! Beyond asyncio: `set_limit`, and `readline`/`readuntil` with their own [`RecordLimit`].

use std::future::poll_fn;

use bytes::Bytes;

use super::StreamReader;
use crate::Error;
use crate::sansio::{ReadOp, RecordLimit, take_line_within};

impl StreamReader {
    /// Changes the reader's limit on a live connection (beyond asyncio, whose limit is
    /// fixed at creation).
    ///
    /// Later reads (and a read in progress, at its next step) use the new limit; bytes
    /// already buffered stay, and a lower limit can make one of them over-long. The
    /// limit also sizes the reader's pulls (about twice the limit may be buffered, as
    /// asyncio's pause threshold). A reader fed by a protocol keeps its pause and resume
    /// thresholds from the limit it was made with. For one read only, use
    /// [`readline_with`](Self::readline_with) or [`readuntil_with`](Self::readuntil_with).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`) for 0; the limit is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::with_limit(4)?;
    /// reader.feed_data(b"a long line\n")?;
    /// reader.set_limit(64)?; // e.g. after a login, a larger limit
    /// assert_eq!(reader.readline().await?, "a long line\n");
    /// # Ok(()) }
    /// ```
    pub fn set_limit(&mut self, limit: usize) -> Result<(), Error> {
        self.buf.set_limit(limit)
    }

    /// [`readline`](Self::readline) with its own limit and overrun policy.
    ///
    /// asyncio has no equivalent (its limit is the reader's); tokio-util's
    /// `LinesCodec::new_with_max_length` discards an over-long line the same way, Go's
    /// `bufio.Scanner` fails with `ErrTooLong`. With
    /// [`Overlong::Error`](crate::Overlong::Error) it is `readline()` with
    /// `limit.limit()` instead of the reader's limit. With
    /// [`Overlong::DiscardToSeparator`](crate::Overlong::DiscardToSeparator) an over-long
    /// line is dropped as it arrives (memory stays within one pull window, however long
    /// the line) and reported once its `\n` arrived, then the next call reads the next
    /// line: what a line server that answers "line too long" and goes on wants.
    ///
    /// # Errors
    ///
    /// - the stored exception;
    /// - [`Overlong::Error`](crate::Overlong::Error): [`Error::LimitOverrun`], as
    ///   [`readline`](Self::readline);
    /// - [`Overlong::DiscardToSeparator`](crate::Overlong::DiscardToSeparator):
    ///   [`Error::OverlongDiscarded`] with the bytes dropped, `\n` included (at EOF
    ///   before the `\n`: the bytes of the unterminated line).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes leave the buffer only when the line is returned, and a read
    /// cancelled while it drops an over-long line leaves the reader dropping the rest of
    /// that line (only its count is lost with the cancelled future): no byte of it is
    /// ever returned.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Error, Overlong, RecordLimit, StreamReader};
    /// let mut reader = StreamReader::new();
    /// reader.feed_data(b"ok\nthis line is far too long\nnext\n")?;
    /// let limit = RecordLimit::new(8)?.on_overlong(Overlong::DiscardToSeparator);
    /// assert_eq!(reader.readline_with(limit).await?, "ok\n");
    /// assert!(matches!(
    ///     reader.readline_with(limit).await,
    ///     Err(Error::OverlongDiscarded { dropped: 26 })
    /// ));
    /// assert_eq!(reader.readline_with(limit).await?, "next\n");
    /// # Ok(()) }
    /// ```
    pub async fn readline_with(&mut self, limit: RecordLimit) -> Result<Bytes, Error> {
        if let Some(line) = self.fast(|buf| take_line_within(buf, limit.limit())) {
            return Ok(line);
        }
        self.run_abandoning(ReadOp::readline().with_limit(limit))
            .await
    }

    /// [`readuntil`](Self::readuntil) with its own limit and overrun policy.
    ///
    /// As [`readline_with`](Self::readline_with), for a record ending in `separator`:
    /// with [`Overlong::Error`](crate::Overlong::Error) it is `readuntil()` with
    /// `limit.limit()`; with
    /// [`Overlong::DiscardToSeparator`](crate::Overlong::DiscardToSeparator) an over-long
    /// record is dropped through its separator as it arrives (a separator split between
    /// two arrivals is still found) and reported, and the next call reads the next
    /// record.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidArgument`] for an empty separator;
    /// - the stored exception;
    /// - [`Overlong::Error`](crate::Overlong::Error): [`Error::LimitOverrun`] (the buffer
    ///   is left intact), as [`readuntil`](Self::readuntil);
    /// - [`Overlong::DiscardToSeparator`](crate::Overlong::DiscardToSeparator):
    ///   [`Error::OverlongDiscarded`] with the bytes dropped, separator included;
    /// - [`Error::IncompleteRead`] at EOF without a separator, within the limit.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe while no over-long record is being dropped (bytes leave the buffer
    /// only when the record is returned). A read cancelled while it drops an over-long
    /// record has dropped part of it, and the rest is read as data by the next read:
    /// let such a read finish (it ends at the separator or EOF).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Error, Overlong, RecordLimit, StreamReader};
    /// let mut reader = StreamReader::new();
    /// reader.feed_data(b"a huge header block\r\n\r\nGET / HTTP/1.1\r\n\r\n")?;
    /// let limit = RecordLimit::new(16)?.on_overlong(Overlong::DiscardToSeparator);
    /// let skipped = reader.readuntil_with(b"\r\n\r\n", limit).await;
    /// assert!(matches!(skipped, Err(Error::OverlongDiscarded { dropped: 23 })));
    /// assert_eq!(reader.readuntil_with(b"\r\n\r\n", limit).await?, "GET / HTTP/1.1\r\n\r\n");
    /// # Ok(()) }
    /// ```
    pub async fn readuntil_with(
        &mut self,
        separator: &[u8],
        limit: RecordLimit,
    ) -> Result<Bytes, Error> {
        self.run_abandoning(ReadOp::readuntil(separator)?.with_limit(limit))
            .await
    }

    /// Runs one read to completion; a read dropped unfinished is abandoned
    /// ([`ReadOp::abandon`]), so that the rest of a line it was dropping stays dropped.
    async fn run_abandoning(&mut self, op: ReadOp<'_>) -> Result<Bytes, Error> {
        let mut guard = Abandon {
            reader: self,
            op: Some(op),
        };
        poll_fn(|cx| {
            let Abandon { reader, op } = &mut guard;
            let op = op
                .as_mut()
                .expect("the operation is there until the guard drops");
            reader.poll_op(cx, op)
        })
        .await
    }
}

/// Abandons its read when dropped (a completed read has nothing left to abandon).
struct Abandon<'r, 'o> {
    reader: &'r mut StreamReader,
    op: Option<ReadOp<'o>>,
}

impl Drop for Abandon<'_, '_> {
    fn drop(&mut self) {
        if let Some(op) = self.op.take() {
            op.abandon(&mut self.reader.buf);
        }
    }
}
