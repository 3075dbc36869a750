//! `StreamWriter` as a tokio `AsyncWrite` (DESIGN decision 9): `tokio::io::copy`,
//! `write_all` + `flush` + `shutdown`, back-pressure between writes, and errors once the
//! connection is gone.

use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use aiostreams::{DEFAULT_HIGH_WATER, Error, StreamWriter};
use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::bounded_test;
use crate::support::{
    both_runtimes, bounded,
    net::{answer_at_eof, stalled_pair, tcp_pair},
    pattern, poll_once,
};

/// The `aiostreams::Error` inside an `io::Error` from the `AsyncWrite` impl.
fn inner(err: &io::Error) -> Option<&Error> {
    err.get_ref().and_then(|e| e.downcast_ref::<Error>())
}

async fn tokio_io_copy_into_a_stream_writer() {
    let (_reader, mut writer, mut peer) = tcp_pair().await;
    let total = 3 << 20;
    let source = pattern(0, total);
    let receiving = tokio::spawn(async move {
        let mut all = Vec::new();
        peer.read_to_end(&mut all).await.unwrap();
        all
    });
    let copied = tokio::io::copy(&mut &source[..], &mut writer)
        .await
        .unwrap();
    assert_eq!(copied, total as u64);
    writer.shutdown().await.unwrap();
    assert_eq!(writer.transport().get_write_buffer_size(), 0);
    assert!(
        receiving.await.unwrap() == source,
        "the peer got every byte, then EOF"
    );
}

both_runtimes!(tokio_io_copy_into_a_stream_writer);

#[bounded_test]
async fn write_all_flush_shutdown_then_the_peer_answers() {
    let (mut reader, mut writer, peer) = tcp_pair().await;
    writer.write_all(b"request body").await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(writer.transport().get_write_buffer_size(), 0, "flushed");
    writer.shutdown().await.unwrap();
    assert!(!writer.is_closing(), "shutdown is write_eof, not close");
    // Half-closed: the answer still comes in.
    answer_at_eof(peer, b"request body", b"answer").await;
    assert_eq!(reader.read_to_eof().await.unwrap(), "answer");
    // Writing after shutdown is write()'s error.
    let err = writer.write_all(b"more").await.unwrap_err();
    assert!(
        matches!(inner(&err), Some(Error::InvalidState(_))),
        "{err:?}"
    );
}

#[bounded_test]
async fn poll_write_waits_while_the_queue_is_above_the_high_mark() {
    let (_reader, mut writer, mut peer) = stalled_pair().await;
    let total = 4 << 20;
    let source = pattern(0, total);
    let size = |w: &StreamWriter| w.transport().get_write_buffer_size();
    let (copying, reading) = {
        let mut src = &source[..];
        let mut copy = pin!(tokio::io::copy(&mut src, &mut writer));
        // copy() moves 8 KiB per poll_write; it stops once the queue is above 64 KiB.
        assert!(poll_once(copy.as_mut()).is_pending());
        let mut all = vec![0; total];
        let reading = async { peer.read_exact(&mut all).await.map(|_| all) };
        tokio::join!(copy, reading)
    };
    assert_eq!(copying.unwrap(), total as u64);
    assert!(reading.unwrap() == source);
    assert_eq!(size(&writer), 0);
}

#[bounded_test]
async fn poll_write_queues_at_most_one_buffer_above_the_high_mark() {
    let (_reader, mut writer, _peer) = stalled_pair().await;
    let piece = vec![7; 8 * 1024];
    let mut writes = 0;
    // The peer never reads: the writes stop being accepted soon after the mark.
    while let Poll::Ready(n) = poll_once(pin!(AsyncWriteExt::write(&mut writer, &piece))) {
        assert_eq!(n.unwrap(), piece.len());
        writes += 1;
        assert!(writes < 1000, "poll_write never applied back-pressure");
    }
    let queued = writer.transport().get_write_buffer_size();
    assert!(queued > DEFAULT_HIGH_WATER, "{queued}");
    assert!(queued <= DEFAULT_HIGH_WATER + piece.len(), "{queued}");
}

#[bounded_test]
async fn poll_write_after_close_fails() {
    let (_reader, mut writer, _peer) = tcp_pair().await;
    writer.close();
    // Closed with nothing queued: the connection is already gone.
    let err = writer.write_all(b"x").await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert!(
        matches!(inner(&err), Some(Error::ConnectionLost)),
        "{err:?}"
    );
    assert!(writer.flush().await.is_err());

    // Closing with a queue: the connection lives on, but no new bytes are accepted.
    let (_reader, mut writer, _peer) = stalled_pair().await;
    writer.write_all(&[1; 100_000]).await.unwrap();
    writer.close();
    let err = writer.write_all(b"x").await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
}

#[bounded_test]
async fn flush_after_a_peer_reset_reports_the_reset() {
    let (mut reader, mut writer, peer) = tcp_pair().await;
    SockRef::from(&peer)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(peer);
    // Our reader sees the reset first; then every write-side wait raises it.
    let read_err = reader.read(1).await.unwrap_err();
    assert_eq!(read_err.io_kind(), io::ErrorKind::ConnectionReset);
    let err = writer.write_all(b"x").await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert!(matches!(inner(&err), Some(Error::Io(_))), "{err:?}");
    let err = writer.flush().await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn write_error_on_flush_is_the_send_error() {
    // Nobody reads: the reset is found by the send itself, and flush() reports the send's
    // error (as drain() does), not a bare "Connection lost".
    bounded(async {
        let (_reader, mut writer, peer) = tcp_pair().await;
        SockRef::from(&peer)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(peer);
        let mut failure = None;
        for _ in 0..10_000 {
            let step = async {
                writer.write_all(&[0; 1024]).await?;
                writer.flush().await
            };
            if let Err(e) = step.await {
                failure = Some(e);
                break;
            }
        }
        let err = failure.expect("flush never failed");
        let kinds = [io::ErrorKind::ConnectionReset, io::ErrorKind::BrokenPipe];
        assert!(kinds.contains(&err.kind()), "{err:?}");
        assert!(matches!(inner(&err), Some(Error::Io(_))), "{err:?}");
    })
    .await;
}
