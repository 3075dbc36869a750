//! Many connections at once: 1,000 clients in one process, all open together, each sending
//! its own bytes through a tokio echo server and checking every byte that comes back.
//!
//! Each connection costs two descriptors here (our end and the server's), and the two
//! tests of this file may run at once. When the soft RLIMIT_NOFILE is too low for that,
//! they run as many connections as fit and say so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aiostreams::open_connection;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::support::{both_runtimes, net::echo_server};

const WANTED: usize = 1000;

/// The soft open-files limit from `/proc/self/limits` (`None` if unknown or unlimited).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// How many connections fit in the descriptor limit, at most [`WANTED`].
fn connection_budget() -> usize {
    let Some(limit) = open_files_limit() else {
        return WANTED;
    };
    let fit = (limit / 4).saturating_sub(50);
    if fit < WANTED {
        println!("RLIMIT_NOFILE soft limit is {limit}: running {fit} connections, not {WANTED}");
    }
    fit.clamp(1, WANTED)
}

/// Connection `i`'s bytes: a size between 1 byte and 16 KiB, and content unique to it.
fn payload(i: usize) -> Vec<u8> {
    let len = 1 + (i * 7919) % (16 * 1024);
    (0..len).map(|k| (k * 31 + i * 17) as u8).collect()
}

/// One client: connect, wait until every client is connected, send in three pieces,
/// half-close, read the echo to EOF, compare, close.
async fn client(i: usize, port: u16, all_connected: Arc<Barrier>) {
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    all_connected.wait().await;
    let data = payload(i);
    let (a, rest) = data.split_at(data.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    writer.write(a).unwrap();
    writer.writelines([b, c]).unwrap();
    writer.drain().await.unwrap();
    writer.write_eof();
    let echoed = reader.read_to_eof().await.unwrap();
    assert!(echoed == data, "connection {i}: echo differs");
    writer.close();
    writer.wait_closed().await.unwrap();
}

async fn thousand_connections_echo_every_byte() {
    let n = connection_budget();
    let port = echo_server().await;
    let all_connected = Arc::new(Barrier::new(n));
    let started = Instant::now();
    let mut clients = JoinSet::new();
    for i in 0..n {
        clients.spawn(client(i, port, all_connected.clone()));
    }
    let mut done = 0;
    while let Some(result) = clients.join_next().await {
        result.unwrap();
        done += 1;
    }
    assert_eq!(done, n);
    println!("{n} connections echoed in {:?}", started.elapsed());
}

both_runtimes!(
    thousand_connections_echo_every_byte,
    Duration::from_secs(30)
);
