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
    /// The client measured: 1 KiB echoes over 10 connections to the tokio echo server.
    #[value(name = "client-echo-1k-c10")]
    ClientEcho1kC10,
    /// The client measured: 16 lines written, then 16 read, per round, 10 connections.
    #[value(name = "client-pipeline-x16-c10")]
    ClientPipelineX16C10,
    /// One connection sends 1 GiB to `discard`.
    #[value(name = "bulk-1g")]
    Bulk1g,
    /// One connection sends 1 GiB to `echo` and reads it back.
    #[value(name = "bulk-echo-1g")]
    BulkEcho1g,
    /// One TLS connection sends 256 MiB to `discard`.
    #[value(name = "tls-bulk-256m")]
    TlsBulk256m,
    /// RESP SET/GET, 16 commands pipelined per connection, 50 connections.
    #[value(name = "resp-p16-c50")]
    RespP16C50,
    /// RESP SET/GET, one command at a time, 50 connections.
    #[value(name = "resp-p1-c50")]
    RespP1C50,
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
    /// The client under test (aiostreams or tokio, in this process) against the tokio
    /// server: each round writes `pipeline` requests of `bytes`, then reads the answers.
    Client {
        /// Bytes per request: raw bytes (`lines == 0`) or `LINE_LEN`-byte lines.
        bytes: usize,
        /// Lines per request (0: raw bytes, read back with `readexactly`).
        lines: usize,
        /// Requests written before the first answer is read.
        pipeline: usize,
        /// Concurrent connections.
        connections: usize,
    },
    /// One connection moves `bytes`: to `discard` (then waits for the server's close),
    /// or to `echo`, reading (and verifying) every byte back.
    Bulk {
        /// Bytes sent.
        bytes: u64,
        /// Whether the server echoes them.
        echo: bool,
    },
    /// RESP SET and GET, `pipeline` commands per write, over `connections`.
    Resp {
        /// Commands sent before the answers are read.
        pipeline: usize,
        /// Concurrent connections.
        connections: usize,
    },
}

/// The length of each line in the `lines-*` cells, newline included.
pub(crate) const LINE_LEN: usize = 100;

const MIB: u64 = 1024 * 1024;

impl Cell {
    /// Every cell, in report order.
    pub(crate) const ALL: [Cell; 16] = [
        Cell::Echo1kC10,
        Cell::Echo10kC10,
        Cell::Echo100kC10,
        Cell::Echo1kC100,
        Cell::LinesX1C10,
        Cell::LinesX5C10,
        Cell::Idle1000,
        Cell::TlsEcho1kC10,
        Cell::TlsHandshakeC10,
        Cell::ClientEcho1kC10,
        Cell::ClientPipelineX16C10,
        Cell::Bulk1g,
        Cell::BulkEcho1g,
        Cell::TlsBulk256m,
        Cell::RespP16C50,
        Cell::RespP1C50,
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
            Cell::ClientEcho1kC10 => "client-echo-1k-c10",
            Cell::ClientPipelineX16C10 => "client-pipeline-x16-c10",
            Cell::Bulk1g => "bulk-1g",
            Cell::BulkEcho1g => "bulk-echo-1g",
            Cell::TlsBulk256m => "tls-bulk-256m",
            Cell::RespP16C50 => "resp-p16-c50",
            Cell::RespP1C50 => "resp-p1-c50",
        }
    }

    /// Whether the cell runs over TLS.
    pub(crate) fn tls(self) -> bool {
        matches!(
            self,
            Cell::TlsEcho1kC10 | Cell::TlsHandshakeC10 | Cell::TlsBulk256m
        )
    }

    /// Whether the implementations compared are the cell's clients (the server is fixed).
    pub(crate) fn measures_client(self) -> bool {
        matches!(self.load(), Load::Client { .. })
    }

    /// Whether the cell speaks RESP.
    pub(crate) fn resp(self) -> bool {
        matches!(self.load(), Load::Resp { .. })
    }

    /// Whether the cell reports GB/s and CPU per GB.
    pub(crate) fn bulk(self) -> bool {
        matches!(self.load(), Load::Bulk { .. })
    }

    /// Whether an issue's target compares timed figures of this cell (bulk, RESP,
    /// client cells, `lines-x5-c10` against `tokio-buffered`): `bench` runs it more
    /// often on the implementations compared.
    pub(crate) fn timed_target(self) -> bool {
        self.bulk() || self.resp() || self.measures_client() || self == Cell::LinesX5C10
    }

    /// The server mode the cell needs (RESP cells: none; their servers speak RESP).
    pub(crate) fn mode(self) -> Mode {
        match self.load() {
            Load::RoundTrips { lines: 1.., .. } | Load::Client { lines: 1.., .. } => Mode::Lines,
            Load::Bulk { echo: false, .. } => Mode::Discard,
            _ => Mode::Echo,
        }
    }

    /// The server that runs when the cell measures `imp`: `imp` itself, except in the
    /// client cells, whose server is always the tokio one (the expert lines server for
    /// the pipeline cell, so that its answers to a round leave together).
    pub(crate) fn server(self, imp: Impl) -> Impl {
        match self {
            Cell::ClientEcho1kC10 => Impl::Tokio,
            Cell::ClientPipelineX16C10 => Impl::TokioBuffered,
            _ => imp,
        }
    }

    /// Whether the cell is measured on `imp`.
    pub(crate) fn runs(self, imp: Impl) -> bool {
        let lines = matches!(self, Cell::LinesX1C10 | Cell::LinesX5C10);
        match imp {
            Impl::Aiostreams | Impl::Tokio => true,
            Impl::TokioBuffered => lines,
            Impl::Floor => matches!(self, Cell::Bulk1g | Cell::BulkEcho1g),
            Impl::RedisServer => self.resp(),
            Impl::Asyncio | Impl::Uvloop | Impl::PyAiostreams | Impl::PyAiostreamsUvloop => {
                !self.measures_client() && !self.resp()
            }
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
            Cell::ClientEcho1kC10 => Load::Client {
                bytes: 1024,
                lines: 0,
                pipeline: 1,
                connections: 10,
            },
            Cell::ClientPipelineX16C10 => Load::Client {
                bytes: LINE_LEN,
                lines: 1,
                pipeline: 16,
                connections: 10,
            },
            Cell::Bulk1g => Load::Bulk {
                bytes: 1024 * MIB,
                echo: false,
            },
            Cell::BulkEcho1g => Load::Bulk {
                bytes: 1024 * MIB,
                echo: true,
            },
            Cell::TlsBulk256m => Load::Bulk {
                bytes: 256 * MIB,
                echo: false,
            },
            Cell::RespP16C50 => Load::Resp {
                pipeline: 16,
                connections: 50,
            },
            Cell::RespP1C50 => Load::Resp {
                pipeline: 1,
                connections: 50,
            },
        }
    }
}

