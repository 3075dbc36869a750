//! `aiostreams serve`: a server on the library, until Ctrl-C or SIGTERM.
//!
//! Prints one `Serving on ADDR` line per listening socket (flushed, so a script can read
//! the port it got with `--port 0`), and on shutdown one line with the
//! [`ShutdownReport`]: `Shutdown: N graceful, M aborted`.
//!
//! Logs go to stderr (see [`crate::logging`]): the library's accept errors (out of file
//! descriptors) and handler errors, one line per connection closed for an over-long
//! line, one per connection closed by a `--*-timeout`, and at shutdown a summary of the
//! connections served; with `--stats SECS`, the server's counters every SECS seconds.
//!
//! With `--tls-cert` and `--tls-key` every mode is served over TLS (rustls): the
//! handshake runs in each client's own task, then the handler sees plain bytes.

mod handlers;
mod stats;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aiostreams::tls::server_config_from_pem;
use aiostreams::{DEFAULT_LIMIT, Server, ServerOptions, ServerStats, ShutdownReport};
use anyhow::{Context, Result};
use tokio::signal::unix::{SignalKind, signal};

use crate::mode::Mode;
use crate::numbers;
use crate::runtime::Runtime;
use handlers::{Config, OnOverlong, Shutdown};
use stats::Stats;

/// The most `--max-connections` accepts (far above any descriptor limit).
const MAX_CONNECTIONS: u64 = 10_000_000;
/// The most `--backlog` accepts (as Go: the kernel caps it at net.core.somaxconn anyway).
const MAX_BACKLOG: u64 = 65_535;

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
    /// Stop accepting while N clients are connected (N >= 1).
    #[arg(long, value_name = "N", value_parser = numbers::count::<usize>(1, MAX_CONNECTIONS))]
    max_connections: Option<usize>,
    /// At most N connections from one client IP address; one more is closed at once
    /// (N >= 1) [default: no limit].
    #[arg(long, value_name = "N", value_parser = numbers::count::<usize>(1, MAX_CONNECTIONS))]
    max_connections_per_ip: Option<usize>,
    /// How long a closing connection lingers at most: half-closed, reading and dropping
    /// until the client closes, so that it gets its whole answer, not a reset (0: close
    /// at once).
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = numbers::secs)]
    linger: Duration,
    /// The listen() backlog: connections the kernel queues until they are accepted
    /// (capped by the kernel at net.core.somaxconn) [default: 65535, i.e. somaxconn].
    #[arg(long, value_name = "N", value_parser = numbers::count::<u32>(1, MAX_BACKLOG))]
    backlog: Option<u32>,
    /// Each connection's reader limit: the longest line (`lines`) or request head
    /// (`http-hello`) accepted.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_LIMIT, value_parser = numbers::bytes())]
    limit: usize,
    /// `echo`/`discard`: what each `read(n)` asks for (asyncio's `read(65536)`; 1 MiB
    /// for bulk transfers: one system call per MiB each way).
    #[arg(long, value_name = "BYTES", default_value_t = handlers::DEFAULT_READ_SIZE, value_parser = numbers::bytes())]
    read_size: usize,
    /// `lines`: a line over --limit is answered with an error line, then the connection
    /// closes (error: answered as soon as the limit is passed) or the line is dropped as
    /// it arrives and answered in its place once it ends, and the next line is served
    /// (skip). `http-hello` always answers 431 and closes.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = OnOverlong::Error)]
    on_overlong: OnOverlong,
    /// Fail a read that has waited this long for the rest of a line or request (bytes
    /// trickling in do not restart it: slowloris); the connection is closed [default:
    /// none].
    #[arg(long, value_name = "SECS", value_parser = numbers::positive_secs)]
    read_timeout: Option<Duration>,
    /// Close a connection whose queued answers make no progress this long (a client
    /// that does not read) [default: none].
    #[arg(long, value_name = "SECS", value_parser = numbers::positive_secs)]
    write_timeout: Option<Duration>,
    /// Close a connection that waited this long for its next request with no byte in
    /// either direction; frees its --max-connections slot [default: none].
    #[arg(long, value_name = "SECS", value_parser = numbers::positive_secs)]
    idle_timeout: Option<Duration>,
    /// How long a client's TLS handshake may take before it is dropped (its
    /// --max-connections slot freed) [default: 60, asyncio's].
    #[arg(long, value_name = "SECS", value_parser = numbers::positive_secs, requires = "tls_cert")]
    handshake_timeout: Option<Duration>,
    /// On Ctrl-C/SIGTERM, wait this long for clients to finish, then abort them.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = numbers::secs)]
    shutdown_deadline: Duration,
    /// Log the server's counters every SECS seconds (accepted, active, closed by a
    /// timeout, a limit or an error, bytes in and out), at info on stderr.
    #[arg(long, value_name = "SECS", value_parser = numbers::positive_secs)]
    stats: Option<Duration>,
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
    let stats = Arc::new(Stats::default());
    let (server, config) = start(&args, &stats).await?;
    print_serving(&server)?;
    let mut every = args
        .stats
        .map(|period| tokio::time::interval_at(tokio::time::Instant::now() + period, period));
    loop {
        tokio::select! {
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            () = tick(&mut every) => log_stats(server.stats()),
        }
    }
    config.shutdown.begin();
    let report = server.shutdown(args.shutdown_deadline).await;
    stats.log_summary(report);
    print_report(report)
}

