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
use std::task::{Context, Poll};

use bytes::Bytes;

pub use feeder::Feeder;
pub use lines::Lines;

use crate::Error;
pub(crate) use crate::sansio::check_limit;
use crate::sansio::{MAX_PULL, Mode, ReadBuffer, ReadOp, Step, Want};
use shared::Shared;
use source::Source;
use timer::{ReadTimer, Timed};

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
/// [`readline`]/[`readuntil`] fail with [`Error::LimitOverrun`] rather than buffer
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

    /// Drives one read until it completes, pulling or parking in between.
    ///
    /// The core decides every outcome; this adds the waking rule: a wait ended while an
    /// exception is stored raises it (asyncio's waiter would; we cannot tell whether
    /// bytes came before it, and let the exception win).
    ///
    /// A read woken after its pull found nothing goes straight back to the pull when
    /// nothing was fed and no exception stored meanwhile: the buffer is then as its last
    /// step left it, and the step would say "need more" again; the pull takes the window
    /// it had (what decides it is as it was: the buffer, the read, the hint).
    pub(crate) fn poll_op(
        &mut self,
        cx: &mut Context<'_>,
        op: &mut impl Op,
    ) -> Poll<Result<Bytes, Error>> {
        let resumed = std::mem::take(&mut self.waiting) && op.has_started();
        if !op.has_started() && self.timed.new_read() {
            self.with_timer(ReadTimer::new_read);
        }
        let mut step = !(resumed && self.shared.is_quiet());
        // The woken read's pull: no merging of short reads (the next step merges).
        let mut want = Want {
            need: self.shared.wait_window.load(Ordering::Relaxed) as usize,
            merge_to: 0,
        };
        let mut discarding_pulls = 0;
        loop {
            if step {
                self.sync_inbox();
                let stored = self.shared.has_exception();
                if stored
                    && op.has_started()
                    && !op.is_probing()
                    && let Some(err) = self.shared.exception()
                {
                    return Poll::Ready(Err(err));
                }
                let done = match op.step(&mut self.buf, stored) {
                    Step::Done(result) => Some(result),
                    Step::RaiseStored => match self.shared.exception() {
                        Some(err) => Some(Err(err)),
                        None => continue, // cleared meanwhile: read on
                    },
                    Step::NeedMore => {
                        if self.buf.is_discarding() || op.is_skipping() {
                            // An endless over-long line from a fast source: yield now and
                            // then, as a socket read would, instead of looping in one poll.
                            discarding_pulls += 1;
                            if discarding_pulls > DISCARDING_PULLS_PER_POLL {
                                cx.waker().wake_by_ref();
                                return Poll::Pending;
                            }
                        }
                        self.publish_flow(true);
                        None
                    }
                    Step::NeedMoreIfReady if self.pull_ready(cx) => continue,
                    Step::NeedMoreIfReady => match op.finish_without_more(&mut self.buf) {
                        Step::Done(result) => Some(result),
                        _ => unreachable!("a probing read finishes without more input"),
                    },
                };
                if let Some(result) = done {
                    self.publish_flow(false);
                    return Poll::Ready(result);
                }
                want = op.want(&self.buf);
                want.need = self.window(want.need);
            }
            step = true;
            match self.poll_more(cx, want) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(timed_out)) => {
                    self.publish_flow(false);
                    return Poll::Ready(Err(*timed_out));
                }
                Poll::Pending => {
                    self.waiting = true;
                    return Poll::Pending;
                }
            }
        }
    }

    /// Waits until the buffer holds a byte or EOF (`AsyncBufRead::poll_fill_buf`).
    fn poll_filled(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            self.sync_inbox();
            if let Some(err) = self.shared.exception() {
                return Poll::Ready(Err(err));
            }
            if !self.buf.is_empty() || self.buf.eof() {
                self.publish_flow(false);
                if self.timed.new_read() {
                    // Each `AsyncRead` call is a read of its own.
                    self.with_timer(ReadTimer::new_read);
                }
                return Poll::Ready(Ok(()));
            }
            self.publish_flow(true);
            let want = Want {
                need: self.window(1),
                merge_to: 0,
            };
            std::task::ready!(self.poll_more(cx, want)).map_err(|e| *e)?;
        }
    }

    /// Appends bytes already received (fed, or ready in the source) without waiting;
    /// true if any arrived.
    fn pull_ready(&mut self, cx: &mut Context<'_>) -> bool {
        if self.sync_inbox() {
            return true;
        }
        !self.buf.eof() && matches!(self.pull(cx, self.window(1)), Poll::Ready(true))
    }

    /// Tells the writer and, for fed readers, the flow control how much is buffered
    /// (the flow control may resume the transport).
    #[inline]
    pub(crate) fn publish_flow(&self, waiting: bool) {
        self.publish_buffered();
        if let Some(flow) = self.shared.flow.get() {
            self.publish_to_flow(flow, waiting);
        }
    }

    /// The flow control's part of [`publish_flow`](Self::publish_flow): fed readers only.
    #[inline(never)]
    fn publish_to_flow(&self, flow: &shared::Flow, waiting: bool) {
        let inbox_len = if self.shared.has_pending() {
            self.shared.lock().data.len()
        } else {
            0
        };
        flow.after_read(self.buf.len(), inbox_len, waiting);
    }

    /// Waits until something changes: bytes, EOF or an exception arrive (`want.need`
    /// is the pull's window, see [`window`](Self::window)); fails when a time limit
    /// passes first (nothing consumed: see `timer.rs`). (The error is boxed:
    /// a small return value keeps the wait path cheap, and it is rare.)
    ///
    /// Its callers have just moved the inbox (or seen it empty), so it does not look
    /// again before the pull: what a feeder sends from then on, the park sees.
    #[inline]
    fn poll_more(&mut self, cx: &mut Context<'_>, want: Want) -> Poll<Result<(), Box<Error>>> {
        if self.source.is_none() || self.buf.eof {
            return self.park(cx).map(Ok);
        }
        match self.pull(cx, want.need) {
            Poll::Pending => {
                self.shared
                    .wait_window
                    .store(want.need as u32, Ordering::Relaxed);
                self.buf.release_if_empty();
                if self.timed.wait_asks(!self.buf.is_empty())
                    && let Poll::Ready(timed_out) = self.poll_timer(cx)
                {
                    return Poll::Ready(Err(Box::new(timed_out)));
                }
                return self.park(cx).map(Ok);
            }
            Poll::Ready(true) => self.merge_short_reads(cx, want),
            Poll::Ready(false) => {}
        }
        Poll::Ready(Ok(()))
    }

    /// A read is about to wait and a time limit is set: has one passed?
    #[inline(never)]
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        let mid_record = !self.buf.is_empty();
        match self.source.as_deref_mut() {
            Some(source) => source.poll_timeout(cx, mid_record),
            None => Poll::Pending,
        }
    }

    /// Runs `f` on the source's timer, if there is one.
    fn with_timer(&mut self, f: impl FnOnce(&mut ReadTimer)) {
        if let Some(timer) = self.source.as_mut().and_then(|s| s.timer()) {
            f(timer);
        }
    }

    /// How much a pull for a read that needs `need` bytes asks for (it may take
    /// `bulk_units` 64 KiB windows); at most `MAX_BULK_PULL`.
    #[inline]
    fn window(&self, need: usize) -> usize {
        self.buf
            .pull_window(need)
            .max(self.bulk_units as usize * MAX_PULL)
            .min((self.pull_hint as usize).max(need))
    }

    /// One pull from the source of at most `window` bytes; `Ready(true)` when bytes
    /// arrived.
    #[inline]
    fn pull(&mut self, cx: &mut Context<'_>, window: usize) -> Poll<bool> {
        let Some(source) = self.source.as_mut() else {
            return Poll::Ready(false);
        };
        match source.poll_pull(cx, self.buf.pull_target(), window) {
            Poll::Ready(Ok(0)) => self.mark_eof(),
            Poll::Ready(Ok(n)) => {
                if self.timed.tells_arrivals() {
                    self.with_timer(ReadTimer::bytes_arrived);
                }
                self.adapt_pull_hint(n, window);
                self.buf.after_pull();
                return Poll::Ready(true);
            }
            Poll::Ready(Err(err)) => {
                self.source = None;
                self.shared.set_exception(err.into());
            }
            Poll::Pending => return Poll::Pending,
        }
        Poll::Ready(false)
    }

    #[inline]
    fn adapt_pull_hint(&mut self, got: usize, window: usize) {
        if got >= window {
            // Twice the window that filled: a hint above `MAX_PULL` comes only from
            // `read(n)` pulls larger than that (other reads' windows stop at `MAX_PULL`).
            let grown = window.saturating_mul(2).min(MAX_PULL_HINT as usize) as u32;
            self.pull_hint = self.pull_hint.max(grown);
            self.small_pulls = 0;
        } else if got * 4 < self.pull_hint as usize {
            self.small_pulls += 1;
            if self.small_pulls == 2 {
                self.pull_hint = (self.pull_hint / 2).max(MIN_PULL);
                self.small_pulls = 0;
            }
        } else {
            self.small_pulls = 0;
        }
    }

    /// In-memory and file sources often hand out small pieces: keep pulling while they
    /// have more, up to one window, as long as the buffer stays within `want.merge_to`
    /// (below it, merging pieces cannot change what a read returns; see [`Want`]).
    /// Sockets are not merged: an extra read that finds nothing costs a system call.
    #[inline]
    fn merge_short_reads(&mut self, cx: &mut Context<'_>, want: Want) {
        if self.buf.len() < want.merge_to
            && self.source.as_ref().is_some_and(|s| s.merges_short_reads())
        {
            self.merge_more(cx, want);
        }
    }

    #[inline(never)]
    fn merge_more(&mut self, cx: &mut Context<'_>, want: Want) {
        let start = self.buf.len();
        // (Not while discarding: the buffer does not grow then.)
        while !self.buf.eof
            && !self.buf.is_discarding()
            && self.buf.len() < want.merge_to
            && self.buf.len() - start < MAX_PULL
        {
            match self.pull(cx, self.window(1)) {
                Poll::Ready(true) => {}
                Poll::Ready(false) | Poll::Pending => break,
            }
        }
    }

    /// Registers for wake-ups from feeders (only needed when a feeder can exist).
    #[inline]
    fn park(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if Arc::strong_count(&self.shared) == 1 && self.source.is_some() {
            return Poll::Pending;
        }
        if self.shared.park(cx) {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// A read [`StreamReader::poll_op`] drives: a [`ReadOp`] of the sans-I/O core, or a
/// tokio-util decoder's read (`codec` feature), which completes with `Ok(empty)` and keeps
/// its item itself.
pub(crate) trait Op {
    /// [`ReadOp::step`].
    fn step(&mut self, buf: &mut ReadBuffer, exception_stored: bool) -> Step;
    /// [`ReadOp::has_started`].
    fn has_started(&self) -> bool;
    /// [`ReadOp::is_probing`].
    fn is_probing(&self) -> bool;
    /// `ReadOp::is_skipping`.
    fn is_skipping(&self) -> bool {
        false
    }
    /// [`ReadOp::want`].
    fn want(&self, buf: &ReadBuffer) -> Want;
    /// [`ReadOp::finish_without_more`].
    fn finish_without_more(&mut self, buf: &mut ReadBuffer) -> Step;
}

impl Op for ReadOp<'_> {
    #[inline]
    fn step(&mut self, buf: &mut ReadBuffer, exception_stored: bool) -> Step {
        ReadOp::step(self, buf, exception_stored)
    }
    #[inline]
    fn has_started(&self) -> bool {
        ReadOp::has_started(self)
    }
    #[inline]
    fn is_probing(&self) -> bool {
        ReadOp::is_probing(self)
    }
    #[inline]
    fn is_skipping(&self) -> bool {
        ReadOp::is_skipping(self)
    }
    #[inline]
    fn want(&self, buf: &ReadBuffer) -> Want {
        ReadOp::want(self, buf)
    }
    #[inline]
    fn finish_without_more(&mut self, buf: &mut ReadBuffer) -> Step {
        ReadOp::finish_without_more(self, buf)
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

    /// Pulls of one message at a time from a socket: `len` bytes, the window the hint
    /// allows; returns how many pulls each of the last messages took.
    fn pulls_per_message(len: usize) -> Vec<usize> {
        let mut reader = StreamReader::new();
        (0..20)
            .map(|_| {
                let (mut left, mut pulls) = (len, 0);
                while left > 0 {
                    let window = (reader.pull_hint as usize).min(MAX_PULL);
                    let got = left.min(window);
                    reader.adapt_pull_hint(got, window);
                    left -= got;
                    pulls += 1;
                }
                pulls
            })
            .skip(10)
            .collect()
    }

    #[test]
    fn pull_hint_settles_on_one_pull_per_message() {
        // 10 KiB: a full 8 KiB pull doubles the hint, the 2 KiB rest must not halve it.
        for len in [
            100,
            1024,
            4 * 1024,
            4 * 1024 + 512,
            10 * 1024,
            20 * 1024,
            60 * 1024,
        ] {
            assert_eq!(pulls_per_message(len), vec![1; 10], "{len}-byte messages");
        }
        assert_eq!(pulls_per_message(100 * 1024), vec![2; 10]);
    }

    #[test]
    fn pull_hint_shrinks_back_after_small_pulls() {
        let mut reader = StreamReader::new();
        for _ in 0..8 {
            let window = (reader.pull_hint as usize).min(MAX_PULL);
            reader.adapt_pull_hint(window, window);
        }
        assert_eq!(reader.pull_hint as usize, 2 * MAX_PULL);
        for _ in 0..10 {
            reader.adapt_pull_hint(100, reader.pull_hint as usize);
        }
        assert_eq!(reader.pull_hint, MIN_PULL);
    }
}
