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

// ---------------------------------------------------------------------------------------
// The model.

/// asyncio's reader rules over a plain `Vec`, as naive as possible.
#[derive(Debug)]
struct Model {
    buf: Vec<u8>,
    eof: bool,
    limit: usize,
    /// Dropping received bytes through the next `\n` (the rest of an over-long line).
    discarding: bool,
}

impl Model {
    /// One attempt at `op`: `None` when it needs more input (and nothing was changed).
    fn attempt(&mut self, op: &Op) -> Option<Outcome> {
        match op {
            Op::Readline => self.readline(),
            Op::Readuntil(sep) => self.readuntil(std::slice::from_ref(sep)),
            Op::ReaduntilAny(seps) => self.readuntil(seps),
            Op::Readexactly(n) => self.readexactly(*n),
        }
    }

    /// Spec 3.6.
    fn readexactly(&mut self, n: usize) -> Option<Outcome> {
        if self.buf.len() >= n {
            Some(Outcome::Bytes(self.buf.drain(..n).collect()))
        } else if self.eof {
            let partial = std::mem::take(&mut self.buf);
            Some(Outcome::Incomplete {
                partial,
                expected: Some(n),
            })
        } else {
            None
        }
    }

    /// Spec 3.7, for one separator or several.
    fn readuntil(&mut self, seps: &[Vec<u8>]) -> Option<Outcome> {
        let mut seps = seps.to_vec();
        seps.sort_by_key(Vec::len); // stable: equal lengths keep their order
        let (Some(min), Some(max)) = (seps.first().map(Vec::len), seps.last().map(Vec::len)) else {
            return Some(invalid("Separator should contain at least one element"));
        };
        if min == 0 {
            return Some(invalid("Separator should be at least one-byte string"));
        }
        // The match with the smallest end; on equal ends, the first (shortest) separator.
        let found = (1..=self.buf.len()).find_map(|end| {
            let sep = seps.iter().find(|s| self.buf[..end].ends_with(s))?;
            Some((end - sep.len(), end))
        });
        match found {
            Some((start, _)) if start > self.limit => Some(Outcome::Overrun {
                consumed: start,
                separator_found: true,
            }),
            Some((_, end)) => Some(Outcome::Bytes(self.buf.drain(..end).collect())),
            None => self.not_found(min, max),
        }
    }

    /// Spec 3.7 when no separator is buffered: the limit first, then EOF.
    fn not_found(&mut self, min: usize, max: usize) -> Option<Outcome> {
        let offset = (self.buf.len() + 1).saturating_sub(max);
        if self.buf.len() >= min && offset > self.limit {
            Some(Outcome::Overrun {
                consumed: offset,
                separator_found: false,
            })
        } else if self.eof {
            let partial = std::mem::take(&mut self.buf);
            Some(Outcome::Incomplete {
                partial,
                expected: None,
            })
        } else {
            None
        }
    }

    /// Spec 3.8: readuntil(b"\n") with the partial line at EOF and the limit cleanup;
    /// after "not found" the rest of the line is dropped as it arrives (`Mode::Aiostreams`).
    fn readline(&mut self) -> Option<Outcome> {
        match self.readuntil(&[b"\n".to_vec()])? {
            Outcome::Incomplete { partial, .. } => Some(Outcome::Bytes(partial)),
            err @ Outcome::Overrun { consumed, .. } => {
                if self.buf.get(consumed) == Some(&b'\n') {
                    self.buf.drain(..=consumed);
                } else {
                    self.buf.clear();
                    self.discarding = !self.eof;
                }
                Some(err)
            }
            other => Some(other),
        }
    }

