//! Interoperability with a real CPython asyncio streams server
//! (`tests/support/asyncio_echo_server.py`): 8 MiB in each direction with every byte
//! checked, and a half-close the Python side observes and answers.
//!
//! Each test starts its own server on 127.0.0.1 port 0; a guard kills it when the test
//! ends, and every test runs under a timeout.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use aiostreams::{Error, StreamReader, StreamWriter, open_connection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::bounded_test;
use crate::support::{
    bounded_for,
    payload::{generate, receive_and_check, send_all},
};

/// The payload size of the large transfers.
const BIG: usize = 8 << 20;

/// Upper bound for any one test (debug builds, a shared CI machine).
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The Python server process; killed when dropped, so it never outlives its test.
struct PythonServer {
    child: Child,
    port: u16,
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        // `kill_on_drop` reaps it too; killing here makes the intent explicit.
        let _ = self.child.start_kill();
    }
}

/// Starts the asyncio server in `mode` and waits for the port it prints.
async fn python_server(args: &[&str]) -> PythonServer {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/asyncio_echo_server.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args(args)
        .stdin(Stdio::piped()) // the server exits when this pipe closes
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("these tests need python3 (3.8+) on PATH: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .expect("read the server's port");
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{} {args:?} printed {line:?}, not a port", script.display()));
    PythonServer { child, port }
}

async fn connect(server: &PythonServer) -> (StreamReader, StreamWriter) {
    open_connection("127.0.0.1", server.port)
        .await
        .expect("connect to the asyncio server")
}

/// A connection to the asyncio server in `source` mode, which sends `generate(BIG, seed)`
/// and closes; returns the server (kept running), our streams and the bytes to expect.
async fn download(seed: u64) -> (PythonServer, StreamReader, StreamWriter, Vec<u8>) {
    let server = python_server(&["source", &BIG.to_string(), &seed.to_string()]).await;
    let (reader, writer) = connect(&server).await;
    (server, reader, writer, generate(BIG, seed))
}

/// Sends `data` to the echo server while a spawned task reads the echo back; then
/// half-closes and expects the server's EOF after the last byte.
async fn echo_round_trip(data: Vec<u8>, piece: usize) {
    let server = python_server(&["echo"]).await;
    let (mut reader, writer) = connect(&server).await;
    let data = std::sync::Arc::new(data);
    let expected = data.clone();
    let receiving = tokio::spawn(async move {
        receive_and_check(&mut reader, &expected, 100_000).await;
        assert_eq!(
            reader.read_to_eof().await.expect("EOF"),
            "",
            "bytes after the echo"
        );
        assert!(reader.at_eof());
    });
    send_all(&writer, &data, piece).await;
    writer.write_eof();
    receiving.await.expect("reader task");
    writer.close();
    writer.wait_closed().await.expect("clean close");
}

#[tokio::test]
async fn echo_8mib_64kib_pieces_every_byte_back() {
    bounded_for(TEST_TIMEOUT, echo_round_trip(generate(BIG, 1), 64 * 1024)).await;
}

// Odd piece sizes: the queue coalesces some and sends others whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_8mib_odd_pieces_multi_thread_every_byte_back() {
    bounded_for(
        TEST_TIMEOUT,
        echo_round_trip(generate(BIG, 2), 8 * 1024 + 7),
    )
    .await;
}

// writelines and write_bytes reach the Python side in order, interleaved with write.
#[bounded_test(limit = TEST_TIMEOUT)]
async fn echo_mixed_write_apis_in_order() {
    let server = python_server(&["echo"]).await;
    let (mut reader, writer) = connect(&server).await;
    let data = generate(1 << 20, 3);
    let mut sent = Vec::new();
    for (i, chunk) in data.chunks(40_000).enumerate() {
        let (a, b) = chunk.split_at(chunk.len() / 3);
        match i % 3 {
            0 => writer.write(chunk).expect("write"),
            1 => writer.writelines([a, b, &[][..]]).expect("writelines"),
            _ => writer
                .write_bytes(bytes::Bytes::copy_from_slice(chunk))
                .expect("write_bytes"),
        }
        sent.extend_from_slice(chunk);
        writer.drain().await.expect("drain");
    }
    writer.write_eof();
    receive_and_check(&mut reader, &sent, 100_000).await;
    assert_eq!(reader.read_to_eof().await.expect("EOF"), "");
}

