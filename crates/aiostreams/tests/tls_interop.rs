//! TLS against peers we did not write: CPython's `ssl` (asyncio streams and `http.server`,
//! `tests/support/tls_peers.py`) and the `openssl` command-line tools, plus our TLS
//! examples run as programs, and many connections at once.
//!
//! Certificates are generated here with rcgen (a private CA, a server certificate for
//! `localhost` and `127.0.0.1`) and written to a temp dir for the other programs. Every
//! peer listens on 127.0.0.1 port 0 and prints its port; each child process is killed
//! when its test ends, and every test runs under a timeout. `python3` (or
//! `AIOSTREAMS_PYTHON`) and `openssl` must be on PATH: without them the tests fail.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use aiostreams::tls::TlsInfo;
use aiostreams::{ConnectOptions, Error, Server, ServerOptions, StreamReader, StreamWriter};
use rustls::ClientConfig;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::support::bounded_test;
use crate::support::net::{closed, port_of};
use crate::support::{
    examples::example,
    payload::{generate, receive_and_check, send_all},
    process::{Peer, openssl, python, run, spawn_piped, success_stdout},
    temp::TempDir,
    tls_interop_support::{Certs, bounded, tls_peers},
};

/// The payload of the large transfers.
const BIG: usize = 1 << 20;

/// The pieces our side writes, each followed by `drain()`.
const PIECE: usize = 64 * 1024;

/// Connects to 127.0.0.1:`port` with TLS, verifying the certificate for `localhost`.
async fn connect(config: Arc<ClientConfig>, port: u16) -> (StreamReader, StreamWriter) {
    ConnectOptions::new()
        .ssl_config(config)
        .server_hostname("localhost")
        .connect("127.0.0.1", port)
        .await
        .expect("TLS connect")
}

/// Sends `data` and reads it back at the same time, checking every byte.
async fn echo_round_trip(reader: &mut StreamReader, writer: &StreamWriter, data: &[u8]) {
    tokio::join!(
        send_all(writer, data, PIECE),
        receive_and_check(reader, data, PIECE)
    );
}

/// What our echo handler saw on one connection.
#[derive(Debug)]
struct Report {
    received: Vec<u8>,
    info: TlsInfo,
}

/// Our echo handler: echoes until EOF, then reports what it received and what the
/// session negotiated.
async fn echo_and_report(
    mut reader: StreamReader,
    writer: StreamWriter,
    report: mpsc::UnboundedSender<Report>,
) -> Result<(), Error> {
    let mut received = Vec::new();
    loop {
        let chunk = reader.read(PIECE).await?;
        if chunk.is_empty() {
            break;
        }
        received.extend_from_slice(&chunk);
        writer.write(&chunk)?;
        writer.drain().await?;
    }
    let info = writer.transport().tls_info().expect("a TLS connection");
    let _ = report.send(Report { received, info });
    closed(&writer).await
}

/// Our TLS echo server on 127.0.0.1 port 0 and the channel its reports arrive on.
async fn our_echo_server(certs: &Certs) -> (Server, u16, mpsc::UnboundedReceiver<Report>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = ServerOptions::new()
        .ssl(certs.server_config())
        .backlog(512)
        .start_server(
            move |r, w| echo_and_report(r, w, tx.clone()),
            "127.0.0.1",
            0,
        )
        .await
        .expect("start our TLS server");
    let port = port_of(&server);
    (server, port, rx)
}

// (a) Our client against CPython's asyncio TLS server, TLS 1.3 then TLS 1.2: 1 MiB each
// way, every byte checked by us (the echo) and by Python (the report).
#[bounded_test]
async fn our_client_echoes_1_mib_through_a_cpython_asyncio_tls_server() {
    let certs = Certs::new();
    let seed = 17;
    let (chain, key) = (certs.chain_arg(), certs.key_arg());
    let mut server = Peer::spawn(
        "the CPython TLS echo server",
        python()
            .arg(tls_peers())
            .args(["echo-server", &chain, &key, &seed.to_string()]),
    );
    let port: u16 = server.stdout_line().await.parse().expect("a port");
    let data = generate(BIG, seed);
    for (version, python_version) in [
        (&rustls::version::TLS13, "TLSv1.3"),
        (&rustls::version::TLS12, "TLSv1.2"),
    ] {
        let (mut reader, writer) = connect(certs.client_config_for(version), port).await;
        echo_round_trip(&mut reader, &writer, &data).await;
        let info = writer.transport().tls_info().expect("TLS info");
        writer.close();
        writer.wait_closed().await.expect("wait_closed");
        let report = server.stdout_line().await;
        println!(
            "CPython server: {report}; ours: {:?} {:?}",
            info.protocol, info.cipher
        );
        let expected = format!("received {BIG} match=True version={python_version} cipher=");
        assert!(
            report.starts_with(&expected),
            "CPython server reported {report:?}"
        );
        assert_eq!(
            info.protocol.as_deref(),
            Some(python_version.replace('.', "_").as_str())
        );
        assert_eq!(
            info.peer_certificates,
            std::slice::from_ref(&certs.leaf_der),
            "'peercert'"
        );
    }
}

