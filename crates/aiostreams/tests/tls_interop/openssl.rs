//! (d): the `openssl s_server` and `s_client` tools against our client and server.

use super::*;

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
