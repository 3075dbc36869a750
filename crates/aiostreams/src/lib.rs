//! Python asyncio's streams API on tokio.
//!
//! aiostreams brings asyncio's `open_connection`, `start_server`, `StreamReader`,
//! `StreamWriter` and `Server` to Rust, over TCP, Unix sockets and TLS, with asyncio's
//! observable behaviour edge case by edge case (checked against CPython itself), and what
//! tokio lacks: a reader that owns its buffer, is bounded by a limit, never loses bytes
//! when a read is cancelled, keeps partial data on early EOF and searches multi-byte
//! separators; a writer with asyncio's `write()` + `drain()` water marks; a server with a
//! real lifecycle.
//!
//! # Quick start
//!
//! An echo server and a client, on a free port of 127.0.0.1:
//!
//! ```
//! use aiostreams::{Error, StreamReader, StreamWriter, open_connection, start_server};
//!
//! async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
//!     loop {
//!         let line = reader.readline().await?;
//!         if line.is_empty() {
//!             return Ok(()); // EOF
//!         }
//!         writer.write(&line)?; // never blocks: sent now or queued
//!         writer.drain().await?; // waits while too much is queued
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let server = start_server(echo, "127.0.0.1", 0).await?;
//!     let port = server.sockets()[0].as_inet().expect("a TCP listener").port();
//!
//!     let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
//!     writer.write(b"Hello World!\n")?;
//!     assert_eq!(reader.readline().await?, "Hello World!\n");
//!     writer.close();
//!     writer.wait_closed().await?;
//!     server.close();
//!     server.wait_closed().await;
//!     Ok(())
//! }
//! ```
//!
//! TLS (feature `tls`, on by default) is one option away: [`ServerOptions::ssl`] with a
//! [`tls::server_config_from_pem`] configuration, [`ConnectOptions::ssl`] for asyncio's
//! `ssl=True` (the system trust store, `SSL_CERT_FILE`/`SSL_CERT_DIR`, hostname check):
//!
//! ```no_run
//! # #![cfg_attr(not(feature = "tls"), allow(unused_imports, dead_code))]
//! # use aiostreams::{ConnectOptions, Error, ServerOptions, StreamReader, StreamWriter};
//! # #[cfg(feature = "tls")] use aiostreams::tls;
//! # async fn echo(_r: StreamReader, _w: StreamWriter) {}
//! # #[cfg(not(feature = "tls"))] fn main() {}
//! # #[cfg(feature = "tls")] #[tokio::main] async fn main() -> Result<(), Error> {
//! let config = tls::server_config_from_pem("cert.pem", "key.pem")?;
//! let _server = ServerOptions::new().ssl(config).start_server(echo, "0.0.0.0", 8443).await?;
//!
//! let (_reader, _writer) = ConnectOptions::new().ssl().connect("example.com", 443).await?;
//! # Ok(()) }
//! ```
//!
//! Upgrading a plaintext connection (STARTTLS) is [`StreamWriter::start_tls`].
//!
//! # asyncio -> aiostreams
//!
//! | asyncio | aiostreams |
//! |---|---|
//! | `await asyncio.open_connection(host, port, limit=, local_addr=, family=, happy_eyeballs_delay=, interleave=)` | [`open_connection`], or [`ConnectOptions`]`::new().limit(n).local_addr(h, p).family(f).happy_eyeballs_delay(d).interleave(n).connect(host, port)` (+ `nodelay`, `keepalive`, `connect_timeout`) |
//! | `open_connection(sock=s)` | [`ConnectOptions::connect_sock`] (TCP or Unix, std or socket2) |
//! | `open_connection(..., ssl=True / ctx, server_hostname=, ssl_handshake_timeout=, ssl_shutdown_timeout=)` | [`ConnectOptions::ssl`] / [`ConnectOptions::ssl_config`], `.server_hostname(..)`, `.ssl_handshake_timeout(d)`, `.ssl_shutdown_timeout(d)` |
//! | `await asyncio.open_unix_connection(path)` | [`open_unix_connection`] (leading NUL: Linux abstract name) |
//! | `await asyncio.start_server(cb, host, port, limit=, family=, backlog=, reuse_address=, reuse_port=, keep_alive=, sock=, start_serving=, ssl=)` | [`start_server`], or [`ServerOptions`]`::new().limit(n).family(f).backlog(n).reuse_address(b).reuse_port(b).keep_alive(b).start_serving(b).ssl(cfg).start_server(cb, host, port)`; [`ServerOptions::serve_sock`]; `host` may be `""` (all interfaces) or a list ([`Hosts`]) |
//! | `await asyncio.start_unix_server(cb, path, cleanup_socket=)` | [`start_unix_server`], [`ServerOptions::cleanup_socket`] |
//! | `server.sockets`, `is_serving()`, `start_serving()`, `serve_forever()`, `close()`, `wait_closed()`, `close_clients()`, `abort_clients()` | the same names on [`Server`]; dropping a `Server` closes it (`async with server`) |
//! | (beyond asyncio) | [`ServerOptions::max_connections`], [`ServerOptions::max_connections_per_ip`], [`ServerOptions::linger`] (lingering close), [`ServerOptions::listeners_per_address`] (SO_REUSEPORT), [`Server::shutdown`] -> [`ShutdownReport`], [`Server::active_connections`] |
//! | `StreamReader(limit=n)` | [`StreamReader::with_limit`] (fed by hand), [`StreamReader::from_io_with_limit`] (pulls from any `AsyncRead`) |
//! | `_DEFAULT_LIMIT` (64 KiB) | [`DEFAULT_LIMIT`] |
//! | `await reader.read(n)` / `read()` / `read(-1)` | [`StreamReader::read`] / [`StreamReader::read_to_eof`] (cancel safe, unlike asyncio's) |
//! | `await reader.readline()` | [`StreamReader::readline`] |
//! | `await reader.readuntil(sep)` / `readuntil((a, b))` (3.13) | [`StreamReader::readuntil`] / [`StreamReader::readuntil_any`] |
//! | `await reader.readexactly(n)` | [`StreamReader::readexactly`] |
//! | (beyond asyncio) | [`StreamReader::read_frame`] / [`StreamWriter::write_frame`] with a [`FrameSpec`] (length-prefixed frames), [`StreamReader::peek`]; feature `codec`: `StreamReader::decode`, `StreamReader::decoded`, `StreamWriter::encode` (tokio-util codecs on the reader's buffer) |
//! | `async for line in reader` | [`StreamReader::lines`] (a `Stream`) |
//! | `reader.at_eof()`, `feed_data(b)`, `feed_eof()`, `set_exception(e)`, `exception()` | the same names; from another task through [`StreamReader::feeder`] ([`Feeder`]) |
//! | `reader._buffer` | [`StreamReader::buffer`] |
//! | `writer.write(b)`, `writelines(l)`, `write_eof()`, `can_write_eof()`, `close()`, `is_closing()` | the same names on [`StreamWriter`] (`write` returns `Result` only for write-after-`write_eof`); [`StreamWriter::write_bytes`] zero-copy |
//! | `await writer.drain()`, `await writer.wait_closed()` | [`StreamWriter::drain`], [`StreamWriter::wait_closed`] (cancelling it does not poison it) |
//! | `await writer.start_tls(ctx, server_hostname=)` | [`StreamWriter::start_tls`]`(&mut reader, config, Some(name))` |
//! | `writer.get_extra_info('peername' / 'sockname' / 'socket' / 'sslcontext' / 'peercert' / 'cipher')` | [`StreamWriter::peername`], `sockname()`, [`Transport::with_socket`], `transport().tls_info()`, or [`StreamWriter::get_extra_info`]; `peer_credentials()` for Unix ([`PeerCredentials`]) |
//! | `writer.transport`: `set_write_buffer_limits()`, `get_write_buffer_size()`, `pause_reading()`, `abort()`... | [`StreamWriter::transport`]: the same names on [`Transport`] |
//! | `loop.create_connection(factory, host, port)`, `asyncio.Protocol`, `StreamReaderProtocol(reader)` | [`create_connection`] -> `(Transport, JoinHandle<P>)`, [`Protocol`], [`StreamReaderProtocol`] |
//! | `StreamWriter` over a pipe, stdout, a child's stdin | [`StreamWriter::from_io`] (any `AsyncWrite`) |
//! | `loop.connect_read_pipe(..)`, `loop.connect_write_pipe(..)` | [`connect_read_pipe`]`(fd)`, [`connect_write_pipe`]`(fd)` (Unix) |
//! | `asyncio.create_subprocess_exec(..)`, `create_subprocess_shell(..)`, `Process` | [`subprocess`] (Unix): [`subprocess::create_subprocess_exec`], [`subprocess::create_subprocess_shell`], [`subprocess::Process`] with `communicate`, `wait`, `returncode`, signals |
//! | `loop.create_server(protocol_factory, ..)`, `create_unix_server`, `create_unix_connection` | [`create_server`], [`ServerOptions::create_server`] (TLS), [`create_unix_server`], [`create_unix_connection`]`(_with)` (Unix) |
//! | `loop.sendfile(transport, file, offset, count)` | [`StreamWriter::sendfile`] (Unix; kernel copy on plain sockets, read + write on TLS) |
//! | (beyond asyncio) take the socket back after an upgrade | [`StreamWriter::detach`] -> [`Detached`] |
//! | `IncompleteReadError(partial, expected)`, `LimitOverrunError(msg, consumed)` | [`Error::IncompleteRead`], [`Error::LimitOverrun`] |
//! | `ValueError` from `readline()` (line too long) | [`Error::LimitOverrun`] (same message, same buffer clean-up) |
//! | `ValueError` (bad argument), `RuntimeError` (bad state) | [`Error::InvalidArgument`], [`Error::InvalidState`], asyncio's messages |
//! | `ConnectionResetError('Connection lost')` | [`Error::ConnectionLost`] |
//! | `OSError('Multiple exceptions: ...')` / `all_errors=True` | [`Error::Connect`] (every address and its error, [`ConnectAttempt`]) |
//! | `ssl.SSLCertVerificationError`, `ssl.SSLError`, handshake timeout | `Error::Tls(TlsError::{UntrustedIssuer, NameMismatch, Expired, NotYetValid, PeerAlert, HandshakeTimeout, ...})` |
//! | `RuntimeError: ... already waiting for incoming data` | impossible: reads take `&mut self` |
//!
//! [`StreamReader`] implements `AsyncRead` + `AsyncBufRead` and [`StreamWriter`]
//! implements `AsyncWrite` (with back-pressure), so tokio-util codecs and
//! `tokio::io::copy` work on them. (It is unrelated to `tokio_util::io::StreamReader`.)
//!
//! # Cancel safety
//!
//! Every async method says under `# Cancel safety` what dropping its future does. The
//! promise for reads: dropping any read future (`read`, `readline`, `readuntil`,
//! `readexactly`, `read_to_eof`, `read_frame`, `peek`, a `lines()` step) loses no byte; what it had gathered
//! stays buffered for the next read. `drain()` and `wait_closed()` may be dropped and
//! called again. The exceptions are named where they are: [`StreamWriter::start_tls`]
//! (a dropped handshake aborts the connection) and [`Server::serve_forever`] (dropping
//! it closes the server, as cancelling asyncio's does).
//!
//! # Features
//!
//! - `tls` (default): TLS through rustls with the ring provider: the `ssl` options of
//!   [`ConnectOptions`] and [`ServerOptions`], [`StreamWriter::start_tls`], and the
//!   `tls` module (configurations, [`tls::TlsError`], the negotiated
//!   [`tls::TlsInfo`]). Without it the crate has no C or assembly dependency.
//! - `aws-lc-rs`: TLS with rustls's aws-lc-rs provider instead of ring (implies `tls`):
//!   the post-quantum hybrid key exchange `X25519MLKEM768`, offered first, and the way to
//!   a FIPS build (rustls's `fips` feature). ring is still compiled but unused; building
//!   aws-lc-sys needs a C compiler.
//! - `codec`: tokio-util codecs on the reader's own buffer and into the write queue
//!   (`StreamReader::decode`, `StreamReader::decoded`, `StreamWriter::encode`); adds no
//!   dependency (tokio-util is one already), only its `codec` module.
//!
//! Unix sockets ([`open_unix_connection`], [`start_unix_server`], peer credentials),
//! pipes ([`connect_read_pipe`], [`connect_write_pipe`]), child processes
//! ([`subprocess`]) and [`StreamWriter::sendfile`] are available on Unix; docs.rs marks
//! each of them, and each feature-gated item, with its "Available on" badge.
//!
//! # Layers
//!
//! - **Streams** (what most programs use): [`open_connection`], [`start_server`],
//!   [`StreamReader`], [`StreamWriter`], [`Server`].
//! - **The protocol layer** ([`protocol`]), asyncio's `loop.create_connection` +
//!   `Protocol` callbacks: [`create_connection`], [`Protocol`], [`Transport`],
//!   [`StreamReaderProtocol`] (what the streams are built on; implement [`Protocol`] to
//!   receive bytes as callbacks). Its items are also re-exported at the crate root.
//! - **sans-I/O** ([`sansio`]): asyncio's reader rules with no I/O at all, for other
//!   runtimes (the Python package drives it from asyncio).
//!
//! # FAQ
//!
//! **Why doesn't `write()` block, or take `.await`?** As in asyncio, `write()` sends what
//! the socket takes at once and queues the rest; back-pressure is `drain().await`, which
//! waits while the queue is above its high-water mark ([`DEFAULT_HIGH_WATER`]) and reports
//! connection errors. Call it after writing, as asyncio code awaits `writer.drain()`.
//!
//! **Why did my server stop at once?** Dropping a [`Server`] closes it, as leaving
//! asyncio's `async with server:` does: keep it, or await [`Server::serve_forever`].
//!
//! **How do I read with a limit?** The reader's limit (default [`DEFAULT_LIMIT`], 64 KiB)
//! bounds a line or separator search: a longer line is [`Error::LimitOverrun`] and the
//! buffer is cleaned as asyncio does. Set it with [`ConnectOptions::limit`] or
//! [`ServerOptions::limit`].
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
//!
//! Every decision, and why, is in the repository's `docs/DESIGN.md`.

