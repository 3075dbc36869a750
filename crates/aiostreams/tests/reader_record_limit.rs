//! Issue 11: `set_limit` on a live reader, `readline_with`/`readuntil_with` with a
//! per-call [`RecordLimit`], and [`Overlong::DiscardToSeparator`]: an over-long record is
//! dropped through its separator in bounded memory, reported with its size, and the next
//! record is read; under every chunking (a seeded model test), over a socket, after a
//! cancelled read, and at EOF.

use std::pin::pin;

use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
use aiostreams::{Error, Overlong, RecordLimit};
use bytes::Bytes;
use rand::{Rng, SeedableRng, rngs::StdRng};
use tokio::io::AsyncWriteExt;

use crate::reader_overlong_line::pair;
use crate::support::bounded_test;
use crate::support::poll_once;
use crate::support::{fed_reader, fed_reader_with_limit};

fn discarding(limit: usize) -> RecordLimit {
    RecordLimit::new(limit)
        .unwrap()
        .on_overlong(Overlong::DiscardToSeparator)
}

#[tokio::test]
async fn set_limit_changes_a_live_readers_limit_and_refuses_zero() {
    let mut reader = fed_reader_with_limit(64, &[b"0123456789\n0123456789\n"]);
    assert_eq!(reader.readline().await.unwrap(), "0123456789\n");
    reader.set_limit(4).unwrap();
    assert!(matches!(
        reader.readline().await,
        Err(Error::LimitOverrun {
            consumed: 10,
            separator_found: true
        })
    ));
    assert!(matches!(
        reader.set_limit(0),
        Err(Error::InvalidArgument("Limit cannot be <= 0"))
    ));
    assert_eq!(reader.limit(), 4, "unchanged by the refused call");
}

