//! The per-connection flush task: sends what `write()` queued when nobody else does.
//!
//! `write()` never blocks. It sends at once only when it answers the last request (the
//! queue is empty and the reader holds nothing); otherwise it queues, and the bytes leave
//! either when the connection's reader is about to wait for input (so a handler's
//! answers to pipelined requests leave in one `writev`), when `drain()` runs, or here.
//! What the kernel does not take at once is queued too.
//! The task is spawned on the first queued write and ends with the connection. A write
//! made inside its connection's own server task wakes it only when that task's poll ends,
//! and only if bytes are still queued then ([`OwnTask`]): the reader usually sent them
//! before waiting. When the socket would block, the task yields once before it waits, so
//! that writes made in the same turn of the caller join the batch.
//! Each step is [`ConnState::before_flush`](super::state::ConnState::before_flush) /
//! [`after_flush`](super::state::ConnState::after_flush)'s plan, carried out.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::time::Instant;

use super::alarm::Alarm;
use super::inner::{Inner, Locked};
use super::state::{AfterFlush, FlushPlan};

thread_local! {
    /// The connection whose server task this thread is polling (null: none); see
    /// [`Inner::enter_own_task`].
    static OWN_TASK: Cell<*const Inner> = const { Cell::new(std::ptr::null()) };
}

/// This thread polls `inner`'s own server task while it lives (see
/// [`Inner::enter_own_task`]); it puts the outer value back when dropped, even if the
/// poll unwinds (a stale pointer could match a later connection at the same address).
pub(crate) struct OwnTask<'a> {
    inner: &'a Arc<Inner>,
    outer: *const Inner,
}

impl<'a> OwnTask<'a> {
    #[inline]
    pub(super) fn enter(inner: &'a Arc<Inner>) -> Self {
        let outer = OWN_TASK.replace(Arc::as_ptr(inner));
        OwnTask { inner, outer }
    }
}

impl Drop for OwnTask<'_> {
    #[inline]
    fn drop(&mut self) {
        OWN_TASK.set(self.outer);
        self.inner.left_own_task();
    }
}

/// Whether this thread is polling `inner`'s own server task now.
pub(super) fn in_own_task(inner: &Arc<Inner>) -> bool {
    OWN_TASK.get() == Arc::as_ptr(inner)
}

/// Makes sure the queued bytes will be sent: wakes or spawns the flush task.
pub(super) fn kick(inner: &Arc<Inner>, g: &mut Locked) {
    if let Some(waker) = g.wakers.flush.take() {
        waker.wake();
    } else if !g.wakers.flush_task {
        g.wakers.flush_task = true;
        inner.runtime().spawn(FlushTask {
            inner: inner.clone(),
            yielded: false,
            alarm: Alarm::default(),
        });
    }
}

struct FlushTask {
    inner: Arc<Inner>,
    /// Yielded once since the socket last took everything.
    yielded: bool,
    /// The timer of a wait's deadline (`write_timeout`, the write deadline, a TLS
    /// close's `ssl_shutdown_timeout`).
    alarm: Alarm,
}

impl Future for FlushTask {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let inner = &*this.inner;
        let mut g = inner.lock();
        loop {
            match g.conn.before_flush() {
                FlushPlan::Stop => return Poll::Ready(()),
                FlushPlan::Park => return park(&mut g, cx),
                FlushPlan::Flush => {}
            }
            let all_sent = inner.flush_now(&mut g);
            match g.conn.after_flush(all_sent, this.yielded, Instant::now) {
                AfterFlush::Stop => return Poll::Ready(()),
                AfterFlush::SendEof => inner.send_eof(&mut g),
                AfterFlush::SendCloseNotify => inner.send_close_notify(&mut g),
                AfterFlush::Finish => {
                    inner.close_done(&mut g);
                    return Poll::Ready(());
                }
                AfterFlush::Idle => {
                    this.yielded = false;
                    return park(&mut g, cx);
                }
                AfterFlush::Yield => {
                    // Let the writer finish its turn first: more writes may join this
                    // batch, or its reader may send them inline before waiting.
                    this.yielded = true;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                AfterFlush::WaitWritable { deadline } => {
                    if let Some((at, expiry)) = deadline
                        && this.alarm.poll_until(cx, at).is_ready()
                    {
                        tracing::debug!(peer = ?inner.peername(), "{}", expiry.error());
                        inner.connection_lost(&mut g, Err(expiry.error()));
                        return Poll::Ready(());
                    }
                    match inner.poll_write_ready(cx) {
                        // Closing the socket does not wake a readiness waiter: let
                        // `connection_lost` wake this task, or it would wait forever.
                        Poll::Pending => return park(&mut g, cx),
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(e)) => {
                            inner.connection_lost(&mut g, Err(e));
                            return Poll::Ready(());
                        }
                    }
                }
            }
        }
    }
}

/// Waits to be woken by `kick` or by the connection's loss.
fn park(g: &mut Locked, cx: &Context<'_>) -> Poll<()> {
    g.wakers.flush = Some(cx.waker().clone());
    Poll::Pending
}