/// The sink's answer line: `<count> <sha256> eof=<True|False>`.
fn expected_report(data: &[u8]) -> String {
    format!("{} {} eof=True\n", data.len(), hex(&sha256(data)))
}

/// We write, then `write_eof()`: the Python side sees EOF, and we read its answer after.
async fn half_close(data: Vec<u8>) {
    let server = python_server(&["sink-report"]).await;
    let (mut reader, writer) = connect(&server).await;
    send_all(&writer, &data, 64 * 1024).await;
    assert!(writer.can_write_eof());
    writer.write_eof();
    assert!(!writer.is_closing(), "write_eof() must not close");
    assert!(matches!(writer.write(b"x"), Err(Error::InvalidState(_))));
    let line = reader.readline().await.expect("the report line");
    assert_eq!(line, expected_report(&data).as_bytes());
    assert_eq!(reader.read_to_eof().await.expect("EOF"), "");
    writer.close();
    writer.wait_closed().await.expect("clean close");
}

#[tokio::test]
async fn half_close_8mib_python_sees_eof_and_answers() {
    bounded_for(TEST_TIMEOUT, half_close(generate(BIG, 4))).await;
}

// write_eof() with nothing written: the FIN alone reaches the peer.
#[tokio::test]
async fn half_close_empty_python_sees_eof_and_answers() {
    bounded_for(TEST_TIMEOUT, half_close(Vec::new())).await;
}

// write_eof() while 8 MiB are still queued: the flush task sends them, then the FIN.
#[bounded_test(limit = TEST_TIMEOUT)]
async fn half_close_with_8mib_undrained_sends_everything_first() {
    let data = generate(BIG, 8);
    let server = python_server(&["sink-report"]).await;
    let (mut reader, writer) = connect(&server).await;
    writer.write(&data).expect("write");
    writer.write_eof();
    let line = reader.readline().await.expect("the report line");
    assert_eq!(line, expected_report(&data).as_bytes());
}

#[bounded_test(limit = TEST_TIMEOUT)]
async fn download_8mib_read_to_eof() {
    let (_server, mut reader, _writer, expected) = download(5).await;
    let got = reader.read_to_eof().await.expect("read_to_eof");
    assert_eq!(got.len(), BIG);
    assert!(got == expected, "downloaded bytes differ");
    assert!(reader.at_eof());
}

#[bounded_test(limit = TEST_TIMEOUT)]
async fn download_8mib_one_readexactly() {
    let (_server, mut reader, _writer, expected) = download(6).await;
    let got = reader.readexactly(BIG).await.expect("readexactly");
    assert!(got == expected, "downloaded bytes differ");
    assert_eq!(reader.read(1).await.expect("EOF"), "");
}

// Pieces that do not divide the payload: the last one ends in IncompleteRead.
#[bounded_test(limit = TEST_TIMEOUT)]
async fn download_8mib_readexactly_pieces_then_incomplete_read() {
    const PIECE: usize = 1_000_003;
    let (_server, mut reader, _writer, expected) = download(7).await;
    let mut pieces = expected.chunks_exact(PIECE);
    for want in pieces.by_ref() {
        assert!(reader.readexactly(PIECE).await.expect("piece") == want);
    }
    match reader.readexactly(PIECE).await {
        Err(Error::IncompleteRead { partial, expected }) => {
            assert!(partial == pieces.remainder(), "partial differs");
            assert_eq!(expected, Some(PIECE));
        }
        other => panic!("expected IncompleteRead, got {other:?}"),
    }
    assert!(reader.at_eof());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (ring's, which rustls already uses), to check the Python side's digest.
fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().try_into().expect("32 bytes")
}

// The digest itself is checked against the standard's test vectors.
#[test]
fn sha256_matches_fips_180_vectors() {
    assert_eq!(
        hex(&sha256(b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex(&sha256(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
}

// The generator matches the script's (checked against a value printed by python3).
#[test]
fn generator_matches_the_script() {
    assert_eq!(hex(&generate(10, 0)), "41208240000000004114");
}
