//! Write-side flow control (spec 4, 6.1, 7.2, 7.7): `drain()` waits while the queue is
//! above the high-water mark until it is at or below the low-water mark; water-mark
//! defaulting and validation; several drains at once; ordering under many writers.
//!
//! The stalled peer is a raw socket the test reads only when it says so, with tiny kernel
//! buffers (SO_SNDBUF 4 KiB on our side, SO_RCVBUF 4 KiB on the peer: the kernel absorbs
//! about 12 KiB, measured), so what sits in our queue is known to within that slack and
//! every mark used here is far from it. Tests that check exact queue sizes first make the
//! reader hold unparsed input ([`hold_input`]): `write()` then queues without sending.

use std::pin::pin;
use std::task::Poll;

use aiostreams::{DEFAULT_HIGH_WATER, Error, StreamReader};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::support::bounded_test;
use crate::support::{both_runtimes, net::stalled_pair, pattern, poll_once};

/// Makes `write()` queue instead of sending at once: the reader keeps an unparsed request,
/// as a server answering pipelined requests does (see docs/DESIGN.md on `write()`).
async fn hold_input(reader: &mut StreamReader, peer: &mut TcpStream) {
    peer.write_all(b"request 1\nrequest 2\n").await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "request 1\n");
    assert_eq!(reader.buffer(), b"request 2\n", "one segment, one pull");
}

/// Reads exactly `len` bytes at the peer and checks they are `pattern(at, len)`.
async fn expect_pattern(peer: &mut TcpStream, at: usize, len: usize) {
    let mut got = vec![0; len];
    peer.read_exact(&mut got).await.unwrap();
    assert!(
        got == pattern(at, len),
        "bytes out of order at {at}..{}",
        at + len
    );
}

#[bounded_test]
async fn write_buffer_limits_default_to_asyncio_marks_in_low_high_order() {
    let (_reader, writer, _peer) = stalled_pair().await;
    let transport = writer.transport();
    assert_eq!(DEFAULT_HIGH_WATER, 65536);
    assert_eq!(transport.get_write_buffer_limits(), (16384, 65536));
    assert_eq!(transport.get_write_buffer_size(), 0);
}

#[bounded_test]
async fn set_write_buffer_limits_defaulting_follows_asyncio() {
    let (_reader, writer, _peer) = stalled_pair().await;
    let t = writer.transport();
    // (high, low) given -> (low, high) read back; spec 7.7's table.
    let cases = [
        ((None, Some(100)), (100, 400)),
        ((Some(1000), None), (250, 1000)),
        ((Some(0), None), (0, 0)),
        ((Some(7), Some(7)), (7, 7)),
        ((None, None), (16384, 65536)),
    ];
    for ((high, low), expected) in cases {
        t.set_write_buffer_limits(high, low).unwrap();
        assert_eq!(t.get_write_buffer_limits(), expected, "{high:?} {low:?}");
    }
}

#[bounded_test]
async fn set_write_buffer_limits_rejects_high_below_low() {
    let (_reader, writer, _peer) = stalled_pair().await;
    let t = writer.transport();
    t.set_write_buffer_limits(Some(1000), Some(10)).unwrap();
    let err = t.set_write_buffer_limits(Some(10), Some(20)).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert!(err.to_string().contains("must be >="), "{err}");
    // only low given: high = 4 * low, never below it.
    assert!(t.set_write_buffer_limits(None, Some(usize::MAX)).is_ok());
    t.set_write_buffer_limits(Some(1000), Some(10)).unwrap();
    assert!(t.set_write_buffer_limits(Some(1), Some(2)).is_err());
    assert_eq!(
        t.get_write_buffer_limits(),
        (10, 1000),
        "unchanged by a bad call"
    );
}

