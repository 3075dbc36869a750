//! `start_server`, `start_unix_server` and the [`Server`] lifecycle.

mod accept;
mod admission;
mod bind;
mod core;
mod listener;
mod options;
mod protocols;
mod serve;
mod shutdown;
#[cfg(unix)]
mod unix;

use std::fmt;
use std::sync::Arc;

pub use accept::{BoxError, ClientConnected, HandlerResult};
pub use bind::Hosts;
pub use options::{DEFAULT_LINGER, ServerOptions};
pub use protocols::create_server;
#[cfg(unix)]
pub use protocols::create_unix_server;
pub use shutdown::ShutdownReport;

use crate::Error;
use crate::transport::SocketAddress;
use core::Core;

/// Starts a TCP server that runs `client_connected_cb(reader, writer)` for every client.
///
/// asyncio: `await asyncio.start_server(client_connected_cb, host, port)`. `host` is a
/// name or address, `""` for every interface, or a list (see [`Hosts`]); port 0 picks
/// an ephemeral port per socket, reported by [`Server::sockets`]. The callback's future
/// runs on its own task; if it returns an error or panics, that is logged through
/// `tracing` with the peer's address, the connection is closed, and the server goes on.
///
/// # Errors
///
/// Resolution errors, and bind errors with asyncio's text
/// (`error while attempting to bind on address ('h', p): [errno 98] address already in use`).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no socket bound.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::{StreamReader, StreamWriter, open_connection, start_server};
///
/// async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), aiostreams::Error> {
///     let line = reader.readline().await?;
///     writer.write(&line)?;
///     writer.drain().await
/// }
///
/// let server = start_server(echo, "127.0.0.1", 0).await?;
/// let port = server.sockets()[0].as_inet().unwrap().port();
/// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
/// writer.write(b"hello world!\n")?;
/// assert_eq!(reader.readline().await?, "hello world!\n");
/// server.close();
/// # Ok(()) }
/// ```
///
/// State shared by every connection: clone an `Arc` into each callback (the RESP example,
/// `examples/resp_server.rs`, keeps its keyspace this way). Hold a `std::sync::Mutex`
/// only between awaits, never across one; here a `SET key value` / `GET key` line
/// protocol:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
///
/// use aiostreams::{Bytes, Error, StreamReader, StreamWriter, open_connection, start_server};
///
/// type Db = Arc<Mutex<HashMap<Bytes, Bytes>>>;
///
/// async fn serve(mut reader: StreamReader, writer: StreamWriter, db: Db) -> Result<(), Error> {
///     loop {
///         let line = reader.readline().await?;
///         if line.is_empty() {
///             return Ok(()); // EOF
///         }
///         let mut words = line.trim_ascii_end().split(|&b| b == b' ');
///         let answer = match (words.next(), words.next(), words.next()) {
///             (Some(b"SET"), Some(key), Some(value)) => {
///                 let (key, value) = (Bytes::copy_from_slice(key), Bytes::copy_from_slice(value));
///                 db.lock().unwrap().insert(key, value);
///                 Bytes::from_static(b"OK")
///             }
///             (Some(b"GET"), Some(key), None) => {
///                 db.lock().unwrap().get(key).cloned().unwrap_or_default()
///             }
///             _ => Bytes::from_static(b"ERR"),
///         };
///         writer.writelines([&answer[..], b"\n"])?;
///         writer.drain().await?;
///     }
/// }
///
/// let db = Db::default();
/// let server = start_server(move |r, w| serve(r, w, db.clone()), "127.0.0.1", 0).await?;
/// let port = server.sockets()[0].as_inet().unwrap().port();
/// let (mut reader_a, writer_a) = open_connection("127.0.0.1", port).await?;
/// let (mut reader_b, writer_b) = open_connection("127.0.0.1", port).await?;
/// writer_a.write(b"SET greeting hello\n")?;
/// assert_eq!(reader_a.readline().await?, "OK\n");
/// writer_b.write(b"GET greeting\n")?; // another connection sees it
/// assert_eq!(reader_b.readline().await?, "hello\n");
/// server.close();
/// # Ok(()) }
/// ```
pub async fn start_server(
    client_connected_cb: impl ClientConnected,
    host: impl Into<Hosts>,
    port: u16,
) -> Result<Server, Error> {
    ServerOptions::new()
        .start_server(client_connected_cb, host, port)
        .await
}

