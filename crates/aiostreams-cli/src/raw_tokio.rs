//! `aiostreams raw-tokio-serve`: the bench's baseline, a server written on tokio alone.
//!
//! The idiomatic way, as tokio's own examples do it, on a current-thread runtime:
//! echo reads into a 64 KiB buffer and `write_all`s it back; lines reads with
//! `BufReader::read_until(b'\n')` and `write_all`s each line. TCP_NODELAY is set, as
//! aiostreams and asyncio do, so small writes are not held back by Nagle's algorithm.
//!
//! `--buffered` (the bench's `tokio-buffered`) is what an expert writes by hand for
//! lines: `BufReader<BufWriter<_>>`, each line written into the `BufWriter`, flushed only
//! when the read buffer is empty, so the lines of one arrival leave in one send.
//! `--buf-size N` sets echo's and discard's read buffer (default 64 KiB, on the task's
//! stack; other sizes on the heap): the bulk cells run with 1 MiB.
//!
//! With `--tls-cert` and `--tls-key` it is raw tokio-rustls, the way its examples do it:
//! a `TlsAcceptor` handshakes each accepted socket in the connection's task, then the
//! same loops run on the `TlsStream` (each `write_all` followed by `flush`), and at EOF
//! `shutdown` sends close_notify. The rustls `ServerConfig` is built as the library
//! builds its own (ring provider, safe default protocol versions, no client auth), so
//! both servers negotiate the same thing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio_rustls::TlsAcceptor;

use crate::mode::{ListenArgs, Mode};

/// `raw-tokio-serve` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    listen: ListenArgs,
    /// Serve TLS with this PEM certificate chain; needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// lines: BufReader + BufWriter, flushed when the read buffer is empty.
    #[arg(long)]
    buffered: bool,
    /// echo/discard: bytes read per call.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_BUF)]
    buf_size: usize,
}

/// Echo's and discard's read buffer by default.
const DEFAULT_BUF: usize = 65536;

/// How each connection is served.
#[derive(Clone, Copy, Debug)]
struct Serving {
    mode: Mode,
    buffered: bool,
    buf_size: usize,
}

/// Serves until SIGTERM or Ctrl-C.
pub(crate) fn run(args: Args) -> Result<()> {
    if args.listen.mode == Mode::HttpHello {
        bail!("raw-tokio-serve supports echo, lines and discard");
    }
    let acceptor = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsAcceptor::from(server_config(cert, key)?)),
        _ => None,
    };
    if args.buf_size == 0 {
        bail!("--buf-size must be at least 1");
    }
    crate::runtime::Runtime::Current
        .build()?
        .block_on(serve(args, acceptor))
}

/// A rustls server configuration from PEM files.
fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading {}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

async fn serve(args: Args, acceptor: Option<TlsAcceptor>) -> Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind((args.listen.host.as_str(), args.listen.port)).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Serving on {}", listener.local_addr()?)?;
        out.flush()?;
    }
    let serving = Serving {
        mode: args.listen.mode,
        buffered: args.buffered,
        buf_size: args.buf_size,
    };
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                match &acceptor {
                    Some(acceptor) => {
                        tokio::spawn(handle_tls(serving, acceptor.clone(), stream));
                    }
                    None => {
                        tokio::spawn(handle(serving, stream));
                    }
                }
            }
            _ = terminate.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

async fn handle(serving: Serving, stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    serve_mode(serving, stream).await
}

async fn handle_tls(
    serving: Serving,
    acceptor: TlsAcceptor,
    stream: TcpStream,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut stream = acceptor.accept(stream).await?;
    serve_mode(serving, &mut stream).await?;
    stream.shutdown().await
}

async fn serve_mode<S: AsyncRead + AsyncWrite + Unpin>(
    serving: Serving,
    stream: S,
) -> std::io::Result<()> {
    let size = serving.buf_size;
    match serving.mode {
        Mode::Lines if serving.buffered => lines_buffered(stream).await,
        Mode::Lines => lines(stream).await,
        Mode::Echo if size == DEFAULT_BUF => echo(stream, &mut [0u8; DEFAULT_BUF]).await,
        Mode::Echo => echo(stream, &mut vec![0u8; size]).await,
        Mode::Discard | Mode::HttpHello if size == DEFAULT_BUF => {
            discard(stream, &mut [0u8; DEFAULT_BUF]).await
        }
        Mode::Discard | Mode::HttpHello => discard(stream, &mut vec![0u8; size]).await,
    }
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    buf: &mut [u8],
) -> std::io::Result<()> {
    loop {
        let n = stream.read(buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
        stream.flush().await?;
    }
}

/// The expert's lines loop: answers go into the `BufWriter`; flushed only when the
/// `BufReader` has no further request buffered.
async fn lines_buffered<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> std::io::Result<()> {
    let mut conn = BufReader::new(BufWriter::new(stream));
    let mut line = Vec::new();
    loop {
        line.clear();
        if conn.read_until(b'\n', &mut line).await? == 0 {
            return conn.get_mut().flush().await;
        }
        conn.get_mut().write_all(&line).await?;
        if conn.buffer().is_empty() {
            conn.get_mut().flush().await?;
        }
    }
}

async fn lines<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> std::io::Result<()> {
    let mut read = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let write = read.get_mut();
        write.write_all(&line).await?;
        write.flush().await?;
    }
}

async fn discard<S: AsyncRead + Unpin>(mut stream: S, buf: &mut [u8]) -> std::io::Result<()> {
    while stream.read(buf).await? != 0 {}
    Ok(())
}