#[bounded_test]
async fn drain_returns_at_once_at_exactly_the_high_mark() {
    let (mut reader, writer, mut peer) = stalled_pair().await;
    hold_input(&mut reader, &mut peer).await;
    let high = DEFAULT_HIGH_WATER;
    writer.write(&pattern(0, high)).unwrap();
    assert_eq!(writer.transport().get_write_buffer_size(), high);
    // Not above the mark: no wait, and nothing is sent by drain() itself.
    assert!(matches!(
        poll_once(pin!(writer.drain())),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(writer.transport().get_write_buffer_size(), high);
    // The flush task sends the queue although nobody drains.
    expect_pattern(&mut peer, 0, high).await;
}

#[bounded_test]
async fn drain_blocks_above_high_and_wakes_only_at_or_below_low() {
    let (mut reader, writer, mut peer) = stalled_pair().await;
    hold_input(&mut reader, &mut peer).await;
    let (high, low) = (64 * 1024, 16 * 1024);
    writer
        .transport()
        .set_write_buffer_limits(Some(high), Some(low))
        .unwrap();
    writer.write(&pattern(0, high)).unwrap();
    writer.write(&pattern(high, 1)).unwrap();
    let size = || writer.transport().get_write_buffer_size();
    assert_eq!(size(), high + 1);

    // One byte over: drain sends what the kernel takes (about 12 KiB) and waits.
    let mut drain = pin!(writer.drain());
    assert!(poll_once(drain.as_mut()).is_pending());
    assert!(size() > low, "{}", size());

    // The peer reads a little at a time; the drain is pending exactly while > low.
    let mut received = 0;
    let mut buf = vec![0; 1024];
    loop {
        let n = peer.read(&mut buf).await.unwrap();
        assert!(buf[..n] == pattern(received, n)[..]);
        received += n;
        match poll_once(drain.as_mut()) {
            Poll::Pending => assert!(size() > low, "pending at {}", size()),
            Poll::Ready(result) => {
                result.unwrap();
                assert!(size() <= low, "woke at {}", size());
                break;
            }
        }
    }
    let rest = high + 1 - received;
    expect_pattern(&mut peer, received, rest).await;
    assert_eq!(size(), 0);
}

/// One write far above the mark, an awaited drain, and a peer reading on another task:
/// the drain must be woken (not polled by the test) and only at or below the low mark.
async fn awaited_drain_wakes_at_or_below_low() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    let (high, low) = (32 * 1024, 8 * 1024);
    writer
        .transport()
        .set_write_buffer_limits(Some(high), Some(low))
        .unwrap();
    let total = 8 * high;
    let reading = tokio::spawn(async move { expect_pattern(&mut peer, 0, total).await });
    writer.write(&pattern(0, total)).unwrap();
    writer.drain().await.unwrap();
    let at_wake = writer.transport().get_write_buffer_size();
    assert!(at_wake <= low, "drain returned with {at_wake} queued");
    reading.await.unwrap();
}

both_runtimes!(awaited_drain_wakes_at_or_below_low);

#[bounded_test]
async fn lowering_the_marks_below_the_queue_pauses_at_once() {
    let (mut reader, writer, mut peer) = stalled_pair().await;
    hold_input(&mut reader, &mut peer).await;
    writer.write(&pattern(0, 60_000)).unwrap();
    assert!(matches!(
        poll_once(pin!(writer.drain())),
        Poll::Ready(Ok(()))
    ));
    // asyncio re-evaluates the pause condition as soon as the limits change.
    writer
        .transport()
        .set_write_buffer_limits(Some(50_000), Some(10_000))
        .unwrap();
    let mut drain = pin!(writer.drain());
    assert!(poll_once(drain.as_mut()).is_pending());
    let reading = async { expect_pattern(&mut peer, 0, 60_000).await };
    let (drained, ()) = tokio::join!(drain, reading);
    drained.unwrap();
}

#[bounded_test]
async fn zero_high_mark_makes_drain_wait_until_the_queue_is_empty() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    writer
        .transport()
        .set_write_buffer_limits(Some(0), None)
        .unwrap();
    writer.write(&pattern(0, 100_000)).unwrap();
    let mut drain = pin!(writer.drain());
    assert!(poll_once(drain.as_mut()).is_pending());
    let reading = async { expect_pattern(&mut peer, 0, 100_000).await };
    let drained = async {
        drain.await.unwrap();
        writer.transport().get_write_buffer_size()
    };
    let (left, ()) = tokio::join!(drained, reading);
    assert_eq!(left, 0);
}

