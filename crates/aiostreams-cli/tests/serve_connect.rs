//! `serve` and `connect` together: bytes make the round trip, SIGTERM shuts down cleanly.

use crate::support::{Served, aiostreams, run_ok, temp::TempPath};

/// Enough bytes to need several reads and writes on both sides.
fn payload() -> Vec<u8> {
    (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

#[test]
fn tcp_echo_round_trip_then_sigterm() {
    let served = Served::start(&["--port", "0", "--mode", "echo"]);
    let mut connect = aiostreams();
    connect.args(["connect", "127.0.0.1", &served.port()]);
    assert!(
        run_ok(connect, &payload()) == payload(),
        "echoed bytes differ"
    );
    served.assert_clean_shutdown(0);
}

#[test]
fn unix_lines_round_trip_then_sigterm() {
    let socket = TempPath::new("lines");
    let path = socket.to_str().unwrap();
    let served = Served::start(&["--unix", path, "--mode", "lines"]);
    assert_eq!(served.addr, path);
    let mut connect = aiostreams();
    connect.args(["connect", "--unix", path]);
    let lines = b"first line\nsecond line\nno newline at the end";
    assert_eq!(run_ok(connect, lines), lines);
    served.assert_clean_shutdown(0);
    assert!(
        !std::path::Path::new(path).exists(),
        "the socket file was left behind"
    );
}

/// A client still connected at SIGTERM is closed gracefully, and sees EOF.
#[test]
fn sigterm_ends_an_idle_client_gracefully() {
    let served = Served::start(&["--port", "0"]);
    let mut client = aiostreams()
        .args(["connect", "127.0.0.1", &served.port()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // One echoed line proves the server has the client.
    let mut stdin = client.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(client.stdout.take().unwrap());
    std::io::Write::write_all(&mut stdin, b"ping\n").unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert_eq!(line, "ping\n");
    served.assert_clean_shutdown(1);
    drop(stdin);
    let output = crate::support::wait(client);
    assert!(output.status.success(), "connect failed: {output:?}");
}
