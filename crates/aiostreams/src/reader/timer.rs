//! A reader's time limits: the read timeout, the read deadline and the idle timeout.
//!
//! Nothing here runs while reads are answered from the buffer or the socket has bytes:
//! the reader asks the timer only when a read is about to wait. The limits are plain
//! numbers and the clocks plain deadlines: the time is read once when a clock starts
//! (a read's first wait), and one lazily re-armed [`Alarm`] wakes the reader no later
//! than the earliest deadline (see `docs/DESIGN.md`, "Timeouts").

use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::Instant;

use crate::Error;
use crate::transport::alarm::Alarm;

/// The limits of one reader and the clocks of its current read.
#[derive(Debug, Default)]
pub(crate) struct ReadTimer {
    /// `read_timeout`: how long one read may take from its first wait.
    timeout: Option<Duration>,
    /// Go's read deadline: no read waits past it.
    deadline: Option<Instant>,
    /// `idle_timeout`: how long the reader may wait with no byte in either direction.
    idle: Option<Duration>,
    /// When the current read's clock started (`None`: not started).
    read_since: Option<Instant>,
    /// When the current read runs out of `timeout`.
    read_until: Option<Instant>,
    /// When the current wait is idle for too long (`None`: its clock has not started).
    idle_until: Option<Instant>,
    alarm: Alarm,
}

impl ReadTimer {
    /// A timer with these limits.
    pub(crate) fn new(timeout: Option<Duration>, idle: Option<Duration>) -> Self {
        ReadTimer {
            timeout,
            idle,
            ..ReadTimer::default()
        }
    }

    /// True when any limit is set (the reader then calls the hooks below).
    pub(crate) fn is_set(&self) -> bool {
        self.timeout.is_some() || self.deadline.is_some() || self.idle.is_some()
    }

    /// A read already waiting keeps its start and gets the new budget.
    pub(crate) fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
        self.read_until = self
            .read_since
            .zip(timeout)
            .and_then(|(s, t)| s.checked_add(t));
    }

    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The idle clock starts again at the next wait.
    pub(crate) fn set_idle(&mut self, idle: Option<Duration>) {
        self.idle = idle;
        self.idle_until = None;
    }

    /// A new read begins: its clock starts at its first wait.
    pub(crate) fn new_read(&mut self) {
        self.read_since = None;
        self.read_until = None;
    }

    /// Bytes arrived: the connection is not idle.
    pub(crate) fn bytes_arrived(&mut self) {
        self.idle_until = None;
    }

    /// The read is about to wait (`mid_record`: part of what it reads has arrived):
    /// `Ready` with the error it fails with when a limit passed, `Pending` with `cx`
    /// registered to be woken by the earliest one. Nothing is consumed either way.
    ///
    /// The idle clock calls `idle_started` when it starts (sends count as activity from
    /// then on) and `idle_expired` when it runs out: false when bytes were sent meanwhile
    /// (the clock starts again), true once the connection was closed for it.
    pub(crate) fn poll_timeout(
        &mut self,
        cx: &mut Context<'_>,
        mid_record: bool,
        mut idle_started: impl FnMut(),
        idle_expired: impl FnMut() -> bool,
    ) -> Poll<Error> {
        self.start_clocks(mid_record, &mut idle_started);
        let Some((at, idle)) = self.next_deadline() else {
            return Poll::Pending;
        };
        ready!(self.alarm.poll_until(cx, at));
        self.expired(cx, mid_record, (at, idle), idle_started, idle_expired)
    }

    /// The earliest deadline, and whether it is the idle one.
    #[inline]
    fn next_deadline(&self) -> Option<(Instant, bool)> {
        let read_at = match (self.read_until, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (read_at, self.idle_until) {
            (Some(r), Some(i)) if i < r => Some((i, true)),
            (Some(r), _) => Some((r, false)),
            (None, i) => i.map(|i| (i, true)),
        }
    }

    /// A deadline passed: the read's error, or (bytes were sent during an idle wait)
    /// the wait goes on with a fresh idle clock.
    #[cold]
    #[inline(never)]
    fn expired(
        &mut self,
        cx: &mut Context<'_>,
        mid_record: bool,
        (mut at, mut idle): (Instant, bool),
        mut idle_started: impl FnMut(),
        mut idle_expired: impl FnMut() -> bool,
    ) -> Poll<Error> {
        loop {
            if !idle {
                let after = self
                    .read_since
                    .map_or(Duration::ZERO, |s| at.saturating_duration_since(s));
                return Poll::Ready(Error::TimedOut {
                    operation: "read",
                    after,
                });
            }
            if idle_expired() {
                return Poll::Ready(Error::TimedOut {
                    operation: "idle",
                    after: self.idle.unwrap_or_default(),
                });
            }
            self.idle_until = None; // bytes were sent meanwhile: idle from now
            self.start_clocks(mid_record, &mut idle_started);
            let Some(next) = self.next_deadline() else {
                return Poll::Pending;
            };
            (at, idle) = next;
            ready!(self.alarm.poll_until(cx, at));
        }
    }

    /// Starts the clocks a wait needs and has not started (one read of the time).
    ///
    /// With an idle timeout, waiting for the first byte of the next record is idle time
    /// and the read clock starts with that byte (Go's `IdleTimeout`, then its
    /// `ReadTimeout`); without one, the read clock starts at the read's first wait.
    fn start_clocks(&mut self, mid_record: bool, idle_started: &mut impl FnMut()) {
        let read_clock = self.read_since.is_none()
            && (self.timeout.is_some() || self.deadline.is_some())
            && (mid_record || self.idle.is_none());
        let idle_clock = self.idle_until.is_none() && self.idle.is_some();
        if !read_clock && !idle_clock {
            return;
        }
        let now = Instant::now();
        if read_clock {
            self.read_since = Some(now);
            self.read_until = self.timeout.and_then(|t| now.checked_add(t));
        }
        if idle_clock {
            idle_started();
            self.idle_until = self.idle.and_then(|t| now.checked_add(t));
        }
    }
}
