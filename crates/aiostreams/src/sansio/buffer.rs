//! [`ReadBuffer`]: received bytes, EOF, the limit and the over-long-line state.

use std::cell::Cell;

use bytes::{Buf, Bytes, BytesMut};

use super::Mode;
use crate::Error;

/// Capacity kept after the buffer is drained; a larger allocation is released.
pub(crate) const RETAIN_CAPACITY: usize = 64 * 1024;

/// The largest number of bytes a single pull from a source may read.
pub(crate) const MAX_PULL: usize = 64 * 1024;

/// The largest region [`ReadBuffer::spare_mut`] hands out at once.
pub const MAX_SPARE: usize = 256 * 1024;

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

/// The state of an asyncio `StreamReader` that decides what reads return: the received
/// bytes not yet read (asyncio's `_buffer`), EOF, the limit, and the [`Mode`].
///
/// It holds no waiter, no transport and no stored exception: those belong to the I/O
/// layer driving it (the tokio [`StreamReader`](crate::StreamReader), or the Python
/// package's reader), which passes "is an exception stored" to [`ReadOp::step`].
///
/// Bytes come in through [`feed`](Self::feed) (asyncio's `feed_data`, a copy) or by
/// writing straight into [`spare_mut`](Self::spare_mut) and then
/// [`commit`](Self::commit)ting them (asyncio's `BufferedProtocol.get_buffer` /
/// `buffer_updated`); reads take them out through a [`ReadOp`].
///
/// [`ReadOp`]: super::ReadOp
/// [`ReadOp::step`]: super::ReadOp::step
///
/// # Examples
///
/// ```
/// use aiostreams::sansio::{Mode, ReadBuffer};
///
/// let mut buf = ReadBuffer::new(16, Mode::default())?;
/// buf.feed(b"ab")?;
/// let spare = buf.spare_mut(4);
/// spare[..2].copy_from_slice(b"c\n");
/// buf.commit(2)?;
/// assert_eq!(buf.buffer(), b"abc\n");
/// buf.feed_eof();
/// assert!(matches!(buf.feed(b"x"), Err(aiostreams::Error::FeedAfterEof)));
/// # Ok::<(), aiostreams::Error>(())
/// ```
#[derive(Debug)]
pub struct ReadBuffer {
    /// The buffered bytes, frozen, while several records are buffered (see
    /// [`take`](Self::take)): reads then cut them with `Bytes::split_to`, without
    /// `BytesMut`'s split and freeze per record. While it holds bytes, `data` is empty
    /// (its spare capacity stays for the next pull) and `spare` is 0; anything that
    /// appends to `data` first moves them back ([`thaw`](Self::thaw)).
    pub(super) ready: Bytes,
    pub(super) data: BytesMut,
    limit: usize,
    /// Bytes at the end of `data` handed out by `spare_mut` and not yet committed.
    spare: u32,
    pub(crate) eof: bool,
    mode: Mode,
    /// Dropping incoming bytes through the next `\n`: the rest of an over-long line whose
    /// limit error `readline` already reported ([`Mode::Aiostreams`] only).
    pub(crate) discarding: bool,
}

impl ReadBuffer {
    /// An empty buffer with the given limit and mode.
    ///
    /// asyncio: `StreamReader(limit=limit)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`) when `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let buf = ReadBuffer::new(64 * 1024, Mode::AsyncioExact)?;
    /// assert!(buf.is_empty());
    /// assert!(ReadBuffer::new(0, Mode::default()).is_err()); // "Limit cannot be <= 0"
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn new(limit: usize, mode: Mode) -> Result<Self, Error> {
        Ok(Self::with_checked_limit(check_limit(limit)?, mode))
    }

    pub(crate) fn with_checked_limit(limit: usize, mode: Mode) -> Self {
        ReadBuffer {
            ready: Bytes::new(),
            data: BytesMut::new(),
            limit,
            spare: 0,
            eof: false,
            mode,
            discarding: false,
        }
    }

