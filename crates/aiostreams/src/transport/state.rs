//! The connection's state as data: every rule of the write path and of the lifecycle.
//!
//! No socket, lock, waker or clock here. [`ConnState`] sits behind `Inner`'s lock; each
//! event is a method that updates the state and returns a plan (send now or queue, tell
//! the protocol, send FIN or close_notify, close the descriptor), and `Inner` carries
//! the plan out with the socket. The rules are tested below without a socket.
//!
//! ```text
//!  Eof (write_eof)           Close                                 Pause (told to the protocol)
//!
//!  Open                      Open                                  Running
//!   | write_eof()             | close()                             | queue > high inside a write()
//!   v                         v                                     v
//!  Requested                 Flushing --queue sent, plain--+       PausedUnannounced
//!   | queue sent              | queue sent, TLS            |        | sent to <= low in the   | still
//!   v                         v                            |        | same write(): nothing   | > high at
//!  Sent: FIN / close_notify  NotifySent: close_notify      |        | told, back to Running   | its end
//!  (reading goes on)          | records sent               |        v                         v
//!                             v                            v       Running                   Paused
//!                            Lost(Ok) <--------------------+                                  | queue <= low
//!                                                                                             v
//!  Lost(Ok)  from any state by abort() (queue dropped, no RST)                      Running + resume_writing
//!  Lost(Err) from any state by an I/O error, or a TLS close past ssl_shutdown_timeout
//!  TLS, Eof::Sent and the peer's close_notify (either order): Close::Flushing
//! ```
//!
//! | event | rule | method |
//! |---|---|---|
//! | `write()` after `write_eof()` | refused (`InvalidState`) | [`on_write`](ConnState::on_write) |
//! | `write()` once lost, or closing with nothing queued | dropped; a warning from the 5th on | `on_write` |
//! | `write()` after `close()` with bytes still queued | queued and sent | `on_write` |
//! | `write()`, nothing queued, reader drained, plain socket, at most `high` bytes | sent from the caller's buffer; the rest queued for the flush task | `on_write`, [`after_direct`](ConnState::after_direct) |
//! | the same on TLS, during `start_tls`, or above `high` | queued, then the queue sent at once | `on_write` |
//! | `write()` while the reader still holds requests | queued; leaves before the next read, in `drain()`, or from the flush task | `on_write` |
//! | the queue crosses `high` in a `write()` and the kernel takes it down to `low` in the same call | neither `pause_writing` nor `resume_writing` | [`on_pushed`](ConnState::on_pushed), [`on_sent`](ConnState::on_sent), [`end_write`](ConnState::end_write) |
//! | the queue is still above `high` when the `write()` ends | `pause_writing` | `end_write` |
//! | a paused queue is sent down to `low` | `resume_writing`; `drain()` waiters woken | `on_sent` |
//! | `set_write_buffer_limits` puts the queue above `high` | `pause_writing` at once | [`set_limits`](ConnState::set_limits) |
//! | `write_eof()` with nothing queued | FIN / close_notify now (TLS: the flush task sends the records) | [`on_write_eof`](ConnState::on_write_eof) |
//! | `write_eof()` with bytes queued | FIN / close_notify once they are sent | `on_write_eof`, [`after_flush`](ConnState::after_flush) |
//! | `close()` on a plain socket with nothing queued | lost now (`Ok`) | [`on_close`](ConnState::on_close) |
//! | `close()` with bytes queued, or on TLS | the flush task sends them, then (TLS) close_notify, then closes | `on_close`, `after_flush` |
//! | TLS close still blocked after `ssl_shutdown_timeout` | lost with "SSL shutdown timed out" | `after_flush` |
//! | queued bytes make no progress for `write_timeout`, a queue above `high` is not back at `low` `write_timeout` after its first wait (a slow reader), or bytes are still queued at the write deadline | lost with `TimedOut { operation: "write" }` (drain() and wait_closed() fail with it) | `after_flush`, [`on_sent`](ConnState::on_sent) |
//! | the flush task found the socket would block | it yields once (more writes may join), then waits for writability | `after_flush` |
//! | `start_tls` handshaking | queued plaintext waits for the handshake | [`before_flush`](ConnState::before_flush) |
//! | loss (close done, abort, error) | queue dropped; once only | [`on_lost`](ConnState::on_lost) |
//! | `drain()` | ready at or below `low` (`until_empty`: empty); once lost, the outcome for a waiter that was already waiting, `ConnectionLost` for a new one | [`drain_ready`](ConnState::drain_ready) |

