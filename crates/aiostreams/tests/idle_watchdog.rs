//! The idle timeout holds whether or not the handler reads (issue 11): a connection on
//! which no byte moves either way is closed at `idle_timeout` even while its handler
//! awaits something else, and the handler's next read, `drain()` and `wait_closed()`
//! report `TimedOut { operation: "idle" }`. Bytes the connection sends keep it alive.
//! On tokio's paused clock: the figures asserted are the limits themselves.

use std::time::Duration;

use aiostreams::{ConnectOptions, Error, ServerOptions, StreamReader, StreamWriter};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::support::bounded_test;
use crate::support::net::{port_of, with_sender};

const BOUND: Duration = Duration::from_secs(600);
const IDLE: Duration = Duration::from_secs(8);
/// The watchdog looks 16 times per idle period while bytes move: it closes at most
/// this late after the last byte (and never early).
const SLACK: Duration = Duration::from_millis(500);

fn is_idle(err: &Error) -> bool {
    matches!(err, Error::TimedOut { operation: "idle", after } if *after == IDLE)
}

/// What the handler saw after it stopped waiting: its read, its drain and wait_closed.
struct Seen {
    read: Result<bytes::Bytes, Error>,
    drain: Result<(), Error>,
    closed: Result<(), Error>,
}

/// A server with the idle timeout, and a raw client of it.
async fn serve_idle<F, Fut>(handler: F) -> (aiostreams::Server, TcpStream)
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let server = ServerOptions::new()
        .idle_timeout(IDLE)
        .start_server(handler, "127.0.0.1", 0)
        .await
        .unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port_of(&server)))
        .await
        .unwrap();
    (server, sock)
}

/// Reads from `sock` until EOF; the bytes and when EOF came.
async fn read_to_eof(sock: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut got = Vec::new();
    sock.read_to_end(&mut got).await.unwrap();
    (got, Instant::now())
}

// The handler never reads: it waits for a signal that comes only after the client saw
// the close. The client sends a request the server never reads (unread bytes are not
// activity) and nothing else: the connection is closed at the idle timeout, the client
// sees EOF (a FIN, no reset), and the handler's read, drain and wait_closed then fail
// with the idle error.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn a_handler_that_does_not_read_is_closed_at_the_idle_timeout() {
    let (go_tx, go_rx) = mpsc::unbounded_channel::<()>();
    let go_rx = std::sync::Arc::new(tokio::sync::Mutex::new(go_rx));
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let handler = move |mut reader: StreamReader, writer: StreamWriter| {
        let (go_rx, seen_tx) = (go_rx.clone(), seen_tx.clone());
        async move {
            let _ = go_rx.lock().await.recv().await; // busy elsewhere, not reading
            let read = reader.readline().await;
            writer.write(b"late answer\n").unwrap();
            let drain = writer.drain().await;
            let closed = writer.wait_closed().await;
            let _ = seen_tx.send(Seen {
                read,
                drain,
                closed,
            });
        }
    };
    let (server, mut sock) = serve_idle(handler).await;
    let start = Instant::now();
    tokio::io::AsyncWriteExt::write_all(&mut sock, b"GET / HTTP/1.0\r\n")
        .await
        .unwrap();
    let (got, at) = read_to_eof(&mut sock).await;
    assert_eq!(got, b"", "nothing was sent");
    let waited = at - start;
    assert!(
        (IDLE..=IDLE + SLACK).contains(&waited),
        "closed after {waited:?}"
    );
    while server.active_connections() > 0 {
        tokio::task::yield_now().await;
    }
    go_tx.send(()).unwrap();
    let seen = seen_rx.recv().await.unwrap();
    let read = seen.read.unwrap_err();
    assert!(is_idle(&read), "read: {read:?}");
    assert!(is_idle(&seen.drain.unwrap_err()), "drain");
    assert!(is_idle(&seen.closed.unwrap_err()), "wait_closed");
}

// Sending is activity: a handler that pushes a line every 3 s and never reads keeps a
// silent client's connection past several idle periods; once it stops, the connection
// is closed one idle timeout after the last line, not earlier.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn sends_keep_a_connection_whose_handler_never_reads() {
    let (last_tx, mut last_rx) = mpsc::unbounded_channel();
    let handler = with_sender(last_tx, |_reader, writer, last_tx| async move {
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_secs(3)).await;
            writer.write(b"tick\n").unwrap();
        }
        let _ = last_tx.send(Instant::now());
        let _ = writer.wait_closed().await; // holds the writer, sends nothing
    });
    let (_server, mut sock) = serve_idle(handler).await;
    let (got, at) = read_to_eof(&mut sock).await;
    assert_eq!(
        got,
        b"tick\n".repeat(8),
        "every tick arrived (24 s > 3 idle periods)"
    );
    let last = last_rx.recv().await.unwrap();
    let after = at - last;
    assert!(
        (IDLE..=IDLE + SLACK).contains(&after),
        "closed {after:?} after the last send"
    );
}

// A client's reader busy elsewhere (not reading) with an idle timeout from
// ConnectOptions: the client side's watchdog closes it too, and a later read says why.
// Then set_idle_timeout(None) on a live connection turns the watchdog off.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn a_client_connection_idles_out_and_the_limit_can_be_lifted() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (peer_tx, peer_rx) = oneshot::channel();
    let accept = tokio::spawn(async move {
        let (a, _) = listener.accept().await.unwrap();
        let (b, _) = listener.accept().await.unwrap();
        peer_tx.send((a, b)).unwrap();
    });
    let options = ConnectOptions::new().idle_timeout(IDLE);
    let (mut reader, _writer) = options.connect("127.0.0.1", port).await.unwrap();
    let (mut lifted, _lifted_w) = options.connect("127.0.0.1", port).await.unwrap();
    lifted.set_idle_timeout(None).unwrap();
    accept.await.unwrap();
    let (mut a, _b) = peer_rx.await.unwrap();
    let start = Instant::now();
    let (got, at) = read_to_eof(&mut a).await;
    assert_eq!(got, b"");
    assert!(
        (IDLE..=IDLE + SLACK).contains(&(at - start)),
        "{:?}",
        at - start
    );
    let err = reader.readline().await.unwrap_err();
    assert!(is_idle(&err), "{err:?}");
    // The lifted one is still open ten idle periods later.
    let waited = tokio::time::timeout(IDLE * 10, lifted.readline()).await;
    assert!(waited.is_err(), "still open and waiting: {waited:?}");
}
