//! The idle timeout's watchdog: one small task per connection with an idle timeout,
//! which closes the connection once no byte has moved either way for that long, whether
//! or not anybody reads.
//!
//! Nothing runs on the hot path for it: activity is the connection's byte counters
//! (received and sent), which the reader and the writer update anyway. The watchdog
//! compares their sum with what it saw at its last look. While bytes move it looks every
//! `idle / CHECKS_PER_IDLE`; once they stop it sleeps until `idle` after the look that
//! last saw them move. It never closes early: the last byte moved no later than that
//! look, so the connection is closed between `idle` and `idle * (1 + 1 / CHECKS_PER_IDLE)`
//! after it (see `docs/DESIGN.md`, "Timeouts").

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use super::inner::{Inner, Locked};

/// How many times per idle period a busy connection's watchdog looks at the counters:
/// the close comes at most this fraction of `idle` late.
const CHECKS_PER_IDLE: u32 = 16;

/// The idle side of the connection's lock: the limit and its task; boxed in the lock,
/// made only when a limit is set (idle memory per connection).
#[derive(Debug, Default)]
pub(super) struct IdleState {
    /// `idle_timeout`; `None`: no limit (a running watchdog ends at its next look).
    pub(super) timeout: Option<Duration>,
    /// The limit changed since the watchdog last looked: its clock starts again.
    pub(super) changed: bool,
    /// The watchdog exists.
    pub(super) task: bool,
    pub(super) waker: Option<std::task::Waker>,
}

/// Sets the idle limit: the watchdog is spawned if there is none, or told to look again.
pub(super) fn set(inner: &Arc<Inner>, g: &mut Locked, timeout: Option<Duration>) {
    if g.conn.is_lost() || (timeout.is_none() && g.idle.is_none()) {
        return;
    }
    let state = g.idle.get_or_insert_default();
    state.timeout = timeout;
    state.changed = true;
    if let Some(w) = state.waker.take() {
        w.wake();
    } else if timeout.is_some() && !state.task {
        state.task = true;
        inner.runtime().spawn(Watchdog {
            inner: inner.clone(),
            sleep: tokio::time::sleep(Duration::ZERO),
            seen: 0,
            last_active: Instant::now(),
            idle: Duration::ZERO,
        });
    }
}

pin_project_lite::pin_project! {
    /// The task: sleeps until its next look, looks, closes the connection when idle.
    /// (The timer is inline: the task is the watchdog's one allocation.)
    struct Watchdog {
        inner: Arc<Inner>,
        #[pin]
        sleep: Sleep,
        // The counters' sum at the last look.
        seen: u64,
        // The last look that saw bytes move (or when the clock started).
        last_active: Instant,
        // The limit the clock runs with.
        idle: Duration,
    }
}

impl Future for Watchdog {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        loop {
            let mut g = this.inner.lock();
            if g.conn.is_lost() {
                return Poll::Ready(());
            }
            // (Made before the watchdog was spawned.)
            let Some(state) = g.idle.as_deref_mut() else {
                return Poll::Ready(());
            };
            let Some(idle) = state.timeout else {
                state.task = false;
                return Poll::Ready(());
            };
            if std::mem::take(&mut state.changed) {
                // A new limit: idle from now.
                *this.idle = idle;
                *this.seen = this.inner.counters().activity();
                *this.last_active = Instant::now();
                this.sleep.as_mut().reset(later(*this.last_active, idle));
            }
            if !state
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                state.waker = Some(cx.waker().clone());
            }
            drop(g);
            if this.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = Instant::now();
            let activity = this.inner.counters().activity();
            let next = if activity != *this.seen {
                *this.seen = activity;
                *this.last_active = now;
                later(now, *this.idle / CHECKS_PER_IDLE)
            } else if now >= later(*this.last_active, *this.idle) {
                this.inner.idle_expired(*this.idle);
                return Poll::Ready(());
            } else {
                later(*this.last_active, *this.idle)
            };
            this.sleep.as_mut().reset(next);
        }
    }
}

/// `at + d`, or about thirty years on when that overflows (an idle limit that large
/// never fires).
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .unwrap_or_else(|| at + Duration::from_secs(30 * 365 * 86_400))
}
