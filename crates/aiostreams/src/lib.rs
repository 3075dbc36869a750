//! Python asyncio's streams API on tokio.
//!
//! aiostreams brings `asyncio.StreamReader`, `StreamWriter`, `open_connection`,
//! `start_server` and friends to Rust with asyncio's observable behaviour, edge case by
//! edge case, and what tokio lacks: a reader that owns its buffer, is bounded by a limit,
//! never loses bytes when a read is cancelled, keeps partial data on early EOF and
//! searches multi-byte separators.
//!
//! | asyncio | aiostreams |
//! |---|---|
//! | `StreamReader(limit=n)` | [`StreamReader::with_limit`], [`StreamReader::from_io`] |
//! | `reader.read(n)` / `read(-1)` | [`StreamReader::read`] / [`StreamReader::read_to_eof`] |
//! | `reader.readline()` | [`StreamReader::readline`] |
//! | `reader.readuntil(sep)` / `readuntil((a, b))` | [`StreamReader::readuntil`] / [`StreamReader::readuntil_any`] |
//! | `reader.readexactly(n)` | [`StreamReader::readexactly`] |
//! | `async for line in reader` | [`StreamReader::lines`] |
//! | `IncompleteReadError`, `LimitOverrunError` | [`Error::IncompleteRead`], [`Error::LimitOverrun`] |
//!
//! # Examples
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
//! use aiostreams::{Error, StreamReader};
//!
//! let mut reader = StreamReader::with_limit(8)?;
//! reader.feed_data(b"short\nfar too long a line\n")?;
//! assert_eq!(reader.readline().await?, "short\n");
//! assert!(matches!(reader.readline().await, Err(Error::LimitOverrun { .. })));
//! # Ok(()) }
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: feature-gated and Unix-only items get
// their "Available on ..." badge. Stable builds never see the attribute.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

// Layer 1, sans-I/O: the reader's rules (public), the write queue, the error type.
mod buffer;
mod error;
pub mod sansio;
// Layer 2, the byte pipe: shared plumbing, the transport and its TLS sessions.
mod net;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
// Layer 3, asyncio's API over a transport: reader, writer, protocol callbacks.
mod protocol;
mod reader;
mod writer;
// Layer 4, making connections: open_connection and start_server.
mod connect;
mod server;

pub use buffer::DEFAULT_HIGH_WATER;
#[cfg(unix)]
pub use connect::open_unix_connection;
pub use connect::{ConnectOptions, open_connection};
pub use error::{ConnectAttempt, Error};
pub use net::Family;
pub use protocol::{
    Protocol, ProtocolTask, StreamReaderProtocol, create_connection, create_connection_with,
};
pub use reader::{DEFAULT_LIMIT, Feeder, Lines, StreamReader};
#[cfg(unix)]
pub use server::start_unix_server;
pub use server::{
    BoxError, ClientConnected, HandlerResult, Hosts, Server, ServerOptions, ShutdownReport,
    start_server,
};
pub use transport::{ExtraInfo, PeerCredentials, SocketAddress, Transport};
pub use writer::StreamWriter;

// Every Rust block of the README is a doctest (`README.md` here is a link to the
// repository's README, so the path holds in the repository and in the packaged crate).
#[cfg(all(doctest, feature = "tls"))]
#[doc = include_str!("../README.md")]
mod readme {}
