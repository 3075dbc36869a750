//! `StreamWriter::sendfile`: a file larger than the socket buffers over TCP and Unix
//! (the kernel's copy), ranges, the queue order around it (queued bytes first, writes
//! made meanwhile after, close waits), and TLS (the read + write fallback).

use std::fs::File;
use std::future::Future;
use std::io::{Seek, Write};
use std::pin::pin;
use std::task::{Context, Waker};

use aiostreams::{ConnectOptions, Error};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::support::both_runtimes;
use crate::support::net::{stalled_pair, tcp_pair};

const FILE_LEN: usize = 3 << 20;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn file_of(data: &[u8]) -> File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(data).unwrap();
    file
}

async fn read_all(mut peer: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut got = Vec::new();
    peer.read_to_end(&mut got).await.unwrap();
    got
}

/// Queued bytes leave before the file; a write made while the kernel sends the file is
/// queued behind it; close() waits for the file, then sends that write and closes.
async fn queue_order_around_a_large_file() {
    let (_reader, writer, mut peer) = stalled_pair().await;
    let data = pattern(FILE_LEN);
    let mut file = file_of(&data);
    let head = pattern(200_000); // past the socket buffers: most stays queued
    writer.write(&head).unwrap();
    assert!(writer.transport().get_write_buffer_size() > 0);
    let mut first = vec![0; head.len() + FILE_LEN];
    let (sent, read) = tokio::join!(writer.sendfile(&file, 0, None), peer.read_exact(&mut first));
    assert_eq!(sent.unwrap(), FILE_LEN as u64);
    read.unwrap();
    assert!(first[..head.len()] == head[..] && first[head.len()..] == data[..]);
    assert_eq!(file.stream_position().unwrap(), FILE_LEN as u64);

    // The peer does not read yet: the kernel's copy blocks part way.
    let mut send = pin!(writer.sendfile(&file, 0, None));
    let started = send.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(
        started.is_pending(),
        "3 MiB do not fit 4 KiB socket buffers"
    );
    writer.write(b"written during sendfile").unwrap();
    writer.close(); // waits for the file
    assert!(writer.is_closing());
    let peer_reads = tokio::spawn(read_all(peer));
    assert_eq!(send.await.unwrap(), FILE_LEN as u64);
    writer.wait_closed().await.unwrap();
    let got = peer_reads.await.unwrap();
    let mut want = data.clone();
    want.extend_from_slice(b"written during sendfile");
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the file, then what was written meanwhile");
}
both_runtimes!(queue_order_around_a_large_file);

/// offset and count pick the range; past the end sends what is there; the position is
/// left after the bytes sent; bad calls are refused.
async fn ranges_and_refusals() {
    let (_reader, writer, peer) = tcp_pair().await;
    let data = pattern(100_000);
    let mut file = file_of(&data);
    assert_eq!(
        writer.sendfile(&file, 1000, Some(5000)).await.unwrap(),
        5000
    );
    assert_eq!(file.stream_position().unwrap(), 6000);
    assert_eq!(
        writer.sendfile(&file, 99_000, Some(5000)).await.unwrap(),
        1000
    );
    assert_eq!(writer.sendfile(&file, 200_000, None).await.unwrap(), 0);
    assert!(matches!(
        writer.sendfile(&file, 0, Some(0)).await,
        Err(Error::InvalidArgument(_))
    ));
    writer.write_eof();
    assert!(matches!(
        writer.sendfile(&file, 0, None).await,
        Err(Error::InvalidState(_))
    ));
    let got = read_all(peer).await;
    let mut want = data[1000..6000].to_vec();
    want.extend_from_slice(&data[99_000..]);
    assert_eq!(got, want);
    writer.close();
    assert!(matches!(
        writer.sendfile(&file, 0, None).await,
        Err(Error::InvalidState(_) | Error::ConnectionLost)
    ));
}
both_runtimes!(ranges_and_refusals);

/// A Unix socket takes the kernel's path too; drain() and a dropped sendfile leave the
/// writer working (queued writes go on).
async fn unix_socket_and_a_dropped_sendfile() {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    theirs.set_nonblocking(true).unwrap();
    let peer = tokio::net::UnixStream::from_std(theirs).unwrap();
    let (_reader, writer) = ConnectOptions::new().connect_sock(ours).await.unwrap();
    let data = pattern(FILE_LEN);
    let file = file_of(&data);
    {
        let mut send = pin!(writer.sendfile(&file, 0, None));
        let first = send.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(first.is_pending());
    } // dropped part way
    writer.write(b"|after").unwrap();
    let peer_reads = tokio::spawn(read_all(peer));
    writer.drain().await.unwrap();
    assert_eq!(
        writer.sendfile(&file, 0, None).await.unwrap(),
        FILE_LEN as u64
    );
    writer.close();
    writer.wait_closed().await.unwrap();
    let got = peer_reads.await.unwrap();
    let cut = got
        .windows(6)
        .position(|w| w == b"|after")
        .expect("the write arrives");
    assert!(
        data.starts_with(&got[..cut]),
        "the dropped part is a prefix of the file"
    );
    assert_eq!(&got[cut + 6..], &data[..], "then the whole file");
}
both_runtimes!(unix_socket_and_a_dropped_sendfile);

/// TLS: the fallback reads and writes through the session; the peer decrypts the file,
/// in order after what was queued.
#[cfg(feature = "tls")]
async fn tls_falls_back_to_read_and_write() {
    use crate::support::certs::{Kind, Pki};
    use crate::support::net::port_of;
    use aiostreams::{StreamReader, StreamWriter};
    let pki = Pki::new();
    let data = pattern(FILE_LEN);
    let file = file_of(&data);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let server = aiostreams::ServerOptions::new()
        .ssl(pki.server_config(Kind::Good))
        .start_server(
            move |mut reader: StreamReader, writer: StreamWriter| {
                let tx = tx.lock().unwrap().take();
                async move {
                    let got = reader.read_to_eof().await.unwrap();
                    let _ = tx.unwrap().send(got);
                    writer.close();
                }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
    let port = port_of(&server);
    let (_reader, writer) = ConnectOptions::new()
        .ssl_config(pki.client_config())
        .server_hostname("localhost")
        .connect("127.0.0.1", port)
        .await
        .unwrap();
    writer.write(b"head|").unwrap();
    assert_eq!(
        writer.sendfile(&file, 10, None).await.unwrap(),
        (FILE_LEN - 10) as u64
    );
    writer.write_eof();
    let got = rx.await.unwrap();
    assert_eq!(&got[..5], b"head|");
    assert!(
        got[5..] == data[10..],
        "the file's range, decrypted in order"
    );
}
#[cfg(feature = "tls")]
both_runtimes!(
    tls_falls_back_to_read_and_write,
    std::time::Duration::from_secs(30)
);
