//! TLS failures end in the documented error, never in a panic or a hang: certificate
//! problems (asyncio's `SSLCertVerificationError`, D5), peers that do not speak TLS,
//! silent peers (D4), a peer leaving mid-handshake (D7), truncation, corrupted records
//! (D6), bad arguments (D1; D2's negative timeout cannot be expressed with a `Duration`),
//! bad PEM files and an empty trust store.
//!
//! Every test runs on loopback with port 0, under a timeout; the handshake timeouts used
//! are bounds, not speed assertions.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aiostreams::tls::{TlsError, server_config_from_pem};
use aiostreams::{ConnectOptions, Error, Server, ServerOptions, StreamReader, StreamWriter};
use rustls::{ClientConfig, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::Level;

use crate::support::bounded_test;
use crate::support::net::listener;
use crate::support::{
    bounded, certs,
    certs::{Kind, OTHER_NAME, Pki},
    log_capture::Logs,
    net::{echo_lines, port_of},
    test_name,
};

async fn tls_echo_server(config: Arc<ServerConfig>) -> Server {
    ServerOptions::new()
        .ssl(config)
        .start_server(echo_lines, "127.0.0.1", 0)
        .await
        .expect("start a TLS server")
}

/// [`tls_echo_server`] with `pki`'s good certificate, and its port.
async fn good_echo_server(pki: &Pki) -> (Server, u16) {
    let server = tls_echo_server(pki.server_config(Kind::Good)).await;
    let port = port_of(&server);
    (server, port)
}

async fn tls_connect(
    port: u16,
    config: Arc<ClientConfig>,
    name: &str,
) -> Result<(StreamReader, StreamWriter), Error> {
    ConnectOptions::new()
        .ssl_config(config)
        .server_hostname(name)
        .connect("127.0.0.1", port)
        .await
}

/// A TLS client (trusting a fresh CA, naming `localhost`) of 127.0.0.1 `port` whose
/// handshake must fail (`why`): its error.
async fn refused_handshake(port: u16, why: &str) -> Error {
    let pki = Pki::new();
    tls_connect(port, pki.client_config(), "localhost")
        .await
        .expect_err(why)
}

/// A client with `config` gets its line echoed back: the server is still serving.
async fn assert_echoes(port: u16, config: Arc<ClientConfig>, name: &str) {
    let options = ConnectOptions::new()
        .ssl_config(config)
        .server_hostname(name);
    assert_echoes_with(options, port).await;
}

/// A client with `options` connects to 127.0.0.1 `port` and gets its line echoed back.
async fn assert_echoes_with(options: ConnectOptions, port: u16) {
    let (mut reader, writer) = options
        .connect("127.0.0.1", port)
        .await
        .expect("a good client connects");
    writer.write(b"still serving\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "still serving\n");
    writer.close();
    writer.wait_closed().await.unwrap();
}

/// After a failed handshake: the server logged it (at debug level: nothing above DEBUG,
/// failed handshakes are the client's problem) and still serves a good client.
async fn assert_failure_logged_and_serving(
    logs: &Logs,
    port: u16,
    config: Arc<ClientConfig>,
    name: &str,
) {
    logs.wait_for("TLS handshake failed").await;
    assert_echoes(port, config, name).await;
    assert_quiet(logs);
}

/// Nothing above DEBUG was logged: failed handshakes are the client's problem.
fn assert_quiet(logs: &Logs) {
    let loud = logs.at_least(Level::INFO);
    assert!(loud.is_empty(), "the server logged: {loud:?}");
}

/// A server presenting a `kind` certificate: the client fails with the error `expected`
/// names, the server logs the failure at debug level only, and serves `good` next.
async fn certificate_failure(kind: Kind, expected: Expected, good: GoodClient) {
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let cert = pki.server_cert(kind);
        let server = tls_echo_server(cert.server_config(&pki.dir)).await;
        let port = port_of(&server);
        let err = tls_connect(port, pki.client_config(), "localhost")
            .await
            .expect_err("the handshake must fail");
        assert!(
            matches!(&err, Error::Tls(e) if expected(e)),
            "{kind:?}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("certificate verify failed"),
            "{err}"
        );
        assert_eq!(err.io_kind(), io::ErrorKind::InvalidData);
        // The server learns why from the client's alert (regression: the alert used to
        // be lost behind the client's other records, and the server saw a bare EOF).
        logs.wait_for("TLS handshake failed").await;
        let seen = logs.at_least(Level::DEBUG);
        assert_eq!(logs.count("the peer sent the TLS alert"), 1, "{seen:?}");
        let (config, name) = good(&pki, &cert);
        assert_failure_logged_and_serving(&logs, port, config, name).await;
        server.close();
        server.wait_closed().await;
    })
    .await;
}

