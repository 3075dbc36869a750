//! `headers` against a local HTTP server started by the test (no network).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use support::{aiostreams, run};

/// Serves one connection: returns the request head it got, answers with `response`.
fn serve_once(listener: TcpListener, response: &'static str) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            if reader.read_line(&mut head).unwrap() == 0 {
                break;
            }
        }
        (&stream).write_all(response.as_bytes()).unwrap();
        head
    })
}

#[test]
fn prints_each_header_line_of_a_head_request() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_once(
        listener,
        "HTTP/1.0 200 OK\r\nServer: test\r\nContent-Length: 42\r\n\r\n",
    );
    let mut cmd = aiostreams();
    cmd.args([
        "headers",
        &format!("http://127.0.0.1:{port}/path/page.html?query=value"),
    ]);
    let output = run(cmd, b"");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "HTTP header> HTTP/1.0 200 OK\nHTTP header> Server: test\nHTTP header> Content-Length: 42\n"
    );
    // As the asyncio example: the path without the query, HTTP/1.0, Host without port.
    let head = server.join().unwrap();
    assert_eq!(
        head,
        "HEAD /path/page.html HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    );
}

#[test]
fn https_says_tls_is_not_built_yet() {
    let output = run(
        aiostreams_with(&["headers", "https://example.invalid/"]),
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TLS support"), "{stderr}");
}

fn aiostreams_with(args: &[&str]) -> std::process::Command {
    let mut cmd = aiostreams();
    cmd.args(args);
    cmd
}