// (a) A server that speaks first (as SMTPS or IMAPS do): CPython greets each client as
// soon as its handshake is done, and our client reads before it writes anything. The
// greeting comes with or after the session tickets; TLS 1.3 and 1.2, ten rounds each.
#[bounded_test]
async fn our_client_reads_the_greeting_of_a_cpython_server_that_speaks_first() {
    let certs = Certs::new();
    let (chain, key) = (certs.chain_arg(), certs.key_arg());
    let mut server = Peer::spawn(
        "the CPython TLS greeting server",
        python()
            .arg(tls_peers())
            .args(["greet-server", &chain, &key]),
    );
    let port: u16 = server.stdout_line().await.parse().expect("a port");
    for round in 1..=20 {
        let version = match round % 2 {
            0 => &rustls::version::TLS13,
            _ => &rustls::version::TLS12,
        };
        let (mut reader, writer) = connect(certs.client_config_for(version), port).await;
        let greeting = reader.readline().await.expect("the greeting");
        assert_eq!(greeting, format!("Hello from CPython {round}\n").as_bytes());
        writer.write(b"ping\n").expect("write");
        assert_eq!(reader.readline().await.expect("the echo"), "ping\n");
        writer.close();
        writer.wait_closed().await.expect("wait_closed");
        let report = server.stdout_line().await;
        assert!(
            report.starts_with("received 5 "),
            "CPython server reported {report:?}"
        );
    }
}

// (b) CPython's asyncio TLS client (CA trusted, hostname checked) against our TLS server:
// 1 MiB each way, checked by Python (the echo) and by us (the report).
#[bounded_test]
async fn cpython_asyncio_tls_client_echoes_1_mib_through_our_tls_server() {
    let certs = Certs::new();
    let seed = 99;
    let (server, port, mut reports) = our_echo_server(&certs).await;
    let out = run(python().arg(tls_peers()).args([
        "echo-client",
        &certs.ca_arg(),
        &port.to_string(),
        &BIG.to_string(),
        &seed.to_string(),
    ]))
    .await;
    let stdout = success_stdout("the CPython TLS echo client", &out);
    println!("CPython client's view: {stdout}");
    let (python_view, ok) = stdout.trim_end().split_once('\n').expect("two lines");
    assert_eq!(ok, format!("ok {BIG}"));
    let Report { received, info } = reports.recv().await.expect("our handler's report");
    assert_eq!(received.len(), BIG);
    assert!(
        received == generate(BIG, seed),
        "our server received other bytes"
    );
    assert_eq!(
        info.server_name.as_deref(),
        Some("localhost"),
        "the SNI Python sent"
    );
    // The same session seen from both ends: TLSv1_3 / TLS13_AES_256_GCM_SHA384 here,
    // version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 there.
    let ours = format!(
        "version={} cipher={}",
        info.protocol.unwrap_or_default().replace('_', "."),
        info.cipher
            .unwrap_or_default()
            .replacen("TLS13_", "TLS_", 1)
    );
    assert!(
        python_view.starts_with(&ours),
        "{python_view:?} vs ours {ours:?}"
    );
    server.close();
}

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

/// `n` lines of printable ASCII (spaces and tabs included), 0 to 199 bytes each.
fn text_lines(n: usize, seed: u64) -> Vec<String> {
    let bytes = generate(n * 200, seed);
    bytes
        .chunks(200)
        .map(|chunk| {
            let len = usize::from(chunk[0]) % 200;
            chunk[..len]
                .iter()
                .map(|&b| match b % 97 {
                    95 => '\t',
                    96 => ' ',
                    c => char::from(b'!' + c % 94),
                })
                .collect()
        })
        .collect()
}

