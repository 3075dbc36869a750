//! Runs the server examples (`examples/tcp_echo_server.rs`, `unix_echo_server.rs`) as
//! programs: against CPython's asyncio echo client and against our `unix_echo_client`
//! example, checking every line they print, then interrupts them with SIGINT and checks
//! that they exit cleanly (status 0, the Unix socket file removed).
//!
//! The examples are built once per test binary with `cargo build --example ...` (a no-op
//! when `cargo test` already built them); their paths come from cargo's JSON messages, so
//! any target directory works. The Python interpreter is `python3`, or `AIOSTREAMS_PYTHON`.

#![cfg(unix)] // SIGINT, Unix sockets

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::task::JoinHandle;

use crate::support::{
    bounded_for,
    examples::example,
    process::{python, run, success_stdout},
    temp::TempDir,
};

/// Bounds one test once the examples are built (they answer in milliseconds).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The early-SIGINT race lost about two times in three when it existed; ten rounds
/// make a pass by luck unlikely.
const EARLY_SIGINT_ROUNDS: usize = 10;

/// A free port can be taken by someone else before the server binds it; try again.
const BIND_ATTEMPTS: usize = 5;

/// CPython's echo client from the asyncio docs; prints the echo, then its local port.
const CPYTHON_TCP_CLIENT: &str = r#"
import asyncio, sys

async def tcp_echo_client(message, port):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(message.encode())
    await writer.drain()
    data = await reader.read(100)
    print(data.decode())
    print(writer.get_extra_info('sockname')[1])
    writer.close()
    await writer.wait_closed()

asyncio.run(asyncio.wait_for(tcp_echo_client('Hello World!', int(sys.argv[1])), 30))
"#;

/// The same over a Unix socket.
const CPYTHON_UNIX_CLIENT: &str = r#"
import asyncio, sys

async def unix_echo_client(message, path):
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(message.encode())
    await writer.drain()
    data = await reader.read(100)
    print(data.decode())
    writer.close()
    await writer.wait_closed()

asyncio.run(asyncio.wait_for(unix_echo_client('Hello World!', sys.argv[1]), 30))
"#;

#[tokio::test]
async fn tcp_echo_server_answers_cpython_and_exits_on_sigint() {
    let exe = example("tcp_echo_server").await;
    bounded_for(RUN_TIMEOUT, async {
        let (mut server, port) = start_tcp_echo_server(&exe).await;
        let out = run(python().args(["-c", CPYTHON_TCP_CLIENT, &port.to_string()])).await;
        let stdout = success_stdout("the CPython client", &out);
        let (echoed, client_port) = stdout
            .split_once('\n')
            .unwrap_or_else(|| panic!("CPython client printed {stdout:?}"));
        assert_eq!(echoed, "Hello World!");
        let client_port = client_port.trim();
        let received = format!("Received 'Hello World!' from 127.0.0.1:{client_port}");
        server.expect_line(&received).await;
        server.expect_line("Send: 'Hello World!'").await;
        server.expect_line("Close the connection").await;
        server.interrupt_and_expect_clean_exit().await;
    })
    .await;
}

#[tokio::test]
async fn unix_echo_server_answers_our_client_and_cpython_and_exits_on_sigint() {
    let server_exe = example("unix_echo_server").await;
    let client_exe = example("unix_echo_client").await;
    bounded_for(RUN_TIMEOUT, async {
        let dir = TempDir::new("unix-echo-example");
        let path = dir.path().join("echo.sock");
        let path_arg = path.to_str().expect("a UTF-8 temp path");
        let mut server = ServerProcess::spawn(&server_exe, &[path_arg]);
        server.expect_line(&format!("Serving on {path_arg}")).await;
        assert!(path.exists(), "no socket file at {path_arg}");

        let out = run(Command::new(&client_exe).arg(path_arg)).await;
        assert_eq!(
            success_stdout("unix_echo_client", &out),
            "Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the connection\n"
        );
        server.expect_echo_lines().await;

        let out = run(python().args(["-c", CPYTHON_UNIX_CLIENT, path_arg])).await;
        assert_eq!(success_stdout("the CPython client", &out), "Hello World!\n");
        server.expect_echo_lines().await;

        server.interrupt_and_expect_clean_exit().await;
        assert!(!path.exists(), "the socket file outlived the server");
    })
    .await;
}

