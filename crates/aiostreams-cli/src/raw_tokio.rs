//! `aiostreams raw-tokio-serve`: the bench's baseline, a server written on tokio alone.
//!
//! The idiomatic way, as tokio's own examples do it, on a current-thread runtime:
//! echo reads into a 64 KiB buffer and `write_all`s it back; lines reads with
//! `BufReader::read_until(b'\n')` and `write_all`s each line. TCP_NODELAY is set, as
//! aiostreams and asyncio do, so small writes are not held back by Nagle's algorithm.
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
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio_rustls::TlsAcceptor;

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
    /// Serve TLS with this PEM certificate chain; needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Serves until SIGTERM or Ctrl-C.
pub(crate) fn run(args: Args) -> Result<()> {
    if args.mode == Mode::HttpHello {
        bail!("raw-tokio-serve supports echo, lines and discard");
    }
    let acceptor = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsAcceptor::from(server_config(cert, key)?)),
        _ => None,
    };
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
                match &acceptor {
                    Some(acceptor) => {
                        tokio::spawn(handle_tls(args.mode, acceptor.clone(), stream));
                    }
                    None => {
                        tokio::spawn(handle(args.mode, stream));
                    }
                }
            }
            _ = terminate.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

async fn handle(mode: Mode, stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    serve_mode(mode, stream).await
}

async fn handle_tls(mode: Mode, acceptor: TlsAcceptor, stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut stream = acceptor.accept(stream).await?;
    serve_mode(mode, &mut stream).await?;
    stream.shutdown().await
}

async fn serve_mode<S: AsyncRead + AsyncWrite + Unpin>(
    mode: Mode,
    stream: S,
) -> std::io::Result<()> {
    match mode {
        Mode::Echo => echo(stream).await,
        Mode::Lines => lines(stream).await,
        Mode::Discard | Mode::HttpHello => discard(stream).await,
    }
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> std::io::Result<()> {
    let mut buf = [0u8; 65536];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
        stream.flush().await?;
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

async fn discard<S: AsyncRead + Unpin>(mut stream: S) -> std::io::Result<()> {
    let mut buf = [0u8; 65536];
    while stream.read(&mut buf).await? != 0 {}
    Ok(())
}
