//! The socket under a transport: TCP, Unix or TLS, shared by the reader and the writer.
//!
//! Both halves work on `&Socket` (tokio's readiness API), so plain sockets take no lock
//! per read or write; a TLS socket locks its rustls session only around each step. The
//! `RwLock` of [`SocketSlot`] lets `close()`/`abort()` drop the descriptor while other
//! handles still point at the transport, and `start_tls` swap the socket in place.

use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::sync::{RwLock, RwLockReadGuard};
use std::task::{Context, Poll, ready};

use bytes::{BufMut, BytesMut};
use tokio::io::Interest;
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

use super::any_write::AnyWrite;
#[cfg(feature = "tls")]
use crate::tls::TlsSocket;

/// Whether a read that returns less than it asked for proves the socket empty: true with
/// the edge-triggered selectors (epoll, kqueue) tokio uses on these systems, as in tokio's
/// own `AsyncRead` for sockets (not with level-triggered ones: Windows, or mio forced to
/// use `poll`).
#[allow(
    unexpected_cfgs,
    reason = "mio_unsupported_force_poll_poll is mio's cfg, set through RUSTFLAGS"
)]
const SHORT_READ_DRAINS: bool = cfg!(all(
    not(mio_unsupported_force_poll_poll),
    any(
        target_os = "linux",
        target_os = "android",
        target_os = "illumos",
        target_os = "redox",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "macos",
        target_os = "ios",
        target_os = "tvos",
        target_os = "visionos",
        target_os = "watchos",
    )
));

/// A connected stream socket.
#[derive(Debug)]
pub(crate) enum Socket {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    #[cfg(feature = "tls")]
    Tls(Box<TlsSocket>),
    /// Any `AsyncWrite` (a pipe, a child's stdin, a duplex): write side only.
    Io(Box<AnyWrite>),
}

/// One body for both plain sockets, one for TLS, one for a generic writer.
macro_rules! plain {
    ($sock:expr, $s:ident => $body:expr, $tls:ident => $tls_body:expr, $io:ident => $io_body:expr) => {
        match $sock {
            Socket::Tcp($s) => $body,
            #[cfg(unix)]
            Socket::Unix($s) => $body,
            #[cfg(feature = "tls")]
            Socket::Tls($tls) => $tls_body,
            Socket::Io($io) => $io_body,
        }
    };
}

