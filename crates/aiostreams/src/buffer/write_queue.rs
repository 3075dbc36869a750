//! The outgoing queue with asyncio's write-buffer water marks (spec 7.2, 7.7).

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

use crate::Error;

/// asyncio's default high-water mark for socket transports.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// Writes up to this size are copied into a shared tail chunk, so many small writes
/// leave as one iovec entry.
const COALESCE: usize = 8 * 1024;

/// At most this many iovec entries per `writev`.
const MAX_IOVECS: usize = 64;

/// The largest tail allocation a drained queue leaves to its thread (see [`SPARE_TAIL`]).
const RETAIN_TAIL: usize = 64 * 1024;

thread_local! {
    /// At most one empty tail buffer per thread, left by a queue that drained and taken
    /// by the next queue that coalesces a write on this thread. An idle connection then
    /// holds no write buffer, while a busy one does not grow a fresh tail from nothing
    /// for every answer (five 100-byte lines cost a malloc and three reallocs).
    static SPARE_TAIL: Cell<Option<BytesMut>> = const { Cell::new(None) };
}

/// Bytes waiting to be sent, in order, with the pause/resume water marks.
#[derive(Debug)]
pub(crate) struct WriteQueue {
    chunks: VecDeque<Bytes>,
    tail: BytesMut,
    size: usize,
    high: usize,
    low: usize,
    paused: bool,
    /// The tail's view no longer starts at its allocation (a partial send or a seal
    /// moved it): it must be moved back before it is left to the thread.
    tail_moved: bool,
}

impl Default for WriteQueue {
    fn default() -> Self {
        WriteQueue {
            chunks: VecDeque::new(),
            tail: BytesMut::new(),
            size: 0,
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_HIGH_WATER / 4,
            paused: false,
            tail_moved: false,
        }
    }
}

/// asyncio's `set_write_buffer_limits` defaulting and validation: returns `(high, low)`.
pub(crate) fn resolve_limits(
    high: Option<usize>,
    low: Option<usize>,
) -> Result<(usize, usize), Error> {
    let (high, low) = match (high, low) {
        (None, None) => (DEFAULT_HIGH_WATER, DEFAULT_HIGH_WATER / 4),
        (None, Some(low)) => (low.saturating_mul(4), low),
        (Some(high), None) => (high, high / 4),
        (Some(high), Some(low)) => (high, low),
    };
    if high < low {
        return Err(Error::InvalidArgument("high must be >= low must be >= 0"));
    }
    Ok((high, low))
}

