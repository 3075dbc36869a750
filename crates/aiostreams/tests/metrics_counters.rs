//! Per-connection counters (`stats()` on the reader, writer and transport), the server's
//! (`Server::stats`), and the `tracing` span each server connection runs in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aiostreams::{
    Error, ProxyProtocol, ServerOptions, StreamReader, StreamWriter, open_connection,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::support::bounded;
use crate::support::bounded_test;
use crate::support::net::serve_loopback;

/// Echoes lines until EOF; a line `fail` ends with an error, `long` with a limit error.
async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    loop {
        let line = reader.readline().await?;
        match &line[..] {
            b"" => return writer.drain().await,
            b"fail\n" => return Err(Error::ConnectionLost),
            b"long\n" => {
                return Err(Error::LimitOverrun {
                    consumed: 9,
                    separator_found: true,
                });
            }
            _ => writer.write(&line)?,
        }
        writer.drain().await?;
    }
}

#[bounded_test]
async fn connection_counters_count_bytes_and_queued_writes() {
    let (_server, port) = serve_loopback(ServerOptions::new(), echo).await;
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    assert_eq!(writer.stats().bytes_out, 0);
    writer.write(b"one\n").unwrap(); // sent at once: not queued
    assert_eq!(reader.readline().await.unwrap(), "one\n");
    // Above the high mark: queued (then sent by the same call).
    writer
        .transport()
        .set_write_buffer_limits(Some(3), None)
        .unwrap();
    writer.writelines([&b"tw"[..], b"o\n"]).unwrap();
    assert_eq!(reader.readline().await.unwrap(), "two\n");
    let stats = reader.stats().expect("a connection's reader");
    assert_eq!(counts(stats), (8, 8, 1));
    assert_eq!(counts(writer.stats()), counts(stats), "the writer's view");
    assert!(writer.stats().connected_for >= stats.connected_for);
    assert!(StreamReader::from_io(&b""[..]).stats().is_none());
}

/// Bytes in, bytes out, queued writes (the age moves on between two reads).
fn counts(s: aiostreams::ConnectionStats) -> (u64, u64, u64) {
    (s.bytes_in, s.bytes_out, s.writes_queued)
}

// Accepted, active, closed by an error, a limit (the callback's, and
// max_connections_per_ip) and a timeout (the PROXY header's); bytes of open and closed
// connections.
#[bounded_test(start_paused = true)]
async fn server_counters_count_connections_and_bytes() {
    let options = ServerOptions::new().max_connections_per_ip(2);
    let (server, port) = serve_loopback(options, echo).await;
    let (mut r1, w1) = open_connection("127.0.0.1", port).await.unwrap();
    w1.write(b"hello\n").unwrap();
    r1.readline().await.unwrap();
    let stats = server.stats();
    assert_eq!((stats.accepted, stats.active), (1, 1));
    assert_eq!(
        (stats.bytes_in, stats.bytes_out),
        (6, 6),
        "an open connection's"
    );

    for (line, _) in [(&b"fail\n"[..], "error"), (b"long\n", "limit")] {
        let (mut r, w) = open_connection("127.0.0.1", port).await.unwrap();
        w.write(line).unwrap();
        assert_eq!(r.read(10).await.unwrap(), ""); // closed by the server
    }
    // A third connection from 127.0.0.1 while two are open: refused (a limit).
    let (mut r2, w2) = open_connection("127.0.0.1", port).await.unwrap();
    w2.write(b"x\n").unwrap();
    r2.readline().await.unwrap();
    let (mut r3, _w3) = open_connection("127.0.0.1", port).await.unwrap();
    assert_eq!(r3.read(10).await.unwrap(), "");
    drop((r1, w1));
    while server.stats().active > 1 {
        tokio::task::yield_now().await;
    }
    let stats = server.stats();
    assert_eq!(stats.accepted, 5);
    assert_eq!((stats.closed_by_error, stats.closed_by_limit), (1, 2));
    assert_eq!(
        stats.bytes_in,
        6 + 5 + 5 + 2,
        "closed connections' bytes stay counted"
    );
    assert_eq!(stats.bytes_out, 6 + 2);

    let options = ServerOptions::new()
        .proxy_protocol(ProxyProtocol::Required)
        .proxy_header_timeout(Duration::from_secs(1));
    let (server, port) = serve_loopback(options, echo).await;
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    slow.write_all(b"PROXY ").await.unwrap();
    let _ = slow.read(&mut [0; 1]).await;
    assert_eq!(server.stats().closed_by_timeout, 1);
}

/// Records the spans made (name and fields) and how often each was entered.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<(String, usize)>>>);

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut spans = self.0.lock().unwrap();
        let mut text = span.metadata().name().to_owned();
        span.record(
            &mut |field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
                text.push_str(&format!(" {}={value:?}", field.name()));
            },
        );
        spans.push((text, 0));
        Id::from_u64(spans.len() as u64)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, id: &Id) {
        self.0.lock().unwrap()[id.into_u64() as usize - 1].1 += 1;
    }

    fn exit(&self, _: &Id) {}
}

// Each server connection's callback runs inside a `connection` span naming its peer.
#[tokio::test]
async fn each_connection_runs_in_a_span_with_its_peer() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    bounded(async {
        let (_server, port) = serve_loopback(ServerOptions::new(), echo).await;
        let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
        writer.write(b"hi\n").unwrap();
        reader.readline().await.unwrap();
        let me = writer.sockname().unwrap();
        let recorded = spans.0.lock().unwrap().clone();
        let ours: Vec<_> = recorded
            .iter()
            .filter(|(t, _)| t.starts_with("connection"))
            .collect();
        assert_eq!(ours.len(), 1, "{recorded:?}");
        assert_eq!(ours[0].0, format!("connection peer={me}"));
        assert!(ours[0].1 >= 1, "entered while the callback runs");
    })
    .await;
}
