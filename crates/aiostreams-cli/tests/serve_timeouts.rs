//! `serve --read-timeout / --write-timeout / --idle-timeout / --handshake-timeout`:
//! each close is one log line and counted in the shutdown summary. The timeouts are the
//! server's own (half a second); the tests wait for the close itself, not for a time.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::support::certs::Certs;
use crate::support::{LIMIT, Served};

/// A client of `served`; every read gives up after [`LIMIT`].
fn client(served: &Served) -> TcpStream {
    let stream = TcpStream::connect(&served.addr).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream
}

/// Reads until the server closes (EOF or a reset); what arrived.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("read: {e}"),
        }
    }
}

// An idle client is closed after --idle-timeout (waiting for a first byte is idle time,
// not read time); a half line is cut by --read-timeout (slowloris) after a full line
// was answered.
#[test]
fn idle_and_read_timeouts_close_and_log_one_line_each() {
    let args = ["--port", "0", "--mode", "lines", "--idle-timeout", "0.5"];
    let mut served = Served::start(&[&args[..], &["--read-timeout", "0.3"]].concat());
    let mut idle = client(&served);
    assert_eq!(read_until_closed(&mut idle), b"");
    let logged = served.log().wait_for("idle timed out after 500ms: closed");
    assert!(
        logged.contains("INFO") && logged.contains("peer="),
        "{logged}"
    );

    let mut slow = client(&served);
    slow.write_all(b"whole\nhal").unwrap();
    assert_eq!(read_until_closed(&mut slow), b"whole\n");
    served.log().wait_for("read timed out after 300ms: closed");
    served.assert_summary_mentions(&["2 by a timeout", "0 closed by an error"]);
}

// A client that never reads the echo of what it sends: the server's queue stops moving
// and --write-timeout closes the connection.
#[test]
fn write_timeout_closes_a_client_that_does_not_read() {
    let mut served = Served::start(&["--port", "0", "--write-timeout", "0.5"]);
    let mut hog = client(&served);
    let chunk = vec![b'w'; 1 << 20];
    // Our writes fail once the server has given up on us (or the kernel is full on both
    // sides, in which case the server's write timeout ends it just the same).
    hog.set_write_timeout(Some(LIMIT)).unwrap();
    while hog.write_all(&chunk).is_ok() {}
    served.log().wait_for("write timed out after 500ms: closed");
    served.assert_summary_mentions(&["1 by a timeout"]);
}

// A TLS client that never sends its ClientHello is dropped at --handshake-timeout, with
// one line (asyncio's default would hold it, and its --max-connections slot, 60 s).
#[test]
fn handshake_timeout_drops_a_silent_tls_client() {
    let certs = Certs::new();
    let args = [
        "--port",
        "0",
        "--max-connections",
        "1",
        "--handshake-timeout",
        "0.5",
    ];
    let mut served = Served::start(&[&args[..], &certs.serve_args()[..]].concat());
    let mut silent = client(&served);
    assert_eq!(read_until_closed(&mut silent), b"");
    let logged = served.log().wait_for("TLS handshake closed");
    assert!(
        logged.contains("taking longer than 0.5 seconds"),
        "{logged}"
    );
}
