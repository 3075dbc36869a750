//! Time limits in the protocol layer (issue 11): `create_connection_with` honours
//! `read_timeout` (each wait for bytes, restarted by every `data_received`: Netty's
//! `ReadTimeoutHandler`) and `idle_timeout` (no byte either way), and so does a protocol
//! server (`create_server`); when one runs out the
//! connection is lost and `connection_lost` gets `TimedOut`, a fed `StreamReader`
//! raises it, and the peer sees EOF. On tokio's paused clock.

use std::time::Duration;

use aiostreams::{
    ConnectOptions, Error, Protocol, StreamReader, StreamReaderProtocol, Transport,
    create_connection_with,
};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::time::Instant;

use crate::support::assert_timed_out;
use crate::support::bounded_test;
use crate::support::net::listener;

const BOUND: Duration = Duration::from_secs(600);

/// What the protocol heard, and when.
#[derive(Debug)]
enum Heard {
    Data(Bytes),
    Lost(Option<Error>, Instant),
}

/// Reports what it hears; keeps its transport (dropping the last handle closes it).
struct Listen(UnboundedSender<Heard>, Option<Transport>);

impl Protocol for Listen {
    fn connection_made(&mut self, transport: Transport) {
        self.1 = Some(transport);
    }

    fn data_received(&mut self, data: Bytes) {
        let _ = self.0.send(Heard::Data(data));
    }

    fn connection_lost(&mut self, exc: Option<Error>) {
        let _ = self.0.send(Heard::Lost(exc, Instant::now()));
    }
}

// read_timeout 3 s: a peer sending one byte a second for 10 s is not cut (every byte
// restarts the clock); once it goes silent, connection_lost(TimedOut "read") comes 3 s
// after the last byte, and the peer sees EOF (a FIN).
#[bounded_test(limit = BOUND, start_paused = true)]
async fn read_timeout_cuts_a_silent_peer_three_seconds_after_its_last_byte() {
    let (listener, port) = listener().await;
    let (heard, mut rx) = unbounded_channel();
    let options = ConnectOptions::new().read_timeout(Duration::from_secs(3));
    let (_transport, task) =
        create_connection_with(move || Listen(heard, None), "127.0.0.1", port, &options)
            .await
            .unwrap();
    let (mut sock, _) = listener.accept().await.unwrap();
    for _ in 0..10 {
        sock.write_all(b"x").await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let last_byte = Instant::now() - Duration::from_secs(1);
    let mut got = 0;
    let (exc, at) = loop {
        match rx.recv().await.unwrap() {
            Heard::Data(d) => got += d.len(),
            Heard::Lost(exc, at) => break (exc, at),
        }
    };
    assert_eq!(got, 10, "every byte delivered before the cut");
    let exc = exc.expect("lost with an error");
    assert!(
        matches!(exc, Error::TimedOut { operation: "read", after } if after == Duration::from_secs(3)),
        "{exc:?}"
    );
    assert_eq!(at - last_byte, Duration::from_secs(3));
    let mut rest = Vec::new();
    sock.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"", "EOF, not a reset");
    task.await.unwrap();
}

// idle_timeout on a StreamReaderProtocol connection: nothing moves, the connection is
// lost at the idle timeout, and the fed reader raises TimedOut("idle").
#[bounded_test(limit = BOUND, start_paused = true)]
async fn idle_timeout_ends_a_protocol_connection_and_its_reader_says_why() {
    let (listener, port) = listener().await;
    let mut reader = StreamReader::new();
    let protocol = StreamReaderProtocol::new(&reader);
    let options = ConnectOptions::new().idle_timeout(Duration::from_secs(7));
    let start = Instant::now();
    let (transport, task) = create_connection_with(move || protocol, "127.0.0.1", port, &options)
        .await
        .unwrap();
    let (mut sock, _) = listener.accept().await.unwrap();
    let mut rest = Vec::new();
    sock.read_to_end(&mut rest).await.unwrap();
    let waited = start.elapsed();
    assert!(
        (Duration::from_secs(7)..=Duration::from_millis(7_500)).contains(&waited),
        "{waited:?}"
    );
    let err = reader.readline().await.unwrap_err();
    assert_timed_out(&err, "idle");
    assert!(transport.is_closing());
    task.await.unwrap();
}

// Without limits nothing times out: a protocol connection silent for five minutes stays up.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn without_limits_a_silent_protocol_connection_stays_up() {
    let (listener, port) = listener().await;
    let (heard, mut rx) = unbounded_channel();
    let (transport, _task) = create_connection_with(
        move || Listen(heard, None),
        "127.0.0.1",
        port,
        &ConnectOptions::new(),
    )
    .await
    .unwrap();
    let (_sock, _): (TcpStream, _) = listener.accept().await.unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(300), rx.recv()).await;
    assert!(waited.is_err(), "{waited:?}");
    assert!(!transport.is_closing());
}

// A protocol server (`ServerOptions::create_server`) takes the same limits: a client
// that sends one line then goes silent is cut 3 s later (read_timeout), the server's
// protocol hears TimedOut("read"), the client sees EOF after what it was sent.
#[bounded_test(limit = BOUND, start_paused = true)]
async fn a_protocol_server_cuts_a_silent_client_at_the_read_timeout() {
    let (heard, mut rx) = unbounded_channel();
    let server = aiostreams::ServerOptions::new()
        .read_timeout(Duration::from_secs(3))
        .create_server(move || Listen(heard.clone(), None), "127.0.0.1", 0)
        .await
        .unwrap();
    let port = server.sockets()[0].as_inet().unwrap().port();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    sock.write_all(b"hello\n").await.unwrap();
    let sent = Instant::now();
    let first = rx.recv().await.unwrap();
    let Heard::Data(data) = first else {
        panic!("data first: {first:?}");
    };
    assert_eq!(data, "hello\n");
    let Heard::Lost(Some(exc), at) = rx.recv().await.unwrap() else {
        panic!("then connection_lost with an error");
    };
    assert_timed_out(&exc, "read");
    assert_eq!(at - sent, Duration::from_secs(3));
    let mut rest = Vec::new();
    sock.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"");
}
