//! A reader's time limits: the read timeout, the read deadline and, for a reader over
//! an `AsyncRead`, the idle timeout (a connection's idle timeout is its watchdog's, see
//! `transport/idle.rs`: this timer only knows it is set).
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

/// When the reader asks its source's timer, kept in the reader itself (one byte) so a
/// wait that needs no timer costs no call to the source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Timed {
    /// No limit is set.
    #[default]
    Off,
    /// Only a read timeout, with the connection's idle timeout governing the wait for a
    /// record's first byte: a wait with nothing of the record received asks nothing.
    MidRecord,
    /// As `MidRecord`, and this read has asked: its clock runs, so every wait asks
    /// until the read ends.
    Engaged,
    /// Every wait asks, and every read and every pull tells the timer.
    Always,
}

impl Timed {
    /// A read begins: true when the timer must hear of it (its clock may run).
    #[inline]
    pub(crate) fn new_read(&mut self) -> bool {
        match *self {
            Timed::Off | Timed::MidRecord => false,
            Timed::Engaged => {
                *self = Timed::MidRecord;
                true
            }
            Timed::Always => true,
        }
    }

    /// A read is about to wait (`mid_record`: part of what it reads is buffered): true
    /// when it must ask the timer.
    #[inline]
    pub(crate) fn wait_asks(&mut self, mid_record: bool) -> bool {
        match *self {
            Timed::Off => false,
            Timed::MidRecord if !mid_record => false,
            Timed::MidRecord => {
                *self = Timed::Engaged;
                true
            }
            Timed::Engaged | Timed::Always => true,
        }
    }

    /// Bytes arrived: true when the timer must hear of it (it runs an idle clock).
    #[inline]
    pub(crate) fn tells_arrivals(self) -> bool {
        self == Timed::Always
    }
}

/// The limits of one reader and the clocks of its current read, boxed and made when a
/// limit is first set: a reader without time limits carries a null pointer, not the
/// clocks' 128 bytes (idle memory per connection). Without clocks the mode is
/// [`Timed::Off`], so the reader never asks.
#[derive(Debug, Default)]
pub(crate) struct ReadTimer(Option<Box<Clocks>>);

#[derive(Debug, Default)]
struct Clocks {
    /// `read_timeout`: how long one read may take from its first wait.
    timeout: Option<Duration>,
    /// Go's read deadline: no read waits past it.
    deadline: Option<Instant>,
    /// `idle_timeout` of a reader with no connection: how long it may wait with no byte
    /// arriving.
    idle: Option<Duration>,
    /// The connection's watchdog enforces an idle timeout: the wait for a record's first
    /// byte is idle time, not read time, but this timer runs no idle clock.
    idle_by_connection: bool,
    /// When the current read's clock started (`None`: not started).
    read_since: Option<Instant>,
    /// When the current read runs out of `timeout`.
    read_until: Option<Instant>,
    /// When the current wait is idle for too long (`None`: its clock has not started).
    idle_until: Option<Instant>,
    alarm: Alarm,
}

impl ReadTimer {
    /// A connection's reader's timer: `idle_by_connection` when its watchdog has an
    /// idle timeout.
    pub(crate) fn new(timeout: Option<Duration>, idle_by_connection: bool) -> Self {
        let limited = timeout.is_some() || idle_by_connection;
        ReadTimer(limited.then(|| {
            Box::new(Clocks {
                timeout,
                idle_by_connection,
                ..Clocks::default()
            })
        }))
    }

    /// The clocks, made on the first limit set.
    fn clocks(&mut self) -> &mut Clocks {
        self.0.get_or_insert_default()
    }

    /// When the reader must ask this timer (see [`Timed`]).
    pub(crate) fn mode(&self) -> Timed {
        self.0.as_deref().map_or(Timed::Off, Clocks::mode)
    }