// A per-call limit above the reader's: a 1 MiB line over a socket is read whole (and
// pulled in windows, not a byte at a time), where readline() fails.
#[bounded_test]
async fn a_per_call_limit_above_the_readers_reads_a_long_line_over_a_socket() {
    let (mut reader, _writer, mut peer) = pair(1024).await;
    let line = [vec![b'x'; 1 << 20], b"\n".to_vec()].concat();
    let sent = line.clone();
    let sender = tokio::spawn(async move { peer.write_all(&sent).await.map(|()| peer) });
    let got = reader
        .readline_with(RecordLimit::new(2 << 20).unwrap())
        .await
        .unwrap();
    assert_eq!(got.len(), line.len());
    let _peer = sender.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_per_call_limit_below_the_readers_fails_as_readline_would() {
    let mut reader = fed_reader(&[b"0123456789\nok\n"]);
    let result = reader.readline_with(RecordLimit::new(4).unwrap()).await;
    assert!(
        matches!(result, Err(Error::LimitOverrun { .. })),
        "{result:?}"
    );
    assert_eq!(reader.readline().await.unwrap(), "ok\n");
}

// An endless-ish line (8 MiB, no newline until the end) over a socket: dropped as it
// arrives, one report with its size, then the next line.
#[bounded_test]
async fn discard_to_separator_drops_an_8_mib_line_over_a_socket_then_reads_on() {
    let (mut reader, _writer, mut peer) = pair(1024).await;
    let sender = tokio::spawn(async move {
        for _ in 0..(8 << 20) / 4096 {
            peer.write_all(&[b'y'; 4096]).await?;
        }
        peer.write_all(b"\nnext\n").await.map(|()| peer)
    });
    let result = reader.readline_with(discarding(1024)).await;
    assert!(
        matches!(result, Err(Error::OverlongDiscarded { dropped }) if dropped == (8 << 20) + 1),
        "{result:?}"
    );
    assert_eq!(reader.readline().await.unwrap(), "next\n");
    let _peer = sender.await.unwrap().unwrap();
}

// A read cancelled while it drops an over-long line: no byte of that line comes back.
#[tokio::test]
async fn a_cancelled_discarding_readline_leaves_the_rest_of_the_line_dropped() {
    let mut reader = fed_reader_with_limit(4, &[b"0123456789"]);
    {
        let read = pin!(reader.readline_with(discarding(4)));
        assert!(poll_once(read).is_pending(), "waits for the newline");
    }
    reader.feed_data(b"rest of it\nnext\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "next\n");
}

#[tokio::test]
async fn eof_while_discarding_counts_the_unterminated_record() {
    let mut reader = fed_reader(&[b"0123456789"]);
    reader.feed_eof();
    let result = reader.readuntil_with(b"\r\n", discarding(4)).await;
    assert!(
        matches!(result, Err(Error::OverlongDiscarded { dropped: 10 })),
        "{result:?}"
    );
    assert_eq!(reader.readline().await.unwrap(), "");
}

/// What reading `records` (each followed by `sep`) must give under `DiscardToSeparator`.
fn expected(records: &[Vec<u8>], sep: &[u8], limit: usize) -> Vec<Result<Vec<u8>, usize>> {
    records
        .iter()
        .map(|r| match r.len() <= limit {
            true => Ok([r.as_slice(), sep].concat()),
            false => Err(r.len() + sep.len()),
        })
        .collect()
}

/// Feeds `stream` in random chunks and steps one read per record; also checks that the
/// buffer never holds more than a chunk plus the limit and a separator.
fn read_all(
    stream: &[u8],
    sep: &[u8],
    limit: usize,
    count: usize,
    rng: &mut StdRng,
) -> Vec<Result<Vec<u8>, usize>> {
    let mut buf = ReadBuffer::new(limit, Mode::Aiostreams).unwrap();
    let (mut fed, mut out) = (0, Vec::new());
    let new_op = || {
        let op = match sep {
            b"\n" => ReadOp::readline(),
            _ => ReadOp::readuntil_owned(sep.to_vec()).unwrap(),
        };
        op.with_limit(discarding(limit))
    };
    let mut op = new_op();
    while out.len() < count {
        match op.step(&mut buf, false) {
            Step::NeedMore => {
                let n = rng.gen_range(1..=3 * limit).min(stream.len() - fed);
                assert!(n > 0, "stream ended before {count} records");
                buf.feed(&stream[fed..fed + n]).unwrap();
                fed += n;
                assert!(buf.len() <= 4 * limit + sep.len(), "bounded: {}", buf.len());
            }
            Step::Done(Ok(record)) => {
                out.push(Ok(record.to_vec()));
                op = new_op();
            }
            Step::Done(Err(Error::OverlongDiscarded { dropped })) => {
                out.push(Err(dropped));
                op = new_op();
            }
            other => panic!("{other:?}"),
        }
    }
    out
}

// Seeded model test: records of 0 to 3 x limit bytes, chunked at random; every record
// within the limit is returned, every other one reported with its exact size.
#[test]
fn discard_to_separator_matches_the_model_under_random_chunking() {
    let mut rng = StdRng::seed_from_u64(11);
    for round in 0..200 {
        let limit = rng.gen_range(1..=32);
        let sep: &[u8] = [&b"\n"[..], b"\r\n", b"\r\n\r\n"][round % 3];
        let records: Vec<Vec<u8>> = (0..20)
            .map(|_| {
                let len = rng.gen_range(0..=3 * limit);
                (0..len).map(|_| rng.gen_range(b'a'..=b'z')).collect()
            })
            .collect();
        let stream: Vec<u8> = records
            .iter()
            .flat_map(|r| [r.as_slice(), sep].concat())
            .collect();
        let got = read_all(&stream, sep, limit, records.len(), &mut rng);
        assert_eq!(
            got,
            expected(&records, sep, limit),
            "round {round}, limit {limit}"
        );
    }
}

// The fast path of readline_with takes the per-call limit too.
#[tokio::test]
async fn readline_with_a_buffered_line_uses_the_call_limit() {
    let mut reader = fed_reader_with_limit(4, &[b"0123456789\n"]);
    let line: Bytes = reader
        .readline_with(RecordLimit::new(16).unwrap())
        .await
        .unwrap();
    assert_eq!(line, "0123456789\n");
}
