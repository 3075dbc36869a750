//! The rules of `readline()`: `readuntil(b"\n")` with asyncio's three conversions, and
//! the look for the rest of an over-long line among bytes already received
//! ([`Mode::Aiostreams`]).

use super::{NEWLINE, Probe, Step};
use crate::Error;
use crate::sansio::buffer::ReadBuffer;
use crate::sansio::search::Found;
use crate::sansio::{Mode, PROBE_BUDGET};

/// asyncio's `readline()`: `readuntil(b"\n")` with its three conversions (spec 3.8).
pub(super) fn step_readline(
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
pub(super) fn probe_step(buf: &mut ReadBuffer, probe: &mut Probe, resume: &mut bool) -> Step {
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
pub(super) fn line_error(consumed: usize, separator_found: bool, resume: &mut bool) -> Step {
    *resume = true;
    Step::Done(Err(Error::LimitOverrun {
        consumed,
        separator_found,
    }))
}
