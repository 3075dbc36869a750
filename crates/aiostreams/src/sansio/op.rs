//! [`ReadOp`]: one asyncio read as a resumable operation, and its [`Step`] outcomes.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};

use super::buffer::{MAX_PULL, ReadBuffer};
use super::frame::{FrameSpec, frame_need, step_frame};
use super::record::{Overlong, RecordLimit, step_skip};
use super::search::{Found, Separators};
use super::{Mode, PROBE_BUDGET};
use crate::Error;

/// What one [`ReadOp::step`] decided.
#[derive(Debug)]
#[must_use]
pub enum Step {
    /// The read is complete: return this value or raise this error. Call
    /// [`ReadOp::resumes_transport`] to know whether asyncio would now check flow control.
    Done(Result<Bytes, Error>),
    /// Wait until bytes or EOF arrive (or the wait is ended by an exception), then step
    /// again. Before waiting, ask [`FlowControl::resume_before_wait`].
    ///
    /// [`FlowControl::resume_before_wait`]: super::FlowControl::resume_before_wait
    NeedMore,
    /// The read has its answer unless bytes the transport has *already received* change
    /// it: append those (without waiting for new ones) and step again, or, when there
    /// are none, call [`ReadOp::finish_without_more`]. Only `readline` in
    /// [`Mode::Aiostreams`] returns this, right after its limit error, to tell "the rest
    /// of the line is already here" from "it is still to come". A reader whose buffer
    /// already holds everything received (a fed reader) calls `finish_without_more` at
    /// once.
    NeedMoreIfReady,
    /// Raise the reader's stored exception (asyncio's `raise self._exception`). The read
    /// is over; the buffer is unchanged.
    RaiseStored,
}

/// One asyncio read (`read`, `readexactly`, `readuntil`, `readline`) as an object that
/// is stepped against a [`ReadBuffer`] until it completes.
///
/// The constructors validate the arguments as asyncio does before anything else (so an
/// invalid separator is reported even when an exception is stored). The operation keeps
/// its progress between steps: a separator search resumes where the last step stopped
/// instead of rescanning, and (in [`Mode::AsyncioExact`]) `read(-1)` keeps the bytes it
/// gathered. `ReadOp<'static>` (owned separators) can be kept across wake-ups anywhere,
/// e.g. inside a Python awaitable.
///
/// Bytes leave the buffer only when the operation completes, except in asyncio's own
/// `read(-1)` (exact mode), which gathers as it goes and loses what it gathered if it is
/// abandoned or an exception is raised, as asyncio's does.
///
/// # Examples
///
/// ```
/// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
///
/// let mut buf = ReadBuffer::new(64, Mode::default())?;
/// let mut op = ReadOp::readexactly_signed(4)?;
/// buf.feed(b"ab")?;
/// assert!(matches!(op.step(&mut buf, false), Step::NeedMore));
/// buf.feed(b"cdef")?;
/// let Step::Done(Ok(bytes)) = op.step(&mut buf, false) else { panic!() };
/// assert_eq!(bytes, "abcd");
/// assert_eq!(buf.buffer(), b"ef");
/// assert_eq!(
///     ReadOp::readexactly_signed(-1).unwrap_err().to_string(),
///     "readexactly size can not be less than zero"
/// );
/// # Ok::<(), aiostreams::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a read operation does nothing until stepped"]
pub struct ReadOp<'a> {
    kind: Kind<'a>,
    /// `step` was called at least once.
    started: bool,
    /// asyncio would call `_maybe_resume_transport` after how this read completed.
    resume: bool,
    /// [`Overlong::DiscardToSeparator`] (with a `record_limit`).
    discard: bool,
    /// A `readline`/`readuntil`'s own limit ([`with_limit`](Self::with_limit)); 0: the
    /// buffer's (a limit is never 0).
    record_limit: usize,
}

#[derive(Debug)]
enum Kind<'a> {
    Read(usize),
    /// `read(-1)`; the bytes gathered so far (asyncio-exact mode only).
    ToEof(BytesMut),
    Exactly(usize),
    Until {
        seps: Separators<'a>,
        offset: usize,
    },
    Line {
        offset: usize,
        probe: Option<Probe>,
    },
    /// A length-prefixed frame.
    Frame(FrameSpec),
    /// Wait for `n` buffered bytes (or EOF) and consume nothing.
    Peek(usize),
    /// Dropping an over-long record through its separator ([`Overlong::DiscardToSeparator`]).
    Skip {
        seps: Separators<'a>,
        dropped: usize,
    },
}

