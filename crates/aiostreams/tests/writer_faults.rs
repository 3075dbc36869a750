//! What the writer does when things go wrong (spec 6.1, 6.2, 7.2, 7.4, 7.5): peer resets,
//! peers that close while we write, refused connects, writes after `write_eof()` or
//! `close()`, dropped writers, `abort()`, and `wait_closed()`'s outcomes.
//!
//! Peers are raw tokio sockets on 127.0.0.1:0. A reset is made the usual way: SO_LINGER 0,
//! then close.

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use aiostreams::{Error, StreamWriter, open_connection};
use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::bounded_test;
#[cfg(unix)]
use crate::support::net::{listener, unix_pair};
use crate::support::{
    both_runtimes,
    net::{stalled_pair, tcp_pair},
    poll_once,
};

/// Closes `peer` with a reset instead of a FIN.
fn reset(peer: TcpStream) {
    SockRef::from(&peer)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(peer);
}

/// A reset seen by a send or a receive: ECONNRESET, or EPIPE once the socket knows.
fn is_reset(err: &Error) -> bool {
    matches!(err, Error::Io(_))
        && matches!(
            err.io_kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        )
}

/// Two errors are the same stored error (the reader raises the one it keeps).
fn same(a: &Error, b: &Error) -> bool {
    match (a, b) {
        (Error::Io(a), Error::Io(b)) => std::sync::Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// Reads the peer to its end; a reset after the data counts as the end.
async fn read_all(peer: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match peer.read(&mut buf).await {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return all,
            Err(e) => panic!("peer read failed: {e}"),
        }
    }
}

#[bounded_test]
async fn peer_reset_during_drain_raises_the_reset_everywhere() {
    let (mut reader, writer, peer) = stalled_pair().await;
    writer.write(&vec![b'x'; 256 * 1024]).unwrap();
    let mut drain = pin!(writer.drain());
    assert!(poll_once(drain.as_mut()).is_pending());
    reset(peer);
    let err = drain.await.unwrap_err();
    assert!(is_reset(&err), "{err:?}");
    // The one error is kept: drain, wait_closed and reads all raise it.
    assert!(writer.is_closing());
    assert!(same(&writer.drain().await.unwrap_err(), &err));
    assert!(same(&writer.wait_closed().await.unwrap_err(), &err));
    assert!(same(&reader.read(10).await.unwrap_err(), &err));
    writer.write(b"dropped").unwrap();
    assert_eq!(writer.transport().get_write_buffer_size(), 0);
}

/// Drains until one fails: the reset reaches our socket, then tokio's reactor, at a time
/// the test cannot name, so it yields between tries (bounded by the caller's timeout).
async fn drain_until_error(writer: &StreamWriter) -> Error {
    loop {
        match writer.drain().await {
            Err(err) => return err,
            Ok(()) => tokio::task::yield_now().await,
        }
    }
}

// Regression (issue 10, bug 2): the peer resets with nothing queued and nothing read since;
// drain() returned Ok forever. CPython: ConnectionResetError(104, 'Connection reset by peer'),
// and the next read raises the same error.
#[bounded_test]
async fn drain_notices_a_peer_reset_with_nothing_queued_or_read() {
    let (mut reader, writer, peer) = tcp_pair().await;
    reset(peer);
    let err = drain_until_error(&writer).await;
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset, "{err:?}");
    assert!(
        err.to_string().contains("Connection reset by peer"),
        "{err}"
    );
    assert!(writer.is_closing());
    assert!(same(&reader.read(10).await.unwrap_err(), &err));
    assert!(same(&writer.drain().await.unwrap_err(), &err));
    assert!(same(&writer.wait_closed().await.unwrap_err(), &err));
}

/// A Unix socketpair connection whose peer closed with our bytes unread: that resets us.
#[cfg(unix)]
async fn unix_pair_reset_by_peer() -> (aiostreams::StreamReader, StreamWriter) {
    let (reader, mut writer, peer) = unix_pair().await;
    writer.write(b"never read").unwrap();
    writer.flush().await.unwrap(); // in the peer's receive queue (a Unix send is)
    drop(peer);
    (reader, writer)
}