/// Starts a Unix socket server at `path` (a leading NUL byte: a Linux abstract name).
///
/// asyncio: `await asyncio.start_unix_server(client_connected_cb, path)`. A stale socket
/// file at `path` is removed first; any other file there makes binding fail and is left
/// alone. The socket file is removed on close unless it was replaced meanwhile.
///
/// # Errors
///
/// Bind errors (`Address '{path}' is already in use`).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no socket bound.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), aiostreams::Error> {
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("echo.sock");
/// use aiostreams::{StreamReader, StreamWriter, open_unix_connection, start_unix_server};
///
/// async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), aiostreams::Error> {
///     let line = reader.readline().await?;
///     writer.write(&line)?;
///     writer.drain().await
/// }
///
/// let server = start_unix_server(echo, &path).await?;
/// let (mut reader, writer) = open_unix_connection(&path).await?;
/// writer.write(b"over a Unix socket\n")?;
/// assert_eq!(reader.readline().await?, "over a Unix socket\n");
/// server.close();
/// # Ok(())
/// # }
/// ```
#[cfg(unix)]
pub async fn start_unix_server(
    client_connected_cb: impl ClientConnected,
    path: impl AsRef<std::path::Path>,
) -> Result<Server, Error> {
    ServerOptions::new()
        .start_unix_server(client_connected_cb, path)
        .await
}

impl ServerOptions {
    /// [`start_server`] with these options.
    ///
    /// # Errors
    ///
    /// As [`start_server`], plus [`Error::InvalidArgument`] for a zero limit,
    /// `max_connections` or `max_connections_per_ip`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call leaves no socket bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::ServerOptions;
    ///
    /// let server = ServerOptions::new()
    ///     .limit(1 << 20)
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(server.is_serving());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_server(
        self,
        client_connected_cb: impl ClientConnected,
        host: impl Into<Hosts>,
        port: u16,
    ) -> Result<Server, Error> {
        self.serve_tcp(client_connected_cb, host.into(), port).await
    }

