//! [`RecordLimit`]: one read's limit on its record, and what an over-long record does.

use bytes::Bytes;

use super::buffer::{ReadBuffer, check_limit};
use super::op::Step;
use super::search::{Found, Separators};
use crate::Error;

/// What `readline`/`readuntil` do with a record longer than their limit.
///
/// asyncio knows only [`Error`](Overlong::Error). Netty's `LineBasedFrameDecoder`
/// (`failFast`), tokio-util's `LinesCodec` (which discards up to the next newline after
/// `MaxLineLengthExceeded`) and nginx (`client_header_buffer_size` then 400/414) are the
/// models for the other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Overlong {
    /// The read fails with [`Error::LimitOverrun`], as asyncio's: `readuntil` keeps the
    /// buffer for the caller; `readline` drops the line (in [`Mode::Aiostreams`], the
    /// rest of it too as it arrives).
    ///
    /// [`Mode::Aiostreams`]: super::Mode::Aiostreams
    #[default]
    Error,
    /// The record is dropped through its separator, as its bytes arrive (memory stays
    /// within one pull window, whatever the record's length), then the read fails with
    /// [`Error::OverlongDiscarded`] carrying how many bytes were dropped, separator
    /// included; the next read starts at the next record. At EOF before the separator,
    /// every byte of the record is dropped and counted the same way.
    DiscardToSeparator,
}

/// A limit on one `readline`/`readuntil`'s record and what an over-long one does: the
/// reader's limit and [`Overlong::Error`] unless a read says otherwise.
///
/// asyncio's limit is per reader, fixed at creation; this is per call (the reader's own
/// can change too: [`ReadBuffer::set_limit`]).
///
/// # Examples
///
/// ```
/// use aiostreams::sansio::{Overlong, RecordLimit};
/// let limit = RecordLimit::new(1024)?.on_overlong(Overlong::DiscardToSeparator);
/// assert_eq!((limit.limit(), limit.overlong()), (1024, Overlong::DiscardToSeparator));
/// assert!(RecordLimit::new(0).is_err());
/// # Ok::<(), aiostreams::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct RecordLimit {
    limit: usize,
    overlong: Overlong,
}

impl RecordLimit {
    /// Records of at most `limit` bytes (separator excluded), [`Overlong::Error`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`) when `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Overlong, RecordLimit};
    /// assert_eq!(RecordLimit::new(80)?.overlong(), Overlong::Error);
    /// let err = RecordLimit::new(0).unwrap_err();
    /// assert_eq!(err.to_string(), "Limit cannot be <= 0");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn new(limit: usize) -> Result<Self, Error> {
        Ok(RecordLimit {
            limit: check_limit(limit)?,
            overlong: Overlong::Error,
        })
    }

    /// What an over-long record does.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Overlong, RecordLimit};
    /// let skip = RecordLimit::new(80)?.on_overlong(Overlong::DiscardToSeparator);
    /// assert_eq!(skip.overlong(), Overlong::DiscardToSeparator);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn on_overlong(mut self, overlong: Overlong) -> Self {
        self.overlong = overlong;
        self
    }

    /// The longest record accepted, separator excluded.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::RecordLimit;
    /// assert_eq!(RecordLimit::new(80)?.limit(), 80);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// What an over-long record does.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Overlong, RecordLimit};
    /// assert_eq!(RecordLimit::new(80)?.overlong(), Overlong::Error);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn overlong(&self) -> Overlong {
        self.overlong
    }
}

/// Skipping an over-long record: drops what is buffered up to its separator (keeping
/// the bytes a separator split across arrivals may start with), counting into `dropped`.
pub(super) fn step_skip(
    buf: &mut ReadBuffer,
    seps: &Separators<'_>,
    dropped: &mut usize,
    resume: &mut bool,
) -> Step {
    let mut offset = 0;
    if let Found::Record { end, .. } = seps.search(buf.buffer(), &mut offset, usize::MAX) {
        buf.discard(end);
        *dropped += end;
        *resume = true;
        return discarded(*dropped);
    }
    if buf.eof {
        *dropped += buf.len();
        buf.take_all();
        return discarded(*dropped);
    }
    let keep = (seps.max_len() - 1).min(buf.len());
    let drop = buf.len() - keep;
    buf.discard(drop);
    *dropped += drop;
    Step::NeedMore
}

fn discarded(dropped: usize) -> Step {
    Step::Done(Err(Error::OverlongDiscarded { dropped }))
}

/// `readline` under a per-call limit, on buffered data: a whole line within `limit`
/// (the fast path's rule with another limit), or `None` and nothing changes.
#[inline]
pub(crate) fn take_line_within(buf: &mut ReadBuffer, limit: usize) -> Option<Bytes> {
    let newline = memchr::memchr(b'\n', buf.buffer())?;
    (newline <= limit).then(|| buf.take(newline + 1))
}
