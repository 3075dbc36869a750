//! The RESP servers of the bench, driven by a RESP client over loopback: the
//! `resp_server` example (`resp-serve --impl example`, the example's own source
//! compiled into the CLI) and its raw tokio twin (`--impl tokio`) must answer alike.
//! With `redis-cli` installed, it drives them too (SET/GET/INCR/DEL, a 1 MiB value,
//! `--pipe`, inline commands).
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{Served, run};

/// Every read of the tests' client gives up after this long.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

const IMPLS: [&str; 2] = ["example", "tokio"];

fn serve(imp: &str) -> Served {
    Served::start_subcommand("resp-serve", &["--impl", imp, "--port", "0"])
}

/// An answer, as the tests compare them.
#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
}

/// A blocking RESP client.
struct Client(BufReader<TcpStream>);

impl Client {
    fn connect(served: &Served) -> Client {
        let stream = TcpStream::connect(&served.addr).expect("connect");
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        Client(BufReader::new(stream))
    }

    fn send(&mut self, bytes: &[u8]) {
        self.0.get_mut().write_all(bytes).expect("send");
    }

    /// Sends one command as a RESP array.
    fn command(&mut self, args: &[&[u8]]) -> Reply {
        self.send(&encode(args));
        self.reply()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.0.read_line(&mut line).expect("read a line");
        line.strip_suffix("\r\n")
            .unwrap_or_else(|| panic!("not a CRLF line: {line:?}"))
            .to_owned()
    }

    fn reply(&mut self) -> Reply {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Reply::Simple(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Integer(rest.parse().unwrap()),
            "$" if rest == "-1" => Reply::Bulk(None),
            "$" => {
                let mut payload = vec![0; rest.parse::<usize>().unwrap() + 2];
                self.0.read_exact(&mut payload).expect("read a payload");
                assert!(payload.ends_with(b"\r\n"), "payload without CRLF");
                payload.truncate(payload.len() - 2);
                Reply::Bulk(Some(payload))
            }
            _ => panic!("unexpected reply line {line:?}"),
        }
    }

    /// True when the server closed the connection (EOF).
    fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.0.read_to_end(&mut rest).expect("read to EOF");
        rest.is_empty()
    }
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn bulk(value: &[u8]) -> Reply {
    Reply::Bulk(Some(value.to_vec()))
}

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

#[test]
fn the_six_commands_answer_as_redis() {
    for imp in IMPLS {
        let served = serve(imp);
        let mut c = Client::connect(&served);
        assert_eq!(c.command(&[b"PING"]), Reply::Simple("PONG".into()), "{imp}");
        assert_eq!(c.command(&[b"ping", b"hi"]), bulk(b"hi"));
        assert_eq!(c.command(&[b"ECHO", b"a b\r\nc"]), bulk(b"a b\r\nc"));
        assert_eq!(c.command(&[b"GET", b"k"]), Reply::Bulk(None));
        assert_eq!(c.command(&[b"SET", b"k", b""]), ok());
        assert_eq!(c.command(&[b"GET", b"k"]), bulk(b""));
        assert_eq!(c.command(&[b"INCR", b"n"]), Reply::Integer(1));
        assert_eq!(c.command(&[b"incr", b"n"]), Reply::Integer(2));
        let not_a_number = c.command(&[b"INCR", b"k"]);
        let expected = "ERR value is not an integer or out of range";
        assert_eq!(not_a_number, Reply::Error(expected.into()));
        assert_eq!(c.command(&[b"DEL", b"k", b"n", b"none"]), Reply::Integer(2));
        assert_eq!(c.command(&[b"GET", b"n"]), Reply::Bulk(None));
        let arity = "ERR wrong number of arguments for 'get' command";
        assert_eq!(c.command(&[b"GET"]), Reply::Error(arity.into()));
        let unknown = "ERR unknown command 'FLUSHALL'";
        assert_eq!(c.command(&[b"FLUSHALL"]), Reply::Error(unknown.into()));
        // Still serving after the errors.
        assert_eq!(c.command(&[b"PING"]), Reply::Simple("PONG".into()));
    }
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    for imp in IMPLS {
        let served = serve(imp);
        let mut c = Client::connect(&served);
        let mut batch = Vec::new();
        for i in 0..500 {
            let value = format!("v{i}");
            batch.extend(encode(&[b"SET", b"key", value.as_bytes()]));
            batch.extend(encode(&[b"GET", b"key"]));
            batch.extend(encode(&[b"INCR", b"count"]));
        }
        c.send(&batch);
        for i in 0..500 {
            assert_eq!(c.reply(), ok(), "{imp}");
            assert_eq!(c.reply(), bulk(format!("v{i}").as_bytes()));
            assert_eq!(c.reply(), Reply::Integer(i + 1));
        }
    }
}

#[test]
fn inline_commands_and_bare_newlines() {
    for imp in IMPLS {
        let served = serve(imp);
        let mut c = Client::connect(&served);
        c.send(b"PING\r\nSET  greeting   hello\r\nGET greeting\nECHO x\r\n\r\nINCR n\r\n");
        assert_eq!(c.reply(), Reply::Simple("PONG".into()), "{imp}");
        assert_eq!(c.reply(), ok());
        assert_eq!(c.reply(), bulk(b"hello"));
        assert_eq!(c.reply(), bulk(b"x"));
        // The empty line gets no answer, as in Redis.
        assert_eq!(c.reply(), Reply::Integer(1));
    }
}

