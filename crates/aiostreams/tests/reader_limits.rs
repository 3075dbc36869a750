//! The limit as a memory bound: how much a reader pulls from its source, reads larger than
//! the limit, buffers released after large reads, and one very long line fed in pieces.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use aiostreams::{Error, StreamReader};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};

use crate::support::both_runtimes;
use crate::support::bounded_test;
use crate::support::fed_reader;
use crate::support::source::ReadFn;

const MIB: usize = 1 << 20;

/// An endless source of `fill` bytes, at most `per_read` per `poll_read`, and the count of
/// every byte it hands out.
fn endless(fill: u8, per_read: usize) -> (impl AsyncRead + Send + Unpin, Arc<AtomicUsize>) {
    let handed_out = Arc::new(AtomicUsize::new(0));
    let counter = handed_out.clone();
    let source = ReadFn(move |_: &mut Context<'_>, buf: &mut ReadBuf<'_>| {
        let n = buf.remaining().min(per_read);
        buf.put_slice(&vec![fill; n]);
        counter.fetch_add(n, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    });
    (source, handed_out)
}

/// Limits to try: tiny, small, asyncio's default, and more than one 64 KiB pull.
const LIMITS: [usize; 6] = [1, 3, 100, 1000, 65536, 100_000];

// readline's limit error comes after at most 2 x limit buffered; the rest of the line is
// then dropped as it arrives: the buffer stays empty and the reader keeps yielding.
#[bounded_test]
async fn readline_of_an_endless_line_buffers_at_most_twice_the_limit() {
    for limit in LIMITS {
        for per_read in [usize::MAX, 7] {
            let (source, handed_out) = endless(b'x', per_read);
            let mut reader = StreamReader::from_io_with_limit(source, limit).unwrap();
            let err = reader.readline().await.unwrap_err();
            let Error::LimitOverrun {
                consumed,
                separator_found: false,
            } = err
            else {
                panic!("limit {limit}: expected a not-found LimitOverrun, got {err:?}");
            };
            // The error came as soon as the buffer crossed the limit...
            assert!(
                consumed > limit && consumed <= 2 * limit,
                "limit {limit}: {consumed}"
            );
            assert!(consumed <= limit.saturating_add(per_read), "limit {limit}");
            // ... after which the reader looked (bounded) for the line's end among
            // bytes already there, dropping them.
            let pulled = handed_out.load(Ordering::Relaxed);
            assert!(
                pulled <= consumed + aiostreams::sansio::PROBE_BUDGET + 64 * 1024,
                "limit {limit}: {pulled}"
            );
            assert_eq!(reader.buffer(), b"");
            // The next readline waits for the next line, dropping this one's bytes,
            // and gives the executor back between pieces.
            {
                let mut next = std::pin::pin!(reader.readline());
                let waker = std::task::Waker::noop();
                for _ in 0..3 {
                    let poll = next.as_mut().poll(&mut Context::from_waker(waker));
                    assert!(poll.is_pending(), "limit {limit}: no line yet");
                }
            }
            assert!(
                handed_out.load(Ordering::Relaxed) > pulled,
                "still dropping"
            );
            assert_eq!(reader.buffer(), b"", "nothing of the line is kept");
        }
    }
}

#[bounded_test]
async fn readuntil_of_an_endless_record_pulls_at_most_twice_the_limit() {
    for limit in LIMITS {
        let (source, handed_out) = endless(b'x', usize::MAX);
        let mut reader = StreamReader::from_io_with_limit(source, limit).unwrap();
        let err = reader.readuntil(b"\n").await.unwrap_err();
        let pulled = handed_out.load(Ordering::Relaxed);
        assert!(matches!(
            err,
            Error::LimitOverrun { consumed, separator_found: false } if consumed == pulled
        ));
        assert!(
            pulled > limit && pulled <= 2 * limit,
            "limit {limit}: {pulled}"
        );
        // readuntil leaves the buffer as it was: all the pulled bytes are still there.
        assert_eq!(reader.buffer().len(), pulled);
    }
}

#[bounded_test]
async fn reads_do_not_pull_more_than_twice_the_limit_ahead() {
    let limit = 16;
    let (source, handed_out) = endless(b'\n', usize::MAX);
    let mut reader = StreamReader::from_io_with_limit(source, limit).unwrap();
    let mut consumed = 0;
    for _ in 0..100 {
        consumed += reader.readline().await.unwrap().len();
        consumed += reader.read(3).await.unwrap().len();
        let ahead = handed_out.load(Ordering::Relaxed) - consumed;
        assert_eq!(ahead, reader.buffer().len());
        assert!(ahead <= 2 * limit, "{ahead} bytes pulled ahead");
    }
}

#[bounded_test]
async fn readexactly_beyond_twice_the_limit_works_over_a_source() {
    let limit = 4;
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 241) as u8).collect();
    let (mut tx, rx) = tokio::io::duplex(13);
    let sent = data.clone();
    tokio::spawn(async move {
        for chunk in sent.chunks(13) {
            tx.write_all(chunk).await.unwrap();
        }
    });
    let mut reader = StreamReader::from_io_with_limit(rx, limit).unwrap();
    assert!(reader.readexactly(1000).await.unwrap() == data[..1000]);
    assert!(reader.buffer().len() <= 2 * limit);
    assert!(reader.readexactly(2000).await.unwrap() == data[1000..]);
    assert_eq!(reader.read(1).await.unwrap(), "");
    assert!(reader.at_eof());

    // From a source that is always ready: exactly what the read needs is pulled.
    let mut reader =
        StreamReader::from_io_with_limit(std::io::Cursor::new(data.clone()), limit).unwrap();
    assert!(reader.readexactly(2999).await.unwrap() == data[..2999]);
    assert!(reader.buffer().len() <= 2 * limit);
    let err = reader.readexactly(2).await.unwrap_err();
    assert!(
        matches!(err, Error::IncompleteRead { ref partial, expected: Some(2) } if partial[..] == data[2999..])
    );
}

