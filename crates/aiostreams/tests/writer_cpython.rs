//! CPython `test_streams.py` writer, transport and connection cases (inventory A1, A5,
//! A53, A54, A64-A70, A74, and the 2026 fix gh-155888 from section E), named as in
//! CPython. The "HTTP server" of the CPython suite is a tiny HTTP/1.0 server on tokio.
//!
//! "No handler messages" has no equivalent: the library reports nothing on its own.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aiostreams::{
    ConnectOptions, Error, Protocol, StreamReader, StreamReaderProtocol, StreamWriter, Transport,
    create_connection, open_connection,
};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::support::bounded_test;
use crate::support::net::{assert_close_feeds_eof, close_and_wait, listener};
use crate::support::{both_runtimes, bounded, error_type};

const RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\n\
    Server: aiostreams-test\r\n\
    Content-Type: text/plain; charset=utf-8\r\n\
    Content-Length: 12\r\n\
    \r\n\
    Test message";

/// The suite's HTTP server: answers any request with `RESPONSE`, then closes.
async fn http_server() -> u16 {
    let (listener, port) = listener().await;
    tokio::spawn(async move {
        loop {
            let (conn, _) = listener.accept().await.unwrap();
            tokio::spawn(answer(conn));
        }
    });
    port
}

async fn answer(mut conn: TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0; 1024];
    while !request.ends_with(b"\r\n\r\n") {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let _ = conn.write_all(RESPONSE).await;
    let _ = conn.shutdown().await;
}

/// A connection to a fresh [`http_server`].
async fn http_connection() -> (StreamReader, StreamWriter) {
    let port = http_server().await;
    open_connection("127.0.0.1", port).await.unwrap()
}

/// A connection to a fresh [`http_server`] that has sent its request and read the status
/// line ([`get`]).
async fn after_a_get() -> (StreamReader, StreamWriter) {
    let (mut reader, writer) = http_connection().await;
    get(&mut reader, &writer).await;
    (reader, writer)
}

/// Sends `GET / HTTP/1.0` and checks the status line.
async fn get(reader: &mut StreamReader, writer: &StreamWriter) {
    writer.write(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "HTTP/1.0 200 OK\r\n");
}

// A Python-like exception to inject, as CPython's `ZeroDivisionError()`.
error_type!(ZeroDivisionError, "division by zero");

fn is_zero_division(err: &Error) -> bool {
    matches!(err, Error::Custom(e) if e.is::<ZeroDivisionError>())
}

/// A 127.0.0.1 port nobody listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Reads the rest of [`RESPONSE`] after its status line, to EOF.
async fn assert_rest_of_the_response(reader: &mut StreamReader) {
    let rest = reader.read_to_eof().await.unwrap();
    assert!(rest.ends_with(b"\r\n\r\nTest message"), "{rest:?}");
}

async fn test_open_connection() {
    let (mut reader, writer) = after_a_get().await;
    assert_rest_of_the_response(&mut reader).await;
    writer.close();
}

both_runtimes!(test_open_connection);

#[tokio::test]
async fn test_open_connection_error() {
    // asyncio calls protocol.connection_lost(ZeroDivisionError()); on the fused fast path
    // the same thing reaches the reader as its stored exception.
    bounded(async {
        let (mut reader, writer) = http_connection().await;
        reader
            .feeder()
            .set_exception(Error::custom(ZeroDivisionError));
        assert!(is_zero_division(&reader.read_to_eof().await.unwrap_err()));
        assert!(is_zero_division(&writer.drain().await.unwrap_err()));
        writer.close();
        writer.wait_closed().await.unwrap();
    })
    .await;
}

/// A protocol the test can still reach after `create_connection` took it, as CPython's
/// test reaches `writer._protocol`.
#[derive(Clone)]
struct Reachable(Arc<Mutex<StreamReaderProtocol>>);

impl Reachable {
    fn lock(&self) -> std::sync::MutexGuard<'_, StreamReaderProtocol> {
        self.0.lock().unwrap()
    }
}

impl Protocol for Reachable {
    fn connection_made(&mut self, transport: Transport) {
        self.lock().connection_made(transport);
    }
    fn data_received(&mut self, data: Bytes) {
        self.lock().data_received(data);
    }
    fn eof_received(&mut self) -> bool {
        self.lock().eof_received()
    }
    fn connection_lost(&mut self, exc: Option<Error>) {
        self.lock().connection_lost(exc);
    }
}

