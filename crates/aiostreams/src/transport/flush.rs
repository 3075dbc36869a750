//! The per-connection flush task: sends what `write()` queued when nobody else does.
//!
//! `write()` never blocks. It sends at once only when it answers the last request (the
//! queue is empty and the reader holds nothing); otherwise it queues, and the bytes leave
//! either when the connection's reader is about to wait for input (so a handler's
//! answers to pipelined requests leave in one `writev`), when `drain()` runs, or here.
//! What the kernel does not take at once is queued too.
//! The task is spawned on the first queued write, yields once before sending so that
//! writes made in the same turn of the caller are batched, and ends with the connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::inner::{Inner, State};

/// Makes sure the queued bytes will be sent: wakes or spawns the flush task.
pub(crate) fn kick(inner: &Arc<Inner>, st: &mut State) {
    if let Some(waker) = st.flush_waker.take() {
        waker.wake();
    } else if !st.flush_task {
        st.flush_task = true;
        inner.runtime.spawn(FlushTask {
            inner: inner.clone(),
            yielded: false,
            shutdown_deadline: None,
        });
    }
}

struct FlushTask {
    inner: Arc<Inner>,
    yielded: bool,
    /// TLS close: give up sending close_notify and the rest after `ssl_shutdown_timeout`.
    shutdown_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for FlushTask {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let inner = &*this.inner;
        let mut st = inner.lock();
        loop {
            if st.lost.is_some() {
                return Poll::Ready(());
            }
            if inner.upgrading.load(Ordering::Acquire) {
                st.flush_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            if inner.flush_now(&mut st) {
                if st.lost.is_some() {
                    return Poll::Ready(());
                }
                if (st.eof_requested || (inner.is_closing() && inner.socket_is_tls()))
                    && !st.eof_sent
                {
                    // write_eof, or a TLS close: FIN / close_notify, then flush that.
                    inner.send_eof(&mut st);
                    continue;
                }
                if inner.is_closing() {
                    inner.connection_lost(&mut st, Ok(()));
                    return Poll::Ready(());
                }
                this.yielded = false;
                st.flush_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            if !this.yielded {
                // Let the writer finish its turn first: more writes may join this batch,
                // or its reader may send them inline before waiting.
                this.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if inner.is_closing() && inner.socket_is_tls() {
                let deadline = this.shutdown_deadline.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep(inner.ssl_shutdown_timeout()))
                });
                if deadline.as_mut().poll(cx).is_ready() {
                    let err =
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "SSL shutdown timed out");
                    inner.connection_lost(&mut st, Err(err.into()));
                    return Poll::Ready(());
                }
            }
            let guard = inner.socket.get();
            let Some(socket) = guard.as_ref() else {
                drop(guard);
                inner.connection_lost(&mut st, Ok(()));
                return Poll::Ready(());
            };
            match socket.poll_write_ready(cx) {
                Poll::Pending => {
                    // Closing the socket does not wake a readiness waiter: let
                    // `connection_lost` wake this task, or it would wait forever.
                    st.flush_waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => {
                    drop(guard);
                    inner.connection_lost(&mut st, Err(e.into()));
                    return Poll::Ready(());
                }
            }
        }
    }
}
