//! `write_timeout` against a slow reader (issue 11): a `drain()` that does not get the
//! queue from above the high-water mark back to the low-water mark within
//! `write_timeout` fails and ends the connection, so a peer taking a byte now and then
//! ("slow read") is cut, while a fast bulk transfer under the same timeout is not. Over
//! tokio's duplex (every byte the peer reads wakes the writer: progress each time) and
//! on the paused clock.

use std::time::Duration;

use aiostreams::{Error, StreamWriter};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use crate::support::assert_timed_out;
use crate::support::bounded_test;
use crate::support::pattern;

const BOUND: Duration = Duration::from_secs(600);
const TIMEOUT: Duration = Duration::from_secs(5);

fn writer_over(io: tokio::io::DuplexStream) -> StreamWriter {
    let writer = StreamWriter::from_io(io);
    writer.transport().set_write_timeout(Some(TIMEOUT));
    writer
        .transport()
        .set_write_buffer_limits(Some(1024), Some(256))
        .unwrap();
    writer
}

// The peer reads one byte a second: every byte is progress (the old rule never fired),
// but the 4 KiB drain cannot get back under the low mark in 5 s: it fails with
// TimedOut("write") 5 s after it began waiting, and so does wait_closed().
#[bounded_test(limit = BOUND, start_paused = true)]
async fn a_slow_reader_is_cut_at_the_write_timeout() {
    let (ours, mut theirs) = tokio::io::duplex(64);
    let writer = writer_over(ours);
    let slow = tokio::spawn(async move {
        let mut byte = [0; 1];
        let mut got = 0;
        while let Ok(1) = theirs.read(&mut byte).await {
            got += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        got
    });
    writer.write(&pattern(0, 4096)).unwrap();
    let start = Instant::now();
    let err = writer.drain().await.unwrap_err();
    assert_eq!(start.elapsed(), TIMEOUT, "cut at the timeout");
    assert!(
        matches!(err, Error::TimedOut { operation: "write", after } if after == TIMEOUT),
        "{err:?}"
    );
    let closed = writer.wait_closed().await.unwrap_err();
    assert_timed_out(&closed, "write");
    let got = slow.await.unwrap();
    assert!(
        (64..64 + 10).contains(&got),
        "the duplex's 64 bytes and a few: {got}"
    );
}

// The same limits and timeout, a peer that reads as fast as it can: 4 MiB in 1,024
// write + drain rounds, each well under the marks' cycle, arrive whole.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn a_fast_bulk_transfer_under_the_same_timeout_is_unharmed() {
    let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
    let writer = writer_over(ours);
    let data = pattern(0, 4 << 20);
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        theirs.read_to_end(&mut got).await.unwrap();
        got
    });
    let start = Instant::now();
    for chunk in data.chunks(4096) {
        writer.write(chunk).unwrap();
        writer.drain().await.unwrap();
    }
    writer.close();
    writer.wait_closed().await.unwrap();
    assert!(start.elapsed() < TIMEOUT, "{:?}", start.elapsed());
    assert_eq!(reader.await.unwrap(), data);
}
