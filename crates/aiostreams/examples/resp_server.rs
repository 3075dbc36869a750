//! A small Redis-protocol (RESP2) server on aiostreams: PING, ECHO, SET, GET, DEL, INCR.
//!
//! ```text
//! cargo run --release -p aiostreams --example resp_server -- 127.0.0.1 6380
//! redis-cli -p 6380 set greeting hello       # OK
//! redis-cli -p 6380 get greeting             # "hello"
//! printf 'PING\r\n' | nc 127.0.0.1 6380      # +PONG (an inline command)
//! ```
//!
//! Written the way the asyncio docs write a server, with nothing but the public API:
//! [`start_server`] with a callback per client, `readline()` for each RESP header line,
//! `readexactly(n + 2)` for a `$n` bulk payload and its CRLF, one `write()` per answer
//! and `drain()` after it. Commands come as RESP arrays (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`,
//! what every client library sends) or inline (`GET k\r\n`, what a person types into
//! telnet; words split on spaces, no quoting). A client may pipeline: send many commands
//! before reading any answer; the answers come back in order. The keys live in one map
//! shared by every connection.
//!
//! A protocol error (a malformed header, a declared size above [`MAX_BULK`] or
//! [`MAX_ARGS`], a payload without its CRLF, a line above the reader's 64 KiB limit) is
//! answered with `-ERR Protocol error: ...` and the connection is closed, as Redis does.
//! Serves until Ctrl-C (SIGINT).
//!
//! The bench (`aiostreams bench`, cells `resp-*`) compiles this file into the CLI and
//! runs [`run`] as it is.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use aiostreams::{Error, StreamReader, StreamWriter, start_server};
use bytes::Bytes;

/// The largest bulk payload accepted (Redis's default `proto-max-bulk-len`). The size a
/// client declares is checked before `readexactly` allocates room for it.
pub(crate) const MAX_BULK: usize = 512 * 1024 * 1024;

/// The most arguments one command may declare (Redis's limit too).
pub(crate) const MAX_ARGS: usize = 1024 * 1024;

/// The keyspace, shared by every connection.
pub(crate) type Db = Arc<Mutex<HashMap<Bytes, Bytes>>>;

/// A request the server cannot parse; it is answered, then the connection is closed.
#[derive(Debug)]
pub(crate) struct ProtocolError(pub(crate) &'static str);

/// One command read: its arguments, or what was wrong with it.
pub(crate) type Command = Result<Vec<Bytes>, ProtocolError>;

/// Reads one command; `None` at a clean EOF between commands.
async fn read_command(reader: &mut StreamReader) -> Result<Option<Command>, Error> {
    let line = reader.readline().await?;
    if line.is_empty() {
        return Ok(None);
    }
    let header = strip_newline(line)?;
    let Some(count) = header.strip_prefix(b"*") else {
        return Ok(Some(Ok(inline_args(&header))));
    };
    let count = match parse_int(count) {
        Some(n) if n <= MAX_ARGS as i64 => n.max(0) as usize,
        _ => return Ok(Some(Err(ProtocolError("invalid multibulk length")))),
    };
    // Not `with_capacity(count)`: the count is the client's word, not yet its bytes.
    let mut args = Vec::with_capacity(count.min(16));
    for _ in 0..count {
        match read_bulk(reader).await? {
            Ok(arg) => args.push(arg),
            Err(e) => return Ok(Some(Err(e))),
        }
    }
    Ok(Some(Ok(args)))
}

/// Reads one `$n\r\n` header and its payload, checking the CRLF after the payload.
async fn read_bulk(reader: &mut StreamReader) -> Result<Result<Bytes, ProtocolError>, Error> {
    let header = strip_newline(reader.readline().await?)?;
    let Some(len) = header.strip_prefix(b"$") else {
        return Ok(Err(ProtocolError("expected '$'")));
    };
    let len = match parse_int(len) {
        Some(n) if (0..=MAX_BULK as i64).contains(&n) => n as usize,
        _ => return Ok(Err(ProtocolError("invalid bulk length"))),
    };
    let mut payload = reader.readexactly(len + 2).await?;
    if !payload.ends_with(b"\r\n") {
        return Ok(Err(ProtocolError("bulk payload not followed by CRLF")));
    }
    payload.truncate(len);
    Ok(Ok(payload))
}

/// The line without its `\r\n` (or bare `\n`); a line cut short by EOF is an error.
fn strip_newline(mut line: Bytes) -> Result<Bytes, Error> {
    if !line.ends_with(b"\n") {
        return Err(Error::IncompleteRead {
            partial: line,
            expected: None,
        });
    }
    let newline = if line.ends_with(b"\r\n") { 2 } else { 1 };
    line.truncate(line.len() - newline);
    Ok(line)
}

/// An inline command's arguments: the words of the line.
pub(crate) fn inline_args(line: &[u8]) -> Vec<Bytes> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|word| !word.is_empty())
        .map(Bytes::copy_from_slice)
        .collect()
}