use std::time::Duration;

use tokio::time::Instant;

use crate::Error;
use crate::buffer::WriteQueue;

/// After this many writes dropped on a lost connection, each one logs a warning (asyncio).
const WARN_AFTER_DROPPED_WRITES: usize = 5;

/// asyncio's `SSL_SHUTDOWN_TIMEOUT`.
pub(crate) const DEFAULT_SSL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection ended: `Ok` after a clean close or an abort, `Err` after an error.
/// (The error is boxed: every connection carries this slot.)
type Outcome = Result<(), Box<Error>>;

/// The half-close asked for by `write_eof()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Eof {
    #[default]
    Open,
    /// FIN (TLS: close_notify) waits behind the queued bytes.
    Requested,
    /// Sent; reading goes on.
    Sent,
}

/// The close of the whole connection.
#[derive(Debug, Default)]
pub(crate) enum Close {
    #[default]
    Open,
    /// `close()` was called (or both TLS sides sent close_notify): sending the queue.
    Flushing,
    /// TLS: the queue is sent and so is our close_notify; its records are leaving.
    NotifySent,
    /// Gone, with the outcome `wait_closed()` and `drain()` report.
    Lost(Outcome),
}

/// What the protocol was told about the water marks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Pause {
    #[default]
    Running,
    /// Inside a `write()`: the queue went above the high mark, not told yet (the same
    /// `write()` may still send it down).
    PausedUnannounced,
    /// `pause_writing` was delivered.
    Paused,
}

/// What the socket under the transport is, as far as the write rules care.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Layer {
    #[default]
    Plain,
    /// `start_tls` is handshaking on the socket: plaintext writes must wait.
    #[cfg_attr(
        not(feature = "tls"),
        allow(dead_code, reason = "only start_tls (feature tls) upgrades")
    )]
    Upgrading,
    /// `sendfile()` is sending from the kernel on the socket: writes queue behind it.
    Sendfile,
    /// A TLS session; `peer_closed` once the reader saw the peer's close_notify.
    Tls { peer_closed: bool },
}

/// The connection's state (see the module docs for every rule).
#[derive(Debug, Default)]
pub(crate) struct ConnState {
    queue: WriteQueue,
    eof: Eof,
    close: Close,
    pause: Pause,
    layer: Layer,
    dropped_writes: usize,
    /// How long a TLS close may take to send close_notify (asyncio's default: 30 s).
    ssl_shutdown_timeout: Duration,
    /// When the current close gives up. Only the TLS close uses it (the connection
    /// timeouts keep their own clock, `stalled_since`; a server's lingering close comes
    /// after `Close::Lost`: see `linger.rs`).
    deadline: Option<Instant>,
    /// `write_timeout`: how long queued bytes may make no progress.
    write_timeout: Option<Duration>,
    /// Go's write deadline: bytes still queued then end the connection.
    write_deadline: Option<Instant>,
    /// Since when the queue has been waiting for the socket with no byte taken (set
    /// when the flush task first waits; cleared by any progress).
    stalled_since: Option<Instant>,
    /// Since when the queue has been above the high mark without getting back to the
    /// low one (`drain()` waits meanwhile), as first seen by a flush task's wait;
    /// cleared when it is back at the low mark. `write_timeout` bounds this too, so a
    /// peer that takes a byte now and then (a slow reader) cannot hold a drain forever.
    over_high_since: Option<Instant>,
}

/// Why a flush that waits for the socket gives up at its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// A TLS close still blocked after `ssl_shutdown_timeout`.
    SslShutdown,
    /// Queued bytes made no progress for `write_timeout`, or the write deadline passed;
    /// `after`: how long they had waited.
    Write { after: Duration },
}

