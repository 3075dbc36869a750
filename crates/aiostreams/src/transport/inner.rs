//! The connection shared by the transport handles, the reader and the flush task: the
//! socket, the lock over [`ConnState`] and the wakers. Every decision is the state's
//! (see `state.rs`); the methods here carry its plans out with the socket.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

mod detach;
mod sendfile;
mod write;

pub(crate) use sendfile::SendfileMode;

use super::events::Events;
use super::extra::Extra;
use super::idle::IdleState;
use super::io::{Socket, SocketSlot};
use super::linger::{OnLost, linger};
use super::state::{ClosePlan, ConnState, EofPlan};
use crate::reader::shared::ReadFlow;
use crate::{Error, Feeder};

/// One connection. Built whole by [`Builder`](super::Builder); nothing is attached later.
pub(crate) struct Inner {
    socket: SocketSlot,
    locked: Mutex<Locked>,
    /// Mirrors of the state read without the lock on the fast paths (`drain()` with
    /// nothing queued, `get_write_buffer_size()`, the reader's checks), stored by the
    /// methods below: `queued` is the queue's length, stored under the lock whenever it
    /// changes (`u32::MAX`: that or more, ask the state; 4 bytes, so that it fits beside
    /// the flags where a bool was).
    queued: AtomicU32,
    /// A write inside the connection's own server task left the flush task's kick to the
    /// end of the task's poll (see `enter_own_task`).
    kick_deferred: AtomicBool,
    closing: AtomicBool,
    reading_paused: AtomicBool,
    /// The reader fed EOF or the error on connection loss (asyncio's `connection_lost`
    /// -> reader), whose drained state also decides whether `write()` sends at once.
    reader: Option<Feeder>,
    /// The protocol's notifications (protocol layer only).
    events: Option<Box<Events>>,
    /// Told once the connection is over, asked whether a graceful close lingers (a
    /// server's connection tracking).
    on_lost: Option<Arc<dyn OnLost>>,
    runtime: tokio::runtime::Handle,
    extra: Extra,
    counters: crate::metrics::Counters,
}

/// What the lock guards: the state, and who waits on it.
#[derive(Debug)]
pub(super) struct Locked {
    pub(super) conn: ConnState,
    pub(super) wakers: Wakers,
    /// The idle timeout and its watchdog (see `idle.rs`); `None` until one is set.
    pub(super) idle: Option<Box<IdleState>>,
}

#[derive(Debug, Default)]
pub(super) struct Wakers {
    /// The flush task exists (spawned on the first queued write).
    pub(super) flush_task: bool,
    pub(super) flush: Option<Waker>,
    /// The reader waiting for `resume_reading`.
    read: Option<Waker>,
    /// `drain()`/`flush` callers waiting for the queue to shrink or the connection to end.
    drain: Vec<Waker>,
    /// `wait_closed()` callers (a waker list, not a `Notify`: it keeps each waiting
    /// future small, which matters for idle connections).
    closed: Vec<Waker>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<Transport")?;
        if let Some(peer) = &self.extra.peername {
            write!(f, " peername={peer}")?;
        }
        if self.is_closing() {
            write!(f, " closing")?;
        }
        write!(f, ">")
    }
}

