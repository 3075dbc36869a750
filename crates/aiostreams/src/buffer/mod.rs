//! The sans-I/O core of the reader: the receive buffer, EOF, and separator search.
//!
//! Nothing here touches tokio or a socket, so the read rules are tested synchronously.
//! Each `try_*` method either completes (and only then removes bytes) or says that it
//! needs more input; the async reader loops on them.

mod search;
mod write_queue;

use std::cell::Cell;

use bytes::{Bytes, BytesMut};

pub(crate) use search::{Found, Separators};
pub use write_queue::DEFAULT_HIGH_WATER;
pub(crate) use write_queue::{WriteQueue, resolve_limits};

use crate::Error;

/// Capacity kept after the buffer is drained; a larger allocation is released.
pub(crate) const RETAIN_CAPACITY: usize = 64 * 1024;

/// The largest number of bytes a single pull from the source may read.
pub(crate) const MAX_PULL: usize = 64 * 1024;

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

/// Received bytes not yet returned to the application, plus the EOF mark.
#[derive(Debug, Default)]
pub(crate) struct RecvBuffer {
    pub(crate) data: BytesMut,
    pub(crate) eof: bool,
}

/// The outcome of one attempt to complete a read from the buffer alone.
pub(crate) enum Step<T> {
    Done(Result<T, Error>),
    NeedMore,
}

