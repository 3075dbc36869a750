//! How a TLS connection behaves once up: echo in bulk, close_notify, half-close, abort,
//! the shutdown timeout, and the TLS extra info (spec section 8).
//!
//! Where we deliberately differ from asyncio's TLS transport:
//! - `can_write_eof()` is true and `write_eof()` sends close_notify while reading goes
//!   on (TLS half-close, as TLS 1.3 allows); asyncio raises `NotImplementedError`;
//! - the peer's close_notify is an EOF for the reader, and the connection stays open for
//!   writing (as TCP's FIN); asyncio tears the whole connection down at once. The
//!   connection closes by itself once both sides have sent close_notify.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiostreams::tls::TlsConfig;
use aiostreams::{ConnectOptions, Error, ExtraInfo, ServerOptions, StreamReader, StreamWriter};
use bytes::Bytes;

use crate::support::bounded_test;
use crate::support::{
    bounded, certs,
    certs::{Kind, Pki},
    net::{
        assert_closed_by_the_server, assert_handler_ok, close_then_handler_ok, closed, connect_tls,
        echo_lines, port_of, reporting_server, tls_client, tls_server, tls_session,
    },
};

// Many small echoes, then a megabyte of lines written while another task reads, then
// write_eof: the echo server's close ends the connection on both sides.
#[bounded_test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_lines_and_a_megabyte() {
    let (_server, mut outcomes, mut reader, writer) = tls_session(echo_lines).await;
    for i in 0..100 {
        writer.write(format!("hello {i}\n").as_bytes()).unwrap();
        assert_eq!(reader.readline().await.unwrap(), format!("hello {i}\n"));
    }
    let mut line = vec![b'x'; 999];
    line.push(b'\n');
    let counting = tokio::spawn(async move {
        let mut n = 0;
        for _ in 0..1000 {
            n += reader.readuntil(b"\n").await.unwrap().len();
        }
        (n, reader)
    });
    for _ in 0..1000 {
        writer.write(&line).unwrap();
        writer.drain().await.unwrap();
    }
    let (n, mut reader) = counting.await.unwrap();
    assert_eq!(n, 1_000_000);
    writer.write_eof();
    assert_eq!(reader.read_to_eof().await.unwrap(), "");
    writer.wait_closed().await.unwrap();
    assert_handler_ok(&mut outcomes).await;
}

/// Reads everything up to the client's close_notify, answers the byte count, closes.
async fn count_then_close(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    let all = reader.read_to_eof().await?;
    writer.write(format!("{}\n", all.len()).as_bytes())?;
    closed(&writer).await
}

// TLS half-close (beyond asyncio): write_eof sends close_notify, and the answer still
// arrives; once both sides sent close_notify the connection closes without close().
#[bounded_test]
async fn write_eof_sends_close_notify_and_reading_goes_on() {
    let (_server, mut outcomes, mut reader, writer) = tls_session(count_then_close).await;
    assert!(writer.can_write_eof());
    writer.write_bytes(Bytes::from(vec![7u8; 300_000])).unwrap();
    writer.write_eof();
    assert!(!writer.is_closing());
    assert!(matches!(
        writer.write(b"more"),
        Err(Error::InvalidState("Cannot call write() after write_eof()"))
    ));
    assert_eq!(reader.readline().await.unwrap(), "300000\n");
    assert_eq!(reader.read(100).await.unwrap(), "");
    assert!(reader.at_eof());
    writer.wait_closed().await.unwrap();
    assert!(writer.is_closing());
    assert_handler_ok(&mut outcomes).await;
}

// The other direction: the server half-closes first and goes on reading what the client
// sends after the server's close_notify.
#[bounded_test]
async fn peer_close_notify_leaves_our_side_open_for_writing() {
    let (_server, mut outcomes, mut reader, writer) = tls_session(
        |mut reader: StreamReader, writer: StreamWriter| async move {
            writer.write(b"hello\n")?;
            writer.write_eof();
            let rest = reader.read_to_eof().await?;
            assert_eq!(rest, "after your close_notify\n".repeat(100));
            // Both sides sent close_notify: closed without close().
            writer.wait_closed().await
        },
    )
    .await;
    assert_eq!(reader.readline().await.unwrap(), "hello\n");
    assert_eq!(reader.read(100).await.unwrap(), "");
    // asyncio would have torn the connection down here.
    assert!(!writer.is_closing());
    for _ in 0..100 {
        writer.write(b"after your close_notify\n").unwrap();
    }
    writer.drain().await.unwrap();
    close_then_handler_ok(&writer, &mut outcomes).await;
}

