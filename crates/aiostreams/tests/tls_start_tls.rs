//! `StreamWriter::start_tls`: upgrading a plain connection in place (STARTTLS).
//!
//! asyncio's test_start_tls (A45) and test_start_tls_buffered_data (A46, gh-142352), the
//! STARTTLS injection cases (plaintext sent before the upgrade must never be read as if
//! it came over TLS), gh-152431 (after the upgrade the reader follows the new transport),
//! and the refusals: already TLS, no server name.

use std::future::Future;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use aiostreams::tls::{TlsConfig, TlsError};
use aiostreams::{Error, Server, ServerOptions, StreamReader, StreamWriter, open_connection};
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use crate::support::bounded_test;
use crate::support::net::{closed, listener};
use crate::support::{
    certs::{Kind, Pki},
    net::{
        Outcomes, assert_closed_by_the_server, assert_handler_ok, close_then_handler_ok,
        connect_tls, reporting_server,
    },
};

/// A plain server running `handler`; each connection's outcome (an error, or a failed
/// assertion in the handler) arrives on the returned channel.
async fn plain_server<F, Fut>(handler: F) -> (Server, u16, Outcomes)
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    reporting_server(ServerOptions::new(), handler).await
}

/// A plain server whose upgrade after `STARTTLS` must fail: `check` asserts the error; the
/// connection is then aborted (closing, and a read gives EOF).
async fn upgrade_failing_server(
    config: Arc<rustls::ServerConfig>,
    check: fn(&Error),
) -> (Server, u16, Outcomes) {
    plain_server(move |mut reader, writer| {
        let config = config.clone();
        async move {
            assert_eq!(reader.readline().await?, "STARTTLS\n");
            let err = writer
                .start_tls(&mut reader, config, None)
                .await
                .expect_err("the upgrade fails");
            check(&err);
            assert!(writer.is_closing());
            match reader.read(100).await {
                Ok(data) => assert!(data.is_empty(), "read {data:?} after the failure"),
                Err(e) => panic!("unexpected read error {e}"),
            }
            Ok(())
        }
    })
    .await
}

// A45 test_start_tls: echo in plain, both sides upgrade, echo over TLS; the TLS info
// appears only after the upgrade.
#[bounded_test]
async fn start_tls_upgrades_both_sides() {
    let pki = Pki::new();
    let cert = pki.server_cert(Kind::Good);
    let config = cert.server_config(&pki.dir);
    let (_server, port, mut outcomes) = plain_server(move |mut reader, writer| {
        let config = config.clone();
        async move {
            let line = reader.readline().await?;
            writer.write(&line)?;
            writer.drain().await?;
            assert!(writer.get_extra_info("sslcontext").is_none());
            assert!(writer.transport().tls_info().is_none());
            writer.start_tls(&mut reader, config, None).await?;
            assert!(writer.get_extra_info("sslcontext").is_some());
            let info = writer.transport().tls_info().expect("TLS after start_tls");
            assert!(matches!(info.config, TlsConfig::Server(_)));
            assert_eq!(info.server_name.as_deref(), Some("localhost"));
            let line = reader.readline().await?;
            writer.write(&line)?;
            writer.drain().await?;
            closed(&writer).await
        }
    })
    .await;

    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    writer.write(b"hello world 1!\n").unwrap();
    writer.drain().await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "hello world 1!\n");
    assert!(writer.get_extra_info("sslcontext").is_none());
    writer
        .start_tls(&mut reader, pki.client_config(), Some("localhost"))
        .await
        .unwrap();
    assert!(writer.get_extra_info("sslcontext").is_some());
    let info = writer.transport().tls_info().expect("TLS after start_tls");
    assert!(matches!(info.config, TlsConfig::Client(_)));
    assert_eq!(&info.peer_certificates[0], cert.der());
    writer.write(b"hello world 2!\n").unwrap();
    writer.drain().await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "hello world 2!\n");
    // The server closed with close_notify: a clean EOF.
    assert_eq!(reader.read(100).await.unwrap(), "");
    close_then_handler_ok(&writer, &mut outcomes).await;
}

