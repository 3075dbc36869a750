//! `AsyncWrite`, so `tokio::io::copy`, codecs and `write_all` work on a writer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;

use super::StreamWriter;

/// Writes queue like [`StreamWriter::write`], but with back-pressure: `poll_write` waits
/// while the queue is above the high-water mark, and fails once the connection is gone
/// (instead of dropping bytes silently, so `tokio::io::copy` cannot spin on a dead peer).
/// `poll_flush` waits until the queue is handed to the kernel; `poll_shutdown` is
/// [`write_eof`](StreamWriter::write_eof) then flush.
impl AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_wait(cx, false))?;
        if this.is_closing() {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        this.write(buf)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_wait(cx, true)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.write_eof();
        this.poll_wait(cx, true)
    }
}

impl StreamWriter {
    fn poll_wait(&mut self, cx: &mut Context<'_>, until_empty: bool) -> Poll<io::Result<()>> {
        if let Some(err) = self.reader_exception() {
            return Poll::Ready(Err(err.into()));
        }
        let inner = self.shared.transport.inner().clone();
        let result = ready!(inner.poll_drain(cx, &mut self.waited, until_empty));
        self.waited = false;
        Poll::Ready(result.map_err(Into::into))
    }
}
