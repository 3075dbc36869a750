//! Cancel safety: reads dropped at random points lose and duplicate nothing.
//!
//! For each seed a writer task sends a random byte stream through a `tokio::io::duplex`
//! in random chunks, yielding between them. The reader runs random operations, each
//! either polled a random number of times (yielding in between) or raced against a
//! timeout on paused time, and dropped if it has not finished. Everything the completed
//! operations returned (including `IncompleteRead` partials) must be exactly the stream.

use std::future::Future;
use std::time::Duration;

use aiostreams::{Error, StreamReader};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, DuplexStream};

use crate::support::within_turns;

/// The stream's bytes, and the bytes separators are drawn from.
const ALPHABET: &[u8] = b"abc\n";

/// A limit no record of the (at most `MAX_LEN`-byte) stream can reach.
const NO_LIMIT: usize = 1 << 20;

const MAX_LEN: usize = 3000;

/// When a read is dropped if it has not completed.
#[derive(Clone, Copy, Debug)]
enum Deadline {
    /// After this many polls, with a yield to the writer after each.
    Polls(u32),
    /// After this much (paused, virtual) time.
    Timeout(Duration),
}

/// Drives `fut` until `deadline`; `None` if it was dropped unfinished.
async fn drive<F: Future>(fut: F, deadline: Deadline) -> Option<F::Output> {
    match deadline {
        Deadline::Timeout(d) => tokio::time::timeout(d, fut).await.ok(),
        Deadline::Polls(polls) => within_turns(fut, polls).await,
    }
}

fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
        .collect()
}

/// A separator of 1 to 3 bytes from the stream's alphabet.
fn random_sep(rng: &mut StdRng) -> Vec<u8> {
    let len = rng.gen_range(1..=3);
    random_bytes(rng, len)
}

/// Writes `data` in random chunks, yielding (and on paused time sometimes sleeping).
async fn write_in_chunks(mut tx: DuplexStream, data: Vec<u8>, seed: u64, paused: bool) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rest = &data[..];
    while !rest.is_empty() {
        let n = rng.gen_range(1..=rest.len().min(40));
        tx.write_all(&rest[..n]).await.unwrap();
        rest = &rest[n..];
        if paused && rng.gen_bool(0.3) {
            tokio::time::sleep(Duration::from_micros(rng.gen_range(1..500))).await;
        }
        tokio::task::yield_now().await;
    }
    tx.shutdown().await.unwrap();
}

/// One random read; `small_limit` leaves out `readline`/`lines` (they drop over-long lines).
async fn random_op(
    reader: &mut StreamReader,
    rng: &mut StdRng,
    deadline: Deadline,
    small_limit: bool,
) -> Option<Result<Bytes, Error>> {
    let ops = if small_limit { 7 } else { 9 };
    match rng.gen_range(0..ops) {
        0 => drive(reader.read(rng.gen_range(1..64)), deadline).await,
        1 => {
            let sep = random_sep(rng);
            drive(reader.readuntil(&sep), deadline).await
        }
        2 => {
            let seps: Vec<Vec<u8>> = (0..rng.gen_range(1..=3)).map(|_| random_sep(rng)).collect();
            let seps: Vec<&[u8]> = seps.iter().map(Vec::as_slice).collect();
            drive(reader.readuntil_any(&seps), deadline).await
        }
        3 => drive(reader.readexactly(rng.gen_range(0..120)), deadline).await,
        4 => drive(reader.read_to_eof(), deadline).await,
        5 => {
            let mut buf = vec![0; rng.gen_range(1..64)];
            let read = async {
                // The AsyncRead impl, not the inherent `read(n)`.
                let n = AsyncReadExt::read(reader, &mut buf).await?;
                Ok::<_, std::io::Error>(Bytes::copy_from_slice(&buf[..n]))
            };
            drive(read, deadline).await.map(|r| r.map_err(Error::from))
        }
        6 => {
            let k = rng.gen_range(1..64);
            let fill = async {
                let avail = reader.fill_buf().await?;
                let taken = Bytes::copy_from_slice(&avail[..k.min(avail.len())]);
                reader.consume(taken.len());
                Ok::<_, std::io::Error>(taken)
            };
            drive(fill, deadline).await.map(|r| r.map_err(Error::from))
        }
        7 => drive(reader.readline(), deadline).await,
        _ => {
            let next = async {
                let mut lines = reader.lines();
                let line = tokio_stream::StreamExt::next(&mut lines).await;
                line.unwrap_or(Ok(Bytes::new()))
            };
            drive(next, deadline).await
        }
    }
}

/// Runs one seed; returns how many operations were dropped unfinished.
async fn run_seed(seed: u64, small_limit: bool, paused: bool) -> usize {
    let mut rng = StdRng::seed_from_u64(seed);
    let len = rng.gen_range(0..=MAX_LEN);
    let data = random_bytes(&mut rng, len);
    let (tx, rx) = tokio::io::duplex(rng.gen_range(1..=256));
    let writer = tokio::spawn(write_in_chunks(tx, data.clone(), rng.r#gen(), paused));
    let limit = if small_limit {
        rng.gen_range(3..=48)
    } else {
        NO_LIMIT
    };
    let mut reader = StreamReader::from_io_with_limit(rx, limit).unwrap();
    let (mut got, mut dropped) = (Vec::with_capacity(len), 0);
    for _ in 0..100_000 {
        if reader.at_eof() {
            break;
        }
        let deadline = if paused {
            Deadline::Timeout(Duration::from_micros(rng.gen_range(0..1500)))
        } else {
            Deadline::Polls(rng.gen_range(1..=6))
        };
        match random_op(&mut reader, &mut rng, deadline, small_limit).await {
            None => dropped += 1,
            Some(Ok(bytes)) => got.extend_from_slice(&bytes),
            Some(Err(Error::IncompleteRead { partial, .. })) => got.extend_from_slice(&partial),
            Some(Err(Error::LimitOverrun { consumed, .. })) if small_limit => {
                // readuntil left the buffer intact: take the over-long part with read().
                let part = reader.read(consumed).await.unwrap();
                assert_eq!(part.len(), consumed, "seed {seed}");
                got.extend_from_slice(&part);
            }
            Some(Err(err)) => panic!("seed {seed}: unexpected error {err:?}"),
        }
    }
    assert!(reader.at_eof(), "seed {seed}: never reached EOF");
    writer.await.unwrap();
    assert_eq!(got.len(), data.len(), "seed {seed}: length differs");
    assert!(got == data, "seed {seed}: bytes differ");
    dropped
}

async fn run_seeds(seeds: std::ops::Range<u64>, small_limit: bool, paused: bool) {
    let mut dropped = 0;
    for seed in seeds {
        let run = run_seed(seed, small_limit, paused);
        dropped += tokio::time::timeout(Duration::from_secs(5), run)
            .await
            .unwrap_or_else(|_| panic!("seed {seed} timed out"));
    }
    // The test is only meaningful if many reads were in fact dropped midway.
    assert!(dropped > 1000, "only {dropped} reads were dropped");
}

#[tokio::test]
async fn dropped_reads_lose_nothing_polled() {
    run_seeds(0..300, false, false).await;
}

#[tokio::test]
async fn dropped_reads_lose_nothing_polled_small_limit() {
    run_seeds(1000..1300, true, false).await;
}

#[tokio::test(start_paused = true)]
async fn dropped_reads_lose_nothing_timeouts() {
    run_seeds(2000..2200, false, true).await;
}

#[tokio::test(start_paused = true)]
async fn dropped_reads_lose_nothing_timeouts_small_limit() {
    run_seeds(3000..3200, true, true).await;
}
