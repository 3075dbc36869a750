//! The protocol layer's other half: `create_server` / `create_unix_server` drive an
//! asyncio `Protocol` per accepted connection (plain and TLS), and
//! `create_unix_connection` drives one on the client side; callbacks in asyncio's order,
//! flow control events, a panicking factory, the server's lifecycle.

use std::sync::{Arc, Mutex};

use aiostreams::{
    ConnectOptions, Error, Protocol, ServerOptions, Transport, create_server,
    create_unix_connection, create_unix_server,
};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::net::port_of;
use crate::support::{both_runtimes, temp::TempDir};

/// What a connection's protocol saw, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// asyncio's EchoServerProtocol, logging its callbacks; on EOF it answers "bye" and
/// keeps the connection open for it (half-close), then closes.
struct Echo {
    log: Log,
    transport: Option<Transport>,
}

impl Echo {
    fn factory(log: &Log) -> impl Fn() -> Echo + Send + Sync + 'static {
        let log = log.clone();
        move || Echo {
            log: log.clone(),
            transport: None,
        }
    }

    fn note(&self, what: &str) {
        self.log.lock().unwrap().push(what.to_owned());
    }
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        assert!(transport.peername().is_some() || transport.sockname().is_some());
        self.transport = Some(transport);
        self.note("made");
    }
    fn data_received(&mut self, data: Bytes) {
        self.note("data");
        let _ = self.transport.as_ref().unwrap().write_bytes(data);
    }
    fn eof_received(&mut self) -> bool {
        self.note("eof");
        let transport = self.transport.as_ref().unwrap();
        let _ = transport.write(b"bye");
        transport.close();
        true
    }
    fn connection_lost(&mut self, exc: Option<Error>) {
        self.note(if exc.is_none() {
            "lost"
        } else {
            "lost with error"
        });
        self.transport = None;
    }
}

/// A plain client: send, half-close, read everything back.
async fn round_trip(mut stream: impl AsyncReadExt + AsyncWriteExt + Unpin, data: &[u8]) -> Vec<u8> {
    stream.write_all(data).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await.unwrap();
    got
}

fn calls(log: &Log) -> Vec<String> {
    let mut calls = log.lock().unwrap().clone();
    calls.dedup(); // data may come in several calls
    calls
}

async fn tcp_server_drives_a_protocol_per_connection() {
    let log = Log::default();
    let server = create_server(Echo::factory(&log), "127.0.0.1", 0)
        .await
        .unwrap();
    let port = port_of(&server);
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let payload = vec![7u8; 300_000];
    let got = round_trip(stream, &payload).await;
    assert_eq!(got.len(), payload.len() + 3);
    assert!(got.ends_with(b"bye"));
    server.close();
    server.wait_closed().await; // the protocol's connection is counted until its loss
    assert_eq!(calls(&log), ["made", "data", "eof", "lost"]);
}
both_runtimes!(tcp_server_drives_a_protocol_per_connection);

/// Both sides in the protocol layer over a Unix socket: create_unix_server and
/// create_unix_connection; the client protocol's task yields it back after the loss.
async fn unix_both_sides() {
    #[derive(Default)]
    struct Client {
        got: Vec<u8>,
        transport: Option<Transport>,
        lost: bool,
    }
    impl Protocol for Client {
        fn connection_made(&mut self, transport: Transport) {
            transport.write(b"over unix").unwrap();
            transport.write_eof();
            self.transport = Some(transport);
        }
        fn data_received(&mut self, data: Bytes) {
            self.got.extend_from_slice(&data);
        }
        fn connection_lost(&mut self, _exc: Option<Error>) {
            self.lost = true;
        }
    }
    let dir = TempDir::new("protocol-server");
    let path = dir.path().join("echo.sock");
    let log = Log::default();
    let server = create_unix_server(Echo::factory(&log), &path)
        .await
        .unwrap();
    let (_transport, task) = create_unix_connection(Client::default, &path)
        .await
        .unwrap();
    let client = task.await.unwrap();
    assert_eq!(client.got, b"over unixbye");
    assert!(client.lost);
    server.close();
    server.wait_closed().await;
    assert_eq!(calls(&log), ["made", "data", "eof", "lost"]);
}
both_runtimes!(unix_both_sides);

/// A factory that panics: logged, that connection closed, the next one served.
async fn panicking_factory_closes_only_its_connection() {
    let log = Log::default();
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let factory = {
        let echo = Echo::factory(&log);
        move || {
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                panic!("factory failed");
            }
            echo()
        }
    };
    let server = create_server(factory, "127.0.0.1", 0).await.unwrap();
    let port = port_of(&server);
    let mut failed = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut nothing = Vec::new();
    // Closed without an answer (EOF or a reset, depending on what we sent first).
    let _ = failed.read_to_end(&mut nothing).await;
    assert!(nothing.is_empty());
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert_eq!(round_trip(stream, b"second").await, b"secondbye");
}
both_runtimes!(panicking_factory_closes_only_its_connection);