#[bounded_test]
async fn buffer_is_empty_after_reading_a_large_chunk() {
    let chunk: Vec<u8> = (0..MIB).map(|i| (i % 199) as u8).collect();

    let mut reader = fed_reader(&[&chunk]);
    assert!(reader.read(MIB).await.unwrap() == chunk);
    assert_eq!(reader.buffer(), b"");
    // The reader goes on working after its large buffer was released.
    reader.feed_data(b"after\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "after\n");
    assert_eq!(reader.buffer(), b"");

    let reader_feeder = StreamReader::new();
    let feeder = reader_feeder.feeder();
    let mut reader = reader_feeder;
    feeder.feed_data(&chunk[..MIB / 2]).unwrap();
    feeder.feed_data(&chunk[MIB / 2..]).unwrap();
    assert!(reader.readexactly(MIB).await.unwrap() == chunk);
    assert_eq!(reader.buffer(), b"");

    let mut reader = StreamReader::from_io(std::io::Cursor::new(chunk.clone()));
    assert!(reader.read_to_eof().await.unwrap() == chunk);
    assert_eq!(reader.buffer(), b"");
    assert!(reader.at_eof());
}

/// One 1 MiB line and a short one, fed in 64-byte pieces while `readline` waits.
async fn long_line_fed_in_small_pieces() {
    let mut data = vec![b'y'; MIB - 1];
    data.push(b'\n');
    data.extend_from_slice(b"next");
    let mut reader = StreamReader::with_limit(MIB).unwrap();
    let feeder = reader.feeder();
    let sent = data.clone();
    let feeding = tokio::spawn(async move {
        for piece in sent.chunks(64) {
            feeder.feed_data(piece).unwrap();
            tokio::task::yield_now().await;
        }
        feeder.feed_eof();
    });
    let line = reader.readline().await.unwrap();
    assert_eq!(line.len(), MIB);
    assert!(line == data[..MIB]);
    assert_eq!(reader.readline().await.unwrap(), "next");
    assert_eq!(reader.readline().await.unwrap(), "");
    feeding.await.unwrap();
}

both_runtimes!(long_line_fed_in_small_pieces);
