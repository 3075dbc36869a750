//! Our server against real clients: 50 CPython asyncio clients at once
//! (`tests/support/asyncio_clients.py`), then our own client over TCP and over a Unix
//! socket. Every client sends a random payload of up to 1 MiB, half-closes, and checks
//! the echo byte for byte.
//!
//! The server under test echoes with `read(65536)`, `write`, `drain` until EOF, then
//! closes. Payloads come from a fixed seed; `AIOSTREAMS_SEED=<n>` replays another one.
//! The Python interpreter is `python3`, or `AIOSTREAMS_PYTHON` when set.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aiostreams::{Error, Server, StreamReader, StreamWriter, open_connection, start_server};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use tokio::process::Command;

use crate::support::bounded_test;
use crate::support::net::port_of;
use crate::support::{echo::echo_chunks, payload::seed_from_env, temp::TempDir};

/// Upper bound for any one test (debug builds on a shared CI machine).
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The largest payload a client sends.
const MAX_PAYLOAD: usize = 1 << 20;

/// Sizes every client run includes, whatever the seed.
const EDGE_SIZES: [usize; 6] = [0, 1, 65_535, 65_536, 65_537, MAX_PAYLOAD];

const DEFAULT_SEED: u64 = 0x5E7E_0001;

/// What the echo handlers saw, for the checks after the clients finish.
#[derive(Default)]
struct EchoStats {
    bytes: AtomicU64,
    errors: Mutex<Vec<String>>,
}

/// The server's callback: [`echo_chunks`], counting the bytes echoed and recording any
/// error in `stats`.
fn echo_handler(
    stats: &Arc<EchoStats>,
) -> impl Fn(StreamReader, StreamWriter) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
+ Send
+ Sync
+ 'static {
    let stats = stats.clone();
    move |reader, writer| {
        let stats = stats.clone();
        Box::pin(async move {
            let echoed = |n| {
                stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
            };
            if let Err(e) = echo_chunks(reader, writer, echoed).await {
                stats.errors.lock().unwrap().push(e.to_string());
            }
        })
    }
}

async fn tcp_echo_server(stats: &Arc<EchoStats>) -> (Server, u16) {
    let server = start_server(echo_handler(stats), "127.0.0.1", 0)
        .await
        .expect("start_server on 127.0.0.1:0");
    let port = port_of(&server);
    (server, port)
}

/// Closes the server and waits until every connection has ended.
async fn close_and_wait(server: &Server, stats: &EchoStats) {
    server.close();
    server.wait_closed().await;
    assert_eq!(server.active_connections(), 0);
    assert!(server.sockets().is_empty());
    assert_eq!(
        *stats.errors.lock().unwrap(),
        Vec::<String>::new(),
        "echo handler errors"
    );
}

// ---------------------------------------------------------------------------------------
// CPython's asyncio clients.

/// The summary `asyncio_clients.py` prints.
#[derive(Debug)]
struct Summary {
    connections: u64,
    ok: u64,
    bytes_sent: u64,
    bytes_verified: u64,
    errors: Vec<String>,
}

