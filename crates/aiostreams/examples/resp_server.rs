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
//! [`start_server`] with a callback per client, one `write()` per batch of answers and
//! `drain()` after it. Commands come as RESP arrays (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`,
//! what every client library sends) or inline (`GET k\r\n`, what a person types into
//! telnet; words split on spaces, no quoting). A client may pipeline: send many commands
//! before reading any answer; the answers come back in order. The keys live in one map
//! shared by every connection.
//!
//! Two ways to read a command, both public API:
//! - **In place** ([`serve_client`]), for every command already buffered whole: the
//!   parser looks at `reader.buffer()`, the command runs on slices of it, and
//!   `consume(n)` drops it ("Parsing in place" in `StreamReader::buffer`'s docs). No
//!   `Bytes` is handed out, so no reference count is touched: a `SET` read with
//!   `readline`/`readexactly` takes seven `Bytes`, each an atomic increment and
//!   decrement. When the buffer holds only part of a command, `peek(n)` waits for the
//!   `n` bytes the parser asked for, without consuming any.
//! - **With the awaiting reads** ([`read_command`]), for a command larger than the
//!   reader's limit (a 1 MiB value, which `peek` cannot wait for) and at EOF:
//!   `readline()` for each RESP header line, `readexactly(n + 2)` for a `$n` bulk payload
//!   and its CRLF, with the declared size checked against [`MAX_BULK`] before
//!   `readexactly` reserves room for it.
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
use std::ops::Range;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use aiostreams::{Error, StreamReader, StreamWriter, start_server};
use bytes::Bytes;
use tokio::io::AsyncBufReadExt as _;

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

/// What the start of the buffer holds.
enum Parsed {
    /// A whole command of this many bytes; its arguments are the spans filled in.
    Command(usize),
    /// Part of a command: it needs at least this many bytes buffered.
    Partial(usize),
    /// A request the server cannot parse.
    Invalid(ProtocolError),
}

/// Parses the command at the start of `buffered` in place: the ranges of its arguments
/// go to `spans`. A line longer than `limit` is left to [`read_command`], whose
/// `readline` reports it as the other reads would.
fn parse_buffered(buffered: &[u8], limit: usize, spans: &mut Vec<Range<usize>>) -> Parsed {
    spans.clear();
    let (header, mut at) = match line_at(buffered, 0, limit) {
        Ok(line) => line,
        Err(partial) => return partial,
    };
    let Some(count) = buffered[header.clone()].strip_prefix(b"*") else {
        let line = &buffered[header.clone()];
        let words = line.split(|&b| b == b' ' || b == b'\t');
        let mut start = header.start;
        for word in words {
            if !word.is_empty() {
                spans.push(start..start + word.len());
            }
            start += word.len() + 1;
        }
        return Parsed::Command(at);
    };
    let count = match arg_count(count) {
        Ok(count) => count,
        Err(e) => return Parsed::Invalid(e),
    };
    for _ in 0..count {
        let (header, payload) = match line_at(buffered, at, limit) {
            Ok(line) => line,
            Err(partial) => return partial,
        };
        let len = match bulk_len(&buffered[header]) {
            Ok(len) => len,
            Err(e) => return Parsed::Invalid(e),
        };
        let end = payload + len;
        match buffered.get(end..end + 2) {
            None => return Parsed::Partial(end + 2),
            Some(b"\r\n") => {}
            Some(_) => return Parsed::Invalid(ProtocolError("bulk payload not followed by CRLF")),
        }
        spans.push(payload..end);
        at = end + 2;
    }
    Parsed::Command(at)
}

/// The line that starts at `start`, without its `\r\n` (or bare `\n`), and where the
/// next one starts; or how many bytes it needs (`usize::MAX` past the limit).
fn line_at(buffered: &[u8], start: usize, limit: usize) -> Result<(Range<usize>, usize), Parsed> {
    let rest = &buffered[start..];
    let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
        let need = if rest.len() >= limit {
            usize::MAX
        } else {
            buffered.len() + 1
        };
        return Err(Parsed::Partial(need));
    };
    if newline > limit {
        return Err(Parsed::Partial(usize::MAX));
    }
    let end = if rest[..newline].ends_with(b"\r") {
        newline - 1
    } else {
        newline
    };
    Ok((start..start + end, start + newline + 1))
}

/// Runs `f` on the arguments `spans` locates in `buffered` (on the stack when few).
fn with_args<R>(buffered: &[u8], spans: &[Range<usize>], f: impl FnOnce(&[&[u8]]) -> R) -> R {
    let mut few: [&[u8]; 4] = [&[]; 4];
    if spans.len() > few.len() {
        let many: Vec<&[u8]> = spans.iter().map(|span| &buffered[span.clone()]).collect();
        return f(&many);
    }
    for (arg, span) in few.iter_mut().zip(spans) {
        *arg = &buffered[span.clone()];
    }
    f(&few[..spans.len()])
}

