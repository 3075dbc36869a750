//! State a reader shares with its feeders: fed bytes, EOF, the stored exception, the waker.
//!
//! The reader's own buffer is not here: it is owned by the reader and touched without a
//! lock. Bytes fed from another task wait in the inbox until the reader's next step moves
//! them over (one atomic load when nothing was fed).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Waker};

use bytes::BytesMut;

use crate::Error;
use crate::sansio::{pause_needed, resume_allowed};

/// `Shared::flags`: the inbox holds bytes or EOF the reader has not taken yet.
const PENDING: u8 = 1;
/// `Shared::flags`: an exception is stored (checked by every read before anything else).
const EXCEPTION: u8 = 2;

/// The transport a fed reader pauses and resumes (asyncio's `StreamReader._transport`).
pub(crate) trait ReadFlow: Send + Sync + std::fmt::Debug {
    fn pause_reading(&self);
    fn resume_reading(&self);
}

/// Flow control of a fed reader: pause the transport above `2 * limit` buffered bytes,
/// resume at `limit` or below, and always before waiting (spec 3.3, 3.9).
#[derive(Debug)]
pub(crate) struct Flow {
    transport: Arc<dyn ReadFlow>,
    limit: usize,
    paused: AtomicBool,
    /// Bytes in the reader's own buffer, published by the reader for the feeders.
    local_len: AtomicUsize,
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) flow: OnceLock<Box<Flow>>,
    /// Bytes in the reader's own buffer after its last read (a hint for the writer: a
    /// reader with nothing left to parse is answering its last request).
    pub(crate) buffered: AtomicUsize,
    /// [`PENDING`] and [`EXCEPTION`]: one byte, so that a read the buffer answers
    /// checks both with one load. Written only under the inbox lock
    /// ([`set_flag`](Self::set_flag)), read without it.
    flags: AtomicU8,
    /// The reader's own note, touched by no feeder: the window of its last pull that
    /// found nothing, which a woken read pulls again (`StreamReader::poll_op`). Kept
    /// here, in this allocation's padding, as the reader has no room left (112 bytes).
    pub(crate) wait_window: AtomicU32,
    /// The waker `park` left in the inbox, as its (data, vtable) addresses; data 0 once
    /// a feeder took it. `park` reads it without the lock: a reader that waits again in
    /// the same task (every request of a connection) then takes no lock.
    parked: ParkedWaker,
    inbox: Mutex<Inbox>,
}

/// Which waker the inbox holds (see [`Shared::park`]). Only the reader stores a non-zero
/// value (under the inbox lock); a feeder that takes the waker stores zero.
#[derive(Debug, Default)]
struct ParkedWaker {
    data: AtomicUsize,
    vtable: AtomicUsize,
}

impl ParkedWaker {
    fn addresses(waker: &Waker) -> (usize, usize) {
        (
            waker.data().addr(),
            std::ptr::from_ref(waker.vtable()).addr(),
        )
    }

    /// The inbox holds a waker that wakes the same task as `waker` (`Waker::will_wake`:
    /// same data and vtable).
    #[inline]
    fn holds(&self, waker: &Waker) -> bool {
        let (data, vtable) = Self::addresses(waker);
        data != 0
            && self.data.load(Ordering::Acquire) == data
            && self.vtable.load(Ordering::Relaxed) == vtable
    }
}

#[derive(Debug, Default)]
pub(crate) struct Inbox {
    pub(crate) data: BytesMut,
    /// EOF was fed through a feeder; sticky, so later feeds are refused.
    pub(crate) eof: bool,
    /// EOF was fed and the reader has not taken it yet.
    pub(crate) eof_pending: bool,
    /// (Boxed: every reader carries this slot; an exception is rare.)
    exception: Option<Box<Error>>,
    waker: Option<Waker>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inbox> {
        // A panic while the lock was held cannot leave the inbox inconsistent.
        self.inbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets or clears `bit` of `flags`; the guard proves the inbox lock is held, so a
    /// load and a store suffice (no other writer can come in between).
    fn set_flag(&self, _inbox: &MutexGuard<'_, Inbox>, bit: u8, on: bool) {
        let flags = self.flags.load(Ordering::Relaxed);
        let flags = if on { flags | bit } else { flags & !bit };
        self.flags.store(flags, Ordering::Release);
    }

    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        self.flags.load(Ordering::Acquire) & PENDING != 0
    }

    /// True when the reader has consumed everything it received (the hint above).
    pub(crate) fn is_drained(&self) -> bool {
        self.buffered.load(Ordering::Relaxed) == 0 && !self.has_pending()
    }

    /// True when nothing fed waits in the inbox and no exception is stored: a read may
    /// then complete from the reader's own buffer alone.
    #[inline]
    pub(crate) fn is_quiet(&self) -> bool {
        self.flags.load(Ordering::Acquire) & (PENDING | EXCEPTION) == 0
    }

    /// True when an exception is stored (one load).
    #[inline]
    pub(crate) fn has_exception(&self) -> bool {
        self.flags.load(Ordering::Acquire) & EXCEPTION != 0
    }

