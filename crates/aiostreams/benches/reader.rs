//! `StreamReader` throughput: `readline` (and `try_readline`) against a bare `memchr`
//! split of the same bytes, and one long line arriving in 64-byte pieces against the same
//! line in one piece. `benches/reader_instructions.rs` counts the instructions of the
//! buffered fast path under callgrind.
//!
//! Run with `cargo bench -p aiostreams --bench reader`; `cargo test --benches` runs each
//! routine once as a smoke test.

#[macro_use]
mod common;

use std::hint::black_box;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use aiostreams::StreamReader;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::runtime::Runtime;

/// Bytes of input per `readline` benchmark iteration.
const TOTAL: usize = 4 << 20;

/// The long line of the chunking benchmark (its `\n` is the last byte).
const LONG_LINE: usize = 1 << 20;

/// How many bytes the chunked source hands out per `poll_read`.
const CHUNK: usize = 64;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("current-thread runtime")
}

/// `TOTAL` bytes (rounded down) of `line_len`-byte lines, each ending in `\n`.
fn lines(line_len: usize) -> &'static [u8] {
    let mut line = vec![b'x'; line_len - 1];
    line.push(b'\n');
    let data = line.repeat(TOTAL / line_len);
    Box::leak(data.into_boxed_slice())
}

/// The reference: split on `\n` with `memchr` and sum the line lengths.
fn memchr_split(mut data: &[u8]) -> usize {
    let mut sum = 0;
    while let Some(i) = memchr::memchr(b'\n', data) {
        let (line, rest) = data.split_at(i + 1);
        sum += black_box(line).len();
        data = rest;
    }
    sum + black_box(data).len()
}

/// Reads every line until EOF and sums their lengths.
async fn readline_all(reader: &mut StreamReader) -> usize {
    let mut sum = 0;
    loop {
        let line = reader.readline().await.expect("line within the limit");
        if line.is_empty() {
            return sum;
        }
        sum += black_box(line).len();
    }
}

/// A reader whose buffer already holds all of `data` and EOF.
fn fed(data: &[u8], limit: usize) -> StreamReader {
    let mut reader = StreamReader::with_limit(limit).expect("non-zero limit");
    reader.feed_data(data).expect("not at EOF");
    reader.feed_eof();
    reader
}

fn bench_readline(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("readline");
    for (name, line_len, limit) in [
        ("16B", 16, aiostreams::DEFAULT_LIMIT),
        ("100B", 100, aiostreams::DEFAULT_LIMIT),
        ("1KiB", 1024, aiostreams::DEFAULT_LIMIT),
        ("64KiB", 64 * 1024, 128 * 1024),
    ] {
        let data = lines(line_len);
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(BenchmarkId::new("memchr", name), |b| {
            b.iter(|| assert_eq!(memchr_split(black_box(data)), data.len()));
        });
        // The buffer is filled outside the timing: only the reads are measured.
        group.bench_function(BenchmarkId::new("fed", name), |b| {
            b.iter_batched(
                || fed(data, limit),
                |mut reader| {
                    assert_eq!(rt.block_on(readline_all(&mut reader)), data.len());
                    reader
                },
                BatchSize::PerIteration,
            );
        });
        // The synchronous form of the same fast path.
        group.bench_function(BenchmarkId::new("fed_try", name), |b| {
            b.iter_batched(
                || fed(data, limit),
                |mut reader| {
                    let mut sum = 0;
                    while let Some(line) = reader.try_readline().expect("within the limit") {
                        if line.is_empty() {
                            break;
                        }
                        sum += black_box(line).len();
                    }
                    assert_eq!(sum, data.len());
                    reader
                },
                BatchSize::PerIteration,
            );
        });
        // The reader pulls from the slice itself, copying it in 64 KiB windows.
        group.bench_function(BenchmarkId::new("from_io", name), |b| {
            b.iter(|| {
                let mut reader = StreamReader::from_io_with_limit(data, limit).expect("limit");
                assert_eq!(rt.block_on(readline_all(&mut reader)), data.len());
            });
        });
    }
    group.finish();
}

/// An in-memory source handing out at most `CHUNK` bytes per `poll_read`.
///
/// With `yield_between`, every other poll returns `Pending` (waking itself first), so the
/// read also goes through the runtime between chunks, as it would on a slow socket.
#[derive(Debug)]
struct Chunked {
    data: &'static [u8],
    yield_between: bool,
    yielded: bool,
}

impl AsyncRead for Chunked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.yield_between && !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.yielded = false;
        let n = self.data.len().min(CHUNK).min(out.remaining());
        let (chunk, rest) = self.data.split_at(n);
        out.put_slice(chunk);
        self.data = rest;
        Poll::Ready(Ok(()))
    }
}

fn chunked(data: &'static [u8], yield_between: bool) -> StreamReader {
    let io = Chunked {
        data,
        yield_between,
        yielded: false,
    };
    StreamReader::from_io_with_limit(io, 2 * LONG_LINE).expect("non-zero limit")
}

fn bench_long_line(c: &mut Criterion) {
    let rt = runtime();
    let data = &lines(LONG_LINE)[..LONG_LINE];
    let limit = 2 * LONG_LINE;
    // Each case builds its reader inside the timing, so every one pays for copying the
    // line into the reader's buffer once.
    let read_line = |mut reader: StreamReader| {
        assert_eq!(
            rt.block_on(reader.readline()).expect("line").len(),
            LONG_LINE
        );
    };
    let mut group = c.benchmark_group("long_line_1MiB");
    group.throughput(Throughput::Bytes(LONG_LINE as u64));
    group.bench_function("one_chunk", |b| b.iter(|| read_line(fed(data, limit))));
    group.bench_function("64KiB_pulls", |b| {
        b.iter(|| read_line(StreamReader::from_io_with_limit(data, limit).expect("limit")));
    });
    group.bench_function("64B_chunks", |b| b.iter(|| read_line(chunked(data, false))));
    group.bench_function("64B_chunks_pending", |b| {
        b.iter(|| read_line(chunked(data, true)));
    });
    group.finish();
}

criterion_benches! {
    sample_size = 10,
    warm_up = Duration::from_secs(1),
    measurement = Duration::from_secs(3),
    targets = bench_readline, bench_long_line,
}
