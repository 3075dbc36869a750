//! Connection time limits against hostile and slow peers (issue 11): read timeout
//! (slowloris), idle timeout (squatted `max_connections` slots), write timeout (a peer
//! that never reads), the TLS handshake timeout (silent TLS peers), Go-style deadlines
//! and the per-call `with_timeout`. Every test runs on tokio's paused clock, so the
//! timeouts are virtual time: the figures asserted are the limits themselves, not speed.

use std::time::Duration;

use aiostreams::{ConnectOptions, Error, ServerOptions, open_connection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::support::net::{echo_lines, listener, serve_loopback, with_sender};
use crate::support::{assert_timed_out, bounded_test, fed_reader};

/// Bound for bodies whose own timeouts run up to a minute of virtual time.
const BOUND: Duration = Duration::from_secs(600);

async fn assert_echoes(port: u16) {
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    writer.write(b"hello\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "hello\n");
}

/// Reads until EOF (or a reset), returning what arrived.
async fn read_until_closed(sock: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = sock.read_to_end(&mut got).await;
    got
}

// A slowloris client sends one byte a second and never a newline; with a 5 s read
// timeout its readline fails 5 s after the first byte, the handler ends and the
// connection closes, while a normal client is served the whole time, and a keep-alive
// client that waits 8 s between requests is governed by the 20 s idle timeout instead.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn slowloris_is_cut_at_the_read_timeout_while_others_are_served() {
    let (_server, port) = serve_loopback(
        ServerOptions::new()
            .read_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(20)),
        echo_lines,
    )
    .await;
    let (mut keep_alive, keep_alive_w) = open_connection("127.0.0.1", port).await.unwrap();
    let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let start = Instant::now();
    let dribble = async {
        for _ in 0..30 {
            if slow.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_echoes(port).await;
        }
    };
    dribble.await;
    let waited = start.elapsed();
    assert_eq!(read_until_closed(&mut slow).await, b"");
    assert!(waited >= Duration::from_secs(5), "{waited:?}");
    // Cut at its timeout: the write after the close fails a second or two later.
    assert!(waited <= Duration::from_secs(8), "{waited:?}");
    keep_alive_w.write(b"still here\n").unwrap();
    assert_eq!(keep_alive.readline().await.unwrap(), "still here\n");
}

// max_connections(2) and two clients that connect and send nothing: a third client
// waits in the backlog until the idle timeout closes the squatters, then is served.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn idle_sockets_free_their_max_connections_slots() {
    let (server, port) = serve_loopback(
        ServerOptions::new()
            .max_connections(2)
            .idle_timeout(Duration::from_secs(10)),
        echo_lines,
    )
    .await;
    let squatters = raw_clients(port, 2).await;
    while server.active_connections() < 2 {
        tokio::task::yield_now().await;
    }
    let start = Instant::now();
    assert_echoes(port).await;
    let waited = start.elapsed();
    assert!(
        (Duration::from_secs(10)..Duration::from_secs(11)).contains(&waited),
        "served after {waited:?}"
    );
    for mut s in squatters {
        assert_eq!(read_until_closed(&mut s).await, b"", "closed, nothing sent");
    }
}

// The idle clock runs only while nothing moves: a server pushing a line every 3 s to a
// silent client, with a 5 s idle timeout, keeps the connection; once it stops pushing,
// the reader's wait ends with TimedOut("idle") 5 s later and the client sees EOF.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn sending_keeps_a_connection_from_idling_and_the_read_sees_an_idle_error() {
    let (report, mut outcome) = mpsc::unbounded_channel();
    let handler = with_sender(report, |mut reader, writer, report| async move {
        let pusher = tokio::spawn(async move {
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_secs(3)).await;
                writer.write(b"tick\n").unwrap();
            }
            writer
        });
        let start = Instant::now();
        let err = reader.readline().await.unwrap_err();
        report.send((err, start.elapsed())).unwrap();
        drop(pusher.await);
    });
    let (_server, port) = serve_loopback(
        ServerOptions::new().idle_timeout(Duration::from_secs(5)),
        handler,
    )
    .await;
    let (mut reader, _writer) = open_connection("127.0.0.1", port).await.unwrap();
    for _ in 0..4 {
        assert_eq!(reader.readline().await.unwrap(), "tick\n");
    }
    assert_eq!(reader.readline().await.unwrap(), "", "closed after idling");
    let (err, after) = outcome.recv().await.unwrap();
    assert!(
        matches!(err, Error::TimedOut { operation: "idle", after } if after == Duration::from_secs(5)),
        "{err:?}"
    );
    // Last tick at 12 s, closed 5 s later (the clock restarts at the check after a send).
    assert!(after >= Duration::from_secs(17), "{after:?}");
    assert!(after <= Duration::from_secs(21), "{after:?}");
}