    /// Received bytes enter the buffer, minus the rest of a discarded line.
    fn receive(&mut self, mut bytes: &[u8]) {
        if self.discarding {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.discarding = false;
                    bytes = &bytes[i + 1..];
                }
                None => bytes = &[],
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Right after `readline`'s "not found" error, a pulling reader takes what its source
    /// has ready (up to a `Pending`): when the line's `\n` is among it, the error is
    /// "found" with the whole line's length.
    fn probe<'d>(
        &mut self,
        err: Outcome,
        next: &mut impl Iterator<Item = &'d Delivery>,
    ) -> Outcome {
        let Outcome::Overrun {
            consumed,
            separator_found: false,
        } = err
        else {
            return err;
        };
        let mut line = consumed;
        while self.discarding {
            match next.next() {
                Some(Delivery::Data(bytes)) => match bytes.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        self.receive(bytes);
                        return Outcome::Overrun {
                            consumed: line + i,
                            separator_found: true,
                        };
                    }
                    None => line += bytes.len(),
                },
                Some(Delivery::Eof) => {
                    self.eof = true;
                    self.discarding = false;
                }
                Some(Delivery::Pending) | None => break,
            }
        }
        err
    }
}

fn invalid(msg: &str) -> Outcome {
    Outcome::Invalid(msg.to_owned())
}

/// What a source handed over: bytes, EOF, or (sources only) "nothing ready" once.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Delivery {
    Data(Vec<u8>),
    Eof,
    Pending,
}

/// The model on the whole input, present from the start, then EOF.
fn model_whole(data: &[u8], limit: usize, ops: &[Op]) -> Vec<Outcome> {
    let model = Model {
        buf: data.to_vec(),
        eof: true,
        limit,
        discarding: false,
    };
    run_model(model, &[], ops, false)
}

/// The model given `deliveries` one at a time, each only when a read needs more input;
/// `source`: pulled by the reader (so `readline`'s probe may take deliveries), not fed.
fn model_on_demand(
    deliveries: &[Delivery],
    limit: usize,
    ops: &[Op],
    source: bool,
) -> Vec<Outcome> {
    let model = Model {
        buf: Vec::new(),
        eof: false,
        limit,
        discarding: false,
    };
    run_model(model, deliveries, ops, source)
}

