//! `aiostreams resp-serve`: the RESP servers of the bench's `resp-*` cells.
//!
//! `--impl example` runs `crates/aiostreams/examples/resp_server.rs`, compiled in as it
//! is (the bench measures the example a user reads, not a tuned copy). `--impl tokio` is
//! the same server written on tokio alone by an expert: one `BufReader<BufWriter<_>>`
//! per connection, `read_until(b'\n')` for header lines and `read_exact` for payloads,
//! answers written into the `BufWriter` and flushed only when the read buffer is empty
//! (so a pipelined batch is answered with one send). Both run the example's `execute`:
//! the same keyspace and answers, only the stream layer differs.

use std::io::{self, Write as _};
use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;
use clap::ValueEnum;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};

#[path = "../../aiostreams/examples/resp_server.rs"]
mod example;

use example::{Db, MAX_ARGS, MAX_BULK, ProtocolError, execute, inline_args, parse_int};

/// The longest header line the tokio server accepts (the reader limit of the example).
const MAX_LINE: usize = aiostreams::DEFAULT_LIMIT;

/// Which RESP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum RespImpl {
    /// `examples/resp_server.rs` on aiostreams.
    Example,
    /// The expert raw tokio version.
    Tokio,
}

/// `resp-serve` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Which server.
    #[arg(long = "impl", value_enum)]
    imp: RespImpl,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

/// Serves until SIGINT (the example) or SIGTERM/SIGINT (tokio).
pub(crate) fn run(args: Args) -> Result<()> {
    let runtime = crate::runtime::Runtime::Current.build()?;
    match args.imp {
        RespImpl::Example => runtime.block_on(example::run(&args.host, args.port))?,
        RespImpl::Tokio => runtime.block_on(serve_tokio(&args.host, args.port))?,
    }
    Ok(())
}

async fn serve_tokio(host: &str, port: u16) -> Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let listener = TcpListener::bind((host, port)).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Serving on {}", listener.local_addr()?)?;
        out.flush()?;
    }
    let db = Db::default();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                tokio::spawn(client(stream, Arc::clone(&db)));
            }
            _ = terminate.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
        }
    }
}

type Conn = BufReader<BufWriter<TcpStream>>;

async fn client(stream: TcpStream, db: Db) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut conn = BufReader::new(BufWriter::new(stream));
    let mut line = Vec::new();
    let mut out = Vec::new();
    loop {
        let Some(command) = read_command(&mut conn, &mut line).await? else {
            return Ok(());
        };
        out.clear();
        match command {
            Ok(args) => execute(&db, &args, &mut out),
            Err(ProtocolError(what)) => {
                let answer = format!("-ERR Protocol error: {what}\r\n");
                conn.get_mut().write_all(answer.as_bytes()).await?;
                return conn.get_mut().flush().await;
            }
        }
        conn.get_mut().write_all(&out).await?;
        if conn.buffer().is_empty() {
            conn.get_mut().flush().await?;
        }
    }
}

/// One command; `None` at EOF between commands.
async fn read_command(
    conn: &mut Conn,
    line: &mut Vec<u8>,
) -> io::Result<Option<Result<Vec<Bytes>, ProtocolError>>> {
    if !read_line(conn, line).await? {
        return Ok(None);
    }
    let Some(count) = line.strip_prefix(b"*") else {
        return Ok(Some(Ok(inline_args(line))));
    };
    let count = match parse_int(count) {
        Some(n) if n <= MAX_ARGS as i64 => n.max(0) as usize,
        _ => return Ok(Some(Err(ProtocolError("invalid multibulk length")))),
    };
    let mut args = Vec::with_capacity(count.min(16));
    for _ in 0..count {
        if !read_line(conn, line).await? {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let len = match line.strip_prefix(b"$").and_then(parse_int) {
            Some(n) if (0..=MAX_BULK as i64).contains(&n) => n as usize,
            _ => return Ok(Some(Err(ProtocolError("invalid bulk length")))),
        };
        let mut payload = vec![0; len + 2];
        conn.read_exact(&mut payload).await?;
        if !payload.ends_with(b"\r\n") {
            return Ok(Some(Err(ProtocolError(
                "bulk payload not followed by CRLF",
            ))));
        }
        payload.truncate(len);
        args.push(Bytes::from(payload));
    }
    Ok(Some(Ok(args)))
}

/// Reads a line into `line` without its `\r\n`; false at EOF before any byte.
async fn read_line(conn: &mut Conn, line: &mut Vec<u8>) -> io::Result<bool> {
    line.clear();
    let n = conn.read_until(b'\n', line).await?;
    if n == 0 {
        return Ok(false);
    }
    if line.len() > MAX_LINE || line.pop() != Some(b'\n') {
        return Err(io::ErrorKind::InvalidData.into());
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(true)
}