// A peer that never reads: the handler's writes fill the socket, drain() waits, and
// 5 s after the queue last moved, drain() and wait_closed() fail with TimedOut("write").
#[bounded_test(limit = BOUND, start_paused = true)]
async fn a_never_reading_peer_fails_drain_at_the_write_timeout() {
    let (report, mut outcome) = mpsc::unbounded_channel();
    let handler = with_sender(report, |_reader, writer, report| async move {
        let chunk = vec![b'x'; 64 * 1024];
        let (drained, stalled_at) = loop {
            writer.write(&chunk).unwrap();
            let before = Instant::now();
            if let Err(e) = writer.drain().await {
                break (e, before);
            }
        };
        let waited = stalled_at.elapsed();
        let closed = writer.wait_closed().await.unwrap_err();
        report.send((drained, closed, waited)).unwrap();
    });
    let (server, port) = serve_loopback(
        ServerOptions::new().write_timeout(Duration::from_secs(5)),
        handler,
    )
    .await;
    let _silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (drained, closed, waited) = outcome.recv().await.unwrap();
    for err in [&drained, &closed] {
        assert_timed_out(err, "write");
        assert_eq!(err.io_kind(), std::io::ErrorKind::TimedOut);
    }
    assert!(
        (Duration::from_secs(5)..Duration::from_secs(6)).contains(&waited),
        "{waited:?}"
    );
    // The connection is gone: the server's slot is free.
    while server.active_connections() > 0 {
        tokio::task::yield_now().await;
    }
}