fn run_model(mut model: Model, deliveries: &[Delivery], ops: &[Op], source: bool) -> Vec<Outcome> {
    let mut next = deliveries.iter();
    ops.iter()
        .map(|op| {
            loop {
                if let Some(outcome) = model.attempt(op) {
                    break match op {
                        Op::Readline if source => model.probe(outcome, &mut next),
                        _ => outcome,
                    };
                }
                match next.next() {
                    Some(Delivery::Data(bytes)) => model.receive(bytes),
                    Some(Delivery::Eof) => model.eof = true,
                    Some(Delivery::Pending) => {}
                    None => panic!("the model needs more input than was delivered: {model:?}"),
                }
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Our reader, fed by the test.

fn reader(limit: usize) -> StreamReader {
    StreamReader::with_limit(limit).expect("limit > 0")
}

/// Runs `op` on `reader`.
async fn run_op(reader: &mut StreamReader, op: &Op) -> Outcome {
    match op {
        Op::Readline => reader.readline().await,
        Op::Readuntil(sep) => reader.readuntil(sep).await,
        Op::ReaduntilAny(seps) => {
            let seps: Vec<&[u8]> = seps.iter().map(Vec::as_slice).collect();
            reader.readuntil_any(&seps).await
        }
        Op::Readexactly(n) => reader.readexactly(*n).await,
    }
    .into()
}

/// Polls a read once; `None` when it waits for input (dropping it loses nothing).
fn poll_once(reader: &mut StreamReader, op: &Op) -> Option<Outcome> {
    let mut fut = pin!(run_op(reader, op));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(outcome) => Some(outcome),
        Poll::Pending => None,
    }
}

/// Every chunk and EOF are fed before the first read.
fn ours_fed_whole(chunks: &[Vec<u8>], limit: usize, ops: &[Op]) -> Vec<Outcome> {
    let mut reader = reader(limit);
    for chunk in chunks {
        reader.feed_data(chunk).expect("before EOF");
    }
    reader.feed_eof();
    let outcomes = ops
        .iter()
        .map(|op| poll_once(&mut reader, op).expect("at EOF"));
    outcomes.collect()
}

/// The next chunk (then EOF) is fed only when a read cannot complete.
fn ours_fed_on_demand(chunks: &[Vec<u8>], limit: usize, ops: &[Op]) -> Vec<Outcome> {
    let mut reader = reader(limit);
    let mut next = chunks.iter();
    ops.iter()
        .map(|op| {
            loop {
                if let Some(outcome) = poll_once(&mut reader, op) {
                    break outcome;
                }
                match next.next() {
                    Some(chunk) => reader.feed_data(chunk).expect("before EOF"),
                    None => reader.feed_eof(),
                }
            }
        })
        .collect()
}

fn on_demand_deliveries(chunks: &[Vec<u8>]) -> Vec<Delivery> {
    let data = chunks.iter().cloned().map(Delivery::Data);
    data.chain([Delivery::Eof]).collect()
}

// ---------------------------------------------------------------------------------------
// Our reader, pulling from an `AsyncRead`.

/// Hands out the chunks one by one (as much of one as the caller's buffer takes), then EOF.
/// With `pending`, every chunk is preceded by one `Pending` (the task is woken at once).
fn chunk_source(chunks: Vec<Vec<u8>>, pending: bool) -> impl AsyncRead + Send + Unpin {
    let mut chunks = std::collections::VecDeque::from(chunks);
    let mut ready = false;
    ReadFn(move |cx: &mut Context<'_>, buf: &mut ReadBuf<'_>| {
        // An empty chunk would read as EOF: skip it.
        while chunks.front().is_some_and(Vec::is_empty) {
            chunks.pop_front();
        }
        if pending && !ready {
            ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        ready = false;
        if let Some(chunk) = chunks.front_mut() {
            let n = chunk.len().min(buf.remaining());
            buf.put_slice(&chunk[..n]);
            chunk.drain(..n);
        }
        Poll::Ready(Ok(()))
    })
}

/// Records every piece its inner source hands over.
struct Recording<R> {
    inner: R,
    log: Arc<Mutex<Vec<Delivery>>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Recording<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        let delivery = match (&result, &buf.filled()[before..]) {
            (Poll::Ready(Ok(())), []) => Delivery::Eof,
            (Poll::Ready(Ok(())), piece) => Delivery::Data(piece.to_vec()),
            (Poll::Pending, _) => Delivery::Pending,
            (Poll::Ready(Err(_)), _) => return result,
        };
        self.log.lock().unwrap().push(delivery);
        result
    }
}

/// Runs `ops` on a reader pulling from `source`; returns the outcomes and what it pulled.
fn ours_from_source(
    source: impl AsyncRead + Send + Unpin + 'static,
    limit: usize,
    ops: &[Op],
    writer: Option<(tokio::io::DuplexStream, Vec<Vec<u8>>)>,
) -> (Vec<Outcome>, Vec<Delivery>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let recording = Recording {
        inner: source,
        log: log.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let outcomes = rt.block_on(async {
        if let Some((mut pipe, chunks)) = writer {
            tokio::spawn(async move {
                for chunk in chunks {
                    if pipe.write_all(&chunk).await.is_err() {
                        return; // the reader is done and gone
                    }
                }
                // Dropping `pipe` is the reader's EOF.
            });
        }
        let mut reader = StreamReader::from_io_with_limit(recording, limit).expect("limit > 0");
        let mut outcomes = Vec::new();
        for op in ops {
            outcomes.push(run_op(&mut reader, op).await);
        }
        outcomes
    });
    let deliveries = log.lock().unwrap().clone();
    (outcomes, deliveries)
}

fn concat(deliveries: &[Delivery]) -> Vec<u8> {
    deliveries
        .iter()
        .flat_map(|d| match d {
            Delivery::Data(bytes) => bytes.as_slice(),
            Delivery::Eof | Delivery::Pending => &[],
        })
        .copied()
        .collect()
}

/// Property 2 for a source, and property 3 when `whole` had no limit error.
fn check_source_run(
    data: &[u8],
    limit: usize,
    ops: &[Op],
    whole: &[Outcome],
    (ours, deliveries): (Vec<Outcome>, Vec<Delivery>),
) -> Result<(), TestCaseError> {
    prop_assert!(
        data.starts_with(&concat(&deliveries)),
        "pulled bytes not in order"
    );
    prop_assert_eq!(&ours, &model_on_demand(&deliveries, limit, ops, true));
    if !whole.iter().any(Outcome::is_limit_error) {
        prop_assert_eq!(&ours, whole);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Strategies.

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![4 => Just(b'a'), 3 => Just(b'b'), 2 => Just(b'\n'), 1 => Just(b'\r')]
}

fn separator() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => Just(b"\n".to_vec()),
        2 => Just(b"\r\n".to_vec()),
        1 => Just(b"ab".to_vec()),
        1 => Just(b"aba".to_vec()),
        2 => prop::collection::vec(byte(), 0..=3), // sometimes empty: InvalidArgument
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Readline),
        3 => separator().prop_map(Op::Readuntil),
        2 => prop::collection::vec(separator(), 0..=3).prop_map(Op::ReaduntilAny),
        2 => (0usize..=24).prop_map(Op::Readexactly),
    ]
}

/// Mostly small limits so that limit errors are frequent; 1000 never binds.
/// The reads every property runs: one to fifteen of them.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..16)
}

fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1usize..=12, 1 => Just(1000usize)]
}