// close() sends close_notify: the peer's reader sees a clean EOF, no error; drain()
// after the close is asyncio's ConnectionResetError('Connection lost').
#[bounded_test]
async fn close_sends_close_notify_for_a_clean_eof() {
    let (_server, mut outcomes, mut reader, writer) =
        tls_session(|_reader: StreamReader, writer: StreamWriter| async move {
            writer.write(b"bye\n")?;
            writer.close();
            writer.wait_closed().await?;
            assert!(matches!(writer.drain().await, Err(Error::ConnectionLost)));
            Ok(())
        })
        .await;
    assert_eq!(reader.readline().await.unwrap(), "bye\n");
    assert_eq!(reader.read(100).await.unwrap(), "");
    assert_eq!(reader.read_to_eof().await.unwrap(), "");
    assert!(reader.exception().is_none());
    writer.close();
    writer.wait_closed().await.unwrap();
    assert!(matches!(writer.drain().await, Err(Error::ConnectionLost)));
    assert_handler_ok(&mut outcomes).await;
}

// abort() sends no close_notify: the peer's reader gets an error, never a clean EOF.
#[bounded_test]
async fn abort_is_not_a_clean_eof() {
    let (_server, mut outcomes, mut reader, writer) = tls_session(
        |mut reader: StreamReader, writer: StreamWriter| async move {
            assert_eq!(reader.readline().await?, "abort please\n");
            writer.write(b"partial\n")?;
            // A zero high-water mark: drain() returns once the queue is sent.
            writer
                .transport()
                .set_write_buffer_limits(Some(0), Some(0))?;
            writer.drain().await?;
            writer.transport().abort();
            Ok(())
        },
    )
    .await;
    writer.write(b"abort please\n").unwrap();
    let mut got = Vec::new();
    let err = loop {
        match reader.read(100).await {
            Ok(data) if data.is_empty() => panic!("a clean EOF after {got:?}"),
            Ok(data) => got.extend_from_slice(&data),
            Err(e) => break e,
        }
    };
    // The reset may overtake the last record; what arrived is a prefix.
    assert!(b"partial\n".starts_with(&got), "{got:?}");
    assert!(
        matches!(
            err.io_kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
        ),
        "{err:?}"
    );
    assert!(writer.wait_closed().await.is_err());
    assert_handler_ok(&mut outcomes).await;
}

