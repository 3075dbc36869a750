//! After the handshake: truncation without close_notify, corrupted records (D6).

use super::*;

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