/// The server half of A46, with a fresh PKI: `STARTTLS`, then the ClientHello must
/// already be (or come) into the reader's buffer; the upgrade consumes it; then `ping` /
/// `pong`. The PKI (for the client), the server, its port and its outcomes.
async fn buffered_hello_server(hello_read_with_the_line: bool) -> (Pki, Server, u16, Outcomes) {
    let pki = Pki::new();
    let config = pki.server_config(Kind::Good);
    let (server, port, outcomes) = plain_server(move |reader, writer| {
        buffered_hello_upgrade(config.clone(), reader, writer, hello_read_with_the_line)
    })
    .await;
    (pki, server, port, outcomes)
}

/// One connection of [`buffered_hello_server`].
async fn buffered_hello_upgrade(
    config: Arc<rustls::ServerConfig>,
    mut reader: StreamReader,
    writer: StreamWriter,
    hello_read_with_the_line: bool,
) -> Result<(), Error> {
    assert_eq!(reader.readline().await?, "STARTTLS\n");
    if hello_read_with_the_line {
        assert!(!reader.buffer().is_empty(), "sent in one segment");
    }
    // Wait for the ClientHello without consuming it.
    let buffered = reader.fill_buf().await?;
    assert_eq!(buffered[0], 0x16, "a TLS handshake record");
    writer.start_tls(&mut reader, config, None).await?;
    assert!(reader.buffer().is_empty());
    assert_eq!(reader.readline().await?, "ping\n");
    writer.write(b"pong\n")?;
    writer.drain().await?;
    closed(&writer).await
}

// A46 test_start_tls_buffered_data (gh-142352): the client pipelines its ClientHello
// right after `STARTTLS`; the server's upgrade must take it from the reader's buffer.
#[bounded_test]
async fn start_tls_takes_the_buffered_client_hello() {
    let (pki, server, port, mut outcomes) = buffered_hello_server(false).await;
    // No answer awaited: the ClientHello follows at once.
    let (mut reader, writer, upgraded) = starttls_client(&pki, port, b"STARTTLS\n").await;
    upgraded.unwrap();
    writer.write(b"ping\n").unwrap();
    writer.drain().await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "pong\n");
    close_then_handler_ok(&writer, &mut outcomes).await;
    server.close();
    server.wait_closed().await;
}

/// A blocking rustls client that sends `prefix` and its ClientHello in one write, then
/// its Finished and `ping\n` in one write, and returns what it reads back (5 bytes).
fn pipelining_client(
    port: u16,
    config: Arc<rustls::ClientConfig>,
    prefix: &'static [u8],
) -> std::thread::JoinHandle<std::io::Result<Vec<u8>>> {
    std::thread::spawn(move || {
        let mut sock = std::net::TcpStream::connect(("127.0.0.1", port))?;
        sock.set_read_timeout(Some(Duration::from_secs(5)))?;
        let name = "localhost".try_into().expect("a DNS name");
        let mut conn =
            rustls::ClientConnection::new(config, name).map_err(std::io::Error::other)?;
        // Queued now, sent right after the client's Finished, in the same write.
        conn.writer().write_all(b"ping\n")?;
        let mut first = prefix.to_vec();
        conn.write_tls(&mut first)?;
        sock.write_all(&first)?;
        while conn.is_handshaking() || conn.wants_write() {
            conn.complete_io(&mut sock)?;
        }
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        let mut answer = vec![0u8; 5];
        tls.read_exact(&mut answer)?;
        conn.send_close_notify();
        conn.complete_io(&mut sock)?;
        Ok(answer)
    })
}

// A46 in one segment: `STARTTLS\n` and the ClientHello arrive together, so the line's
// read already put the ClientHello into the reader's buffer; and the first data record
// arrives with the client's Finished, inside the handshake's last read.
#[bounded_test]
async fn start_tls_takes_a_client_hello_read_with_the_line() {
    let (pki, _server, port, mut outcomes) = buffered_hello_server(true).await;
    let client = pipelining_client(port, pki.client_config(), b"STARTTLS\n");
    assert_handler_ok(&mut outcomes).await;
    let answer = tokio::task::spawn_blocking(move || client.join().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer, b"pong\n");
}