/// `readline` after its limit error, looking for the rest of the over-long line among
/// bytes already received.
#[derive(Debug, Clone, Copy)]
struct Probe {
    /// asyncio's `consumed` when the limit error was detected ("not found").
    consumed: usize,
    /// Bytes of the line dropped so far.
    dropped: usize,
    /// Bytes the probe may still drop before it reports "not found".
    budget: usize,
}

/// What a pull should bring for the read in progress.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Want {
    /// Bytes the read needs at least (a pull may bring more).
    pub(crate) need: usize,
    /// A mergeable source may be pulled repeatedly while the buffer is shorter than
    /// this. Reads whose result depends on how bytes were split (`read(n)`) use 0;
    /// separator reads use the limit (below it no limit error can depend on the split).
    pub(crate) merge_to: usize,
}

impl ReadOp<'static> {
    /// asyncio `read(n)` for `n >= 0`: up to `n` bytes, as soon as any are buffered;
    /// `read(0)` returns empty at once (after the stored-exception check); at EOF with
    /// nothing buffered, empty. The limit does not apply.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// assert!(matches!(ReadOp::read(4).step(&mut buf, false), Step::NeedMore));
    /// buf.feed(b"abcdef")?;
    /// assert!(matches!(ReadOp::read(4).step(&mut buf, false), Step::Done(Ok(b)) if b == "abcd"));
    /// assert!(matches!(ReadOp::read(0).step(&mut buf, false), Step::Done(Ok(b)) if b.is_empty()));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn read(n: usize) -> Self {
        Self::new(Kind::Read(n))
    }

    /// asyncio `read(n)` with Python's signed `n`: any negative value is `read(-1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"all")?;
    /// buf.feed_eof();
    /// // Python's read(-1): everything up to EOF.
    /// assert!(matches!(ReadOp::read_signed(-1).step(&mut buf, false), Step::Done(Ok(b)) if b == "all"));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn read_signed(n: i64) -> Self {
        match usize::try_from(n) {
            Ok(n) => Self::read(n),
            Err(_) => Self::read_to_eof(),
        }
    }

    /// asyncio `read(-1)`: every byte up to EOF, not bounded by the limit.
    ///
    /// [`Mode::Aiostreams`] keeps the bytes in the buffer until EOF (abandoning the
    /// operation loses nothing; a stored exception leaves them buffered).
    /// [`Mode::AsyncioExact`] gathers them out of the buffer as they arrive, as asyncio's
    /// loop of `read(limit)` calls does, and checks the stored exception before each.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(4, Mode::default())?;
    /// let mut op = ReadOp::read_to_eof();
    /// buf.feed(b"more than the limit")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore)); // not at EOF yet
    /// buf.feed_eof();
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(b)) if b == "more than the limit"));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn read_to_eof() -> Self {
        Self::new(Kind::ToEof(BytesMut::new()))
    }

    /// asyncio `readexactly(n)`: exactly `n` bytes, or at EOF `IncompleteRead` with
    /// every buffered byte (the buffer is then left empty). `n` may exceed the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"\x00\x05hel")?;
    /// assert!(matches!(ReadOp::readexactly(2).step(&mut buf, false), Step::Done(Ok(b)) if b == "\x00\x05"));
    /// buf.feed_eof();
    /// let Step::Done(Err(Error::IncompleteRead { partial, expected })) =
    ///     ReadOp::readexactly(5).step(&mut buf, false)
    /// else {
    ///     panic!("EOF came first");
    /// };
    /// assert_eq!((&partial[..], expected), (&b"hel"[..], Some(5)));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readexactly(n: usize) -> Self {
        Self::new(Kind::Exactly(n))
    }

    /// [`readexactly`](Self::readexactly) with Python's signed `n`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"readexactly size can not be less than zero"`) for a
    /// negative `n`: asyncio checks it before the stored exception.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::ReadOp;
    ///
    /// assert!(ReadOp::readexactly_signed(3).is_ok());
    /// let err = ReadOp::readexactly_signed(-1).unwrap_err();
    /// assert_eq!(err.to_string(), "readexactly size can not be less than zero");
    /// ```
    pub fn readexactly_signed(n: i64) -> Result<Self, Error> {
        usize::try_from(n)
            .map(Self::readexactly)
            .map_err(|_| Error::InvalidArgument("readexactly size can not be less than zero"))
    }

    /// asyncio `readline()`: `readuntil(b"\n")`, but at EOF the unterminated last line
    /// (or empty) is returned, and a line over the limit is dropped before the error:
    /// through its `\n` if it was seen, else the whole buffer, and in
    /// [`Mode::Aiostreams`] also the rest of the line as it arrives.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"one\ntwo")?;
    /// assert!(matches!(ReadOp::readline().step(&mut buf, false), Step::Done(Ok(b)) if b == "one\n"));
    /// assert!(matches!(ReadOp::readline().step(&mut buf, false), Step::NeedMore));
    /// buf.feed_eof(); // the unterminated last line
    /// assert!(matches!(ReadOp::readline().step(&mut buf, false), Step::Done(Ok(b)) if b == "two"));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readline() -> Self {
        Self::new(Kind::Line {
            offset: 0,
            probe: None,
        })
    }

    /// A length-prefixed frame (beyond asyncio): its header, then the payload the header
    /// announces, which is returned without the header. See [`FrameSpec`].
    ///
    /// As soon as the header is buffered its length is checked against
    /// [`FrameSpec::max_len`]: over it the step is [`Error::FrameTooLarge`] and nothing is
    /// consumed, before any payload byte is waited for. At EOF: `IncompleteRead` with every
    /// buffered byte (the buffer is then left empty) and `expected: Some(n)` (the header's
    /// width while the header is incomplete, else header + payload); an empty `partial`
    /// means EOF came at a frame boundary. The limit does not apply.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{FrameSpec, Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// let spec = FrameSpec::u16_be().max_frame(100);
    /// let mut op = ReadOp::frame(spec);
    /// buf.feed(b"\x00\x03ab")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore));
    /// buf.feed(b"c\x01\x00")?;
    /// let Step::Done(Ok(frame)) = op.step(&mut buf, false) else { panic!() };
    /// assert_eq!(frame, "abc");
    /// // A 256-byte frame is over the maximum: refused before its payload arrives.
    /// let Step::Done(Err(err)) = ReadOp::frame(spec).step(&mut buf, false) else { panic!() };
    /// assert_eq!(err.to_string(), "frame of 256 bytes exceeds the maximum of 100 bytes");
    /// assert_eq!(buf.buffer(), b"\x01\x00"); // nothing consumed
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn frame(spec: FrameSpec) -> Self {
        Self::new(Kind::Frame(spec))
    }

    /// Waits until `n` bytes are buffered, or EOF, and consumes nothing (beyond asyncio;
    /// Go's `bufio.Reader.Peek`). The step is `Done(Ok(empty))` once the bytes are there
    /// (or EOF came): look at [`ReadBuffer::buffer`]. `n` over the buffer's limit is
    /// `Done(Err(`[`Error::InvalidArgument`]`))` at once, before the stored exception: a
    /// peek may not buffer past the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// let mut op = ReadOp::peek(3);
    /// buf.feed(b"ab")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore));
    /// buf.feed(b"cd")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(b)) if b.is_empty()));
    /// assert_eq!(buf.buffer(), b"abcd");
    /// assert!(matches!(ReadOp::peek(65).step(&mut buf, false), Step::Done(Err(_))));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn peek(n: usize) -> Self {
        Self::new(Kind::Peek(n))
    }

    /// [`readuntil`](ReadOp::readuntil) with an owned separator.
    ///
    /// # Errors
    ///
    /// As [`readuntil`](ReadOp::readuntil).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// // An owned separator: the operation can outlive the caller's bytes (kept in a future).
    /// let separator = String::from("\r\n\r\n").into_bytes();
    /// let mut op = ReadOp::readuntil_owned(separator)?;
    /// let mut buf = ReadBuffer::new(1024, Mode::default())?;
    /// buf.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(head)) if head.ends_with(b"\r\n\r\n")));
    /// assert_eq!(buf.buffer(), b"body");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readuntil_owned(separator: Vec<u8>) -> Result<Self, Error> {
        Self::until(Separators::one(Cow::Owned(separator))?)
    }

    /// [`readuntil_any`](ReadOp::readuntil_any) with owned separators.
    ///
    /// # Errors
    ///
    /// As [`readuntil_any`](ReadOp::readuntil_any).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut op = ReadOp::readuntil_any_owned(vec![b"\n".to_vec(), b"\r\n".to_vec()])?;
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"a\r\nb")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(b)) if b == "a\r\n"));
    /// assert!(ReadOp::readuntil_any_owned(Vec::new()).is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readuntil_any_owned(separators: Vec<Vec<u8>>) -> Result<Self, Error> {
        Self::until(Separators::many(
            separators.into_iter().map(Cow::Owned).collect(),
        )?)
    }
}