/// Whether the handshake's TLS error is the one a case expects.
type Expected = fn(&TlsError) -> bool;

/// What a good client needs to be served after a certificate failure: its
/// configuration and the name it asks for.
type GoodClient = fn(&Pki, &certs::ServerCert) -> (Arc<ClientConfig>, &'static str);

// Server certificates a client must refuse, each with the error it names and a client
// that is then served:
// - D5: a self-signed server certificate does not lead to the CA;
// - a certificate for another name is a name mismatch (CPython: "... Hostname mismatch,
//   certificate is not valid for 'localhost'.");
// - an expired one is expired, and one valid only in the future is not yet valid (for a
//   client whose clock is within their validity, they are good).
#[tokio::test]
async fn bad_server_certificates_are_refused_with_their_reason() {
    let cases: [(Kind, Expected, GoodClient); 4] = [
        (
            Kind::SelfSigned,
            |e| matches!(e, TlsError::UntrustedIssuer),
            |_, cert| (certs::client_config_trusting(&[cert.der()]), "localhost"),
        ),
        (
            Kind::OtherName,
            |e| {
                matches!(e, TlsError::NameMismatch { name: Some(n) } if n == "localhost")
                    && e.to_string()
                        == "certificate verify failed: Hostname mismatch, certificate is not \
                            valid for 'localhost'."
            },
            |pki, _| (pki.client_config(), OTHER_NAME),
        ),
        (
            Kind::Expired,
            |e| matches!(e, TlsError::Expired),
            |pki, _| {
                (
                    certs::client_config_in_year(pki.ca_der(), 2000),
                    "localhost",
                )
            },
        ),
        (
            Kind::NotYetValid,
            |e| matches!(e, TlsError::NotYetValid),
            |pki, _| {
                (
                    certs::client_config_in_year(pki.ca_der(), 2100),
                    "localhost",
                )
            },
        ),
    ];
    for (kind, expected, good) in cases {
        certificate_failure(kind, expected, good).await;
    }
}

// A CA certificate served as the server's own (what `openssl req -x509` makes by
// default): the configuration warns, and a client refuses it even when it trusts it,
// saying what to serve instead.
#[tokio::test]
async fn ca_certificate_as_the_servers_own_says_serve_a_leaf() {
    let explanation = "this certificate is a CA (basicConstraints CA:TRUE); serve a leaf certificate signed by it";
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let cert = pki.server_cert(Kind::SelfSignedCa);
        let server = tls_echo_server(cert.server_config(&pki.dir)).await;
        assert_eq!(
            logs.count(explanation),
            1,
            "{:?}",
            logs.at_least(Level::WARN)
        );
        let trusting = certs::client_config_trusting(&[cert.der()]);
        let err = tls_connect(port_of(&server), trusting, "localhost")
            .await
            .expect_err("the handshake must fail");
        assert!(
            matches!(&err, Error::Tls(TlsError::BadCertificate(_))),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("certificate verify failed: {explanation}")
        );
        server.close();
        server.wait_closed().await;
    })
    .await;
}

// A client trusting another CA fails; the server goes on.
#[tokio::test]
async fn client_trusting_another_ca_fails_and_the_server_goes_on() {
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let other = Pki::new();
        let (_server, port) = good_echo_server(&pki).await;
        let err = tls_connect(port, other.client_config(), "localhost")
            .await
            .expect_err("another CA is not trusted");
        assert!(
            matches!(err, Error::Tls(TlsError::UntrustedIssuer)),
            "{err:?}"
        );
        assert_failure_logged_and_serving(&logs, port, pki.client_config(), "localhost").await;
    })
    .await;
}

