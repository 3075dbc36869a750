//! The rules of the reads that count bytes: `read(n)`, asyncio's own `read(-1)` (exact
//! mode) and `readexactly(n)`.

use bytes::{Bytes, BytesMut};

use super::Step;
use crate::Error;
use crate::sansio::buffer::ReadBuffer;

pub(super) fn step_read(buf: &mut ReadBuffer, n: usize, resume: &mut bool) -> Step {
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

pub(super) fn step_readexactly(buf: &mut ReadBuffer, n: usize, resume: &mut bool) -> Step {
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

/// asyncio's `read(-1)`: a loop of `read(limit)` calls, each checking the stored
/// exception first. After a wait, the `read(limit)` that waited takes its block before
/// the next one checks.
pub(super) fn step_to_eof_exact(
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