// The same over a Unix socketpair.
#[cfg(unix)]
#[bounded_test]
async fn drain_notices_a_unix_peer_reset_with_nothing_queued_or_read() {
    let (mut reader, writer) = unix_pair_reset_by_peer().await;
    let err = drain_until_error(&writer).await;
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset, "{err:?}");
    assert!(same(&reader.read(10).await.unwrap_err(), &err));
}

// A write after a Unix peer reset us (it closed with our bytes unread) fails with EPIPE;
// the connection's error is still the reset the kernel reported, as asyncio's eager
// reader would have met it (regression: reads then raised BrokenPipe).
#[cfg(unix)]
#[bounded_test]
async fn write_after_a_unix_peer_reset_reports_the_reset() {
    let (mut reader, writer) = unix_pair_reset_by_peer().await;
    for _ in 0..3 {
        tokio::task::yield_now().await; // the reactor sees the reset
    }
    writer.write(b"into a closed socket").unwrap();
    let err = reader.read(10).await.unwrap_err();
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset, "{err:?}");
    assert!(same(&writer.drain().await.unwrap_err(), &err));
}

// A healthy connection's drain() stays Ok, and a peer's FIN is not an error for it.
#[bounded_test]
async fn drain_after_a_peer_fin_is_ok() {
    let (mut reader, writer, mut peer) = tcp_pair().await;
    writer.drain().await.unwrap();
    peer.shutdown().await.unwrap();
    assert_eq!(reader.read(10).await.unwrap(), b""[..]);
    writer.drain().await.unwrap();
    writer.write(b"after fin").unwrap();
    writer.drain().await.unwrap();
    let mut got = [0; 9];
    peer.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"after fin");
}

#[bounded_test]
async fn peer_reset_during_read_raises_from_read_wait_closed_and_drain() {
    let (mut reader, writer, peer) = tcp_pair().await;
    let (read, ()) = tokio::join!(reader.read(100), async {
        tokio::task::yield_now().await;
        reset(peer);
    });
    let err = read.unwrap_err();
    assert!(is_reset(&err), "{err:?}");
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset);
    assert!(same(&reader.read(100).await.unwrap_err(), &err));
    assert!(same(&reader.exception().unwrap(), &err));
    assert!(same(&writer.wait_closed().await.unwrap_err(), &err));
    assert!(same(&writer.drain().await.unwrap_err(), &err));
    assert!(writer.is_closing());
    // A write after the loss is dropped silently; drain keeps saying why.
    writer.write(b"late").unwrap();
    assert!(same(&writer.drain().await.unwrap_err(), &err));
}

/// asyncio A54 with bigger writes: the peer closes at once and we write forever.
async fn endless_writer_to_a_closed_peer_fails() {
    let (listener, port) = listener().await;
    let (streams, accepted) = tokio::join!(open_connection("127.0.0.1", port), listener.accept());
    drop(accepted.unwrap());
    let (_reader, writer) = streams.unwrap();
    let chunk = vec![b'y'; 1024];
    for _ in 0..1_000_000 {
        writer.write(&chunk).unwrap();
        if let Err(err) = writer.drain().await {
            assert!(is_reset(&err), "{err:?}");
            return;
        }
    }
    panic!("drain never failed");
}

both_runtimes!(endless_writer_to_a_closed_peer_fails);

#[bounded_test]
async fn connect_to_a_closed_port_is_refused() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = open_connection("127.0.0.1", port).await.unwrap_err();
    let Error::Connect { attempts } = &err else {
        panic!("expected Error::Connect, got {err:?}");
    };
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].addr, SocketAddr::from(([127, 0, 0, 1], port)));
    let text = format!("Connect call failed ('127.0.0.1', {port}): ");
    assert!(err.to_string().starts_with(&text), "{err}");
}