// An impostor CA with the trusted CA's name: the chain reaches a trusted name, but the
// signature does not verify (OpenSSL: "certificate signature failure").
#[bounded_test]
async fn impostor_ca_with_the_trusted_name_is_a_bad_certificate() {
    let pki = Pki::named("aiostreams impostor test");
    let impostor = Pki::named("aiostreams impostor test");
    let server = tls_echo_server(impostor.server_config(Kind::Good)).await;
    let err = tls_connect(port_of(&server), pki.client_config(), "localhost")
        .await
        .expect_err("the impostor's signature does not verify");
    assert!(
        matches!(err, Error::Tls(TlsError::BadCertificate(_))),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("certificate verify failed"),
        "{err}"
    );
}

/// Reads what the TLS server answers to non-TLS bytes: at most an alert record, then EOF
/// (or a reset).
async fn read_answer_to_garbage(sock: &mut TcpStream) {
    let mut answer = Vec::new();
    match sock.read_to_end(&mut answer).await {
        Ok(_) => assert!(
            answer.is_empty() || answer[0] == 0x15,
            "expected nothing or a TLS alert, got {answer:?}"
        ),
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
    }
}

// A plaintext client on the TLS port gets EOF (or a reset) at once; the server goes on.
#[tokio::test]
async fn plaintext_client_on_the_tls_port_is_dropped() {
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let (_server, port) = good_echo_server(&pki).await;
        let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port)
            .await
            .unwrap();
        writer
            .write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        match reader.read_to_eof().await {
            Ok(answer) => assert!(answer.is_empty() || answer[0] == 0x15, "{answer:?}"),
            Err(e) => assert_eq!(e.io_kind(), io::ErrorKind::ConnectionReset, "{e}"),
        }
        assert_failure_logged_and_serving(&logs, port, pki.client_config(), "localhost").await;
    })
    .await;
}

// Garbage of several shapes on the TLS port: each connection is dropped without waiting
// for more bytes, and the server goes on.
#[tokio::test]
async fn garbage_on_the_tls_port_is_dropped() {
    use rand::{RngCore, SeedableRng};
    let mut random = vec![0u8; 512];
    rand::rngs::StdRng::seed_from_u64(7).fill_bytes(&mut random);
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("zeros", vec![0; 64], false),
        ("random bytes", random, false),
        (
            "a handshake record of junk",
            b"\x16\x03\x01\x00\x08junkjunk".to_vec(),
            false,
        ),
        (
            "a record header claiming 64 KiB",
            b"\x16\x03\x01\xff\xff".to_vec(),
            false,
        ),
        (
            "half a record, then EOF",
            b"\x16\x03\x01\x00\x40partial".to_vec(),
            true,
        ),
    ];
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let (_server, port) = good_echo_server(&pki).await;
        for (n, (what, bytes, then_eof)) in cases.iter().enumerate() {
            let mut sock = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            sock.write_all(bytes).await.unwrap();
            if *then_eof {
                sock.shutdown().await.unwrap();
            }
            read_answer_to_garbage(&mut sock).await;
            while logs.count("TLS handshake failed") <= n {
                logs.wait_for("TLS handshake failed").await;
                tokio::task::yield_now().await;
            }
            eprintln!("{what}: {:?}", logs.at_least(Level::DEBUG).last());
        }
        assert_echoes(port, pki.client_config(), "localhost").await;
        assert_quiet(&logs);
    })
    .await;
}

/// A TCP server that reads what a client sends first, answers `answer` and then holds the
/// connection until the client goes; it returns the port.
async fn raw_server(answer: &'static [u8]) -> u16 {
    let (listener, port) = listener().await;
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 4096];
        let _ = sock.read(&mut hello).await;
        let _ = sock.write_all(answer).await;
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest).await;
    });
    port
}

// Our TLS client on a plaintext server that answers garbage: a TLS protocol error.
#[bounded_test]
async fn plaintext_server_answer_is_a_protocol_error() {
    let port = raw_server(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
    let err = refused_handshake(port, "not TLS").await;
    assert!(matches!(err, Error::Tls(TlsError::Protocol(_))), "{err:?}");
    assert!(err.to_string().starts_with("TLS error"), "{err}");
}

// A server that answers the ClientHello with a fatal alert: the client names it.
#[bounded_test]
async fn server_alert_is_reported_as_a_peer_alert() {
    // A fatal (2) handshake_failure (40) alert record.
    let port = raw_server(b"\x15\x03\x03\x00\x02\x02\x28").await;
    let err = refused_handshake(port, "the server refused").await;
    match &err {
        Error::Tls(TlsError::PeerAlert(alert)) => assert_eq!(alert, "HandshakeFailure"),
        other => panic!("expected a peer alert, got {other:?}"),
    }
}

/// A TCP server that accepts and never speaks; `done` gets what the client sent once
/// the client has closed its socket.
async fn silent_server() -> (u16, tokio::sync::oneshot::Receiver<usize>) {
    let (listener, port) = listener().await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let _ = sock.read_to_end(&mut got).await;
        let _ = tx.send(got.len());
    });
    (port, rx)
}

