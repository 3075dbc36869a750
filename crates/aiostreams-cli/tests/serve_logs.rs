//! `serve` logs to stderr: accept errors, over-long lines (answered, not a silent close),
//! handler errors, and a summary at shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};

use crate::support::{LIMIT, Served, aiostreams};

/// A client of `served`; every read gives up after [`LIMIT`].
fn client(served: &Served) -> TcpStream {
    let stream = TcpStream::connect(&served.addr).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream
}

/// Everything until EOF; a reset after the data (the server closed with our bytes
/// unread) ends it too.
fn read_to_end(stream: impl Read) -> String {
    read_until_end(stream, true)
}

/// Everything until EOF; a reset fails the test.
fn read_to_clean_eof(stream: impl Read) -> String {
    read_until_end(stream, false)
}

/// Everything until EOF, or (`reset_ends`) a reset.
fn read_until_end(mut stream: impl Read, reset_ends: bool) -> String {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if reset_ends && e.kind() == std::io::ErrorKind::ConnectionReset => break,
            // A signal to the test process (another test's child exiting) is no event.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("read after {} bytes: {e}", got.len()),
        }
    }
    String::from_utf8(got).unwrap()
}

// 25,000 clients killed for over-long lines left stderr empty: each one is a log line
// now, and the client gets an error line before the close.
#[test]
fn an_overlong_line_is_answered_logged_and_closed() {
    let mut served = Served::start(&["--port", "0", "--mode", "lines", "--limit", "16"]);
    let mut stream = client(&served);
    stream.write_all(b"short\n").unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "short\n");
    // The long line arrives in two pieces, neither over the limit alone.
    stream.write_all(&[b'x'; 10]).unwrap();
    stream.write_all(&[b'y'; 10]).unwrap();
    assert_eq!(
        read_to_end(reader),
        "error: line over the limit of 16 bytes; closing\n"
    );
    let logged = served
        .log()
        .wait_for("line over the limit of 16 bytes: answered, closed");
    assert!(logged.contains("WARN"), "{logged}");
    assert!(logged.contains("peer="), "{logged}");
    served.assert_summary_mentions(&[
        "1 connections served",
        "1 closed by the line limit",
        "0 closed by an error",
    ]);
}

/// `http-hello`: a request head over the limit gets `431` and `Connection: close`.
#[test]
fn http_hello_answers_an_overlong_head_with_431() {
    let mut served = Served::start(&["--port", "0", "--mode", "http-hello", "--limit", "64"]);
    let mut stream = client(&served);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nX-Long: ").unwrap();
    stream.write_all(&[b'a'; 100]).unwrap();
    let answer = read_to_end(&mut stream);
    let (hello, too_large) = answer.split_at(answer.find("HTTP/1.1 431").unwrap());
    assert!(hello.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    assert_eq!(
        too_large,
        "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    served
        .log()
        .wait_for("request head over the limit of 64 bytes: answered, closed");
}

/// Sends `start`, then 1 MiB without a newline, from another thread (the peer reads
/// meanwhile); stops at the first failed write.
fn send_endless(stream: &TcpStream, start: &'static [u8]) -> std::thread::JoinHandle<()> {
    let mut stream = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        if stream.write_all(start).is_err() {
            return;
        }
        for _ in 0..256 {
            if stream.write_all(&[b'x'; 4096]).is_err() {
                return;
            }
        }
    })
}

// An endless line still arriving when the server answers and closes: the client reads
// the whole answer and then EOF (the server lingers, reading and dropping), not a reset.
#[test]
fn an_endless_line_gets_its_answer_then_eof_not_a_reset() {
    for (mode, start, answer) in [
        (
            "lines",
            &b""[..],
            "error: line over the limit of 16 bytes; closing\n",
        ),
        (
            "http-hello",
            &b"GET / HTTP/1.1\r\nX-Long: "[..],
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ),
    ] {
        let served = Served::start(&["--port", "0", "--mode", mode, "--limit", "16"]);
        let stream = client(&served);
        let sender = send_endless(&stream, start);
        assert_eq!(read_to_clean_eof(&stream), answer, "{mode}");
        stream.shutdown(Shutdown::Both).unwrap();
        sender.join().unwrap();
    }
}

/// A handler that fails (a body cut short) is one ERROR line, counted in the summary.
#[test]
fn a_handler_error_is_logged_and_counted() {
    let mut served = Served::start(&["--port", "0", "--mode", "http-hello"]);
    let mut stream = client(&served);
    stream
        .write_all(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        .unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut stream), "");
    let logged = served
        .log()
        .wait_for("Unhandled exception in client_connected_cb");
    assert!(logged.contains("ERROR"), "{logged}");
    served.assert_summary_mentions(&["1 closed by an error", "0 aborted"]);
}

