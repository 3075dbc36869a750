//! `aiostreams connect`: netcat on the library.
//!
//! stdin goes to the socket, the socket goes to stdout. At stdin's EOF the write side is
//! half-closed (`write_eof`) and the output keeps flowing until the peer closes.
//!
//! With `--tls` the connection is TLS (rustls): the server is verified against the
//! system trust store (asyncio's `ssl=True`, honouring `SSL_CERT_FILE`), or against
//! exactly the certificates of `--ca FILE`. At stdin's EOF a TLS connection sends
//! close_notify (its half-close) and keeps reading.
//!
//! `--connect-timeout` bounds the connect (TLS handshake included), `--timeout` the whole
//! run; either ends it with exit 1 and `timed out after N s (FLAG)`. Neither is set by
//! default: an interactive session may idle as long as it likes.

use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use aiostreams::tls::client_config_with_roots;
use aiostreams::{ConnectOptions, StreamReader, StreamWriter};
use anyhow::{Context, Result, bail};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::deadline::within;
use crate::numbers;

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
    /// Use TLS, verifying the server (system trust store unless --ca).
    #[arg(long)]
    tls: bool,
    /// The name to verify the certificate against and send as SNI [default: HOST];
    /// required with --unix.
    #[arg(long, value_name = "NAME", requires = "tls")]
    server_name: Option<String>,
    /// Trust exactly the CA certificates in this PEM file instead of the system store.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca: Option<PathBuf>,
    /// Give up connecting (TLS handshake included) after SECS.
    #[arg(long, value_name = "SECS", value_parser = numbers::positive_secs)]
    connect_timeout: Option<Duration>,
    /// Give up after SECS in all: connect, transfer and close.
    #[arg(long, value_name = "SECS", value_parser = numbers::positive_secs)]
    timeout: Option<Duration>,
}

impl Args {
    /// The connection options the flags ask for.
    fn options(&self) -> Result<ConnectOptions> {
        let mut options = ConnectOptions::new();
        if !self.tls {
            return Ok(options);
        }
        options = match &self.ca {
            Some(ca) => {
                let config = client_config_with_roots(load_roots(ca)?)?;
                options.ssl_config(Arc::new(config))
            }
            None => options.ssl(),
        };
        if let Some(name) = &self.server_name {
            options = options.server_hostname(name);
        }
        Ok(options)
    }

    /// What we connect to, for messages: `HOST:PORT` or the socket path.
    fn target(&self) -> String {
        match (&self.unix, &self.host, self.port) {
            (Some(path), _, _) => path.display().to_string(),
            (None, host, port) => {
                format!("{}:{}", host.as_deref().unwrap_or(""), port.unwrap_or(0))
            }
        }
    }

    /// A combination of flags clap cannot express, as a usage error message.
    pub(crate) fn usage_problem(&self) -> Option<&'static str> {
        (self.tls && self.unix.is_some() && self.server_name.is_none()).then_some(
            "--tls with --unix needs --server-name NAME: there is no host name to verify",
        )
    }
}

/// The certificates of the PEM file `path`, as the only trusted roots.
fn load_roots(path: &Path) -> Result<RootCertStore> {
    let shown = path.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect())
        .map_err(|e| anyhow::anyhow!("--ca {shown}: {e}"))?;
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .with_context(|| format!("--ca {shown}: unusable CA certificate"))?;
    }
    if roots.is_empty() {
        bail!("--ca {shown}: no CERTIFICATE found");
    }
    Ok(roots)
}

/// Runs `connect` until the peer closes the connection.
pub(crate) fn run(args: Args) -> Result<()> {
    let runtime = crate::runtime::Runtime::Current.build()?;
    let result = runtime.block_on(within(args.timeout, "--timeout", connect(&args)));
    // A read of stdin may still be blocked in its thread: do not wait for it.
    runtime.shutdown_background();
    result
}

async fn connect(args: &Args) -> Result<()> {
    let options = args.options()?;
    let opening = async {
        match (&args.unix, &args.host, args.port) {
            (Some(path), _, _) => Ok(options.connect_unix(path).await?),
            (None, Some(host), Some(port)) => Ok(options.connect(host, port).await?),
            _ => unreachable!("clap requires HOST and PORT without --unix"),
        }
    };
    let (reader, writer) = within(args.connect_timeout, "--connect-timeout", opening)
        .await
        .with_context(|| format!("cannot connect to {}", args.target()))?;
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