// D3 (gh-118950) over TLS: writing to a peer that is gone ends in an error from
// drain(), not in a hang.
#[bounded_test]
async fn writes_to_an_aborted_peer_fail_in_drain() {
    let (_server, mut outcomes, _reader, writer) =
        tls_session(|_reader: StreamReader, writer: StreamWriter| async move {
            writer.transport().abort();
            Ok(())
        })
        .await;
    assert_handler_ok(&mut outcomes).await;
    let chunk = Bytes::from(vec![1u8; 64 * 1024]);
    let err = loop {
        writer.write_bytes(chunk.clone()).unwrap();
        if let Err(e) = writer.drain().await {
            break e;
        }
    };
    assert!(
        matches!(
            err.io_kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "{err:?}"
    );
    assert!(writer.is_closing());
    assert!(writer.wait_closed().await.is_err());
}

// Dropping every handle closes as close() does: the peer gets close_notify, a clean EOF.
// (The server's own close may then fail: its TLS 1.3 session tickets can reach the
// client after the client closed, and the client's kernel answers them with a RST.)
#[bounded_test]
async fn dropping_the_writer_sends_close_notify() {
    let (_server, mut outcomes, reader, writer) = tls_session(
        |mut reader: StreamReader, writer: StreamWriter| async move {
            assert_eq!(reader.read_to_eof().await?, "last words\n");
            writer.close();
            let _ = writer.wait_closed().await;
            Ok(())
        },
    )
    .await;
    writer.write(b"last words\n").unwrap();
    drop((reader, writer));
    assert_handler_ok(&mut outcomes).await;
}

// ssl_shutdown_timeout bounds close() when the peer reads nothing: the connection is
// dropped with asyncio's TimeoutError('SSL shutdown timed out'). Both sides' option.
#[bounded_test]
async fn shutdown_timeout_bounds_close() {
    let pki = Pki::new();
    let timeout = Duration::from_millis(200);
    let big = Bytes::from(vec![0u8; 32 << 20]);

    // Client side: the server never reads.
    let (_server, port, _outcomes) = tls_server(
        &pki,
        |reader: StreamReader, writer: StreamWriter| async move {
            let _keep = (reader, writer);
            std::future::pending::<Result<(), Error>>().await
        },
    )
    .await;
    let (_reader, writer) = tls_client(pki.client_config())
        .ssl_shutdown_timeout(timeout)
        .connect("127.0.0.1", port)
        .await
        .unwrap();
    writer.write_bytes(big.clone()).unwrap();
    let start = Instant::now();
    writer.close();
    let err = writer
        .wait_closed()
        .await
        .expect_err("the flush cannot finish");
    assert!(start.elapsed() >= timeout);
    assert_eq!(err.io_kind(), io::ErrorKind::TimedOut, "{err:?}");
    assert_eq!(err.to_string(), "SSL shutdown timed out");

    // Server side: the client never reads.
    let options = ServerOptions::new()
        .ssl(pki.server_config(Kind::Good))
        .ssl_shutdown_timeout(timeout);
    let (_server, port, mut outcomes) = reporting_server(
        options,
        move |_reader: StreamReader, writer: StreamWriter| {
            let big = big.clone();
            async move {
                writer.write_bytes(big)?;
                closed(&writer).await
            }
        },
    )
    .await;
    let (_reader, _writer) = connect_tls(&pki, port).await;
    assert_eq!(
        outcomes.recv().await.unwrap(),
        "error: SSL shutdown timed out"
    );
}

fn tls_of(info: Option<ExtraInfo>) -> aiostreams::tls::TlsInfo {
    match info {
        Some(ExtraInfo::Tls(info)) => info,
        other => panic!("expected TLS extra info, got {other:?}"),
    }
}

// The typed extra info (asyncio 'sslcontext', 'peercert', 'cipher'): the client sees the
// server's chain, the server sees the SNI name; the socket keys still work.
#[bounded_test]
async fn tls_extra_info_on_both_sides() {
    let pki = Pki::new();
    let cert = pki.server_cert(Kind::Good);
    let options = ServerOptions::new().ssl(cert.server_config(&pki.dir));
    let (_server, port, mut outcomes) = reporting_server(
        options,
        |mut reader: StreamReader, writer: StreamWriter| async move {
            let info = writer.transport().tls_info().expect("a TLS connection");
            assert!(matches!(info.config, TlsConfig::Server(_)));
            let name = info.server_name.unwrap_or_else(|| "(none)".into());
            assert!(info.peer_certificates.is_empty(), "no client certificate");
            // asyncio: get_extra_info('peercert') is None without one.
            assert!(writer.get_extra_info("peercert").is_none());
            assert!(writer.get_extra_info("sslcontext").is_some());
            assert!(info.cipher.is_some_and(|c| !c.is_empty()));
            assert!(writer.get_extra_info("peername").is_some());
            writer.write(format!("{name}\n").as_bytes())?;
            reader.read_to_eof().await?;
            closed(&writer).await
        },
    )
    .await;

    let (mut reader, writer) = connect_tls(&pki, port).await;
    let info = writer.transport().tls_info().expect("a TLS connection");
    assert!(matches!(info.config, TlsConfig::Client(_)));
    assert_eq!(info.peer_certificates.len(), 2, "leaf and CA");
    assert_eq!(&info.peer_certificates[0], cert.der());
    assert_eq!(&info.peer_certificates[1], pki.ca_der());
    let cipher = info.cipher.expect("a cipher suite");
    assert!(cipher.starts_with("TLS13_"), "{cipher}");
    assert_eq!(info.protocol.as_deref(), Some("TLSv1_3"));
    assert_eq!(info.alpn, None);
    assert_eq!(info.server_name, None, "a server-side field");
    for key in ["sslcontext", "peercert", "cipher"] {
        let info = tls_of(writer.get_extra_info(key));
        assert_eq!(info.cipher.as_deref(), Some(cipher.as_str()));
    }
    let peer = writer.get_extra_info("peername").expect("peername");
    assert!(matches!(peer, ExtraInfo::Address(a) if a.as_inet().unwrap().port() == port));
    assert!(writer.sockname().is_some());
    assert!(writer.transport().with_socket(|_| ()).is_some());
    assert_eq!(reader.readline().await.unwrap(), "localhost\n");
    close_then_handler_ok(&writer, &mut outcomes).await;

    // By IP address, without server_hostname: verified against the IP SAN, and no
    // SNI is sent for an address.
    let (mut reader, writer) = ConnectOptions::new()
        .ssl_config(pki.client_config())
        .connect("127.0.0.1", port)
        .await
        .expect("the certificate names 127.0.0.1");
    assert_eq!(reader.readline().await.unwrap(), "(none)\n");
    close_then_handler_ok(&writer, &mut outcomes).await;

    // A plain connection has no TLS info.
    let plain = aiostreams::start_server(
        |_r: StreamReader, _w: StreamWriter| async {},
        "127.0.0.1",
        0,
    )
    .await
    .unwrap();
    let plain_port = port_of(&plain);
    let (_reader, writer) = aiostreams::open_connection("127.0.0.1", plain_port)
        .await
        .unwrap();
    assert!(writer.transport().tls_info().is_none());
    for key in ["sslcontext", "peercert", "cipher"] {
        assert!(writer.get_extra_info(key).is_none(), "{key}");
    }
}

// TLS over other stream sockets: a Unix socket server, and connect_sock on a connected
// TCP socket (both need server_hostname).
#[bounded_test]
async fn tls_over_unix_and_connected_sockets() {
    let pki = Pki::new();
    let config = pki.server_config(Kind::Good);
    let client = || tls_client(pki.client_config());
    #[cfg(unix)]
    {
        let path = pki.dir.path().join("tls.sock");
        let server = ServerOptions::new()
            .ssl(config.clone())
            .start_unix_server(echo_lines, &path)
            .await
            .unwrap();
        let (mut reader, writer) = client().connect_unix(&path).await.unwrap();
        writer.write(b"over unix\n").unwrap();
        assert_eq!(reader.readline().await.unwrap(), "over unix\n");
        assert!(writer.transport().tls_info().is_some());
        writer.close();
        writer.wait_closed().await.unwrap();
        server.close();
        server.wait_closed().await;
    }
    let server = ServerOptions::new()
        .ssl(config)
        .start_server(echo_lines, "127.0.0.1", 0)
        .await
        .unwrap();
    let addr = server.sockets()[0].as_inet().unwrap();
    let sock = tokio::task::spawn_blocking(move || std::net::TcpStream::connect(addr))
        .await
        .unwrap()
        .unwrap();
    let (mut reader, writer) = client().connect_sock(sock).await.unwrap();
    writer.write(b"over a socket\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "over a socket\n");
    writer.close();
    writer.wait_closed().await.unwrap();
}

// Regression: a graceful close must discard input that arrived unread, even input the
// runtime has not noticed yet (tokio's `try_read` trusts stale readiness), or closing
// sends a RST instead of a FIN and the peer may lose what we sent. With TLS 1.3 this is
// the usual case: a client that never reads leaves the server's session tickets unread.
// Shown on plain TCP, where the timing can be forced: the peer's bytes land while our
// task runs without yielding to the I/O driver.
#[tokio::test]
async fn graceful_close_discards_input_the_runtime_has_not_seen() {
    use std::io::{Read, Write};
    bounded(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port)
            .await
            .unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        // Loopback: these bytes are in our receive buffer when write_all returns.
        peer.write_all(b"unsolicited\n").unwrap();
        writer.write(b"request\n").unwrap();
        writer.close();
        writer.wait_closed().await.unwrap();
        let mut got = Vec::new();
        let read = tokio::task::spawn_blocking(move || peer.read_to_end(&mut got).map(|_| got))
            .await
            .unwrap();
        assert_eq!(read.expect("a FIN, not a reset"), b"request\n");
    })
    .await;
}

