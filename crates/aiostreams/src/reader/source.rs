//! Where a reader pulls its bytes from.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, BytesMut};
use tokio::io::AsyncRead;

use super::timer::ReadTimer;

/// A byte source the reader pulls from when a read needs more data.
///
/// Implementations read at most `window` bytes into the spare capacity of `buf` and
/// return how many they read (0 = EOF). Transports implement this directly so they can
/// wait for readiness before any buffer is allocated, and flush pending writes first.
pub(crate) trait Source: Send + Unpin {
    fn poll_pull(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        window: usize,
    ) -> Poll<io::Result<usize>>;

    /// Whether pulling again right after a short read is cheap (not a socket).
    fn merges_short_reads(&self) -> bool {
        false
    }

    /// The connection's counters, for a transport's reader.
    fn stats(&self) -> Option<crate::metrics::ConnectionStats> {
        None
    }

    /// The reader's time limits, kept with the source (boxed: the reader stays small).
    fn timer(&mut self) -> Option<&mut ReadTimer> {
        None
    }

    /// A read is about to wait: `Ready` with its error when a time limit passed (see
    /// [`ReadTimer::poll_timeout`]).
    fn poll_timeout(&mut self, cx: &mut Context<'_>, mid_record: bool) -> Poll<crate::Error> {
        match self.timer() {
            Some(timer) => timer.poll_timeout(cx, mid_record),
            None => Poll::Pending,
        }
    }

    /// Sets the idle timeout: the reader's own clock, or a connection's watchdog.
    fn set_idle_timeout(&mut self, timeout: Option<std::time::Duration>) {
        if let Some(timer) = self.timer() {
            timer.set_idle(timeout);
        }
    }
}

/// Any tokio `AsyncRead` as a source.
pub(crate) struct IoSource<R> {
    io: R,
    timer: ReadTimer,
}

impl<R> IoSource<R> {
    pub(crate) fn new(io: R) -> Self {
        IoSource {
            io,
            timer: ReadTimer::default(),
        }
    }
}

impl<R: AsyncRead + Send + Unpin> Source for IoSource<R> {
    fn poll_pull(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        window: usize,
    ) -> Poll<io::Result<usize>> {
        crate::sansio::reserve_pull(buf, window);
        let mut limited = buf.limit(window);
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut limited)
    }

    fn merges_short_reads(&self) -> bool {
        true
    }

    fn timer(&mut self) -> Option<&mut ReadTimer> {
        Some(&mut self.timer)
    }
}