/// `set(options, value)` for a flag that was given; `options` as they are otherwise.
fn given<T>(
    options: ServerOptions,
    value: Option<T>,
    set: fn(ServerOptions, T) -> ServerOptions,
) -> ServerOptions {
    match value {
        Some(value) => set(options, value),
        None => options,
    }
}

/// The server, and what its handlers share.
async fn start(args: &Args, stats: &Arc<Stats>) -> Result<(Server, Arc<Config>)> {
    let mut options = ServerOptions::new().limit(args.limit);
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let config = server_config_from_pem(cert, key).context("cannot serve TLS")?;
        options = options.ssl(config);
    }
    options = given(
        options,
        args.handshake_timeout,
        ServerOptions::ssl_handshake_timeout,
    );
    options = given(options, args.read_timeout, ServerOptions::read_timeout);
    options = given(options, args.write_timeout, ServerOptions::write_timeout);
    options = given(options, args.idle_timeout, ServerOptions::idle_timeout);
    options = given(
        options,
        args.max_connections,
        ServerOptions::max_connections,
    );
    options = given(
        options,
        args.max_connections_per_ip,
        ServerOptions::max_connections_per_ip,
    );
    options = given(options, args.backlog, ServerOptions::backlog).linger(args.linger);
    let config = Arc::new(Config {
        mode: args.mode,
        limit: args.limit,
        read_size: args.read_size,
        on_overlong: args.on_overlong,
        shutdown: Shutdown::new(options.shutdown_signal()),
        stats: stats.clone(),
    });
    let shared = config.clone();
    let handler = move |reader, writer| handlers::handle(shared.clone(), reader, writer);
    let server = match &args.unix {
        Some(path) => options
            .start_unix_server(handler, path)
            .await
            .with_context(|| format!("cannot serve on {}", path.display())),
        None => options
            .start_server(handler, args.host.as_str(), args.port)
            .await
            .with_context(|| format!("cannot serve on {}:{}", args.host, args.port)),
    }?;
    Ok((server, config))
}

/// The next `--stats` tick; never without `--stats`.
async fn tick(every: &mut Option<tokio::time::Interval>) {
    match every {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// One `--stats` line.
fn log_stats(s: ServerStats) {
    tracing::info!(
        "stats: {} accepted, {} active, closed by timeout {}, by limit {}, by error {}; {} bytes in, {} bytes out",
        s.accepted,
        s.active,
        s.closed_by_timeout,
        s.closed_by_limit,
        s.closed_by_error,
        s.bytes_in,
        s.bytes_out,
    );
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
        "Shutdown: {} graceful, {} aborted, {} cut lingering",
        report.graceful, report.aborted, report.cut_lingering
    )?;
    out.flush()?;
    Ok(())
}
