//! The connection state shared by the transport handles, the reader and the flush task.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::Waker;

use super::events::Events;
use super::extra::Extra;
use super::io::{Socket, SocketSlot};
use crate::buffer::WriteQueue;
use crate::reader::shared::ReadFlow;
use crate::{Error, Feeder};

/// asyncio's `SSL_SHUTDOWN_TIMEOUT`.
const DEFAULT_SSL_SHUTDOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// After this many writes dropped on a lost connection, each one logs a warning (asyncio).
const WARN_AFTER_DROPPED_WRITES: usize = 5;

pub(crate) struct Inner {
    pub(crate) socket: SocketSlot,
    state: Mutex<State>,
    /// Fast-path flags read without the lock.
    pub(crate) has_queued: AtomicBool,
    pub(crate) closing: AtomicBool,
    pub(crate) reading_paused: AtomicBool,
    /// The reader fed on connection loss (asyncio's `connection_lost` -> reader).
    pub(crate) reader: OnceLock<Feeder>,
    pub(crate) events: OnceLock<Box<Events>>,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) extra: Extra,
    /// The reader saw the peer's close_notify (TLS).
    pub(crate) peer_closed: AtomicBool,
    /// `start_tls` is handshaking on the socket: plaintext writes must wait.
    pub(crate) upgrading: AtomicBool,
    /// How long a TLS close may take to send close_notify (asyncio's default: 30 s).
    pub(crate) ssl_shutdown_timeout: OnceLock<std::time::Duration>,
    /// Run once when the connection is lost (a server's connection tracking).
    pub(crate) on_lost: OnceLock<Box<dyn Fn() + Send + Sync>>,
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

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) queue: WriteQueue,
    pub(crate) eof_requested: bool,
    pub(crate) eof_sent: bool,
    /// `Some` once the connection is gone: `Ok` after a clean close, `Err` after an error.
    /// (The error is boxed: every connection carries this slot.)
    pub(crate) lost: Option<Result<(), Box<Error>>>,
    dropped_writes: usize,
    pub(crate) flush_task: bool,
    pub(crate) flush_waker: Option<Waker>,
    pub(crate) read_waker: Option<Waker>,
    /// `drain()`/`flush` callers waiting for the queue to shrink or the connection to end.
    drain_wakers: Vec<Waker>,
    /// `wait_closed()` callers (a waker list, not a `Notify`: it keeps each waiting
    /// future small, which matters for idle connections).
    closed_wakers: Vec<Waker>,
    /// Inside `write()`: the queue went above the high mark, not yet told to the protocol.
    pause_unannounced: bool,
}

impl State {
    /// The connection's end as the public API reports it.
    pub(crate) fn outcome(lost: &Result<(), Box<Error>>) -> Result<(), Error> {
        lost.as_ref().map_err(|e| (**e).clone()).copied()
    }
}