impl WriteQueue {
    pub(crate) fn len(&self) -> usize {
        self.size
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.size == 0
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// `(low, high)`, asyncio's `get_write_buffer_limits()` order.
    pub(crate) fn limits(&self) -> (usize, usize) {
        (self.low, self.high)
    }

    /// Sets the marks; returns true if the queue just became paused (size > high).
    pub(crate) fn set_limits(&mut self, high: usize, low: usize) -> bool {
        self.high = high;
        self.low = low;
        self.check_pause()
    }

    /// Whether a write of `len` bytes is copied into the queue (coalesced into its tail)
    /// rather than kept as its own chunk.
    pub(crate) fn copies(len: usize) -> bool {
        len <= COALESCE
    }

    /// Queues a copy of `data`; returns true if the queue just crossed the high mark.
    pub(crate) fn push(&mut self, data: &[u8]) -> bool {
        if data.is_empty() {
            return false;
        }
        if data.len() <= COALESCE {
            if self.tail.capacity() == 0
                && let Ok(Some(spare)) = SPARE_TAIL.try_with(Cell::take)
            {
                self.tail = spare;
            }
            self.tail.extend_from_slice(data);
        } else {
            self.seal_tail();
            self.chunks.push_back(Bytes::copy_from_slice(data));
        }
        self.size += data.len();
        self.check_pause()
    }

    /// Queues an owned chunk without copying it (unless it is small).
    pub(crate) fn push_bytes(&mut self, data: Bytes) -> bool {
        if Self::copies(data.len()) {
            return self.push(&data);
        }
        self.seal_tail();
        self.size += data.len();
        self.chunks.push_back(data);
        self.check_pause()
    }

    fn seal_tail(&mut self) {
        if !self.tail.is_empty() {
            self.chunks.push_back(self.tail.split().freeze());
            self.tail_moved = true;
        }
    }

    fn check_pause(&mut self) -> bool {
        if !self.paused && self.size > self.high {
            self.paused = true;
            return true;
        }
        false
    }

    /// The queued bytes when they are one buffer (small writes coalesced into the tail,
    /// the common case), for one `send` instead of a `writev` of one iovec.
    pub(crate) fn contiguous(&self) -> Option<&[u8]> {
        match (self.chunks.len(), self.tail.is_empty()) {
            (0, _) => Some(&self.tail),
            (1, true) => self.chunks.front().map(|c| &c[..]),
            _ => None,
        }
    }

    /// Calls `f` with the queued bytes in order as iovecs, for one `writev`.
    pub(crate) fn with_slices<R>(&self, f: impl FnOnce(&[IoSlice<'_>]) -> R) -> R {
        if self.chunks.is_empty() {
            // Small writes only (the common case): skip filling the array below.
            return f(&[IoSlice::new(&self.tail)]);
        }
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let mut n = 0;
        for chunk in self.chunks.iter().take(MAX_IOVECS - 1) {
            slices[n] = IoSlice::new(chunk);
            n += 1;
        }
        if n == self.chunks.len() && !self.tail.is_empty() {
            slices[n] = IoSlice::new(&self.tail);
            n += 1;
        }
        f(&slices[..n])
    }

    /// Drops `n` sent bytes; returns true if the queue just resumed (size <= low).
    pub(crate) fn advance(&mut self, mut n: usize) -> bool {
        self.size -= n;
        if self.size == 0 {
            // Everything left (the common case): the tail is emptied where it is.
            if !self.chunks.is_empty() {
                self.chunks.clear();
            }
            self.release_tail();
        }
        while self.size > 0 && n > 0 {
            match self.chunks.front_mut() {
                Some(front) if front.len() <= n => {
                    n -= front.len();
                    self.chunks.pop_front();
                }
                Some(front) => {
                    front.advance(n);
                    n = 0;
                }
                None => {
                    self.tail.advance(n);
                    self.tail_moved = true;
                    n = 0;
                }
            }
        }
        if self.paused && self.size <= self.low {
            self.paused = false;
            return true;
        }
        false
    }

    /// The queue is empty: an idle connection keeps no write buffer, its tail becomes
    /// the thread's spare. (A tail whose view moved is moved back to the start of its
    /// allocation first: asking `try_reclaim` for more than the view holds does that.)
    fn release_tail(&mut self) {
        let mut tail = std::mem::take(&mut self.tail);
        tail.clear();
        let whole = !std::mem::take(&mut self.tail_moved) || tail.try_reclaim(tail.capacity() + 1);
        if whole && tail.capacity() <= RETAIN_TAIL {
            // Fails only while the thread exits: the buffer is then simply dropped.
            let _ = SPARE_TAIL.try_with(|spare| spare.set(Some(tail)));
        }
    }

    /// Drops everything (abort); returns true if the queue was paused.
    pub(crate) fn clear(&mut self) -> bool {
        self.chunks.clear();
        self.tail = BytesMut::new();
        self.tail_moved = false;
        self.size = 0;
        std::mem::take(&mut self.paused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_asyncio_defaulting() {
        assert_eq!(resolve_limits(None, Some(100)).unwrap(), (400, 100));
        assert_eq!(resolve_limits(Some(1000), None).unwrap(), (1000, 250));
        assert_eq!(resolve_limits(Some(0), None).unwrap(), (0, 0));
        assert!(resolve_limits(Some(10), Some(20)).is_err());
    }

    #[test]
    fn pauses_strictly_above_high_and_resumes_at_low() {
        let mut q = WriteQueue::default();
        q.set_limits(10, 4);
        assert!(!q.push(&[0; 10]));
        assert!(q.push(&[0; 1]));
        assert!(!q.advance(6)); // 5 left
        assert!(q.advance(1)); // 4 left
        assert_eq!(q.len(), 4);
    }

    #[test]
    fn a_drained_tail_is_reused_by_the_next_queue_on_its_thread() {
        std::thread::spawn(|| {
            let mut q = WriteQueue::default();
            for _ in 0..5 {
                q.push(&[b'l'; 100]);
            }
            let grown = q.tail.capacity();
            q.advance(500);
            assert_eq!(q.tail.capacity(), 0, "an idle queue holds no buffer");
            let mut next = WriteQueue::default();
            next.push(b"x");
            assert!(
                next.tail.capacity() >= grown,
                "the spare's whole allocation"
            );
            let joined: Vec<u8> = next.with_slices(|v| v.iter().flat_map(|s| s.to_vec()).collect());
            assert_eq!(joined, b"x");
            // A large tail is not kept: the spare is bounded.
            let mut big = WriteQueue::default();
            for _ in 0..=RETAIN_TAIL / COALESCE {
                big.push(&[0; COALESCE]);
            }
            big.advance(big.len());
            assert!(SPARE_TAIL.with(Cell::take).is_none());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_tail_moved_by_a_partial_send_is_left_whole() {
        std::thread::spawn(|| {
            let mut q = WriteQueue::default();
            q.push(&[b'l'; 500]);
            let grown = q.tail.capacity();
            q.advance(200); // a partial send moves the tail's view
            assert!(q.tail.capacity() < grown);
            q.advance(300);
            let spare = SPARE_TAIL.with(Cell::take).expect("left to the thread");
            assert_eq!(
                spare.capacity(),
                grown,
                "back at the start of its allocation"
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn only_a_queue_of_one_buffer_is_contiguous() {
        let mut q = WriteQueue::default();
        assert_eq!(q.contiguous(), Some(&b""[..]));
        q.push(b"ab");
        q.push(b"cd");
        assert_eq!(q.contiguous(), Some(&b"abcd"[..]));
        q.push_bytes(Bytes::from(vec![7u8; COALESCE + 1]));
        assert_eq!(q.contiguous(), None, "tail sealed before a large chunk");
        q.advance(4);
        assert_eq!(q.contiguous(), Some(&[7u8; COALESCE + 1][..]));
        q.push(b"ef");
        assert_eq!(q.contiguous(), None, "a chunk and a tail");
    }

    #[test]
    fn slices_preserve_order_across_chunks_and_tail() {
        let mut q = WriteQueue::default();
        q.push(b"ab");
        q.push(&[b'x'; COALESCE + 1]);
        q.push(b"cd");
        let joined: Vec<u8> = q.with_slices(|v| v.iter().flat_map(|s| s.iter().copied()).collect());
        assert_eq!(joined.len(), COALESCE + 5);
        assert_eq!(&joined[..2], b"ab");
        assert_eq!(&joined[joined.len() - 2..], b"cd");
        q.advance(3);
        assert_eq!(q.len(), COALESCE + 2);
    }
}