/// The root store of `pki`'s CA, shared.
fn ca_roots(pki: &Pki) -> Arc<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der().clone()).unwrap();
    Arc::new(roots)
}

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// `err` is the peer's TLS alert `alert` (rustls's name for it).
fn assert_peer_alert(err: &Error, alert: &str) {
    assert!(
        matches!(err, Error::Tls(aiostreams::tls::TlsError::PeerAlert(a)) if a == alert),
        "{err:?}"
    );
}

/// Answers what the handshake negotiated: `<protocol> <alpn> <client certificates>`.
async fn describe(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    let info = writer.transport().tls_info().expect("TLS");
    let alpn = info.alpn.map(|p| String::from_utf8_lossy(&p).into_owned());
    writer.write(
        format!(
            "{} {} {}\n",
            info.protocol.unwrap_or_default(),
            alpn.unwrap_or_else(|| "-".into()),
            info.peer_certificates.len()
        )
        .as_bytes(),
    )?;
    reader.read_to_eof().await?;
    closed(&writer).await
}

// A TLS 1.2 session: negotiated and reported, and half-close works there too.
#[bounded_test]
async fn tls12_session() {
    let pki = Pki::new();
    let (_server, port, mut outcomes) = tls_server(&pki, count_then_close).await;
    let config = rustls::ClientConfig::builder_with_provider(ring())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(ca_roots(&pki))
        .with_no_client_auth();
    let (mut reader, writer) = tls_client(Arc::new(config))
        .connect("127.0.0.1", port)
        .await
        .unwrap();
    let info = writer.transport().tls_info().unwrap();
    assert_eq!(info.protocol.as_deref(), Some("TLSv1_2"));
    assert!(info.cipher.unwrap().starts_with("TLS_ECDHE_"));
    writer.write(b"twelve").unwrap();
    writer.write_eof();
    assert_eq!(reader.readline().await.unwrap(), "6\n");
    assert_closed_by_the_server(&mut reader, &writer, &mut outcomes).await;
}

