//! State a reader shares with its feeders: fed bytes, EOF, the stored exception, the waker.
//!
//! The reader's own buffer is not here: it is owned by the reader and touched without a
//! lock. Bytes fed from another task wait in the inbox until the reader's next step moves
//! them over (one atomic load when nothing was fed).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Waker};

use bytes::BytesMut;

use crate::Error;

#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The inbox holds bytes or EOF the reader has not taken yet.
    pending: AtomicBool,
    /// An exception is stored (checked by every read before anything else).
    has_exception: AtomicBool,
    inbox: Mutex<Inbox>,
}

#[derive(Debug, Default)]
pub(crate) struct Inbox {
    pub(crate) data: BytesMut,
    /// EOF was fed through a feeder; sticky, so later feeds are refused.
    pub(crate) eof: bool,
    /// EOF was fed and the reader has not taken it yet.
    pub(crate) eof_pending: bool,
    exception: Option<Error>,
    waker: Option<Waker>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inbox> {
        // A panic while the lock was held cannot leave the inbox inconsistent.
        self.inbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    pub(crate) fn exception(&self) -> Option<Error> {
        if !self.has_exception.load(Ordering::Acquire) {
            return None;
        }
        self.lock().exception.clone()
    }

    pub(crate) fn set_exception(&self, err: Error) {
        let mut inbox = self.lock();
        inbox.exception = Some(err);
        self.has_exception.store(true, Ordering::Release);
        wake(inbox);
    }

    pub(crate) fn clear_exception(&self) {
        let mut inbox = self.lock();
        inbox.exception = None;
        self.has_exception.store(false, Ordering::Release);
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
        self.pending.store(true, Ordering::Release);
        wake(inbox);
        Ok(())
    }

    pub(crate) fn feed_eof(&self) {
        let mut inbox = self.lock();
        if !inbox.eof {
            inbox.eof = true;
            inbox.eof_pending = true;
            self.pending.store(true, Ordering::Release);
        }
        wake(inbox);
    }

    /// Takes what was fed: `(bytes, eof)`. Call only when `has_pending()`.
    pub(crate) fn take_pending(&self) -> (BytesMut, bool) {
        let mut inbox = self.lock();
        self.pending.store(false, Ordering::Release);
        let eof = std::mem::take(&mut inbox.eof_pending);
        (std::mem::take(&mut inbox.data), eof)
    }

    /// Marks EOF as seen by the reader itself (from its source), refusing later feeds.
    pub(crate) fn mark_eof(&self) {
        self.lock().eof = true;
    }

    /// Registers the reader's waker; returns false if something arrived meanwhile.
    pub(crate) fn park(&self, cx: &Context<'_>) -> bool {
        let mut inbox = self.lock();
        if self.has_pending() || self.has_exception.load(Ordering::Acquire) {
            return false;
        }
        match &inbox.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => inbox.waker = Some(cx.waker().clone()),
        }
        true
    }
}

fn wake(mut inbox: MutexGuard<'_, Inbox>) {
    let waker = inbox.waker.take();
    drop(inbox);
    if let Some(w) = waker {
        w.wake();
    }
}