impl<'a> ReadOp<'a> {
    fn new(kind: Kind<'a>) -> Self {
        ReadOp {
            kind,
            started: false,
            resume: false,
            discard: false,
            record_limit: 0,
        }
    }

    /// asyncio `readuntil(separator)`: up to and including the first `separator`.
    ///
    /// The record (without the separator) may be `limit` bytes long; over that the read
    /// fails with [`Error::LimitOverrun`] and leaves the buffer intact; the limit is
    /// checked before EOF; at EOF without a separator, `IncompleteRead` with every
    /// buffered byte (the buffer is then left empty).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Separator should be at least one-byte string"`) for
    /// an empty separator.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(16, Mode::default())?;
    /// buf.feed(b"key=value;rest")?;
    /// assert!(matches!(ReadOp::readuntil(b";")?.step(&mut buf, false), Step::Done(Ok(b)) if b == "key=value;"));
    /// buf.feed(b" and far too long for the limit")?;
    /// let step = ReadOp::readuntil(b";")?.step(&mut buf, false);
    /// assert!(matches!(step, Step::Done(Err(Error::LimitOverrun { separator_found: false, .. }))));
    /// assert_eq!(buf.buffer(), b"rest and far too long for the limit"); // left intact
    /// assert!(ReadOp::readuntil(b"").is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readuntil(separator: &'a [u8]) -> Result<Self, Error> {
        Self::until(Separators::one(Cow::Borrowed(separator))?)
    }

    /// asyncio 3.13 `readuntil((sep1, sep2, ...))`: whichever separator ends first; on a
    /// tie the shorter; the "not found" limit check uses the longest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`]: `"Separator should contain at least one element"` for
    /// an empty list, `"Separator should be at least one-byte string"` when one is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"x;y,")?;
    /// // Whichever separator ends first.
    /// assert!(matches!(ReadOp::readuntil_any(&[b",", b";"])?.step(&mut buf, false), Step::Done(Ok(b)) if b == "x;"));
    /// assert!(ReadOp::readuntil_any(&[]).is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readuntil_any(separators: &[&'a [u8]]) -> Result<Self, Error> {
        Self::until(Separators::many(
            separators.iter().map(|s| Cow::Borrowed(*s)).collect(),
        )?)
    }

    /// This `readline`/`readuntil`/`readuntil_any` with its own limit and overrun policy
    /// instead of the buffer's limit and [`Overlong::Error`] (beyond asyncio). Other
    /// reads ignore it.
    ///
    /// With [`Overlong::DiscardToSeparator`], a record over `limit` is dropped as it
    /// arrives: each step drops what is buffered (keeping only the bytes a separator
    /// split between two arrivals could start with) and returns [`Step::NeedMore`] until
    /// the separator; then the step is `Done(Err(`[`Error::OverlongDiscarded`]`))` with
    /// the number of bytes dropped, separator included, and the buffer starts at the next
    /// record. At EOF first, every byte is dropped and counted the same way.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use aiostreams::sansio::{Mode, Overlong, ReadBuffer, ReadOp, RecordLimit, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// let limit = RecordLimit::new(4)?.on_overlong(Overlong::DiscardToSeparator);
    /// let mut op = ReadOp::readline().with_limit(limit);
    /// buf.feed(b"far too lo")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore));
    /// assert!(buf.is_empty(), "dropped as it arrives");
    /// buf.feed(b"ng\nnext\n")?;
    /// let Step::Done(Err(Error::OverlongDiscarded { dropped })) = op.step(&mut buf, false) else { panic!() };
    /// assert_eq!(dropped, 13);
    /// assert_eq!(buf.buffer(), b"next\n");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn with_limit(mut self, limit: RecordLimit) -> Self {
        self.record_limit = limit.limit();
        self.discard = limit.overlong() == Overlong::DiscardToSeparator;
        self
    }

    /// Gives up this read: call it instead of just dropping an operation that may be
    /// skipping an over-long line ([`Overlong::DiscardToSeparator`]), so that the rest of
    /// the line is still dropped as it arrives ([`ReadBuffer::is_discarding`]) rather
    /// than read as the next line. (An abandoned `readuntil` skip cannot know its
    /// separator later: the rest of that record is then read as data.) Any other
    /// operation is simply dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, Overlong, ReadBuffer, ReadOp, RecordLimit, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// let limit = RecordLimit::new(4)?.on_overlong(Overlong::DiscardToSeparator);
    /// let mut op = ReadOp::readline().with_limit(limit);
    /// buf.feed(b"far too lo")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore));
    /// op.abandon(&mut buf); // e.g. the caller's read was cancelled mid-skip
    /// assert!(buf.is_discarding());
    /// buf.feed(b"ng\nnext\n")?;
    /// let mut next = ReadOp::readline();
    /// let Step::Done(Ok(line)) = next.step(&mut buf, false) else { panic!() };
    /// assert_eq!(&line[..], b"next\n", "the rest of the long line was still dropped");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn abandon(self, buf: &mut ReadBuffer) {
        if let Kind::Skip { seps, .. } = &self.kind
            && seps.is_newline()
        {
            buf.discard_rest_of_line();
        }
    }

    fn until(seps: Separators<'a>) -> Result<Self, Error> {
        Ok(Self::new(Kind::Until { seps, offset: 0 }))
    }

    /// True once [`step`](Self::step) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// let mut op = ReadOp::readline();
    /// assert!(!op.has_started());
    /// let _ = op.step(&mut buf, false);
    /// assert!(op.has_started());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn has_started(&self) -> bool {
        self.started
    }

    /// Whether asyncio would call its "maybe resume the transport" check after this read
    /// completed the way it did: after `read`, `readexactly` and `readuntil` returning
    /// bytes and after `readline`'s limit error, not after an error or `readline`'s
    /// unterminated last line. Then ask [`FlowControl::resume_after_read`].
    ///
    /// [`FlowControl::resume_after_read`]: super::FlowControl::resume_after_read
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"line\nlast")?;
    /// let mut op = ReadOp::readline();
    /// let _ = op.step(&mut buf, false);
    /// assert!(op.resumes_transport()); // a line was returned: ask FlowControl::resume_after_read
    /// buf.feed_eof();
    /// let mut last = ReadOp::readline();
    /// let _ = last.step(&mut buf, false);
    /// assert!(!last.resumes_transport()); // the unterminated last line: asyncio does not
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn resumes_transport(&self) -> bool {
        self.resume
    }

    /// Advances the read as far as `buf` allows.
    ///
    /// `exception_stored`: whether the reader holds a stored exception now (asyncio's
    /// `self._exception is not None`). The operation looks at it where asyncio does: at
    /// its first step (so a stored exception is raised ahead of buffered data), and in
    /// [`Mode::AsyncioExact`]'s `read(-1)` before each block. A *wait* that ends because
    /// an exception was set (asyncio's waiter raising it) is the caller's to raise: it
    /// does not step again.
    ///
    /// Once this returned [`Step::Done`] or [`Step::RaiseStored`], the operation is
    /// finished; stepping it again is a logic error (it reads anew).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// let mut op = ReadOp::readexactly(4);
    /// buf.feed(b"ab")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore)); // wait for bytes, then step again
    /// buf.feed(b"cd")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(b)) if b == "abcd"));
    /// // A stored exception is raised ahead of buffered bytes.
    /// buf.feed(b"ef")?;
    /// assert!(matches!(ReadOp::read(2).step(&mut buf, true), Step::RaiseStored));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn step(&mut self, buf: &mut ReadBuffer, exception_stored: bool) -> Step {
        // The common step of a read that waits: nothing buffered yet. Every read that
        // can wait then waits (what the full rules below decide too), so skip them.
        if !exception_stored && buf.is_empty() && !buf.eof && self.waits_when_empty(buf) {
            self.started = true;
            return Step::NeedMore;
        }
        // After a wait, once the bytes are there: what the rules decide, without them.
        if !exception_stored
            && self.record_limit == 0
            && let Some(taken) = self.take_fast(buf)
        {
            self.started = true;
            self.resume = true;
            return Step::Done(Ok(taken));
        }
        match self.record_limit {
            0 => self.step_rules(buf, exception_stored),
            limit => self.step_limited(buf, exception_stored, limit),
        }
    }

    /// The common outcomes of `read(n)`, `readexactly(n)` and `readline()` once bytes
    /// are buffered (no exception stored, no record limit): the bytes the full rules
    /// would take, or `None` for every other case, the buffer unchanged. `readline` only
    /// before its first search (a whole line arrived while it waited); a line not there
    /// yet, within the limit, advances the search offset as the rules' search would, so
    /// they do not search those bytes again.
    #[inline]
    fn take_fast(&mut self, buf: &mut ReadBuffer) -> Option<Bytes> {
        match &mut self.kind {
            Kind::Read(n) if *n > 0 => buf.take_some(*n),
            Kind::Exactly(n) if *n > 0 => buf.take_exactly(*n),
            Kind::Line {
                offset: offset @ 0,
                probe: None,
            } => match super::search::find_newline(buf.buffer()) {
                Some(newline) if newline <= buf.limit() => Some(buf.take(newline + 1)),
                None if buf.len() <= buf.limit() => {
                    *offset = buf.len();
                    None
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// True when the rules answer [`Step::NeedMore`] to an empty buffer before EOF with
    /// no exception stored: every read but `read(0)`, `readexactly(0)`, `peek(0)` (empty
    /// at once), a `peek` over the limit (an error) and `readline` looking for the rest
    /// of an over-long line.
    #[inline]
    fn waits_when_empty(&self, buf: &ReadBuffer) -> bool {
        match self.kind {
            Kind::Read(n) | Kind::Exactly(n) => n > 0,
            Kind::Peek(n) => 0 < n && n <= buf.limit(),
            Kind::Line { probe, .. } => probe.is_none(),
            Kind::ToEof(_) | Kind::Until { .. } | Kind::Frame(_) | Kind::Skip { .. } => true,
        }
    }

    /// [`step`](Self::step) by the full rules.
    #[inline(never)]
    pub(super) fn step_rules(&mut self, buf: &mut ReadBuffer, exception_stored: bool) -> Step {
        let first = !std::mem::replace(&mut self.started, true);
        let resume = &mut self.resume;
        match &mut self.kind {
            // The line's error is decided: it is reported before a newer exception.
            Kind::Line {
                probe: Some(probe), ..
            } => probe_step(buf, probe, resume),
            Kind::ToEof(gathered) if buf.mode() == Mode::AsyncioExact => {
                step_to_eof_exact(buf, gathered, first, exception_stored, resume)
            }
            Kind::Peek(n) if *n > buf.limit() => Step::Done(Err(Error::InvalidArgument(
                "peek size exceeds the reader's limit",
            ))),
            _ if first && exception_stored => Step::RaiseStored,
            Kind::Frame(spec) => step_frame(buf, spec, resume),
            Kind::Peek(n) if buf.len() < *n && !buf.eof => Step::NeedMore,
            Kind::Peek(_) => Step::Done(Ok(Bytes::new())),
            Kind::Read(n) => step_read(buf, *n, resume),
            Kind::ToEof(_) if buf.eof => {
                *resume = true;
                Step::Done(Ok(buf.take_all()))
            }
            Kind::ToEof(_) => Step::NeedMore,
            Kind::Exactly(n) => step_readexactly(buf, *n, resume),
            Kind::Until { seps, offset } => step_readuntil(buf, seps, offset, resume),
            Kind::Line { offset, probe } => step_readline(buf, offset, probe, resume),
            Kind::Skip { seps, dropped, .. } => step_skip(buf, seps, dropped, resume),
        }
    }

    /// One step of a read with its own limit ([`RecordLimit`]): the buffer's limit is swapped
    /// for the record's during the step (and only then: nothing is left changed if the
    /// read is dropped), and [`Overlong::DiscardToSeparator`] turns an overrun into a
    /// skip. Out of line: reads without a record limit never pay for it.
    #[inline(never)]
    fn step_limited(&mut self, buf: &mut ReadBuffer, exception_stored: bool, limit: usize) -> Step {
        let discard = self.discard;
        let saved = buf.swap_limit(limit);
        let first = !self.started;
        let step = match &mut self.kind {
            Kind::Skip { .. } => self.step_rules(buf, exception_stored),
            // readline is readuntil(b"\n") with the unterminated last line returned
            // (no probing: the skip below drops the rest of the line).
            Kind::Line { offset, .. } if discard && !(first && exception_stored) => {
                self.started = true;
                match step_readuntil(buf, &NEWLINE, offset, &mut self.resume) {
                    Step::Done(Err(Error::IncompleteRead { partial, .. })) => {
                        Step::Done(Ok(partial))
                    }
                    step => step,
                }
            }
            _ => self.step_rules(buf, exception_stored),
        };
        buf.swap_limit(saved);
        let step = match step {
            Step::Done(Err(Error::LimitOverrun { .. })) if discard => self.start_skip(buf),
            step => step,
        };
        if matches!(step, Step::Done(_)) && self.is_skipping() {
            // The record is dropped: nothing is left to abandon.
            self.kind = Kind::Read(0);
        }
        step
    }

    /// [`Overlong::DiscardToSeparator`]: the record is over its limit; drop it.
    fn start_skip(&mut self, buf: &mut ReadBuffer) -> Step {
        // (`Read(0)` only holds the place while the separators move.)
        let seps = match std::mem::replace(&mut self.kind, Kind::Read(0)) {
            Kind::Until { seps, .. } => seps,
            _ => NEWLINE,
        };
        let mut dropped = 0;
        let step = step_skip(buf, &seps, &mut dropped, &mut self.resume);
        self.kind = Kind::Skip { seps, dropped };
        step
    }

    /// True while an over-long record is being dropped ([`Overlong::DiscardToSeparator`]).
    pub(crate) fn is_skipping(&self) -> bool {
        matches!(self.kind, Kind::Skip { .. })
    }

    /// Finishes a read that returned [`Step::NeedMoreIfReady`] when no further received
    /// bytes are available.
    ///
    /// For `readline`: the limit error ("Separator is not found, and chunk exceed the
    /// limit"); the buffer then keeps dropping the rest of the line as it arrives
    /// ([`ReadBuffer::is_discarding`]). For a read in any other state it is the same as
    /// [`step`](Self::step) without an exception.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(4, Mode::Aiostreams)?;
    /// buf.feed(b"longer than four")?;
    /// let mut op = ReadOp::readline();
    /// // Over the limit, no `\n` buffered: a pulling reader may look at what it received...
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMoreIfReady));
    /// // ...and when nothing more is there, the limit error; the rest of the line is dropped.
    /// let step = op.finish_without_more(&mut buf);
    /// assert!(matches!(step, Step::Done(Err(Error::LimitOverrun { separator_found: false, .. }))));
    /// assert!(buf.is_discarding());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn finish_without_more(&mut self, buf: &mut ReadBuffer) -> Step {
        match &self.kind {
            Kind::Line {
                probe: Some(probe), ..
            } => {
                buf.discarding = !buf.eof;
                line_error(probe.consumed, false, &mut self.resume)
            }
            _ => self.step(buf, false),
        }
    }

    /// True while `readline` looks for the rest of an over-long line
    /// ([`Step::NeedMoreIfReady`]).
    pub(crate) fn is_probing(&self) -> bool {
        matches!(self.kind, Kind::Line { probe: Some(_), .. })
    }

    /// What a pull should bring for this read (the tokio reader's pull sizing).
    #[inline]
    pub(crate) fn want(&self, buf: &ReadBuffer) -> Want {
        let (need, merge_to) = match &self.kind {
            Kind::Read(_) => (1, 0),
            Kind::ToEof(_) => (MAX_PULL, usize::MAX),
            Kind::Exactly(n) => (n.saturating_sub(buf.len()), *n),
            Kind::Line { probe: Some(_), .. } => (1, 0),
            Kind::Frame(spec) => (frame_need(buf, spec), 0),
            Kind::Peek(n) => (n.saturating_sub(buf.len()), *n),
            Kind::Skip { .. } => (1, 0),
            // A record limit above the buffer's: pull as if the buffer had it.
            Kind::Until { .. } | Kind::Line { .. } if self.record_limit > buf.limit() => {
                let limit = self.record_limit;
                ((2 * limit).saturating_sub(buf.len()).max(1), limit)
            }
            Kind::Until { .. } | Kind::Line { .. } => (1, buf.limit()),
        };
        Want { need, merge_to }
    }
}

