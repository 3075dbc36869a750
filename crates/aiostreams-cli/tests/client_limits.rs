//! `connect` and `headers` against misbehaving local servers: a silent one, one that
//! never ends its headers. Each run is bounded by its own small real timeout (the CLI is
//! a child process) or by the header cap; every wait in the test is bounded.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::thread::JoinHandle;

use crate::support::certs::Certs;
use crate::support::{LIMIT, aiostreams, run};

/// A server that accepts one client and never sends a byte; it reads (and drops) until
/// the client goes away.
fn silent_server() -> (u16, JoinHandle<()>) {
    serve_one(|mut stream| {
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
    })
}

/// Accepts one client on an ephemeral port and runs `serve` on it in a thread.
fn serve_one(serve: impl FnOnce(TcpStream) + Send + 'static) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        serve(stream);
    });
    (port, thread)
}

fn aiostreams_run(args: &[&str]) -> Output {
    let mut cmd = aiostreams();
    cmd.args(args);
    run(cmd, b"")
}

fn assert_failure(output: &Output, mentions: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(mentions), "{mentions:?} not in {stderr}");
}

#[test]
fn headers_gives_up_on_a_silent_server() {
    let (port, server) = silent_server();
    let url = format!("http://127.0.0.1:{port}/");
    let output = aiostreams_run(&["headers", &url, "--timeout", "0.3"]);
    assert_failure(&output, "timed out after 0.3 s (--timeout)");
    assert!(output.stdout.is_empty());
    server.join().unwrap();
}

/// Today's 224 MB in 15 s: the header block stops at `--max-header-bytes`.
#[test]
fn headers_caps_an_endless_header_block() {
    let (port, server) = serve_one(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n");
        // Until the client hangs up.
        while stream.write_all(b"X-Endless: more and more\r\n").is_ok() {}
    });
    let url = format!("http://127.0.0.1:{port}/");
    let output = aiostreams_run(&["headers", &url, "--max-header-bytes", "1000"]);
    assert_failure(
        &output,
        "the response's header block is over 1000 bytes (--max-header-bytes); stopped",
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let printed: usize = stdout
        .lines()
        .map(|l| l.strip_prefix("HTTP header> ").unwrap().len() + 2)
        .sum();
    assert!(printed <= 1000, "{printed} header bytes printed");
    assert!(
        stdout.starts_with("HTTP header> HTTP/1.0 200 OK\n"),
        "{stdout}"
    );
    server.join().unwrap();
}

/// One endless header line stops at the cap too (it is the reader's line limit).
#[test]
fn headers_caps_one_endless_line() {
    let (port, server) = serve_one(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nX-Endless: ");
        while stream.write_all(&[b'a'; 4096]).is_ok() {}
    });
    let url = format!("http://127.0.0.1:{port}/");
    let output = aiostreams_run(&["headers", &url, "--max-header-bytes", "2000"]);
    assert_failure(&output, "over 2000 bytes (--max-header-bytes)");
    server.join().unwrap();
}

/// A TLS server that never answers the ClientHello: the handshake is part of the connect.
#[test]
fn connect_timeout_covers_a_stalled_tls_handshake() {
    let certs = Certs::new();
    let (port, server) = silent_server();
    let port = port.to_string();
    let output = aiostreams_run(&[
        "connect",
        "127.0.0.1",
        &port,
        "--tls",
        "--ca",
        certs.ca_arg(),
        "--connect-timeout",
        "0.3",
    ]);
    assert_failure(
        &output,
        &format!("cannot connect to 127.0.0.1:{port}: timed out after 0.3 s (--connect-timeout)"),
    );
    server.join().unwrap();
}

/// `--timeout` ends a session whose peer never closes (stdin's EOF half-closes; the
/// server keeps its side open until the test is done).
#[test]
fn timeout_ends_a_connect_session() {
    let (done, wait_done) = std::sync::mpsc::channel::<()>();
    let (port, server) = serve_one(move |mut stream| {
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        assert_eq!(got, b"hello");
        let _ = wait_done.recv_timeout(LIMIT);
    });
    let mut cmd = aiostreams();
    cmd.args([
        "connect",
        "127.0.0.1",
        &port.to_string(),
        "--timeout",
        "0.3",
    ]);
    let output = run(cmd, b"hello");
    done.send(()).unwrap();
    assert_failure(&output, "timed out after 0.3 s (--timeout)");
    assert_eq!(output.stdout, b"");
    server.join().unwrap();
}