#[test]
fn a_one_mib_value_round_trips_across_connections() {
    let value: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    for imp in IMPLS {
        let served = serve(imp);
        let mut writer = Client::connect(&served);
        // Sent in pieces, so the payload arrives in many reads.
        let request = encode(&[b"SET", b"big", &value]);
        for piece in request.chunks(7_777) {
            writer.send(piece);
        }
        assert_eq!(writer.reply(), ok(), "{imp}");
        let mut reader = Client::connect(&served);
        assert_eq!(reader.command(&[b"GET", b"big"]), bulk(&value), "{imp}");
    }
}

#[test]
fn commands_cut_anywhere_are_answered_whole() {
    // The example parses whole buffered commands in place and waits (`peek`) for the
    // rest of a cut one: pieces of 1 to 7 bytes cut every header, payload and CRLF, and
    // a 40 KiB value (under the reader's 64 KiB limit) arrives in 1,000-byte pieces.
    let value: Vec<u8> = (0..40 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut batch = Vec::new();
    for i in 0..20 {
        batch.extend(encode(&[b"SET", b"k", format!("v{i}").as_bytes()]));
        batch.extend(encode(&[b"GET", b"k"]));
    }
    batch.extend_from_slice(b"PING\r\nECHO  cut\r\n");
    for imp in IMPLS {
        let served = serve(imp);
        let mut c = Client::connect(&served);
        c.0.get_ref().set_nodelay(true).unwrap();
        let mut rest = &batch[..];
        for size in (1..=7).cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, after) = rest.split_at(size.min(rest.len()));
            c.send(piece);
            rest = after;
        }
        for i in 0..20 {
            assert_eq!(c.reply(), ok(), "{imp}");
            assert_eq!(c.reply(), bulk(format!("v{i}").as_bytes()), "{imp}");
        }
        assert_eq!(c.reply(), Reply::Simple("PONG".into()), "{imp}");
        assert_eq!(c.reply(), bulk(b"cut"), "{imp}");
        for piece in encode(&[b"SET", b"mid", &value]).chunks(1_000) {
            c.send(piece);
        }
        assert_eq!(c.reply(), ok(), "{imp}");
        assert_eq!(c.command(&[b"GET", b"mid"]), bulk(&value), "{imp}");
    }
}

#[test]
fn protocol_errors_are_answered_then_the_connection_closes() {
    let cases: [&[u8]; 4] = [
        b"*1\r\n$x\r\n",                 // not a length
        b"*1\r\n+GET\r\n",               // not a bulk string
        b"*2\r\n$3\r\nGETxx$1\r\nk\r\n", // payload without its CRLF
        b"*1\r\n$999999999999\r\n",      // above the 512 MiB cap: refused before allocating
    ];
    for imp in IMPLS {
        let served = serve(imp);
        for case in cases {
            let mut c = Client::connect(&served);
            c.send(case);
            match c.reply() {
                Reply::Error(e) => assert!(e.starts_with("ERR Protocol error"), "{imp}: {e}"),
                other => panic!("{imp}: {case:?} got {other:?}"),
            }
            assert!(c.closed(), "{imp}: still open after {case:?}");
        }
        // The commands before the bad one, in the same read, are answered first.
        let mut c = Client::connect(&served);
        c.send(b"PING\r\n*1\r\n$1\r\nx\r\n*1\r\n$x\r\n");
        assert_eq!(c.reply(), Reply::Simple("PONG".into()), "{imp}");
        assert!(matches!(c.reply(), Reply::Error(e) if e.starts_with("ERR unknown command")));
        assert!(matches!(c.reply(), Reply::Error(e) if e.starts_with("ERR Protocol error")));
        assert!(c.closed(), "{imp}: still open after a protocol error");
    }
}

/// redis-cli, when installed (the tests pass without it; CI has no Redis).
fn redis_cli() -> Option<Command> {
    let probe = Command::new("redis-cli")
        .arg("--version")
        .stdout(Stdio::null())
        .status();
    probe
        .is_ok_and(|s| s.success())
        .then(|| Command::new("redis-cli"))
}

fn cli(port: &str, args: &[&str], stdin: &[u8]) -> String {
    let mut cmd = redis_cli().unwrap();
    cmd.args(["-h", "127.0.0.1", "-p", port]).args(args);
    let out = run(cmd, stdin);
    assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_cli_works_against_both_servers() {
    if redis_cli().is_none() {
        eprintln!("redis-cli not installed: skipped");
        return;
    }
    let value: String = (0..1024 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    for imp in IMPLS {
        let served = serve(imp);
        let port = served.port();
        assert_eq!(cli(&port, &["SET", "a", "hello"], b""), "OK\n", "{imp}");
        assert_eq!(cli(&port, &["GET", "a"], b""), "hello\n");
        assert_eq!(cli(&port, &["INCR", "n"], b""), "1\n");
        assert_eq!(cli(&port, &["DEL", "a", "n"], b""), "2\n");
        assert_eq!(cli(&port, &["-x", "SET", "big"], value.as_bytes()), "OK\n");
        assert_eq!(cli(&port, &["GET", "big"], b""), format!("{value}\n"));
        // --pipe: a batch of array and inline commands; redis-cli counts the replies.
        let mut batch = Vec::new();
        for i in 0..1000 {
            batch.extend(encode(&[b"INCR", b"piped"]));
            batch.extend(format!("SET inline{i} {i}\r\n").into_bytes());
        }
        let piped = cli(&port, &["--pipe"], &batch);
        assert!(piped.contains("errors: 0, replies: 2000"), "{imp}: {piped}");
        assert_eq!(cli(&port, &["GET", "piped"], b""), "1000\n");
        assert_eq!(cli(&port, &["GET", "inline999"], b""), "999\n");
    }
}
