//! Every rule of the core, synchronously (spec section numbers in the modules' docs): the
//! shared helpers here, one module per part of the rules.

use bytes::BytesMut;

use super::buffer::RETAIN_CAPACITY;
use super::*;
use crate::Error;

mod check_order;
mod cut;
mod feed;
mod line;
mod memory;
mod sized;
mod step;
mod until;

fn buf(bytes: &[u8], eof: bool) -> ReadBuffer {
    mode_buf(bytes, eof, 64 * 1024, Mode::Aiostreams)
}

fn mode_buf(bytes: &[u8], eof: bool, limit: usize, mode: Mode) -> ReadBuffer {
    let mut b = ReadBuffer::new(limit, mode).unwrap();
    b.feed(bytes).unwrap();
    if eof {
        b.feed_eof();
    }
    b
}

fn done(step: Step) -> Result<bytes::Bytes, Error> {
    match step {
        Step::Done(r) => r,
        other => panic!("not done: {other:?}"),
    }
}

fn run(op: &mut ReadOp<'_>, b: &mut ReadBuffer) -> Result<bytes::Bytes, Error> {
    done(op.step(b, false))
}

fn limit_error(r: Result<bytes::Bytes, Error>) -> (usize, bool) {
    match r {
        Err(Error::LimitOverrun {
            consumed,
            separator_found,
        }) => (consumed, separator_found),
        other => panic!("not a limit error: {other:?}"),
    }
}
