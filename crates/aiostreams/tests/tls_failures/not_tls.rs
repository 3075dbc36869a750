//! Peers that do not speak TLS: plaintext or garbage on our TLS port, a plaintext server
//! answering our client, a fatal alert.

use super::*;

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