// Regression: SIGINT right after `Serving on` killed the server by the default action
// (status "signal 2", socket file left behind) because the Ctrl-C handler was only
// installed when `tokio::signal::ctrl_c()` was first polled, after that line.
#[tokio::test]
async fn tcp_echo_server_exits_cleanly_on_sigint_right_after_serving_on() {
    let exe = example("tcp_echo_server").await;
    bounded_for(RUN_TIMEOUT, async {
        for _ in 0..EARLY_SIGINT_ROUNDS {
            let (mut server, _) = start_tcp_echo_server(&exe).await;
            server.interrupt_and_expect_clean_exit().await;
        }
    })
    .await;
}

// Regression: as above, for the Unix server, which must also remove its socket file.
#[tokio::test]
async fn unix_echo_server_exits_cleanly_on_sigint_right_after_serving_on() {
    let exe = example("unix_echo_server").await;
    bounded_for(RUN_TIMEOUT, async {
        let dir = TempDir::new("unix-echo-sigint");
        let path = dir.path().join("echo.sock");
        let path_arg = path.to_str().expect("a UTF-8 temp path");
        for _ in 0..EARLY_SIGINT_ROUNDS {
            let mut server = ServerProcess::spawn(&exe, &[path_arg]);
            server.expect_line(&format!("Serving on {path_arg}")).await;
            server.interrupt_and_expect_clean_exit().await;
            assert!(!path.exists(), "the socket file outlived the server");
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// The server under test.

/// A running example server; killed when dropped, so it never outlives its test.
struct ServerProcess {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Option<JoinHandle<String>>,
}

impl ServerProcess {
    fn spawn(exe: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        ServerProcess {
            child,
            stdout,
            stderr: Some(stderr),
        }
    }

    /// The next line the server prints; `None` once it closed its stdout (exited).
    async fn next_line(&mut self) -> Option<String> {
        self.stdout
            .next_line()
            .await
            .expect("read the server's stdout")
    }

    async fn expect_line(&mut self, expected: &str) {
        match self.next_line().await {
            Some(line) => assert_eq!(line, expected),
            None => panic!(
                "the server ended before printing {expected:?}: {}; stderr:\n{}",
                self.wait().await,
                self.stderr().await
            ),
        }
    }

    /// The Unix server's three lines for one `Hello World!` client.
    async fn expect_echo_lines(&mut self) {
        self.expect_line("Received 'Hello World!'").await;
        self.expect_line("Send: 'Hello World!'").await;
        self.expect_line("Close the connection").await;
    }

    async fn wait(&mut self) -> ExitStatus {
        self.child.wait().await.expect("wait for the server")
    }

    async fn stderr(&mut self) -> String {
        match self.stderr.take() {
            Some(task) => task.await.expect("stderr reader"),
            None => String::new(),
        }
    }

    /// Sends SIGINT (what Ctrl-C sends) and checks the server exits 0, printing nothing
    /// more.
    async fn interrupt_and_expect_clean_exit(&mut self) {
        let pid = self.child.id().expect("the server is running").to_string();
        // The shell's builtin `kill`: no dependency on a `kill` binary being installed.
        let kill = std::process::Command::new("sh")
            .args(["-c", "kill -INT \"$1\"", "sh", &pid])
            .status()
            .expect("run sh -c kill");
        assert!(kill.success(), "kill -INT {pid}: {kill}");
        let status = self.wait().await;
        let stderr = self.stderr().await;
        assert!(
            status.success(),
            "after SIGINT: {status}; stderr:\n{stderr}"
        );
        assert_eq!(self.next_line().await, None, "stderr:\n{stderr}");
    }
}

/// Starts `tcp_echo_server 127.0.0.1 <free port>` and waits until it is serving.
async fn start_tcp_echo_server(exe: &Path) -> (ServerProcess, u16) {
    for _ in 0..BIND_ATTEMPTS {
        let port = free_port();
        let mut server = ServerProcess::spawn(exe, &["127.0.0.1", &port.to_string()]);
        let Some(line) = server.next_line().await else {
            let status = server.wait().await;
            let stderr = server.stderr().await;
            if stderr.contains("address already in use") {
                continue; // somebody took the port meanwhile
            }
            panic!("tcp_echo_server on port {port} exited: {status}; stderr:\n{stderr}");
        };
        assert_eq!(line, format!("Serving on 127.0.0.1:{port}"));
        return (server, port);
    }
    panic!("no free port after {BIND_ATTEMPTS} attempts");
}

/// A port nobody listens on right now (the OS's pick for 127.0.0.1:0, released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

// ---------------------------------------------------------------------------------------
// Building and running programs.