impl Expiry {
    /// The error the connection is lost with.
    pub(crate) fn error(self) -> Error {
        match self {
            Expiry::SslShutdown => {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "SSL shutdown timed out").into()
            }
            Expiry::Write { after } => Error::TimedOut {
                operation: "write",
                after,
            },
        }
    }
}

/// What `write()` does with its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WritePlan {
    /// `write()` after `write_eof()`: `InvalidState`.
    Refuse,
    /// The connection is closed or lost: drop the bytes (`warn`: log it).
    Drop { warn: bool },
    /// Send from the caller's buffer first; queue what the socket leaves
    /// ([`ConnState::after_direct`]).
    SendFirst,
    /// Queue the bytes. `flush`: then send the queue at once. `kick`: the queue was empty,
    /// so make sure the flush task will send what is left.
    Queue { flush: bool, kick: bool },
}

/// What `Inner` tells the protocol and the waiters after bytes left the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Notices {
    /// Deliver `resume_writing`.
    pub(crate) resume_writing: bool,
    /// Wake the `drain()` waiters.
    pub(crate) wake_drain: bool,
}

/// What `close()` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClosePlan {
    /// Already closing or lost.
    Nothing,
    /// Nothing to send: lose the connection now (`Ok`).
    LoseNow,
    /// The flush task sends the queue (and TLS close_notify), then closes.
    Flush,
}

/// What `write_eof()` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EofPlan {
    /// Closing, or already called.
    Nothing,
    /// Send FIN / close_notify now; `kick`: TLS, the flush task sends its records.
    SendNow { kick: bool },
    /// The flush task sends it once the queue is sent.
    AfterQueue,
}

/// The flush task's next step before it sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlushPlan {
    /// The connection is gone: the task ends.
    Stop,
    /// Wait to be woken (`start_tls` is handshaking).
    Park,
    /// Send what the socket takes.
    Flush,
}

/// The flush task's next step after it sent what the socket took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterFlush {
    /// The connection is gone: the task ends.
    Stop,
    /// Everything sent; `write_eof()` asked for FIN / close_notify: send it.
    SendEof,
    /// Everything sent on a closing TLS connection: send close_notify.
    SendCloseNotify,
    /// Everything sent on a closing connection: lose it (`Ok`); the task ends.
    Finish,
    /// Everything sent: wait for the next write.
    Idle,
    /// The socket would block: yield once first, so writes in the caller's turn join.
    Yield,
    /// Wait until the socket is writable; give up at `deadline`, for the reason given.
    WaitWritable { deadline: Option<(Instant, Expiry)> },
}

impl ConnState {
    /// A connection over a plain or a TLS socket.
    pub(crate) fn new(tls: bool, ssl_shutdown_timeout: Duration) -> Self {
        ConnState {
            layer: if tls {
                Layer::Tls { peer_closed: false }
            } else {
                Layer::Plain
            },
            ssl_shutdown_timeout,
            ..ConnState::default()
        }
    }

    pub(crate) fn queue(&self) -> &WriteQueue {
        &self.queue
    }

    /// The queue, for `Inner` to push the bytes a [`WritePlan::Queue`] or
    /// [`WritePlan::SendFirst`] leaves; report a crossing with [`on_pushed`](Self::on_pushed).
    pub(crate) fn queue_mut(&mut self) -> &mut WriteQueue {
        &mut self.queue
    }

    pub(crate) fn is_closing(&self) -> bool {
        !matches!(self.close, Close::Open)
    }

    pub(crate) fn is_lost(&self) -> bool {
        matches!(self.close, Close::Lost(_))
    }

