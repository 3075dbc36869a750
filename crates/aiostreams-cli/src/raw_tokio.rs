//! `aiostreams raw-tokio-serve`: the bench's baseline, a server written on tokio alone.
//!
//! The idiomatic way, as tokio's own examples do it, on a current-thread runtime:
//! echo reads into a 64 KiB buffer and `write_all`s it back; lines reads with
//! `BufReader::read_until(b'\n')` and `write_all`s each line. TCP_NODELAY is set, as
//! aiostreams and asyncio do, so small writes are not held back by Nagle's algorithm.

use std::io::Write;

use anyhow::{Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};

use crate::mode::Mode;

/// `raw-tokio-serve` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// echo, lines or discard.
    #[arg(long, value_enum)]
    mode: Mode,
}

/// Serves until SIGTERM or Ctrl-C.
pub(crate) fn run(args: Args) -> Result<()> {
    if args.mode == Mode::HttpHello {
        bail!("raw-tokio-serve supports echo, lines and discard");
    }
    crate::runtime::Runtime::Current
        .build()?
        .block_on(serve(args))
}

async fn serve(args: Args) -> Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Serving on {}", listener.local_addr()?)?;
        out.flush()?;
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                tokio::spawn(handle(args.mode, stream));
            }
            _ = terminate.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

async fn handle(mode: Mode, stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    match mode {
        Mode::Echo => echo(stream).await,
        Mode::Lines => lines(stream).await,
        Mode::Discard | Mode::HttpHello => discard(stream).await,
    }
}

async fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 65536];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

async fn lines(mut stream: TcpStream) -> std::io::Result<()> {
    let (read, mut write) = stream.split();
    let mut read = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        write.write_all(&line).await?;
    }
}

async fn discard(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 65536];
    while stream.read(&mut buf).await? != 0 {}
    Ok(())
}
