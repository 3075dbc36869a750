//! `StreamWriter::from_io` over tokio's duplex and split halves, and
//! `connect_read_pipe` / `connect_write_pipe` over real pipes: the socket writer's
//! water marks, write_eof, close and errors.

use std::future::Future;
use std::io::Write;
use std::pin::pin;
use std::task::{Context, Waker};

use aiostreams::{Error, StreamReader, StreamWriter, connect_read_pipe, connect_write_pipe};

use crate::support::{both_runtimes, net::answer_at_eof, temp::TempDir};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn is_pending<F: Future>(fut: std::pin::Pin<&mut F>) -> bool {
    fut.poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
}

/// Far more than the duplex holds: write() queues it, drain() waits above the high mark
/// until the reader takes it below the low mark, and every byte arrives in order.
async fn duplex_queues_and_drains_with_water_marks() {
    let (ours, theirs) = tokio::io::duplex(1024);
    let writer = StreamWriter::from_io(ours);
    let data = pattern(300_000);
    writer.write(&data).unwrap();
    assert!(writer.transport().get_write_buffer_size() > 64 * 1024);
    {
        let mut drain = pin!(writer.drain());
        assert!(
            is_pending(drain.as_mut()),
            "drain waits above the high mark"
        );
        let mut reader = StreamReader::from_io(theirs);
        let (got, drained) = tokio::join!(reader.readexactly(data.len()), drain);
        drained.unwrap();
        assert_eq!(got.unwrap(), data);
        assert!(writer.transport().get_write_buffer_size() <= 16 * 1024);
        writer.write_eof();
        assert!(reader.read_to_eof().await.unwrap().is_empty());
    }
    assert!(!writer.is_closing(), "write_eof does not close");
    assert!(matches!(writer.write(b"x"), Err(Error::InvalidState(_))));
    writer.close();
    writer.wait_closed().await.unwrap();
}
both_runtimes!(duplex_queues_and_drains_with_water_marks);

/// The write half of a split duplex: write_eof shuts its direction down (the peer reads
/// EOF) while the read half goes on reading what the peer answers.
async fn split_half_close_keeps_reading() {
    let (ours, peer) = tokio::io::duplex(64);
    let (read_half, write_half) = tokio::io::split(ours);
    let mut reader = StreamReader::from_io(read_half);
    let writer = StreamWriter::from_io(write_half);
    writer.write(b"question\n").unwrap();
    writer.write_eof();
    answer_at_eof(peer, b"question\n", b"answer\n").await;
    assert_eq!(reader.readline().await.unwrap(), "answer\n");
    assert!(reader.read_to_eof().await.unwrap().is_empty());
}
both_runtimes!(split_half_close_keeps_reading);

/// close() sends what is queued first; wait_closed() completes after it; the writer's
/// AsyncWrite side (tokio::io::copy) works over a pipe too.
async fn close_sends_the_queue_then_closes_the_pipe() {
    let (read_end, write_end) = std::io::pipe().unwrap();
    let writer = connect_write_pipe(write_end).unwrap();
    let mut reader = connect_read_pipe(read_end).unwrap();
    let data = pattern(1 << 20);
    let copy_source = data.clone();
    let mut copier = writer.clone();
    let write = async move {
        tokio::io::copy(&mut &copy_source[..], &mut copier)
            .await
            .unwrap();
        copier.close();
        copier.wait_closed().await.unwrap();
    };
    let (got, ()) = tokio::join!(reader.read_to_eof(), write);
    assert_eq!(got.unwrap(), data);
    assert!(writer.is_closing());
    assert!(writer.peername().is_none());
    assert!(writer.transport().with_socket(|_| ()).is_none());
}
both_runtimes!(close_sends_the_queue_then_closes_the_pipe);

/// The reading end closed: the next send fails with EPIPE, which ends the writer;
/// drain() and wait_closed() raise BrokenPipe, later writes are dropped.
async fn closed_reading_end_is_broken_pipe() {
    let (read_end, write_end) = std::io::pipe().unwrap();
    let writer = connect_write_pipe(write_end).unwrap();
    drop(read_end);
    writer.write(b"nobody reads this").unwrap();
    let err = writer.wait_closed().await.unwrap_err();
    assert_eq!(err.io_kind(), std::io::ErrorKind::BrokenPipe, "{err:?}");
    assert!(writer.is_closing());
    writer.write(b"dropped").unwrap();
    assert!(writer.drain().await.is_err());
}
both_runtimes!(closed_reading_end_is_broken_pipe);

/// A pipe whose reader stalls: the queue is sent by the flush task once the reader
/// drains the kernel's buffer (the wake-up of an `AsyncWrite` counts as readiness).
async fn stalled_pipe_resumes_when_read() {
    let (mut read_end, write_end) = std::io::pipe().unwrap();
    let writer = connect_write_pipe(write_end).unwrap();
    let data = pattern(200_000);
    writer.write(&data).unwrap();
    assert!(writer.transport().get_write_buffer_size() > 0);
    let blocking = tokio::task::spawn_blocking(move || {
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut read_end, &mut got).unwrap();
        got
    });
    writer.drain().await.unwrap();
    writer.close();
    writer.wait_closed().await.unwrap();
    assert_eq!(blocking.await.unwrap(), data);
}
both_runtimes!(stalled_pipe_resumes_when_read);

/// Bytes written into a pipe by another writer reach a `connect_read_pipe` reader; its
/// limit applies to lines as on a socket.
async fn read_pipe_has_the_limit() {
    let (read_end, mut write_end) = std::io::pipe().unwrap();
    let mut reader = aiostreams::connect_read_pipe_with_limit(read_end, 8).unwrap();
    write_end.write_all(b"short\nmuch too long\n").unwrap();
    drop(write_end);
    assert_eq!(reader.readline().await.unwrap(), "short\n");
    assert!(matches!(
        reader.readline().await,
        Err(Error::LimitOverrun { .. })
    ));
    assert!(matches!(
        aiostreams::connect_read_pipe_with_limit(std::io::pipe().unwrap().0, 0),
        Err(Error::InvalidArgument(_))
    ));
}
both_runtimes!(read_pipe_has_the_limit);

/// asyncio's check: a regular file is refused with its message; a Unix socket is taken.
#[tokio::test]
async fn regular_file_is_refused_socket_accepted() {
    let dir = TempDir::new("pipes");
    let file = std::fs::File::create(dir.path().join("plain")).unwrap();
    match connect_write_pipe(file) {
        Err(Error::InvalidArgument(msg)) => {
            assert_eq!(msg, "Pipe transport is for pipes/sockets only.")
        }
        other => panic!("{other:?}"),
    }
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let writer = connect_write_pipe(a).unwrap();
    let mut reader = connect_read_pipe(b).unwrap();
    writer.write(b"over a socket\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "over a socket\n");
}

/// start_tls needs a socket: refused on a pipe writer, which stays usable.
#[cfg(feature = "tls")]
#[tokio::test]
async fn start_tls_is_refused_without_a_socket() {
    let (ours, theirs) = tokio::io::duplex(64);
    let writer = StreamWriter::from_io(ours);
    let mut reader = StreamReader::from_io(theirs);
    let config = crate::support::certs::Pki::new().client_config();
    let err = writer
        .start_tls(&mut reader, config, Some("localhost"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidState(_)), "{err:?}");
}
