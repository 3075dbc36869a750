//! `aiostreams serve`: a server on the library, until Ctrl-C or SIGTERM.
//!
//! Prints one `Serving on ADDR` line per listening socket (flushed, so a script can read
//! the port it got with `--port 0`), and on shutdown one line with the
//! [`ShutdownReport`]: `Shutdown: N graceful, M aborted`.
//!
//! With `--tls-cert` and `--tls-key` every mode is served over TLS (rustls): the
//! handshake runs in each client's own task, then the handler sees plain bytes.

mod handlers;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use aiostreams::tls::server_config_from_pem;
use aiostreams::{Server, ServerOptions, ShutdownReport};
use anyhow::{Context, Result};
use tokio::signal::unix::{SignalKind, signal};

use crate::mode::Mode;
use crate::runtime::Runtime;

/// `serve` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one (see the `Serving on` line).
    #[arg(long, default_value_t = 8888)]
    port: u16,
    /// Listen on a Unix socket at PATH instead of TCP.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["host", "port"])]
    unix: Option<PathBuf>,
    /// What to do with each connection.
    #[arg(long, value_enum, default_value_t = Mode::Echo)]
    mode: Mode,
    /// Stop accepting while N clients are connected.
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// On Ctrl-C/SIGTERM, wait this long for clients to finish, then abort them.
    #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = parse_secs)]
    shutdown_deadline: f64,
    /// The tokio runtime to run on.
    #[arg(long, value_enum, default_value_t = Runtime::Current)]
    runtime: Runtime,
    /// Serve TLS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key (unencrypted) of --tls-cert; needs --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Runs `serve` until a signal ends it.
pub(crate) fn run(args: Args) -> Result<()> {
    args.runtime.build()?.block_on(serve(args))
}

async fn serve(args: Args) -> Result<()> {
    // Register the signal handlers first: a SIGTERM right after `Serving on` must not kill us.
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let server = start(&args).await?;
    print_serving(&server)?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    let deadline = Duration::from_secs_f64(args.shutdown_deadline);
    let report = server.shutdown(deadline).await;
    print_report(report)
}

async fn start(args: &Args) -> Result<Server> {
    let mut options = ServerOptions::new();
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let config = server_config_from_pem(cert, key).context("cannot serve TLS")?;
        options = options.ssl(config);
    }
    if let Some(max) = args.max_connections {
        options = options.max_connections(max);
    }
    let shutdown = options.shutdown_signal();
    let mode = args.mode;
    let handler = move |reader, writer| handlers::handle(mode, reader, writer, shutdown.clone());
    match &args.unix {
        Some(path) => options
            .start_unix_server(handler, path)
            .await
            .with_context(|| format!("cannot serve on {}", path.display())),
        None => options
            .start_server(handler, args.host.as_str(), args.port)
            .await
            .with_context(|| format!("cannot serve on {}:{}", args.host, args.port)),
    }
}

fn print_serving(server: &Server) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for addr in server.sockets() {
        writeln!(out, "Serving on {addr}")?;
    }
    out.flush()?;
    Ok(())
}

fn print_report(report: ShutdownReport) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Shutdown: {} graceful, {} aborted",
        report.graceful, report.aborted
    )?;
    out.flush()?;
    Ok(())
}

/// A non-negative number of seconds.
pub(crate) fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a number of seconds >= 0, got {s:?}")),
    }
}
