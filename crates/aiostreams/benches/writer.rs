//! The write path over loopback TCP: `StreamWriter` against tokio's `write_all` per piece
//! and tokio's `BufWriter` (write per piece, then flush), in the same run.
//!
//! Cases: one 64 KiB write then `drain()`; 1,000 writes of 64 B then `drain()`;
//! `writelines` of 16 pieces of 1 KiB. Each iteration is timed until the peer, a task
//! that reads and discards, has received every byte, so bytes still queued in our
//! writer (or in the `BufWriter`) are never counted as done.
//!
//! Run with `cargo bench -p aiostreams --bench writer`; `cargo test --benches` runs each
//! routine once as a smoke test.

#[macro_use]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aiostreams::{StreamReader, StreamWriter};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

/// One benchmark case: `count` pieces of `size` bytes per iteration.
#[derive(Clone, Copy, Debug)]
struct Case {
    name: &'static str,
    count: usize,
    size: usize,
    /// Hand the pieces to `writelines` in one call instead of one `write` each.
    writelines: bool,
}

const CASES: [Case; 3] = [
    Case {
        name: "1x64KiB",
        count: 1,
        size: 64 * 1024,
        writelines: false,
    },
    Case {
        name: "1000x64B",
        count: 1000,
        size: 64,
        writelines: false,
    },
    Case {
        name: "writelines_16x1KiB",
        count: 16,
        size: 1024,
        writelines: true,
    },
];

impl Case {
    fn bytes(&self) -> u64 {
        (self.count * self.size) as u64
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("current-thread runtime")
}

/// How many bytes the discarding peer has received, and a wake-up for each read.
#[derive(Debug, Default)]
struct Arrived {
    bytes: AtomicU64,
    notify: Notify,
}

impl Arrived {
    /// Waits until the peer has received `total` bytes since the connection opened.
    async fn wait_for(&self, total: u64) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.bytes.load(Ordering::Acquire) >= total {
                return;
            }
            notified.await;
        }
    }
}

/// A connected client socket whose peer task reads, discards and counts.
async fn discarding_peer() -> (TcpStream, Arc<Arrived>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("addr"));
    let (client, accepted) = tokio::join!(client, listener.accept());
    let (mut peer, _) = accepted.expect("accept");
    let arrived = Arc::new(Arrived::default());
    let counter = arrived.clone();
    tokio::spawn(async move {
        let mut buf = vec![0; 256 * 1024];
        while let Ok(n @ 1..) = peer.read(&mut buf).await {
            counter.bytes.fetch_add(n as u64, Ordering::Release);
            counter.notify.notify_waiters();
        }
    });
    let client = client.expect("connect");
    client.set_nodelay(true).expect("nodelay"); // asyncio (and we) set it on every socket
    (client, arrived)
}

/// A client under test: sends one round of pieces; the peer counts what arrives.
trait Client {
    /// Hands one round to the connection (each client's idiomatic way).
    async fn send(&mut self, case: Case, pieces: &[Vec<u8>]);
    /// The peer's byte count.
    fn arrived(&self) -> &Arrived;
}

/// Ours: `write` per piece (or one `writelines`), then `drain()`.
struct Ours {
    writer: StreamWriter,
    _reader: StreamReader,
    arrived: Arc<Arrived>,
}

impl Client for Ours {
    async fn send(&mut self, case: Case, pieces: &[Vec<u8>]) {
        if case.writelines {
            self.writer.writelines(pieces).expect("writelines");
        } else {
            for piece in pieces {
                self.writer.write(piece).expect("write");
            }
        }
        self.writer.drain().await.expect("drain");
    }

    fn arrived(&self) -> &Arrived {
        &self.arrived
    }
}

/// tokio: `write_all` per piece on the `TcpStream`.
struct WriteAll(TcpStream, Arc<Arrived>);

impl Client for WriteAll {
    async fn send(&mut self, _: Case, pieces: &[Vec<u8>]) {
        for piece in pieces {
            self.0.write_all(piece).await.expect("write_all");
        }
    }

    fn arrived(&self) -> &Arrived {
        &self.1
    }
}

/// tokio: a `BufWriter` (8 KiB), `write_all` per piece, then `flush`.
struct Buffered(BufWriter<TcpStream>, Arc<Arrived>);

impl Client for Buffered {
    async fn send(&mut self, _: Case, pieces: &[Vec<u8>]) {
        for piece in pieces {
            self.0.write_all(piece).await.expect("write");
        }
        self.0.flush().await.expect("flush");
    }

    fn arrived(&self) -> &Arrived {
        &self.1
    }
}

async fn ours() -> Ours {
    let (socket, arrived) = discarding_peer().await;
    let socket = socket.into_std().expect("std socket");
    let (_reader, writer) = aiostreams::ConnectOptions::new()
        .connect_sock(socket)
        .await
        .expect("wrap the socket");
    Ours {
        writer,
        _reader,
        arrived,
    }
}

/// Times `iters` rounds, each until the peer has received every byte of the round.
async fn timed(client: &mut impl Client, iters: u64, case: Case, pieces: &[Vec<u8>]) -> Duration {
    let mut total = client.arrived().bytes.load(Ordering::Acquire);
    let start = Instant::now();
    for _ in 0..iters {
        client.send(case, pieces).await;
        total += case.bytes();
        client.arrived().wait_for(total).await;
    }
    start.elapsed()
}

fn bench_one(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    client: &mut impl Client,
    (case, pieces): (Case, &[Vec<u8>]),
) {
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter_custom(|iters| rt.block_on(timed(client, iters, case, pieces)));
    });
}

fn bench_writer(c: &mut Criterion) {
    let rt = runtime();
    let mut ours = rt.block_on(ours());
    let (socket, arrived) = rt.block_on(discarding_peer());
    let mut write_all = WriteAll(socket, arrived);
    let (socket, arrived) = rt.block_on(discarding_peer());
    let mut buffered = Buffered(BufWriter::new(socket), arrived);
    for case in CASES {
        let pieces: Vec<Vec<u8>> = (0..case.count).map(|i| vec![i as u8; case.size]).collect();
        let round = (case, &pieces[..]);
        let mut group = c.benchmark_group(format!("write_{}", case.name));
        group.throughput(Throughput::Bytes(case.bytes()));
        bench_one(&mut group, &rt, "aiostreams", &mut ours, round);
        bench_one(&mut group, &rt, "tokio_write_all", &mut write_all, round);
        bench_one(&mut group, &rt, "tokio_bufwriter", &mut buffered, round);
        group.finish();
    }
}

criterion_benches! {
    sample_size = 20,
    warm_up = Duration::from_millis(500),
    measurement = Duration::from_secs(2),
    targets = bench_writer,
}
