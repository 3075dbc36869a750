//! [`Transport`]: the byte pipe of a connection and its control (asyncio's transports).
//!
//! Read in this order: `state.rs` (every rule of the write path and the lifecycle, as
//! data), `inner.rs` (the connection: socket, lock, wakers; carries the state's plans
//! out), `flush.rs` (the task that sends what `write()` queued), `source.rs` (the
//! reader's side), `builder.rs` (how a connection is wired, once), `io.rs` (the socket).
//!
//! # Lock order
//!
//! A thread holding one of these locks takes only locks further down the list:
//! 1. the connection's state lock (`Inner::lock`);
//! 2. the socket slot (`SocketSlot`, read side for I/O, write side to close or swap it),
//!    then a TLS session's lock inside it;
//! 3. what loss notifies: the reader's inbox (`Feeder`), the protocol's event queue, and,
//!    through the `on_lost` hook, the server's state.
//!
//! The reader's source holds the socket slot only while it reads, and drops it before it
//! takes the state lock; `start_tls` swaps the socket without holding the state lock.

mod builder;
mod events;
mod extra;
mod flush;
pub(crate) mod inner;
pub(crate) mod io;
mod linger;
pub(crate) mod source;
mod state;
#[cfg(feature = "tls")]
mod upgrade;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

pub(crate) use builder::Builder;
pub(crate) use events::Event;
pub use extra::{ExtraInfo, PeerCredentials, SocketAddress};
pub(crate) use linger::{Linger, OnLost};

use crate::Error;
use crate::buffer::resolve_limits;
use crate::reader::shared::ReadFlow;
use inner::Inner;
#[cfg(feature = "tls")]
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
    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// The connection as the reader's flow control sees it (`StreamReaderProtocol`).
    pub(crate) fn read_flow(&self) -> Arc<dyn ReadFlow> {
        self.inner().clone()
    }

    /// How the connection ended: `None` while it is up, `Ok` after a clean close or an
    /// abort, the error otherwise.
    pub(crate) fn outcome(&self) -> Option<Result<(), Error>> {
        self.inner().outcome()
    }

    /// Waits until at most the low mark is queued (`until_empty`: nothing); asyncio's
    /// `drain()` rules (see `ConnState::drain_ready`). `waited` is the caller's: set once
    /// it waited.
    pub(crate) fn poll_drain(
        &self,
        cx: &mut std::task::Context<'_>,
        waited: &mut bool,
        until_empty: bool,
    ) -> std::task::Poll<Result<(), Error>> {
        self.inner().poll_drain(cx, waited, until_empty)
    }

    /// Waits until the connection is lost; the outcome, every time.
    pub(crate) fn poll_closed(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        self.inner().poll_closed(cx)
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
        self.inner().write(data)
    }

    /// Queues an owned buffer without copying it (large buffers stay zero-copy).
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn write_bytes(&self, data: Bytes) -> Result<(), Error> {
        self.inner().write_bytes(data)
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
        self.inner().writelines(data)
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
        self.inner().queued()
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
        self.inner().set_limits(high, low);
        Ok(())
    }

    /// `(low, high)`, in asyncio's order.
    ///
    /// asyncio: `get_write_buffer_limits()`.
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.inner().limits()
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
        !self.is_closing() && !self.inner().is_reading_paused()
    }

    /// The remote address. asyncio: `get_extra_info('peername')`.
    pub fn peername(&self) -> Option<SocketAddress> {
        self.inner().extra().peername.clone()
    }

    /// The local address. asyncio: `get_extra_info('sockname')`.
    pub fn sockname(&self) -> Option<SocketAddress> {
        self.inner().extra().sockname.clone()
    }

    /// The Unix peer's credentials (SO_PEERCRED), beyond asyncio; `None` for TCP.
    pub fn peer_credentials(&self) -> Option<PeerCredentials> {
        self.inner().extra().peer_credentials
    }

    /// The proxy's address when the connection came through a PROXY protocol proxy
    /// ([`ServerOptions::proxy_protocol`](crate::ServerOptions::proxy_protocol)): the
    /// socket's own peer, while [`peername`](Self::peername) is the client the header
    /// named. `None` without a header.
    pub fn proxy_peername(&self) -> Option<SocketAddress> {
        self.inner().extra().proxy.as_ref()?.peer.clone()
    }

    /// The PROXY protocol header the connection started with, if any (its
    /// `destination` is the address the client connected to on the proxy).
    pub fn proxy_header(&self) -> Option<crate::ProxyHeader> {
        Some(self.inner().extra().proxy.as_ref()?.header)
    }

    /// Runs `f` on the socket, borrowed as a [`socket2::SockRef`] (asyncio:
    /// `get_extra_info('socket')`); `None` once the socket is closed.
    pub fn with_socket<T>(&self, f: impl FnOnce(socket2::SockRef<'_>) -> T) -> Option<T> {
        let guard = self.inner().socket().get();
        guard.as_ref().map(|s| f(s.sock_ref()))
    }

    /// The TLS session's negotiated parameters (asyncio `'sslcontext'`, `'peercert'`,
    /// `'cipher'`); `None` for a plain connection.
    #[cfg(feature = "tls")]
    pub fn tls_info(&self) -> Option<crate::tls::TlsInfo> {
        match self.inner().socket().get().as_ref() {
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

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("peername", &self.inner().peername())
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}
