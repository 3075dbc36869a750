//! The rules of `readuntil(separator)` and `readuntil((a, b, ...))`: a resumable search
//! for the separators within the limit.

use super::Step;
use crate::Error;
use crate::sansio::buffer::ReadBuffer;
use crate::sansio::search::{Found, Separators};

pub(super) fn step_readuntil(
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
