//! 1,000 clients connected to one server at once, every byte checked, then a clean
//! shutdown that leaves no task and no descriptor behind.
//!
//! The run needs about 2,050 descriptors (a client and a server side per connection). When
//! the soft `RLIMIT_NOFILE` is lower, the test re-runs itself in a child process under
//! `sh -c 'ulimit -n ...'` (the crate has no libc dependency to call `setrlimit`).
//! Payloads come from a fixed seed; `AIOSTREAMS_SEED=<n>` replays another one.
//!
//! Also here, as it counts tasks and descriptors the same way: aborting connections whose
//! writes wait on a full socket leaves no task behind.

#![cfg(target_os = "linux")] // /proc/self/fd, /proc/self/limits

// A binary of its own (see tests/all.rs), so it includes the helpers it needs by path.
#[path = "support/echo.rs"]
#[allow(dead_code, reason = "only the chunk echo is used here")]
mod echo;
#[path = "support/payload.rs"]
#[allow(dead_code, reason = "only the seed is used here")]
mod payload;
#[path = "support/procfs.rs"]
#[allow(dead_code, reason = "only part of the /proc helpers is used here")]
mod procfs;
#[path = "support/temp.rs"]
#[allow(dead_code, reason = "only part of the temp helpers is used here")]
mod temp;

use std::process::Stdio;
use std::sync::Mutex;
use std::task::{Context, Waker};
use std::time::Duration;

use payload::seed_from_env;
use procfs::{assert_same_fds, nofile_limits, open_fds};

use aiostreams::{
    Error, Server, ServerOptions, StreamReader, StreamWriter, open_connection,
    open_unix_connection, start_server, start_unix_server,
};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

const CLIENTS: usize = 1_000;

/// Descriptors the run needs: two per connection, plus the runtime's and the harness's.
const FDS_NEEDED: u64 = 2 * CLIENTS as u64 + 200;

/// The soft limit the child process asks for when ours is too low.
const RAISED_FD_LIMIT: u64 = 4_096;

/// The largest payload a client sends.
const MAX_PAYLOAD: usize = 32 * 1024;

/// Upper bound for the scenario (it takes a few seconds in a debug build).
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long tasks may take to end once everything is closed (they need a few polls).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

const DEFAULT_SEED: u64 = 0x5CA1_E000;

/// The name of the test the child process runs.
const INNER_TEST: &str = "thousand_clients_with_raised_fd_limit";

/// Both tests count this process's descriptors, so they never run side by side
/// (`--include-ignored` would otherwise start them together).
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn thousand_clients_then_clean_shutdown() {
    let (soft, hard) = nofile_limits();
    if soft >= FDS_NEEDED {
        return run_scenario();
    }
    assert!(
        hard >= FDS_NEEDED,
        "RLIMIT_NOFILE hard limit {hard} is below the {FDS_NEEDED} descriptors this test needs"
    );
    rerun_with_fd_limit(RAISED_FD_LIMIT.min(hard));
}

#[test]
#[ignore = "run by thousand_clients_then_clean_shutdown in a child with a raised fd limit"]
fn thousand_clients_with_raised_fd_limit() {
    let (soft, _) = nofile_limits();
    assert!(
        soft >= FDS_NEEDED,
        "soft RLIMIT_NOFILE is {soft}, below {FDS_NEEDED}: run this test through \
         thousand_clients_then_clean_shutdown, or after `ulimit -n {RAISED_FD_LIMIT}`"
    );
    run_scenario();
}

fn run_scenario() {
    run(scenario());
}

/// Runs `body` on a runtime of its own (so its task count is the test's alone), under
/// [`TEST_TIMEOUT`], never beside another test of this file.
fn run(body: impl Future<Output = ()>) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build the runtime");
    runtime.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, body)
            .await
            .expect("test timed out");
    });
}

async fn scenario() {
    // The first connection creates what the runtime makes lazily; count after it.
    warm_up().await;
    no_tasks_left().await;
    let fds_before = open_fds();

    let server = ServerOptions::new()
        .backlog(CLIENTS as u32) // all of them may knock at once
        .start_server(echo, "127.0.0.1", 0)
        .await
        .expect("start_server on 127.0.0.1:0");
    let port = port_of(&server);
    let clients = connect_and_verify(port, &payloads(seed_from_env(DEFAULT_SEED))).await;

    // Every connection is still open: the clients have not closed and the server's
    // handlers wait for EOF.
    assert_eq!(server.active_connections(), CLIENTS);
    let fds_open = open_fds().len();
    assert!(
        fds_open >= fds_before.len() + 2 * CLIENTS,
        "only {fds_open} fds open"
    );

    shut_down(server, clients).await;
    no_tasks_left().await;
    assert_same_fds(&fds_before, &open_fds());
}

/// Waits until no task is alive on the runtime: the accept loop and the connections'
/// flush tasks end on their own once their sockets are closed (there is nothing to await
/// for that from outside, so this yields until the count drops).
async fn no_tasks_left() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let settled = async {
        while metrics.num_alive_tasks() > 0 {
            tokio::task::yield_now().await;
        }
    };
    if tokio::time::timeout(SETTLE_TIMEOUT, settled).await.is_err() {
        panic!(
            "{} tasks still alive {SETTLE_TIMEOUT:?} after shutdown",
            metrics.num_alive_tasks()
        );
    }
}

