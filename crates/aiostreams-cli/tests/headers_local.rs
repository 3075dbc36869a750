//! `headers` against local HTTP and HTTPS servers started by the test (no network).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;

use crate::support::certs::Certs;
use crate::support::{aiostreams, run, run_ok};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

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
    assert_eq!(
        String::from_utf8(run_ok(cmd, b"")).unwrap(),
        "HTTP header> HTTP/1.0 200 OK\nHTTP header> Server: test\nHTTP header> Content-Length: 42\n"
    );
    // As the asyncio example: the path without the query, HTTP/1.0, Host without port.
    let head = server.join().unwrap();
    assert_eq!(
        head,
        "HEAD /path/page.html HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    );
}

/// A TLS server for one connection: the CA-signed certificate of `certs`; returns the
/// request head it got after answering with `response`, close_notify and its close.
fn serve_tls_once(
    listener: TcpListener,
    certs: &Certs,
    response: &'static str,
) -> std::thread::JoinHandle<String> {
    let chain = CertificateDer::pem_file_iter(&certs.chain)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&certs.key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Arc::new(config);
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(crate::support::LIMIT))
            .unwrap();
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, stream);
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            // A client that gives up (a failed verification) ends the head early.
            match tls.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        if head.ends_with(b"\r\n\r\n") {
            tls.write_all(response.as_bytes()).unwrap();
            tls.conn.send_close_notify();
            tls.flush().unwrap();
            // Until the client's close_notify (or its close).
            let _ = tls.read_to_end(&mut Vec::new());
        }
        String::from_utf8(head).unwrap()
    })
}

fn headers_https(url: &str, ca: &str) -> Command {
    let mut cmd = aiostreams_with(&["headers", url]);
    cmd.env("SSL_CERT_FILE", ca).env_remove("SSL_CERT_DIR");
    cmd
}

/// https://: verified with the system store, which SSL_CERT_FILE replaces by the test CA.
#[test]
fn https_prints_the_headers_of_a_verified_server() {
    let certs = Certs::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_tls_once(
        listener,
        &certs,
        "HTTP/1.1 200 OK\r\nServer: tls-test\r\nContent-Length: 7\r\n\r\n",
    );
    let url = format!("https://localhost:{port}/secure/page?query=1");
    assert_eq!(
        String::from_utf8(run_ok(headers_https(&url, certs.ca_arg()), b"")).unwrap(),
        "HTTP header> HTTP/1.1 200 OK\nHTTP header> Server: tls-test\nHTTP header> Content-Length: 7\n"
    );
    let head = server.join().unwrap();
    assert_eq!(
        head,
        "HEAD /secure/page HTTP/1.0\r\nHost: localhost\r\n\r\n"
    );
}

/// A server whose CA is not in the store fails verification: exit 1, nothing sent.
#[test]
fn https_refuses_an_untrusted_server() {
    let certs = Certs::new();
    let other = Certs::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_tls_once(listener, &certs, "HTTP/1.1 200 OK\r\n\r\n");
    let output = run(
        headers_https(&format!("https://127.0.0.1:{port}/"), other.ca_arg()),
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("certificate verify failed: unable to get local issuer certificate"),
        "{stderr}"
    );
    assert_eq!(server.join().unwrap(), "");
}

fn aiostreams_with(args: &[&str]) -> std::process::Command {
    let mut cmd = aiostreams();
    cmd.args(args);
    cmd
}