impl Inner {
    pub(super) fn new(
        socket: Socket,
        conn: ConnState,
        reader: Option<Feeder>,
        events: Option<Box<Events>>,
        on_lost: Option<Arc<dyn OnLost>>,
        extra: Extra,
    ) -> Self {
        Inner {
            socket: SocketSlot::new(socket),
            locked: Mutex::new(Locked {
                conn,
                wakers: Wakers::default(),
                idle: None,
            }),
            queued: AtomicU32::new(0),
            kick_deferred: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            reading_paused: AtomicBool::new(false),
            reader,
            events,
            on_lost,
            runtime: tokio::runtime::Handle::current(),
            extra,
            counters: crate::metrics::Counters::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Locked> {
        self.locked.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn socket(&self) -> &SocketSlot {
        &self.socket
    }

    pub(super) fn extra(&self) -> &Extra {
        &self.extra
    }

    /// The connection's counters (bytes in and out, queued writes, age).
    pub(crate) fn counters(&self) -> &crate::metrics::Counters {
        &self.counters
    }

    pub(super) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    pub(crate) fn events(&self) -> Option<&Events> {
        self.events.as_deref()
    }

    #[inline]
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    pub(crate) fn is_reading_paused(&self) -> bool {
        self.reading_paused.load(Ordering::Acquire)
    }

    pub(crate) fn peername(&self) -> Option<&super::SocketAddress> {
        self.extra.peername.as_ref()
    }

    /// `get_write_buffer_size()`, without the lock (the mirror of the queue's length), so
    /// that a handler that checks it after every write (as asyncio code checks it before
    /// `drain()`) takes no lock for it.
    #[inline]
    pub(super) fn queued(&self) -> usize {
        match self.queued.load(Ordering::Acquire) {
            u32::MAX => self.queued_locked(),
            n => n as usize,
        }
    }

    #[cold]
    #[inline(never)]
    fn queued_locked(&self) -> usize {
        self.lock().conn.queue().len()
    }

    /// Whether bytes are queued (without the lock).
    #[inline]
    fn has_queued(&self) -> bool {
        self.queued.load(Ordering::Acquire) != 0
    }

    /// Stores the queue's length in its mirror (under the lock, after every change).
    fn mirror_queued(&self, g: &Locked) {
        let len = g.conn.queue().len().min(u32::MAX as usize) as u32;
        self.queued.store(len, Ordering::Release);
    }

    /// `get_write_buffer_limits()`: `(low, high)`.
    pub(super) fn limits(&self) -> (usize, usize) {
        self.lock().conn.queue().limits()
    }

    /// `set_write_buffer_limits()` with resolved marks.
    pub(super) fn set_limits(&self, high: usize, low: usize) {
        if self.lock().conn.set_limits(high, low) {
            self.event(Events::pause_writing);
        }
    }

    /// True once the connection is lost (a lingering socket may still be open).
    pub(crate) fn is_lost(&self) -> bool {
        self.lock().conn.is_lost()
    }

    /// Changes the write side's time limits; a waiting flush task looks again.
    pub(super) fn set_write_limits(&self, f: impl FnOnce(&mut ConnState)) {
        let mut g = self.lock();
        f(&mut g.conn);
        if let Some(w) = g.wakers.flush.take() {
            w.wake();
        }
    }

    /// How the connection ended; `None` while it is up.
    pub(super) fn outcome(&self) -> Option<Result<(), Error>> {
        self.lock().conn.outcome()
    }

    /// Waits until the queue is at or below the low mark (`until_empty`: empty); the
    /// rules are [`ConnState::drain_ready`]'s.
    pub(crate) fn poll_drain(
        &self,
        cx: &mut Context<'_>,
        waited: &mut bool,
        until_empty: bool,
    ) -> Poll<Result<(), Error>> {
        if let Some(done) = self.drain_now() {
            return Poll::Ready(done);
        }
        let mut g = self.lock();
        if let Some(done) = g.conn.drain_ready(*waited, until_empty) {
            return Poll::Ready(done);
        }
        self.flush_now(&mut g);
        if let Some(done) = g.conn.drain_ready(*waited, until_empty) {
            return Poll::Ready(done);
        }
        register(&mut g.wakers.drain, cx);
        *waited = true;
        Poll::Pending
    }

    /// `drain()`'s answer without the lock: nothing queued on an open connection (the
    /// common case) is done, unless the reactor reported a reset. (`queued` is
    /// zeroed after `closing` is set when the connection is lost, so a connection seen
    /// open here was not lost before this call.) `None`: ask the state.
    #[inline]
    pub(crate) fn drain_now(&self) -> Option<Result<(), Error>> {
        if self.has_queued() || self.is_closing() {
            return None;
        }
        Some(self.check_reported_error())
    }

    /// A socket error (a peer's reset) the reactor already saw ends the connection as a
    /// failed read would (asyncio reads eagerly and would have seen it): the reader keeps
    /// the error for its next read. No system call unless the error was reported.
    /// (Inlined to the check, which is one readiness load under the socket slot's read
    /// lock; the loss is out of line.)
    #[inline]
    fn check_reported_error(&self) -> Result<(), Error> {
        let reported = self
            .socket
            .get()
            .as_ref()
            .and_then(Socket::take_reported_error);
        match reported {
            None => Ok(()),
            Some(err) => Err(self.lost_to_reported_error(err)),
        }
    }

    #[cold]
    #[inline(never)]
    fn lost_to_reported_error(&self, err: io::Error) -> Error {
        let err = Error::from(err);
        let mut g = self.lock();
        self.connection_lost(&mut g, Err(err.clone()));
        err
    }

    /// Waits until the connection is lost; the outcome, every time.
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut g = self.lock();
        if let Some(outcome) = g.conn.outcome() {
            return Poll::Ready(outcome);
        }
        register(&mut g.wakers.closed, cx);
        Poll::Pending
    }

    /// Makes sure pending output will be sent by the flush task.
    pub(super) fn kick_flush(self: &Arc<Self>) {
        let mut g = self.lock();
        if !g.conn.is_lost() {
            super::flush::kick(self, &mut g);
        }
    }

    /// Marks this thread as polling this connection's own server task until the guard
    /// drops: the kick that a write made meanwhile would give the flush task is made when
    /// the guard drops, and only if bytes are still queued then (the reader sends them
    /// before it waits). The task cannot run its flush task before it yields anyway:
    /// this saves waking it for nothing on every pipelined batch.
    #[inline]
    pub(crate) fn enter_own_task(self: &Arc<Self>) -> super::flush::OwnTask<'_> {
        super::flush::OwnTask::enter(self)
    }

    /// The guard of [`enter_own_task`](Self::enter_own_task) dropped: a deferred kick.
    #[inline]
    pub(super) fn left_own_task(self: &Arc<Self>) {
        if self.kick_deferred.load(Ordering::Relaxed) {
            self.deferred_kick();
        }
    }

    #[inline(never)]
    fn deferred_kick(self: &Arc<Self>) {
        self.kick_deferred.store(false, Ordering::Relaxed);
        if !self.has_queued() {
            return;
        }
        let mut g = self.lock();
        if !g.conn.is_lost() && !g.conn.queue().is_empty() {
            super::flush::kick(self, &mut g);
        }
    }

    /// A write left bytes for the flush task: kick it now, or at the end of the poll
    /// when the write was made inside this connection's own server task.
    pub(super) fn kick_after_write(self: &Arc<Self>, g: &mut Locked) {
        if super::flush::in_own_task(self) {
            self.kick_deferred.store(true, Ordering::Relaxed);
        } else {
            super::flush::kick(self, g);
        }
    }

    /// Sends the queued bytes the reader would otherwise leave for the flush task.
    #[inline]
    pub(super) fn flush_before_read(&self) {
        if self.has_queued() {
            self.flush_queued();
        }
    }

    #[inline(never)]
    fn flush_queued(&self) {
        let mut g = self.lock();
        if !g.conn.is_lost() {
            self.flush_now(&mut g);
        }
    }

    /// Ends the connection (asyncio's `connection_lost`) after an error or a finished
    /// close: the descriptor closes (with a RST after an error).
    pub(super) fn connection_lost(&self, g: &mut Locked, outcome: Result<(), Error>) {
        let ending = match outcome {
            Ok(()) => Ending::Close,
            Err(_) => Ending::Reset,
        };
        self.end(g, outcome, ending);
    }

    /// A graceful close is done (the queue is sent): the connection is lost (`Ok`), and
    /// a server's socket lingers before it closes (see `linger.rs`).
    pub(super) fn close_done(&self, g: &mut Locked) {
        self.end(g, Ok(()), Ending::Linger);
    }

    /// Carries out a loss: closes the descriptor as `ending` says, tells the reader (EOF,
    /// or the error) and the protocol, wakes every waiter, and tells the server's hook
    /// (after the lingering, when the socket lingers). Once only.
    fn end(&self, g: &mut Locked, outcome: Result<(), Error>, ending: Ending) {
        let reader_news = outcome.clone();
        if !g.conn.on_lost(outcome) {
            return;
        }
        self.closing.store(true, Ordering::Release);
        self.queued.store(0, Ordering::Release);
        let lingering = match (&self.on_lost, ending) {
            (Some(hook), Ending::Linger) => hook.linger().map(|l| (hook.clone(), l)),
            _ => None,
        };
        let lingering = lingering.and_then(|(hook, l)| Some((self.socket.take_out()?, hook, l)));
        if lingering.is_none() {
            self.socket.close(ending == Ending::Reset);
        }
        if let Some(reader) = &self.reader {
            match &reader_news {
                Ok(()) => reader.feed_eof(),
                Err(err) => reader.set_exception(err.clone()),
            }
        }
        self.event(|e| e.connection_lost(reader_news.err()));
        let w = &mut g.wakers;
        w.flush
            .take()
            .into_iter()
            .chain(w.read.take())
            .for_each(Waker::wake);
        wake_all(&mut w.drain);
        wake_all(&mut w.closed);
        if let Some(w) = g.idle.as_mut().and_then(|idle| idle.waker.take()) {
            w.wake();
        }
        if let Some(hook) = &self.on_lost {
            hook.lost(lingering.is_some());
        }
        if let Some((socket, hook, l)) = lingering {
            drop(self.runtime.spawn(linger(socket, l, hook)));
        }
    }

    /// asyncio `close()`: stop reading, flush, then close.
    pub(crate) fn close(self: &Arc<Self>) {
        let mut g = self.lock();
        self.close_locked(&mut g);
    }

    fn close_locked(self: &Arc<Self>, g: &mut Locked) {
        let plan = g.conn.on_close();
        if plan == ClosePlan::Nothing {
            return;
        }
        self.closing.store(true, Ordering::Release);
        if let Some(w) = g.wakers.read.take() {
            w.wake();
        }
        match plan {
            ClosePlan::LoseNow => self.close_done(g),
            _ => super::flush::kick(self, g),
        }
    }

    /// asyncio `abort()`: drop the queue, close at once. As asyncio's, it closes without
    /// SO_LINGER 0: the peer sees EOF after what was already sent (input that arrived
    /// unread is discarded first, as for a graceful close, so that it causes no reset).
    pub(crate) fn abort(&self) {
        let mut g = self.lock();
        self.connection_lost(&mut g, Ok(()));
    }

    /// asyncio `write_eof()`: shut down the write side once the queue is sent.
    pub(super) fn write_eof(self: &Arc<Self>) {
        let mut g = self.lock();
        match g.conn.on_write_eof() {
            EofPlan::SendNow { kick } => {
                self.send_eof(&mut g);
                if kick {
                    super::flush::kick(self, &mut g);
                }
            }
            EofPlan::AfterQueue | EofPlan::Nothing => {}
        }
    }

    /// `write_eof()`'s FIN / close_notify, if not sent yet.
    pub(super) fn send_eof(&self, g: &mut Locked) {
        if g.conn.on_eof_sent() {
            if g.conn.is_closing() {
                // Both TLS sides sent close_notify (see `ConnState::on_eof_sent`).
                self.closing.store(true, Ordering::Release);
            }
            self.shutdown_write(g);
        }
    }

    /// A TLS close's close_notify, after the queue.
    pub(super) fn send_close_notify(&self, g: &mut Locked) {
        g.conn.on_close_notify_sent();
        self.shutdown_write(g);
    }

    fn shutdown_write(&self, g: &mut Locked) {
        let guard = self.socket.get();
        let result = guard
            .as_ref()
            .map(|s| s.shutdown_write().map_err(|e| send_error(s, e)));
        drop(guard);
        if let Some(Err(e)) = result {
            self.connection_lost(g, Err(e.into()));
        }
    }

    /// The reader reached EOF on a TLS session: if we already sent close_notify too,
    /// the session is over and the connection closes.
    pub(super) fn tls_peer_closed(self: &Arc<Self>) {
        let mut g = self.lock();
        if g.conn.on_peer_close_notify() {
            self.close_locked(&mut g);
        }
    }

    /// Sets the idle timeout (`None`: none); see `idle.rs`.
    pub(crate) fn set_idle_timeout(self: &Arc<Self>, timeout: Option<Duration>) {
        let mut g = self.lock();
        super::idle::set(self, &mut g, timeout);
    }

    /// No byte moved either way for the idle timeout: the connection is lost with
    /// `TimedOut { operation: "idle" }`, at once and gracefully, as `abort()` closes:
    /// a FIN after what was sent, queued bytes (which made no progress the whole time)
    /// dropped, no lingering (a peer silent for the whole idle time has no request in
    /// flight to protect, and lingering would hold its server slot longer), and on TLS
    /// no close_notify. The error, not EOF, is what the reader and `drain()` /
    /// `wait_closed()` report from then on, so a handler can tell why.
    pub(super) fn idle_expired(&self, after: Duration) {
        tracing::debug!(peer = ?self.peername(), "closing an idle connection");
        self.timed_out(Error::TimedOut {
            operation: "idle",
            after,
        });
    }

    /// A time limit ended the connection: lost with `err`, the socket closed as
    /// `abort()` closes it (a FIN, not a reset: the peer was slow, not broken).
    pub(crate) fn timed_out(&self, err: Error) {
        let mut g = self.lock();
        self.end(&mut g, Err(err), Ending::Close);
    }

    /// Registers the reader for `resume_reading`; false while still paused.
    pub(super) fn park_paused_reader(&self, cx: &Context<'_>) -> bool {
        let mut g = self.lock();
        if !self.is_reading_paused() || self.is_closing() {
            return true;
        }
        g.wakers.read = Some(cx.waker().clone());
        false
    }

    /// A read error ends the connection (asyncio: fatal read error -> connection_lost).
    pub(super) fn read_failed(&self, e: io::Error) -> io::Error {
        let err = Error::from(e);
        let mut g = self.lock();
        self.connection_lost(&mut g, Err(err.clone()));
        err.into()
    }

    pub(super) fn event(&self, f: impl FnOnce(&Events)) {
        if let Some(events) = &self.events {
            f(events);
        }
    }
}

impl ReadFlow for Inner {
    fn pause_reading(&self) {
        if !self.is_closing() {
            self.reading_paused.store(true, Ordering::Release);
        }
    }

    fn resume_reading(&self) {
        if self.reading_paused.swap(false, Ordering::AcqRel)
            && let Some(w) = self.lock().wakers.read.take()
        {
            w.wake();
        }
    }
}

/// How a lost connection's descriptor closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// After an error: SO_LINGER 0, the peer sees a RST instead of a FIN.
    Reset,
    /// At once, after discarding input that arrived unread (`abort()`).
    Close,
    /// A graceful close: a server's socket lingers (half-closed, reading and dropping)
    /// before it closes; any other closes at once.
    Linger,
}

/// The error a failed send ends the connection with: the one the kernel reported for the
/// socket (a peer's reset) when there is one. A send after a reset fails with EPIPE on a
/// Unix socket (and on TCP once a read took the reset), which would hide why the
/// connection ended; asyncio, reading eagerly, would have met the reset itself.
fn send_error(socket: &Socket, e: io::Error) -> io::Error {
    socket.take_reported_error().unwrap_or(e)
}

fn register(wakers: &mut Vec<Waker>, cx: &Context<'_>) {
    if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
        wakers.push(cx.waker().clone());
    }
}

fn wake_all(wakers: &mut Vec<Waker>) {
    for w in wakers.drain(..) {
        w.wake();
    }
}
