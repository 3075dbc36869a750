//! asyncio's `loop.create_server(protocol_factory, ...)` and `create_unix_server`: a
//! server whose connections are driven by [`Protocol`]s instead of a streams callback.

use super::serve::Protocols;
use super::{Hosts, Server, ServerOptions};
use crate::{DEFAULT_LIMIT, Error, Protocol};

/// Starts a TCP server that makes a protocol with `protocol_factory()` for every client
/// and drives it with the connection's transport.
///
/// asyncio: `await loop.create_server(protocol_factory, host, port)`. The same server as
/// [`start_server`](crate::start_server)'s (its [`Server`] lifecycle, hosts, options, TLS
/// with [`ServerOptions::ssl`]); each connection calls, on its own task,
/// `connection_made(transport)`, `data_received` (up to 64 KiB per call),
/// `eof_received`, `pause_writing`/`resume_writing` and `connection_lost`, as
/// [`create_connection`](crate::create_connection) does on the client side. A factory or
/// callback that panics is logged and its connection closed; the server goes on.
///
/// # Errors
///
/// As [`start_server`](crate::start_server).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no socket bound.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::{Bytes, Protocol, Transport, create_server, open_connection};
///
/// /// asyncio's EchoServerProtocol.
/// #[derive(Default)]
/// struct Echo(Option<Transport>);
///
/// impl Protocol for Echo {
///     fn connection_made(&mut self, transport: Transport) {
///         self.0 = Some(transport);
///     }
///     fn data_received(&mut self, data: Bytes) {
///         let transport = self.0.as_ref().expect("connection_made ran");
///         let _ = transport.write_bytes(data);
///     }
/// }
///
/// let server = create_server(Echo::default, "127.0.0.1", 0).await?;
/// let port = server.sockets()[0].as_inet().unwrap().port();
/// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
/// writer.write(b"ping\n")?;
/// assert_eq!(reader.readline().await?, "ping\n");
/// # Ok(()) }
/// ```
#[cfg_attr(
    not(feature = "tls"),
    doc = "[`ServerOptions::ssl`]: https://docs.rs/aiostreams/latest/aiostreams/struct.ServerOptions.html#method.ssl"
)]
pub async fn create_server<P: Protocol>(
    protocol_factory: impl Fn() -> P + Send + Sync + 'static,
    host: impl Into<Hosts>,
    port: u16,
) -> Result<Server, Error> {
    ServerOptions::new()
        .create_server(protocol_factory, host, port)
        .await
}

/// Starts a Unix socket server at `path` whose connections are driven by protocols.
///
/// asyncio: `await loop.create_unix_server(protocol_factory, path)`. The socket file is
/// handled as by [`start_unix_server`](crate::start_unix_server).
///
/// # Errors
///
/// As [`start_unix_server`](crate::start_unix_server).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no socket bound.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::{Bytes, Protocol, Transport, create_unix_server, open_unix_connection};
///
/// /// asyncio's EchoServerProtocol.
/// #[derive(Default)]
/// struct Echo(Option<Transport>);
///
/// impl Protocol for Echo {
///     fn connection_made(&mut self, transport: Transport) {
///         self.0 = Some(transport);
///     }
///     fn data_received(&mut self, data: Bytes) {
///         let transport = self.0.as_ref().expect("connection_made ran");
///         let _ = transport.write_bytes(data);
///     }
/// }
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("echo.sock");
/// let _server = create_unix_server(Echo::default, &path).await?;
/// let (mut reader, writer) = open_unix_connection(&path).await?;
/// writer.write(b"ping\n")?;
/// assert_eq!(reader.readline().await?, "ping\n");
/// # Ok(()) }
/// ```
#[cfg(unix)]
pub async fn create_unix_server<P: Protocol>(
    protocol_factory: impl Fn() -> P + Send + Sync + 'static,
    path: impl AsRef<std::path::Path>,
) -> Result<Server, Error> {
    ServerOptions::new()
        .create_unix_server(protocol_factory, path)
        .await
}

