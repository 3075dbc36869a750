//! Runs the client examples (`examples/tcp_echo_client.rs`, `register_open_socket.rs`)
//! as programs and checks their exact output.
//!
//! Each example is built by `support::examples` and run with a timeout.

use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::process::Command;

use crate::support::{examples::example, process::success_stdout};

/// Running an example takes milliseconds; this only bounds a hang.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs example `name` with `args`; returns its output.
async fn run_example(name: &str, args: &[&str]) -> Output {
    let binary = example(name).await;
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

#[tokio::test]
async fn tcp_echo_client_prints_the_asyncio_docs_lines() {
    let port = echo_server().await;
    let out = run_example("tcp_echo_client", &["127.0.0.1", &port.to_string()]).await;
    assert_eq!(
        success_stdout("the example", &out),
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
    assert_eq!(success_stdout("the example", &out), "Received: 'abc'\n");
}
