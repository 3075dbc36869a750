//! `aiostreams connect`: netcat on the library.
//!
//! stdin goes to the socket, the socket goes to stdout. At stdin's EOF the write side is
//! half-closed (`write_eof`) and the output keeps flowing until the peer closes.

use std::path::PathBuf;
use std::pin::pin;

use aiostreams::{StreamReader, StreamWriter, open_connection, open_unix_connection};
use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How much stdin or the socket is read at once.
const CHUNK: usize = 64 * 1024;

/// `connect` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The server's host name or address.
    #[arg(required_unless_present = "unix")]
    host: Option<String>,
    /// The server's port.
    #[arg(required_unless_present = "unix")]
    port: Option<u16>,
    /// Connect to a Unix socket at PATH instead of TCP.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["host", "port"])]
    unix: Option<PathBuf>,
}

/// Runs `connect` until the peer closes the connection.
pub(crate) fn run(args: Args) -> Result<()> {
    let runtime = crate::runtime::Runtime::Current.build()?;
    let result = runtime.block_on(connect(args));
    // A read of stdin may still be blocked in its thread: do not wait for it.
    runtime.shutdown_background();
    result
}

async fn connect(args: Args) -> Result<()> {
    let (reader, writer) = match (&args.unix, &args.host, args.port) {
        (Some(path), _, _) => open_unix_connection(path)
            .await
            .with_context(|| format!("cannot connect to {}", path.display()))?,
        (None, Some(host), Some(port)) => open_connection(host, port)
            .await
            .with_context(|| format!("cannot connect to {host}:{port}"))?,
        _ => unreachable!("clap requires HOST and PORT without --unix"),
    };
    let mut download = pin!(download(reader));
    tokio::select! {
        result = &mut download => return result,
        result = upload(&writer) => result?,
    }
    download.await
}

/// stdin to the socket; half-closes at stdin's EOF.
async fn upload(writer: &StreamWriter) -> Result<()> {
    let mut stdin = tokio::io::stdin();
    let mut buf = vec![0; CHUNK];
    loop {
        let n = stdin.read(&mut buf).await.context("reading stdin")?;
        if n == 0 {
            if writer.can_write_eof() {
                writer.write_eof();
            }
            return Ok(());
        }
        writer.write(&buf[..n])?;
        writer.drain().await.context("sending")?;
    }
}

/// The socket to stdout, until the peer closes.
async fn download(mut reader: StreamReader) -> Result<()> {
    let mut stdout = tokio::io::stdout();
    loop {
        let data = reader.read(CHUNK).await.context("receiving")?;
        if data.is_empty() {
            return Ok(());
        }
        stdout.write_all(&data).await?;
        stdout.flush().await?;
    }
}
