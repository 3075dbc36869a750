//! The reliability suite (issue 11): storms against one server, and after each one the
//! process's descriptors back to their baseline.
//!
//! - a C10K-style echo storm: every client sends a seeded random payload in random
//!   pieces and checks every byte of its echo;
//! - endless-line attackers against a line server (`readline`, and `readline_with` under
//!   `Overlong::DiscardToSeparator`) while normal clients are served: the process's
//!   resident memory (`VmRSS`) stays bounded, whatever the attackers send.
//!
//! Small in CI: 500 echo connections (scaled down to the descriptor limit), 64 attackers
//! of 4 MiB each. `AIOSTREAMS_SOAK_CONNECTIONS=<n>` and `AIOSTREAMS_SOAK_ATTACK_MIB=<n>`
//! make it bigger (raise `ulimit -n` for many connections: each costs two descriptors).
//! `AIOSTREAMS_SEED=<n>` replays other payloads.

#![cfg(target_os = "linux")] // /proc/self/fd, /proc/self/status

// A binary of its own (see tests/all.rs): it counts this process's descriptors and memory.
#[path = "support/procfs.rs"]
mod procfs;

use std::time::Duration;

use aiostreams::{
    Error, Overlong, RecordLimit, Server, ServerOptions, StreamReader, StreamWriter,
    open_connection,
};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use procfs::{assert_same_fds, nofile_limits, open_fds, rss_kib};

/// Echo connections in CI.
const CONNECTIONS: usize = 500;
/// The largest echo payload.
const MAX_PAYLOAD: usize = 16 * 1024;
/// Attackers, and how much each sends without a newline, in CI.
const ATTACKERS: usize = 64;
const ATTACK_MIB: usize = 4;
/// The line server's limit.
const LINE_LIMIT: usize = 4 * 1024;
/// How much the process's resident memory may grow during the attack. The attackers send
/// 256 MiB in CI; a server that kept what it reads would grow by that much.
const RSS_GROWTH_BOUND_KIB: u64 = 48 * 1024;
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_SEED: u64 = 0x50A4;

/// The tests count this process's descriptors and memory, so they never run side by side.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build the runtime")
}

/// Closes the server, waits for every connection (lingering closes included), and lets
/// the runtime's tasks end, so that descriptors can be compared.
async fn stop(server: Server) {
    let report = server.shutdown(Duration::from_secs(10)).await;
    assert_eq!(
        (report.aborted, report.cut_lingering),
        (0, 0),
        "every connection ended on its own: {report:?}"
    );
    drop(server);
}

// ---------------------------------------------------------------------------------------
// Echo storm.

async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    loop {
        let data = reader.read(64 * 1024).await?;
        if data.is_empty() {
            return Ok(());
        }
        writer.write_bytes(data)?;
        writer.drain().await?;
    }
}

/// Sends `payload` in random pieces while reading the echo; checks every byte.
async fn echo_client(port: u16, payload: Vec<u8>, seed: u64) {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let (mut rx, mut tx) = stream.into_split();
    let expected = payload.clone();
    let sender = tokio::spawn(async move {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut at = 0;
        while at < payload.len() {
            let n = rng.gen_range(1..=4096).min(payload.len() - at);
            tx.write_all(&payload[at..at + n]).await.expect("send");
            at += n;
        }
        tx.shutdown().await.expect("FIN");
    });
    let mut got = Vec::with_capacity(expected.len());
    rx.read_to_end(&mut got).await.expect("read the echo");
    sender.await.expect("sender");
    assert!(
        got == expected,
        "echo differs: {} of {} bytes",
        got.len(),
        expected.len()
    );
}

#[test]
fn echo_storm_verifies_every_byte_and_leaves_no_descriptor() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (soft, _) = nofile_limits();
    // Two descriptors per connection, and room for the runtime and the harness.
    let fit = usize::try_from(soft.saturating_sub(128) / 2).unwrap_or(usize::MAX);
    let connections = env_or("AIOSTREAMS_SOAK_CONNECTIONS", CONNECTIONS).min(fit);
    let seed = env_or("AIOSTREAMS_SEED", DEFAULT_SEED as usize) as u64;
    runtime().block_on(async {
        let fds_before = open_fds();
        tokio::time::timeout(TEST_TIMEOUT, async {
            let server = ServerOptions::new()
                .start_server(echo, "127.0.0.1", 0)
                .await
                .expect("start");
            let port = server.sockets()[0].as_inet().unwrap().port();
            let mut rng = StdRng::seed_from_u64(seed);
            let clients: Vec<_> = (0..connections)
                .map(|i| {
                    let mut payload = vec![0; rng.gen_range(1..=MAX_PAYLOAD)];
                    rng.fill_bytes(&mut payload);
                    tokio::spawn(echo_client(port, payload, seed ^ i as u64))
                })
                .collect();
            for client in clients {
                client.await.expect("a client failed");
            }
            stop(server).await;
        })
        .await
        .expect("echo storm timed out");
        eprintln!(
            "echo storm: {connections} connections verified (fd limit {soft}), {} fds before and after",
            fds_before.len()
        );
        settle(&fds_before).await;
    });
}