    /// The limit on a line or separated record (asyncio's `_limit`).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// assert_eq!(ReadBuffer::new(100, Mode::default())?.limit(), 100);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the limit (beyond asyncio, whose `_limit` is fixed at creation). Reads
    /// started later, and a read in progress at its next step, use the new limit; bytes
    /// already buffered stay. A lower limit can make a buffered record over-long.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`) when `limit` is 0; the
    /// limit is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    /// let mut buf = ReadBuffer::new(16, Mode::default())?;
    /// buf.set_limit(1 << 20)?;
    /// assert_eq!(buf.limit(), 1 << 20);
    /// assert!(buf.set_limit(0).is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn set_limit(&mut self, limit: usize) -> Result<(), Error> {
        self.limit = check_limit(limit)?;
        Ok(())
    }

    /// Sets the limit for one step of a read with its own limit; returns the old one.
    pub(crate) fn swap_limit(&mut self, limit: usize) -> usize {
        std::mem::replace(&mut self.limit, limit)
    }

    /// Drops the rest of the current line as it arrives (an abandoned skip of an
    /// over-long line).
    pub(crate) fn discard_rest_of_line(&mut self) {
        self.discarding = true;
        self.drop_discarded();
    }

    /// The rules this buffer follows.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// assert_eq!(ReadBuffer::new(100, Mode::default())?.mode(), Mode::Aiostreams);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The received bytes not yet read (asyncio's `_buffer`).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"ab")?;
    /// buf.feed(b"cd")?;
    /// assert_eq!(buf.buffer(), b"abcd");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn buffer(&self) -> &[u8] {
        if self.ready.is_empty() {
            &self.data[..self.len()]
        } else {
            &self.ready
        }
    }

    /// How many bytes are buffered (asyncio's `len(self._buffer)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"12345")?;
    /// assert_eq!(buf.len(), 5);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.ready.len() + self.data.len() - self.spare as usize
    }

    /// [`is_empty`](Self::is_empty) as a branch: right after a cut from the frozen
    /// bytes the compiler knows some are left without reading `data`.
    #[inline(always)]
    pub(crate) fn is_drained(&self) -> bool {
        self.ready.is_empty() && self.data.len() == self.spare as usize
    }

    /// True when nothing is buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// assert!(buf.is_empty());
    /// buf.feed(b"x")?;
    /// assert!(!buf.is_empty());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once EOF was fed (asyncio's `_eof`), even with bytes still buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"x")?;
    /// buf.feed_eof();
    /// assert!(buf.eof()); // EOF was fed...
    /// assert!(!buf.at_eof()); // ...but a byte is still to be read
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn eof(&self) -> bool {
        self.eof
    }

    /// True when EOF was fed and every buffered byte has been read.
    ///
    /// asyncio: `at_eof()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"x")?;
    /// buf.feed_eof();
    /// assert!(!buf.at_eof());
    /// let _ = ReadOp::read(1).step(&mut buf, false);
    /// assert!(buf.at_eof());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn at_eof(&self) -> bool {
        self.eof && self.is_empty()
    }

    /// True while the rest of an over-long line is being dropped as it arrives (after
    /// `readline`'s limit error in [`Mode::Aiostreams`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp};
    ///
    /// let mut buf = ReadBuffer::new(4, Mode::Aiostreams)?;
    /// buf.feed(b"too long")?;
    /// let mut op = ReadOp::readline();
    /// let _ = op.step(&mut buf, false);
    /// let _ = op.finish_without_more(&mut buf); // the limit error
    /// assert!(buf.is_discarding());
    /// buf.feed(b" still the same line\nnext\n")?; // dropped through its `\n`
    /// assert!(!buf.is_discarding());
    /// assert_eq!(buf.buffer(), b"next\n");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Appends received bytes (copying them).
    ///
    /// asyncio: `feed_data(data)`. Empty data is a no-op. Bytes of an over-long line
    /// being discarded are dropped here (see [`is_discarding`](Self::is_discarding)).
    /// Afterwards the caller asks [`FlowControl::pause_after_feed`] whether to pause.
    ///
    /// [`FlowControl::pause_after_feed`]: super::FlowControl::pause_after_feed
    ///
    /// # Errors
    ///
    /// [`Error::FeedAfterEof`] once EOF was fed, even for empty data (asyncio asserts
    /// before its emptiness check); the buffer is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use aiostreams::sansio::{FlowControl, Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(4, Mode::default())?;
    /// let mut flow = FlowControl::new();
    /// buf.feed(b"0123456789")?;
    /// if flow.pause_after_feed(buf.len(), buf.limit()) {
    ///     // transport.pause_reading(): more than 2 * limit is buffered
    /// }
    /// assert!(flow.is_paused());
    /// buf.feed_eof();
    /// assert!(matches!(buf.feed(b""), Err(Error::FeedAfterEof)));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn feed(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.eof {
            return Err(Error::FeedAfterEof);
        }
        self.abandon_spare();
        self.thaw();
        let data = self.skip_discarded(data);
        self.data.extend_from_slice(data);
        Ok(())
    }

    /// Marks EOF. Idempotent.
    ///
    /// asyncio: `feed_eof()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed_eof();
    /// buf.feed_eof(); // idempotent
    /// assert!(buf.at_eof());
    /// assert!(buf.feed(b"late").is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn feed_eof(&mut self) {
        self.abandon_spare();
        self.eof = true;
    }

    /// A writable region of `hint` bytes (1 to [`MAX_SPARE`]) after the buffered bytes,
    /// for a transport to receive into; [`commit`](Self::commit) then appends what it
    /// wrote.
    ///
    /// asyncio: `BufferedProtocol.get_buffer(sizehint)` (pass a positive size; asyncio's
    /// `-1` means "any", the caller picks one). The region is zero-filled, which costs a
    /// `memset` of `hint` bytes: ask for what a receive is likely to bring. Calling it
    /// again, or any other mutating method, before `commit` abandons the region.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// // A transport receives straight into the buffer (asyncio's BufferedProtocol).
    /// let region = buf.spare_mut(1024);
    /// let received = 5; // e.g. what recv() into `region` returned
    /// region[..received].copy_from_slice(b"hello");
    /// buf.commit(received)?;
    /// assert_eq!(buf.buffer(), b"hello");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn spare_mut(&mut self, hint: usize) -> &mut [u8] {
        self.abandon_spare();
        self.thaw();
        let hint = hint.clamp(1, MAX_SPARE);
        let start = self.data.len();
        self.data.resize(start + hint, 0);
        self.spare = hint as u32;
        &mut self.data[start..]
    }

    /// Appends the first `n` bytes written into the region from
    /// [`spare_mut`](Self::spare_mut); `commit(0)` only abandons it.
    ///
    /// asyncio: `BufferedProtocol.buffer_updated(nbytes)`. As with [`feed`](Self::feed),
    /// bytes of an over-long line being discarded are dropped.
    ///
    /// # Errors
    ///
    /// - [`Error::FeedAfterEof`] once EOF was fed;
    /// - [`Error::InvalidArgument`] when `n` exceeds the region handed out.
    ///
    /// In both cases nothing is appended and the region is abandoned.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.spare_mut(4)[..2].copy_from_slice(b"ok");
    /// buf.commit(2)?;
    /// assert_eq!(buf.buffer(), b"ok");
    /// let _ = buf.spare_mut(4);
    /// assert!(buf.commit(5).is_err()); // more than the region handed out: nothing appended
    /// assert_eq!(buf.buffer(), b"ok");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn commit(&mut self, n: usize) -> Result<(), Error> {
        let (before, spare) = (self.len(), self.spare as usize);
        self.spare = 0;
        let outcome = if self.eof {
            Err(Error::FeedAfterEof)
        } else if n > spare {
            Err(Error::InvalidArgument(
                "buffer_updated() reported more bytes than get_buffer() returned",
            ))
        } else {
            Ok(())
        };
        self.data
            .truncate(before + if outcome.is_ok() { n } else { 0 });
        if self.discarding {
            self.drop_discarded();
        }
        outcome
    }

    #[inline]
    fn abandon_spare(&mut self) {
        if self.spare != 0 {
            let len = self.len();
            self.data.truncate(len);
            self.spare = 0;
        }
    }

    /// Moves frozen bytes back into `data` before anything is appended to it: a copy
    /// into `data`'s spare capacity, rare (a buffer is frozen only when it ends where a
    /// line ends, and thawed only when a read needs more than it holds, or by a write).
    #[inline]
    fn thaw(&mut self) {
        if !self.ready.is_empty() {
            self.thaw_ready();
        }
    }

    #[cold]
    #[inline(never)]
    fn thaw_ready(&mut self) {
        let ready = std::mem::take(&mut self.ready);
        self.data.extend_from_slice(&ready);
    }

    /// The buffer a source appends to (thawed first; the codec decoders').
    #[cfg(feature = "codec")]
    #[inline]
    pub(crate) fn data_mut(&mut self) -> &mut BytesMut {
        self.thaw();
        &mut self.data
    }

    /// The capacity left for appending without a reallocation (the codec decoders').
    #[cfg(feature = "codec")]
    pub(crate) fn spare_capacity(&self) -> usize {
        self.data.capacity() - self.data.len()
    }

    /// Takes every buffered byte out as one `BytesMut` (start_tls, detach).
    pub(crate) fn take_data(&mut self) -> BytesMut {
        self.abandon_spare();
        self.thaw();
        std::mem::take(&mut self.data)
    }

    /// The part of `data` left after the rest of an over-long line (discarding only).
    fn skip_discarded<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        if !self.discarding {
            return data;
        }
        match memchr::memchr(b'\n', data) {
            Some(i) => {
                self.discarding = false;
                &data[i + 1..]
            }
            None => &[],
        }
    }

    /// Drops the rest of an over-long line from bytes appended to the buffer. While
    /// discarding the buffer holds nothing else: every entry point drops as it appends.
    pub(crate) fn drop_discarded(&mut self) {
        self.thaw();
        match memchr::memchr(b'\n', &self.data) {
            Some(i) => {
                self.discarding = false;
                self.data.advance(i + 1);
            }
            None => self.data.clear(),
        }
    }

    /// After a pull appended bytes to `data`: drops those of a discarded line.
    #[inline]
    pub(crate) fn after_pull(&mut self) {
        if self.discarding {
            self.drop_discarded();
        }
    }

    /// Appends a chunk (fed from another thread), without a copy when the buffer is empty.
    pub(crate) fn append(&mut self, mut chunk: BytesMut) {
        self.abandon_spare();
        self.thaw();
        if self.discarding {
            let skip = chunk.len() - self.skip_discarded(&chunk).len();
            chunk.advance(skip);
        }
        if self.data.is_empty() {
            self.data = chunk;
        } else {
            self.data.unsplit(chunk);
        }
    }

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
            let newline = super::search::find_newline(&self.ready)?;
            if newline > self.limit {
                return None;
            }
            return Some(self.take_ready(newline + 1));
        }
        let newline = super::search::find_newline(&self.data[..self.len()])?;
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
            b"\n" => super::search::find_newline(self.buffer())?,
            [byte] => memchr::memchr(*byte, self.buffer())?,
            _ => memchr::memmem::find(self.buffer(), separator)?,
        };
        (start <= self.limit).then(|| self.take(start + separator.len()))
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

/// asyncio's `ValueError('Limit cannot be <= 0')`, shared by every `limit=` option.
pub(crate) fn check_limit(limit: usize) -> Result<usize, Error> {
    if limit == 0 {
        return Err(Error::InvalidArgument("Limit cannot be <= 0"));
    }
    Ok(limit)
}