    /// Bytes go to the socket as they are (no TLS session, nothing borrows the socket).
    pub(crate) fn is_plain(&self) -> bool {
        self.layer == Layer::Plain
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.layer, Layer::Tls { .. })
    }

    /// `start_tls` or `sendfile()` has the socket: queued bytes wait, the flush task parks.
    pub(crate) fn is_borrowed(&self) -> bool {
        matches!(self.layer, Layer::Upgrading | Layer::Sendfile)
    }

    /// How the connection ended, as the public API reports it; `None` while it is up.
    pub(crate) fn outcome(&self) -> Option<Result<(), Error>> {
        match &self.close {
            Close::Lost(outcome) => Some(outcome.as_ref().map_err(|e| (**e).clone()).copied()),
            _ => None,
        }
    }

    /// `write()` of `len` bytes (0: nothing to send now, as for a `writelines` of more
    /// pieces than it sends directly);
    /// `reader_drained`: the connection's reader holds no unparsed input.
    pub(crate) fn on_write(&mut self, len: usize, reader_drained: bool) -> WritePlan {
        if self.eof != Eof::Open {
            return WritePlan::Refuse;
        }
        if self.is_lost() || (self.is_closing() && self.queue.is_empty()) {
            self.dropped_writes += 1;
            let warn = self.dropped_writes >= WARN_AFTER_DROPPED_WRITES;
            return WritePlan::Drop { warn };
        }
        let was_empty = self.queue.is_empty();
        // A reader with nothing left to parse means this answers the last request: send
        // now (no task hop). With requests still buffered, wait so that the answers to
        // all of them leave together when the reader next pulls.
        let send_now = was_empty && reader_drained;
        // Straight from the caller's buffer only up to the high mark, so that what is
        // left cannot pause the protocol (as it could not when queued first).
        if send_now && 0 < len && len <= self.queue.limits().1 && self.layer == Layer::Plain {
            return WritePlan::SendFirst;
        }
        WritePlan::Queue {
            flush: send_now,
            kick: was_empty,
        }
    }

    /// A [`WritePlan::SendFirst`] send took `sent` of `len` bytes before the socket
    /// would block: `None` when all left, else queue the rest for the flush task.
    pub(crate) fn after_direct(&self, sent: usize, len: usize) -> Option<WritePlan> {
        (sent < len).then_some(WritePlan::Queue {
            flush: false,
            kick: true,
        })
    }

    /// A push to the queue returned `crossed_high`: the protocol is told at the end of
    /// the `write()` if the queue is still above the mark then (asyncio sends first and
    /// compares only what is left).
    pub(crate) fn on_pushed(&mut self, crossed_high: bool) {
        if crossed_high {
            self.pause = Pause::PausedUnannounced;
        }
    }

    /// The socket took `n` queued bytes.
    pub(crate) fn on_sent(&mut self, n: usize) -> Notices {
        if n > 0 {
            self.stalled_since = None;
        }
        let resumed = self.queue.advance(n);
        let resume_writing = resumed && self.pause == Pause::Paused;
        if resumed {
            self.pause = Pause::Running;
            self.over_high_since = None;
        }
        Notices {
            resume_writing,
            wake_drain: resumed || self.queue.is_empty(),
        }
    }

    /// The `write()` is over: true when the protocol must now get `pause_writing`.
    pub(crate) fn end_write(&mut self) -> bool {
        if self.pause != Pause::PausedUnannounced {
            return false;
        }
        self.pause = Pause::Paused;
        true
    }

    /// `set_write_buffer_limits`: true when the protocol must get `pause_writing` now.
    pub(crate) fn set_limits(&mut self, high: usize, low: usize) -> bool {
        let crossed = self.queue.set_limits(high, low);
        if crossed {
            self.pause = Pause::Paused;
        }
        crossed
    }

    /// `write_eof()`.
    pub(crate) fn on_write_eof(&mut self) -> EofPlan {
        if self.is_closing() || self.eof != Eof::Open {
            return EofPlan::Nothing;
        }
        self.eof = Eof::Requested;
        if !self.queue.is_empty() || self.is_borrowed() {
            return EofPlan::AfterQueue;
        }
        EofPlan::SendNow {
            kick: self.is_tls(),
        }
    }

    /// FIN / close_notify for `write_eof()` is being sent: false if it already was. Both
    /// TLS sides having sent close_notify ends the session: the connection closes
    /// (asyncio tears a TLS connection down at the peer's close_notify).
    pub(crate) fn on_eof_sent(&mut self) -> bool {
        if self.eof == Eof::Sent {
            return false;
        }
        self.eof = Eof::Sent;
        if self.layer == (Layer::Tls { peer_closed: true }) && !self.is_closing() {
            self.close = Close::Flushing;
        }
        true
    }

    /// TLS close: our close_notify is being sent.
    pub(crate) fn on_close_notify_sent(&mut self) {
        if matches!(self.close, Close::Flushing) {
            self.close = Close::NotifySent;
        }
    }

    /// The reader saw the peer's close_notify: true when ours was sent too, so the
    /// connection must close now.
    pub(crate) fn on_peer_close_notify(&mut self) -> bool {
        if let Layer::Tls { peer_closed } = &mut self.layer {
            *peer_closed = true;
        }
        self.eof == Eof::Sent
    }

    /// `close()`: stop reading, send the queue, then close.
    pub(crate) fn on_close(&mut self) -> ClosePlan {
        if self.is_closing() {
            return ClosePlan::Nothing;
        }
        self.close = Close::Flushing;
        if self.queue.is_empty() && !self.is_tls() && !self.is_borrowed() {
            ClosePlan::LoseNow
        } else {
            ClosePlan::Flush
        }
    }

    /// `start_tls` begins its handshake on this (plain) socket.
    #[cfg(feature = "tls")]
    pub(crate) fn on_upgrade_started(&mut self) {
        self.layer = Layer::Upgrading;
    }

    /// `start_tls` ended: the socket is TLS now (`Some(shutdown timeout)`), or still
    /// plain after a failure.
    #[cfg(feature = "tls")]
    pub(crate) fn on_upgrade_ended(&mut self, tls: Option<Duration>) {
        self.layer = match tls {
            Some(timeout) => {
                self.ssl_shutdown_timeout = timeout;
                Layer::Tls { peer_closed: false }
            }
            None => Layer::Plain,
        };
    }

    /// `sendfile()` wants the plain socket for the kernel's copy: `Ok(true)` when it has
    /// it (the queue is empty; until [`on_sendfile_ended`](Self::on_sendfile_ended),
    /// writes queue behind the file, `close()` and `write_eof()` wait for it), `Ok(false)`
    /// when bytes are still queued (drain them, then ask again). asyncio refuses writes
    /// during `loop.sendfile()`; queueing them keeps `write()` infallible.
    pub(crate) fn on_sendfile_started(&mut self) -> Result<bool, Error> {
        if self.is_closing() {
            return Err(Error::InvalidState("Transport is closing"));
        }
        if self.eof != Eof::Open {
            return Err(Error::InvalidState(
                "Cannot call sendfile() after write_eof()",
            ));
        }
        if self.layer != Layer::Plain {
            return Err(Error::InvalidState(
                "sendfile: the socket is busy (sendfile or start_tls)",
            ));
        }
        if !self.queue.is_empty() {
            return Ok(false);
        }
        self.layer = Layer::Sendfile;
        Ok(true)
    }

    /// `sendfile()` is done (or dropped): the queue and a waiting close/EOF go on.
    pub(crate) fn on_sendfile_ended(&mut self) {
        if self.layer == Layer::Sendfile {
            self.layer = Layer::Plain;
        }
    }

    /// Why the socket cannot be handed out by `detach()` now, if it cannot: a closed or
    /// lost connection, a close under way, a TLS session (its state is ours), a
    /// `start_tls` handshaking, or a `write_eof()` still waiting behind the queue (its
    /// FIN would be lost). Otherwise the caller takes the queue and ends the state with
    /// [`on_lost`](Self::on_lost)`(Ok)`.
    pub(crate) fn detach_refusal(&self) -> Option<Error> {
        let refusal = match (&self.close, self.layer, self.eof) {
            (Close::Lost(_), ..) => return Some(Error::ConnectionLost),
            (Close::Flushing | Close::NotifySent, ..) => "detach: the writer is closing",
            (_, Layer::Tls { .. } | Layer::Upgrading, _) => {
                "detach: a TLS connection cannot be detached"
            }
            (_, Layer::Sendfile, _) => "detach: sendfile() is in progress",
            (_, _, Eof::Requested) => "detach: write_eof() is waiting for the queue",
            _ => return None,
        };
        Some(Error::InvalidState(refusal))
    }

    /// The connection ends with `outcome`: false if it already had (loss happens once).
    pub(crate) fn on_lost(&mut self, outcome: Result<(), Error>) -> bool {
        if self.is_lost() {
            return false;
        }
        self.close = Close::Lost(outcome.map_err(Box::new));
        self.queue.clear();
        self.pause = Pause::Running;
        true
    }

    /// Whether `drain()` is done: `until_empty` (flush, `start_tls`) waits for an empty
    /// queue, `drain()` for at most the low mark. `waited`: this caller was already
    /// waiting (asyncio's rules after loss: the outcome for a waiter, `ConnectionLost`
    /// for a new caller).
    pub(crate) fn drain_ready(&self, waited: bool, until_empty: bool) -> Option<Result<(), Error>> {
        if let Some(outcome) = self.outcome() {
            return Some(if waited {
                outcome
            } else {
                Err(Error::ConnectionLost)
            });
        }
        let done = if until_empty {
            self.queue.is_empty()
        } else {
            !self.queue.is_paused()
        };
        done.then_some(Ok(()))
    }

    /// The flush task, before it sends.
    pub(crate) fn before_flush(&self) -> FlushPlan {
        if self.is_lost() {
            FlushPlan::Stop
        } else if self.is_borrowed() {
            FlushPlan::Park
        } else {
            FlushPlan::Flush
        }
    }

    /// `write_timeout` (`None`: no limit).
    pub(crate) fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// The write deadline (`None`: none).
    pub(crate) fn set_write_deadline(&mut self, deadline: Option<Instant>) {
        self.write_deadline = deadline;
    }

    /// The flush task sent what the socket took (`all_sent`: nothing is left, TLS
    /// records included); `yielded`: it already yielded since it last found the socket
    /// blocked; `now` is asked only when a wait with a time limit starts.
    pub(crate) fn after_flush(
        &mut self,
        all_sent: bool,
        yielded: bool,
        mut now: impl FnMut() -> Instant,
    ) -> AfterFlush {
        if self.is_lost() {
            return AfterFlush::Stop;
        }
        if all_sent {
            return if self.eof == Eof::Requested {
                AfterFlush::SendEof
            } else if matches!(self.close, Close::Flushing)
                && self.is_tls()
                && self.eof != Eof::Sent
            {
                AfterFlush::SendCloseNotify
            } else if self.is_closing() {
                AfterFlush::Finish
            } else {
                AfterFlush::Idle
            };
        }
        if !yielded {
            return AfterFlush::Yield;
        }
        let tls_close = if self.is_closing() && self.is_tls() {
            let timeout = self.ssl_shutdown_timeout;
            let at = *self.deadline.get_or_insert_with(|| now() + timeout);
            Some((at, Expiry::SslShutdown))
        } else {
            None
        };
        let stalled = self.stall_deadline(&mut now);
        let deadline = match (tls_close, stalled) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        AfterFlush::WaitWritable { deadline }
    }

    /// When the queue, waiting for the socket, gives up: `write_timeout` after it last
    /// made progress, `write_timeout` after it went above the high mark if it is still
    /// not back at the low one (a slow reader), or the write deadline, whichever is
    /// first.
    fn stall_deadline(&mut self, now: &mut impl FnMut() -> Instant) -> Option<(Instant, Expiry)> {
        if self.write_timeout.is_none() && self.write_deadline.is_none() {
            return None;
        }
        let stalled = *self.stalled_since.get_or_insert_with(&mut *now);
        let over_high = if self.queue.is_paused() {
            Some(*self.over_high_since.get_or_insert(stalled))
        } else {
            None
        };
        let by_timeout = |since: Instant| {
            let at = since.checked_add(self.write_timeout?)?;
            Some((at, since))
        };
        [
            by_timeout(stalled),
            over_high.and_then(by_timeout),
            self.write_deadline.map(|at| (at, stalled)),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|&(at, _)| at)
        .map(|(at, since)| {
            let after = at.saturating_duration_since(since);
            (at, Expiry::Write { after })
        })
    }
}

#[cfg(test)]
mod tests;