// fd exhaustion left stderr empty: with RLIMIT_NOFILE at 32 the accept loop runs out
// of descriptors, which is logged; once the clients leave, the server serves again.
#[test]
fn accept_out_of_descriptors_is_logged_and_survived() {
    let mut cmd = std::process::Command::new("sh");
    let exe = env!("CARGO_BIN_EXE_aiostreams");
    cmd.args(["-c", "ulimit -n 32 && exec \"$0\" serve --port 0", exe]);
    let mut served = Served::spawn(cmd);
    let clients: Vec<TcpStream> = (0..40).map(|_| client(&served)).collect();
    let logged = served
        .log()
        .wait_for("socket.accept() out of system resource");
    assert!(logged.contains("ERROR"), "{logged}");
    assert!(logged.contains("Too many open files"), "{logged}");
    drop(clients);
    // Served again: a fresh client's bytes come back (after the accept retry delay).
    let mut stream = client(&served);
    stream.write_all(b"still here\n").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut stream), "still here\n");
    served.stop_with_summary();
}

/// `--log-level` beats `RUST_LOG`; `off` silences even the summary.
#[test]
fn log_level_off_wins_over_rust_log() {
    let mut cmd = aiostreams();
    cmd.args(["--log-level", "off", "serve", "--port", "0"])
        .env("RUST_LOG", "trace");
    let served = Served::spawn(cmd);
    drop(client(&served));
    let (success, _, log) = served.terminate_logged();
    assert!(success);
    assert_eq!(log, Vec::<String>::new());
}

/// `RUST_LOG` picks the level when `--log-level` is not given.
#[test]
fn rust_log_sets_the_level() {
    let mut cmd = aiostreams();
    cmd.args(["serve", "--port", "0"]).env("RUST_LOG", "warn");
    let served = Served::spawn(cmd);
    let (success, _, log) = served.terminate_logged();
    assert!(success);
    assert!(log.iter().all(|l| !l.contains("shutdown: ")), "{log:#?}");
}
// `--on-overlong skip` (the library's DiscardToSeparator): a good line, an over-long
// line sent in pieces (one piece alone short enough to pass for a line), then a good
// line: the answers come in order, the over-long one as one error line where its echo
// would be, and no fragment of it comes back.
#[test]
fn skip_goes_on_with_the_line_after_an_overlong_one() {
    let args = ["--port", "0", "--mode", "lines", "--limit", "16"];
    let mut served = Served::start(&[&args[..], &["--on-overlong", "skip"]].concat());
    let mut stream = client(&served);
    let reader = BufReader::new(stream.try_clone().unwrap());
    stream
        .write_all(
            b"first
",
        )
        .unwrap();
    stream.write_all(&[b'x'; 10]).unwrap();
    stream.write_all(&[b'y'; 10]).unwrap();
    stream.write_all(&[b'z'; 5]).unwrap();
    stream.write_all(b"\nnext\n").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(
        read_to_end(reader),
        "first\nerror: line over the limit of 16 bytes; skipped\nnext\n"
    );
    served
        .log()
        .wait_for("line over the limit of 16 bytes: answered, skipped");
    served.assert_summary_mentions(&["1 over-long lines skipped", "0 closed by the line limit"]);
}

// An over-long line that never ends is dropped as it arrives under `skip`: 4 MiB with no
// newline then a good line; the server's answer is the error line and the good line.
#[test]
fn skip_drops_an_endless_line_and_answers_when_it_ends() {
    let args = ["--port", "0", "--mode", "lines", "--limit", "1024"];
    let served = Served::start(&[&args[..], &["--on-overlong", "skip"]].concat());
    let mut stream = client(&served);
    let reader = BufReader::new(stream.try_clone().unwrap());
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            stream.write_all(&chunk).unwrap();
        }
        stream.write_all(b"\nok\n").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
    });
    assert_eq!(
        read_to_end(reader),
        "error: line over the limit of 1024 bytes; skipped\nok\n"
    );
    writer.join().unwrap();
    assert!(served.terminate_logged().0);
}

// `--stats SECS` logs the server's counters periodically: after one echo of 6 bytes, a
// line with 1 accepted and the bytes of both directions.
#[test]
fn stats_logs_the_server_counters_periodically() {
    let mut served = Served::start(&["--port", "0", "--stats", "0.05"]);
    let mut stream = client(&served);
    stream.write_all(b"hello\n").unwrap();
    let mut answer = [0; 6];
    stream.read_exact(&mut answer).unwrap();
    let line = served.log().wait_for("stats: 1 accepted, 1 active");
    assert!(
        line.contains("closed by timeout 0, by limit 0, by error 0"),
        "{line}"
    );
    let line = served.log().wait_for("6 bytes in, 6 bytes out");
    assert!(line.contains("INFO"), "{line}");
    drop(stream);
    assert!(served.terminate_logged().0);
}