#[bounded_test]
async fn test_open_connection_error_protocol_layer() {
    let port = http_server().await;
    let mut reader = StreamReader::new();
    let protocol = Reachable(Arc::new(Mutex::new(StreamReaderProtocol::new(&reader))));
    let factory = {
        let protocol = protocol.clone();
        move || protocol
    };
    let (transport, task) = create_connection(factory, "127.0.0.1", port).await.unwrap();
    let writer = StreamWriter::new(transport, Some(reader.feeder()));
    protocol
        .lock()
        .connection_lost(Some(Error::custom(ZeroDivisionError)));
    assert!(is_zero_division(&reader.read_to_eof().await.unwrap_err()));
    assert!(is_zero_division(&writer.drain().await.unwrap_err()));
    writer.close();
    // asyncio's wait_closed() raises the injected error too; ours reports how the
    // transport ended (cleanly), see the report of this test file's author.
    writer.wait_closed().await.unwrap();
    task.await.unwrap();
}

/// A connection whose writer pauses as soon as anything is queued (marks at 0).
async fn zero_marks_pair() -> (StreamReader, StreamWriter, TcpStream) {
    let (listener, port) = listener().await;
    let (streams, accepted) = tokio::join!(open_connection("127.0.0.1", port), listener.accept());
    let (reader, writer) = streams.unwrap();
    writer
        .transport()
        .set_write_buffer_limits(Some(0), Some(0))
        .unwrap();
    (reader, writer, accepted.unwrap().0)
}

#[tokio::test]
async fn test_multiple_drain() {
    // gh-74116: ten concurrent drains of a paused writer are all released together.
    bounded(async {
        let (_reader, writer, mut peer) = zero_marks_pair().await;
        // With high = 0, the queue stays "paused" until the flush task has sent it all.
        writer.write(&vec![b'd'; 8 << 20]).unwrap();
        let mut drains = JoinSet::new();
        for _ in 0..10 {
            let w = writer.clone();
            drains.spawn(async move { w.drain().await });
        }
        let reading = async {
            let mut buf = vec![0; 8 << 20];
            peer.read_exact(&mut buf).await.unwrap();
        };
        let counting = async {
            let mut counter = 0;
            while let Some(done) = drains.join_next().await {
                done.unwrap().unwrap();
                counter += 1;
            }
            counter
        };
        let ((), counter) = tokio::join!(reading, counting);
        assert_eq!(counter, 10);
    })
    .await;
}

#[tokio::test]
async fn test_drain_raises() {
    // bpo-25441: the server accepts and closes at once; an endless write()+drain() loop
    // must end with a reset/broken-pipe error instead of spinning.
    bounded(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || drop(listener.accept().unwrap()));
        let (_reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
        let mut outcome = None;
        for _ in 0..2_000_000 {
            writer.write(b"foo\n").unwrap();
            if let Err(err) = writer.drain().await {
                outcome = Some(err);
                break;
            }
        }
        let err = outcome.expect("drain never raised");
        let kinds = [
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::ConnectionAborted,
            io::ErrorKind::BrokenPipe,
        ];
        assert!(kinds.contains(&err.io_kind()), "{err:?}");
        server.join().unwrap();
    })
    .await;
}

#[bounded_test]
async fn test_wait_closed_on_close() {
    let (mut reader, writer) = after_a_get().await;
    assert_rest_of_the_response(&mut reader).await;
    assert!(!writer.is_closing());
    writer.close();
    assert!(writer.is_closing());
    writer.wait_closed().await.unwrap();
}

#[bounded_test]
async fn test_wait_closed_on_close_with_unread_data() {
    // the body is left unread
    let (_reader, writer) = after_a_get().await;
    close_and_wait(&writer).await;
}

#[bounded_test]
async fn test_async_writer_api() {
    let (mut reader, writer) = after_a_get().await;
    writer.drain().await.unwrap();
    assert_rest_of_the_response(&mut reader).await;
    close_and_wait(&writer).await;
}

#[bounded_test]
async fn test_async_writer_api_exception_after_close() {
    let (mut reader, writer) = after_a_get().await;
    reader.read_to_eof().await.unwrap();
    writer.close();
    writer.write(b"data").unwrap(); // does not raise by itself
    let err = writer.drain().await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost), "{err:?}");
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset); // ConnectionResetError
    assert_eq!(err.to_string(), "Connection lost");
}

#[tokio::test]
async fn test_eof_feed_when_closing_writer() {
    // bpo-35065: closing our side feeds EOF to our reader.
    bounded(async {
        let (mut reader, writer) = http_connection().await;
        assert_close_feeds_eof(&mut reader, &writer).await;
    })
    .await;
}

