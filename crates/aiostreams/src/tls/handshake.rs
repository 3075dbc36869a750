//! Running a handshake over a socket that a transport may already own.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::error::handshake_error;
use super::{TlsConfig, TlsError, TlsSocket};
use crate::Error;
use crate::transport::io::{Socket, SocketSlot};

/// asyncio's `SSL_HANDSHAKE_TIMEOUT`.
pub const DEFAULT_SSL_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// asyncio's `SSL_SHUTDOWN_TIMEOUT`.
pub const DEFAULT_SSL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The socket in a slot as tokio I/O, for tokio-rustls's handshake; `prefix` bytes
/// (already received, e.g. a pipelined ClientHello) are read first.
struct SlotIo<'a> {
    slot: &'a SocketSlot,
    prefix: BytesMut,
}

fn with_socket<T>(slot: &SocketSlot, f: impl FnOnce(&Socket) -> io::Result<T>) -> io::Result<T> {
    match slot.get().as_ref() {
        Some(socket) => f(socket),
        None => Err(io::ErrorKind::NotConnected.into()),
    }
}

impl AsyncRead for SlotIo<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(out.remaining());
            out.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(with_socket(self.slot, |s| Ok(s.poll_read_ready(cx)))?)?;
            let unfilled = out.initialize_unfilled();
            match with_socket(self.slot, |s| s.try_read(unfilled)) {
                Ok(n) => {
                    out.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl SlotIo<'_> {
    /// One write by `write` once the socket is writable (again after a false readiness).
    fn poll_write_with(
        &self,
        cx: &mut Context<'_>,
        write: impl Fn(&Socket) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(with_socket(self.slot, |s| Ok(s.poll_write_ready(cx)))?)?;
            match with_socket(self.slot, &write) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }
}

impl AsyncWrite for SlotIo<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |s| s.try_write(buf))
    }

    /// Vectored, so that the one last write tokio-rustls makes after a failed handshake
    /// sends every queued record: the alert explaining the failure often sits behind
    /// the ServerHello, and would otherwise be dropped.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |s| s.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Which side of the handshake we are, with its configuration.
pub(crate) enum Side {
    Client(Arc<ClientConfig>, ServerName<'static>),
    Server(Arc<ServerConfig>),
}

/// Runs the handshake on the socket in `slot` and returns the rustls session.
///
/// # Errors
///
/// [`TlsError::HandshakeTimeout`] after `timeout`; certificate and protocol errors as
/// [`Error::Tls`]; a peer closing mid-handshake as a connection-reset I/O error.
pub(crate) async fn handshake(
    slot: &SocketSlot,
    side: Side,
    prefix: BytesMut,
    timeout: Duration,
) -> Result<(rustls::Connection, TlsConfig), Error> {
    let io = SlotIo { slot, prefix };
    let run = async move {
        match side {
            Side::Client(config, name) => {
                let stream = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, io)
                    .await?;
                let (io, session) = stream.into_inner();
                Ok::<_, io::Error>((io.prefix, session.into(), TlsConfig::Client(config)))
            }
            Side::Server(config) => {
                let stream = tokio_rustls::TlsAcceptor::from(config.clone())
                    .accept(io)
                    .await?;
                let (io, session) = stream.into_inner();
                Ok((io.prefix, session.into(), TlsConfig::Server(config)))
            }
        }
    };
    let (rest, mut session, config): (BytesMut, rustls::Connection, TlsConfig) =
        match tokio::time::timeout(timeout, run).await {
            Ok(result) => result.map_err(handshake_error)?,
            Err(_) => return Err(Error::Tls(TlsError::HandshakeTimeout(timeout))),
        };
    if !rest.is_empty() {
        // Records that arrived with the handshake belong to the session.
        session.read_tls(&mut &rest[..])?;
    }
    Ok((session, config))
}

/// Runs a handshake on a fresh socket and wraps it.
pub(crate) async fn wrap(socket: Socket, side: Side, timeout: Duration) -> Result<Socket, Error> {
    let slot = SocketSlot::new(socket);
    let (session, config) = handshake(&slot, side, BytesMut::new(), timeout).await?;
    let raw = slot.take().ok_or(Error::ConnectionLost)?;
    Ok(Socket::Tls(Box::new(TlsSocket::new(raw, session, config))))
}
