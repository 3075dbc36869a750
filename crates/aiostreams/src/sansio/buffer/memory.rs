//! The allocation behind a [`ReadBuffer`]: one spare receive buffer per thread, how much
//! a pull may read and where it appends, and giving a drained buffer's memory up.

use std::cell::Cell;

use bytes::BytesMut;

use super::{MAX_PULL, RETAIN_CAPACITY, ReadBuffer};

thread_local! {
    /// At most one empty receive buffer per thread, left by a reader that started to
    /// wait and taken by the next reader that pulls on this thread. Readers waiting for
    /// input then hold no allocation, while request/response traffic reuses one buffer
    /// instead of going through the allocator twice per request (a 4 KiB block is above
    /// what malloc caches per thread). The spare is empty; if an application still holds
    /// bytes split off its allocation, the reader's next `reserve` sees that and
    /// allocates as it would have anyway.
    static SPARE: Cell<Option<BytesMut>> = const { Cell::new(None) };
}

impl ReadBuffer {
    /// Frees a large allocation once nothing is buffered, so an idle reader stays small.
    pub(crate) fn release_if_drained(&mut self) {
        if self.data.is_empty() && self.data.capacity() > RETAIN_CAPACITY {
            self.data = BytesMut::new();
        }
    }

    /// Gives up the allocation whenever nothing is buffered (before waiting for input).
    ///
    /// It becomes this thread's spare (see [`SPARE`]) unless larger than
    /// [`RETAIN_CAPACITY`]: the reader holds nothing while it waits, yet a busy
    /// connection does not allocate and free a buffer for every request.
    #[inline]
    pub(crate) fn release_if_empty(&mut self) {
        if self.is_empty() && self.data.capacity() > 0 {
            let buf = std::mem::take(&mut self.data);
            if buf.capacity() <= RETAIN_CAPACITY {
                // Fails only while the thread exits: the buffer is then simply dropped.
                let _ = SPARE.try_with(|spare| spare.set(Some(buf)));
            }
        }
    }

    /// The buffer a pull appends to (thawed). A buffer without an allocation takes this
    /// thread's spare only when the source has bytes for it ([`reserve_pull`]): a pull
    /// that finds nothing (every request's first pull) then leaves the spare alone
    /// instead of taking it and giving it back (about 40 instructions per request).
    #[inline]
    pub(crate) fn pull_target(&mut self) -> &mut BytesMut {
        self.thaw();
        &mut self.data
    }

    /// How many bytes the next pull from a source may read, for a read that needs
    /// `need` more.
    ///
    /// The buffer may grow to `2 * limit` (asyncio's pause threshold) on its own; a read
    /// that needs more (`readexactly(n)`, `read_to_eof`) may take what it needs. Never
    /// more than [`MAX_PULL`] at once, so a hostile `readexactly(huge)` reserves memory
    /// only as bytes arrive.
    #[inline]
    pub(crate) fn pull_window(&self, need: usize) -> usize {
        let room = (2 * self.limit).saturating_sub(self.ready.len() + self.data.len());
        room.max(need).clamp(1, MAX_PULL)
    }
}

/// Makes room in a pull's buffer for `window` more bytes; sources call it once they
/// have bytes to append.
///
/// A buffer without an allocation first takes this thread's spare (see [`SPARE`]), if
/// any; otherwise it gets room for two windows (at most [`RETAIN_CAPACITY`]): each
/// record handed out takes its bytes off the front of the allocation, and with a second
/// window behind them the next pulls still fit, so `BytesMut::reserve` moves the buffer
/// back to the start of its allocation every few requests instead of on every one
/// (about 70 instructions per request of a 1 KiB echo, callgrind). A reader waiting
/// with nothing buffered still gives the allocation up
/// ([`ReadBuffer::release_if_empty`]): idle connections hold none.
#[inline]
pub(crate) fn reserve_pull(buf: &mut BytesMut, window: usize) {
    if buf.capacity() == 0
        && let Ok(Some(spare)) = SPARE.try_with(Cell::take)
    {
        *buf = spare;
    }
    if buf.capacity() - buf.len() < window {
        grow_for_pull(buf, window);
    }
}

#[inline(never)]
fn grow_for_pull(buf: &mut BytesMut, window: usize) {
    let room = if buf.capacity() == 0 {
        window.saturating_mul(2).min(RETAIN_CAPACITY).max(window)
    } else {
        window
    };
    buf.reserve(room);
}
