//! `--log-level` and `RUST_LOG`: where the library's and the CLI's `tracing` events go.
//!
//! One line per event on stderr (stdout carries the data and the `Serving on` lines).
//! `--log-level LEVEL` wins; without it `RUST_LOG` (full `tracing-subscriber` filter
//! syntax, e.g. `aiostreams=debug`) is used when set; the default is `info`: accept
//! errors, handler errors, over-long lines and the shutdown summary, not per-connection
//! debug lines (a refused TLS handshake, an accept that failed and was skipped).

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// The least severe events to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogLevel {
    /// Nothing.
    Off,
    /// Failures: accept out of descriptors, a handler's error.
    Error,
    /// Also warnings: a connection closed for an over-long line.
    Warn,
    /// Also the shutdown summary (the default).
    Info,
    /// Also per-connection details: failed handshakes, skipped accepts.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn directive(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            // The library logs TLS handshakes its timeout cut at DEBUG (failed handshakes
            // are the client's business) on a target of their own: shown from `info`.
            LogLevel::Info => "info,aiostreams::timeout=debug",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Installs the stderr subscriber: `level` if given, else `RUST_LOG`, else `info`.
///
/// # Errors
///
/// A `RUST_LOG` that is not a valid filter, as a message for the user.
pub(crate) fn init(level: Option<LogLevel>) -> Result<(), String> {
    let filter = match (level, std::env::var("RUST_LOG")) {
        (Some(level), _) => EnvFilter::new(level.directive()),
        (None, Ok(directives)) => EnvFilter::try_new(&directives)
            .map_err(|e| format!("RUST_LOG={directives:?} is not a valid filter: {e}"))?,
        (None, Err(_)) => EnvFilter::new(LogLevel::Info.directive()),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}
