//! A `readline`/`readuntil` with its own limit and overrun policy ([`RecordLimit`],
//! beyond asyncio): the limit swapped in for each step, and the skip that drops an
//! over-long record through its separator ([`Overlong::DiscardToSeparator`]).

use super::until::step_readuntil;
use super::{Kind, NEWLINE, ReadOp, Step};
use crate::Error;
use crate::sansio::buffer::ReadBuffer;
use crate::sansio::record::{Overlong, RecordLimit, step_skip};

impl ReadOp<'_> {
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

    /// One step of a read with its own limit ([`RecordLimit`]): the buffer's limit is swapped
    /// for the record's during the step (and only then: nothing is left changed if the
    /// read is dropped), and [`Overlong::DiscardToSeparator`] turns an overrun into a
    /// skip. Out of line: reads without a record limit never pay for it.
    #[inline(never)]
    pub(super) fn step_limited(
        &mut self,
        buf: &mut ReadBuffer,
        exception_stored: bool,
        limit: usize,
    ) -> Step {
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
}
