//! Deterministic work for callgrind: the instruction count of a read the buffer already
//! answers, against a bare `memchr` + split of the same bytes.
//!
//! `valgrind --tool=callgrind target/release/deps/reader_instructions-HASH KIND N` runs
//! `N` operations of `KIND` on `N` buffered 16-byte lines (`readline`, `try_readline`,
//! `readexactly`, `read`, `readuntil`; `buffer_consume`, a line looked at in place:
//! `buffer()`, `memchr`, `consume`; `memchr` + split of the same bytes in a slice, the
//! baseline; `bytesmut` and `bytes`, `memchr` + `bytes`' own split into a `Bytes` per
//! line, from a `BytesMut` or from a frozen `Bytes`, and `bytes_slice`, `memchr` + the
//! `slice` and `advance` the reader cuts its lines with, for reference), or only sets
//! them up (`fed`: the reader holding them; `data`: the bytes). Run each with two values of `N`:
//! the difference in instructions over the difference in `N`, minus the same for its
//! set-up (`fed` for the reads, `data` for the others), is the cost of one operation.
//! The results are in the docs of `StreamReader::readline` and in `docs/DESIGN.md`.
//! `cargo test --benches` runs each kind once with a small `N` as a smoke test.

use std::hint::black_box;

use aiostreams::StreamReader;

/// One buffered line: 15 bytes and `\n` (one `\n` only: each read takes one `LINE`).
const LINE: &[u8] = b"+OK hello world\n";

fn reader(n: usize) -> StreamReader {
    let mut reader = StreamReader::new();
    reader.feed_data(&LINE.repeat(n)).expect("not at EOF");
    reader
}

fn memchr_split(mut data: &[u8], n: usize) -> usize {
    let mut sum = 0;
    for _ in 0..n {
        let i = memchr::memchr(b'\n', data).expect("a line");
        let (line, rest) = data.split_at(i + 1);
        sum += black_box(line).len();
        data = rest;
    }
    sum
}

/// `n` buffered lines by `try_readline`. (Each kind's loop in a function of its own, so
/// that what the compiler inlines into it does not depend on the other kinds.)
#[inline(never)]
fn try_readlines(mut r: StreamReader, n: usize) -> usize {
    let mut sum = 0;
    for _ in 0..n {
        sum += black_box(r.try_readline().expect("ok").expect("line")).len();
    }
    sum
}

/// `n` buffered lines looked at in place: `buffer()`, `memchr`, `consume`.
#[inline(never)]
fn consume_lines(mut r: StreamReader, n: usize) -> usize {
    let mut sum = 0;
    for _ in 0..n {
        let buffered = r.buffer();
        let i = memchr::memchr(b'\n', buffered).expect("a line");
        sum += black_box(&buffered[..=i]).len();
        tokio::io::AsyncBufReadExt::consume(&mut r, i + 1);
    }
    sum
}

fn run(kind: &str, n: usize) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut sum = 0;
    match kind {
        "data" => sum = black_box(LINE.repeat(n)).len(),
        "memchr" => sum = memchr_split(black_box(&LINE.repeat(n)), n),
        "fed" => sum = black_box(reader(n)).buffer().len(),
        "bytesmut" => {
            let mut b = bytes::BytesMut::from(&black_box(LINE.repeat(n))[..]);
            for _ in 0..n {
                let i = memchr::memchr(b'\n', &b).expect("a line");
                sum += black_box(b.split_to(i + 1).freeze()).len();
            }
        }
        "bytes" => {
            let mut b = bytes::Bytes::from(black_box(LINE.repeat(n)));
            for _ in 0..n {
                let i = memchr::memchr(b'\n', &b).expect("a line");
                sum += black_box(b.split_to(i + 1)).len();
            }
        }
        "bytes_slice" => {
            let mut b = bytes::Bytes::from(black_box(LINE.repeat(n)));
            for _ in 0..n {
                let i = memchr::memchr(b'\n', &b).expect("a line");
                let line = b.slice(..i + 1);
                bytes::Buf::advance(&mut b, i + 1);
                sum += black_box(line).len();
            }
        }
        "buffer_consume" => sum = consume_lines(reader(n), n),
        "readline" => rt.block_on(async {
            let mut r = reader(n);
            for _ in 0..n {
                sum += black_box(r.readline().await.expect("line")).len();
            }
        }),
        "try_readline" => sum = try_readlines(reader(n), n),
        "readexactly" => rt.block_on(async {
            let mut r = reader(n);
            for _ in 0..n {
                sum += black_box(r.readexactly(LINE.len()).await.expect("bytes")).len();
            }
        }),
        "read" => rt.block_on(async {
            let mut r = reader(n);
            for _ in 0..n {
                sum += black_box(r.read(LINE.len()).await.expect("bytes")).len();
            }
        }),
        "readuntil" => rt.block_on(async {
            let mut r = reader(n);
            for _ in 0..n {
                sum += black_box(r.readuntil(b"\n").await.expect("record")).len();
            }
        }),
        other => panic!("unknown kind {other:?}"),
    }
    sum
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [kind, n] => {
            let n = n.parse().expect("N");
            assert_eq!(run(kind, n), n * LINE.len());
        }
        // `cargo test --benches` / `cargo bench`: each kind once, small.
        _ => {
            for kind in [
                "memchr",
                "readline",
                "try_readline",
                "readexactly",
                "read",
                "readuntil",
                "buffer_consume",
                "bytes_slice",
            ] {
                assert_eq!(run(kind, 100), 100 * LINE.len(), "{kind}");
            }
        }
    }
}
