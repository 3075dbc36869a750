//! What the bench measures (cells) and who is measured (implementations).

use clap::ValueEnum;

use crate::mode::Mode;

/// One benchmark scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Cell {
    /// 1 KiB echoed, 10 connections.
    #[value(name = "echo-1k-c10")]
    Echo1kC10,
    /// 10 KiB echoed, 10 connections.
    #[value(name = "echo-10k-c10")]
    Echo10kC10,
    /// 100 KiB echoed, 10 connections.
    #[value(name = "echo-100k-c10")]
    Echo100kC10,
    /// 1 KiB echoed, 100 connections.
    #[value(name = "echo-1k-c100")]
    Echo1kC100,
    /// One 100-byte line per request, 10 connections.
    #[value(name = "lines-x1-c10")]
    LinesX1C10,
    /// Five 100-byte lines in one write per request, 10 connections.
    #[value(name = "lines-x5-c10")]
    LinesX5C10,
    /// Server memory per idle connection, 1,000 connections.
    #[value(name = "idle-1000")]
    Idle1000,
    /// 1 KiB echoed over TLS, 10 connections (kept open: no handshakes measured).
    #[value(name = "tls-echo-1k-c10")]
    TlsEcho1kC10,
    /// 10 loops of connect, TLS handshake, 1-byte round trip, close.
    #[value(name = "tls-handshake-c10")]
    TlsHandshakeC10,
}

/// How a cell drives the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Load {
    /// Each connection loops: send `bytes`, read them back, verify.
    RoundTrips {
        /// Bytes per request (and per response).
        bytes: usize,
        /// Lines per request (0: raw bytes for `echo`).
        lines: usize,
        /// Concurrent connections.
        connections: usize,
    },
    /// Open `connections`, one tiny round trip each, then measure the server's memory.
    Idle {
        /// Connections held open.
        connections: usize,
    },
    /// `loops` concurrent loops of: connect, TLS handshake, a verified 1-byte round
    /// trip, close (close_notify, then the server's close); one request per loop.
    Handshakes {
        /// Concurrent loops.
        loops: usize,
    },
}

/// The length of each line in the `lines-*` cells, newline included.
pub(crate) const LINE_LEN: usize = 100;

impl Cell {
    /// Every cell, in report order.
    pub(crate) const ALL: [Cell; 9] = [
        Cell::Echo1kC10,
        Cell::Echo10kC10,
        Cell::Echo100kC10,
        Cell::Echo1kC100,
        Cell::LinesX1C10,
        Cell::LinesX5C10,
        Cell::Idle1000,
        Cell::TlsEcho1kC10,
        Cell::TlsHandshakeC10,
    ];

    /// The cell's name, as `--cells` spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Cell::Echo1kC10 => "echo-1k-c10",
            Cell::Echo10kC10 => "echo-10k-c10",
            Cell::Echo100kC10 => "echo-100k-c10",
            Cell::Echo1kC100 => "echo-1k-c100",
            Cell::LinesX1C10 => "lines-x1-c10",
            Cell::LinesX5C10 => "lines-x5-c10",
            Cell::Idle1000 => "idle-1000",
            Cell::TlsEcho1kC10 => "tls-echo-1k-c10",
            Cell::TlsHandshakeC10 => "tls-handshake-c10",
        }
    }

    /// Whether the cell runs over TLS.
    pub(crate) fn tls(self) -> bool {
        matches!(self, Cell::TlsEcho1kC10 | Cell::TlsHandshakeC10)
    }

    /// The server mode the cell needs.
    pub(crate) fn mode(self) -> Mode {
        match self {
            Cell::LinesX1C10 | Cell::LinesX5C10 => Mode::Lines,
            _ => Mode::Echo,
        }
    }

    /// How the cell drives the server.
    pub(crate) fn load(self) -> Load {
        let echo = |bytes, connections| Load::RoundTrips {
            bytes,
            lines: 0,
            connections,
        };
        let lines = |n| Load::RoundTrips {
            bytes: n * LINE_LEN,
            lines: n,
            connections: 10,
        };
        match self {
            Cell::Echo1kC10 | Cell::TlsEcho1kC10 => echo(1024, 10),
            Cell::Echo10kC10 => echo(10 * 1024, 10),
            Cell::Echo100kC10 => echo(100 * 1024, 10),
            Cell::Echo1kC100 => echo(1024, 100),
            Cell::LinesX1C10 => lines(1),
            Cell::LinesX5C10 => lines(5),
            Cell::Idle1000 => Load::Idle { connections: 1000 },
            Cell::TlsHandshakeC10 => Load::Handshakes { loops: 10 },
        }
    }
}

/// A server implementation under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Impl {
    /// `aiostreams serve`: this crate's server on the library.
    Aiostreams,
    /// `aiostreams raw-tokio-serve`: tokio alone, the reference (1.00x).
    Tokio,
    /// CPython asyncio streams (`bench/asyncio_server.py`).
    Asyncio,
    /// The same script on uvloop's event loop.
    Uvloop,
}

impl Impl {
    /// Every implementation, in report order.
    pub(crate) const ALL: [Impl; 4] = [Impl::Aiostreams, Impl::Tokio, Impl::Asyncio, Impl::Uvloop];

    /// The name, as `--impls` and the JSON spell it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Impl::Aiostreams => "aiostreams",
            Impl::Tokio => "tokio",
            Impl::Asyncio => "asyncio",
            Impl::Uvloop => "uvloop",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::{Cell, Impl};

    #[test]
    fn names_are_the_flag_values() {
        for cell in Cell::ALL {
            assert_eq!(cell.to_possible_value().unwrap().get_name(), cell.name());
        }
        for imp in Impl::ALL {
            assert_eq!(imp.to_possible_value().unwrap().get_name(), imp.name());
        }
    }
}
