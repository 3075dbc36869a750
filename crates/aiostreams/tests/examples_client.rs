//! Runs the client examples (`examples/tcp_echo_client.rs`, `register_open_socket.rs`)
//! as programs and checks their exact output.
//!
//! Each example is built with `cargo build --example` (a no-op when `cargo test` already
//! built it) and its binary, found from cargo's JSON messages, run with a timeout.

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::process::Command;

/// Building may wait for the build-directory lock while other builds run.
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// Running an example takes milliseconds; this only bounds a hang.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds `examples/<name>.rs` and returns the path of its executable.
async fn example_binary(name: &str) -> PathBuf {
    let build = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            "aiostreams",
        ])
        .args(["--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(BUILD_TIMEOUT, build)
        .await
        .expect("cargo build --example timed out")
        .expect("run cargo");
    assert!(out.status.success(), "cargo build --example {name} failed");
    executable_in(&out.stdout, name).unwrap_or_else(|| panic!("no executable for {name}"))
}

/// The `executable` of the compiler-artifact message for example `name`.
fn executable_in(json_lines: &[u8], name: &str) -> Option<PathBuf> {
    String::from_utf8_lossy(json_lines)
        .lines()
        .find_map(|line| {
            let msg: serde_json::Value = serde_json::from_str(line).ok()?;
            let target = msg.get("target")?;
            let is_example = target["kind"].as_array()?.iter().any(|k| k == "example");
            if !is_example || target["name"] != name {
                return None;
            }
            msg["executable"].as_str().map(PathBuf::from)
        })
}

/// Runs example `name` with `args`; returns its output.
async fn run_example(name: &str, args: &[&str]) -> Output {
    let binary = example_binary(name).await;
    let run = Command::new(&binary)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(RUN_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("{name} did not finish in {RUN_TIMEOUT:?}"))
        .expect("run the example")
}

/// A one-connection echo server on 127.0.0.1 port 0: echoes until EOF.
async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0; 4096];
        loop {
            let n = socket.read(&mut buf).await.expect("read");
            if n == 0 {
                return;
            }
            socket.write_all(&buf[..n]).await.expect("write");
        }
    });
    port
}

fn stdout_of(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}; stdout:\n{stdout}stderr:\n{stderr}",
        out.status
    );
    stdout
}

#[tokio::test]
async fn tcp_echo_client_prints_the_asyncio_docs_lines() {
    let port = echo_server().await;
    let out = run_example("tcp_echo_client", &["127.0.0.1", &port.to_string()]).await;
    assert_eq!(
        stdout_of(&out),
        "Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the connection\n"
    );
}

// Nothing listens: a clear message on stderr, nothing on stdout, a failure exit code.
#[tokio::test]
async fn tcp_echo_client_reports_a_refused_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener
        .local_addr()
        .expect("local addr")
        .port()
        .to_string();
    drop(listener);
    let out = run_example("tcp_echo_client", &["127.0.0.1", &port]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("refused"), "stderr: {stderr}");
}

#[tokio::test]
async fn tcp_echo_client_rejects_a_bad_port() {
    let out = run_example("tcp_echo_client", &["127.0.0.1", "not-a-port"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}

#[cfg(unix)]
#[tokio::test]
async fn register_open_socket_receives_abc() {
    let out = run_example("register_open_socket", &[]).await;
    assert_eq!(stdout_of(&out), "Received: 'abc'\n");
}
