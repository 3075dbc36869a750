//! asyncio's `loop.create_unix_connection(protocol_factory, path)`.

use super::driver::drive;
use super::{Protocol, ProtocolTask};
use crate::connect::{ConnectOptions, Entry};
use crate::transport::io::Socket;
use crate::{Error, Transport};

/// Connects to the Unix socket at `path` and drives a protocol made by `factory` on a
/// new task.
///
/// asyncio: `await loop.create_unix_connection(protocol_factory, path)`. As
/// [`create_connection`](super::create_connection): returns once `connection_made` ran,
/// with the transport and the task that yields the protocol back after
/// `connection_lost`. A leading NUL byte in `path` is a Linux abstract name.
///
/// # Errors
///
/// As [`open_unix_connection`](crate::open_unix_connection).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no connection open.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::{Bytes, Protocol, create_unix_connection, start_unix_server};
///
/// #[derive(Default)]
/// struct Collect(Vec<u8>);
/// impl Protocol for Collect {
///     fn data_received(&mut self, data: Bytes) {
///         self.0.extend_from_slice(&data);
///     }
/// }
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("hello.sock");
/// let _server = start_unix_server(
///     |_reader, writer: aiostreams::StreamWriter| async move { writer.write(b"hello") },
///     &path,
/// )
/// .await?;
/// let (_transport, task) = create_unix_connection(Collect::default, &path).await?;
/// let protocol = task.await.expect("the driver ran"); // after connection_lost
/// assert_eq!(protocol.0, b"hello");
/// # Ok(()) }
/// ```
pub async fn create_unix_connection<P: Protocol>(
    factory: impl FnOnce() -> P,
    path: impl AsRef<std::path::Path>,
) -> Result<(Transport, ProtocolTask<P>), Error> {
    create_unix_connection_with(factory, path, &ConnectOptions::new()).await
}

/// [`create_unix_connection`] with options: `connect_timeout` and TLS (`ssl`,
/// `server_hostname`, which a Unix socket needs for TLS, and the TLS timeouts).
///
/// # Errors
///
/// As [`ConnectOptions::connect_unix`], plus [`Error::InvalidArgument`] when a `limit`
/// was set (the protocol gets the bytes).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no connection open.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use std::time::Duration;
///
/// use aiostreams::{
///     Bytes, ConnectOptions, Error, Protocol, StreamWriter, create_unix_connection_with,
///     start_unix_server,
/// };
///
/// #[derive(Default)]
/// struct Collect(Vec<u8>);
/// impl Protocol for Collect {
///     fn data_received(&mut self, data: Bytes) {
///         self.0.extend_from_slice(&data);
///     }
/// }
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("hello.sock");
/// let _server =
///     start_unix_server(|_reader, writer: StreamWriter| async move { writer.write(b"hello") }, &path)
///         .await?;
/// let options = ConnectOptions::new().connect_timeout(Duration::from_secs(5));
/// let (_transport, task) = create_unix_connection_with(Collect::default, &path, &options).await?;
/// assert_eq!(task.await.expect("the driver ran").0, b"hello");
///
/// // A limit belongs to a StreamReader; the protocol gets the bytes.
/// let limited = ConnectOptions::new().limit(1024);
/// let refused = create_unix_connection_with(Collect::default, &path, &limited).await;
/// assert!(matches!(refused, Err(Error::InvalidArgument(_))));
/// # Ok(()) }
/// ```
pub async fn create_unix_connection_with<P: Protocol>(
    factory: impl FnOnce() -> P,
    path: impl AsRef<std::path::Path>,
    options: &ConnectOptions,
) -> Result<(Transport, ProtocolTask<P>), Error> {
    options.refuse_unused(Entry::Protocol)?;
    options.refuse_unused(Entry::Unix)?;
    #[cfg(feature = "tls")]
    let tls = options.tls.prepare(None)?;
    let socket = Socket::Unix(options.unix_stream(path.as_ref()).await?);
    #[cfg(feature = "tls")]
    let connection = crate::connect::handshake(socket, tls).await?;
    #[cfg(not(feature = "tls"))]
    let connection = Transport::builder(socket);
    Ok(drive(connection, factory()))
}