#[bounded_test]
async fn write_never_blocks_on_a_stalled_peer() {
    let (mut reader, writer, mut peer) = stalled_pair().await;
    hold_input(&mut reader, &mut peer).await;
    let total = 4 << 20;
    for i in 0..64 {
        writer
            .write(&pattern(i * (total / 64), total / 64))
            .unwrap();
    }
    assert_eq!(writer.transport().get_write_buffer_size(), total);
    let mut drain = pin!(writer.drain());
    assert!(poll_once(drain.as_mut()).is_pending());
    let (drained, ()) = tokio::join!(drain, expect_pattern(&mut peer, 0, total));
    drained.unwrap();
}

/// A write that answers the last request (the reader holds nothing) goes straight from the
/// caller's buffer to the socket; what the stalled peer's kernel does not take is queued
/// and follows in order, with `write_bytes` and later writes behind it. At most the high
/// mark is left, so `drain()` does not wait.
#[bounded_test]
async fn a_write_the_kernel_takes_in_part_queues_the_rest_in_order() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    // Until the runtime has seen the new socket writable, writes are queued: a first
    // exchange gets past that.
    writer.write(b"hello").unwrap();
    let mut hello = [0; 5];
    peer.read_exact(&mut hello).await.unwrap();
    let first = 60_000;
    writer.write(&pattern(0, first)).unwrap();
    let queued = writer.transport().get_write_buffer_size();
    assert!(queued > 0 && queued < first, "{queued} of {first} queued");
    assert!(matches!(
        poll_once(pin!(writer.drain())),
        Poll::Ready(Ok(()))
    ));
    let second = 5_000;
    writer.write_bytes(pattern(first, second).into()).unwrap();
    writer.write(&pattern(first + second, 7)).unwrap();
    let total = first + second + 7;
    assert_eq!(
        writer.transport().get_write_buffer_size(),
        queued + second + 7
    );
    expect_pattern(&mut peer, 0, total).await;
    writer.drain().await.unwrap();
    assert_eq!(writer.transport().get_write_buffer_size(), 0);
}

/// asyncio A53 (gh-74116) on a real connection: ten drains wait at once, from clones of
/// the writer on several tasks, and are all released when the queue goes down.
async fn concurrent_drains_are_all_released() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    let total = 4 * DEFAULT_HIGH_WATER;
    writer.write(&pattern(0, total)).unwrap();
    let mut drains = JoinSet::new();
    for _ in 0..10 {
        let w = writer.clone();
        drains.spawn(async move { w.drain().await });
    }
    // The peer has not read, so no drain can finish; on the current-thread runtime one
    // yield lets every drain task park before the peer starts reading.
    tokio::task::yield_now().await;
    assert!(drains.try_join_next().is_none());
    expect_pattern(&mut peer, 0, total).await;
    let mut released = 0;
    while let Some(result) = drains.join_next().await {
        result.unwrap().unwrap();
        released += 1;
    }
    assert_eq!(released, 10);
}

both_runtimes!(concurrent_drains_are_all_released);

const TASKS: u32 = 8;
const RECORDS: u32 = 3000;
const RECORD: usize = 16;