// docs.rs builds with `--cfg docsrs` on nightly: feature-gated and Unix-only items get
// their "Available on ..." badge. Stable builds never see the attribute.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
// Without `tls` the TLS items named above do not exist: their links go to the docs.rs
// pages (built with every feature), so `cargo doc --no-default-features` has no broken
// link.
#![cfg_attr(
    not(feature = "tls"),
    doc = "",
    doc = "[`ServerOptions::ssl`]: https://docs.rs/aiostreams/latest/aiostreams/struct.ServerOptions.html#method.ssl",
    doc = "[`ConnectOptions::ssl`]: https://docs.rs/aiostreams/latest/aiostreams/struct.ConnectOptions.html#method.ssl",
    doc = "[`ConnectOptions::ssl_config`]: https://docs.rs/aiostreams/latest/aiostreams/struct.ConnectOptions.html#method.ssl_config",
    doc = "[`StreamWriter::start_tls`]: https://docs.rs/aiostreams/latest/aiostreams/struct.StreamWriter.html#method.start_tls",
    doc = "[`tls::server_config_from_pem`]: https://docs.rs/aiostreams/latest/aiostreams/tls/fn.server_config_from_pem.html",
    doc = "[`tls::TlsError`]: https://docs.rs/aiostreams/latest/aiostreams/tls/enum.TlsError.html",
    doc = "[`tls::TlsInfo`]: https://docs.rs/aiostreams/latest/aiostreams/tls/struct.TlsInfo.html"
)]