impl Socket {
    /// Reads up to `window` bytes (plaintext for TLS) into `buf`; `Ok(0)` at EOF.
    ///
    /// `ready` is the caller's guess, kept between calls, that the socket has input: set
    /// when the last wait for readiness was `Pending` (the next call is most likely its
    /// wake-up) or the last read filled its window. Then the read is tried first, and
    /// tokio's readiness round (its budget, the readiness check, the waker) runs only if
    /// the read would block: a request answered by one read costs one readiness round
    /// (the wait) instead of two. A wrong guess costs nothing but that round: the read
    /// goes through tokio's readiness (`try_io`), which answers `WouldBlock` without a
    /// system call when tokio saw no readiness. The task's budget is spent per read as
    /// tokio's own reads spend it, so a peer that always has input cannot keep one task
    /// reading forever.
    /// (Inlined into the reader's pull: about 35 instructions per call otherwise.)
    #[inline]
    pub(crate) fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        window: usize,
        ready: &mut bool,
    ) -> Poll<io::Result<usize>> {
        match self {
            Socket::Tcp(s) => poll_read_tcp(s, cx, buf, window, ready),
            #[cfg(unix)]
            Socket::Unix(s) => poll_read_plain(
                cx,
                buf,
                window,
                ready,
                |cx| s.poll_read_ready(cx),
                |buf| s.try_read_buf(&mut buf.limit(window)),
            ),
            #[cfg(feature = "tls")]
            Socket::Tls(tls) => tls.poll_read_buf(cx, buf, window),
            // Write side only: no reader pulls from it.
            Socket::Io(_) => Poll::Ready(Ok(0)),
        }
    }

    /// Raw readiness (TLS: of the socket under the session).
    #[cfg(feature = "tls")]
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        plain!(self, s => s.poll_read_ready(cx), tls => tls.raw().poll_read_ready(cx),
            _io => Poll::Ready(Ok(())))
    }

    /// Raw non-blocking read into a slice (used under a TLS session).
    #[cfg(feature = "tls")]
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        plain!(self, s => s.try_read(buf), tls => tls.raw().try_read(buf), _io => Ok(0))
    }

    /// Raw non-blocking write (used under a TLS session, and by `write()` to send a
    /// plain socket's bytes without queueing them).
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        plain!(self, s => s.try_write(buf), tls => tls.raw().try_write(buf), io => io.try_write(buf))
    }

    /// Waits until more can be written (TLS: until the session's records are sent).
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        plain!(self, s => s.poll_write_ready(cx), tls => tls.poll_flush(cx),
            io => io.poll_write_ready(cx))
    }

    /// Writes what the socket takes now; `WouldBlock` when it takes nothing.
    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        plain!(self, s => s.try_write_vectored(bufs), tls => tls.try_write_vectored(bufs),
            io => io.try_write_vectored(bufs))
    }

    /// Bytes written but still held in user space (TLS records not yet sent).
    #[inline]
    pub(crate) fn has_pending_output(&self) -> bool {
        plain!(self, _s => false, tls => tls.has_pending_output(), _io => false)
    }

    /// Sends pending TLS records without waiting; true when none are left.
    pub(crate) fn try_flush_output(&self) -> io::Result<bool> {
        plain!(self, _s => Ok(true), tls => tls.try_flush_output(), _io => Ok(true))
    }

    /// TCP or Unix, without TLS: what `detach()` can hand out.
    pub(crate) fn is_plain_socket(&self) -> bool {
        plain!(self, _s => true, _tls => false, _io => false)
    }

    pub(crate) fn is_tls(&self) -> bool {
        plain!(self, _s => false, _tls => true, _io => false)
    }

    /// The plain socket: a TLS socket's session is dropped (a lingering close reads raw).
    pub(crate) fn into_plain(self) -> Socket {
        match self {
            #[cfg(feature = "tls")]
            Socket::Tls(tls) => tls.into_raw(),
            plain => plain,
        }
    }

    /// The error the kernel reported for this socket (a peer's reset), taken from
    /// `SO_ERROR`, once tokio's reactor has seen error readiness (EPOLLERR).
    ///
    /// `try_io` with [`Interest::ERROR`] runs its closure only when tokio's readiness
    /// holds the error bit, so a healthy connection pays one atomic load and no system
    /// call. The closure answers `WouldBlock` when the error is already gone (a read took
    /// it), which clears that bit.
    #[inline]
    pub(crate) fn take_reported_error(&self) -> Option<io::Error> {
        plain!(self,
            s => s
                .try_io(Interest::ERROR, || match socket2::SockRef::from(s).take_error() {
                    Ok(Some(e)) => Ok(e),
                    Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                    Err(e) => Ok(e),
                })
                // The `Err` is only ever a `WouldBlock` (tokio's, or the one above): a
                // simple error with nothing to free, forgotten rather than dropped out
                // of line on every `drain()`.
                .map_or_else(|would_block| { std::mem::forget(would_block); None }, Some),
            tls => tls.raw().take_reported_error(),
            _io => None)
    }

    /// The socket; `None` for a generic writer, which has none.
    pub(crate) fn sock_ref(&self) -> Option<socket2::SockRef<'_>> {
        plain!(self, s => Some(socket2::SockRef::from(s)), tls => tls.raw().sock_ref(),
            _io => None)
    }

    /// Half-close: TCP FIN, or TLS close_notify (reading goes on in both cases); a
    /// generic writer is shut down and dropped (a pipe closes).
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        plain!(self, s => socket2::SockRef::from(s).shutdown(Shutdown::Write),
            tls => tls.send_close_notify(), io => io.shutdown())
    }
}

/// [`Socket::poll_read_buf`] of a TCP socket. The transport's pull calls it directly,
/// matching the socket's kind once: TCP leaves no TLS records to send and its EOF needs
/// no word to a TLS session.
#[inline]
pub(crate) fn poll_read_tcp(
    s: &TcpStream,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
    window: usize,
    ready: &mut bool,
) -> Poll<io::Result<usize>> {
    poll_read_plain(
        cx,
        buf,
        window,
        ready,
        |cx| s.poll_read_ready(cx),
        |buf| try_read_tcp(s, buf, window),
    )
}