#[tokio::test]
async fn test_unclosed_resource_warnings() {
    // asyncio 3.11.5+ warns and closes the transport of a garbage-collected writer; we
    // close it after sending the queue, without a warning. The peer and our reader see EOF.
    bounded(async {
        let (listener, port) = listener().await;
        let echo = tokio::spawn(async move {
            // Echoes until our EOF (or the reset our close causes), counting bytes.
            let (mut conn, _) = listener.accept().await.unwrap();
            let (mut count, mut buf) = (0, [0; 64]);
            while let Ok(n @ 1..) = conn.read(&mut buf).await {
                count += n;
                let _ = conn.write_all(&buf[..n]).await;
            }
            count
        });
        let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
        writer.write(b"ping\n").unwrap();
        assert_eq!(reader.readline().await.unwrap(), "ping\n");
        writer.write(b"bye\n").unwrap();
        drop(writer);
        assert_eq!(echo.await.unwrap(), 9);
        // The connection is closed: data the peer echoed afterwards is not delivered.
        assert!(b"bye\n".starts_with(&reader.read_to_eof().await.unwrap()));
        assert!(reader.at_eof());
    })
    .await;
}

#[test]
fn test_loop_is_closed_resource_warnings() {
    // Intended behaviour: a writer dropped while its transport is open and its runtime is
    // gone does nothing harmful (asyncio: a "loop is closed" warning, no close attempt).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (reader, writer) = rt.block_on(async {
        let streams = open_connection("127.0.0.1", port).await.unwrap();
        streams.1.write(b"queued, never sent").unwrap();
        streams
    });
    let (mut peer, _) = listener.accept().unwrap();
    drop(rt);
    writer.write(b"after the loop closed").unwrap();
    assert!(!writer.is_closing());
    drop(writer);
    drop(reader);
    // The descriptor is released: the peer sees the end of the connection.
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut seen = Vec::new();
    match io::Read::read_to_end(&mut peer, &mut seen) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
    }
}

#[bounded_test]
async fn test_open_connection_happy_eyeball_refcycles() {
    let options = ConnectOptions::new().happy_eyeballs_delay(Duration::from_millis(250));
    let err = options
        .connect("localhost", closed_port())
        .await
        .unwrap_err();
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
    let Error::Connect { attempts } = err else {
        panic!("expected Error::Connect, got {err:?}");
    };
    // Nothing else keeps the failure alive (CPython checks the gc referrers).
    assert_eq!(Arc::strong_count(&attempts), 1);
    assert!(!attempts.is_empty());
}

#[tokio::test]
async fn test_writelines_empty_chunk_then_close() {
    // gh-155888 (main, 2026): writelines([b'hello', b'']) then close() must still let
    // wait_closed() finish.
    bounded(async {
        let (listener, port) = listener().await;
        let (streams, accepted) =
            tokio::join!(open_connection("127.0.0.1", port), listener.accept());
        let (_reader, writer) = streams.unwrap();
        let (mut peer, _) = accepted.unwrap();
        writer.writelines([&b"hello"[..], b""]).unwrap();
        writer.close();
        writer.wait_closed().await.unwrap();
        let mut got = Vec::new();
        peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello");
    })
    .await;
}

#[tokio::test]
async fn test_writer_methods_delegate_to_the_transport() {
    // Spec 6's table: extra info, can_write_eof, is_closing, transport.
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = listener.local_addr().unwrap();
        let (streams, accepted) = tokio::join!(
            open_connection("127.0.0.1", server.port()),
            listener.accept()
        );
        let (_reader, writer) = streams.unwrap();
        let (_peer, client) = accepted.unwrap();
        let peername = writer.peername().unwrap().as_inet();
        assert_eq!(peername, Some(server));
        assert_eq!(writer.sockname().unwrap().as_inet(), Some(client));
        assert!(writer.get_extra_info("peername").is_some());
        assert!(writer.get_extra_info("sockname").is_some());
        assert!(writer.get_extra_info("no such key").is_none());
        let t = writer.transport();
        assert_eq!(t.peername().unwrap().as_inet(), Some(server));
        let nodelay = t.with_socket(|s| s.tcp_nodelay().unwrap());
        assert_eq!(nodelay, Some(true), "asyncio sets TCP_NODELAY");
        assert!(writer.can_write_eof());
        assert!(!writer.is_closing());
        assert!(format!("{writer:?}").starts_with("StreamWriter"));
        writer.close();
        assert!(t.is_closing());
        assert_eq!(
            t.with_socket(|_| ()),
            None,
            "closed at once: nothing was queued"
        );
    })
    .await;
}