/// Runs `asyncio_clients.py` against `port` and parses its summary.
async fn python_clients(port: u16, count: usize, seed: u64) -> Summary {
    let python = std::env::var("AIOSTREAMS_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/asyncio_clients.py");
    let child = Command::new(&python)
        .arg(&script)
        .args([
            "127.0.0.1",
            &port.to_string(),
            &count.to_string(),
            &seed.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true) // a timed-out test leaves no client behind
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{python}` ({e}): this test runs CPython asyncio clients against \
                 our server and needs Python 3.9+ on PATH (or AIOSTREAMS_PYTHON set)"
            )
        });
    let out = child
        .wait_with_output()
        .await
        .expect("wait for the Python clients");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{} printed no JSON summary ({e}; {}); stdout:\n{stdout}stderr:\n{stderr}",
            script.display(),
            out.status
        )
    });
    let field = |name: &str| {
        json[name]
            .as_u64()
            .unwrap_or_else(|| panic!("no {name} in {json}"))
    };
    let errors = json["errors"].as_array().expect("errors list");
    Summary {
        connections: field("connections"),
        ok: field("ok"),
        bytes_sent: field("bytes_sent"),
        bytes_verified: field("bytes_verified"),
        errors: errors
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect(),
    }
}

#[bounded_test(limit = TEST_TIMEOUT, flavor = "multi_thread", worker_threads = 2)]
async fn fifty_cpython_clients_at_once_get_every_byte_back() {
    let stats = Arc::new(EchoStats::default());
    let (server, port) = tcp_echo_server(&stats).await;
    let summary = python_clients(port, 50, seed_from_env(DEFAULT_SEED)).await;
    assert_eq!(summary.errors, Vec::<String>::new(), "{summary:?}");
    assert_eq!((summary.connections, summary.ok), (50, 50), "{summary:?}");
    assert_eq!(summary.bytes_verified, summary.bytes_sent, "{summary:?}");
    assert!(summary.bytes_sent > 0, "{summary:?}");
    // The server echoed exactly what the clients sent, and no more.
    assert_eq!(stats.bytes.load(Ordering::Relaxed), summary.bytes_sent);
    close_and_wait(&server, &stats).await;
}

// ---------------------------------------------------------------------------------------
// Our client.

/// One payload per client: the edge sizes first, then random sizes up to 1 MiB.
fn payloads(count: usize, seed: u64) -> Vec<Bytes> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let size = EDGE_SIZES
                .get(i)
                .copied()
                .unwrap_or_else(|| rng.gen_range(0..=MAX_PAYLOAD));
            let mut payload = vec![0; size];
            rng.fill_bytes(&mut payload);
            Bytes::from(payload)
        })
        .collect()
}

/// Sends `payload`, half-closes, and reads to EOF while sending; then closes.
async fn round_trip(
    (mut reader, writer): (StreamReader, StreamWriter),
    payload: Bytes,
) -> Result<Bytes, Error> {
    let send = async {
        writer.write_bytes(payload)?;
        writer.drain().await?;
        writer.write_eof();
        Ok(())
    };
    let (_, echoed) = tokio::try_join!(send, reader.read_to_eof())?;
    writer.close();
    writer.wait_closed().await?;
    Ok(echoed)
}

/// Checks an echo against what was sent, naming the first differing byte.
fn assert_same(client: usize, echoed: &[u8], sent: &[u8]) {
    if echoed != sent {
        let at = echoed.iter().zip(sent).position(|(a, b)| a != b);
        let at = at.unwrap_or(echoed.len().min(sent.len()));
        panic!(
            "client {client}: sent {} bytes, got {} back, first difference at offset {at}",
            sent.len(),
            echoed.len()
        );
    }
}

/// Runs one client per payload at once, each connected by `connect`; checks every echo.
async fn our_clients<C, F>(payloads: Vec<Bytes>, connect: C)
where
    C: Fn() -> F,
    F: Future<Output = Result<(StreamReader, StreamWriter), Error>> + Send + 'static,
{
    let mut clients = Vec::new();
    for payload in &payloads {
        let connecting = connect();
        let payload = payload.clone();
        clients.push(tokio::spawn(async move {
            round_trip(connecting.await?, payload).await
        }));
    }
    for (i, (client, sent)) in clients.into_iter().zip(&payloads).enumerate() {
        let echoed = client
            .await
            .expect("client task")
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
        assert_same(i, &echoed, sent);
    }
}

#[bounded_test(limit = TEST_TIMEOUT, flavor = "multi_thread", worker_threads = 2)]
async fn our_clients_over_tcp_get_every_byte_back() {
    let stats = Arc::new(EchoStats::default());
    let (server, port) = tcp_echo_server(&stats).await;
    let payloads = payloads(32, seed_from_env(DEFAULT_SEED));
    let total: usize = payloads.iter().map(Bytes::len).sum();
    our_clients(payloads, || open_connection("127.0.0.1", port)).await;
    assert_eq!(stats.bytes.load(Ordering::Relaxed), total as u64);
    close_and_wait(&server, &stats).await;
}

#[cfg(unix)]
#[bounded_test(limit = TEST_TIMEOUT, flavor = "multi_thread", worker_threads = 2)]
async fn our_clients_over_unix_get_every_byte_back() {
    use aiostreams::{open_unix_connection, start_unix_server};
    let dir = TempDir::new("unix-echo");
    let path = dir.path().join("echo.sock");
    let stats = Arc::new(EchoStats::default());
    let server = start_unix_server(echo_handler(&stats), &path)
        .await
        .expect("start_unix_server");
    let payloads = payloads(32, seed_from_env(DEFAULT_SEED));
    let total: usize = payloads.iter().map(Bytes::len).sum();
    let target = path.clone();
    our_clients(payloads, move || open_unix_connection(target.clone())).await;
    assert_eq!(stats.bytes.load(Ordering::Relaxed), total as u64);
    close_and_wait(&server, &stats).await;
    assert!(!path.exists(), "the socket file outlived close()");
}
