//! `--mode`: what a benchmark server does with each connection, and the flags the
//! reference servers (`floor-serve`, `raw-tokio-serve`) share.

use clap::ValueEnum;

/// A server's behaviour per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Mode {
    /// Send back every byte received, until EOF.
    Echo,
    /// Read a line, send it back, until EOF.
    Lines,
    /// Read and drop everything, until EOF.
    Discard,
    /// Answer every HTTP/1.1 request with `200 OK` and `Hello, World!` (keep-alive).
    HttpHello,
}

impl Mode {
    /// The flag value, as `--mode` spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Lines => "lines",
            Mode::Discard => "discard",
            Mode::HttpHello => "http-hello",
        }
    }
}

/// Where a reference server listens and what it does: the flags `floor-serve` and
/// `raw-tokio-serve` share.
#[derive(Debug, clap::Args)]
pub(crate) struct ListenArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// What to do with each connection (`floor-serve`: echo or discard).
    #[arg(long, value_enum)]
    pub(crate) mode: Mode,
}
