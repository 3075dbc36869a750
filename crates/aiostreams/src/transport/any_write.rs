//! Any tokio `AsyncWrite` (a pipe, stdout, a child's stdin, `tokio::io::duplex`) as the
//! write side of a transport, behind the same readiness-style calls as a socket.
//!
//! The transport's write path is built on non-blocking attempts (`try_write`,
//! `try_write_vectored`) and one waiter for writability, the flush task. An `AsyncWrite`
//! only has `poll_write`, which registers a waker when it returns `Pending`. Here every
//! attempt polls with one waker of our own ([`Readiness`]); when the writer wakes it, it
//! records that the writer may take more and wakes the flush task, whose
//! `poll_write_ready` registers with it. So `Pending` reads as `WouldBlock`, and the
//! wake-up as write readiness, with no task or buffer of its own.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use tokio::io::{AsyncWrite, AsyncWriteExt};

/// A boxed writer; `None` once it was shut down and dropped (`write_eof()`, close).
type Slot = Option<Pin<Box<dyn AsyncWrite + Send>>>;

/// An `AsyncWrite` under a transport.
pub(crate) struct AnyWrite {
    io: Mutex<Slot>,
    readiness: Arc<Readiness>,
    /// The waker every poll of `io` gets: it is `readiness`.
    waker: Waker,
    /// Where a shutdown that cannot finish at once goes on.
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for AnyWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyWrite").finish_non_exhaustive()
    }
}

/// "The writer may take more now", and who waits for it.
#[derive(Default)]
struct Readiness {
    /// Set when the writer woke us since the last attempt began.
    woken: AtomicBool,
    waiter: Mutex<Option<Waker>>,
}

impl Wake for Readiness {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        let waiter = self.waiter.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl AnyWrite {
    /// Wraps `io`; the caller must be inside a tokio runtime.
    pub(crate) fn new(io: impl AsyncWrite + Send + 'static) -> Self {
        let readiness = Arc::<Readiness>::default();
        AnyWrite {
            io: Mutex::new(Some(Box::pin(io))),
            waker: Waker::from(readiness.clone()),
            readiness,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.io.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One poll of the writer; `Pending` becomes `WouldBlock`.
    fn attempt<T>(
        &self,
        f: impl FnOnce(Pin<&mut (dyn AsyncWrite + Send)>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> io::Result<T> {
        let mut slot = self.slot();
        let Some(io) = slot.as_mut() else {
            return Err(io::ErrorKind::BrokenPipe.into());
        };
        // Cleared before the poll: a wake-up during or after it is new readiness.
        self.readiness.woken.store(false, Ordering::Release);
        match f(io.as_mut(), &mut Context::from_waker(&self.waker)) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.attempt(|io, cx| io.poll_write(cx, buf))
    }

    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.attempt(|io, cx| io.poll_write_vectored(cx, bufs))
    }

    /// Ready once the writer woke us after the last `WouldBlock` (it may take more).
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        *self
            .readiness
            .waiter
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        if self.readiness.woken.load(Ordering::Acquire) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    /// `write_eof()` / a graceful close: shut the writer down (`poll_shutdown`: flushes
    /// it, and closes a duplex's direction) and drop it, which closes a pipe. A shutdown
    /// that cannot finish at once finishes in a task of its own, its error then unseen.
    pub(crate) fn shutdown(&self) -> io::Result<()> {
        let Some(mut io) = self.slot().take() else {
            return Ok(());
        };
        match io
            .as_mut()
            .poll_shutdown(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(result) => result,
            Poll::Pending => {
                self.runtime.spawn(async move {
                    let _ = io.shutdown().await;
                });
                Ok(())
            }
        }
    }

    /// An error's close: drop the writer without shutting it down.
    pub(crate) fn drop_now(&self) {
        drop(self.slot().take());
    }
}

impl super::Transport {
    /// A transport writing to `io` (no reader, no socket).
    pub(crate) fn over_write(io: impl AsyncWrite + Send + 'static) -> Self {
        super::Transport::builder(super::io::Socket::Io(Box::new(AnyWrite::new(io)))).build()
    }
}