fn step_read(buf: &mut ReadBuffer, n: usize, resume: &mut bool) -> Step {
    if n == 0 {
        return Step::Done(Ok(Bytes::new()));
    }
    if buf.is_empty() && !buf.eof {
        return Step::NeedMore;
    }
    *resume = true;
    let k = n.min(buf.len());
    Step::Done(Ok(buf.take(k)))
}

fn step_readexactly(buf: &mut ReadBuffer, n: usize, resume: &mut bool) -> Step {
    if n == 0 {
        Step::Done(Ok(Bytes::new()))
    } else if buf.len() >= n {
        *resume = true;
        Step::Done(Ok(buf.take(n)))
    } else if buf.eof {
        Step::Done(Err(Error::IncompleteRead {
            partial: buf.take_all(),
            expected: Some(n),
        }))
    } else {
        Step::NeedMore
    }
}

fn step_readuntil(
    buf: &mut ReadBuffer,
    seps: &Separators<'_>,
    offset: &mut usize,
    resume: &mut bool,
) -> Step {
    if buf.is_empty() && !buf.eof {
        // Nothing to search yet (a reader about to wait for input).
        return Step::NeedMore;
    }
    match seps.search(buf.buffer(), offset, buf.limit()) {
        Found::Record { end, .. } => {
            *resume = true;
            Step::Done(Ok(buf.take(end)))
        }
        Found::Overrun {
            consumed,
            separator_found,
        } => Step::Done(Err(Error::LimitOverrun {
            consumed,
            separator_found,
        })),
        Found::NotYet if buf.eof => Step::Done(Err(Error::IncompleteRead {
            partial: buf.take_all(),
            expected: None,
        })),
        Found::NotYet => Step::NeedMore,
    }
}

