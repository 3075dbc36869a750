//! `open_connection` and its options builder.
//!
//! This file holds the two asyncio functions and the options themselves; the builder's
//! methods are grouped by concept:
//!
//! - [`new`]: asyncio's defaults;
//! - [`socket`]: how the connection is made: address family, local address, Happy
//!   Eyeballs, the connect timeout, TCP options, a hook on the socket;
//! - [`streams`]: what the returned streams get: the reader's limit, the read, write and
//!   idle timeouts;
//! - [`connect`]: connecting with the options, over TCP, a Unix socket or a given socket.

use super::accepts::Given;
use super::tcp::TcpConnectOptions;
use crate::transport::Timeouts;
use crate::{Error, StreamReader, StreamWriter};

// rustdoc lists the methods in the order of these modules: the constructor first.
mod new;

mod socket;

mod streams;

mod connect;

/// Opens a TCP connection and returns its reader and writer.
///
/// asyncio: `await asyncio.open_connection(host, port)`. Uses the default options; see
/// [`ConnectOptions`] for asyncio's keywords (`limit`, `local_addr`, `family`, `sock`,
/// `happy_eyeballs_delay`, `interleave`) and more.
///
/// # Errors
///
/// [`Error::Connect`] listing every address tried and its error when no address
/// accepted the connection; an [`Error::Io`] naming the host when it does not resolve.
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no connection open.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let port = listener.local_addr()?.port();
/// # tokio::spawn(async move {
/// #     let (mut s, _) = listener.accept().await.unwrap();
/// #     let (mut r, mut w) = s.split();
/// #     tokio::io::copy(&mut r, &mut w).await.unwrap();
/// # });
/// let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
/// writer.write(b"Hello World!\n")?;
/// assert_eq!(reader.readline().await?, "Hello World!\n");
/// writer.close();
/// writer.wait_closed().await?;
/// # Ok(()) }
/// ```
pub async fn open_connection(host: &str, port: u16) -> Result<(StreamReader, StreamWriter), Error> {
    ConnectOptions::new().connect(host, port).await
}

/// Opens a Unix socket connection to `path` (a leading NUL byte: a Linux abstract name).
///
/// asyncio: `await asyncio.open_unix_connection(path)`.
///
/// # Errors
///
/// [`Error::Io`] when the connection fails (e.g. no such file, connection refused).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no connection open.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), aiostreams::Error> {
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("echo.sock");
/// # let _server = aiostreams::start_unix_server(
/// #     |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
/// #         let line = r.readline().await.unwrap();
/// #         w.write(&line).unwrap();
/// #     },
/// #     &path,
/// # )
/// # .await?;
/// let (mut reader, writer) = aiostreams::open_unix_connection(&path).await?;
/// writer.write(b"ping\n")?;
/// assert_eq!(reader.readline().await?, "ping\n");
/// # Ok(())
/// # }
/// ```
#[cfg(unix)]
pub async fn open_unix_connection(
    path: impl AsRef<std::path::Path>,
) -> Result<(StreamReader, StreamWriter), Error> {
    ConnectOptions::new().connect_unix(path).await
}

/// asyncio's `open_connection` keywords, as a builder.
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), aiostreams::Error> {
/// use std::time::Duration;
/// let (_reader, _writer) = aiostreams::ConnectOptions::new()
///     .limit(1 << 20)
///     .happy_eyeballs_delay(Duration::from_millis(250))
///     .connect_timeout(Duration::from_secs(5))
///     .connect("localhost", 8888)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "options do nothing until `connect` (or another connect method) is awaited"]
pub struct ConnectOptions {
    limit: usize,
    tcp: TcpConnectOptions,
    pub(crate) timeouts: Timeouts,
    /// Options set by hand, so an entry point that cannot use one refuses it.
    pub(crate) given: Given,
    #[cfg(feature = "tls")]
    pub(crate) tls: super::ssl::ClientTlsOptions,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnectOptions {
    pub(crate) fn tcp(&self) -> &TcpConnectOptions {
        &self.tcp
    }
}