/// Reads one command with the awaiting reads; `None` at a clean EOF between commands.
async fn read_command(reader: &mut StreamReader) -> Result<Option<Command>, Error> {
    let line = reader.readline().await?;
    if line.is_empty() {
        return Ok(None);
    }
    let header = strip_newline(line)?;
    let Some(count) = header.strip_prefix(b"*") else {
        return Ok(Some(Ok(inline_args(&header))));
    };
    let count = match arg_count(count) {
        Ok(count) => count,
        Err(e) => return Ok(Some(Err(e))),
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
    let len = match bulk_len(&header) {
        Ok(len) => len,
        Err(e) => return Ok(Err(e)),
    };
    let mut payload = reader.readexactly(len + 2).await?;
    if !payload.ends_with(b"\r\n") {
        return Ok(Err(ProtocolError("bulk payload not followed by CRLF")));
    }
    payload.truncate(len);
    Ok(Ok(payload))
}

/// The argument count of a `*N` header (after the `*`), capped at [`MAX_ARGS`].
fn arg_count(digits: &[u8]) -> Result<usize, ProtocolError> {
    match parse_int(digits) {
        Some(n) if n <= MAX_ARGS as i64 => Ok(n.max(0) as usize),
        _ => Err(ProtocolError("invalid multibulk length")),
    }
}

/// The payload length of a `$N` header line, capped at [`MAX_BULK`]: checked before
/// anything is read or reserved for the payload.
fn bulk_len(header: &[u8]) -> Result<usize, ProtocolError> {
    let Some(digits) = header.strip_prefix(b"$") else {
        return Err(ProtocolError("expected '$'"));
    };
    match parse_int(digits) {
        Some(n) if (0..=MAX_BULK as i64).contains(&n) => Ok(n as usize),
        _ => Err(ProtocolError("invalid bulk length")),
    }
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
pub(crate) fn execute<A: AsRef<[u8]>>(db: &Db, args: &[A], out: &mut Vec<u8>) {
    let Some(name) = args.first().map(AsRef::as_ref) else {
        return; // an empty inline line or `*0`: no answer, as Redis
    };
    let arg = |i: usize| args[i].as_ref();
    let is = |command: &str| name.eq_ignore_ascii_case(command.as_bytes());
    let n = args.len();
    if is("PING") && n <= 2 {
        match n {
            1 => out.extend_from_slice(b"+PONG\r\n"),
            _ => bulk(out, arg(1)),
        }
    } else if is("ECHO") && n == 2 {
        bulk(out, arg(1));
    } else if is("SET") && n == 3 {
        // Owned copies: an argument is part of a larger buffer (the reader's, or a
        // `Bytes` that shares it and would keep it alive).
        let (key, value) = (
            Bytes::copy_from_slice(arg(1)),
            Bytes::copy_from_slice(arg(2)),
        );
        lock(db).insert(key, value);
        out.extend_from_slice(b"+OK\r\n");
    } else if is("GET") && n == 2 {
        match lock(db).get(arg(1)) {
            Some(value) => bulk(out, value),
            None => out.extend_from_slice(b"$-1\r\n"),
        }
    } else if is("DEL") && n >= 2 {
        let mut db = lock(db);
        let removed = args[1..]
            .iter()
            .filter(|k| db.remove(k.as_ref()).is_some())
            .count();
        integer(out, removed as i64);
    } else if is("INCR") && n == 2 {
        incr(db, arg(1), out);
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
fn incr(db: &Db, key: &[u8], out: &mut Vec<u8>) {
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

/// Serves one client until EOF or a protocol error: every command already buffered is
/// answered in place, the answers leave in one `write()`, then the reader waits for more.
///
/// A function returning an `async move` block rather than an `async fn`: an `async fn`
/// keeps a second copy of its arguments in its future (the reader alone is 112 bytes),
/// and this future is each connection's task.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn's future holds its arguments twice"
)]
fn serve_client(
    mut reader: StreamReader,
    writer: StreamWriter,
    db: Db,
) -> impl Future<Output = Result<(), Error>> {
    async move {
        let limit = reader.limit();
        let mut out = Vec::new();
        let mut spans = Vec::new();
        'serve: loop {
            let need = loop {
                let buffered = reader.buffer();
                match parse_buffered(buffered, limit, &mut spans) {
                    Parsed::Command(len) => {
                        with_args(buffered, &spans, |args| execute(&db, args, &mut out));
                        reader.consume(len);
                    }
                    Parsed::Partial(need) => break need,
                    Parsed::Invalid(what) => {
                        refuse(&mut out, what);
                        break 'serve;
                    }
                }
            };
            if !out.is_empty() {
                writer.write(&out)?;
                out.clear();
                // Returns at once unless the client reads its answers slower than it sends.
                writer.drain().await?;
            }
            // Wait for the bytes the parser asked for; `peek` consumes none of them.
            if need <= limit && reader.peek(need).await?.len() >= need {
                continue;
            }
            // A command larger than the limit, or EOF. (Boxed: the awaiting reads' state
            // stays out of every connection's task.)
            match Box::pin(read_command(&mut reader)).await {
                Ok(Some(Ok(args))) => execute(&db, &args, &mut out),
                Ok(Some(Err(what))) => {
                    refuse(&mut out, what);
                    break;
                }
                Ok(None) => break, // the client closed between commands
                Err(Error::LimitOverrun { .. }) => {
                    refuse(&mut out, ProtocolError("line too long"));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        // What is left in `out`: the answers before a protocol error, and its own.
        writer.write(&out)?;
        writer.close();
        writer.wait_closed().await
    }
}

/// Answers a request the server cannot parse: the connection is closed after it.
fn refuse(out: &mut Vec<u8>, what: ProtocolError) {
    error(out, &format!("ERR Protocol error: {}", what.0));
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
