//! A read source made of a closure, for the tests that need a source with a behaviour of
//! their own (one that must never be read, an endless one that counts what it hands out,
//! one that hands out chunks with a `Pending` between them).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// An [`AsyncRead`] whose every `poll_read` is the closure's call: it fills `buf` (or not:
/// nothing put and `Ready(Ok(()))` is EOF) and returns as `poll_read` does.
pub(crate) struct ReadFn<F>(pub(crate) F);

impl<F> AsyncRead for ReadFn<F>
where
    F: FnMut(&mut Context<'_>, &mut ReadBuf<'_>) -> Poll<io::Result<()>> + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        (self.get_mut().0)(cx, buf)
    }
}
