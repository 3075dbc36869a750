//! `AsyncWrite`, so `tokio::io::copy`, codecs and `write_all` work on a writer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;

use super::StreamWriter;
use crate::Error;

/// Writes queue like [`StreamWriter::write`], but with back-pressure: `poll_write` waits
/// while the queue is above the high-water mark, and fails once the writer is closing
/// (instead of dropping bytes silently, so `tokio::io::copy` cannot spin on a dead peer).
/// `poll_flush` waits until the queue is handed to the kernel; `poll_shutdown` is
/// [`write_eof`](StreamWriter::write_eof) then flush. Errors are `drain()`'s: the
/// reader's stored error (e.g. the peer's reset) before a bare "Connection lost".
impl AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Once closing, no byte can be accepted: fail now rather than wait for a queue
        // that a stalled peer may never let shrink.
        if !this.is_closing() {
            ready!(this.poll_wait(cx, false))?;
        }
        if this.is_closing() {
            return Poll::Ready(Err(this.closed_error()));
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
        let result = ready!(
            self.shared
                .transport
                .poll_drain(cx, &mut self.waited, until_empty)
        );
        self.waited = false;
        // As drain(): a send error reaches the reader; raise it rather than "lost".
        let result = match (result, self.reader_exception()) {
            (Err(_), Some(err)) => Err(err),
            (result, _) => result,
        };
        Poll::Ready(result.map_err(Into::into))
    }

    /// Why a write to a closing writer fails: the error that ended the connection,
    /// `ConnectionLost` after a clean end, `BrokenPipe` while the queue is still sent.
    fn closed_error(&self) -> io::Error {
        if let Some(err) = self.reader_exception() {
            return err.into();
        }
        match self.shared.transport.outcome() {
            Some(Err(err)) => err.into(),
            Some(Ok(())) => Error::ConnectionLost.into(),
            None => io::ErrorKind::BrokenPipe.into(),
        }
    }
}
