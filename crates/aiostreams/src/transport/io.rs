//! The socket under a transport: TCP or Unix, shared by the reader and the writer.
//!
//! Both halves work on `&Socket` (tokio's readiness API), so no lock is taken per read
//! or write; the `RwLock` only lets `close()`/`abort()` drop the descriptor while other
//! handles still point at the transport.

use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::sync::{RwLock, RwLockReadGuard};
use std::task::{Context, Poll};

use bytes::BufMut;
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

/// A connected stream socket.
#[derive(Debug)]
pub(crate) enum Socket {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

macro_rules! dispatch {
    ($sock:expr, $s:ident => $body:expr) => {
        match $sock {
            Socket::Tcp($s) => $body,
            #[cfg(unix)]
            Socket::Unix($s) => $body,
        }
    };
}

impl Socket {
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        dispatch!(self, s => s.poll_read_ready(cx))
    }

    pub(crate) fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        dispatch!(self, s => s.try_read_buf(buf))
    }

    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        dispatch!(self, s => s.poll_write_ready(cx))
    }

    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        dispatch!(self, s => s.try_write_vectored(bufs))
    }

    pub(crate) fn sock_ref(&self) -> socket2::SockRef<'_> {
        dispatch!(self, s => socket2::SockRef::from(s))
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.sock_ref().shutdown(Shutdown::Write)
    }
}

/// The socket slot: `None` once the transport has closed its descriptor.
#[derive(Debug)]
pub(crate) struct SocketSlot(RwLock<Option<Socket>>);

impl SocketSlot {
    pub(crate) fn new(socket: Socket) -> Self {
        SocketSlot(RwLock::new(Some(socket)))
    }

    pub(crate) fn get(&self) -> RwLockReadGuard<'_, Option<Socket>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the descriptor; with `reset`, SO_LINGER 0 makes the peer see a RST.
    pub(crate) fn close(&self, reset: bool) {
        let socket = self.0.write().unwrap_or_else(|e| e.into_inner()).take();
        if let (Some(socket), true) = (&socket, reset) {
            let _ = socket
                .sock_ref()
                .set_linger(Some(std::time::Duration::ZERO));
        }
        drop(socket);
    }
}
