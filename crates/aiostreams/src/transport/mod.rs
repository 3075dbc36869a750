//! [`Transport`]: the byte pipe of a connection and its control (asyncio's transports).

mod events;
mod extra;
mod flush;
pub(crate) mod inner;
pub(crate) mod io;
pub(crate) mod source;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Buf, Bytes};

pub(crate) use events::Event;
pub(crate) use extra::Extra;
pub use extra::{ExtraInfo, PeerCredentials, SocketAddress};

use crate::buffer::resolve_limits;
use crate::reader::shared::ReadFlow;
use crate::{Error, StreamReader};
use inner::Inner;
use io::Socket;

/// The write side and the control of one connection (asyncio's `Transport`).
///
/// A cheap `Clone + Send + Sync` handle. When the last handle is dropped the transport
/// is closed as by [`close`](Self::close) (asyncio closes a garbage-collected transport).
///
/// Writes never block. A [`write`](Self::write) that answers the last request (nothing
/// queued, the connection's reader holds no unread input) is sent at once, straight from
/// the caller's buffer. Otherwise, and for whatever the kernel does not take at once, the
/// bytes are queued, and they leave when the connection's reader next waits for input,
/// when [`StreamWriter::drain`] runs, or from a small per-connection flush task,
/// whichever comes first: answers to pipelined requests therefore leave in one `writev`.
///
/// [`StreamWriter::drain`]: crate::StreamWriter::drain
#[derive(Clone)]
pub struct Transport {
    handle: Arc<Handle>,
}

/// Closes the transport when the last user handle goes.
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.close();
    }
}

impl Transport {
    /// Wraps a connected socket; the caller must be inside a tokio runtime.
    pub(crate) fn new(socket: Socket) -> Self {
        let extra = extra_of(&socket);
        let inner = Arc::new(Inner::new(socket, extra, tokio::runtime::Handle::current()));
        Transport {
            handle: Arc::new(Handle { inner }),
        }
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// A reader that pulls from this transport's socket; connection loss reaches it.
    pub(crate) fn reader(&self, limit: usize) -> StreamReader {
        let source = source::TransportSource {
            inner: self.inner().clone(),
        };
        let reader = StreamReader::build(limit, Some(Box::new(source)));
        let _ = self.inner().reader.set(reader.feeder());
        reader
    }

    /// Queues `data` for sending; never blocks.
    ///
    /// asyncio: `transport.write(data)`. Empty data is a no-op. After the connection was
    /// closed or lost the bytes are silently dropped (a warning is logged from the fifth
    /// such write on), as in asyncio; the next `drain()` says why. Bytes written after
    /// [`close`](Self::close) while earlier bytes are still queued are still sent.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] (`"Cannot call write() after write_eof()"`) once
    /// [`write_eof`](Self::write_eof) was called.
    pub fn write(&self, data: &[u8]) -> Result<(), Error> {
        self.inner().write_with(
            "Cannot call write() after write_eof()",
            data,
            |q, data, sent| q.push(&data[sent..]),
        )
    }

    /// Queues an owned buffer without copying it (large buffers stay zero-copy).
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn write_bytes(&self, data: Bytes) -> Result<(), Error> {
        self.inner().write_with(
            "Cannot call write() after write_eof()",
            data,
            |q, mut data, sent| {
                data.advance(sent);
                q.push_bytes(data)
            },
        )
    }

    /// Queues several buffers in order, as one batch (empty ones are skipped).
    ///
    /// asyncio: `transport.writelines(list_of_data)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] (`"Cannot call writelines() after write_eof()"`).
    pub fn writelines<I>(&self, data: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        // Several buffers are always queued (none is sent on its own), then leave
        // together in one `writev`.
        self.inner().write_with(
            "Cannot call writelines() after write_eof()",
            b"",
            |q, _, _| {
                let mut paused = false;
                for piece in data {
                    paused |= q.push(piece.as_ref());
                }
                paused
            },
        )
    }

    /// Closes the write side once the queue is sent; reading goes on (TCP half-close).
    ///
    /// asyncio: `write_eof()`. No-op when closing or already called. Does not make
    /// [`is_closing`](Self::is_closing) true.
    pub fn write_eof(&self) {
        self.inner().write_eof();
    }

    /// True: TCP and Unix stream sockets can half-close, and so can TLS here (with
    /// close_notify, reading goes on; asyncio's TLS transport cannot).
    ///
    /// asyncio: `can_write_eof()`.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Stops reading, sends what is queued, then closes the connection.
    ///
    /// asyncio: `close()`. Idempotent. The reader sees EOF after its buffered bytes.
    pub fn close(&self) {
        self.inner().close();
    }

    /// Closes the connection at once, dropping queued bytes.
    ///
    /// asyncio: `abort()`. Like asyncio's, it closes the socket without SO_LINGER 0, so
    /// the peer sees EOF after the bytes already handed to the kernel, not a reset (input
    /// that arrived and was never read is discarded first, or closing would reset). A TLS
    /// connection sends no close_notify, so its peer sees a truncated session.
    pub fn abort(&self) {
        self.inner().abort();
    }

    /// True once [`close`](Self::close) or [`abort`](Self::abort) was called or the
    /// connection was lost. A peer's EOF or our [`write_eof`](Self::write_eof) does not
    /// count.
    ///
    /// asyncio: `is_closing()`.
    pub fn is_closing(&self) -> bool {
        self.inner().is_closing()
    }

    /// Bytes queued and not yet handed to the kernel.
    ///
    /// asyncio: `get_write_buffer_size()`.
    pub fn get_write_buffer_size(&self) -> usize {
        self.inner().lock().queue.len()
    }

    /// Sets the water marks `drain()` uses: it waits while more than `high` bytes are
    /// queued, until at most `low` are.
    ///
    /// asyncio: `set_write_buffer_limits(high=None, low=None)`: with neither, 64 KiB and
    /// 16 KiB; with only `low`, `high = 4 * low`; with only `high`, `low = high / 4`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `high < low`.
    pub fn set_write_buffer_limits(
        &self,
        high: Option<usize>,
        low: Option<usize>,
    ) -> Result<(), Error> {
        let (high, low) = resolve_limits(high, low)?;
        let inner = self.inner();
        if inner.lock().queue.set_limits(high, low) {
            inner.event(|e| e.pause_writing());
        }
        Ok(())
    }

    /// `(low, high)`, in asyncio's order.
    ///
    /// asyncio: `get_write_buffer_limits()`.
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.inner().lock().queue.limits()
    }

