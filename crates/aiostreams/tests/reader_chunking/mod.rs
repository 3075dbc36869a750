//! Property tests: how the input is cut into chunks changes nothing it should not change.
//!
//! The reference is a naive model in this file: asyncio's rules (spec 3.6 to 3.8) written
//! over a `Vec<u8>`, with limit errors and readline's cleanup, and a search that simply
//! tries every end position, plus aiostreams' one change to them (`Mode::Aiostreams`):
//! after `readline`'s limit error, the rest of the over-long line is dropped, including
//! its later pieces; a reader pulling from a source first looks at what the source has
//! ready (up to a `Pending`) so that a line already received gets the "found" error. A
//! read of the model either completes or needs more input; apart from that discarding it
//! keeps no state between attempts (asyncio's resumable search offset never changes a
//! result, because no separator can start before it).
//!
//! Properties, for any bytes, any split into chunks, any limit and any list of `readline`
//! / `readuntil` / `readuntil_any` / `readexactly` calls:
//!
//! 1. Fed whole (every chunk, then EOF, before the first read): the results equal the
//!    model's on the whole input, so they are the same for every split, limit errors
//!    included.
//! 2. Fed on demand (the next chunk arrives only when a read cannot complete, through
//!    `feed_data`, or through an `AsyncRead` source: one that returns the chunks one by
//!    one, or a `tokio::io::duplex` pipe): the results equal the model's given the same
//!    chunks at the same moments. For a source, "the same chunks" are the pieces the
//!    source actually handed over, which the test records (the reader may ask for less
//!    than a whole chunk, and a pipe may join chunks).
//! 3. When no limit error occurs with the whole input, the on-demand results equal those
//!    of the whole input, whatever the split. (With limit errors they legitimately
//!    differ: a `readline` that overruns before the line's `\n` arrived reports "not
//!    found" where the whole input gives "found".)
//!
//! 1,000 cases per property by default; more with e.g.
//! `PROPTEST_CASES=20000 cargo test -p aiostreams --release --test all reader_chunking::`.
//!
//! The operations and outcomes are here; the model, the three ways of driving our reader,
//! the strategies and the tests are modules of their own.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use aiostreams::{Error, StreamReader};
use bytes::Bytes;
use proptest::prelude::*;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};

use crate::support::source::ReadFn;

mod examples;
mod fed;
mod model;
mod properties;
mod source;
mod strategies;

use fed::{on_demand_deliveries, ours_fed_on_demand, ours_fed_whole, run_op};
use model::{Delivery, model_on_demand, model_whole};
use source::{check_source_run, chunk_source, ours_from_source};
use strategies::{limit, ops, split_data};

#[derive(Clone, Debug)]
enum Op {
    Readline,
    Readuntil(Vec<u8>),
    ReaduntilAny(Vec<Vec<u8>>),
    Readexactly(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Bytes(Vec<u8>),
    Incomplete {
        partial: Vec<u8>,
        expected: Option<usize>,
    },
    Overrun {
        consumed: usize,
        separator_found: bool,
    },
    Invalid(String),
    Other(String),
}

impl Outcome {
    fn is_limit_error(&self) -> bool {
        matches!(self, Outcome::Overrun { .. })
    }
}

impl From<Result<Bytes, Error>> for Outcome {
    fn from(result: Result<Bytes, Error>) -> Self {
        match result {
            Ok(bytes) => Outcome::Bytes(bytes.to_vec()),
            Err(Error::IncompleteRead { partial, expected }) => Outcome::Incomplete {
                partial: partial.to_vec(),
                expected,
            },
            Err(Error::LimitOverrun {
                consumed,
                separator_found,
            }) => Outcome::Overrun {
                consumed,
                separator_found,
            },
            Err(Error::InvalidArgument(msg)) => Outcome::Invalid(msg.to_owned()),
            Err(other) => Outcome::Other(format!("{other:?}")),
        }
    }
}
