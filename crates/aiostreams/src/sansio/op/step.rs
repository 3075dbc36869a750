//! Stepping a [`ReadOp`]: the fast path of a read that waits or that the buffer already
//! answers, and the full rules' dispatch on the kind of read, in asyncio's check order
//! (arguments, the stored exception, the buffer).

use bytes::Bytes;

use super::line::{line_error, probe_step, step_readline};
use super::sized::{step_read, step_readexactly, step_to_eof_exact};
use super::until::step_readuntil;
use super::{Kind, ReadOp, Step};
use crate::Error;
use crate::sansio::Mode;
use crate::sansio::buffer::ReadBuffer;
use crate::sansio::frame::step_frame;
use crate::sansio::record::step_skip;
use crate::sansio::search::find_newline;

impl ReadOp<'_> {
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
            } => match find_newline(buf.buffer()) {
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
    pub(in crate::sansio) fn step_rules(
        &mut self,
        buf: &mut ReadBuffer,
        exception_stored: bool,
    ) -> Step {
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
}