/// asyncio's `readline()`: `readuntil(b"\n")` with its three conversions (spec 3.8).
fn step_readline(
    buf: &mut ReadBuffer,
    offset: &mut usize,
    probe: &mut Option<Probe>,
    resume: &mut bool,
) -> Step {
    // A whole line arrived while nothing was searched yet: one memchr, the same outcome
    // as the search below (the common case of a reader that waited for a short line).
    if *offset == 0
        && let Some(line) = buf.take_line()
    {
        *resume = true;
        return Step::Done(Ok(line));
    }
    if buf.is_empty() && !buf.eof {
        return Step::NeedMore;
    }
    match NEWLINE.search(buf.buffer(), offset, buf.limit()) {
        Found::Record { end, .. } => {
            *resume = true;
            Step::Done(Ok(buf.take(end)))
        }
        // IncompleteReadError becomes its partial (no transport check in asyncio).
        Found::NotYet if buf.eof => Step::Done(Ok(buf.take_all())),
        Found::NotYet => Step::NeedMore,
        Found::Overrun {
            consumed,
            separator_found: true,
        } => {
            buf.discard(consumed + 1);
            line_error(consumed, true, resume)
        }
        Found::Overrun { consumed, .. } => {
            buf.take_all();
            if buf.mode() == Mode::AsyncioExact || buf.eof {
                return line_error(consumed, false, resume);
            }
            *probe = Some(Probe {
                consumed,
                dropped: consumed,
                budget: PROBE_BUDGET,
            });
            Step::NeedMoreIfReady
        }
    }
}