    /// [`start_unix_server`] with these options.
    ///
    /// # Errors
    ///
    /// As [`start_unix_server`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call leaves no socket bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("app.sock");
    /// use aiostreams::ServerOptions;
    ///
    /// let server = ServerOptions::new()
    ///     .cleanup_socket(true)
    ///     .start_unix_server(|_reader, _writer| async {}, &path)
    ///     .await?;
    /// assert!(path.exists());
    /// server.close();
    /// assert!(!path.exists()); // the socket file is removed on close
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(unix)]
    pub async fn start_unix_server(
        self,
        client_connected_cb: impl ClientConnected,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Server, Error> {
        self.serve_unix(client_connected_cb, path.as_ref())
    }

    /// Binds `host:port` and serves each connection with `handler`.
    async fn serve_tcp<H: serve::Serve>(
        self,
        handler: H,
        host: Hosts,
        port: u16,
    ) -> Result<Server, Error> {
        self.check()?;
        let bound = bind::bind_tcp(&host, port, &self).await?;
        self.serve(handler, bound, None)
    }

    /// Binds the Unix socket `path` and serves each connection with `handler`.
    #[cfg(unix)]
    fn serve_unix<H: serve::Serve>(
        self,
        handler: H,
        path: &std::path::Path,
    ) -> Result<Server, Error> {
        self.check()?;
        if self.proxy.policy.is_some() {
            return Err(Error::InvalidArgument(
                "proxy_protocol is for TCP servers, not Unix sockets",
            ));
        }
        let (sock, cleanup) = unix::bind_unix(path)?;
        let cleanup = cleanup.filter(|_| self.cleanup_socket);
        self.serve(handler, vec![sock], cleanup)
    }

    /// Serves on an already bound (or listening) stream socket: TCP or Unix
    /// (asyncio `start_server(sock=...)` / `start_unix_server(sock=...)`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if `sock` is not a stream socket
    /// (`"A Stream Socket was expected"`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call leaves no socket bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::ServerOptions;
    ///
    /// // A socket bound elsewhere (inherited, or set up with options we do not cover).
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let port = listener.local_addr()?.port();
    /// let server = ServerOptions::new()
    ///     .serve_sock(|_reader, _writer| async {}, listener)
    ///     .await?;
    /// assert_eq!(server.sockets()[0].as_inet().unwrap().port(), port);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve_sock(
        self,
        client_connected_cb: impl ClientConnected,
        sock: impl Into<socket2::Socket>,
    ) -> Result<Server, Error> {
        self.check()?;
        let sock = sock.into();
        if sock.r#type()? != socket2::Type::STREAM {
            return Err(Error::InvalidArgument("A Stream Socket was expected"));
        }
        #[cfg(unix)]
        let cleanup = sock
            .local_addr()?
            .as_pathname()
            .and_then(unix::Cleanup::record)
            .filter(|_| self.cleanup_socket);
        #[cfg(not(unix))]
        let cleanup = None;
        self.serve(client_connected_cb, vec![sock], cleanup)
    }

    fn check(&self) -> Result<(), Error> {
        crate::reader::check_limit(self.limit)?;
        if self.max_connections == Some(0) {
            return Err(Error::InvalidArgument("max_connections must be at least 1"));
        }
        if self.max_connections_per_ip == Some(0) {
            return Err(Error::InvalidArgument(
                "max_connections_per_ip must be at least 1",
            ));
        }
        #[cfg(feature = "tls")]
        self.tls_timeouts.check(self.ssl.is_some())?;
        Ok(())
    }

    fn serve<H: serve::Serve>(
        self,
        handler: H,
        bound: Vec<socket2::Socket>,
        #[cfg(unix)] cleanup: Option<unix::Cleanup>,
        #[cfg(not(unix))] _cleanup: Option<()>,
    ) -> Result<Server, Error> {
        let start = self.start_serving;
        let core = Arc::new(Core::new(
            self,
            core::spawner(handler),
            bound,
            #[cfg(unix)]
            cleanup,
        ));
        if start {
            core.start_serving()?;
        }
        Ok(Server { core })
    }
}

/// A running server (asyncio's `Server`). Dropping it closes its listening sockets, as
/// leaving asyncio's `async with server` does; connected clients stay.
#[must_use = "dropping a Server closes it at once: keep it, or await `serve_forever()`"]
pub struct Server {
    core: Arc<Core>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.core.close();
    }
}

