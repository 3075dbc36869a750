//! `--mode`: what a benchmark server does with each connection.

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