/// An implementation under test: a server, or in the client cells a client.
///
/// The Python ones run `bench/asyncio_server.py`; each is skipped, with a note, when its
/// packages do not import (`uvloop`; `aiostreams`, the Python package of
/// `crates/aiostreams-py`, which the script installs in place of asyncio's streams).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Impl {
    /// `aiostreams serve`: this crate's server on the library (in the RESP cells the
    /// resp_server example; in the client cells the client on the library).
    Aiostreams,
    /// `aiostreams raw-tokio-serve`: tokio alone, the reference (1.00x); in the RESP and
    /// client cells the expert version (BufReader + BufWriter).
    Tokio,
    /// `raw-tokio-serve --buffered`: lines with BufReader + BufWriter, flushed when the
    /// read buffer is empty (the expert version of `tokio`).
    #[value(name = "tokio-buffered")]
    TokioBuffered,
    /// `floor-serve`: blocking std::net with 1 MiB buffers (bulk cells only).
    Floor,
    /// The real `redis-server` (RESP cells only), when installed.
    #[value(name = "redis-server")]
    RedisServer,
    /// CPython asyncio streams (`bench/asyncio_server.py`).
    Asyncio,
    /// The same script on uvloop's event loop.
    Uvloop,
    /// The same script with the aiostreams Python package installed over asyncio's
    /// streams (`aiostreams.install()`).
    #[value(name = "py-aiostreams")]
    PyAiostreams,
    /// `py-aiostreams` on uvloop.
    #[value(name = "py-aiostreams-uvloop")]
    PyAiostreamsUvloop,
}

impl Impl {
    /// Every implementation, in report order.
    pub(crate) const ALL: [Impl; 9] = [
        Impl::Aiostreams,
        Impl::Tokio,
        Impl::TokioBuffered,
        Impl::Floor,
        Impl::RedisServer,
        Impl::Asyncio,
        Impl::Uvloop,
        Impl::PyAiostreams,
        Impl::PyAiostreamsUvloop,
    ];

    /// The name, as `--impls` and the JSON spell it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Impl::Aiostreams => "aiostreams",
            Impl::Tokio => "tokio",
            Impl::TokioBuffered => "tokio-buffered",
            Impl::Floor => "floor",
            Impl::RedisServer => "redis-server",
            Impl::Asyncio => "asyncio",
            Impl::Uvloop => "uvloop",
            Impl::PyAiostreams => "py-aiostreams",
            Impl::PyAiostreamsUvloop => "py-aiostreams-uvloop",
        }
    }

    /// Whether it runs `bench/asyncio_server.py`.
    pub(crate) fn python(self) -> bool {
        matches!(
            self,
            Impl::Asyncio | Impl::Uvloop | Impl::PyAiostreams | Impl::PyAiostreamsUvloop
        )
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
        assert_eq!(Cell::ALL.len(), Cell::value_variants().len());
        assert_eq!(Impl::ALL.len(), Impl::value_variants().len());
    }

    #[test]
    fn every_cell_has_tokio_and_aiostreams() {
        for cell in Cell::ALL {
            assert!(
                cell.runs(Impl::Tokio) && cell.runs(Impl::Aiostreams),
                "{cell:?}"
            );
        }
        assert!(!Cell::RespP1C50.runs(Impl::Asyncio));
        assert!(Cell::RespP1C50.runs(Impl::RedisServer));
        assert!(Cell::LinesX5C10.runs(Impl::TokioBuffered));
        assert!(!Cell::Echo1kC10.runs(Impl::TokioBuffered));
    }
}
