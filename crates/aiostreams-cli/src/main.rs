//! `aiostreams`: the aiostreams library at work, and its benchmark.
//!
//! ```text
//! aiostreams serve --mode echo --port 8888        # a server on the library
//! aiostreams connect 127.0.0.1 8888               # netcat-like client
//! aiostreams headers http://example.com/          # the asyncio docs' "Get HTTP headers"
//! aiostreams serve --port 8443 --tls-cert chain.pem --tls-key key.pem   # TLS
//! aiostreams connect 127.0.0.1 8443 --tls --ca ca.pem                    # TLS client
//! aiostreams headers https://example.com/         # verified with the system trust store
//! aiostreams bench --quick                        # aiostreams vs tokio vs asyncio (vs uvloop)
//! ```
//!
//! Exit codes: 0 success, 1 an error (its message on stderr), 2 bad usage. A closed
//! stdout (`aiostreams connect ... | head -c 10`) is not an error.

mod bench;
mod connect;
mod deadline;
mod floor;
mod headers;
mod logging;
mod mode;
mod numbers;
mod raw_tokio;
mod resp;
mod runtime;
mod serve;

use std::io;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

/// Python asyncio's streams API on tokio: servers, a client and a benchmark.
#[derive(Debug, Parser)]
#[command(name = "aiostreams", version)]
struct Cli {
    /// Log events at LEVEL and above to stderr [default: RUST_LOG if set, else info].
    #[arg(long, value_enum, value_name = "LEVEL", global = true)]
    log_level: Option<logging::LogLevel>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve echo, lines, discard or a minimal HTTP/1.1 "Hello, World!" over TCP or Unix.
    Serve(serve::Args),
    /// Connect to a server: stdin to the socket, the socket to stdout (like netcat).
    Connect(connect::Args),
    /// Print a URL's HTTP response headers (the asyncio docs' example).
    Headers(headers::Args),
    /// Benchmark aiostreams against raw tokio, CPython asyncio and uvloop.
    Bench(bench::Args),
    /// The bench's raw tokio baseline server (used by `bench`).
    #[command(hide = true)]
    RawTokioServe(raw_tokio::Args),
    /// The bench's RESP servers: the resp_server example, or its raw tokio twin.
    #[command(hide = true)]
    RespServe(resp::Args),
    /// The bench's floor for bulk transfers: blocking std::net, 1 MiB buffers.
    #[command(hide = true)]
    FloorServe(mode::ListenArgs),
    /// One client cell's client for a fixed number of requests (used by `bench`).
    #[command(hide = true)]
    BenchClient(bench::ClientArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(problem) = logging::init(cli.log_level) {
        Cli::command()
            .error(ErrorKind::InvalidValue, problem)
            .exit();
    }
    if let Command::Connect(args) = &cli.command
        && let Some(problem) = args.usage_problem()
    {
        usage_error("connect", problem);
    }
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Headers(args) => headers::run(args),
        Command::Bench(args) => bench::run(args),
        Command::RawTokioServe(args) => raw_tokio::run(args),
        Command::RespServe(args) => resp::run(args),
        Command::FloorServe(args) => floor::run(args),
        Command::BenchClient(args) => bench::run_client(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aiostreams: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exits with status 2 and `message`, as clap does for bad arguments of `subcommand`.
fn usage_error(subcommand: &str, message: &str) -> ! {
    let mut cli = Cli::command();
    cli.build();
    let sub = cli
        .find_subcommand_mut(subcommand)
        .expect("a known subcommand");
    sub.error(ErrorKind::MissingRequiredArgument, message)
        .exit()
}

/// True when the error is a write to a closed pipe (stdout piped into `head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