/// A protocol whose peer does not read gets pause_writing, then resume_writing once the
/// peer reads (the server side's flow control events).
async fn server_protocol_gets_flow_control_events() {
    struct Flood {
        log: Log,
        paused: Option<tokio::sync::oneshot::Sender<()>>,
    }
    impl Protocol for Flood {
        fn connection_made(&mut self, transport: Transport) {
            transport.write(&vec![1u8; 4 << 20]).unwrap();
            transport.close();
        }
        fn pause_writing(&mut self) {
            self.log.lock().unwrap().push("pause".into());
            let _ = self.paused.take().map(|tx| tx.send(()));
        }
        fn resume_writing(&mut self) {
            self.log.lock().unwrap().push("resume".into());
        }
    }
    let log = Log::default();
    let (paused_tx, paused_rx) = tokio::sync::oneshot::channel();
    let factory = {
        let log = log.clone();
        let paused = Mutex::new(Some(paused_tx));
        move || Flood {
            log: log.clone(),
            paused: paused.lock().unwrap().take(),
        }
    };
    let server = create_server(factory, "127.0.0.1", 0).await.unwrap();
    let port = port_of(&server);
    // A small receive buffer, and no reading until the server reports its pause.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(([127, 0, 0, 1], port).into()).await.unwrap();
    paused_rx.await.unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await.unwrap();
    assert_eq!(got.len(), 4 << 20);
    server.close();
    server.wait_closed().await;
    assert_eq!(*log.lock().unwrap(), ["pause", "resume"]);
}
both_runtimes!(server_protocol_gets_flow_control_events);

/// `limit` belongs to a reader: refused for protocol servers and Unix protocol clients.
#[tokio::test]
async fn limit_is_refused() {
    let log = Log::default();
    let refused = ServerOptions::new()
        .limit(10)
        .create_server(Echo::factory(&log), "127.0.0.1", 0)
        .await;
    assert!(matches!(refused, Err(Error::InvalidArgument(_))));
    let options = ConnectOptions::new().limit(10);
    let refused =
        aiostreams::create_unix_connection_with(|| Echo::factory(&log)(), "/nonexistent", &options)
            .await;
    assert!(matches!(refused, Err(Error::InvalidArgument(_))));
}

/// TLS on both sides of the protocol layer: a TLS protocol server reached by a TLS
/// create_connection_with client, and by a streams client.
#[cfg(feature = "tls")]
async fn tls_protocol_server() {
    use crate::support::certs::{Kind, Pki};
    let pki = Pki::new();
    let log = Log::default();
    let server = ServerOptions::new()
        .ssl(pki.server_config(Kind::Good))
        .create_server(Echo::factory(&log), "127.0.0.1", 0)
        .await
        .unwrap();
    let port = port_of(&server);
    let options = ConnectOptions::new()
        .ssl_config(pki.client_config())
        .server_hostname("localhost");

    let (mut reader, writer) = options.connect("127.0.0.1", port).await.unwrap();
    writer.write(b"secret").unwrap();
    writer.write_eof();
    assert_eq!(reader.read_to_eof().await.unwrap(), "secretbye");

    struct Once(Arc<Mutex<Vec<u8>>>);
    impl Protocol for Once {
        fn connection_made(&mut self, transport: Transport) {
            assert!(transport.tls_info().is_some());
            transport.write(b"via protocol").unwrap();
            transport.write_eof();
        }
        fn data_received(&mut self, data: Bytes) {
            self.0.lock().unwrap().extend_from_slice(&data);
        }
    }
    let got = Arc::new(Mutex::new(Vec::new()));
    let (_t, task) =
        aiostreams::create_connection_with(|| Once(got.clone()), "127.0.0.1", port, &options)
            .await
            .unwrap();
    task.await.unwrap();
    assert_eq!(*got.lock().unwrap(), b"via protocolbye");

    // And over a Unix socket, both sides in the protocol layer.
    let dir = TempDir::new("protocol-tls");
    let path = dir.path().join("tls.sock");
    let _unix = ServerOptions::new()
        .ssl(pki.server_config(Kind::Good))
        .create_unix_server(Echo::factory(&log), &path)
        .await
        .unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let (_t, task) = aiostreams::create_unix_connection_with(|| Once(got.clone()), &path, &options)
        .await
        .unwrap();
    task.await.unwrap();
    assert_eq!(*got.lock().unwrap(), b"via protocolbye");
}
#[cfg(feature = "tls")]
both_runtimes!(tls_protocol_server);