/// A 16-byte record: task, sequence number, and a check value of both.
fn record(task: u32, seq: u32) -> [u8; RECORD] {
    let check = ((u64::from(task) << 32) | u64::from(seq)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut r = [0; RECORD];
    r[..4].copy_from_slice(&task.to_le_bytes());
    r[4..8].copy_from_slice(&seq.to_le_bytes());
    r[8..].copy_from_slice(&check.to_le_bytes());
    r
}

/// Many small writes from cloned writers on several tasks, with drains in between: each
/// write arrives whole (never interleaved with another) and each task's in its order.
async fn many_small_writes_from_clones_keep_order() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    let reading = tokio::spawn(async move {
        let mut all = Vec::new();
        peer.read_to_end(&mut all).await.unwrap();
        all
    });
    let mut writers = JoinSet::new();
    for task in 0..TASKS {
        let w = writer.clone();
        writers.spawn(async move {
            for seq in 0..RECORDS {
                if seq % 3 == 0 {
                    w.writelines([&record(task, seq)[..8], &record(task, seq)[8..]])?;
                } else {
                    w.write(&record(task, seq))?;
                }
                if seq % 50 == 0 {
                    w.drain().await?;
                    tokio::task::yield_now().await;
                }
            }
            w.drain().await
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap().unwrap();
    }
    writer.close();
    writer.wait_closed().await.unwrap();
    let all = reading.await.unwrap();
    assert_eq!(all.len(), (TASKS * RECORDS) as usize * RECORD);
    let mut next = vec![0; TASKS as usize];
    for chunk in all.chunks(RECORD) {
        let task = u32::from_le_bytes(chunk[..4].try_into().unwrap());
        let seq = u32::from_le_bytes(chunk[4..8].try_into().unwrap());
        assert!(task < TASKS && chunk == record(task, seq), "torn record");
        assert_eq!(seq, next[task as usize], "task {task} out of order");
        next[task as usize] += 1;
    }
}

both_runtimes!(many_small_writes_from_clones_keep_order);

#[bounded_test]
async fn write_write_bytes_and_writelines_interleave_in_call_order() {
    let (mut reader, writer, mut peer) = stalled_pair().await;
    hold_input(&mut reader, &mut peer).await;
    let mut at = 0;
    for round in 0..20 {
        let small = pattern(at, 7);
        writer.write(&small).unwrap();
        at += 7;
        // Large buffers go in uncopied, between the coalesced small ones.
        let big = 9000 + round * 1000;
        writer.write_bytes(pattern(at, big).into()).unwrap();
        at += big;
        let (a, b) = (pattern(at, 3), pattern(at + 3, 20_000));
        writer.writelines([&a[..], &[][..], &b[..]]).unwrap();
        at += 20_003;
        writer.write(&[]).unwrap(); // no-op
    }
    assert_eq!(writer.transport().get_write_buffer_size(), at);
    let (drained, ()) = tokio::join!(writer.drain(), expect_pattern(&mut peer, 0, at));
    drained.unwrap();
}

/// `writelines()` with nothing queued sends its pieces from the caller's buffers and
/// queues only what the socket did not take, which may start inside a piece: the peer
/// gets every byte once, in order, as when more pieces than are sent directly (here 40)
/// are all queued first.
#[bounded_test]
async fn writelines_left_over_by_the_socket_is_queued_in_order() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    // A first byte, so that the reactor has seen the new socket writable (before that,
    // tokio answers a send WouldBlock without trying it).
    writer.write(&pattern(0, 1)).unwrap();
    expect_pattern(&mut peer, 0, 1).await;
    let mut at = 1;
    for pieces in [24, 40] {
        // 24 pieces of about 1.6 KiB (below the high mark, far above what the kernel
        // absorbs), one of them empty.
        let round: Vec<Vec<u8>> = (0..pieces)
            .map(|i| {
                let len = if i == 5 { 0 } else { 1500 + i * 13 };
                at += len;
                pattern(at - len, len)
            })
            .collect();
        let len: usize = round.iter().map(Vec::len).sum();
        writer.writelines(&round).unwrap();
        let queued = writer.transport().get_write_buffer_size();
        assert!(0 < queued && queued < len, "{queued} of {len} queued");
        let (drained, ()) = tokio::join!(writer.drain(), expect_pattern(&mut peer, at - len, len));
        drained.unwrap();
    }
}