/// Waits (bounded) until the descriptors are back to `before`, then asserts it: closed
/// sockets leave the process when their last task drops them.
async fn settle(before: &std::collections::BTreeMap<u32, std::path::PathBuf>) {
    for _ in 0..100 {
        if open_fds().len() == before.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_same_fds(before, &open_fds());
}

// ---------------------------------------------------------------------------------------
// Endless lines.

/// Echoes lines; an over-long one gets an error line. `discard`: through `readline_with`
/// and `DiscardToSeparator`; else `readline()`'s own rule (the rest of the line dropped).
async fn line_server(
    mut reader: StreamReader,
    writer: StreamWriter,
    discard: bool,
) -> Result<(), Error> {
    let limit = RecordLimit::new(LINE_LIMIT)?.on_overlong(Overlong::DiscardToSeparator);
    loop {
        let line = match discard {
            true => reader.readline_with(limit).await,
            false => reader.readline().await,
        };
        match line {
            Ok(line) if line.is_empty() => return Ok(()),
            Ok(line) => writer.write_bytes(line)?,
            Err(Error::LimitOverrun { .. } | Error::OverlongDiscarded { .. }) => {
                writer.write(b"error: line too long\n")?;
            }
            Err(e) => return Err(e),
        }
        writer.drain().await?;
    }
}

/// Sends `mib` MiB without a newline, then one, then closes; reads the answer.
async fn attacker(port: u16, mib: usize) -> Vec<u8> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let (mut rx, mut tx) = stream.into_split();
    let chunk = vec![b'A'; 64 * 1024];
    for _ in 0..mib * 16 {
        tx.write_all(&chunk).await.expect("send");
    }
    tx.write_all(b"\n").await.expect("send");
    tx.shutdown().await.expect("FIN");
    let mut answer = Vec::new();
    rx.read_to_end(&mut answer).await.expect("read the answer");
    answer
}

/// A normal client: three lines, their echo.
async fn normal_client(port: u16) {
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.expect("connect");
    for line in ["one\n", "two\n", "three\n"] {
        writer.write(line.as_bytes()).unwrap();
        assert_eq!(reader.readline().await.unwrap(), line);
    }
}

#[test]
fn endless_line_attackers_leave_memory_bounded_and_no_descriptor() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let attack_mib = env_or("AIOSTREAMS_SOAK_ATTACK_MIB", ATTACK_MIB);
    runtime().block_on(async {
        let fds_before = open_fds();
        for discard in [false, true] {
            let rss_before = rss_kib();
            let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss_before));
            // Samples the resident memory while the storm runs.
            let sampler = tokio::spawn({
                let peak = peak.clone();
                async move {
                    let mut every = tokio::time::interval(Duration::from_millis(5));
                    loop {
                        every.tick().await;
                        peak.fetch_max(rss_kib(), std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
            tokio::time::timeout(TEST_TIMEOUT, async {
                let server = ServerOptions::new()
                    .limit(LINE_LIMIT)
                    .start_server(
                        move |r, w| line_server(r, w, discard),
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .expect("start");
                let port = server.sockets()[0].as_inet().unwrap().port();
                let attackers: Vec<_> = (0..ATTACKERS)
                    .map(|_| tokio::spawn(attacker(port, attack_mib)))
                    .collect();
                let normal: Vec<_> = (0..16).map(|_| tokio::spawn(normal_client(port))).collect();
                for client in normal {
                    client.await.expect("a normal client failed");
                }
                for a in attackers {
                    let answer = a.await.expect("an attacker task failed");
                    assert_eq!(answer, b"error: line too long\n", "one answer per line");
                }
                stop(server).await;
            })
            .await
            .expect("attack timed out");
            sampler.abort();
            let _ = sampler.await;
            let rss_peak = peak.load(std::sync::atomic::Ordering::Relaxed);
            let growth = rss_peak.saturating_sub(rss_before);
            eprintln!(
                "endless lines ({}): {ATTACKERS} attackers x {attack_mib} MiB; RSS {rss_before} KiB -> peak {rss_peak} KiB (+{growth} KiB)",
                if discard { "readline_with DiscardToSeparator" } else { "readline" },
            );
            assert!(
                growth < RSS_GROWTH_BOUND_KIB,
                "RSS grew by {growth} KiB (bound {RSS_GROWTH_BOUND_KIB} KiB)"
            );
            settle(&fds_before).await;
        }
    });
}
