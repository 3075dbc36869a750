//! [`ReadOp`]: one asyncio read as a resumable operation, and its [`Step`] outcomes.
//!
//! This file holds the types: the operation, its kinds and its outcomes. The rest is
//! grouped by concept:
//!
//! - [`new`]: the constructors, one per asyncio read (they validate the arguments);
//! - [`limited`]: a read with its own limit and overrun policy, and the skip of an
//!   over-long record;
//! - [`progress`]: what the operation has done so far and what a pull should bring it;
//! - [`step`]: stepping an operation, the fast path and the full rules' dispatch;
//! - [`sized`], [`until`], [`line`]: the rules of each kind of read: `read(n)`,
//!   `read(-1)` and `readexactly(n)`; `readuntil`; `readline` and its limit error.

use bytes::{Bytes, BytesMut};

use super::frame::FrameSpec;
use super::search::Separators;
use crate::Error;

// rustdoc lists the methods in the order of these modules: the constructors first, then
// as the methods were written (a module's own impls would come after its submodules').
mod new;

mod limited;

mod progress;

mod step;

mod line;
mod sized;
mod until;

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
    ///
    /// [`Mode::Aiostreams`]: super::Mode::Aiostreams
    NeedMoreIfReady,
    /// Raise the reader's stored exception (asyncio's `raise self._exception`). The read
    /// is over; the buffer is unchanged.
    RaiseStored,
}

/// One asyncio read (`read`, `readexactly`, `readuntil`, `readline`) as an object that
/// is stepped against a [`ReadBuffer`] until it completes.
///
/// [`ReadBuffer`]: super::ReadBuffer
///
/// The constructors validate the arguments as asyncio does before anything else (so an
/// invalid separator is reported even when an exception is stored). The operation keeps
/// its progress between steps: a separator search resumes where the last step stopped
/// instead of rescanning, and (in [`Mode::AsyncioExact`]) `read(-1)` keeps the bytes it
/// gathered. `ReadOp<'static>` (owned separators) can be kept across wake-ups anywhere,
/// e.g. inside a Python awaitable.
///
/// [`Mode::AsyncioExact`]: super::Mode::AsyncioExact
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

/// `readline`'s separator.
const NEWLINE: Separators<'static> = Separators::NEWLINE;