#[bounded_test]
async fn dropping_the_writer_gives_a_waiting_reader_eof() {
    let (mut reader, writer, mut peer) = tcp_pair().await;
    let clone = writer.clone();
    let waiting = tokio::spawn(async move { reader.read_to_eof().await });
    tokio::task::yield_now().await; // the reader is now waiting on the socket
    writer.write(b"last words").unwrap();
    drop(writer);
    assert!(!clone.is_closing(), "a clone keeps the connection open");
    drop(clone);
    assert_eq!(waiting.await.unwrap().unwrap(), "");
    // The queued bytes were sent before the close.
    assert_eq!(read_all(&mut peer).await, b"last words");
}

#[bounded_test]
async fn write_after_write_eof_is_invalid_state_even_after_close() {
    let (mut reader, writer, mut peer) = tcp_pair().await;
    writer.write(b"request").unwrap();
    assert!(writer.can_write_eof());
    writer.write_eof();
    writer.write_eof(); // idempotent
    assert!(!writer.is_closing(), "write_eof does not make it closing");
    let err = writer.write(b"more").unwrap_err();
    assert!(matches!(err, Error::InvalidState(_)), "{err:?}");
    assert_eq!(err.to_string(), "Cannot call write() after write_eof()");
    let err = writer.write_bytes(vec![1; 100_000].into()).unwrap_err();
    assert_eq!(err.to_string(), "Cannot call write() after write_eof()");
    let err = writer.writelines([b"a", b"b"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot call writelines() after write_eof()"
    );
    // The peer gets the bytes then EOF, and can still answer: reading goes on.
    assert_eq!(read_all(&mut peer).await, b"request");
    peer.write_all(b"answer\n").await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "answer\n");
    writer.drain().await.unwrap();
    // Checked before anything else, so it still raises once the connection is gone.
    writer.close();
    writer.wait_closed().await.unwrap();
    assert!(matches!(writer.write(b"x"), Err(Error::InvalidState(_))));
}

#[bounded_test]
async fn write_after_close_is_dropped_and_drain_says_connection_lost() {
    let (_reader, writer, mut peer) = tcp_pair().await;
    writer.close();
    assert!(writer.is_closing());
    writer.write(b"dropped").unwrap();
    writer.writelines([&b"also"[..], &b"dropped"[..]]).unwrap();
    for _ in 0..6 {
        writer.write(b"x").unwrap(); // asyncio logs from the fifth on; never raises
    }
    assert_eq!(writer.transport().get_write_buffer_size(), 0);
    let err = writer.drain().await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost), "{err:?}");
    assert_eq!(err.to_string(), "Connection lost");
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset);
    writer.wait_closed().await.unwrap();
    assert_eq!(read_all(&mut peer).await, b"");
}

#[bounded_test]
async fn write_after_close_with_a_queue_is_still_sent() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    let body = vec![b'b'; 100_000];
    writer.write(&body).unwrap();
    writer.close();
    assert!(writer.is_closing());
    writer.write(b"tail").unwrap(); // asyncio appends while the queue is not empty
    let (all, closed) = tokio::join!(read_all(&mut peer), writer.wait_closed());
    closed.unwrap();
    assert_eq!(all.len(), body.len() + 4);
    assert!(all.ends_with(b"tail"));
}

#[bounded_test]
async fn close_with_a_paused_queue_lets_drains_finish_normally() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    let total = 256 * 1024;
    writer.write(&vec![b'q'; total]).unwrap();
    let mut before = pin!(writer.drain());
    assert!(poll_once(before.as_mut()).is_pending());
    writer.close();
    // A drain issued after such a close waits too, and also returns normally.
    let mut after = pin!(writer.drain());
    assert!(poll_once(after.as_mut()).is_pending());
    let (all, a, b) = tokio::join!(read_all(&mut peer), before, after);
    a.unwrap();
    b.unwrap();
    assert_eq!(all.len(), total);
    writer.wait_closed().await.unwrap();
    // Now the connection is gone: a new drain says so.
    assert!(matches!(writer.drain().await, Err(Error::ConnectionLost)));
}