    /// Stops reading from the socket until [`resume_reading`](Self::resume_reading).
    ///
    /// asyncio: `pause_reading()`. No-op when closing or already paused.
    pub fn pause_reading(&self) {
        ReadFlow::pause_reading(&**self.inner());
    }

    /// Resumes reading. asyncio: `resume_reading()`.
    pub fn resume_reading(&self) {
        ReadFlow::resume_reading(&**self.inner());
    }

    /// True when neither closing nor paused. asyncio: `is_reading()`.
    pub fn is_reading(&self) -> bool {
        !self.is_closing() && !self.inner().reading_paused.load(Ordering::Acquire)
    }

    /// The remote address. asyncio: `get_extra_info('peername')`.
    pub fn peername(&self) -> Option<SocketAddress> {
        self.inner().extra.peername.clone()
    }

    /// The local address. asyncio: `get_extra_info('sockname')`.
    pub fn sockname(&self) -> Option<SocketAddress> {
        self.inner().extra.sockname.clone()
    }

    /// The Unix peer's credentials (SO_PEERCRED), beyond asyncio; `None` for TCP.
    pub fn peer_credentials(&self) -> Option<PeerCredentials> {
        self.inner().extra.peer_credentials
    }

    /// Runs `f` on the socket, borrowed as a [`socket2::SockRef`] (asyncio:
    /// `get_extra_info('socket')`); `None` once the socket is closed.
    pub fn with_socket<T>(&self, f: impl FnOnce(socket2::SockRef<'_>) -> T) -> Option<T> {
        let guard = self.inner().socket.get();
        guard.as_ref().map(|s| f(s.sock_ref()))
    }

    /// The TLS session's negotiated parameters (asyncio `'sslcontext'`, `'peercert'`,
    /// `'cipher'`); `None` for a plain connection.
    #[cfg(feature = "tls")]
    pub fn tls_info(&self) -> Option<crate::tls::TlsInfo> {
        match self.inner().socket.get().as_ref() {
            Some(Socket::Tls(tls)) => Some(tls.info()),
            _ => None,
        }
    }

    /// asyncio's `get_extra_info(name)` by name: `"peername"`, `"sockname"`,
    /// `"peercred"` (Unix), and for TLS `"sslcontext"`, `"peercert"` (`None` when the
    /// peer sent no certificate, as asyncio) and `"cipher"`, each as the whole
    /// [`TlsInfo`](crate::tls::TlsInfo); `None` for unknown keys (the `default` of
    /// asyncio). `"socket"` and `"ssl_object"` are `None`: use
    /// [`with_socket`](Self::with_socket) and [`tls_info`](Self::tls_info) (a Python
    /// object has no Rust equivalent that could be handed out by value).
    pub fn get_extra_info(&self, name: &str) -> Option<ExtraInfo> {
        match name {
            "peername" => self.peername().map(ExtraInfo::Address),
            "sockname" => self.sockname().map(ExtraInfo::Address),
            "peercred" => self.peer_credentials().map(ExtraInfo::PeerCredentials),
            #[cfg(feature = "tls")]
            "sslcontext" => self.tls_info().map(ExtraInfo::Tls),
            #[cfg(feature = "tls")]
            "peercert" => self
                .tls_info()
                .filter(|info| !info.peer_certificates.is_empty())
                .map(ExtraInfo::Tls),
            #[cfg(feature = "tls")]
            "cipher" => self
                .tls_info()
                .filter(|info| info.cipher.is_some())
                .map(ExtraInfo::Tls),
            _ => None,
        }
    }
}

fn extra_of(socket: &Socket) -> Extra {
    match socket {
        #[cfg(feature = "tls")]
        Socket::Tls(tls) => extra_of(tls.raw()),
        Socket::Tcp(s) => Extra {
            peername: s.peer_addr().ok().map(SocketAddress::Inet),
            sockname: s.local_addr().ok().map(SocketAddress::Inet),
            peer_credentials: None,
        },
        #[cfg(unix)]
        Socket::Unix(s) => Extra {
            peername: s
                .peer_addr()
                .ok()
                .map(|a| SocketAddress::Unix(Box::new(a.into()))),
            sockname: s
                .local_addr()
                .ok()
                .map(|a| SocketAddress::Unix(Box::new(a.into()))),
            peer_credentials: s.peer_cred().ok().map(|c| PeerCredentials {
                pid: c.pid(),
                uid: c.uid(),
                gid: c.gid(),
            }),
        },
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("peername", &self.inner().extra.peername)
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}
