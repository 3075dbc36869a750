//! [`StreamReader`]: asyncio's reader, owning its buffer, bounded by a limit, cancel safe.

// rustdoc lists a type's methods by the modules holding them, in declaration order, and
// this file's own impl after them: the constructors first, then asyncio's methods.
mod new;

mod read;
mod readuntil;
// asyncio's other methods: at_eof, feed_data, feed_eof, exception, set_exception.
mod feed;

mod feeder;
mod io;
mod lines;
mod peek;
mod poll;
mod record;
pub(crate) mod shared;
pub(crate) mod source;
mod stats;
mod timeouts;
pub(crate) mod timer;
mod try_read;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

pub use feeder::Feeder;
pub use lines::Lines;
#[cfg(feature = "codec")]
pub(crate) use poll::Op;

pub(crate) use crate::sansio::check_limit;
use crate::sansio::{MAX_PULL, Mode, ReadBuffer};
use shared::Shared;
use source::Source;
use timer::Timed;

/// The first pull of an idle reader reserves this much (then it adapts).
const MIN_PULL: u32 = 4 * 1024;

/// The largest pull for a `read(n)` with a large `n` on a connection that keeps filling
/// its pulls (bulk transfers: one system call per MiB, as a hand-written 1 MiB loop).
pub(crate) const MAX_BULK_PULL: usize = 16 * MAX_PULL;

/// The largest pull hint (`MAX_BULK_PULL`, which fits): only a `read(n)` with a large
/// `n` pulls more than `MAX_PULL` at once.
const MAX_PULL_HINT: u32 = MAX_BULK_PULL as u32;

/// Pulls a read may spend dropping the rest of an over-long line before it yields.
const DISCARDING_PULLS_PER_POLL: u32 = 16;

/// asyncio's default reader limit: 64 KiB.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// A buffered byte reader with asyncio's `StreamReader` API.
///
/// asyncio: `asyncio.StreamReader`. Not related to `tokio_util::io::StreamReader`.
///
/// The reader owns its buffer. When a read needs more bytes it pulls them from its
/// source (any [`AsyncRead`]) itself, or waits for bytes fed with [`feed_data`] or
/// through a [`Feeder`]. Reads hand out [`Bytes`](bytes::Bytes) split off the buffer
/// without copying. What each read returns, raises or waits for is decided by the
/// sans-I/O core in [`sansio`](crate::sansio) ([`Mode::Aiostreams`](crate::sansio::Mode));
/// this type does the I/O and the waking.
///
/// # Limit
///
/// `limit` (default [`DEFAULT_LIMIT`]) bounds a line or separated record:
/// [`readline`]/[`readuntil`] fail with [`Error::LimitOverrun`](crate::Error::LimitOverrun) rather than buffer
/// an endless record. The reader never pulls more than `2 * limit` bytes ahead of what
/// the application consumes (asyncio's pause threshold), unless the current read itself
/// needs more ([`readexactly`] of a large size, [`read_to_eof`]).
///
/// # Cancel safety
///
/// Every read is cancel safe, [`read_to_eof`] included: bytes leave the buffer only
/// when a read completes, so dropping a read future loses nothing, and the next read
/// sees the stream exactly where the dropped one left it. (asyncio's `read(-1)` loses
/// the chunks it had gathered when cancelled; ours does not.)
///
/// # tokio's `AsyncBufReadExt` methods
///
/// `StreamReader` implements [`AsyncRead`] and [`AsyncBufRead`](tokio::io::AsyncBufRead)
/// so that tokio and tokio-util tools work on it. The extension methods those traits bring
/// (`read_line`, `read_until`, `read_exact`, `read_to_end`...) are tokio's, not ours: they
/// **ignore the limit** (an endless line grows memory without bound) and are **not cancel
/// safe** (a dropped `read_line` loses what it had read). Use [`readline`],
/// [`readuntil`], [`readexactly`] and [`read_to_eof`] instead.
///
/// # Concurrency
///
/// Reads take `&mut self`, so "another coroutine is already waiting for incoming data"
/// (asyncio's `RuntimeError`) cannot happen: the borrow checker rules it out. To feed the
/// reader from another task, or to set its exception from there, use a [`Feeder`].
///
/// # Memory
///
/// `size_of::<StreamReader>()` is 112 bytes on 64-bit targets; its shared state is one
/// more allocation of about 150 bytes. A reader that waits for input with an empty buffer
/// holds no buffer allocation (it leaves its buffer, if at most 64 KiB, as its thread's
/// one spare for the next read on that thread), and a drained buffer larger than 64 KiB
/// is released.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::StreamReader;
///
/// let mut reader = StreamReader::from_io(&b"line1\nline2\nrest"[..]);
/// assert_eq!(reader.readline().await?, "line1\n");
/// assert_eq!(reader.readuntil(b"2\n").await?, "line2\n");
/// assert_eq!(reader.read_to_eof().await?, "rest");
/// assert!(reader.at_eof());
/// # Ok(()) }
/// ```
///
/// [`feed_data`]: StreamReader::feed_data
/// [`readline`]: StreamReader::readline
/// [`readuntil`]: StreamReader::readuntil
/// [`readexactly`]: StreamReader::readexactly
/// [`read_to_eof`]: StreamReader::read_to_eof
/// [`AsyncRead`]: tokio::io::AsyncRead
pub struct StreamReader {
    buf: ReadBuffer,
    /// How much the next pull reserves: starts small (idle connections stay small),
    /// doubles when a pull fills it, halves when two pulls in a row come back much
    /// smaller. (Two: a message a little larger than the hint comes as one full pull,
    /// which doubles it, then a small rest; halving on that rest made the hint swing
    /// between two sizes and every such message take two reads.)
    pull_hint: u32,
    /// Pulls in a row that came back much smaller than `pull_hint`.
    small_pulls: u8,
    /// Pulls may bring this many `MAX_PULL`s at once: `read(n)` sets `n` in 64 KiB units
    /// (rounded down, at most 16) while it waits and clears it when it completes; 0
    /// otherwise. (A field rather than an argument of every pull: the other reads pay
    /// one compare, not a wider call; one byte, in the padding.) A `read(n)` dropped
    /// while waiting leaves it set until the next `read(n)` completes: later pulls may
    /// then be as large, which changes no result, only how much one pull reserves.
    bulk_units: u8,
    /// When the wait path asks the source's timer (see `timer.rs`).
    timed: Timed,
    /// The last read's last poll returned `Pending` from its wait (see `poll_op`).
    waiting: bool,
    source: Option<Box<dyn Source>>,
    shared: Arc<Shared>,
}