// D4: a server that never speaks TLS: HandshakeTimeout with asyncio's message, and the
// connection is closed.
#[bounded_test]
async fn silent_server_times_out_the_handshake() {
    let pki = Pki::new();
    let (port, closed) = silent_server().await;
    let timeout = Duration::from_millis(200);
    let start = Instant::now();
    let err = ConnectOptions::new()
        .ssl_config(pki.client_config())
        .server_hostname("localhost")
        .ssl_handshake_timeout(timeout)
        .connect("127.0.0.1", port)
        .await
        .expect_err("the handshake cannot finish");
    assert!(start.elapsed() >= timeout);
    assert!(
        matches!(err, Error::Tls(TlsError::HandshakeTimeout(t)) if t == timeout),
        "{err:?}"
    );
    // asyncio's test matches `SSL handshake.*is taking longer`.
    let text = err.to_string();
    let at = text.find("SSL handshake").expect("asyncio's message");
    assert!(text[at..].contains("is taking longer"), "{text}");
    assert_eq!(
        text,
        "SSL handshake is taking longer than 0.2 seconds: aborting the connection"
    );
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionAborted);
    // The client's socket was closed: the server saw the ClientHello, then EOF.
    assert!(closed.await.unwrap() > 0);
}

// A TLS connect dropped mid-handshake (asyncio: cancelled) leaves no connection open.
#[bounded_test]
async fn cancelled_tls_connect_closes_its_socket() {
    let pki = Pki::new();
    let (port, closed) = silent_server().await;
    let connect = tls_connect(port, pki.client_config(), "localhost");
    let cancelled = tokio::time::timeout(Duration::from_millis(100), connect).await;
    assert!(cancelled.is_err(), "the handshake cannot finish");
    // The server saw the ClientHello, then EOF.
    assert!(closed.await.unwrap() > 0);
}

// Our TLS server with a silent client: others are served meanwhile, and the silent one
// is dropped after ssl_handshake_timeout.
#[tokio::test]
async fn silent_client_cannot_hold_up_the_tls_server() {
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let timeout = Duration::from_secs(2);
        let server = ServerOptions::new()
            .ssl(pki.server_config(Kind::Good))
            .ssl_handshake_timeout(timeout)
            .start_server(echo_lines, "127.0.0.1", 0)
            .await
            .unwrap();
        let port = port_of(&server);
        let start = Instant::now();
        let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        for _ in 0..3 {
            assert_echoes(port, pki.client_config(), "localhost").await;
        }
        // Served while the silent client's handshake was still pending (loopback
        // handshakes take milliseconds; serialised accepts would take a full timeout).
        let served_in = start.elapsed();
        assert!(served_in < timeout, "others waited {served_in:?}");
        let mut probe = [0u8; 1];
        let dropped = silent.read(&mut probe).await;
        assert!(start.elapsed() >= timeout);
        match dropped {
            Ok(n) => assert_eq!(n, 0, "the server sent something to a silent client"),
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
        }
        logs.wait_for("SSL handshake is taking longer than 2.0 seconds")
            .await;
        assert_quiet(&logs);
        assert!(server.is_serving());
    })
    .await;
}

// D7: the server closes during the handshake: a connection-reset I/O error.
#[bounded_test]
async fn server_closing_mid_handshake_is_a_connection_reset() {
    let (listener, port) = listener().await;
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        // Read the whole ClientHello record, so that closing sends FIN, not RST.
        let mut header = [0u8; 5];
        sock.read_exact(&mut header).await.unwrap();
        let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        sock.read_exact(&mut body).await.unwrap();
        drop(sock);
    });
    let err = refused_handshake(port, "the server left").await;
    assert!(!matches!(err, Error::Tls(_)), "{err:?}");
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset, "{err:?}");
    assert_eq!(err.to_string(), "connection lost during the TLS handshake");
}