// Layer 1, sans-I/O: the reader's rules (public), the write queue, the error type.
mod buffer;
mod error;
pub mod sansio;
// Layer 2, the byte pipe: shared plumbing, the transport and its TLS sessions.
mod net;
mod transport;
// Layer 3, asyncio's API over a transport: reader, writer, protocol callbacks.
pub mod protocol;
mod reader;
mod writer;
// (Layer 2's TLS sessions, declared after the writer: rustdoc lists a type's methods in
// the order it meets their impl blocks, and `StreamWriter::start_tls` is not the first.)
#[cfg(feature = "tls")]
pub mod tls;
// Beyond asyncio: length-prefixed frames, tokio-util codecs.
#[cfg(feature = "codec")]
mod codec;
mod frame;
// Observability: per-connection and per-server counters.
mod metrics;
// Layer 4, making connections: open_connection and start_server.
mod connect;
mod server;
// (Beyond asyncio: the PROXY protocol, after the server so that `ServerOptions` starts
// with its constructor on the docs page.)
mod proxy;
// Layer 5, streams beyond sockets: pipes and child processes.
#[cfg(unix)]
mod pipe;
#[cfg(unix)]
pub mod subprocess;

pub use buffer::DEFAULT_HIGH_WATER;
/// The byte buffer every read returns (re-exported from the `bytes` crate).
pub use bytes::Bytes;
#[cfg(feature = "codec")]
pub use codec::Decoded;
#[cfg(unix)]
pub use connect::open_unix_connection;
pub use connect::{ConnectOptions, open_connection};
pub use error::{ConnectAttempt, Error};
pub use metrics::{ConnectionStats, ServerStats};
pub use net::Family;
#[cfg(unix)]
pub use pipe::{connect_read_pipe, connect_read_pipe_with_limit, connect_write_pipe};
pub use protocol::{
    Protocol, ProtocolTask, StreamReaderProtocol, create_connection, create_connection_with,
};
#[cfg(unix)]
pub use protocol::{create_unix_connection, create_unix_connection_with};
pub use proxy::{DEFAULT_PROXY_HEADER_TIMEOUT, ProxyHeader, ProxyProtocol};
pub use reader::{DEFAULT_LIMIT, Feeder, Lines, StreamReader};
pub use sansio::{ByteOrder, FrameSpec, Overlong, RecordLimit};
pub use server::{
    BoxError, ClientConnected, DEFAULT_LINGER, HandlerResult, Hosts, Server, ServerOptions,
    ShutdownReport, create_server, start_server,
};
#[cfg(unix)]
pub use server::{create_unix_server, start_unix_server};
pub use transport::{ExtraInfo, PeerCredentials, SocketAddress, Transport};
pub use writer::{Detached, DetachedSocket, StreamWriter};

// Every Rust block of the README is a doctest (`README.md` here is a link to the
// repository's README, so the path holds in the repository and in the packaged crate).
#[cfg(all(doctest, feature = "tls"))]
#[doc = include_str!("../README.md")]
mod readme {}