impl StreamReader {
    pub(crate) fn build(limit: usize, source: Option<Box<dyn Source>>) -> Self {
        Self::build_with(limit, source, Arc::default())
    }

    /// A reader whose shared state already exists: a transport holds a feeder of its
    /// reader from its construction on (`Transport::builder(..).streams(limit)`).
    pub(crate) fn build_with(
        limit: usize,
        mut source: Option<Box<dyn Source>>,
        shared: Arc<Shared>,
    ) -> Self {
        let timed = source
            .as_mut()
            .and_then(|s| s.timer())
            .map_or(Timed::Off, |t| t.mode());
        StreamReader {
            buf: ReadBuffer::with_checked_limit(limit, Mode::Aiostreams),
            pull_hint: MIN_PULL,
            bulk_units: 0,
            small_pulls: 0,
            timed,
            waiting: false,
            source,
            shared,
        }
    }

    /// The limit given at construction.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = aiostreams::StreamReader::with_limit(1024).unwrap();
    /// assert_eq!(reader.limit(), 1024);
    /// assert_eq!(aiostreams::StreamReader::new().limit(), aiostreams::DEFAULT_LIMIT);
    /// ```
    pub fn limit(&self) -> usize {
        self.buf.limit()
    }

    /// The bytes buffered and not yet read (asyncio's private `_buffer`, for tests and
    /// protocol code that must look before it reads), bytes fed through a [`Feeder`]
    /// included.
    ///
    /// It takes `&mut self` to move what feeders sent into the buffer first (one atomic
    /// load when nothing was fed), so reads need no extra lock or atomic for it.
    ///
    /// # Parsing in place
    ///
    /// A parser that only needs to look at each record, not keep it, can parse it here
    /// and drop it with `consume` (`tokio::io::AsyncBufReadExt`): no [`Bytes`] is handed
    /// out, so no reference count is touched. A 16-byte line found with `memchr` costs
    /// 106 instructions this way, 1.77x a bare `memchr` + slice split, against 120 for
    /// [`readline`](Self::readline), whose `Bytes` alone costs about 50 (callgrind,
    /// `benches/reader_instructions.rs`). Unlike the reads, this form does not raise a
    /// stored exception before the buffered bytes (it is tokio's `AsyncBufRead`): when
    /// the buffer holds no whole record, go on with an `await`ed read, which does:
    /// [`peek(n)`](Self::peek) waits for the `n` bytes the cut record needs without
    /// consuming any (`examples/resp_server.rs` parses RESP commands this way, and
    /// keeps `readline`/`readexactly` for a command larger than the limit).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"HEAD")?;
    /// assert_eq!(reader.buffer(), b"HEAD"); // look without reading
    /// assert_eq!(reader.read(2).await?, "HE");
    /// assert_eq!(reader.buffer(), b"AD");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Counting pipelined `PING`s in place, then waiting for the rest with `readline`:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use tokio::io::AsyncBufReadExt; // consume
    ///
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"PING\r\nPING\r\nPI")?;
    /// let mut pings = 0;
    /// while let Some(end) = reader.buffer().iter().position(|&b| b == b'\n') {
    ///     assert_eq!(&reader.buffer()[..=end], b"PING\r\n");
    ///     pings += 1;
    ///     reader.consume(end + 1);
    /// }
    /// assert_eq!(pings, 2);
    /// reader.feed_data(b"NG\r\n")?;
    /// assert_eq!(reader.readline().await?, "PING\r\n");
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn buffer(&mut self) -> &[u8] {
        self.sync_inbox();
        self.buf.buffer()
    }

    /// Takes every buffered byte out (start_tls moves them into the TLS input, detach
    /// hands them out).
    pub(crate) fn take_buffered(&mut self) -> bytes::BytesMut {
        self.sync_inbox();
        self.shared.buffered.store(0, Ordering::Relaxed);
        self.buf.take_data()
    }

    /// True when nothing is buffered (fed bytes included).
    #[cfg(feature = "tls")]
    pub(crate) fn buffer_is_empty(&mut self) -> bool {
        self.sync_inbox();
        self.buf.is_empty()
    }

    /// Forgets the stored error (asyncio: `set_exception(None)` with no waiter).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.set_exception(std::io::Error::other("boom"));
    /// reader.clear_exception();
    /// assert!(reader.exception().is_none());
    /// reader.feed_data(b"fine\n")?;
    /// assert_eq!(reader.readline().await?, "fine\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear_exception(&self) {
        self.shared.clear_exception();
    }

    /// A cloneable handle that feeds this reader from other tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// let feeder = reader.feeder();
    /// let producer = tokio::spawn(async move {
    ///     for word in ["one ", "two ", "three"] {
    ///         feeder.feed_data(word.as_bytes()).unwrap();
    ///         tokio::task::yield_now().await;
    ///     }
    ///     feeder.feed_eof();
    /// });
    /// assert_eq!(reader.read_to_eof().await?, "one two three");
    /// producer.await.unwrap();
    /// # Ok(())
    /// # }
    /// ```
    pub fn feeder(&self) -> Feeder {
        Feeder::new(self.shared.clone())
    }

    fn mark_eof(&mut self) {
        self.buf.feed_eof();
        self.shared.mark_eof();
    }

    /// Moves bytes and EOF fed through feeders into the buffer; true if anything moved.
    /// Inlined: with nothing fed (every read of a socket) it is one atomic load.
    #[inline]
    fn sync_inbox(&mut self) -> bool {
        self.shared.has_pending() && self.take_inbox()
    }

    #[cold]
    fn take_inbox(&mut self) -> bool {
        let (data, eof) = self.shared.take_pending();
        if !data.is_empty() {
            self.buf.append(data);
        }
        if eof {
            self.buf.feed_eof();
        }
        self.publish_buffered();
        true
    }

    /// Tells the writer how much is buffered (see [`fast`](Self::fast)).
    #[inline]
    pub(crate) fn publish_buffered(&self) {
        self.shared
            .buffered
            .store(self.buf.len(), Ordering::Relaxed);
    }

    /// A read the buffer already answers: no pull, no lock, no waker, none of our
    /// atomics written (one load: nothing fed is pending, no exception is stored; a
    /// relaxed store of 0 for the writer when the read empties the buffer). `take` is
    /// one of the core's fast takes, which complete only with the outcome the full
    /// rules would give.
    #[inline]
    pub(crate) fn fast(
        &mut self,
        take: impl FnOnce(&mut ReadBuffer) -> Option<Bytes>,
    ) -> Option<Bytes> {
        if !self.shared.is_quiet() {
            return None;
        }
        let out = take(&mut self.buf)?;
        // The writer reads the hint only as "is anything left", and every other path
        // that adds or removes bytes publishes the count: a cut that leaves bytes keeps
        // it non-zero without a store (7 instructions of a 16-byte `readline`).
        if self.buf.is_drained() {
            self.shared.buffered.store(0, Ordering::Relaxed);
        }
        if let Some(flow) = self.shared.flow.get() {
            self.publish_to_flow(flow, false);
        }
        Some(out)
    }
}

impl Default for StreamReader {
    fn default() -> Self {
        Self::new()
    }
}

/// Formats like asyncio's `repr()`: `<StreamReader 4 bytes eof limit=10 exception=...>`.
impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<StreamReader")?;
        let buffered = self.buf.len() + self.shared.lock().data.len();
        if buffered > 0 {
            write!(f, " {buffered} bytes")?;
        }
        if self.buf.eof() || self.shared.lock().eof {
            f.write_str(" eof")?;
        }
        if self.limit() != DEFAULT_LIMIT {
            write!(f, " limit={}", self.limit())?;
        }
        if let Some(err) = self.exception() {
            write!(f, " exception={err:?}")?;
        }
        if let Some(flow) = self.shared.flow.get() {
            write!(f, " transport={:?}", flow.transport())?;
        } else if self.source.is_some() {
            f.write_str(" source")?;
        }
        if self.shared.is_paused() {
            f.write_str(" paused")?;
        }
        f.write_str(">")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn reader_stays_112_bytes() {
        assert_eq!(std::mem::size_of::<StreamReader>(), 112);
    }
}
