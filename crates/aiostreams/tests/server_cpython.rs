//! CPython's server tests, ported: `test_streams.py` A43, A44, A71-A73 and gh-155941
//! (client callback errors), and `test_server.py` C1-C11 (serving, `serve_forever`,
//! `wait_closed`, `close_clients`/`abort_clients`, Unix socket clean-up).
//!
//! "Pending" is checked by polling a future once, never by sleeping.

#![allow(
    non_snake_case,
    reason = "test names keep CPython's, e.g. test_start_server_1"
)]

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Waker};

use aiostreams::{
    ConnectOptions, Error, Server, ServerOptions, StreamReader, StreamWriter, open_connection,
    start_server,
};
#[cfg(unix)]
use aiostreams::{open_unix_connection, start_unix_server};
use bytes::Bytes;
use tokio::sync::mpsc;
use tracing::Level;

use crate::support::bounded_test;
use crate::support::{
    bounded, error_type,
    log_capture::Logs,
    net::{closed, port_of, with_sender},
    temp::TempPath,
};

const UNHANDLED: &str = "Unhandled exception in client_connected_cb";

/// Polls once: true if the future is not ready yet.
fn is_pending<F: Future>(fut: Pin<&mut F>) -> bool {
    fut.poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
}

/// A43's server coroutine: `readline()`, write it back, `drain()`, `close()`, `wait_closed()`.
async fn echo_line(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    let line = reader.readline().await?;
    writer.write(&line)?;
    writer.drain().await?;
    closed(&writer).await
}

/// A43's client: write `hello world!\n`, `readline()`, close, `wait_closed()`.
async fn echo_client((mut reader, writer): (StreamReader, StreamWriter)) -> Bytes {
    writer.write(b"hello world!\n").unwrap();
    let line = reader.readline().await.unwrap();
    writer.close();
    writer.wait_closed().await.unwrap();
    line
}

fn assert_no_handler_messages(logs: &Logs) {
    assert_eq!(logs.at_least(Level::WARN), Vec::<String>::new());
}

/// Runs `body` bounded and checks that nothing was logged at WARN or above meanwhile (the
/// CPython tests check that no handler exception was logged).
async fn bounded_without_warnings(body: impl Future<Output = ()>) {
    let (logs, _guard) = Logs::capture_thread();
    bounded(body).await;
    assert_no_handler_messages(&logs);
}

/// The A43/A44 exchange: the client's line comes back; then the server closes.
async fn assert_echoed_then_close(server: Server, conn: (StreamReader, StreamWriter)) {
    assert_eq!(echo_client(conn).await, "hello world!\n");
    server.close();
    server.wait_closed().await;
}

/// A43/A44's plain callback: not a coroutine function, it spawns the handler as a task.
fn plain_echo_line(reader: StreamReader, writer: StreamWriter) -> std::future::Ready<()> {
    tokio::spawn(echo_line(reader, writer));
    std::future::ready(())
}

// A43, run 1: a listening socket made beforehand, given as `sock=`; run 2: host and
// port, and a plain callback.
#[tokio::test]
async fn test_start_server() {
    bounded_without_warnings(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = ServerOptions::new()
            .serve_sock(echo_line, listener)
            .await
            .unwrap();
        assert_eq!(port_of(&server), port);
        assert_echoed_then_close(server, open_connection("127.0.0.1", port).await.unwrap()).await;

        let server = start_server(plain_echo_line, "127.0.0.1", 0).await.unwrap();
        let port = port_of(&server);
        assert_echoed_then_close(server, open_connection("127.0.0.1", port).await.unwrap()).await;
    })
    .await;
}

// A44, run 1: `start_unix_server(path)` and `open_unix_connection(path)`; run 2: a Unix
// listener bound beforehand, and a plain callback.
#[cfg(unix)]
#[tokio::test]
async fn test_start_unix_server() {
    let path = TempPath::new("a44-path");
    let sock_path = TempPath::new("a44-sock");
    bounded_without_warnings(async {
        let server = start_unix_server(echo_line, &path).await.unwrap();
        assert_echoed_then_close(server, open_unix_connection(&path).await.unwrap()).await;

        let listener = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
        let server = ServerOptions::new()
            .serve_sock(plain_echo_line, listener)
            .await
            .unwrap();
        assert_echoed_then_close(server, open_unix_connection(&sock_path).await.unwrap()).await;
    })
    .await;
}