// Truncation: the server's socket ends without close_notify after sending data. The
// client reads the data, then an UnexpectedEof error naming close_notify (not a clean
// EOF that an attacker could forge by cutting the connection).
#[bounded_test]
async fn truncation_without_close_notify_is_an_error() {
    let pki = Pki::new();
    let server = ServerOptions::new()
        .ssl(pki.server_config(Kind::Good))
        .start_server(
            |mut reader: StreamReader, writer: StreamWriter| async move {
                writer.write(b"data\n")?;
                writer.drain().await?;
                assert_eq!(reader.readline().await?, "cut\n");
                // FIN under the TLS session: no close_notify.
                writer
                    .transport()
                    .with_socket(|s| s.shutdown(std::net::Shutdown::Write))
                    .expect("socket open")?;
                let _ = reader.read_to_eof().await;
                Ok::<_, Error>(())
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
    let (mut reader, writer) = tls_connect(port_of(&server), pki.client_config(), "localhost")
        .await
        .unwrap();
    assert_eq!(reader.readline().await.unwrap(), "data\n");
    writer.write(b"cut\n").unwrap();
    let err = reader.read(100).await.expect_err("a truncation, not EOF");
    assert_eq!(err.io_kind(), io::ErrorKind::UnexpectedEof, "{err:?}");
    assert!(err.to_string().contains("close_notify"), "{err}");
    // The error sticks, and the connection is over.
    assert!(reader.read(100).await.is_err());
    writer.close();
    let _ = writer.wait_closed().await;
}

/// How the proxy damages the server's stream once armed.
#[derive(Clone, Copy, Debug)]
enum Damage {
    /// Flip a bit in the next application data record (its authentication tag).
    FlipBit,
    /// Send plaintext garbage before the next record.
    InjectPlaintext,
}

/// A TCP proxy to `upstream` that forwards the server's TLS records one by one and
/// damages the next application data record after `armed` is set.
async fn damaging_proxy(upstream: u16, damage: Damage, armed: Arc<AtomicBool>) -> u16 {
    let (listener, port) = listener().await;
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
            let _ = server_write.shutdown().await;
        });
        loop {
            let mut header = [0u8; 5];
            if server_read.read_exact(&mut header).await.is_err() {
                break;
            }
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            let mut body = vec![0u8; len];
            if server_read.read_exact(&mut body).await.is_err() {
                break;
            }
            if header[0] == 0x17 && armed.swap(false, Ordering::SeqCst) {
                match damage {
                    Damage::FlipBit => *body.last_mut().unwrap() ^= 1,
                    Damage::InjectPlaintext => {
                        let _ = client_write.write_all(b"PLAINTEXT GARBAGE\n").await;
                    }
                }
            }
            if client_write.write_all(&header).await.is_err()
                || client_write.write_all(&body).await.is_err()
            {
                break;
            }
        }
        let _ = client_write.shutdown().await;
    });
    port
}

// D6: damaged records after the handshake make the read fail with a TLS error; close()
// still works.
#[tokio::test]
async fn corrupted_records_fail_the_read() {
    for damage in [Damage::FlipBit, Damage::InjectPlaintext] {
        bounded(async {
            let pki = Pki::new();
            let server = tls_echo_server(pki.server_config(Kind::Good)).await;
            let armed = Arc::new(AtomicBool::new(false));
            let port = damaging_proxy(port_of(&server), damage, armed.clone()).await;
            let (mut reader, writer) = tls_connect(port, pki.client_config(), "localhost")
                .await
                .unwrap();
            writer.write(b"A\n").unwrap();
            assert_eq!(reader.readline().await.unwrap(), "A\n");
            armed.store(true, Ordering::SeqCst);
            writer.write(b"B\n").unwrap();
            let err = reader.readline().await.expect_err("a damaged record");
            assert!(
                matches!(err, Error::Tls(TlsError::Protocol(_))),
                "{damage:?}: {err:?}"
            );
            // The connection is over; drain() reports why.
            let drained = writer.drain().await;
            assert!(matches!(drained, Err(Error::Tls(_))), "{drained:?}");
            writer.close();
            let _ = writer.wait_closed().await;
        })
        .await;
    }
}