// (d) Our client against `openssl s_server -rev`, which answers each line reversed: 1000
// lines pipelined, each answer checked; s_server's view of the session matches ours.
#[bounded_test]
async fn our_client_talks_to_openssl_s_server() {
    let certs = Certs::new();
    let mut server = Peer::spawn(
        "openssl s_server",
        openssl()
            .args([
                "s_server",
                "-accept",
                "127.0.0.1:0",
                "-rev",
                "-naccept",
                "1",
            ])
            .args(["-cert", &certs.chain_arg(), "-key", &certs.key_arg()]),
    );
    let accept = server.stdout_line_starting("ACCEPT").await;
    let port = accept
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("s_server printed {accept:?}, not ACCEPT HOST:PORT"));
    let (mut reader, writer) = connect(certs.client_config(), port).await;
    let lines = text_lines(1000, 5);
    let payload: Vec<u8> = lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    let check = async {
        for (i, line) in lines.iter().enumerate() {
            let got = reader.readline().await.expect("readline");
            let reversed: String = line.chars().rev().collect();
            assert_eq!(got, format!("{reversed}\n").as_bytes(), "line {i}");
        }
    };
    tokio::join!(send_all(&writer, &payload, PIECE), check);

    let info = writer.transport().tls_info().expect("TLS info");
    let version = server.stderr_line_containing("Protocol version:").await;
    let suite = server.stderr_line_containing("Ciphersuite:").await;
    println!(
        "s_server: {version}, {suite}; ours: {:?} {:?}",
        info.protocol, info.cipher
    );
    assert_eq!(info.protocol.as_deref(), Some("TLSv1_3"));
    assert_eq!(version, "Protocol version: TLSv1.3");
    let cipher = info
        .cipher
        .expect("a cipher suite")
        .replacen("TLS13_", "TLS_", 1);
    assert_eq!(suite, format!("Ciphersuite: {cipher}"));

    // "CLOSE" makes s_server send close_notify: EOF for us. Unlike asyncio we do not
    // tear the connection down at the peer's close_notify (TLS half-close): we close,
    // and with -naccept 1 s_server then exits.
    writer.write(b"CLOSE\n").expect("write");
    assert_eq!(reader.read(100).await.expect("EOF, not an error"), "");
    server.stderr_line_containing("CONNECTION CLOSED").await;
    writer.close();
    writer.wait_closed().await.expect("wait_closed");
    let status = server.wait().await;
    assert!(status.success(), "s_server: {status}");
}

/// Our handler for `s_client`: reads exactly `n` bytes, echoes them, closes.
async fn echo_exactly(
    mut reader: StreamReader,
    writer: StreamWriter,
    n: usize,
) -> Result<(), Error> {
    let data = reader.readexactly(n).await?;
    writer.write(&data)?;
    writer.drain().await?;
    closed(&writer).await
}

// (d) `openssl s_client` (our CA, name checked, failing on any verify error) against our
// TLS server, TLS 1.3 then TLS 1.2: 256 KiB of binary data through and back.
#[tokio::test]
async fn openssl_s_client_talks_to_our_tls_server() {
    const N: usize = 256 * 1024;
    let certs = Certs::new();
    bounded(async {
        let server = ServerOptions::new()
            .ssl(certs.server_config())
            .start_server(|r, w| echo_exactly(r, w, N), "127.0.0.1", 0)
            .await
            .expect("start our TLS server");
        let port = port_of(&server);
        for (seed, version) in [(1, "-tls1_3"), (2, "-tls1_2")] {
            let payload = generate(N, seed);
            let mut client = spawn_piped(
                openssl()
                    .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
                    .args(["-CAfile", &certs.ca_arg(), "-servername", "localhost"])
                    .args(["-verify_hostname", "localhost", "-verify_return_error"])
                    .args(["-quiet", "-nocommands", version]),
            );
            let mut stdin = client.stdin.take().expect("piped stdin");
            let feed = async move {
                stdin.write_all(&payload).await.expect("feed s_client");
                drop(stdin); // -quiet ignores stdin EOF: s_client reads on until we close
            };
            let (_, out) = tokio::join!(feed, client.wait_with_output());
            let out = out.expect("wait for s_client");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "s_client {version}: {}; stderr:\n{stderr}",
                out.status
            );
            assert!(
                out.stdout == generate(N, seed),
                "s_client {version} got other bytes; stderr:\n{stderr}"
            );
        }
        server.close();
    })
    .await;
}

/// A port nobody listens on right now (the OS's pick for 127.0.0.1:0, released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// Starts the `tls_echo_server` example on a free port and waits until it serves.
async fn start_tls_echo_server(exe: &Path, certs: &Certs) -> (Peer, u16) {
    const ATTEMPTS: usize = 5;
    for _ in 0..ATTEMPTS {
        let port = free_port();
        let mut server = Peer::spawn(
            "tls_echo_server",
            Command::new(exe)
                .args([&certs.chain_arg(), &certs.key_arg(), "127.0.0.1"])
                .arg(port.to_string()),
        );
        match server.try_stdout_line().await {
            Some(line) => {
                assert_eq!(line, format!("Serving on 127.0.0.1:{port}"));
                return (server, port);
            }
            // Somebody took the port between our probe and the server's bind.
            None if server
                .rest_of_stderr()
                .await
                .contains("address already in use") =>
            {
                continue;
            }
            None => panic!("tls_echo_server exited: {}", server.rest_of_stderr().await),
        }
    }
    panic!("no free port after {ATTEMPTS} attempts");
}