impl Server {
    /// The listening addresses (asyncio `sockets`); empty after [`close`](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let server = aiostreams::start_server(|_reader, _writer| async {}, "127.0.0.1", 0).await?;
    /// let addr = server.sockets()[0].as_inet().expect("a TCP listener");
    /// assert!(addr.ip().is_loopback() && addr.port() != 0);
    /// server.close();
    /// assert!(server.sockets().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn sockets(&self) -> Vec<SocketAddress> {
        self.core.sockets()
    }

    /// True between the start of serving and [`close`](Self::close). asyncio `is_serving()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let server = aiostreams::start_server(|_reader, _writer| async {}, "127.0.0.1", 0).await?;
    /// assert!(server.is_serving());
    /// server.close();
    /// assert!(!server.is_serving());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_serving(&self) -> bool {
        self.core.is_serving()
    }

    /// Starts listening and accepting. Idempotent. asyncio `start_serving()`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] (`"server is closed"`) after [`close`](Self::close).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: serving starts before the first await.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::ServerOptions;
    ///
    /// let server = ServerOptions::new()
    ///     .start_serving(false) // bind now, accept later
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(!server.is_serving());
    /// server.start_serving().await?;
    /// assert!(server.is_serving());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_serving(&self) -> Result<(), Error> {
        self.core.start_serving()?;
        tokio::task::yield_now().await;
        Ok(())
    }

    /// Serves until the server is closed. asyncio `serve_forever()`.
    ///
    /// Starts serving if needed. Returns `Ok` when [`close`](Self::close) is called
    /// from elsewhere.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] when the server is already closed (`"server is closed"`)
    /// or another `serve_forever()` is running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the server (asyncio closes it when `serve_forever()` is
    /// cancelled); await [`wait_closed`](Self::wait_closed) afterwards to wait for clients.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use std::sync::Arc;
    ///
    /// let server = Arc::new(
    ///     aiostreams::start_server(|_reader, _writer| async {}, "127.0.0.1", 0).await?,
    /// );
    /// let closer = server.clone();
    /// tokio::spawn(async move {
    ///     // In a real program: a signal, an admin command...
    ///     closer.close();
    /// });
    /// server.serve_forever().await?; // returns once closed
    /// server.wait_closed().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve_forever(&self) -> Result<(), Error> {
        self.core.set_serve_forever(true)?;
        let _guard = CloseOnDrop(&self.core);
        self.core.start_serving()?;
        loop {
            let mut notified = std::pin::pin!(self.core.notify.notified());
            notified.as_mut().enable();
            if self.core.is_closed() {
                return Ok(());
            }
            notified.await;
        }
    }

    /// Stops listening and closes the listening sockets; connected clients stay.
    /// Idempotent. asyncio `close()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let server = aiostreams::start_server(|_reader, _writer| async {}, "127.0.0.1", 0).await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// server.close();
    /// server.close(); // idempotent
    /// assert!(aiostreams::open_connection("127.0.0.1", port).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn close(&self) {
        self.core.close();
    }

    /// Closes every client connection gracefully (queued bytes are sent first).
    /// asyncio 3.13 `close_clients()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::StreamReader;
    ///
    /// // A handler that says when it runs, then reads until its client leaves.
    /// let (started, mut handlers) = tokio::sync::mpsc::unbounded_channel();
    /// let server = aiostreams::start_server(
    ///     move |mut reader: StreamReader, writer| {
    ///         let started = started.clone();
    ///         async move {
    ///             let _keep = writer; // the last writer handle closes the connection
    ///             let _ = started.send(());
    ///             let _ = reader.read_to_eof().await;
    ///         }
    ///     },
    ///     "127.0.0.1",
    ///     0,
    /// )
    /// .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, _writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// handlers.recv().await;
    /// server.close();
    /// server.close_clients();
    /// assert_eq!(reader.read(10).await?, ""); // the client sees EOF
    /// server.wait_closed().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn close_clients(&self) {
        for inner in self.core.connections() {
            inner.close();
        }
    }

    /// Aborts every client connection: queued bytes are dropped and each socket closed at
    /// once (as asyncio, without a reset: peers see EOF).
    /// asyncio 3.13 `abort_clients()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::StreamReader;
    ///
    /// // A handler that says when it runs, then reads until its client leaves.
    /// let (started, mut handlers) = tokio::sync::mpsc::unbounded_channel();
    /// let server = aiostreams::start_server(
    ///     move |mut reader: StreamReader, writer| {
    ///         let started = started.clone();
    ///         async move {
    ///             let _keep = writer; // the last writer handle closes the connection
    ///             let _ = started.send(());
    ///             let _ = reader.read_to_eof().await;
    ///         }
    ///     },
    ///     "127.0.0.1",
    ///     0,
    /// )
    /// .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, _writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// handlers.recv().await;
    /// server.close();
    /// server.abort_clients();
    /// assert_eq!(reader.read(10).await?, ""); // EOF, not a reset (as asyncio)
    /// server.wait_closed().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn abort_clients(&self) {
        for inner in self.core.connections() {
            inner.abort();
        }
    }

    /// The token cancelled when this server closes: the one
    /// [`ServerOptions::shutdown_signal`] gave before it started.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::ServerOptions;
    ///
    /// let options = ServerOptions::new();
    /// let signal = options.shutdown_signal();
    /// let server = options
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(!server.shutdown_signal().is_cancelled());
    /// server.close();
    /// assert!(signal.is_cancelled());
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown_signal(&self) -> tokio_util::sync::CancellationToken {
        self.core.shutdown_signal()
    }

    /// The server's counters: connections accepted, open, and closed by a timeout, a
    /// limit or an error; bytes in and out of every connection, open or closed.
    ///
    /// asyncio: none. Counting costs a relaxed atomic add per connection event, nothing
    /// per request (see [`ServerStats`](crate::ServerStats)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ServerOptions, StreamReader, StreamWriter, open_connection};
    ///
    /// let server = ServerOptions::new()
    ///     .start_server(
    ///         |mut r: StreamReader, w: StreamWriter| async move {
    ///             loop {
    ///                 let line = r.readline().await?; // echo lines until EOF
    ///                 if line.is_empty() {
    ///                     return w.drain().await;
    ///                 }
    ///                 w.write(&line)?;
    ///             }
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"hello\n")?;
    /// reader.readline().await?;
    /// let stats = server.stats();
    /// assert_eq!((stats.accepted, stats.active), (1, 1));
    /// assert_eq!((stats.bytes_in, stats.bytes_out), (6, 6));
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> crate::ServerStats {
        self.core.stats()
    }

    /// How many client connections are live: accepted and not yet lost.
    ///
    /// A connection in a lingering close (see
    /// [`ServerOptions::linger`](crate::ServerOptions::linger)) is over for the API and not
    /// counted here, as [`wait_closed`](Self::wait_closed) does not wait for it; its socket
    /// still holds its `max_connections` slot until it is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::StreamReader;
    ///
    /// // A handler that says when it runs, then reads until its client leaves.
    /// let (started, mut handlers) = tokio::sync::mpsc::unbounded_channel();
    /// let server = aiostreams::start_server(
    ///     move |mut reader: StreamReader, writer| {
    ///         let started = started.clone();
    ///         async move {
    ///             let _keep = writer; // the last writer handle closes the connection
    ///             let _ = started.send(());
    ///             let _ = reader.read_to_eof().await;
    ///         }
    ///     },
    ///     "127.0.0.1",
    ///     0,
    /// )
    /// .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// assert_eq!(server.active_connections(), 0);
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// handlers.recv().await;
    /// assert_eq!(server.active_connections(), 1);
    /// writer.close();
    /// server.close();
    /// server.wait_closed().await; // closed, and the client left
    /// assert_eq!(server.active_connections(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn active_connections(&self) -> usize {
        self.core.active_connections()
    }

    /// Waits until the server is closed **and** every client connection has ended.
    ///
    /// asyncio 3.12.1+ `wait_closed()`: the order of `close()` and `wait_closed()` does
    /// not matter; once both conditions held it returns at once forever.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let server = aiostreams::start_server(|_reader, _writer| async {}, "127.0.0.1", 0).await?;
    /// server.close();
    /// server.wait_closed().await; // closed, and no client left
    /// server.wait_closed().await; // returns at once from now on
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_closed(&self) {
        self.wait_finished(false).await;
    }

    /// `wait_closed()`; `with_lingering`: until lingering sockets are closed too.
    async fn wait_finished(&self, with_lingering: bool) {
        loop {
            let mut notified = std::pin::pin!(self.core.notify.notified());
            notified.as_mut().enable();
            if self.core.is_finished(with_lingering) {
                return;
            }
            notified.await;
        }
    }
}

struct CloseOnDrop<'a>(&'a Arc<Core>);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.set_serve_forever(false);
        self.0.close();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sockets: Vec<String> = self.sockets().iter().map(ToString::to_string).collect();
        write!(f, "<Server sockets=[{}]>", sockets.join(", "))
    }
}