// D1 and asyncio's keyword checks: TLS keywords without ssl, zero timeouts.
#[tokio::test]
async fn tls_keywords_are_validated() {
    let pki = Pki::new();
    let second = Duration::from_secs(1);
    let without_ssl = [
        (
            ConnectOptions::new().server_hostname("localhost"),
            "server_hostname is only meaningful with ssl",
        ),
        (
            ConnectOptions::new().ssl_handshake_timeout(second),
            "ssl_handshake_timeout is only meaningful with ssl",
        ),
        (
            ConnectOptions::new().ssl_shutdown_timeout(second),
            "ssl_shutdown_timeout is only meaningful with ssl",
        ),
    ];
    // Port 1: the checks come before any connection attempt.
    for (options, message) in without_ssl {
        let err = options.connect("127.0.0.1", 1).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(m) if m == message),
            "{err:?}"
        );
    }
    let tls = || ConnectOptions::new().ssl_config(pki.client_config());
    for options in [
        tls().ssl_handshake_timeout(Duration::ZERO),
        tls().ssl_shutdown_timeout(Duration::ZERO),
    ] {
        let err = options.connect("127.0.0.1", 1).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(m) if m.contains("a positive number")),
            "{err:?}"
        );
    }
    let err = tls()
        .server_hostname("not a host name")
        .connect("127.0.0.1", 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");

    let handler = |_r: StreamReader, _w: StreamWriter| async {};
    let server_without_ssl = [
        (
            ServerOptions::new().ssl_handshake_timeout(second),
            "ssl_handshake_timeout is only meaningful with ssl",
        ),
        (
            ServerOptions::new().ssl_shutdown_timeout(second),
            "ssl_shutdown_timeout is only meaningful with ssl",
        ),
    ];
    for (options, message) in server_without_ssl {
        let err = options
            .start_server(handler, "127.0.0.1", 0)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(m) if m == message),
            "{err:?}"
        );
    }
    for options in [
        ServerOptions::new().ssl_handshake_timeout(Duration::ZERO),
        ServerOptions::new().ssl_shutdown_timeout(Duration::ZERO),
    ] {
        let err = options
            .ssl(pki.server_config(Kind::Good))
            .start_server(handler, "127.0.0.1", 0)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(m) if m.contains("a positive number")),
            "{err:?}"
        );
    }
}