/// Bytes and two ways to cut them (cut positions may repeat: empty chunks).
fn split_data() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    prop::collection::vec(byte(), 0..160).prop_flat_map(|data| {
        let n = data.len();
        let cuts = || prop::collection::vec(0..=n, 0..12);
        (cuts(), cuts()).prop_map(move |(a, b)| (data.clone(), split(&data, a), split(&data, b)))
    })
}

fn split(data: &[u8], mut cuts: Vec<usize>) -> Vec<Vec<u8>> {
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([data.len()]) {
        chunks.push(data[start..cut].to_vec());
        start = cut;
    }
    chunks
}

// ---------------------------------------------------------------------------------------

/// 1,000 cases per property, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").map_or(1_000, |v| v.parse().expect("PROPTEST_CASES"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// With `feed_data`, for two splits of the same bytes. Property 1: everything
    /// buffered before reading, every split gives the model's results. Properties 2 and
    /// 3: fed on demand.
    #[test]
    fn fed_data_matches_the_model_for_any_split(
        (data, split_a, split_b) in split_data(),
        limit in limit(),
        ops in ops(),
    ) {
        let whole = model_whole(&data, limit, &ops);
        for chunks in [&split_a, &split_b] {
            prop_assert_eq!(&ours_fed_whole(chunks, limit, &ops), &whole);
            let ours = ours_fed_on_demand(chunks, limit, &ops);
            prop_assert_eq!(&ours, &model_on_demand(&on_demand_deliveries(chunks), limit, &ops, false));
            if !whole.iter().any(Outcome::is_limit_error) {
                prop_assert_eq!(&ours, &whole);
            }
        }
    }

    /// Properties 2 and 3 with an `AsyncRead` that returns the chunks one by one.
    #[test]
    fn pulled_from_chunks_matches_the_model(
        (data, split_a, _) in split_data(),
        limit in limit(),
        ops in ops(),
        pending in any::<bool>(),
    ) {
        let whole = model_whole(&data, limit, &ops);
        let source = chunk_source(split_a, pending);
        check_source_run(&data, limit, &ops, &whole, ours_from_source(source, limit, &ops, None))?;
    }

    /// Properties 2 and 3 through a `tokio::io::duplex` pipe, written chunk by chunk.
    #[test]
    fn pulled_from_duplex_matches_the_model(
        (data, split_a, _) in split_data(),
        limit in limit(),
        ops in ops(),
        pipe_size in 1usize..=32,
    ) {
        let whole = model_whole(&data, limit, &ops);
        let (writer, source) = tokio::io::duplex(pipe_size);
        let run = ours_from_source(source, limit, &ops, Some((writer, split_a)));
        check_source_run(&data, limit, &ops, &whole, run)?;
    }
}

