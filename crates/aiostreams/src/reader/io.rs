//! `AsyncRead` and `AsyncBufRead`, so tokio's and tokio-util's tools work on a reader.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};

use super::StreamReader;

/// Reads as [`StreamReader::read`] does; errors come as [`io::Error`]s wrapping
/// [`Error`](crate::Error). Cancel safe, like every read.
impl AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let src = ready!(this.poll_fill_buf_inner(cx))?;
        let n = src.len().min(out.remaining());
        out.put_slice(&src[..n]);
        this.buf.discard(n);
        this.publish_flow(false);
        Poll::Ready(Ok(()))
    }
}

/// The buffer is the reader's own: `poll_fill_buf` pulls only when it is empty.
impl AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().poll_fill_buf_inner(cx)
    }

    #[inline]
    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.buf.discard(amt);
        this.publish_flow(false);
    }
}

impl StreamReader {
    fn poll_fill_buf_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(self.poll_filled(cx))?;
        Poll::Ready(Ok(self.buf.buffer()))
    }
}