/// Closes the server, then the clients; the server is finished once their handlers end.
async fn shut_down(server: Server, clients: Vec<(StreamReader, StreamWriter)>) {
    server.close();
    assert!(!server.is_serving());
    assert!(server.sockets().is_empty());
    assert!(
        is_pending(server.wait_closed()),
        "wait_closed() returned while {} clients were connected",
        server.active_connections()
    );
    let closing = clients.into_iter().map(|(reader, writer)| async move {
        writer.close();
        writer.wait_closed().await.expect("client wait_closed");
        drop(reader);
    });
    for client in closing {
        client.await;
    }
    server.wait_closed().await;
    assert_eq!(server.active_connections(), 0);
}

/// One round trip through a throwaway server, everything closed and dropped after.
async fn warm_up() {
    let server = start_server(echo, "127.0.0.1", 0)
        .await
        .expect("start_server");
    let port = port_of(&server);
    let clients = connect_and_verify(port, &[Bytes::from_static(b"warm-up")]).await;
    shut_down(server, clients).await;
}

/// The port of a TCP server's first socket.
fn port_of(server: &Server) -> u16 {
    server.sockets()[0]
        .as_inet()
        .expect("an inet address")
        .port()
}

/// The server's callback: echoes with `read(65536)` + `write` + `drain` until EOF.
async fn echo(reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    echo::echo_chunks(reader, writer, |_| {}).await
}

/// Connects one client per payload, all at once; each sends its payload and checks the
/// echo. Returns the connections, still open.
async fn connect_and_verify(port: u16, payloads: &[Bytes]) -> Vec<(StreamReader, StreamWriter)> {
    let clients: Vec<_> = payloads
        .iter()
        .cloned()
        .map(|payload| tokio::spawn(client(port, payload)))
        .collect();
    let mut connections = Vec::with_capacity(clients.len());
    for (i, client) in clients.into_iter().enumerate() {
        let outcome = client.await.expect("client task");
        connections.push(outcome.unwrap_or_else(|e| panic!("client {i}: {e}")));
    }
    connections
}

async fn client(port: u16, payload: Bytes) -> Result<(StreamReader, StreamWriter), String> {
    let (mut reader, writer) = open_connection("127.0.0.1", port)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    writer.write(&payload).map_err(|e| e.to_string())?;
    writer.drain().await.map_err(|e| format!("drain: {e}"))?;
    let echoed = reader
        .readexactly(payload.len())
        .await
        .map_err(|e| format!("read the echo of {} bytes: {e}", payload.len()))?;
    if echoed != payload {
        let at = echoed.iter().zip(&payload).position(|(a, b)| a != b);
        return Err(format!(
            "{} bytes echoed differ at offset {at:?}",
            payload.len()
        ));
    }
    Ok((reader, writer))
}

fn payloads(seed: u64) -> Vec<Bytes> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..CLIENTS)
        .map(|_| {
            let mut payload = vec![0; rng.gen_range(0..=MAX_PAYLOAD)];
            rng.fill_bytes(&mut payload);
            Bytes::from(payload)
        })
        .collect()
}

/// Polls `fut` once: true if it is not ready yet.
fn is_pending<F: Future>(fut: F) -> bool {
    let mut fut = std::pin::pin!(fut);
    fut.as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
}

// Regression: a connection aborted while its flush task waited for the socket to become
// writable (the peer not reading) left that task, and the transport it holds, alive
// forever: closing a descriptor does not wake the tasks waiting for its readiness.
#[test]
fn aborting_clients_blocked_on_a_full_socket_leaves_no_task() {
    run(async {
        warm_up().await;
        no_tasks_left().await;
        let fds_before = open_fds();
        let dir = temp::TempDir::new("blocked-flush");
        let server = start_unix_server(flood, dir.path().join("flood.sock"))
            .await
            .expect("start_unix_server");
        let mut clients = Vec::new();
        for _ in 0..BLOCKED_CLIENTS {
            let (mut reader, writer) = open_unix_connection(dir.path().join("flood.sock"))
                .await
                .expect("connect");
            // The server's flush task is sending; with nobody reading any more, it soon
            // waits for the full socket to drain.
            reader
                .readexactly(64 * 1024)
                .await
                .expect("the start of the flood");
            clients.push((reader, writer));
        }
        server.close();
        server.abort_clients();
        server.wait_closed().await;
        drop((server, clients));
        no_tasks_left().await;
        assert_same_fds(&fds_before, &open_fds());
    });
}

/// More than a Unix socket's buffers hold, so the sender blocks.
const FLOOD: usize = 4 << 20;

const BLOCKED_CLIENTS: usize = 8;

/// Sends [`FLOOD`] bytes and waits for them to leave.
async fn flood(_reader: StreamReader, writer: StreamWriter) {
    writer.write(&vec![0x5A; FLOOD]).expect("write");
    // Ends when the connection is aborted.
    let _ = writer.drain().await;
}

// ---------------------------------------------------------------------------------------
// Descriptors.

/// Runs [`INNER_TEST`] in a child of this test binary with the soft fd limit raised.
fn rerun_with_fd_limit(limit: u64) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build the runtime");
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(&exe)
        .args(["--exact", INNER_TEST, "--ignored", "--nocapture"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true); // a timed-out child does not outlive the test
    let out = runtime
        .block_on(async { tokio::time::timeout(2 * TEST_TIMEOUT, command.output()).await })
        .expect("the child test timed out")
        .expect("run the child test under sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{INNER_TEST} with `ulimit -n {limit}`: {}; stdout:\n{stdout}stderr:\n{stderr}",
        out.status
    );
}
