//! [`TlsSocket`]: a rustls session over a plain socket, read and written in place.

use std::io::{self, BufRead, IoSlice, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use rustls::Connection;

use super::TlsConfig;
use super::error::tls_io_error;
use crate::net::retry;
use crate::transport::io::Socket;

/// A TLS session over a TCP or Unix socket.
///
/// The session is locked only around each step (decrypt what arrived, encrypt what is
/// queued), so the reader and the flush task share it as they share a plain socket.
#[derive(Debug)]
pub(crate) struct TlsSocket {
    raw: Socket,
    session: Mutex<Connection>,
    /// The socket under the session reached EOF.
    raw_eof: AtomicBool,
    pub(crate) config: TlsConfig,
}

/// `io::Read`/`io::Write` over a socket's non-blocking calls, for rustls.
struct RawIo<'a>(&'a Socket);

impl Read for RawIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for RawIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TlsSocket {
    pub(crate) fn new(raw: Socket, session: Connection, config: TlsConfig) -> Self {
        TlsSocket {
            raw,
            session: Mutex::new(session),
            raw_eof: AtomicBool::new(false),
            config,
        }
    }

    pub(crate) fn raw(&self) -> &Socket {
        &self.raw
    }

    /// The socket under the session (the session is dropped).
    pub(crate) fn into_raw(self) -> Socket {
        self.raw
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads up to `window` plaintext bytes; `Ok(0)` after the peer's close_notify.
    ///
    /// # Errors
    ///
    /// A TLS error (the alert is sent to the peer first), or `UnexpectedEof` when the
    /// socket ended without close_notify (a truncation).
    /// (Never inlined: it would swell the plain socket's pull, which it sits beside.)
    #[inline(never)]
    pub(crate) fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        window: usize,
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(result) = self.take_plaintext(buf, window) {
                return Poll::Ready(result);
            }
            ready!(self.raw.poll_read_ready(cx))?;
            let mut session = self.lock();
            match session.read_tls(&mut RawIo(&self.raw)) {
                Ok(0) => self.raw_eof.store(true, Ordering::Release),
                Ok(_) => {}
                Err(e) if retry(&e) => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// What the session can deliver now, or `None` if it needs more bytes.
    fn take_plaintext(&self, buf: &mut BytesMut, window: usize) -> Option<io::Result<usize>> {
        let mut session = self.lock();
        let state = match session.process_new_packets() {
            Ok(state) => state,
            Err(e) => {
                // Tell the peer why (the alert rustls queued), best effort.
                let _ = write_out(&mut session, &self.raw);
                return Some(Err(tls_io_error(e)));
            }
        };
        let _ = write_out(&mut session, &self.raw);
        let available = state.plaintext_bytes_to_read();
        if available > 0 {
            // Copied chunk by chunk from rustls' plaintext buffer (`fill_buf`), not read
            // into a zero-filled region: zeroing cost as much as the copy (callgrind).
            let n = available.min(window);
            // (The room for it: the thread's spare buffer, if the reader has none.)
            crate::sansio::reserve_pull(buf, n);
            let start = buf.len();
            let mut reader = session.reader();
            while buf.len() - start < n {
                let Ok(chunk) = reader.fill_buf() else { break };
                if chunk.is_empty() {
                    break;
                }
                let take = chunk.len().min(n - (buf.len() - start));
                buf.extend_from_slice(&chunk[..take]);
                reader.consume(take);
            }
            return Some(Ok(buf.len() - start));
        }
        if state.peer_has_closed() {
            return Some(Ok(0));
        }
        if self.raw_eof.load(Ordering::Acquire) {
            return Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed connection without sending TLS close_notify",
            )));
        }
        None
    }

    /// Encrypts as much of `bufs` as the session takes and sends what the socket takes.
    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut session = self.lock();
        write_out(&mut session, &self.raw)?;
        let n = session.writer().write_vectored(bufs)?;
        write_out(&mut session, &self.raw)?;
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    /// Sends pending records without waiting; true when none are left.
    pub(crate) fn try_flush_output(&self) -> io::Result<bool> {
        write_out(&mut self.lock(), &self.raw)
    }

    pub(crate) fn has_pending_output(&self) -> bool {
        self.lock().wants_write()
    }

    /// Waits until every pending record is sent.
    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut session = self.lock();
            if !session.wants_write() {
                return Poll::Ready(Ok(()));
            }
            ready!(self.raw.poll_write_ready(cx))?;
            match session.write_tls(&mut RawIo(&self.raw)) {
                Err(e) if !retry(&e) => return Poll::Ready(Err(e)),
                _ => {}
            }
        }
    }

    /// Queues close_notify (TLS half-close) and sends what the socket takes now.
    pub(crate) fn send_close_notify(&self) -> io::Result<()> {
        let mut session = self.lock();
        session.send_close_notify();
        write_out(&mut session, &self.raw).map(drop)
    }
}

/// Writes pending records until the socket would block; true when none are left.
fn write_out(session: &mut Connection, raw: &Socket) -> io::Result<bool> {
    while session.wants_write() {
        match session.write_tls(&mut RawIo(raw)) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