// A71 equivalent: a handler that drops its writer (while still running and holding the
// reader) closes the connection; the client sees EOF.
#[tokio::test]
async fn test_unclosed_server_writer_dropped_closes_connection() {
    bounded_without_warnings(async {
        let release = tokio_util::sync::CancellationToken::new();
        let handler = {
            let release = release.clone();
            move |reader: StreamReader, writer: StreamWriter| {
                let release = release.clone();
                async move {
                    drop(writer);
                    release.cancelled().await;
                    drop(reader);
                }
            }
        };
        let server = start_server(handler, "127.0.0.1", 0).await.unwrap();
        let (mut reader, _writer) = open_connection("127.0.0.1", port_of(&server))
            .await
            .unwrap();
        assert_eq!(reader.read(100).await.unwrap(), "");
        assert!(reader.at_eof());
        release.cancel();
        server.close();
        server.wait_closed().await;
    })
    .await;
}

/// A72's client: write `test msg` (if `send`), drain, see the server close (EOF), close,
/// wait closed. The handlers read the message first: closing a socket with unread
/// input would send a reset instead of EOF.
async fn a72_client(port: u16, send: bool) {
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    if send {
        writer.write(b"test msg").unwrap();
        writer.drain().await.unwrap();
    }
    assert_eq!(reader.read_to_eof().await.unwrap(), "");
    writer.close();
    writer.wait_closed().await.unwrap();
}

async fn a72_scenario<F, Fut>(handler: F, send: bool) -> Logs
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: aiostreams::HandlerResult,
{
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let server = start_server(handler, "127.0.0.1", 0).await.unwrap();
        a72_client(port_of(&server), send).await;
        server.close();
        server.wait_closed().await;
        assert!(server.sockets().is_empty());
    })
    .await;
    logs
}

fn assert_first_message_unhandled(logs: &Logs) {
    let messages = logs.at_least(Level::ERROR);
    assert!(
        messages.first().is_some_and(|m| m.starts_with(UNHANDLED)),
        "{messages:?}"
    );
}

error_type!(TestError, "test");

// A72: the handler raises; the connection is closed, the error reported, and the
// server's close + wait_closed completes.
#[tokio::test]
async fn test_unhandled_exception() {
    let handler = |mut reader: StreamReader, writer: StreamWriter| async move {
        // Keep the writer: dropping it would close the connection at once (A71).
        let _writer = writer;
        reader.readexactly(8).await.unwrap();
        Err(TestError)
    };
    let logs = a72_scenario(handler, true).await;
    assert_first_message_unhandled(&logs);
    assert!(logs.at_least(Level::ERROR)[0].contains("test"));
}

/// Panics; returns `()` as far as the type checker knows, so a handler can end with it.
fn panic_on_purpose() {
    panic!("handler panicked on purpose");
}

// A72 with a panic in the handler's future instead of an error.
#[tokio::test]
async fn test_unhandled_exception__panic() {
    let handler = |mut reader: StreamReader, writer: StreamWriter| async move {
        // Keep the writer: dropping it would close the connection at once (A71).
        let _writer = writer;
        reader.readexactly(8).await.unwrap();
        panic_on_purpose();
    };
    let logs = a72_scenario(handler, true).await;
    assert_first_message_unhandled(&logs);
    assert!(logs.at_least(Level::ERROR)[0].contains("handler panicked on purpose"));
}

// A73 equivalent: the handler closes its writer and returns; no handler messages.
#[tokio::test]
async fn test_unhandled_cancel() {
    let handler = |mut reader: StreamReader, writer: StreamWriter| async move {
        reader.readexactly(8).await.unwrap();
        writer.close();
    };
    let logs = a72_scenario(handler, true).await;
    assert_no_handler_messages(&logs);
}

// gh-155941 equivalent: a plain (non-async) callback that panics before returning its
// future is reported like a failing coroutine, and its connection is closed.
#[tokio::test]
async fn test_plain_callback_raises() {
    fn plain(_reader: StreamReader, _writer: StreamWriter) -> std::future::Ready<()> {
        panic!("plain callback raised");
    }
    let logs = a72_scenario(plain, false).await;
    assert_first_message_unhandled(&logs);
    assert!(logs.at_least(Level::ERROR)[0].contains("plain callback raised"));
}