impl Inner {
    pub(crate) fn new(socket: Socket, extra: Extra, runtime: tokio::runtime::Handle) -> Self {
        Inner {
            socket: SocketSlot::new(socket),
            state: Mutex::default(),
            has_queued: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            reading_paused: AtomicBool::new(false),
            reader: OnceLock::new(),
            events: OnceLock::new(),
            runtime,
            extra,
            on_lost: OnceLock::new(),
            upgrading: AtomicBool::new(false),
            peer_closed: AtomicBool::new(false),
            ssl_shutdown_timeout: OnceLock::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Queues bytes; see `Transport::write` for the rules.
    ///
    /// `data` is what `push` queues. When it answers the last request (see below) and
    /// the socket takes it at once, it is sent straight from the caller's buffer and never
    /// queued; `push` then gets it back with how many bytes the socket already took, and
    /// queues the rest.
    pub(crate) fn write_with<D: AsRef<[u8]>>(
        self: &std::sync::Arc<Self>,
        method: &'static str,
        data: D,
        push: impl FnOnce(&mut WriteQueue, D, usize) -> bool,
    ) -> Result<(), Error> {
        let mut st = self.lock();
        if st.eof_requested {
            return Err(Error::InvalidState(method));
        }
        if st.lost.is_some() || (self.is_closing() && st.queue.is_empty()) {
            st.dropped_writes += 1;
            if st.dropped_writes >= WARN_AFTER_DROPPED_WRITES {
                tracing::warn!("socket.send() raised exception.");
            }
            return Ok(());
        }
        let was_empty = st.queue.is_empty();
        // A reader with nothing left to parse means this answers the last request: send
        // now (no task hop, lowest latency). With requests still buffered, wait so the
        // answers to all of them leave together when the reader next pulls.
        let send_now = was_empty && self.reader_is_drained();
        // Sent straight from `data` (at most the high mark, so that whatever is left
        // cannot pause the protocol, as it could not when queued first): `Some(n)` once
        // tried, `n` bytes taken, and the socket would block if `n` is short.
        let mut sent_directly = None;
        let bytes = data.as_ref();
        if send_now && !bytes.is_empty() && bytes.len() <= st.queue.limits().1 {
            sent_directly = self.send_directly(&mut st, bytes);
            if sent_directly == Some(bytes.len()) || st.lost.is_some() {
                return Ok(());
            }
        }
        // asyncio sends first and compares only what is left with the high mark: a write
        // the kernel takes at once must neither pause nor resume the protocol.
        st.pause_unannounced = push(&mut st.queue, data, sent_directly.unwrap_or(0));
        if was_empty && !st.queue.is_empty() {
            let all_sent = send_now && sent_directly.is_none() && self.flush_now(&mut st);
            if !all_sent && st.lost.is_none() {
                if !st.queue.is_empty() {
                    self.has_queued.store(true, Ordering::Release);
                }
                super::flush::kick(self, &mut st);
            }
        }
        if std::mem::take(&mut st.pause_unannounced) && st.queue.is_paused() {
            self.event(|e| e.pause_writing());
        }
        Ok(())
    }

    /// Sends from the caller's buffer, with nothing queued: no copy into the queue, and
    /// one `send` rather than a `writev`. Returns how many bytes the socket took before it
    /// would block (all of them after an error, which loses the connection), or `None`
    /// when the bytes must go through the queue (TLS, or `start_tls` handshaking).
    fn send_directly(&self, st: &mut State, data: &[u8]) -> Option<usize> {
        let guard = self.socket.get();
        let socket = guard.as_ref()?;
        if socket.is_tls() || self.upgrading.load(Ordering::Acquire) {
            return None;
        }
        let mut sent = 0;
        while sent < data.len() {
            match socket.try_write(&data[sent..]) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let e = send_error(socket, e);
                    drop(guard);
                    self.connection_lost(st, Err(e.into()));
                    return Some(data.len());
                }
            }
        }
        Some(sent)
    }

    fn reader_is_drained(&self) -> bool {
        self.reader.get().is_none_or(|r| r.shared().is_drained())
    }