    /// A read already waiting keeps its start and gets the new budget.
    pub(crate) fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.clocks().set_timeout(timeout);
    }

    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.clocks().deadline = deadline;
    }

    /// The idle clock starts again at the next wait.
    pub(crate) fn set_idle(&mut self, idle: Option<Duration>) {
        let clocks = self.clocks();
        clocks.idle = idle;
        clocks.idle_until = None;
    }

    /// The connection's watchdog has (or no longer has) an idle timeout.
    pub(crate) fn set_idle_by_connection(&mut self, on: bool) {
        if on || self.0.is_some() {
            self.clocks().idle_by_connection = on;
        }
    }

    /// A new read begins: its clock starts at its first wait.
    pub(crate) fn new_read(&mut self) {
        if let Some(clocks) = &mut self.0 {
            clocks.read_since = None;
            clocks.read_until = None;
        }
    }

    /// Bytes arrived: the connection is not idle.
    pub(crate) fn bytes_arrived(&mut self) {
        if let Some(clocks) = &mut self.0 {
            clocks.idle_until = None;
        }
    }

    /// The read is about to wait (`mid_record`: part of what it reads has arrived):
    /// `Ready` with the error it fails with when a limit passed, `Pending` with `cx`
    /// registered to be woken by the earliest one. Nothing is consumed either way.
    pub(crate) fn poll_timeout(&mut self, cx: &mut Context<'_>, mid_record: bool) -> Poll<Error> {
        match &mut self.0 {
            Some(clocks) => clocks.poll_timeout(cx, mid_record),
            None => Poll::Pending,
        }
    }
}

impl Clocks {
    fn mode(&self) -> Timed {
        match (self.timeout, self.deadline, self.idle) {
            (None, None, None) => Timed::Off,
            (Some(_), None, None) if self.idle_by_connection => Timed::MidRecord,
            _ => Timed::Always,
        }
    }

    fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
        self.read_until = self
            .read_since
            .zip(timeout)
            .and_then(|(s, t)| s.checked_add(t));
    }

    fn poll_timeout(&mut self, cx: &mut Context<'_>, mid_record: bool) -> Poll<Error> {
        self.start_clocks(mid_record);
        let Some((at, idle)) = self.next_deadline() else {
            return Poll::Pending;
        };
        ready!(self.alarm.poll_until(cx, at));
        Poll::Ready(self.expired(at, idle))
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

    /// A deadline passed: the read's error.
    #[cold]
    #[inline(never)]
    fn expired(&self, at: Instant, idle: bool) -> Error {
        if idle {
            return Error::TimedOut {
                operation: "idle",
                after: self.idle.unwrap_or_default(),
            };
        }
        let after = self
            .read_since
            .map_or(Duration::ZERO, |s| at.saturating_duration_since(s));
        Error::TimedOut {
            operation: "read",
            after,
        }
    }

    /// Starts the clocks a wait needs and has not started (one read of the time).
    ///
    /// With an idle timeout, waiting for the first byte of the next record is idle time
    /// and the read clock starts with that byte (Go's `IdleTimeout`, then its
    /// `ReadTimeout`); without one, the read clock starts at the read's first wait.
    fn start_clocks(&mut self, mid_record: bool) {
        let read_clock = self.read_since.is_none()
            && (self.timeout.is_some() || self.deadline.is_some())
            && (mid_record || (self.idle.is_none() && !self.idle_by_connection));
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
            self.idle_until = self.idle.and_then(|t| now.checked_add(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mid_record_timer_is_asked_from_the_first_partial_wait_until_the_read_ends() {
        let timer = ReadTimer::new(Some(Duration::from_secs(1)), true);
        let mut timed = timer.mode();
        assert_eq!(timed, Timed::MidRecord);
        assert!(!timed.wait_asks(false), "nothing of the record: idle time");
        assert!(!timed.new_read(), "no clock ran");
        assert!(timed.wait_asks(true), "part of a record: the read clock");
        assert!(timed.wait_asks(false), "asked until the read ends");
        assert!(timed.new_read(), "the clock that ran is reset");
        assert_eq!(timed, Timed::MidRecord);
        assert!(!timed.tells_arrivals());
    }

    #[test]
    fn deadlines_and_a_read_timeout_alone_ask_at_every_wait() {
        let alone = ReadTimer::new(Some(Duration::from_secs(1)), false);
        assert_eq!(alone.mode(), Timed::Always);
        let mut deadline = ReadTimer::new(Some(Duration::from_secs(1)), true);
        deadline.set_deadline(Some(Instant::now()));
        assert_eq!(deadline.mode(), Timed::Always);
        assert_eq!(ReadTimer::new(None, true).mode(), Timed::Off);
        let mut timed = Timed::Always;
        assert!(timed.wait_asks(false) && timed.new_read() && timed.tells_arrivals());
    }
}