/// C1/C2's handler: `readline()`, ask the main task to cancel, write `1`, close.
async fn c1_handler(
    mut reader: StreamReader,
    writer: StreamWriter,
    cancel: mpsc::Sender<()>,
) -> Result<(), Error> {
    reader.readline().await?;
    let _ = cancel.send(()).await;
    writer.write(b"1")?;
    closed(&writer).await
}

/// C1/C2's client: 5 KiB of `1` and a newline, then read one byte.
async fn c1_client((mut reader, writer): (StreamReader, StreamWriter)) -> Bytes {
    let mut data = vec![b'1'; 5 * 1024];
    data.push(b'\n');
    writer.write(&data).unwrap();
    writer.drain().await.unwrap();
    reader.readexactly(1).await.unwrap()
}

/// C1/C2 from `serve_forever()` on: serve one client, cancel `serve_forever()` from the
/// handler, and check the server is closed for good.
async fn c1_serve_and_cancel<C>(server: &Server, client: C, cancel: &mut mpsc::Receiver<()>)
where
    C: Future<Output = Bytes> + Send + 'static,
{
    let mut serve = Box::pin(server.serve_forever());
    assert!(is_pending(serve.as_mut()));
    assert!(server.is_serving());
    let client = tokio::spawn(client);
    tokio::select! {
        result = &mut serve => panic!("serve_forever() returned {result:?}"),
        _ = cancel.recv() => {}
    }
    // The main task is cancelled: dropping serve_forever() closes the server.
    drop(serve);
    assert_eq!(client.await.unwrap(), "1");
    assert!(server.sockets().is_empty());
    assert!(!server.is_serving());
    let err = server.serve_forever().await.unwrap_err();
    assert!(err.to_string().contains("is closed"), "{err}");
    server.wait_closed().await;
}

// C1: start_serving=false binds without listening; serve_forever() serves; cancelling
// it closes the server.
#[bounded_test]
async fn test_start_server_1() {
    let (cancel_tx, mut cancel_rx) = mpsc::channel(1);
    let server = ServerOptions::new()
        .start_serving(false)
        .start_server(with_sender(cancel_tx, c1_handler), "127.0.0.1", 0)
        .await
        .unwrap();
    assert!(!server.is_serving());
    let port = port_of(&server);
    // Bound but not listening: nothing can connect yet.
    let refused = open_connection("127.0.0.1", port).await.unwrap_err();
    assert_eq!(refused.io_kind(), io::ErrorKind::ConnectionRefused);
    let client = async move { c1_client(open_connection("127.0.0.1", port).await.unwrap()).await };
    c1_serve_and_cancel(&server, client, &mut cancel_rx).await;
}

// C2: the same with a Unix server and an explicit start_serving().
#[cfg(unix)]
#[tokio::test]
async fn test_start_unix_server_1() {
    let path = TempPath::new("c2");
    bounded(async {
        let (cancel_tx, mut cancel_rx) = mpsc::channel(1);
        let server = ServerOptions::new()
            .start_serving(false)
            .start_unix_server(with_sender(cancel_tx, c1_handler), &path)
            .await
            .unwrap();
        assert!(!server.is_serving());
        let refused = open_unix_connection(&path).await.unwrap_err();
        assert_eq!(refused.io_kind(), io::ErrorKind::ConnectionRefused);
        server.start_serving().await.unwrap();
        assert!(server.is_serving());
        let client_path = path.to_path_buf();
        let client =
            async move { c1_client(open_unix_connection(client_path).await.unwrap()).await };
        c1_serve_and_cancel(&server, client, &mut cancel_rx).await;
    })
    .await;
}

/// A TCP server of [`read_to_eof_handler`]s, and the channel on which they report
/// their start.
async fn read_to_eof_server() -> (Server, mpsc::UnboundedReceiver<()>) {
    let (started_tx, started) = mpsc::unbounded_channel();
    let handler = with_sender(started_tx, read_to_eof_handler);
    let server = start_server(handler, "127.0.0.1", 0).await.unwrap();
    (server, started)
}

