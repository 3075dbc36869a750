//! Bytes going out of a [`ReadBuffer`]: the records reads hand out (`take` and its
//! common cases, one per read kind) and the bytes they drop, cut from the frozen bytes
//! or from the mutable buffer.

use bytes::{Buf, Bytes, BytesMut};

use super::ReadBuffer;
use crate::sansio::search::find_newline;

impl ReadBuffer {
    /// Removes and returns the first `n` bytes (`n <= len()`).
    ///
    /// When more is left and the buffer ends where a line ends (most likely more whole
    /// records: pipelined requests), the buffer is frozen first: one `BytesMut` split
    /// and freeze for all of it, then `Bytes::split_to` per record, about half the cost
    /// per record (measured: `benches/reader_instructions.rs`). The last record of a
    /// frozen buffer is handed out without touching the reference count.
    #[inline(always)]
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        if self.ready.is_empty() {
            if !self.freezes_before_removing(n) {
                return self.take_mut(n);
            }
            self.freeze();
        }
        self.take_ready(n)
    }

    /// Whether removing `n` bytes from `data` should freeze it first (see
    /// [`take`](Self::take)): more is left, and it ends where a line ends.
    #[inline(always)]
    fn freezes_before_removing(&self, n: usize) -> bool {
        n < self.data.len() && self.spare == 0 && self.data.last() == Some(&b'\n')
    }

    /// [`take`](Self::take) from the frozen bytes.
    #[inline(always)]
    fn take_ready(&mut self, n: usize) -> Bytes {
        if n >= self.ready.len() {
            let out = std::mem::take(&mut self.ready);
            self.release_if_drained();
            return out;
        }
        // `Bytes::split_to` by hand: it is not inlined, and its checks for the cases
        // handled here cost more.
        let out = self.ready.slice(..n);
        self.ready.advance(n);
        out
    }

    /// Moves every buffered byte into `ready` (`data` keeps its spare capacity).
    #[inline(never)]
    fn freeze(&mut self) {
        self.ready = self.data.split().freeze();
    }

    /// [`take`](Self::take) from `data`.
    #[inline(never)]
    fn take_mut(&mut self, n: usize) -> Bytes {
        let out = self.data.split_to(n).freeze();
        self.release_if_drained();
        out
    }

    /// Removes and returns every buffered byte.
    pub(crate) fn take_all(&mut self) -> Bytes {
        self.abandon_spare();
        if !self.ready.is_empty() {
            return std::mem::take(&mut self.ready);
        }
        self.take_mut(self.data.len())
    }

    /// Takes every buffered byte out as one `BytesMut` (start_tls, detach).
    pub(crate) fn take_data(&mut self) -> BytesMut {
        self.abandon_spare();
        self.thaw();
        std::mem::take(&mut self.data)
    }

    /// Drops the first `n` bytes. A buffer that [`take`](Self::take) would freeze is
    /// frozen here too: a parser that looks at lines in place ([`buffer`](Self::buffer),
    /// then `AsyncBufRead::consume`) then pays a `Bytes` advance per line instead of
    /// `BytesMut::advance`, which costs more (153 -> 106 instructions per 16-byte line,
    /// `benches/reader_instructions.rs`).
    #[inline]
    pub(crate) fn discard(&mut self, n: usize) {
        if self.ready.is_empty() && self.freezes_before_removing(n) {
            self.freeze();
        }
        if !self.ready.is_empty() {
            self.ready.advance(n);
        } else {
            self.data.advance(n);
        }
        self.release_if_drained();
    }

    /// The common case of `readline`: a whole line within the limit is buffered. It is
    /// taken as the full rules would take it; otherwise `None`, and nothing changes.
    #[inline(always)]
    pub(crate) fn take_line(&mut self) -> Option<Bytes> {
        if !self.ready.is_empty() {
            let newline = find_newline(&self.ready)?;
            if newline > self.limit {
                return None;
            }
            return Some(self.take_ready(newline + 1));
        }
        let newline = find_newline(&self.data[..self.len()])?;
        if newline > self.limit {
            return None;
        }
        Some(self.take(newline + 1))
    }

    /// The common case of `readexactly(n)`: `n` bytes are buffered.
    #[inline]
    pub(crate) fn take_exactly(&mut self, n: usize) -> Option<Bytes> {
        (n <= self.len()).then(|| self.take(n))
    }

    /// The common case of `read(n)`: some bytes are buffered (or `n` is 0).
    #[inline]
    pub(crate) fn take_some(&mut self, n: usize) -> Option<Bytes> {
        match n.min(self.len()) {
            0 if n > 0 => None,
            k => Some(self.take(k)),
        }
    }

    /// The common case of `readuntil(separator)`: a record within the limit is buffered.
    #[inline]
    pub(crate) fn take_until(&mut self, separator: &[u8]) -> Option<Bytes> {
        let start = match separator {
            [] => return None, // the full rules raise the argument error
            b"\n" => find_newline(self.buffer())?,
            [byte] => memchr::memchr(*byte, self.buffer())?,
            _ => memchr::memmem::find(self.buffer(), separator)?,
        };
        (start <= self.limit).then(|| self.take(start + separator.len()))
    }
}