/// The three lines `tls_echo_server` prints for one `Hello World!` client, whose port is
/// `client_port` when we know it.
async fn expect_echo_lines(server: &mut Peer, client_port: Option<&str>) {
    let line = server.stdout_line().await;
    let port = line.rsplit_once(':').map_or("", |(_, p)| p);
    assert!(
        client_port.is_none_or(|p| p == port),
        "{line:?}, not from {client_port:?}"
    );
    assert!(port.parse::<u16>().is_ok(), "{line:?}");
    assert_eq!(
        line,
        format!("Received 'Hello World!' from 127.0.0.1:{port}")
    );
    assert_eq!(server.stdout_line().await, "Send: 'Hello World!'");
    assert_eq!(server.stdout_line().await, "Close the connection");
}

// (e) The tls_echo_server example against the tls_echo_client example (with and without
// SERVER_NAME: the certificate names `localhost` and `127.0.0.1`) and against CPython's
// asyncio TLS client; a client trusting another CA fails; Ctrl-C ends the server cleanly.
#[tokio::test]
async fn tls_echo_examples_talk_to_each_other_and_to_cpython() {
    let server_exe = example("tls_echo_server").await;
    let client_exe = example("tls_echo_client").await;
    let certs = Certs::new();
    bounded(async {
        let (mut server, port) = start_tls_echo_server(&server_exe, &certs).await;
        let port = port.to_string();
        for name in [Some("localhost"), None] {
            let mut client = Command::new(&client_exe);
            client
                .args([&certs.ca_arg(), "127.0.0.1", &port])
                .args(name);
            let out = run(&mut client).await;
            assert_eq!(
                success_stdout("tls_echo_client", &out),
                "Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the connection\n"
            );
            expect_echo_lines(&mut server, None).await;
        }

        let out = run(python().arg(tls_peers()).args([
            "hello-client",
            &certs.ca_arg(),
            &port,
            "localhost",
        ]))
        .await;
        let stdout = success_stdout("the CPython TLS client", &out);
        let (echoed, client_port) = stdout.split_once('\n').expect("two lines");
        assert_eq!(echoed, "Hello World!");
        expect_echo_lines(&mut server, Some(client_port.trim())).await;

        let out =
            run(Command::new(&client_exe).args([&certs.other_ca_arg(), "127.0.0.1", &port])).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
        assert!(
            stderr.contains("certificate verify failed"),
            "stderr: {stderr}"
        );

        server.interrupt();
        let status = server.wait().await;
        assert!(
            status.success(),
            "after SIGINT: {status}; stderr:\n{}",
            server.rest_of_stderr().await
        );
        assert_eq!(
            server.try_stdout_line().await,
            None,
            "nothing more after SIGINT"
        );
    })
    .await;
}

/// One client of the concurrency test: its own data through and back, every byte checked.
async fn one_echo_client(config: Arc<ClientConfig>, port: u16, seed: u64, n: usize) {
    let data = generate(n, seed);
    let (mut reader, writer) = connect(config, port).await;
    echo_round_trip(&mut reader, &writer, &data).await;
    writer.close();
    writer.wait_closed().await.expect("wait_closed");
}

// (f) 200 TLS connections at once, our client and our server, 4 KiB each way per
// connection, every byte checked on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_tls_echo_connections() {
    const CLIENTS: u64 = 200;
    const N: usize = 4096;
    let certs = Certs::new();
    bounded(async {
        let (server, port, mut reports) = our_echo_server(&certs).await;
        let config = certs.client_config();
        let clients: Vec<_> = (1..=CLIENTS)
            .map(|seed| tokio::spawn(one_echo_client(config.clone(), port, seed, N)))
            .collect();
        for client in clients {
            client.await.expect("a client task");
        }
        let mut expected: HashSet<Vec<u8>> = (1..=CLIENTS).map(|seed| generate(N, seed)).collect();
        for _ in 1..=CLIENTS {
            let Report { received, .. } = reports.recv().await.expect("a server report");
            assert!(
                expected.remove(&received),
                "the server received bytes no client sent"
            );
        }
        server.close();
    })
    .await;
}