impl RecvBuffer {
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// Appends received bytes; the caller has checked EOF.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
    }

    /// Appends a chunk, taking it over without a copy when the buffer is empty.
    pub(crate) fn append(&mut self, chunk: BytesMut) {
        if self.data.is_empty() {
            self.data = chunk;
        } else {
            self.data.unsplit(chunk);
        }
    }

    /// Removes and returns the first `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        let out = self.data.split_to(n).freeze();
        self.release_if_drained();
        out
    }

    /// Drops the first `n` bytes.
    pub(crate) fn discard(&mut self, n: usize) {
        bytes::Buf::advance(&mut self.data, n);
        self.release_if_drained();
    }

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
    pub(crate) fn release_if_empty(&mut self) {
        if self.data.is_empty() && self.data.capacity() > 0 {
            let buf = std::mem::take(&mut self.data);
            if buf.capacity() <= RETAIN_CAPACITY {
                // Fails only while the thread exits: the buffer is then simply dropped.
                let _ = SPARE.try_with(|spare| spare.set(Some(buf)));
            }
        }
    }

    /// Before a pull: a buffer without an allocation takes this thread's spare, if any.
    pub(crate) fn reuse_spare(&mut self) {
        if self.data.capacity() == 0 {
            if let Ok(Some(spare)) = SPARE.try_with(Cell::take) {
                self.data = spare;
            }
        }
    }

    /// asyncio `read(n)` for `n > 0`: up to `n` bytes, as soon as any are there.
    pub(crate) fn try_read(&mut self, n: usize) -> Step<Bytes> {
        if !self.data.is_empty() {
            let k = n.min(self.data.len());
            Step::Done(Ok(self.take(k)))
        } else if self.eof {
            Step::Done(Ok(Bytes::new()))
        } else {
            Step::NeedMore
        }
    }

    /// asyncio `read(-1)`: everything up to EOF, and nothing before it.
    pub(crate) fn try_read_to_eof(&mut self) -> Step<Bytes> {
        if self.eof {
            let n = self.data.len();
            Step::Done(Ok(self.take(n)))
        } else {
            Step::NeedMore
        }
    }

    /// asyncio `readexactly(n)`.
    pub(crate) fn try_readexactly(&mut self, n: usize) -> Step<Bytes> {
        if self.data.len() >= n {
            Step::Done(Ok(self.take(n)))
        } else if self.eof {
            let partial = self.take(self.data.len());
            Step::Done(Err(Error::IncompleteRead {
                partial,
                expected: Some(n),
            }))
        } else {
            Step::NeedMore
        }
    }

    /// asyncio `readuntil(separators)`, resuming the search at `*offset`.
    pub(crate) fn try_readuntil(
        &mut self,
        seps: &Separators<'_>,
        offset: &mut usize,
        limit: usize,
    ) -> Step<Bytes> {
        if self.data.is_empty() && !self.eof {
            // Nothing to search yet (a reader about to wait for input).
            return Step::NeedMore;
        }
        match seps.search(&self.data, offset, limit) {
            Found::Record { end, .. } => Step::Done(Ok(self.take(end))),
            Found::Overrun {
                consumed,
                separator_found,
            } => Step::Done(Err(Error::LimitOverrun {
                consumed,
                separator_found,
            })),
            Found::NotYet if self.eof => {
                let partial = self.take(self.data.len());
                Step::Done(Err(Error::IncompleteRead {
                    partial,
                    expected: None,
                }))
            }
            Found::NotYet => Step::NeedMore,
        }
    }

    /// The common case of [`try_readline`](Self::try_readline): a whole line within the
    /// limit is buffered. It is taken as `try_readline` would take it; otherwise `None`,
    /// and the buffer is left as it was.
    pub(crate) fn take_line(&mut self, limit: usize) -> Option<Bytes> {
        let newline = memchr::memchr(b'\n', &self.data)?;
        (newline <= limit).then(|| self.take(newline + 1))
    }

    /// asyncio `readline()`: `readuntil(b"\n")` with its three conversions.
    pub(crate) fn try_readline(&mut self, offset: &mut usize, limit: usize) -> Step<Bytes> {
        let newline = Separators::one(b"\n").expect("non-empty separator");
        match self.try_readuntil(&newline, offset, limit) {
            // Spelled out: a catch-all arm copies the whole (large) value even for this bare
            // tag, a store-forwarding stall on every pull of a long line (benches/reader.rs).
            Step::NeedMore => Step::NeedMore,
            Step::Done(Err(Error::IncompleteRead { partial, .. })) => Step::Done(Ok(partial)),
            Step::Done(Err(err @ Error::LimitOverrun { consumed, .. })) => {
                if self.data.get(consumed) == Some(&b'\n') {
                    self.discard(consumed + 1);
                } else {
                    self.discard(self.data.len());
                }
                Step::Done(Err(err))
            }
            done => done,
        }
    }

    /// How many bytes the next pull from the source may read.
    ///
    /// The buffer may grow to `2 * limit` (asyncio's pause threshold) on its own; a read
    /// that needs more (`readexactly(n)`, `read_to_eof`) may take what it needs.
    pub(crate) fn pull_window(&self, limit: usize, need: usize) -> usize {
        let room = (2 * limit).saturating_sub(self.data.len());
        room.max(need).clamp(1, MAX_PULL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(bytes: &[u8], eof: bool) -> RecvBuffer {
        RecvBuffer {
            data: BytesMut::from(bytes),
            eof,
        }
    }

    fn done<T>(step: Step<T>) -> Result<T, Error> {
        match step {
            Step::Done(r) => r,
            Step::NeedMore => panic!("needed more input"),
        }
    }

    #[test]
    fn readline_drops_an_overlong_line_through_its_newline() {
        let mut b = buf(b"line1\nline2\n", false);
        assert!(done(b.try_readline(&mut 0, 3)).is_err());
        assert_eq!(&b.data[..], b"line2\n");
    }

    #[test]
    fn readline_clears_everything_when_no_newline_was_seen() {
        let mut b = buf(b"line1li", false);
        assert!(done(b.try_readline(&mut 0, 3)).is_err());
        assert!(b.data.is_empty());
    }

    #[test]
    fn take_line_takes_only_a_complete_line_within_the_limit() {
        let mut b = buf(b"abcd\nef", false);
        assert_eq!(b.take_line(3), None);
        assert_eq!(b.take_line(4).as_deref(), Some(&b"abcd\n"[..]));
        assert_eq!(b.take_line(4), None);
        assert_eq!(&b.data[..], b"ef");
    }

    #[test]
    fn limit_is_checked_before_eof() {
        let mut b = buf(b"abcdef", true);
        let err = done(b.try_readuntil(&Separators::one(b"\n").unwrap(), &mut 0, 3));
        assert!(matches!(err, Err(Error::LimitOverrun { consumed: 6, .. })));
        assert_eq!(&b.data[..], b"abcdef");
    }

    #[test]
    fn readexactly_at_eof_returns_the_partial_and_clears() {
        let mut b = buf(b"abc", true);
        let err = done(b.try_readexactly(5)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "3 bytes read on a total of 5 expected bytes"
        );
        assert!(b.data.is_empty());
    }

    #[test]
    fn a_waiting_reader_leaves_its_buffer_to_the_next_pull_on_the_thread() {
        let mut waiting = buf(b"", false);
        waiting.data.reserve(4096);
        waiting.release_if_empty();
        assert_eq!(
            waiting.data.capacity(),
            0,
            "a waiting reader holds no allocation"
        );
        let mut next = buf(b"", false);
        next.reuse_spare();
        assert!(next.data.capacity() >= 4096);
        let mut other = buf(b"", false);
        other.reuse_spare();
        assert_eq!(other.data.capacity(), 0, "one spare per thread");
        // A large allocation is freed, not kept.
        next.data.reserve(RETAIN_CAPACITY + 1);
        next.release_if_empty();
        other.reuse_spare();
        assert_eq!(other.data.capacity(), 0);
    }

    #[test]
    fn pull_window_respects_twice_the_limit_unless_a_read_needs_more() {
        let b = buf(b"abcd", false);
        assert_eq!(b.pull_window(4, 1), 4);
        assert_eq!(b.pull_window(2, 1), 1);
        assert_eq!(b.pull_window(2, 100), 100);
        assert_eq!(b.pull_window(1 << 20, 1), MAX_PULL);
    }
}