    /// Sends as much of the queue as the socket takes now, without waiting.
    ///
    /// Returns false when the socket would block with bytes left.
    pub(crate) fn flush_now(&self, st: &mut State) -> bool {
        let guard = self.socket.get();
        let Some(socket) = guard.as_ref() else {
            return true;
        };
        if self.upgrading.load(Ordering::Acquire) {
            return false;
        }
        while !st.queue.is_empty() {
            match st
                .queue
                .with_slices(|slices| socket.try_write_vectored(slices))
            {
                Ok(n) => self.sent(st, n),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let e = send_error(socket, e);
                    drop(guard);
                    self.connection_lost(st, Err(e.into()));
                    return true;
                }
            }
        }
        match socket.try_flush_output() {
            Ok(all_sent) => all_sent,
            Err(e) => {
                drop(guard);
                self.connection_lost(st, Err(e.into()));
                true
            }
        }
    }

    pub(crate) fn socket_is_tls(&self) -> bool {
        self.socket.get().as_ref().is_some_and(Socket::is_tls)
    }

    pub(crate) fn ssl_shutdown_timeout(&self) -> std::time::Duration {
        *self
            .ssl_shutdown_timeout
            .get()
            .unwrap_or(&DEFAULT_SSL_SHUTDOWN_TIMEOUT)
    }

    fn sent(&self, st: &mut State, n: usize) {
        let resumed = st.queue.advance(n);
        if resumed && !std::mem::take(&mut st.pause_unannounced) {
            self.event(|e| e.resume_writing());
        }
        if st.queue.is_empty() {
            self.has_queued.store(false, Ordering::Release);
        }
        if resumed || st.queue.is_empty() {
            wake_all(&mut st.drain_wakers);
        }
    }

    /// Waits until the queue is at or below the low mark (`until_empty`: empty).
    ///
    /// asyncio's drain rules: after the connection is gone, a caller that was already
    /// waiting gets the outcome (`Ok` after a clean close or abort); a new caller gets
    /// [`Error::ConnectionLost`].
    pub(crate) fn poll_drain(
        &self,
        cx: &mut std::task::Context<'_>,
        waited: &mut bool,
        until_empty: bool,
    ) -> std::task::Poll<Result<(), Error>> {
        use std::task::Poll;
        // Nothing queued on an open connection (the common case): done, without the lock,
        // unless the reactor reported a reset. (`has_queued` is cleared after `closing` is
        // set when the connection is lost, so a connection seen open here was not lost
        // before this call.)
        if !self.has_queued.load(Ordering::Acquire) && !self.is_closing() {
            return Poll::Ready(self.check_reported_error());
        }
        let mut st = self.lock();
        for attempt in 0..2 {
            match &st.lost {
                Some(outcome) if *waited => return Poll::Ready(State::outcome(outcome)),
                Some(_) => return Poll::Ready(Err(Error::ConnectionLost)),
                None => {}
            }
            let done = if until_empty {
                st.queue.is_empty()
            } else {
                !st.queue.is_paused()
            };
            if done {
                return Poll::Ready(Ok(()));
            }
            if attempt == 0 {
                self.flush_now(&mut st);
            }
        }
        if !st.drain_wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.drain_wakers.push(cx.waker().clone());
        }
        *waited = true;
        Poll::Pending
    }

    /// A socket error (a peer's reset) the reactor already saw ends the connection as a
    /// failed read would (asyncio reads eagerly and would have seen it): the reader keeps
    /// the error for its next read. No system call unless the error was reported.
    fn check_reported_error(&self) -> Result<(), Error> {
        let reported = self
            .socket
            .get()
            .as_ref()
            .and_then(Socket::take_reported_error);
        let Some(err) = reported else {
            return Ok(());
        };
        let err = Error::from(err);
        let mut st = self.lock();
        self.connection_lost(&mut st, Err(err.clone()));
        Err(err)
    }

    /// Makes sure pending output will be sent by the flush task.
    pub(crate) fn kick_flush(self: &std::sync::Arc<Self>) {
        let mut st = self.lock();
        if st.lost.is_none() {
            super::flush::kick(self, &mut st);
        }
    }

    /// Waits until the connection is lost; the outcome, every time.
    pub(crate) fn poll_closed(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        let mut st = self.lock();
        if let Some(lost) = &st.lost {
            return std::task::Poll::Ready(State::outcome(lost));
        }
        if !st.closed_wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.closed_wakers.push(cx.waker().clone());
        }
        std::task::Poll::Pending
    }

    /// Sends the queued bytes the reader would otherwise leave for the flush task.
    pub(crate) fn flush_before_read(&self) {
        if self.has_queued.load(Ordering::Acquire) {
            let mut st = self.lock();
            if st.lost.is_none() {
                self.flush_now(&mut st);
            }
        }
    }

    /// Ends the connection (asyncio's `connection_lost`): closes the descriptor, tells
    /// the reader (EOF, or the error), and wakes `drain()` and `wait_closed()`.
    pub(crate) fn connection_lost(&self, st: &mut State, outcome: Result<(), Error>) {
        let reset = outcome.is_err();
        self.end(st, outcome, reset);
    }

    /// `connection_lost` with the choice of how the descriptor closes: `reset` sends a
    /// RST (SO_LINGER 0) instead of a FIN.
    fn end(&self, st: &mut State, outcome: Result<(), Error>, reset: bool) {
        if st.lost.is_some() {
            return;
        }
        self.closing.store(true, Ordering::Release);
        st.queue.clear();
        self.has_queued.store(false, Ordering::Release);
        self.socket.close(reset);
        if let Some(reader) = self.reader.get() {
            match &outcome {
                Ok(()) => reader.feed_eof(),
                Err(err) => reader.set_exception(err.clone()),
            }
        }
        self.event(|e| e.connection_lost(outcome.clone().err()));
        st.lost = Some(outcome.map_err(Box::new));
        if let Some(w) = st.flush_waker.take() {
            w.wake();
        }
        if let Some(w) = st.read_waker.take() {
            w.wake();
        }
        wake_all(&mut st.drain_wakers);
        wake_all(&mut st.closed_wakers);
        if let Some(hook) = self.on_lost.get() {
            hook();
        }
    }

    /// asyncio `close()`: stop reading, flush, then close.
    pub(crate) fn close(self: &std::sync::Arc<Self>) {
        let mut st = self.lock();
        if self.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(w) = st.read_waker.take() {
            w.wake();
        }
        if st.queue.is_empty() && !self.socket_is_tls() {
            self.connection_lost(&mut st, Ok(()));
        } else {
            super::flush::kick(self, &mut st);
        }
    }

    /// asyncio `abort()`: drop the queue, close at once. As asyncio's, it closes without
    /// SO_LINGER 0: the peer sees EOF after what was already sent (input that arrived
    /// unread is discarded first, as for a graceful close, so that it causes no reset).
    pub(crate) fn abort(&self) {
        let mut st = self.lock();
        self.closing.store(true, Ordering::Release);
        self.end(&mut st, Ok(()), false);
    }

    /// asyncio `write_eof()`: shut down the write side once the queue is sent.
    pub(crate) fn write_eof(self: &std::sync::Arc<Self>) {
        let mut st = self.lock();
        if self.is_closing() || st.eof_requested {
            return;
        }
        st.eof_requested = true;
        if st.queue.is_empty() {
            self.send_eof(&mut st);
            if self.socket_is_tls() {
                super::flush::kick(self, &mut st);
            }
        }
    }

    /// The reader reached EOF on a TLS session: if we already sent close_notify too,
    /// the session is over and the connection closes.
    pub(crate) fn tls_peer_closed(self: &std::sync::Arc<Self>) {
        self.peer_closed.store(true, Ordering::Release);
        let eof_sent = self.lock().eof_sent;
        if eof_sent {
            self.close();
        }
    }

    pub(crate) fn send_eof(&self, st: &mut State) {
        if st.eof_sent {
            return;
        }
        st.eof_sent = true;
        if self.peer_closed.load(Ordering::Acquire) && self.socket_is_tls() {
            // Both sides sent close_notify: the TLS session is over, close (asyncio
            // tears a TLS connection down at the peer's close_notify).
            self.closing.store(true, Ordering::Release);
        }
        let guard = self.socket.get();
        let result = guard
            .as_ref()
            .map(|s| s.shutdown_write().map_err(|e| send_error(s, e)));
        drop(guard);
        if let Some(Err(e)) = result {
            self.connection_lost(st, Err(e.into()));
        }
    }

    pub(crate) fn event(&self, f: impl FnOnce(&Events)) {
        if let Some(events) = self.events.get() {
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
            && let Some(w) = self.lock().read_waker.take()
        {
            w.wake();
        }
    }
}

/// The error a failed send ends the connection with: the one the kernel reported for the
/// socket (a peer's reset) when there is one. A send after a reset fails with EPIPE on a
/// Unix socket (and on TCP once a read took the reset), which would hide why the
/// connection ended; asyncio, reading eagerly, would have met the reset itself.
fn send_error(socket: &Socket, e: std::io::Error) -> std::io::Error {
    socket.take_reported_error().unwrap_or(e)
}

fn wake_all(wakers: &mut Vec<Waker>) {
    for w in wakers.drain(..) {
        w.wake();
    }
}