/// A handler that reports its start, reads to EOF, then closes.
async fn read_to_eof_handler(
    mut reader: StreamReader,
    writer: StreamWriter,
    started: mpsc::UnboundedSender<()>,
) -> Result<(), Error> {
    let _ = started.send(());
    reader.read_to_eof().await?;
    closed(&writer).await
}

// C3: wait_closed() waits for close() and for every connection, in any order; then it
// returns at once.
#[bounded_test]
async fn test_wait_closed_basic() {
    let (server, mut started) = read_to_eof_server().await;
    let mut task1 = pin!(server.wait_closed());
    assert!(is_pending(task1.as_mut()), "open, no connections");

    let (_reader, writer) = open_connection("127.0.0.1", port_of(&server))
        .await
        .unwrap();
    started.recv().await.unwrap();
    assert_eq!(server.active_connections(), 1);
    assert!(is_pending(task1.as_mut()), "open, one connection");
    let mut task2 = pin!(server.wait_closed());
    assert!(is_pending(task2.as_mut()));

    server.close();
    assert!(
        is_pending(task1.as_mut()),
        "closed, connection still active"
    );
    assert!(is_pending(task2.as_mut()));
    let mut task3 = pin!(server.wait_closed());
    assert!(is_pending(task3.as_mut()));

    writer.close();
    writer.wait_closed().await.unwrap();
    tokio::join!(task1, task2, task3);
    assert_eq!(server.active_connections(), 0);
    assert!(!is_pending(pin!(server.wait_closed())));
}

// C4: close() and the client's close() back to back; wait_closed() completes.
#[tokio::test]
async fn test_wait_closed_race() {
    for _ in 0..20 {
        bounded(async {
            let greet = |_reader: StreamReader, writer: StreamWriter| async move {
                writer.write(b"hello\n").unwrap();
            };
            let server = start_server(greet, "127.0.0.1", 0).await.unwrap();
            let mut waiter = pin!(server.wait_closed());
            assert!(is_pending(waiter.as_mut()));
            let (_reader, writer) = open_connection("127.0.0.1", port_of(&server))
                .await
                .unwrap();
            server.close();
            writer.close();
            waiter.await;
        })
        .await;
    }
}

/// Connects and closes the server at once, `rounds` times; fails if a handler ever
/// starts after `wait_closed()` returned.
async fn close_right_after_connect(rounds: usize) {
    for _ in 0..rounds {
        let finished = Arc::new(AtomicBool::new(false));
        let late_start = Arc::new(AtomicBool::new(false));
        let handler = {
            let (finished, late_start) = (finished.clone(), late_start.clone());
            move |_reader: StreamReader, writer: StreamWriter| {
                if finished.load(Ordering::SeqCst) {
                    late_start.store(true, Ordering::SeqCst);
                }
                async move {
                    writer.write(b"hello\n").unwrap();
                }
            }
        };
        let server = start_server(handler, "127.0.0.1", 0).await.unwrap();
        let (mut reader, _writer) = open_connection("127.0.0.1", port_of(&server))
            .await
            .unwrap();
        server.close();
        server.wait_closed().await;
        finished.store(true, Ordering::SeqCst);
        // The client learns its fate from the server: served (greeting, EOF), turned
        // away (EOF) or never accepted (reset). Either way the server is done with it.
        let _ = reader.read_to_eof().await;
        assert!(
            !late_start.load(Ordering::SeqCst),
            "a handler started after wait_closed()"
        );
    }
}