/// `n` raw TCP clients of 127.0.0.1 `port` that send nothing.
async fn raw_clients(port: u16, n: usize) -> Vec<TcpStream> {
    let mut clients = Vec::new();
    for _ in 0..n {
        clients.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    clients
}

// A read that times out consumes nothing: over a stream of numbered lines sent in
// pieces with pauses longer and shorter than the read timeout, retrying each timed-out
// readline gives every line exactly once, in order.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn timed_out_reads_lose_nothing_and_repeat_nothing() {
    let (listener, port) = listener().await;
    let lines: Vec<String> = (0..20)
        .map(|i| format!("line {i} {}\n", "y".repeat(i)))
        .collect();
    let stream: Vec<u8> = lines.concat().into_bytes();
    let peer = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        for (i, piece) in stream.chunks(7).enumerate() {
            sock.write_all(piece).await.unwrap();
            // 0, 1, 2 or 3 s: some pauses outlast the 2 s read timeout.
            tokio::time::sleep(Duration::from_secs(i as u64 % 4)).await;
        }
    });
    let (mut reader, _writer) = ConnectOptions::new()
        .read_timeout(Duration::from_secs(2))
        .connect("127.0.0.1", port)
        .await
        .unwrap();
    let (mut got, mut timeouts) = (Vec::new(), 0);
    loop {
        match reader.readline().await {
            Ok(line) if line.is_empty() => break,
            Ok(line) => got.push(String::from_utf8(line.to_vec()).unwrap()),
            Err(Error::TimedOut {
                operation: "read",
                after,
            }) => {
                assert_eq!(after, Duration::from_secs(2));
                timeouts += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    peer.await.unwrap();
    assert_eq!(got, lines);
    assert!(timeouts > 5, "the test must time reads out: {timeouts}");
}

// Go-style deadlines: one in the past fails a read that would wait at once (a read the
// buffer answers still succeeds), None clears it; a write deadline in the past ends a
// connection whose queue waits for the socket.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn deadlines_in_the_past_fail_at_once_and_none_clears_them() {
    let (listener, port) = listener().await;
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    let (mut peer, _) = listener.accept().await.unwrap();
    peer.write_all(b"one\ntw").await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "one\n");
    let start = Instant::now();
    reader
        .set_read_deadline(Some(start - Duration::from_secs(1)))
        .unwrap();
    peer.write_all(b"o\nthr").await.unwrap();
    tokio::task::yield_now().await;
    // "two" is on the socket: no wait, so the deadline does not matter.
    assert_eq!(reader.readline().await.unwrap(), "two\n");
    let err = reader.readline().await.unwrap_err();
    assert_timed_out(&err, "read");
    assert_eq!(start.elapsed(), Duration::ZERO, "failed at once");
    reader.set_read_deadline(None).unwrap();
    let finish = async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        peer.write_all(b"ee\n").await.unwrap();
        peer
    };
    let (line, mut peer) = tokio::join!(reader.readline(), finish);
    assert_eq!(
        line.unwrap(),
        "three\n",
        "nothing of the timed-out read lost"
    );

    // The write side: a queue the peer does not take, and a deadline already passed.
    let chunk = vec![b'z'; 256 * 1024];
    let start = Instant::now();
    writer.set_write_deadline(Some(start));
    let err = loop {
        writer.write(&chunk).unwrap();
        if let Err(e) = writer.drain().await {
            break e;
        }
    };
    assert_timed_out(&err, "write");
    assert_eq!(start.elapsed(), Duration::ZERO, "failed at once");
    let mut sink = Vec::new();
    let _ = peer.read_to_end(&mut sink).await;
}

// The per-call form on a fed reader (no source, so no reader timeouts): the timed-out
// read consumed nothing; set_read_timeout refuses such a reader with a clear error.
#[tokio::test(start_paused = true)]
async fn with_timeout_times_one_call_and_fed_readers_refuse_reader_timeouts() {
    let mut reader = fed_reader(&[b"par"]);
    let start = Instant::now();
    let err = reader
        .with_timeout(Duration::from_secs(3), async |r| r.readexactly(5).await)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TimedOut { operation: "read", after } if after == Duration::from_secs(3)),
        "{err:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    reader.feed_data(b"tial").unwrap();
    assert_eq!(reader.readexactly(7).await.unwrap(), "partial");
    let err = reader
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidState(_)), "{err:?}");
}

// N silent TLS clients (a TCP connect, no ClientHello) fill max_connections(N): a real
// TLS client is served once the handshake timeout drops them, not after asyncio's 60 s.
#[cfg(feature = "tls")]
#[bounded_test(limit = BOUND, start_paused = true)]
async fn silent_tls_handshakes_hold_slots_only_until_the_handshake_timeout() {
    use crate::support::certs::{Kind, Pki};
    let pki = Pki::new();
    let (_server, port) = serve_loopback(
        ServerOptions::new()
            .max_connections(2)
            .ssl(pki.server_config(Kind::Good))
            .ssl_handshake_timeout(Duration::from_secs(5)),
        echo_lines,
    )
    .await;
    let silent = raw_clients(port, 2).await;
    tokio::task::yield_now().await;
    let start = Instant::now();
    let (mut reader, writer) = ConnectOptions::new()
        .ssl_config(pki.client_config())
        .server_hostname("localhost")
        .ssl_handshake_timeout(Duration::from_secs(60))
        .connect("127.0.0.1", port)
        .await
        .unwrap();
    writer.write(b"over tls\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "over tls\n");
    let waited = start.elapsed();
    assert!(
        (Duration::from_secs(5)..Duration::from_secs(6)).contains(&waited),
        "served after {waited:?}"
    );
    for mut s in silent {
        assert_eq!(read_until_closed(&mut s).await, b"");
    }
}
