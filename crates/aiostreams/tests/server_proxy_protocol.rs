//! PROXY protocol v1 and v2 on accept (`ServerOptions::proxy_protocol`): headers written
//! by hand as HAProxy sends them (TCP4, TCP6, UNKNOWN, LOCAL, TLVs), the client address
//! becoming `peername()`, malformed, truncated and slow headers refused before the
//! callback runs, the optional mode, and TLS after the header.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aiostreams::{Error, ProxyProtocol, Server, ServerOptions, StreamReader, StreamWriter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::bounded;
use crate::support::bounded_test;
use crate::support::log_capture::Logs;
use crate::support::net::serve_loopback;

/// A v2 header (signature, version 2 + `command`, `fam`, length, `body`).
fn v2(command: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.extend_from_slice(&[0x20 | command, fam]);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A server answering each connection with `peer proxy destination` and the first line
/// it reads; `served` counts callbacks that ran.
async fn whoami(options: ServerOptions) -> (Server, u16, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let handler = move |mut reader: StreamReader, writer: StreamWriter| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let show = |a: Option<String>| a.unwrap_or_else(|| "-".into());
            let peer = show(writer.peername().map(|a| a.to_string()));
            let proxy = show(writer.proxy_peername().map(|a| a.to_string()));
            let header = writer.transport().proxy_header();
            let dst = show(header.and_then(|h| h.destination).map(|a| a.to_string()));
            let line = reader.readline().await?;
            let line = String::from_utf8_lossy(&line);
            writer.write(format!("{peer} {proxy} {dst} {line}").as_bytes())?;
            writer.drain().await
        }
    };
    let (server, port) = serve_loopback(options, handler).await;
    (server, port, served)
}

/// Sends `bytes` on a new connection and returns the whole answer.
async fn exchange(port: u16, bytes: &[u8]) -> (String, SocketAddr) {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let me = conn.local_addr().unwrap();
    conn.write_all(bytes).await.unwrap();
    conn.shutdown().await.unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer).await; // a refused header may reset
    (answer, me)
}

/// Sends `bytes` as in [`exchange`] and checks the answer: `expected`, with `{me}` standing
/// for the client's own address.
async fn assert_answer(port: u16, bytes: &[u8], expected: &str) {
    let (answer, me) = exchange(port, bytes).await;
    assert_eq!(answer, expected.replace("{me}", &me.to_string()));
}

fn required() -> ServerOptions {
    ServerOptions::new().proxy_protocol(ProxyProtocol::Required)
}

#[bounded_test]
async fn version_1_headers_set_the_peer_name() {
    let (_server, port, _) = whoami(required()).await;
    let wire = b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\nhello\n";
    assert_answer(port, wire, "203.0.113.7:51000 {me} 192.0.2.1:443 hello\n").await;
    assert_answer(
        port,
        b"PROXY TCP6 2001:db8::7 ::1 1 2\r\nsix\n",
        "[2001:db8::7]:1 {me} [::1]:2 six\n",
    )
    .await;
    // UNKNOWN: the socket's addresses stay.
    assert_answer(port, b"PROXY UNKNOWN whatever\r\nu\n", "{me} {me} - u\n").await;
}

#[bounded_test]
async fn version_2_headers_set_the_peer_name_and_skip_tlvs() {
    let (_server, port, _) = whoami(required()).await;
    let inet = [
        &[10, 1, 2, 3, 10, 0, 0, 1][..],
        &4000u16.to_be_bytes(),
        &443u16.to_be_bytes(),
    ]
    .concat();
    let tlvs = [0x04, 0x00, 0x02, b'n', b'o', 0x05, 0x00, 0x01, 0xff]; // NOOP, UNIQUE_ID
    let header = v2(1, 0x11, &[inet, tlvs.to_vec()].concat());
    assert_answer(
        port,
        &[header, b"v2\n".to_vec()].concat(),
        "10.1.2.3:4000 {me} 10.0.0.1:443 v2\n",
    )
    .await;

    let mut inet6 = vec![0; 32];
    inet6[15] = 1; // ::1
    inet6[16..18].copy_from_slice(&[0x20, 0x01]);
    inet6.extend_from_slice(&[0, 7, 0, 8]);
    assert_answer(
        port,
        &[v2(1, 0x21, &inet6), b"six\n".to_vec()].concat(),
        "[::1]:7 {me} [2001::]:8 six\n",
    )
    .await;

    // LOCAL (a proxy's health check): the socket's addresses stay.
    assert_answer(
        port,
        &[v2(0, 0x00, &[]), b"hc\n".to_vec()].concat(),
        "{me} {me} - hc\n",
    )
    .await;
}

// A header that arrives a byte at a time (and its data right behind it) is read whole,
// and not a byte of the data is taken with it.
#[bounded_test]
async fn a_header_in_pieces_is_read_exactly() {
    let (_server, port, _) = whoami(required()).await;
    for wire in [
        b"PROXY TCP4 1.2.3.4 5.6.7.8 9 10\r\nx\n".to_vec(),
        [
            v2(1, 0x11, &[1, 2, 3, 4, 5, 6, 7, 8, 0, 9, 0, 10]),
            b"x\n".to_vec(),
        ]
        .concat(),
    ] {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let me = conn.local_addr().unwrap();
        for byte in &wire {
            conn.write_all(&[*byte]).await.unwrap();
            tokio::task::yield_now().await;
        }
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer, format!("1.2.3.4:9 {me} 5.6.7.8:10 x\n"));
    }
}