/// `readline` after its limit error, with more received bytes of the same line.
fn probe_step(buf: &mut ReadBuffer, probe: &mut Probe, resume: &mut bool) -> Step {
    if let Some(i) = memchr::memchr(b'\n', buf.buffer()) {
        buf.discard(i + 1);
        return line_error(probe.dropped + i, true, resume);
    }
    let len = buf.len();
    buf.take_all();
    probe.dropped += len;
    probe.budget = probe.budget.saturating_sub(len);
    if buf.eof || probe.budget == 0 {
        buf.discarding = !buf.eof;
        return line_error(probe.consumed, false, resume);
    }
    Step::NeedMoreIfReady
}

/// readline's `ValueError`, raised after its clean-up and a transport check.
fn line_error(consumed: usize, separator_found: bool, resume: &mut bool) -> Step {
    *resume = true;
    Step::Done(Err(Error::LimitOverrun {
        consumed,
        separator_found,
    }))
}

/// `readline`'s separator.
const NEWLINE: Separators<'static> = Separators::NEWLINE;

/// asyncio's `read(-1)`: a loop of `read(limit)` calls, each checking the stored
/// exception first. After a wait, the `read(limit)` that waited takes its block before
/// the next one checks.
fn step_to_eof_exact(
    buf: &mut ReadBuffer,
    gathered: &mut BytesMut,
    first: bool,
    exception_stored: bool,
    resume: &mut bool,
) -> Step {
    if !first && !buf.is_empty() {
        let block = buf.limit().min(buf.len());
        gathered.extend_from_slice(&buf.take(block));
        *resume = true;
    } else if !first && buf.eof {
        *resume = true;
        return Step::Done(Ok(std::mem::take(gathered).freeze()));
    }
    if exception_stored {
        return Step::RaiseStored;
    }
    if !buf.is_empty() {
        gathered.extend_from_slice(&buf.take_all());
        *resume = true;
    }
    if buf.eof {
        *resume = true;
        Step::Done(Ok(std::mem::take(gathered).freeze()))
    } else {
        Step::NeedMore
    }
}