// asyncio: "You must set server_hostname when using ssl without a host".
#[bounded_test]
async fn ssl_without_a_host_needs_server_hostname() {
    let pki = Pki::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sock = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let err = ConnectOptions::new()
        .ssl_config(pki.client_config())
        .connect_sock(sock)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument("You must set server_hostname when using ssl without a host")
        ),
        "{err:?}"
    );
    #[cfg(unix)]
    {
        let err = ConnectOptions::new()
            .ssl_config(pki.client_config())
            .connect_unix(pki.dir.path().join("no.sock"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    }
}

fn config_error(result: Result<Arc<ServerConfig>, Error>) -> String {
    match result {
        Err(err @ Error::Tls(TlsError::Config(_))) => {
            assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
            err.to_string()
        }
        Err(other) => panic!("expected TlsError::Config, got {other:?}"),
        Ok(_) => panic!("expected TlsError::Config, got a configuration"),
    }
}

// server_config_from_pem: every bad input gets a message saying what is wrong and where.
#[test]
fn server_config_from_pem_explains_bad_files() {
    let pki = Pki::new();
    let good = pki.server_cert(Kind::Good);
    let (chain, key) = good.write_pem(&pki.dir);
    assert!(server_config_from_pem(&chain, &key).is_ok());

    let missing = pki.dir.path().join("missing.pem");
    let msg = config_error(server_config_from_pem(&missing, &key));
    assert!(
        msg.contains("cannot read") && msg.contains("missing.pem"),
        "{msg}"
    );
    let msg = config_error(server_config_from_pem(&chain, &missing));
    assert!(
        msg.contains("cannot read") && msg.contains("missing.pem"),
        "{msg}"
    );

    let (_, other_key) = pki.server_cert(Kind::Good).write_pem(&pki.dir);
    let msg = config_error(server_config_from_pem(&chain, &other_key));
    assert!(msg.contains("does not match"), "{msg}");

    let encrypted = pki.dir.write(
        "encrypted.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n\
         MIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIc2VjcmV0c2VjcmV0\n\
         -----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let msg = config_error(server_config_from_pem(&chain, &encrypted));
    assert!(msg.contains("encrypted"), "{msg}");

    let msg = config_error(server_config_from_pem(&key, &key));
    assert!(msg.contains("no CERTIFICATE found"), "{msg}");
    let empty = pki.dir.write("empty.pem", "");
    let msg = config_error(server_config_from_pem(&empty, &key));
    assert!(msg.contains("no CERTIFICATE found"), "{msg}");

    let msg = config_error(server_config_from_pem(&chain, &chain));
    assert!(msg.contains("no usable private key"), "{msg}");

    let bad = pki.dir.write(
        "bad.pem",
        "-----BEGIN CERTIFICATE-----\n!!! not base64 !!!\n-----END CERTIFICATE-----\n",
    );
    let msg = config_error(server_config_from_pem(&bad, &key));
    assert!(msg.contains("bad.pem"), "{msg}");
}

/// Set in the child processes that run the `child_*` tests.
const CHILD: &str = "AIOSTREAMS_TLS_TEST_CHILD";

/// Runs the ignored test `name` in a child process of this test binary, with only
/// `env` as the trust store variables.
fn run_child(name: &str, env: &[(&str, &std::ffi::OsStr)]) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            &test_name(module_path!(), name),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env(CHILD, "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} failed:\n{stdout}\n{stderr}"
    );
}

// With SSL_CERT_FILE and SSL_CERT_DIR pointing nowhere, the system store (present on
// this machine or not) is not consulted: NoTrustRoots, naming where it looked.
#[test]
fn empty_trust_store_is_no_trust_roots() {
    run_child(
        "child_empty_trust_store",
        &[
            ("SSL_CERT_FILE", "/nonexistent".as_ref()),
            ("SSL_CERT_DIR", "/nonexistent-dir".as_ref()),
        ],
    );
}

// SSL_CERT_FILE alone is the whole trust store for `ssl()`; a missing SSL_CERT_DIR next
// to it does not spoil it.
#[test]
fn ssl_cert_file_is_the_trust_store() {
    let pki = Pki::new();
    let ca = pki.dir.write("ca.pem", pki.ca_pem());
    let (chain, key) = pki.server_cert(Kind::Good).write_pem(&pki.dir);
    run_child(
        "child_ssl_cert_file",
        &[
            ("SSL_CERT_FILE", ca.as_os_str()),
            ("SSL_CERT_DIR", "/nonexistent-dir".as_ref()),
            ("AIOSTREAMS_TEST_CHAIN", chain.as_os_str()),
            ("AIOSTREAMS_TEST_KEY", key.as_os_str()),
        ],
    );
}

#[tokio::test]
#[ignore = "run in a child process by empty_trust_store_is_no_trust_roots"]
async fn child_empty_trust_store() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let err = aiostreams::tls::default_client_config().unwrap_err();
    let Error::Tls(TlsError::NoTrustRoots(place)) = &err else {
        panic!("expected NoTrustRoots, got {err:?}");
    };
    eprintln!("{err}");
    assert!(
        place.contains("/nonexistent") && place.contains("/nonexistent-dir"),
        "{err}"
    );
    assert!(
        !place.contains("system"),
        "the system store was not consulted: {err}"
    );
    assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
    // `ssl()` fails the same way, before connecting (nothing listens on port 1).
    let err = ConnectOptions::new()
        .ssl()
        .connect("127.0.0.1", 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(TlsError::NoTrustRoots(_))),
        "{err:?}"
    );
}

#[tokio::test]
#[ignore = "run in a child process by ssl_cert_file_is_the_trust_store"]
async fn child_ssl_cert_file() {
    let (Some(chain), Some(key)) = (
        std::env::var_os("AIOSTREAMS_TEST_CHAIN"),
        std::env::var_os("AIOSTREAMS_TEST_KEY"),
    ) else {
        return;
    };
    bounded(async {
        let server = tls_echo_server(server_config_from_pem(chain, key).unwrap()).await;
        // The CA from SSL_CERT_FILE is trusted.
        let options = ConnectOptions::new().ssl().server_hostname("localhost");
        assert_echoes_with(options, port_of(&server)).await;
    })
    .await;
}
