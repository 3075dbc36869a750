//! What a [`ReadOp`] has done so far (started, asyncio's transport check, probing,
//! skipping) and what a pull should bring it next ([`Want`]).

use super::{Kind, ReadOp, Want};
use crate::sansio::buffer::{MAX_PULL, ReadBuffer};
use crate::sansio::frame::frame_need;

impl ReadOp<'_> {
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
    /// [`FlowControl::resume_after_read`]: crate::sansio::FlowControl::resume_after_read
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

    /// True while an over-long record is being dropped ([`Overlong::DiscardToSeparator`]).
    pub(crate) fn is_skipping(&self) -> bool {
        matches!(self.kind, Kind::Skip { .. })
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
