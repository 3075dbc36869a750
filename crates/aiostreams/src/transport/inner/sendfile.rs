//! `sendfile()`'s native path: the kernel copies from the file to the plain socket while
//! the state says `Layer::Sendfile` (writes queue behind, the flush task parks).

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::Inner;
use crate::Error;
use crate::transport::io::Socket;

/// How `sendfile()` sends: the kernel's copy, or read + write through the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendfileMode {
    /// Bytes are still queued: drain them, then ask again.
    QueueFirst,
    /// The socket is ours until [`Inner::end_sendfile`].
    Native,
    /// TLS, or no `sendfile(2)` here: read the file and `write()` it.
    Fallback,
}

impl Inner {
    /// Starts a `sendfile()` (the rules are `ConnState::on_sendfile_started`'s).
    pub(crate) fn begin_sendfile(&self) -> Result<SendfileMode, Error> {
        let mut g = self.lock();
        let native = cfg!(any(target_os = "linux", target_os = "android"))
            && self
                .socket
                .get()
                .as_ref()
                .is_some_and(Socket::is_plain_socket);
        if !native {
            return match g.conn.outcome() {
                Some(_) => Err(Error::ConnectionLost),
                None => Ok(SendfileMode::Fallback),
            };
        }
        Ok(match g.conn.on_sendfile_started()? {
            true => SendfileMode::Native,
            false => SendfileMode::QueueFirst,
        })
    }

    /// The native `sendfile()` ended or was dropped: queued bytes, a waiting close or
    /// `write_eof()` go on.
    pub(crate) fn end_sendfile(self: &Arc<Self>) {
        let mut g = self.lock();
        g.conn.on_sendfile_ended();
        if !g.conn.is_lost() {
            crate::transport::flush::kick(self, &mut g);
        }
    }

    /// One `sendfile(2)` of up to `count` bytes from `file` at `*offset` (advanced by
    /// what was sent) once the socket is writable; `Ok(0)` at the file's end. An error
    /// ends the connection, as a failed send does.
    pub(crate) fn poll_sendfile(
        &self,
        cx: &mut Context<'_>,
        file: &File,
        offset: &mut u64,
        count: usize,
    ) -> Poll<Result<usize, Error>> {
        let guard = self.socket.get();
        let result = match guard.as_ref() {
            None => return Poll::Ready(Err(Error::ConnectionLost)),
            Some(socket) => ready!(send_file(socket, cx, file, offset, count)),
        };
        drop(guard);
        Poll::Ready(result.map_err(|e| {
            let err = Error::from(e);
            self.connection_lost(&mut self.lock(), Err(err.clone()));
            err
        }))
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_file(
    socket: &Socket,
    cx: &mut Context<'_>,
    file: &File,
    offset: &mut u64,
    count: usize,
) -> Poll<io::Result<usize>> {
    use tokio::io::Interest;
    macro_rules! attempt {
        ($s:expr) => {
            loop {
                ready!($s.poll_write_ready(cx))?;
                // `try_io` clears the write readiness when the kernel would block.
                match $s.try_io(Interest::WRITABLE, || {
                    rustix::fs::sendfile($s, file, Some(&mut *offset), count)
                        .map_err(io::Error::from)
                }) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => return Poll::Ready(other),
                }
            }
        };
    }
    match socket {
        Socket::Tcp(s) => attempt!(s),
        Socket::Unix(s) => attempt!(s),
        _ => Poll::Ready(Err(io::ErrorKind::Unsupported.into())),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_file(
    _socket: &Socket,
    _cx: &mut Context<'_>,
    _file: &File,
    _offset: &mut u64,
    _count: usize,
) -> Poll<io::Result<usize>> {
    // `begin_sendfile` chooses the fallback on these systems.
    Poll::Ready(Err(io::ErrorKind::Unsupported.into()))
}
