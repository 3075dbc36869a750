//! Connecting with [`ConnectOptions`]: over TCP (`open_connection`), a Unix socket
//! (`open_unix_connection`) or a socket connected elsewhere (`sock=`), with TLS when
//! it is set.

use super::ConnectOptions;
use crate::connect::accepts::Entry;
use crate::connect::tcp::{TcpConnectOptions, connect_tcp, with_deadline};
use crate::reader::check_limit;
use crate::transport::io::Socket;
use crate::{Error, StreamReader, StreamWriter};

impl ConnectOptions {
    /// Connects to `host:port`. See [`open_connection`].
    ///
    /// [`open_connection`]: super::open_connection
    ///
    /// # Errors
    ///
    /// As [`open_connection`], plus [`Error::InvalidArgument`] for a zero limit.
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
    /// # let server = aiostreams::start_server(
    /// #     |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
    /// #         while let Ok(line) = r.readline().await {
    /// #             if line.is_empty() || w.write(&line).is_err() { break; }
    /// #         }
    /// #     },
    /// #     "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = aiostreams::ConnectOptions::new()
    ///     .limit(4096)
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// writer.write(b"hi\n")?;
    /// assert_eq!(reader.readline().await?, "hi\n");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Result<(StreamReader, StreamWriter), Error> {
        let limit = check_limit(self.limit)?;
        #[cfg(feature = "tls")]
        let tls = self.tls.prepare(Some(host))?;
        let stream = connect_tcp(host, port, &self.tcp).await?;
        let socket = Socket::Tcp(stream);
        #[cfg(feature = "tls")]
        return crate::connect::ssl::finish(socket, tls, self.timeouts, limit).await;
        #[cfg(not(feature = "tls"))]
        Ok(crate::Transport::builder(socket)
            .timeouts(self.timeouts)
            .streams(limit))
    }

    /// Connects to a Unix socket at `path`. See [`open_unix_connection`].
    ///
    /// [`open_unix_connection`]: super::open_unix_connection
    ///
    /// # Errors
    ///
    /// As [`open_unix_connection`], plus [`Error::InvalidArgument`] for a zero limit or
    /// a TCP option (`family`, `local_addr`, `happy_eyeballs_delay`, `interleave`,
    /// `nodelay`, `keepalive`); [`Error::TimedOut`] after `connect_timeout`.
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
    /// # let path = dir.path().join("app.sock");
    /// # let _server = aiostreams::start_unix_server(|_reader, _writer| async {}, &path).await?;
    /// use aiostreams::{ConnectOptions, Error};
    ///
    /// let (_reader, _writer) = ConnectOptions::new().limit(4096).connect_unix(&path).await?;
    /// // TCP options make no sense here, and are refused rather than ignored.
    /// let refused = ConnectOptions::new().keepalive(true).connect_unix(&path).await;
    /// assert!(matches!(refused, Err(Error::InvalidArgument(_))));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(unix)]
    pub async fn connect_unix(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<(StreamReader, StreamWriter), Error> {
        let limit = check_limit(self.limit)?;
        self.refuse_unused(Entry::Unix)?;
        #[cfg(feature = "tls")]
        let tls = self.tls.prepare(None)?;
        let socket = Socket::Unix(self.unix_stream(path.as_ref()).await?);
        #[cfg(feature = "tls")]
        return crate::connect::ssl::finish(socket, tls, self.timeouts, limit).await;
        #[cfg(not(feature = "tls"))]
        Ok(crate::Transport::builder(socket)
            .timeouts(self.timeouts)
            .streams(limit))
    }

    /// Connects the Unix stream socket at `path` (a leading NUL: a Linux abstract name)
    /// within `connect_timeout`.
    #[cfg(unix)]
    pub(crate) async fn unix_stream(
        &self,
        path: &std::path::Path,
    ) -> Result<tokio::net::UnixStream, Error> {
        let connect = async {
            Ok(if crate::net::is_abstract(path) {
                let addr = socket2::SockAddr::unix(path)?;
                let sock =
                    socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
                sock.connect(&addr)?;
                sock.set_nonblocking(true)?;
                let std: std::os::unix::net::UnixStream = sock.into();
                tokio::net::UnixStream::from_std(std)?
            } else {
                tokio::net::UnixStream::connect(path).await?
            })
        };
        with_deadline(self.tcp.connect_timeout, "connect", connect).await
    }

    /// Wraps an already connected stream socket (asyncio `open_connection(sock=...)`):
    /// TCP, or a Unix stream socket (e.g. one end of a socketpair).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `sock` is not a stream socket
    /// (`"A Stream Socket was expected"`), the limit is zero, or an option that needs a
    /// connect (`family`, `local_addr`, `happy_eyeballs_delay`, `interleave`,
    /// `connect_timeout`) or TCP (`nodelay`, `keepalive` for a Unix socket) was set;
    /// [`Error::Io`] when it cannot be registered with the runtime.
    ///
    /// With TLS, `server_hostname` must be set (there is no host to take it from).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call closes the socket it was given (no TLS session is
    /// left half made).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    /// let (mut reader, writer) = aiostreams::ConnectOptions::new().connect_sock(ours).await?;
    /// let (mut peer_reader, peer_writer) = aiostreams::ConnectOptions::new().connect_sock(theirs).await?;
    /// writer.write(b"over a socketpair\n")?;
    /// assert_eq!(peer_reader.readline().await?, "over a socketpair\n");
    /// peer_writer.write(b"back\n")?;
    /// assert_eq!(reader.readline().await?, "back\n");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_sock(
        &self,
        sock: impl Into<socket2::Socket>,
    ) -> Result<(StreamReader, StreamWriter), Error> {
        let limit = check_limit(self.limit)?;
        #[cfg(feature = "tls")]
        let tls = self.tls.prepare(None)?;
        let socket = from_socket2(sock.into(), &self.tcp)?;
        self.refuse_unused(match socket {
            #[cfg(unix)]
            Socket::Unix(_) => Entry::SockUnix,
            _ => Entry::SockTcp,
        })?;
        #[cfg(feature = "tls")]
        return crate::connect::ssl::finish(socket, tls, self.timeouts, limit).await;
        #[cfg(not(feature = "tls"))]
        Ok(crate::Transport::builder(socket)
            .timeouts(self.timeouts)
            .streams(limit))
    }
}

/// Registers a connected socket2 socket with tokio, as TCP or Unix.
pub(crate) fn from_socket2(
    sock: socket2::Socket,
    opts: &TcpConnectOptions,
) -> Result<Socket, Error> {
    if sock.r#type()? != socket2::Type::STREAM {
        return Err(Error::InvalidArgument("A Stream Socket was expected"));
    }
    sock.set_nonblocking(true)?;
    let domain = sock.local_addr()?.domain();
    #[cfg(unix)]
    if domain == socket2::Domain::UNIX {
        let std: std::os::unix::net::UnixStream = sock.into();
        return Ok(Socket::Unix(tokio::net::UnixStream::from_std(std)?));
    }
    let _ = domain;
    sock.set_tcp_nodelay(opts.nodelay)?;
    if opts.keepalive {
        sock.set_keepalive(true)?;
    }
    opts.tuning.keepalive_on(socket2::SockRef::from(&sock))?;
    let std: std::net::TcpStream = sock.into();
    Ok(Socket::Tcp(tokio::net::TcpStream::from_std(std)?))
}
