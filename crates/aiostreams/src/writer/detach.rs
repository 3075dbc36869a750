//! `StreamWriter::detach`: hand the connection to another library (hyper, tungstenite)
//! with every byte the reader buffered and the writer had not sent.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

use super::StreamWriter;
use crate::transport::io::Socket;
use crate::{Error, StreamReader};

/// A connection taken back from its [`StreamReader`] and [`StreamWriter`] by
/// [`StreamWriter::detach`].
///
/// Nothing is lost if the new owner, before anything else, sends `write_buf` and treats
/// `read_buf` as the first bytes received (tokio-util: `FramedParts`' `write_buf` and
/// `read_buf`; tungstenite: `WebSocketStream::from_partially_read(socket, read_buf, ..)`).
#[derive(Debug)]
#[non_exhaustive]
pub struct Detached {
    /// The socket, still open and registered with the runtime.
    pub socket: DetachedSocket,
    /// Bytes received that the reader held and nobody read: the start of the input.
    pub read_buf: Bytes,
    /// Bytes written that the kernel had not taken yet: send them first.
    pub write_buf: Bytes,
}

/// The socket of a [`Detached`] connection. It is also an `AsyncRead` + `AsyncWrite`
/// itself, delegating to the stream inside.
#[derive(Debug)]
#[non_exhaustive]
pub enum DetachedSocket {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix stream connection.
    #[cfg(unix)]
    Unix(UnixStream),
}

impl StreamWriter {
    /// Takes the connection's socket back, with the bytes `reader` had buffered and the
    /// bytes this writer had queued, to hand it to another library after an upgrade
    /// (HTTP `Upgrade: websocket`, `CONNECT`, h2c).
    ///
    /// asyncio has no equivalent (its transports keep the socket); tokio-util:
    /// `Framed::into_parts()`. Nothing is sent or waited for: the queue comes back as
    /// [`Detached::write_buf`], the reader's buffer (fed bytes included) as
    /// [`Detached::read_buf`]. Afterwards the connection is over for this writer (and its
    /// clones) and for `reader`: writes are dropped, reads see EOF, `wait_closed()`
    /// returns `Ok`, and a server no longer counts the connection; the descriptor stays
    /// open in [`Detached::socket`]. A FIN already sent by [`write_eof`](Self::write_eof)
    /// stays sent. On an error nothing changes.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidArgument`] when `reader` is not this connection's reader;
    /// - [`Error::ConnectionLost`] when the connection was already closed or lost;
    /// - [`Error::InvalidState`] while closing, for a TLS connection (the session's state
    ///   is ours and rustls cannot hand it over), for a writer that is not over a socket
    ///   ([`from_io`](Self::from_io)), and while a `write_eof()` waits for the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let port = listener.local_addr()?.port();
    /// let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// peer.write_all(b"101 Switching Protocols\r\n\r\nframe-1").await?;
    /// assert_eq!(reader.readuntil(b"\r\n\r\n").await?, "101 Switching Protocols\r\n\r\n");
    ///
    /// let mut parts = writer.detach(&mut reader)?;
    /// assert_eq!(parts.read_buf, "frame-1"); // pulled with the head: not lost
    /// parts.socket.write_all(&parts.write_buf).await?; // empty here
    /// parts.socket.write_all(b"ours").await?;
    /// let mut got = [0; 4];
    /// peer.read_exact(&mut got).await?;
    /// assert_eq!(&got, b"ours");
    /// # Ok(()) }
    /// ```
    pub fn detach(&self, reader: &mut StreamReader) -> Result<Detached, Error> {
        let (socket, write_buf) = self.transport().detach(reader.feeder().shared())?;
        let socket = match socket {
            Socket::Tcp(s) => DetachedSocket::Tcp(s),
            #[cfg(unix)]
            Socket::Unix(s) => DetachedSocket::Unix(s),
            // The transport hands out plain sockets only.
            _ => return Err(Error::InvalidState("detach: the transport is not a socket")),
        };
        Ok(Detached {
            socket,
            read_buf: reader.take_buffered().freeze(),
            write_buf,
        })
    }
}

macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self.get_mut() {
            DetachedSocket::Tcp($s) => $body,
            #[cfg(unix)]
            DetachedSocket::Unix($s) => $body,
        }
    };
}

impl AsyncRead for DetachedSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for DetachedSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}
