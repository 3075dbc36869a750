//! (c): the `get_http_headers` example against CPython's `http.server`, over TLS (trusted
//! through `SSL_CERT_FILE` or not, a close without close_notify) and over plain HTTP.

use super::*;

/// A fresh directory holding `index.html`, for the HTTP servers to serve.
fn web_root() -> TempDir {
    let root = TempDir::new("tls-interop-web");
    root.write("index.html", "<p>Hello World!</p>\n");
    root
}

/// The header lines `get_http_headers` printed for a `200 OK` from `http.server`.
fn assert_http_server_headers(stdout: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"HTTP header> HTTP/1.0 200 OK"),
        "{stdout}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with("HTTP header> ")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("HTTP header> Server: SimpleHTTP/")),
        "{stdout}"
    );
    assert!(
        lines.contains(&"HTTP header> Content-Length: 20"),
        "{stdout}"
    );
}

/// Starts `tls_peers.py https-server` serving `root`; returns it and its port.
async fn cpython_https_server(certs: &Certs, root: &TempDir) -> (Peer, u16) {
    let root = root.path().to_str().expect("a UTF-8 temp path");
    let mut server = Peer::spawn(
        "the CPython https server",
        python().arg(tls_peers()).args([
            "https-server",
            &certs.chain_arg(),
            &certs.key_arg(),
            root,
        ]),
    );
    let port = server.stdout_line().await.parse().expect("a port");
    (server, port)
}

/// Runs `exe URL` with the CA file `ca` as its whole system trust store.
async fn run_trusting(exe: &Path, url: &str, ca: &str) -> std::process::Output {
    let mut cmd = Command::new(exe);
    cmd.arg(url)
        .env("SSL_CERT_FILE", ca)
        .env_remove("SSL_CERT_DIR");
    run(&mut cmd).await
}

// (c) The "Get HTTP headers" example against CPython's http.server over TLS. Its `ssl=True`
// trusts the system store, which SSL_CERT_FILE replaces by our CA; the name is checked.
#[tokio::test]
async fn get_http_headers_reads_a_cpython_https_server_trusted_through_ssl_cert_file() {
    let exe = example("get_http_headers").await;
    let (certs, root) = (Certs::new(), web_root());
    bounded(async {
        let (mut server, port) = cpython_https_server(&certs, &root).await;
        let url = format!("https://localhost:{port}/index.html?query=value");
        let out = run_trusting(&exe, &url, &certs.ca_arg()).await;
        assert_http_server_headers(&success_stdout("get_http_headers", &out));
        // As in the asyncio docs, the query string is not sent.
        server
            .stderr_line_containing("\"HEAD /index.html HTTP/1.0\" 200")
            .await;
    })
    .await;
}

// (c) The same server, but SSL_CERT_FILE holds a CA that did not sign its certificate: a
// clear message, a failure exit, no headers.
#[tokio::test]
async fn get_http_headers_refuses_a_server_the_trust_store_does_not_vouch_for() {
    let exe = example("get_http_headers").await;
    let (certs, root) = (Certs::new(), web_root());
    bounded(async {
        let (_server, port) = cpython_https_server(&certs, &root).await;
        let url = format!("https://localhost:{port}/");
        let out = run_trusting(&exe, &url, &certs.other_ca_arg()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
        assert_eq!(
            stderr.trim_end(),
            format!(
                "get_http_headers: {url}: certificate verify failed: unable to get local \
                 issuer certificate"
            )
        );
    })
    .await;
}

// CPython's http.server over TLS closes without close_notify (`SSLSocket.shutdown` does
// not send it). Reading on to EOF, as the asyncio docs' loop does, we get every header and
// then a truncation error, by design (docs/DESIGN.md); asyncio's reader returns b'' there.
// This is why `get_http_headers` stops at the blank line.
#[tokio::test]
async fn a_cpython_https_server_closing_without_close_notify_is_a_truncation() {
    let (certs, root) = (Certs::new(), web_root());
    bounded(async {
        let (_server, port) = cpython_https_server(&certs, &root).await;
        let (mut reader, writer) = connect(certs.client_config(), port).await;
        writer
            .write(b"HEAD /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .expect("write");
        let mut headers = Vec::new();
        let error = loop {
            match reader.readline().await {
                Ok(line) if line.is_empty() => panic!("a clean EOF after {headers:?}"),
                Ok(line) => headers.push(line),
                Err(e) => break e,
            }
        };
        assert_eq!(
            headers.first().map(|h| &h[..]),
            Some(&b"HTTP/1.0 200 OK\r\n"[..])
        );
        assert_eq!(
            headers.last().map(|h| &h[..]),
            Some(&b"\r\n"[..]),
            "{headers:?}"
        );
        assert_eq!(
            error.io_kind(),
            std::io::ErrorKind::UnexpectedEof,
            "{error}"
        );
        assert!(error.to_string().contains("close_notify"), "{error}");
    })
    .await;
}

// (c) http:// against `python3 -m http.server` itself.
#[tokio::test]
async fn get_http_headers_reads_python_http_server_over_plain_http() {
    let exe = example("get_http_headers").await;
    let root = web_root();
    bounded(async {
        let dir = root.path().to_str().expect("a UTF-8 temp path");
        let mut server = Peer::spawn(
            "python3 -m http.server",
            python().args([
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
                dir,
            ]),
        );
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let banner = server.stdout_line_starting("Serving HTTP on").await;
        let port = banner
            .split(' ')
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no port in {banner:?}"));
        let url = format!("http://127.0.0.1:{port}/index.html?query=value");
        let out = run(Command::new(&exe).arg(&url)).await;
        assert_http_server_headers(&success_stdout("get_http_headers", &out));
        server
            .stderr_line_containing("\"HEAD /index.html HTTP/1.0\" 200")
            .await;
    })
    .await;
}