// Regression: a connection accepted just before close() was tracked only once its task
// ran, so wait_closed() could return and the handler start afterwards.
#[tokio::test]
async fn handler_never_starts_after_wait_closed() {
    bounded(close_right_after_connect(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn handler_never_starts_after_wait_closed__multi_thread() {
    bounded(close_right_after_connect(300)).await;
}

// C5: close_clients() closes every connection gracefully; the client sees EOF.
#[bounded_test]
async fn test_close_clients() {
    let (server, mut started) = read_to_eof_server().await;
    let (mut reader, _writer) = open_connection("127.0.0.1", port_of(&server))
        .await
        .unwrap();
    started.recv().await.unwrap();
    let mut waiter = pin!(server.wait_closed());
    assert!(is_pending(waiter.as_mut()));
    server.close();
    server.close_clients();
    waiter.await;
    assert_eq!(reader.read_to_eof().await.unwrap(), "");
}

/// C6's handler: write until the kernel is full and bytes wait in our own queue, report
/// it, then hold the connection.
async fn fill_until_queued(
    reader: StreamReader,
    writer: StreamWriter,
    queued: mpsc::UnboundedSender<usize>,
) {
    writer
        .transport()
        .with_socket(|s| s.set_send_buffer_size(4096))
        .unwrap()
        .unwrap();
    let chunk = vec![b'x'; 4096];
    for _ in 0..100_000 {
        writer.write(&chunk).unwrap();
        // drain() flushes what the socket takes; pending means the kernel is full
        // and more than the high-water mark waits in user space.
        if is_pending(pin!(writer.drain())) {
            break;
        }
    }
    let _ = queued.send(writer.transport().get_write_buffer_size());
    let mut reader = reader;
    let _ = reader.read_to_eof().await;
    drop(writer);
}

// C6: abort_clients() drops the queued bytes and closes the connection at once (without
// SO_LINGER 0, as asyncio: the client sees EOF after what had been sent).
#[bounded_test]
async fn test_abort_clients() {
    let (queued_tx, mut queued) = mpsc::unbounded_channel();
    let handler = move |reader: StreamReader, writer: StreamWriter| {
        fill_until_queued(reader, writer, queued_tx.clone())
    };
    let server = start_server(handler, "127.0.0.1", 0).await.unwrap();
    let (mut reader, _writer) = ConnectOptions::new()
        .limit(4096)
        .connect("127.0.0.1", port_of(&server))
        .await
        .unwrap();
    let buffered = queued.recv().await.unwrap();
    assert!(buffered > 0, "the server holds queued data");
    let mut waiter = pin!(server.wait_closed());
    assert!(is_pending(waiter.as_mut()));
    server.close();
    server.abort_clients();
    waiter.await;
    reader.read_to_eof().await.expect("EOF, not a reset");
}

#[cfg(unix)]
async fn noop_handler(_reader: StreamReader, _writer: StreamWriter) {}

/// C7-C11: how a Unix server's socket file came to be, and what happens to it before
/// `close()`.
#[cfg(unix)]
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cleanup {
    /// C7: `start_unix_server` on a path.
    Addr,
    /// C8: a socket bound beforehand and given as `sock=`.
    Sock,
    /// C9: someone else removes the path (close() must not fail).
    Gone,
    /// C10: the path is replaced by another socket.
    Replaced,
    /// C11: `cleanup_socket(false)`.
    Prevented,
}

// C7-C11 (UnixServerCleanupTests): close() removes the socket file when it is still the
// server's own, and leaves it otherwise.
#[cfg(unix)]
#[tokio::test]
async fn test_unix_server_cleanup() {
    use Cleanup::*;
    // The CPython test, the case, whether the file exists after close().
    let cases = [
        ("test_unix_server_addr_cleanup", Addr, false),
        ("test_unix_server_sock_cleanup", Sock, false),
        ("test_unix_server_cleanup_gone", Gone, false),
        ("test_unix_server_cleanup_replaced", Replaced, true),
        ("test_unix_server_cleanup_prevented", Prevented, true),
    ];
    for (name, case, exists_after_close) in cases {
        let path = TempPath::new("cleanup");
        let server = match case {
            Sock => {
                let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
                ServerOptions::new()
                    .serve_sock(noop_handler, listener)
                    .await
            }
            Prevented => {
                let options = ServerOptions::new().cleanup_socket(false);
                options.start_unix_server(noop_handler, &path).await
            }
            Addr | Gone | Replaced => start_unix_server(noop_handler, &path).await,
        }
        .unwrap();
        assert!(path.exists(), "{name}");
        if matches!(case, Gone | Replaced) {
            std::fs::remove_file(&*path).unwrap();
        }
        let _other =
            (case == Replaced).then(|| std::os::unix::net::UnixListener::bind(&path).unwrap());
        server.close();
        assert_eq!(path.exists(), exists_after_close, "{name}");
        if case == Gone {
            server.wait_closed().await;
        }
    }
}