impl ServerOptions {
    /// [`create_server`] with these options (TLS included).
    ///
    /// # Errors
    ///
    /// As [`start_server`](crate::start_server), plus [`Error::InvalidArgument`] when a
    /// `limit` other than the default was set: the protocol gets the bytes, the limit
    /// belongs to a [`StreamReader`](crate::StreamReader) it may feed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call leaves no socket bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Bytes, Error, Protocol, ServerOptions, Transport, open_connection};
    ///
    /// /// asyncio's EchoServerProtocol.
    /// #[derive(Default)]
    /// struct Echo(Option<Transport>);
    ///
    /// impl Protocol for Echo {
    ///     fn connection_made(&mut self, transport: Transport) {
    ///         self.0 = Some(transport);
    ///     }
    ///     fn data_received(&mut self, data: Bytes) {
    ///         let transport = self.0.as_ref().expect("connection_made ran");
    ///         let _ = transport.write_bytes(data);
    ///     }
    /// }
    ///
    /// let server = ServerOptions::new()
    ///     .nodelay(true)
    ///     .create_server(Echo::default, "127.0.0.1", 0)
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"ping\n")?;
    /// assert_eq!(reader.readline().await?, "ping\n");
    ///
    /// // A limit belongs to a StreamReader; the protocol gets the bytes.
    /// let limited = ServerOptions::new().limit(1024);
    /// let refused = limited.create_server(Echo::default, "127.0.0.1", 0).await;
    /// assert!(matches!(refused, Err(Error::InvalidArgument(_))));
    /// # Ok(()) }
    /// ```
    pub async fn create_server<P: Protocol>(
        self,
        protocol_factory: impl Fn() -> P + Send + Sync + 'static,
        host: impl Into<Hosts>,
        port: u16,
    ) -> Result<Server, Error> {
        self.refuse_limit()?;
        self.serve_tcp(Protocols(protocol_factory), host.into(), port)
            .await
    }

    /// [`create_unix_server`] with these options.
    ///
    /// # Errors
    ///
    /// As [`ServerOptions::create_server`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call leaves no socket bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Bytes, Protocol, ServerOptions, Transport, open_unix_connection};
    ///
    /// /// asyncio's EchoServerProtocol.
    /// #[derive(Default)]
    /// struct Echo(Option<Transport>);
    ///
    /// impl Protocol for Echo {
    ///     fn connection_made(&mut self, transport: Transport) {
    ///         self.0 = Some(transport);
    ///     }
    ///     fn data_received(&mut self, data: Bytes) {
    ///         let transport = self.0.as_ref().expect("connection_made ran");
    ///         let _ = transport.write_bytes(data);
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("echo.sock");
    /// let server = ServerOptions::new()
    ///     .backlog(16)
    ///     .create_unix_server(Echo::default, &path)
    ///     .await?;
    /// let (mut reader, writer) = open_unix_connection(&path).await?;
    /// writer.write(b"ping\n")?;
    /// assert_eq!(reader.readline().await?, "ping\n");
    /// drop((reader, writer)); // wait_closed() waits for the connections too
    /// server.close();
    /// server.wait_closed().await;
    /// assert!(!path.exists()); // closing removed the socket file (cleanup_socket)
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub async fn create_unix_server<P: Protocol>(
        self,
        protocol_factory: impl Fn() -> P + Send + Sync + 'static,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Server, Error> {
        self.refuse_limit()?;
        self.serve_unix(Protocols(protocol_factory), path.as_ref())
    }

    fn refuse_limit(&self) -> Result<(), Error> {
        match self.limit == DEFAULT_LIMIT {
            true => Ok(()),
            false => Err(Error::InvalidArgument(
                "create_server() takes no limit: the protocol gets the bytes \
                 (give the limit to the StreamReader it feeds)",
            )),
        }
    }
}