// STARTTLS injection, server side: plaintext pipelined after `STARTTLS` goes to the TLS
// layer (which rejects it), never to the application as if it came over TLS.
#[bounded_test]
async fn plaintext_injected_before_the_client_hello_fails_the_upgrade() {
    let pki = Pki::new();
    let config = pki.server_config(Kind::Good);
    let (_server, port, mut outcomes) = upgrade_failing_server(config, |err| {
        assert!(matches!(err, Error::Tls(TlsError::Protocol(_))), "{err:?}");
    })
    .await;
    let (_reader, _writer, upgraded) = starttls_client(&pki, port, b"STARTTLS\nEVIL\n").await;
    let err = upgraded.expect_err("the server refused the handshake");
    eprintln!("client: {err}");
    assert_handler_ok(&mut outcomes).await;
}

// STARTTLS injection, client side: the server's plaintext after its `OK` is still in the
// reader's buffer; start_tls refuses rather than let it pass as TLS data.
#[bounded_test]
async fn plaintext_buffered_on_the_client_is_refused() {
    let pki = Pki::new();
    let (_server, port, _outcomes) = plain_server(|mut reader, writer| async move {
        assert_eq!(reader.readline().await?, "STARTTLS\n");
        writer.write(b"OK\nINJECTED\n")?;
        writer.drain().await?;
        reader.read_to_eof().await?;
        Ok(())
    })
    .await;
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    writer.write(b"STARTTLS\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "OK\n");
    assert_eq!(reader.fill_buf().await.unwrap(), b"INJECTED\n");
    let err = writer
        .start_tls(&mut reader, pki.client_config(), Some("localhost"))
        .await
        .expect_err("plaintext is buffered");
    assert!(
        matches!(err, Error::InvalidState(m) if m.contains("plaintext")),
        "{err:?}"
    );
    // Nothing was upgraded, and the bytes were not consumed as TLS.
    assert!(writer.transport().tls_info().is_none());
    assert_eq!(reader.buffer(), b"INJECTED\n");
    writer.close();
    writer.wait_closed().await.unwrap();
}

/// A TLS server that echoes lines and, on `UPGRADE`, tries start_tls again.
async fn tls_server_trying_start_tls_again(pki: &Pki) -> (Server, u16, Outcomes) {
    let config = pki.server_config(Kind::Good);
    let options = ServerOptions::new().ssl(config.clone());
    reporting_server(options, move |mut reader, writer| {
        let config = config.clone();
        async move {
            loop {
                let line = reader.readline().await?;
                if line.is_empty() {
                    break;
                }
                if line == "UPGRADE\n" {
                    let err = writer.start_tls(&mut reader, config.clone(), None).await;
                    assert!(matches!(err, Err(Error::InvalidState(_))), "{err:?}");
                }
                writer.write(&line)?;
            }
            closed(&writer).await
        }
    })
    .await
}

// start_tls on a TLS connection is refused on both sides (no TLS-in-TLS), and the
// connection goes on unharmed.
#[bounded_test]
async fn start_tls_on_a_tls_connection_is_refused() {
    let pki = Pki::new();
    let (_server, port, mut outcomes) = tls_server_trying_start_tls_again(&pki).await;
    let (mut reader, writer) = connect_tls(&pki, port).await;
    let err = writer
        .start_tls(&mut reader, pki.client_config(), Some("localhost"))
        .await
        .expect_err("already TLS");
    assert!(
        matches!(
            err,
            Error::InvalidState("start_tls: the connection is already TLS")
        ),
        "{err:?}"
    );
    writer.write(b"UPGRADE\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "UPGRADE\n");
    writer.write(b"still fine\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "still fine\n");
    writer.write_eof();
    assert_eq!(reader.read_to_eof().await.unwrap(), "");
    writer.wait_closed().await.unwrap();
    assert_handler_ok(&mut outcomes).await;
}

// The client side needs a valid server name; a refusal leaves the connection plain and
// usable.
#[bounded_test]
async fn client_start_tls_needs_a_server_hostname() {
    let pki = Pki::new();
    let (_server, port, _outcomes) = plain_server(|mut reader, writer| async move {
        loop {
            let line = reader.readline().await?;
            if line.is_empty() {
                return Ok(());
            }
            writer.write(&line)?;
        }
    })
    .await;
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    for name in [None, Some(""), Some("not a host name")] {
        let err = writer
            .start_tls(&mut reader, pki.client_config(), name)
            .await
            .expect_err("no usable server name");
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{name:?}: {err:?}"
        );
    }
    assert!(writer.transport().tls_info().is_none());
    writer.write(b"still plain\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "still plain\n");
}

// A failed upgrade (here: an untrusted certificate) returns the TLS error and aborts the
// connection, as asyncio closes the old transport.
#[bounded_test]
async fn failed_upgrade_aborts_the_connection() {
    let pki = Pki::new();
    let config = pki.server_config(Kind::SelfSigned);
    // The client's alert, or its reset if that overtook the alert.
    let (_server, port, mut outcomes) = upgrade_failing_server(config, |err| {
        assert!(
            matches!(err, Error::Tls(TlsError::PeerAlert(_)))
                || err.io_kind() == std::io::ErrorKind::ConnectionReset,
            "{err:?}"
        );
    })
    .await;
    let (_reader, writer, upgraded) = starttls_client(&pki, port, b"STARTTLS\n").await;
    let err = upgraded.expect_err("self-signed");
    assert!(
        matches!(err, Error::Tls(TlsError::UntrustedIssuer)),
        "{err:?}"
    );
    assert!(writer.is_closing());
    assert!(writer.transport().tls_info().is_none());
    writer.wait_closed().await.unwrap();
    assert_handler_ok(&mut outcomes).await;
}

/// The server's side of a STARTTLS exchange: reads `STARTTLS`, answers `OK` and upgrades.
async fn accept_starttls(
    reader: &mut StreamReader,
    writer: &StreamWriter,
    config: Arc<rustls::ServerConfig>,
) -> Result<(), Error> {
    assert_eq!(reader.readline().await?, "STARTTLS\n");
    writer.write(b"OK\n")?;
    writer.drain().await?;
    writer.start_tls(reader, config, None).await
}

/// A plain server that upgrades after `STARTTLS` / `OK`, then counts the bytes until the
/// client's close_notify, answers the count and closes.
async fn counting_starttls_server(pki: &Pki) -> (Server, u16, Outcomes) {
    let config = pki.server_config(Kind::Good);
    plain_server(move |mut reader, writer| {
        let config = config.clone();
        async move {
            accept_starttls(&mut reader, &writer, config).await?;
            let all = reader.read_to_eof().await?;
            writer.write(format!("{}\n", all.len()).as_bytes())?;
            closed(&writer).await
        }
    })
    .await
}

/// Connects, sends `first` and upgrades at once (no answer awaited): the streams and
/// the upgrade's result.
async fn starttls_client(
    pki: &Pki,
    port: u16,
    first: &[u8],
) -> (StreamReader, StreamWriter, Result<(), Error>) {
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    writer.write(first).unwrap();
    let upgraded = writer
        .start_tls(&mut reader, pki.client_config(), Some("localhost"))
        .await;
    (reader, writer, upgraded)
}

/// Connects, says `STARTTLS`, reads `OK` and upgrades.
async fn upgraded_client(pki: &Pki, port: u16) -> (StreamReader, StreamWriter) {
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    writer.write(b"STARTTLS\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "OK\n");
    writer
        .start_tls(&mut reader, pki.client_config(), Some("localhost"))
        .await
        .unwrap();
    (reader, writer)
}

// After the upgrade, write_eof (close_notify), the answer, EOF and wait_closed work.
#[bounded_test]
async fn write_eof_close_and_wait_closed_after_start_tls() {
    let pki = Pki::new();
    let (_server, port, mut outcomes) = counting_starttls_server(&pki).await;
    let (mut reader, writer) = upgraded_client(&pki, port).await;
    assert!(writer.can_write_eof());
    let block = vec![b'x'; 100_000];
    writer.write(&block).unwrap();
    writer.drain().await.unwrap();
    writer.write_eof();
    assert_eq!(reader.readline().await.unwrap(), "100000\n");
    assert_eq!(reader.read(10).await.unwrap(), "");
    // Both sides sent close_notify: the connection closes without close().
    writer.wait_closed().await.unwrap();
    assert!(writer.is_closing());
    assert_handler_ok(&mut outcomes).await;

    let (mut reader, writer) = upgraded_client(&pki, port).await;
    writer.write(b"abc").unwrap();
    writer.close();
    writer.wait_closed().await.unwrap();
    assert!(matches!(writer.drain().await, Err(Error::ConnectionLost)));
    assert_eq!(reader.read(10).await.unwrap(), "");
    // The server's answer meets a closed socket: its outcome may be an error.
    assert!(outcomes.recv().await.is_some());
}

// gh-152431: after start_tls the reader follows the new (TLS) transport, so pausing the
// writer's transport pauses the reader's TLS reads, and resuming resumes them.
#[bounded_test]
async fn reader_follows_the_transport_after_start_tls() {
    let pki = Pki::new();
    let config = pki.server_config(Kind::Good);
    let (sent_tx, mut sent_rx) = mpsc::unbounded_channel::<()>();
    let (_server, port, mut outcomes) = plain_server(move |mut reader, writer| {
        let (config, sent_tx) = (config.clone(), sent_tx.clone());
        async move {
            accept_starttls(&mut reader, &writer, config).await?;
            assert_eq!(reader.readline().await?, "send\n");
            // A zero high-water mark: drain() returns once the queue is empty.
            writer
                .transport()
                .set_write_buffer_limits(Some(0), Some(0))?;
            writer.write(b"data\n")?;
            writer.drain().await?;
            let _ = sent_tx.send(());
            reader.read_to_eof().await?;
            closed(&writer).await
        }
    })
    .await;
    let (mut reader, writer) = upgraded_client(&pki, port).await;
    writer.transport().pause_reading();
    assert!(!writer.transport().is_reading());
    writer.write(b"send\n").unwrap();
    writer.drain().await.unwrap();
    sent_rx.recv().await.unwrap();
    tokio::task::yield_now().await;
    let paused = tokio::time::timeout(Duration::ZERO, reader.readline()).await;
    assert!(paused.is_err(), "read while paused: {paused:?}");
    writer.transport().resume_reading();
    assert!(writer.transport().is_reading());
    assert_eq!(reader.readline().await.unwrap(), "data\n");
    writer.write_eof();
    assert_closed_by_the_server(&mut reader, &writer, &mut outcomes).await;
}

// Dropping start_tls mid-handshake (here: in a timeout, the peer never answers) aborts
// the connection rather than leave it half upgraded.
#[bounded_test]
async fn cancelled_start_tls_aborts_the_connection() {
    let pki = Pki::new();
    let (_server, port, mut outcomes) = plain_server(|mut reader, writer| async move {
        let _keep = writer;
        // Never answers the ClientHello; sees the abort.
        let _ = reader.read_to_eof().await;
        Ok(())
    })
    .await;
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    let upgrade = writer.start_tls(&mut reader, pki.client_config(), Some("localhost"));
    let cancelled = tokio::time::timeout(Duration::from_millis(100), upgrade).await;
    assert!(
        cancelled.is_err(),
        "the handshake cannot finish: {cancelled:?}"
    );
    assert!(writer.is_closing());
    writer.wait_closed().await.unwrap();
    assert_eq!(reader.read(10).await.unwrap(), "");
    assert_handler_ok(&mut outcomes).await;
}

/// asyncio's `start_tls(..., ssl_handshake_timeout=)`: a peer that never answers the
/// ClientHello ends the upgrade with the documented timeout error, and a zero timeout is
/// refused before anything is sent.
#[tokio::test]
async fn start_tls_handshake_timeout_against_a_silent_peer() {
    use aiostreams::tls::client_config_with_roots;
    use tokio::io::AsyncReadExt;
    let (listener, port) = listener().await;
    let silent = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        // Read (and ignore) the ClientHello, answer nothing, until the client gives up.
        while let Ok(n) = socket.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    });
    let config = Arc::new(client_config_with_roots(rustls::RootCertStore::empty()).unwrap());
    let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port)
        .await
        .unwrap();
    let zero = writer
        .start_tls_with_timeouts(
            &mut reader,
            config.clone(),
            Some("localhost"),
            Some(Duration::ZERO),
            None,
        )
        .await
        .unwrap_err();
    assert!(zero.to_string().contains("a positive number"), "{zero}");
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        writer.start_tls_with_timeouts(
            &mut reader,
            config,
            Some("localhost"),
            Some(Duration::from_millis(200)),
            None,
        ),
    )
    .await
    .expect("the handshake timeout fires")
    .unwrap_err();
    assert!(
        matches!(err, Error::Tls(TlsError::HandshakeTimeout(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("is taking longer"), "{err}");
    drop((reader, writer));
    let _ = tokio::time::timeout(Duration::from_secs(5), silent).await;
}