// ALPN is negotiated and reported; a server that finds no common protocol refuses with
// an alert the client names. (Regression: that alert sat behind the ServerHello and was
// lost, because the handshake's last write was not vectored; the client saw a bare EOF.)
#[bounded_test]
async fn alpn_is_negotiated_or_refused() {
    let pki = Pki::new();
    let mut server_config = (*pki.server_config(Kind::Good)).clone();
    server_config.alpn_protocols = vec![b"aio/1".to_vec()];
    let options = ServerOptions::new().ssl(Arc::new(server_config));
    let (_server, port, mut outcomes) = reporting_server(options, describe).await;
    let client = |protocols: &[&[u8]]| {
        let mut config = (*pki.client_config()).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        tls_client(Arc::new(config))
    };
    let (mut reader, writer) = client(&[b"other", b"aio/1"])
        .connect("127.0.0.1", port)
        .await
        .unwrap();
    assert_eq!(
        writer.transport().tls_info().unwrap().alpn.unwrap(),
        b"aio/1"
    );
    assert_eq!(reader.readline().await.unwrap(), "TLSv1_3 aio/1 0\n");
    close_then_handler_ok(&writer, &mut outcomes).await;

    let err = client(&[b"other"])
        .connect("127.0.0.1", port)
        .await
        .expect_err("no common protocol");
    assert_peer_alert(&err, "NoApplicationProtocol");
}

// Client certificates (mutual TLS) with user-built configurations: the server sees the
// client's chain; a client without a certificate is refused, and with TLS 1.3 the refusal
// (an alert sent after the client finished its handshake) shows on the first read.
#[bounded_test]
async fn client_certificates() {
    let pki = Pki::new();
    let server_cert = pki.server_cert(Kind::Good);
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(ca_roots(&pki), ring())
            .build()
            .unwrap();
    let key = |cert: &certs::ServerCert| {
        rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key.serialize_der().into())
    };
    let server_config = rustls::ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server_cert.der().clone()], key(&server_cert))
        .unwrap();
    let options = ServerOptions::new().ssl(Arc::new(server_config));
    let (_server, port, mut outcomes) = reporting_server(options, describe).await;

    let client_cert = pki.server_cert(Kind::Good);
    let config = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(ca_roots(&pki))
        .with_client_auth_cert(vec![client_cert.der().clone()], key(&client_cert))
        .unwrap();
    let (mut reader, writer) = tls_client(Arc::new(config))
        .connect("127.0.0.1", port)
        .await
        .unwrap();
    assert_eq!(reader.readline().await.unwrap(), "TLSv1_3 - 1\n");
    close_then_handler_ok(&writer, &mut outcomes).await;

    let refused = async {
        let (mut reader, _writer) = tls_client(pki.client_config())
            .connect("127.0.0.1", port)
            .await?;
        reader.readline().await
    };
    let err = refused.await.expect_err("no client certificate");
    assert_peer_alert(&err, "CertificateRequired");
}

// close() and abort() while our own read is pending: the read ends with EOF, as asyncio's
// connection_lost(None) feeds EOF to the reader.
#[bounded_test]
async fn local_close_ends_a_pending_read() {
    let pki = Pki::new();
    let (_server, port, _outcomes) = tls_server(
        &pki,
        |mut reader: StreamReader, writer: StreamWriter| async move {
            let _keep = writer;
            reader.read_to_eof().await?;
            Ok(())
        },
    )
    .await;
    for abort in [false, true] {
        let (mut reader, writer) = connect_tls(&pki, port).await;
        let pending = tokio::spawn(async move { reader.read(100).await });
        tokio::task::yield_now().await;
        if abort {
            writer.transport().abort();
        } else {
            writer.close();
        }
        assert_eq!(pending.await.unwrap().unwrap(), "", "abort: {abort}");
        writer.wait_closed().await.unwrap();
    }
}