/// Chunks fed on demand, limit, operations, expected outcomes.
type Example<'a> = (Vec<&'a [u8]>, usize, Vec<Op>, Vec<Outcome>);

/// The model against the spec's worked examples, so that it is a trustworthy reference.
#[test]
fn model_and_reader_follow_the_spec_examples() {
    let seps = |s: &[&[u8]]| Op::ReaduntilAny(s.iter().map(|s| s.to_vec()).collect());
    let overrun = |consumed, separator_found| Outcome::Overrun {
        consumed,
        separator_found,
    };
    let bytes = |b: &[u8]| Outcome::Bytes(b.to_vec());
    let cases: Vec<Example<'_>> = vec![
        (
            vec![b"ABCDEFG"],
            100,
            vec![seps(&[b"DEF", b"BCDE"])],
            vec![bytes(b"ABCDE")],
        ),
        (
            vec![b"abc\r\n"],
            1,
            vec![seps(&[b"\r\n", b"\n"])],
            vec![overrun(4, true)],
        ),
        (
            vec![b"xxABCyy"],
            100,
            vec![seps(&[b"BC", b"ABC", b"C"])],
            vec![bytes(b"xxABC")],
        ),
        (
            vec![b"abcdefgh"],
            3,
            vec![seps(&[b"\n", b"XXXXX"])],
            vec![overrun(4, false)],
        ),
        (
            vec![b"data", b"Z", b"Aaaa"],
            100,
            vec![seps(&[b"A", b"long sep"])],
            vec![bytes(b"dataZA")],
        ),
        (
            vec![b"QWEaa", b"XYaa", b"a"],
            100,
            vec![Op::Readuntil(b"aaa".to_vec())],
            vec![bytes(b"QWEaaXYaaa")],
        ),
        (
            vec![b"abc\r", b"\n"],
            3,
            vec![Op::Readuntil(b"\r\n".to_vec())],
            vec![bytes(b"abc\r\n")],
        ),
        (
            vec![b"abcd\r"],
            3,
            vec![Op::Readuntil(b"\r\n".to_vec())],
            vec![overrun(4, false)],
        ),
        (
            vec![b"abcdef"],
            3,
            vec![Op::Readuntil(b"\n".to_vec())],
            vec![overrun(6, false)],
        ),
        (
            vec![b"abcdef\n"],
            5,
            vec![Op::Readuntil(b"\n".to_vec())],
            vec![overrun(6, true)],
        ),
        // readline's cleanup: through the newline, or everything.
        (
            vec![b"li", b"ne1\nline2\n"],
            3,
            vec![Op::Readline, Op::Readexactly(6)],
            vec![overrun(5, true), bytes(b"line2\n")],
        ),
        // ... and then (aiostreams, not asyncio) the rest of that line as it arrives.
        (
            vec![b"li", b"ne1", b"23\n", b"ok\n"],
            3,
            vec![Op::Readline, Op::Readline],
            vec![overrun(5, false), bytes(b"ok\n")],
        ),
        (
            vec![b"1234567\n12345678\n"],
            7,
            vec![Op::Readline, Op::Readline],
            vec![bytes(b"1234567\n"), overrun(8, true)],
        ),
        (
            vec![b"abc"],
            2,
            vec![Op::Readexactly(8)],
            vec![Outcome::Incomplete {
                partial: b"abc".to_vec(),
                expected: Some(8),
            }],
        ),
    ];
    for (chunks, limit, ops, expected) in cases {
        let chunks: Vec<Vec<u8>> = chunks.iter().map(|c| c.to_vec()).collect();
        let model = model_on_demand(&on_demand_deliveries(&chunks), limit, &ops, false);
        assert_eq!(model, expected, "model, chunks {chunks:?}");
        assert_eq!(
            ours_fed_on_demand(&chunks, limit, &ops),
            expected,
            "ours, chunks {chunks:?}"
        );
    }
}
