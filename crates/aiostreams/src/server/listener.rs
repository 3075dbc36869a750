//! Listening sockets: bound (not yet listening) and accepting.

use std::io;
use std::sync::RwLock;
use std::task::{Context, Poll};

use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;

use crate::transport::SocketAddress;
use crate::transport::io::Socket;

/// An accepting socket.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(UnixListener),
}

impl Listener {
    /// `listen(backlog)` on a bound socket, and registration with tokio.
    pub(crate) fn listen(sock: socket2::Socket, backlog: u32) -> io::Result<Self> {
        sock.listen(backlog.min(i32::MAX as u32) as i32)?;
        sock.set_nonblocking(true)?;
        #[cfg(unix)]
        if sock.local_addr()?.domain() == socket2::Domain::UNIX {
            let std: std::os::unix::net::UnixListener = sock.into();
            return Ok(Listener::Unix(UnixListener::from_std(std)?));
        }
        let std: std::net::TcpListener = sock.into();
        Ok(Listener::Tcp(TcpListener::from_std(std)?))
    }

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<Socket>> {
        match self {
            Listener::Tcp(l) => l.poll_accept(cx).map_ok(|(s, _)| Socket::Tcp(s)),
            #[cfg(unix)]
            Listener::Unix(l) => l.poll_accept(cx).map_ok(|(s, _)| Socket::Unix(s)),
        }
    }
}

/// Where a listening socket lives; `close()` empties it at once, closing the descriptor
/// even while its accept task still runs.
#[derive(Debug)]
pub(crate) struct ListenerSlot {
    pub(crate) addr: SocketAddress,
    slot: RwLock<Option<Listener>>,
}

impl ListenerSlot {
    pub(crate) fn new(listener: Listener, addr: SocketAddress) -> Self {
        ListenerSlot {
            addr,
            slot: RwLock::new(Some(listener)),
        }
    }

    /// The next connection; `None` once closed.
    pub(crate) fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Socket>>> {
        let guard = self.slot.read().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(listener) => listener.poll_accept(cx).map(Some),
            None => Poll::Ready(None),
        }
    }

    pub(crate) fn close(&self) {
        let listener = self.slot.write().unwrap_or_else(|e| e.into_inner()).take();
        drop(listener);
    }
}

/// The address a bound socket2 socket reports, as ours.
pub(crate) fn address_of(sock: &socket2::Socket) -> io::Result<SocketAddress> {
    let addr = sock.local_addr()?;
    if let Some(inet) = addr.as_socket() {
        return Ok(SocketAddress::Inet(inet));
    }
    #[cfg(unix)]
    {
        let fd = std::os::fd::AsFd::as_fd(sock);
        let std = std::os::unix::net::UnixListener::from(fd.try_clone_to_owned()?);
        return Ok(SocketAddress::Unix(Box::new(std.local_addr()?)));
    }
    #[allow(
        unreachable_code,
        reason = "reached only where Unix sockets do not exist"
    )]
    Err(io::Error::other("unsupported socket family"))
}
