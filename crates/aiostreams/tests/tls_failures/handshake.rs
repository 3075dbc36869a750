//! Handshakes that do not finish: silent peers on either side (D4), a cancelled connect,
//! a server leaving mid-handshake (D7).

use super::*;

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
