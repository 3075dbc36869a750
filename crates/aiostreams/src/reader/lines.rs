//! Async iteration over lines: asyncio's `async for line in reader`.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;

use super::StreamReader;
use crate::Error;
use crate::sansio::ReadOp;

/// A [`Stream`] of lines from a [`StreamReader`], made by [`StreamReader::lines`].
///
/// Each item is what [`readline`](StreamReader::readline) returns (the `\n` included,
/// the last line possibly without one); the stream ends at the first empty result (EOF).
/// Errors are yielded as items and the stream goes on, as a new `async for` would.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Lines<'a> {
    reader: &'a mut StreamReader,
    /// The `readline` in progress, kept across polls so its search resumes.
    op: Option<ReadOp<'static>>,
}

impl StreamReader {
    /// Iterates over lines until EOF.
    ///
    /// asyncio: `async for line in reader`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping a pending `next()` loses no byte.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use tokio_stream::StreamExt;
    /// let mut reader = aiostreams::StreamReader::from_io(&b"a\nb\nc"[..]);
    /// let mut lines = reader.lines();
    /// let mut all = Vec::new();
    /// while let Some(line) = lines.next().await {
    ///     all.push(line?);
    /// }
    /// assert_eq!(all, ["a\n", "b\n", "c"]);
    /// # Ok(()) }
    /// ```
    pub fn lines(&mut self) -> Lines<'_> {
        Lines {
            reader: self,
            op: None,
        }
    }
}

impl Stream for Lines<'_> {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let op = this.op.get_or_insert_with(ReadOp::readline);
        let line = std::task::ready!(this.reader.poll_op(cx, op));
        this.op = None;
        Poll::Ready(match line {
            Ok(line) if line.is_empty() => None,
            other => Some(other),
        })
    }
}
