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

pub(crate) mod alarm;
mod any_write;
mod builder;
mod events;
mod extra;
mod flush;
mod idle;
pub(crate) mod inner;
pub(crate) mod io;
mod linger;
pub(crate) mod source;
mod state;
mod timeouts;
#[cfg(feature = "tls")]
mod upgrade;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

pub(crate) use builder::Builder;
pub(crate) use events::Event;
pub use extra::{ExtraInfo, PeerCredentials, SocketAddress};
pub(crate) use linger::{Linger, OnLost};
pub(crate) use timeouts::Timeouts;

use crate::Error;
use crate::buffer::resolve_limits;
use crate::reader::shared::ReadFlow;
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

    /// `drain()` answered without waiting: `Some` when nothing is queued on an open
    /// connection (see `Inner::drain_now`).
    #[inline]
    pub(crate) fn drain_now(&self) -> Option<Result<(), Error>> {
        self.inner().drain_now()
    }

    /// `StreamWriter::detach`: the plain socket and the queued bytes; the connection is
    /// over afterwards. `reader` must be the connection's reader.
    pub(crate) fn detach(
        &self,
        reader: &std::sync::Arc<crate::reader::shared::Shared>,
    ) -> Result<(io::Socket, Bytes), Error> {
        self.inner().detach(reader)
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
    /// # let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let transport = writer.transport();
    /// transport.write(b"via the transport\n")?;
    /// assert_eq!(reader.readline().await?, "via the transport\n");
    /// transport.write_eof();
    /// assert!(transport.write(b"late").is_err()); // "Cannot call write() after write_eof()"
    /// # Ok(())
    /// # }
    /// ```
    pub fn write(&self, data: &[u8]) -> Result<(), Error> {
        self.inner().write(data)
    }

    /// Queues an owned buffer without copying it (large buffers stay zero-copy).
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
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
    /// # let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let body = aiostreams::Bytes::from(b"a large body, not copied\n".to_vec());
    /// writer.transport().write_bytes(body)?;
    /// assert_eq!(reader.readline().await?, "a large body, not copied\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_bytes(&self, data: Bytes) -> Result<(), Error> {
        self.inner().write_bytes(data)
    }

    /// Writes several buffers in order, as one batch that leaves in one `writev` (empty
    /// ones are skipped). When [`write`](Self::write) would send their total at once
    /// (nothing queued), up to 32 of them are sent from the caller's memory and only what
    /// the kernel did not take is queued; more are queued first, then sent. A single
    /// buffer is written as `write` writes it.
    ///
    /// asyncio: `transport.writelines(list_of_data)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] (`"Cannot call writelines() after write_eof()"`).
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
    /// # let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// writer.transport().writelines(["GET / HTTP/1.1\r\n", "Host: example\r\n", "\r\n"])?;
    /// assert_eq!(reader.readline().await?, "GET / HTTP/1.1\r\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn writelines<I>(&self, data: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.inner().writelines(data)
    }

    /// Closes the write side once the queue is sent; reading goes on (TCP half-close).
    ///
    /// asyncio: `write_eof()`. No-op when closing or already called. Does not make
    /// [`is_closing`](Self::is_closing) true.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// let transport = writer.transport();
    /// transport.write(b"all of it")?;
    /// transport.write_eof();
    /// assert!(!transport.is_closing()); // half-closed: reading goes on
    /// let mut got = Vec::new();
    /// tokio::io::AsyncReadExt::read_to_end(&mut peer, &mut got).await?;
    /// assert_eq!(got, b"all of it");
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_eof(&self) {
        self.inner().write_eof();
    }

    /// True: TCP and Unix stream sockets can half-close, and so can TLS here (with
    /// close_notify, reading goes on; asyncio's TLS transport cannot).
    ///
    /// asyncio: `can_write_eof()`.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// assert!(writer.transport().can_write_eof());
    /// # Ok(())
    /// # }
    /// ```
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Stops reading, sends what is queued, then closes the connection.
    ///
    /// asyncio: `close()`. Idempotent. The reader sees EOF after its buffered bytes.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let transport = writer.transport();
    /// transport.write(b"queued, still sent\n")?;
    /// transport.close();
    /// transport.close(); // idempotent
    /// assert!(transport.is_closing());
    /// writer.wait_closed().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn close(&self) {
        self.inner().close();
    }

    /// Closes the connection at once, dropping queued bytes.
    ///
    /// asyncio: `abort()`. Like asyncio's, it closes the socket without SO_LINGER 0, so
    /// the peer sees EOF after the bytes already handed to the kernel, not a reset (input
    /// that arrived and was never read is discarded first, or closing would reset). A TLS
    /// connection sends no close_notify, so its peer sees a truncated session.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let transport = writer.transport();
    /// transport.write(&vec![0; 1 << 20])?; // what the kernel did not take is dropped
    /// transport.abort();
    /// assert!(transport.is_closing());
    /// assert_eq!(transport.get_write_buffer_size(), 0);
    /// writer.wait_closed().await?; // an abort is a clean end
    /// # Ok(())
    /// # }
    /// ```
    pub fn abort(&self) {
        self.inner().abort();
    }

    /// True once [`close`](Self::close) or [`abort`](Self::abort) was called or the
    /// connection was lost. A peer's EOF or our [`write_eof`](Self::write_eof) does not
    /// count.
    ///
    /// asyncio: `is_closing()`.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let transport = writer.transport();
    /// transport.write_eof();
    /// assert!(!transport.is_closing()); // a half-close is not closing
    /// transport.close();
    /// assert!(transport.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_closing(&self) -> bool {
        self.inner().is_closing()
    }

    /// Bytes queued and not yet handed to the kernel.
    ///
    /// asyncio: `get_write_buffer_size()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let _peer = listener.accept().await?; // accepted, but never reads
    /// let transport = writer.transport();
    /// assert_eq!(transport.get_write_buffer_size(), 0);
    /// while transport.get_write_buffer_size() == 0 {
    ///     transport.write(&[0; 64 * 1024])?; // until the kernel's buffers are full
    /// }
    /// assert!(transport.get_write_buffer_size() > 0);
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let transport = writer.transport();
    /// transport.set_write_buffer_limits(Some(256 * 1024), None)?; // low: high / 4
    /// assert_eq!(transport.get_write_buffer_limits(), (64 * 1024, 256 * 1024));
    /// transport.set_write_buffer_limits(None, Some(1024))?; // high: 4 * low
    /// assert_eq!(transport.get_write_buffer_limits(), (1024, 4096));
    /// assert!(transport.set_write_buffer_limits(Some(1), Some(2)).is_err()); // high < low
    /// # Ok(())
    /// # }
    /// ```
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// assert_eq!(
    ///     writer.transport().get_write_buffer_limits(),
    ///     (16 * 1024, aiostreams::DEFAULT_HIGH_WATER)
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.inner().limits()
    }

    /// Stops reading from the socket until [`resume_reading`](Self::resume_reading).
    ///
    /// asyncio: `pause_reading()`. No-op when closing or already paused.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let transport = writer.transport();
    /// transport.pause_reading();
    /// assert!(!transport.is_reading());
    /// transport.pause_reading(); // no-op
    /// transport.resume_reading();
    /// assert!(transport.is_reading());
    /// # Ok(())
    /// # }
    /// ```
    pub fn pause_reading(&self) {
        ReadFlow::pause_reading(&**self.inner());
    }

    /// Resumes reading. asyncio: `resume_reading()`.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let transport = writer.transport();
    /// transport.pause_reading();
    /// transport.resume_reading();
    /// assert!(transport.is_reading());
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume_reading(&self) {
        ReadFlow::resume_reading(&**self.inner());
    }

    /// True when neither closing nor paused. asyncio: `is_reading()`.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let transport = writer.transport();
    /// assert!(transport.is_reading());
    /// transport.close();
    /// assert!(!transport.is_reading());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_reading(&self) -> bool {
        !self.is_closing() && !self.inner().is_reading_paused()
    }

    /// The remote address. asyncio: `get_extra_info('peername')`.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let peer = writer.transport().peername().unwrap();
    /// assert_eq!(peer.as_inet().unwrap().port(), port);
    /// # Ok(())
    /// # }
    /// ```
    pub fn peername(&self) -> Option<SocketAddress> {
        self.inner().extra().peername.clone()
    }

    /// The local address. asyncio: `get_extra_info('sockname')`.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let local = writer.transport().sockname().unwrap().as_inet().unwrap();
    /// assert!(local.ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn sockname(&self) -> Option<SocketAddress> {
        self.inner().extra().sockname.clone()
    }

    /// The Unix peer's credentials (SO_PEERCRED), beyond asyncio; `None` for TCP.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let (ours, _theirs) = std::os::unix::net::UnixStream::pair()?;
    /// let (_reader, writer) = aiostreams::ConnectOptions::new().connect_sock(ours).await?;
    /// let creds = writer.transport().peer_credentials().expect("a Unix socket");
    /// assert_eq!(creds.pid, Some(std::process::id() as i32)); // the other end is us
    /// # Ok(())
    /// # }
    /// ```
    pub fn peer_credentials(&self) -> Option<PeerCredentials> {
        self.inner().extra().peer_credentials
    }

    /// The connection's counters: bytes in and out, queued writes, time connected.
    ///
    /// asyncio: none. See [`ConnectionStats`](crate::ConnectionStats) for what each
    /// counts and what counting costs (no atomic read-modify-write per write or read).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Protocol, StreamReader, StreamWriter, create_connection, start_server};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet {}
    ///
    /// let server = start_server(
    ///     |mut reader: StreamReader, writer: StreamWriter| async move {
    ///         reader.readexactly(5).await?;
    ///         writer.write(b"ok\n")
    ///     },
    ///     "127.0.0.1",
    ///     0,
    /// )
    /// .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (transport, task) = create_connection(|| Quiet, "127.0.0.1", port).await?;
    /// transport.write(b"12345")?;
    /// task.await.unwrap(); // the server closed the connection: everything was counted
    /// let stats = transport.stats();
    /// assert_eq!((stats.bytes_in, stats.bytes_out), (3, 5));
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> crate::ConnectionStats {
        self.inner().counters().snapshot()
    }

    /// The proxy's address when the connection came through a PROXY protocol proxy
    /// ([`ServerOptions::proxy_protocol`](crate::ServerOptions::proxy_protocol)): the
    /// socket's own peer, while [`peername`](Self::peername) is the client the header
    /// named. `None` without a header.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ProxyProtocol, ServerOptions, StreamWriter, open_connection};
    ///
    /// let server = ServerOptions::new()
    ///     .proxy_protocol(ProxyProtocol::Required)
    ///     .start_server(
    ///         |_reader, writer: StreamWriter| async move {
    ///             let transport = writer.transport();
    ///             let via = transport.proxy_peername().unwrap().as_inet().unwrap();
    ///             let line = format!("{} via {}\n", transport.peername().unwrap(), via.ip());
    ///             writer.write(line.as_bytes())
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n")?;
    /// assert_eq!(reader.readline().await?, "203.0.113.7:51000 via 127.0.0.1\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn proxy_peername(&self) -> Option<SocketAddress> {
        self.inner().extra().proxy.as_ref()?.peer.clone()
    }

    /// The PROXY protocol header the connection started with, if any (its
    /// `destination` is the address the client connected to on the proxy).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{ProxyProtocol, ServerOptions, StreamWriter, open_connection};
    ///
    /// let server = ServerOptions::new()
    ///     .proxy_protocol(ProxyProtocol::Optional)
    ///     .start_server(
    ///         |_reader, writer: StreamWriter| async move {
    ///             let line = match writer.transport().proxy_header() {
    ///                 Some(h) => format!("v{} to {}\n", h.version, h.destination.unwrap()),
    ///                 None => "direct\n".to_owned(),
    ///             };
    ///             writer.write(line.as_bytes())
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n")?;
    /// assert_eq!(reader.readline().await?, "v1 to 192.0.2.1:443\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn proxy_header(&self) -> Option<crate::ProxyHeader> {
        Some(self.inner().extra().proxy.as_ref()?.header)
    }

    /// Runs `f` on the socket, borrowed as a [`socket2::SockRef`] (asyncio:
    /// `get_extra_info('socket')`); `None` once the socket is closed, and for a writer
    /// over a pipe or another `AsyncWrite` ([`StreamWriter::from_io`]), which has none.
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let nodelay = writer.transport().with_socket(|sock| sock.tcp_nodelay()).unwrap()?;
    /// assert!(nodelay); // set on every TCP connection, as asyncio does
    /// writer.transport().with_socket(|sock| sock.set_recv_buffer_size(1 << 20)).unwrap()?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`StreamWriter::from_io`]: crate::StreamWriter::from_io
    pub fn with_socket<T>(&self, f: impl FnOnce(socket2::SockRef<'_>) -> T) -> Option<T> {
        let guard = self.inner().socket().get();
        guard.as_ref().and_then(Socket::sock_ref).map(f)
    }

    /// The TLS session's negotiated parameters (asyncio `'sslcontext'`, `'peercert'`,
    /// `'cipher'`); `None` for a plain connection.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # // A private CA and a certificate for localhost, as PEM files, and roots trusting the CA.
    /// # let ca_key = rcgen::KeyPair::generate()?;
    /// # let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    /// # ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    /// # let ca_cert = ca_params.self_signed(&ca_key)?;
    /// # let ca = rcgen::Issuer::new(ca_params, ca_key);
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])?.signed_by(&key, &ca)?;
    /// # let dir = tempfile::tempdir()?;
    /// # let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    /// # std::fs::write(&cert_pem, cert.pem())?;
    /// # std::fs::write(&key_pem, key.serialize_pem())?;
    /// # let mut roots = aiostreams::tls::rustls::RootCertStore::empty();
    /// # roots.add(ca_cert.der().clone())?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let server = aiostreams::ServerOptions::new()
    /// #     .ssl(aiostreams::tls::server_config_from_pem(&cert_pem, &key_pem)?)
    /// #     .start_server(
    /// #         |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
    /// #             while let Ok(line) = r.readline().await {
    /// #                 if line.is_empty() || w.write(&line).is_err() { break; }
    /// #             }
    /// #         },
    /// #         "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// use std::sync::Arc;
    ///
    /// use aiostreams::{ConnectOptions, tls};
    ///
    /// let config = tls::client_config_with_roots(roots)?;
    /// let (_reader, writer) = ConnectOptions::new()
    ///     .ssl_config(Arc::new(config))
    ///     .server_hostname("localhost")
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// let info = writer.transport().tls_info().expect("a TLS connection");
    /// assert_eq!(info.protocol.as_deref(), Some("TLSv1_3"));
    /// assert!(!info.peer_certificates.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
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
    /// [`TlsInfo`]; `None` for unknown keys (the `default` of
    /// asyncio). `"socket"` and `"ssl_object"` are `None`: use
    /// [`with_socket`](Self::with_socket) and [`tls_info`] (a Python
    /// object has no Rust equivalent that could be handed out by value).
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
    /// # let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// use aiostreams::ExtraInfo;
    ///
    /// let transport = writer.transport();
    /// assert!(matches!(transport.get_extra_info("sockname"), Some(ExtraInfo::Address(_))));
    /// assert!(transport.get_extra_info("peercert").is_none()); // not TLS
    /// assert!(transport.get_extra_info("socket").is_none()); // use with_socket
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(
        feature = "tls",
        doc = "[`TlsInfo`]: crate::tls::TlsInfo",
        doc = "[`tls_info`]: Self::tls_info"
    )]
    #[cfg_attr(
        not(feature = "tls"),
        doc = "[`TlsInfo`]: https://docs.rs/aiostreams/latest/aiostreams/tls/struct.TlsInfo.html",
        doc = "[`tls_info`]: https://docs.rs/aiostreams/latest/aiostreams/struct.Transport.html#method.tls_info"
    )]
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