// Garbage, a plain client, malformed and truncated headers: the connection is closed
// before the callback runs, with a debug line saying why; the server goes on.
#[tokio::test]
async fn bad_headers_are_refused_before_the_callback() {
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let (_server, port, served) = whoami(required()).await;
        let cases: [(&[u8], &str); 5] = [
            (b"GET / HTTP/1.1\r\n\r\n", "no PROXY protocol header"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\nx\n", "bad port"),
            (b"PROXY TCP4 1.2.3.4\n", "not ended by CRLF"),
            (
                &[
                    b'P', b'R', b'O', b'X', b'Y', b' ', b'U', b'N', b'K', b'N', b'O', b'W', b'N',
                    b' ',
                ]
                .repeat(9),
                "longer than 107 bytes",
            ),
            (b"PROXY TCP4 1.2.", "closed inside the PROXY header"),
        ];
        for (wire, why) in cases {
            let mut conn = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            conn.write_all(wire).await.unwrap();
            conn.shutdown().await.unwrap();
            let mut answer = Vec::new();
            let _ = conn.read_to_end(&mut answer).await;
            assert!(answer.is_empty(), "{why}");
            logs.wait_for(why).await;
        }
        let truncated = &v2(1, 0x11, &[0; 12])[..20];
        let (answer, _) = exchange(port, &[truncated, b"\r\n".as_slice()].concat()).await;
        assert!(answer.is_empty());
        logs.wait_for("PROXY protocol header refused").await;
        assert_eq!(served.load(Ordering::SeqCst), 0);
        let (answer, _) = exchange(port, b"PROXY UNKNOWN\r\nstill serving\n").await;
        assert!(answer.ends_with("still serving\n"), "{answer}");
    })
    .await;
}

// A client that sends part of a header and waits is closed when the header timeout
// expires (tokio's paused clock: no real waiting).
#[tokio::test(start_paused = true)]
async fn a_slow_header_is_closed_at_the_timeout() {
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let options = required().proxy_header_timeout(Duration::from_secs(3));
        let (_server, port, served) = whoami(options).await;
        let mut conn = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        conn.write_all(b"PROXY TCP4 1.2").await.unwrap();
        let start = tokio::time::Instant::now();
        let mut answer = Vec::new();
        let _ = conn.read_to_end(&mut answer).await;
        assert!(start.elapsed() >= Duration::from_secs(3));
        assert!(answer.is_empty());
        logs.wait_for("reading the PROXY protocol header timed out after 3s")
            .await;
        assert_eq!(served.load(Ordering::SeqCst), 0);
    })
    .await;
}

// Optional: clients with and without a header are both served; bytes that only start
// like a signature are kept for the callback, also when the client stops there (the
// header timeout then says "no header"; paused clock).
#[bounded_test(start_paused = true)]
async fn optional_headers() {
    let options = ServerOptions::new()
        .proxy_protocol(ProxyProtocol::Optional)
        .proxy_header_timeout(Duration::from_secs(1));
    let (_server, port, _) = whoami(options).await;
    assert_answer(port, b"plain\n", "{me} - - plain\n").await;
    assert_answer(
        port,
        b"PROXY TCP4 1.2.3.4 5.6.7.8 9 10\r\nproxied\n",
        "1.2.3.4:9 {me} 5.6.7.8:10 proxied\n",
    )
    .await;
    // "\r\n" starts like the v2 signature, "PRO" like v1: kept, not taken.
    let mut conn = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let me = conn.local_addr().unwrap();
    conn.write_all(b"PRO").await.unwrap();
    tokio::task::yield_now().await;
    conn.write_all(b"PFIND /\n").await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert_eq!(answer, format!("{me} - - PROPFIND /\n"));
    assert_answer(port, b"\r\n", "{me} - - \r\n").await;
}

// TLS after the header, as HAProxy's `send-proxy` in front of a TLS server: the header
// is plaintext, then the TLS handshake.
#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_after_the_header() {
    use crate::support::certs::{Kind, Pki};
    bounded(async {
        let pki = Pki::new();
        let config = pki.server_cert(Kind::Good).server_config(&pki.dir);
        let (_server, port, _) = whoami(required().ssl(config)).await;
        let sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        std::io::Write::write_all(&mut &sock, b"PROXY TCP4 198.51.100.9 192.0.2.1 7 443\r\n")
            .unwrap();
        let me = sock.local_addr().unwrap();
        let (mut reader, writer) = aiostreams::ConnectOptions::new()
            .ssl_config(pki.client_config())
            .server_hostname("localhost")
            .connect_sock(sock)
            .await
            .unwrap();
        writer.write(b"secret\n").unwrap();
        let answer = reader.read_to_eof().await;
        assert_eq!(
            answer.unwrap(),
            format!("198.51.100.9:7 {me} 192.0.2.1:443 secret\n")
        );
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn unix_servers_refuse_the_option() {
    let dir = crate::support::temp::TempDir::new("proxy");
    let err = required()
        .start_unix_server(
            |_r: StreamReader, _w: StreamWriter| async {},
            dir.path().join("s"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(m) if m.contains("Unix")),
        "{err}"
    );
}