/// A decimal integer, as RESP and INCR spell it: an optional `-`, then digits.
pub(crate) fn parse_int(digits: &[u8]) -> Option<i64> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Runs one command against `db`, appending its RESP answer to `out`.
pub(crate) fn execute(db: &Db, args: &[Bytes], out: &mut Vec<u8>) {
    let Some(name) = args.first() else {
        return; // an empty inline line or `*0`: no answer, as Redis
    };
    let is = |command: &str| name.eq_ignore_ascii_case(command.as_bytes());
    let n = args.len();
    if is("PING") && n <= 2 {
        match args.get(1) {
            None => out.extend_from_slice(b"+PONG\r\n"),
            Some(message) => bulk(out, message),
        }
    } else if is("ECHO") && n == 2 {
        bulk(out, &args[1]);
    } else if is("SET") && n == 3 {
        // Owned copies: a `Bytes` from the reader may share, and so keep alive, the
        // larger buffer it was read into.
        let (key, value) = (Bytes::copy_from_slice(&args[1]), &args[2]);
        lock(db).insert(key, Bytes::copy_from_slice(value));
        out.extend_from_slice(b"+OK\r\n");
    } else if is("GET") && n == 2 {
        match lock(db).get(&args[1]) {
            Some(value) => bulk(out, value),
            None => out.extend_from_slice(b"$-1\r\n"),
        }
    } else if is("DEL") && n >= 2 {
        let mut db = lock(db);
        let removed = args[1..].iter().filter(|k| db.remove(*k).is_some()).count();
        integer(out, removed as i64);
    } else if is("INCR") && n == 2 {
        incr(db, &args[1], out);
    } else if ["PING", "ECHO", "SET", "GET", "DEL", "INCR"]
        .iter()
        .any(|c| is(c))
    {
        let name = String::from_utf8_lossy(name).to_lowercase();
        error(
            out,
            &format!("ERR wrong number of arguments for '{name}' command"),
        );
    } else {
        let name = String::from_utf8_lossy(name);
        error(out, &format!("ERR unknown command '{name}'"));
    }
}

/// INCR: the value parsed as a 64-bit integer (a missing key is 0), plus one.
fn incr(db: &Db, key: &Bytes, out: &mut Vec<u8>) {
    let mut db = lock(db);
    let now = db.get(key).map_or(Some(0), |value| parse_int(value));
    match now.and_then(|n| n.checked_add(1)) {
        Some(n) => {
            db.insert(Bytes::copy_from_slice(key), Bytes::from(n.to_string()));
            integer(out, n);
        }
        None => error(out, "ERR value is not an integer or out of range"),
    }
}

/// The map, even if a thread panicked while holding it (every update is one insert).
fn lock(db: &Db) -> std::sync::MutexGuard<'_, HashMap<Bytes, Bytes>> {
    db.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn bulk(out: &mut Vec<u8>, value: &[u8]) {
    let _ = write!(out, "${}\r\n", value.len());
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn integer(out: &mut Vec<u8>, n: i64) {
    let _ = write!(out, ":{n}\r\n");
}

fn error(out: &mut Vec<u8>, message: &str) {
    out.push(b'-');
    out.extend(
        message
            .bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// Serves one client: read a command, answer it, until EOF or a protocol error.
async fn serve_client(mut reader: StreamReader, writer: StreamWriter, db: Db) -> Result<(), Error> {
    let mut out = Vec::new();
    loop {
        let command = match read_command(&mut reader).await {
            Ok(Some(command)) => command,
            Ok(None) => break, // the client closed between commands
            Err(Error::LimitOverrun { .. }) => Err(ProtocolError("line too long")),
            Err(e) => return Err(e),
        };
        out.clear();
        let args = match command {
            Ok(args) => args,
            Err(ProtocolError(what)) => {
                error(&mut out, &format!("ERR Protocol error: {what}"));
                writer.write(&out)?;
                break;
            }
        };
        execute(&db, &args, &mut out);
        writer.write(&out)?;
        // Returns at once unless the client reads its answers slower than it sends.
        writer.drain().await?;
    }
    writer.close();
    writer.wait_closed().await
}

/// Starts the server on `host`:`port` (0: any free port), prints `Serving on ADDR`, and
/// serves until SIGINT.
///
/// # Errors
///
/// Resolution and bind errors; failing to listen for SIGINT.
pub(crate) async fn run(host: &str, port: u16) -> Result<(), Error> {
    // Listening before announcing the server: a SIGINT right after the announcement
    // then closes it instead of killing the process.
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let db = Db::default();
    let server = start_server(
        move |reader, writer| serve_client(reader, writer, db.clone()),
        host,
        port,
    )
    .await?;
    let addrs: Vec<String> = server.sockets().iter().map(|a| a.to_string()).collect();
    println!("Serving on {}", addrs.join(", "));
    tokio::select! {
        served = server.serve_forever() => served?,
        _ = sigint.recv() => {}
    }
    server.close();
    Ok(())
}

#[allow(
    dead_code,
    reason = "the bench compiles this file into the CLI, which has its own main"
)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port] = args.as_slice() else {
        eprintln!("usage: resp_server HOST PORT");
        return ExitCode::from(2);
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("resp_server: bad port {port:?}");
        return ExitCode::from(2);
    };
    match run(host, port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resp_server: {e}");
            ExitCode::FAILURE
        }
    }
}