    /// Checked before every read step: inlined, so that "none" costs one load.
    #[inline]
    pub(crate) fn exception(&self) -> Option<Error> {
        if !self.has_exception() {
            return None;
        }
        self.stored_exception()
    }

    #[cold]
    fn stored_exception(&self) -> Option<Error> {
        self.lock().exception.as_deref().cloned()
    }

    pub(crate) fn set_exception(&self, err: Error) {
        let mut inbox = self.lock();
        inbox.exception = Some(Box::new(err));
        self.set_flag(&inbox, EXCEPTION, true);
        self.wake(inbox);
    }

    pub(crate) fn clear_exception(&self) {
        let mut inbox = self.lock();
        inbox.exception = None;
        self.set_flag(&inbox, EXCEPTION, false);
    }

    /// Appends fed bytes; refused after EOF (asyncio asserts, even for empty data).
    pub(crate) fn feed_data(&self, bytes: &[u8]) -> Result<(), Error> {
        let mut inbox = self.lock();
        if inbox.eof {
            return Err(Error::FeedAfterEof);
        }
        if bytes.is_empty() {
            return Ok(());
        }
        inbox.data.extend_from_slice(bytes);
        self.set_flag(&inbox, PENDING, true);
        // Pause before the reader can see these bytes: a reader woken first could find
        // the transport not yet paused, decide to wait, and then wait forever once paused.
        if let Some(flow) = self.flow.get() {
            flow.after_feed(inbox.data.len());
        }
        self.wake(inbox);
        Ok(())
    }

    /// Links the transport to pause (asyncio `set_transport`); false if already linked.
    pub(crate) fn set_flow(&self, transport: Arc<dyn ReadFlow>, limit: usize) -> bool {
        self.flow
            .set(Box::new(Flow {
                transport,
                limit,
                paused: AtomicBool::new(false),
                local_len: AtomicUsize::new(0),
            }))
            .is_ok()
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.flow
            .get()
            .is_some_and(|f| f.paused.load(Ordering::Acquire))
    }

    pub(crate) fn feed_eof(&self) {
        let mut inbox = self.lock();
        if !inbox.eof {
            inbox.eof = true;
            inbox.eof_pending = true;
            self.set_flag(&inbox, PENDING, true);
        }
        self.wake(inbox);
    }

    /// Takes what was fed: `(bytes, eof)`. Call only when `has_pending()`.
    pub(crate) fn take_pending(&self) -> (BytesMut, bool) {
        let mut inbox = self.lock();
        self.set_flag(&inbox, PENDING, false);
        let eof = std::mem::take(&mut inbox.eof_pending);
        (std::mem::take(&mut inbox.data), eof)
    }

    /// Marks EOF as seen by the reader itself (from its source), refusing later feeds.
    pub(crate) fn mark_eof(&self) {
        self.lock().eof = true;
    }

    /// Registers the reader's waker; returns false if something arrived meanwhile.
    ///
    /// Without the lock when the inbox still holds this task's waker: whatever a feeder
    /// does from then on (bytes, EOF, an exception) it does under the lock before it
    /// takes that waker and wakes this task, so checking `pending` and the exception
    /// after seeing the waker there is enough (one is seen, or the wake-up comes).
    /// (Inlined to that check: the lock and the waker's clone are out of line.)
    #[inline]
    pub(crate) fn park(&self, cx: &Context<'_>) -> bool {
        if self.parked.holds(cx.waker()) {
            return self.is_quiet();
        }
        self.park_locked(cx)
    }

    #[inline(never)]
    fn park_locked(&self, cx: &Context<'_>) -> bool {
        let mut inbox = self.lock();
        if !self.is_quiet() {
            return false;
        }
        match &inbox.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => inbox.waker = Some(cx.waker().clone()),
        }
        let (data, vtable) = ParkedWaker::addresses(cx.waker());
        self.parked.vtable.store(vtable, Ordering::Relaxed);
        self.parked.data.store(data, Ordering::Release);
        true
    }

    /// Takes the reader's waker out of the inbox and wakes it after the lock is gone.
    fn wake(&self, mut inbox: MutexGuard<'_, Inbox>) {
        let waker = inbox.waker.take();
        self.parked.data.store(0, Ordering::Release);
        drop(inbox);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Flow {
    pub(crate) fn transport(&self) -> &dyn ReadFlow {
        &*self.transport
    }

    fn after_feed(&self, inbox_len: usize) {
        let total = inbox_len + self.local_len.load(Ordering::Acquire);
        if pause_needed(total, self.limit) && !self.paused.swap(true, Ordering::AcqRel) {
            self.transport.pause_reading();
        }
    }

    /// Called by the reader after it consumed bytes (`waiting`: it is about to wait).
    pub(crate) fn after_read(&self, local_len: usize, inbox_len: usize, waiting: bool) {
        self.local_len.store(local_len, Ordering::Release);
        if !self.paused.load(Ordering::Acquire) {
            return;
        }
        if (waiting || resume_allowed(local_len + inbox_len, self.limit))
            && self.paused.swap(false, Ordering::AcqRel)
        {
            self.transport.resume_reading();
        }
    }
}