/// One read of a plain socket into `buf`, up to `window` bytes (see
/// [`Socket::poll_read_buf`] for `ready`): `read` tries the non-blocking read (room for
/// the window reserved), `poll_ready` waits for readiness.
#[inline]
fn poll_read_plain(
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
    window: usize,
    ready: &mut bool,
    mut poll_ready: impl FnMut(&mut Context<'_>) -> Poll<io::Result<()>>,
    mut read: impl FnMut(&mut BytesMut) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        // Tokio's readiness wait spends the budget itself; a read tried first spends it
        // here (restored if the read would block).
        let budget = if *ready {
            Some(ready!(tokio::task::coop::poll_proceed(cx)))
        } else {
            match poll_ready(cx) {
                Poll::Pending => {
                    *ready = true;
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => None,
            }
        };
        crate::sansio::reserve_pull(buf, window);
        match read(buf) {
            Ok(n) => {
                if let Some(budget) = budget {
                    budget.made_progress();
                }
                *ready = n >= window;
                return Poll::Ready(Ok(n));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => *ready = false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// Reads up to `window` bytes from a TCP socket known to be ready.
///
/// As tokio's own `AsyncRead` for sockets does, a read that returns less than it asked
/// for proves the socket empty, so its readiness is cleared (by answering `WouldBlock`
/// to `try_io`, which clears only the readiness it saw before the read): the next pull
/// waits for the next event instead of making a read that fails with EAGAIN, one system
/// call less per request on a request/response connection. The read itself is one
/// `recv(2)` into the buffer's spare capacity ([`recv_into_spare`]), inside that one
/// `try_io`: tokio's `try_read_buf` would nest a second `try_io` (its readiness check,
/// which the outer one has just made) and two more layers of read (round 12 of issue 16).
/// (Not for Unix sockets: there a read stops early at a message that carries file
/// descriptors or credentials, so a short read proves nothing.)
fn try_read_tcp(s: &TcpStream, buf: &mut BytesMut, window: usize) -> io::Result<usize> {
    let mut got = None;
    let result = s.try_io(Interest::READABLE, || {
        let n = recv_into_spare(socket2::SockRef::from(s), buf, window)?;
        got = Some(n);
        if SHORT_READ_DRAINS && 0 < n && n < window {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(n)
        }
    });
    match got {
        // `result` is `Ok(n)`, or the `WouldBlock` made above only to clear the readiness:
        // a simple error with nothing to free, forgotten rather than passed to its
        // out-of-line drop (about 20 instructions per request).
        Some(n) => {
            std::mem::forget(result);
            Ok(n)
        }
        None => result,
    }
}

/// One `recv(2)` of at most `window` bytes into `buf`'s spare capacity, appended to it.
///
/// The crate's one `unsafe` (the library denies it everywhere else): a safe read into
/// `BytesMut` goes through an initialised slice, so it must either zero the spare
/// capacity first (a `memset` of the window on every pull) or go through tokio's
/// `try_read_buf`, which does this same `unsafe` step behind a second readiness check.
#[allow(
    unsafe_code,
    reason = "marks the bytes recv(2) wrote as initialised; see the SAFETY comment"
)]
#[inline]
fn recv_into_spare(
    sock: socket2::SockRef<'_>,
    buf: &mut BytesMut,
    window: usize,
) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let room = spare.len().min(window);
    let n = sock.recv(&mut spare[..room])?;
    // SAFETY: socket2's `recv` passes the slice to recv(2) and returns how many bytes
    // the kernel wrote at its start (it never writes uninitialised bytes into it), so
    // `n <= room <= spare.len()` and the `n` bytes after `buf.len()` are initialised
    // and within the allocation.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Reads and drops what is already in the kernel's receive buffer (bounded).
///
/// It reads the (non-blocking) descriptor directly: tokio's `try_read` trusts the
/// readiness it last saw and skips bytes that arrived since, e.g. the TLS 1.3 session
/// tickets of a client that never read; closing with them unread would send a RST.
fn discard_unread_input(socket: &Socket) {
    use std::io::Read;
    let Some(sock) = socket.sock_ref() else {
        return;
    };
    let mut raw: &socket2::Socket = &sock;
    let mut scratch = [0u8; 16 * 1024];
    for _ in 0..64 {
        match raw.read(&mut scratch) {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}

/// The socket slot: `None` once the transport has closed its descriptor.
#[derive(Debug)]
pub(crate) struct SocketSlot(RwLock<Option<Socket>>);

impl SocketSlot {
    pub(crate) fn new(socket: Socket) -> Self {
        SocketSlot(RwLock::new(Some(socket)))
    }

    /// (Inlined: `drain()`'s check runs in the caller's crate.)
    #[inline]
    pub(crate) fn get(&self) -> RwLockReadGuard<'_, Option<Socket>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the socket (start_tls); returns the old one.
    #[cfg(feature = "tls")]
    pub(crate) fn replace(&self, f: impl FnOnce(Socket) -> Socket) -> bool {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        match slot.take() {
            Some(old) => {
                *slot = Some(f(old));
                true
            }
            None => false,
        }
    }

    /// Takes the socket out if `keep_out` says so (`detach()`); the transport then has
    /// none, as after a close, but the descriptor stays open.
    pub(crate) fn take_if(&self, keep_out: impl FnOnce(&Socket) -> bool) -> Option<Socket> {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        slot.take_if(|s| keep_out(s))
    }

    /// Takes the socket out (a handshake's temporary slot).
    #[cfg(feature = "tls")]
    pub(crate) fn take(self) -> Option<Socket> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the socket out, to close it elsewhere (a lingering close).
    pub(crate) fn take_out(&self) -> Option<Socket> {
        self.0.write().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Closes the descriptor; with `reset`, SO_LINGER 0 makes the peer see a RST.
    ///
    /// A graceful close first discards input that already arrived and was never read:
    /// closing a socket with unread input makes the kernel send a RST, and the peer
    /// could then lose the answer we just sent (asyncio reads eagerly, so it rarely has
    /// unread input; our reader pulls only on demand).
    pub(crate) fn close(&self, reset: bool) {
        let socket = self.0.write().unwrap_or_else(|e| e.into_inner()).take();
        match &socket {
            Some(Socket::Io(io)) if reset => io.drop_now(),
            Some(Socket::Io(io)) => {
                let _ = io.shutdown();
            }
            Some(socket) if reset => {
                if let Some(sock) = socket.sock_ref() {
                    let _ = sock.set_linger(Some(std::time::Duration::ZERO));
                }
            }
            Some(socket) => discard_unread_input(socket),
            None => {}
        }
        drop(socket);
    }
}