#[bounded_test]
async fn closing_keeps_already_buffered_bytes_readable_then_eof() {
    let (mut reader, writer, mut peer) = tcp_pair().await;
    peer.write_all(b"line1\nline2\n").await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "line1\n");
    let buffered = reader.buffer().to_vec();
    writer.close();
    writer.wait_closed().await.unwrap();
    assert_eq!(reader.read_to_eof().await.unwrap(), buffered);
    assert!(reader.at_eof());
    assert_eq!(reader.read(10).await.unwrap(), "");
}

#[bounded_test]
async fn wait_closed_is_not_completed_by_a_peer_fin() {
    let (mut reader, writer, mut peer) = tcp_pair().await;
    peer.shutdown().await.unwrap();
    assert_eq!(reader.read(10).await.unwrap(), "", "our reader saw the FIN");
    let mut closed = pin!(writer.wait_closed());
    assert!(poll_once(closed.as_mut()).is_pending());
    assert!(!writer.is_closing());
    // Half-closed, still writable.
    writer.write(b"still here").unwrap();
    writer.drain().await.unwrap();
    let mut buf = [0; 10];
    peer.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"still here");
    assert!(poll_once(closed.as_mut()).is_pending());
    writer.close();
    closed.await.unwrap();
    assert_eq!(read_all(&mut peer).await, b"");
}

#[bounded_test]
async fn cancelled_wait_closed_does_not_poison_later_calls() {
    let (_reader, writer, _peer) = tcp_pair().await;
    let w = writer.clone();
    let earlier = tokio::spawn(async move { w.wait_closed().await });
    tokio::task::yield_now().await;
    // asyncio's wait_for(wait_closed(), t) timing out poisons the shared future
    // forever; ours is cancelled alone.
    let timed_out = tokio::time::timeout(Duration::ZERO, writer.wait_closed()).await;
    assert!(timed_out.is_err());
    assert!(poll_once(pin!(writer.wait_closed())).is_pending());
    writer.close();
    earlier.await.unwrap().unwrap();
    writer.wait_closed().await.unwrap();
    writer.wait_closed().await.unwrap();
}

#[bounded_test]
async fn abort_while_a_drain_waits_returns_ok_then_connection_lost() {
    let (mut reader, writer, mut peer) = stalled_pair().await;
    let total = 256 * 1024;
    writer.write(&vec![b'a'; total]).unwrap();
    let mut drain = pin!(writer.drain());
    assert!(poll_once(drain.as_mut()).is_pending());
    writer.transport().abort();
    assert!(writer.is_closing());
    drain.await.unwrap();
    let err = writer.drain().await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost), "{err:?}");
    writer.wait_closed().await.unwrap();
    assert_eq!(writer.transport().get_write_buffer_size(), 0);
    assert_eq!(reader.read_to_eof().await.unwrap(), "");
    // The queue was dropped: the peer got at most what the kernel had taken.
    assert!(read_all(&mut peer).await.len() < total);
}

#[bounded_test]
async fn abort_gives_the_peer_eof_as_asyncio_does() {
    // asyncio's abort() closes without SO_LINGER 0: a peer sees EOF, not a reset,
    // after what was sent; input we never read is discarded, so it causes no reset.
    let (_reader, writer, mut peer) = tcp_pair().await;
    peer.write_all(b"never read").await.unwrap();
    writer.write(b"sent").unwrap();
    writer.transport().abort();
    writer.transport().abort(); // idempotent
    assert_eq!(read_all(&mut peer).await, b"sent");
    let mut buf = [0; 1];
    assert_eq!(peer.read(&mut buf).await.unwrap(), 0, "EOF, not a reset");
    writer.wait_closed().await.unwrap();
}
