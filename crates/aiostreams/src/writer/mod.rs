//! [`StreamWriter`]: asyncio's writer, a cheap cloneable handle over a [`Transport`].

// rustdoc lists a type's methods by the modules holding them, in declaration order, and
// this file's own impls after them: the constructors first, then asyncio's drain().
mod new;

mod drain;

mod async_write;
mod detach;
#[cfg(unix)]
mod sendfile;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

pub use detach::{Detached, DetachedSocket};

use crate::transport::{ExtraInfo, SocketAddress};
use crate::{Error, Feeder, Transport};

/// The write half of a stream connection, with asyncio's `StreamWriter` API.
///
/// asyncio: `asyncio.StreamWriter`.
///
/// A cheap `Clone + Send + Sync` handle: several tasks may write, as in asyncio.
/// [`write`](Self::write) never blocks and never fails because the peer is slow: what the
/// kernel does not take at once is queued (see [`Transport`] for when queued bytes leave).
/// Call [`drain`](Self::drain) to wait while too much is queued: that is where flow
/// control and connection errors show up. The queued bytes leave even if `drain()` is
/// never awaited.
///
/// When the last handle is dropped the connection is closed after the queued bytes are
/// sent (asyncio 3.11.5+ closes a garbage-collected writer's transport; we do it without
/// the `ResourceWarning`). Keeping only the reader therefore ends the connection: the
/// reader then sees EOF.
///
/// # Why does `write()` not send everything? Call `drain()`.
///
/// `write()` is synchronous so that a handler can answer several requests and let them
/// leave in one system call. `drain()` is the await point that applies back-pressure.
#[derive(Clone)]
pub struct StreamWriter {
    shared: Arc<Shared>,
    /// Per-handle state of `AsyncWrite::poll_write`'s wait for drain.
    waited: bool,
}

struct Shared {
    transport: Transport,
    reader: Option<Feeder>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.transport.close();
    }
}

impl StreamWriter {
    /// The transport under this writer. asyncio: the `transport` property.
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
    /// writer.transport().set_write_buffer_limits(Some(1 << 20), None)?;
    /// assert_eq!(writer.transport().get_write_buffer_limits(), (1 << 18, 1 << 20));
    /// # Ok(())
    /// # }
    /// ```
    pub fn transport(&self) -> &Transport {
        &self.shared.transport
    }

    /// Sends or queues `data`; never blocks. asyncio: `write(data)`.
    ///
    /// After [`close`](Self::close) or a lost connection the bytes are dropped silently,
    /// as in asyncio; the next [`drain`](Self::drain) raises why.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] after [`write_eof`](Self::write_eof).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// writer.write(b"hello ")?;
    /// writer.write(b"world\n")?;
    /// writer.drain().await?;
    /// # Ok(()) }
    /// ```
    pub fn write(&self, data: &[u8]) -> Result<(), Error> {
        self.shared.transport.write(data)
    }

    /// Queues an owned buffer without copying it. See [`write`](Self::write).
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
    /// use aiostreams::Bytes;
    ///
    /// writer.write_bytes(Bytes::from_static(b"no copy\n"))?;
    /// assert_eq!(reader.readline().await?, "no copy\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_bytes(&self, data: Bytes) -> Result<(), Error> {
        self.shared.transport.write_bytes(data)
    }

    /// Sends or queues several buffers in order, to leave in one `writev`; never blocks.
    /// asyncio: `writelines(list)`. Sent from the caller's memory when nothing is queued
    /// (see [`Transport::writelines`]); a single buffer is written as
    /// [`write`](Self::write) writes it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] after [`write_eof`](Self::write_eof).
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
    /// writer.writelines([&b"one\n"[..], b"two\n"])?;
    /// assert_eq!(reader.readline().await?, "one\n");
    /// assert_eq!(reader.readline().await?, "two\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn writelines<I>(&self, data: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.shared.transport.writelines(data)
    }

    /// Half-closes: the peer sees EOF once the queued bytes are sent; reading goes on.
    /// asyncio: `write_eof()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// writer.write(b"request")?;
    /// writer.write_eof(); // the peer reads to its EOF...
    /// let mut request = Vec::new();
    /// tokio::io::AsyncReadExt::read_to_end(&mut peer, &mut request).await?;
    /// assert_eq!(request, b"request");
    /// tokio::io::AsyncWriteExt::write_all(&mut peer, b"answer").await?; // ...and still answers
    /// drop(peer);
    /// assert_eq!(reader.read_to_eof().await?, "answer");
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_eof(&self) {
        self.shared.transport.write_eof();
    }

    /// Whether [`write_eof`](Self::write_eof) is supported. asyncio: `can_write_eof()`.
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
    /// assert!(writer.can_write_eof());
    /// # Ok(())
    /// # }
    /// ```
    pub fn can_write_eof(&self) -> bool {
        self.shared.transport.can_write_eof()
    }

    /// Closes the connection once the queued bytes are sent. asyncio: `close()`.
    ///
    /// Returns at once; await [`wait_closed`](Self::wait_closed) to know it happened.
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
    /// writer.write(b"QUIT\n")?;
    /// writer.close(); // returns at once; the queued bytes still leave
    /// assert!(writer.is_closing());
    /// writer.wait_closed().await?; // sent, and the socket closed
    /// // Closing stops reading too: the reader sees EOF (after what it had buffered).
    /// assert_eq!(reader.read(100).await?, "");
    /// # Ok(())
    /// # }
    /// ```
    pub fn close(&self) {
        self.shared.transport.close();
    }

    /// True once closing started or the connection was lost. asyncio: `is_closing()`.
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
    /// assert!(!writer.is_closing());
    /// writer.close();
    /// assert!(writer.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_closing(&self) -> bool {
        self.shared.transport.is_closing()
    }

    /// asyncio's `get_extra_info(name)`; see [`Transport::get_extra_info`].
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
    /// let Some(ExtraInfo::Address(peer)) = writer.get_extra_info("peername") else {
    ///     panic!("a connected socket has a peer");
    /// };
    /// assert_eq!(peer.as_inet().unwrap().port(), port);
    /// assert!(writer.get_extra_info("no such key").is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_extra_info(&self, name: &str) -> Option<ExtraInfo> {
        self.shared.transport.get_extra_info(name)
    }

    #[inline]
    fn reader_exception(&self) -> Option<Error> {
        self.shared.reader.as_ref().and_then(Feeder::exception)
    }
}

/// Beyond asyncio.
impl StreamWriter {
    /// Ends the connection when queued bytes make no progress for `timeout` (`None`:
    /// no limit); see [`Transport::set_write_timeout`] for the rules.
    ///
    /// Go: `http.Server.WriteTimeout`; Netty: `WriteTimeoutHandler`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// writer.set_write_timeout(Some(std::time::Duration::from_secs(30)));
    /// # Ok(()) }
    /// ```
    pub fn set_write_timeout(&self, timeout: Option<std::time::Duration>) {
        self.shared.transport.set_write_timeout(timeout);
    }

    /// Ends the connection if bytes are still queued at `deadline` (`None` clears it);
    /// see [`Transport::set_write_deadline`] for the rules.
    ///
    /// Go: `conn.SetWriteDeadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use tokio::time::{Duration, Instant};
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// writer.set_write_deadline(Some(Instant::now() + Duration::from_secs(10)));
    /// # Ok(()) }
    /// ```
    pub fn set_write_deadline(&self, deadline: Option<tokio::time::Instant>) {
        self.shared.transport.set_write_deadline(deadline);
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
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let peer = writer.peername().unwrap();
    /// assert_eq!(peer.as_inet().unwrap().port(), port);
    /// # Ok(())
    /// # }
    /// ```
    pub fn peername(&self) -> Option<SocketAddress> {
        self.shared.transport.peername()
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
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let local = writer.sockname().unwrap().as_inet().unwrap();
    /// assert!(local.ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn sockname(&self) -> Option<SocketAddress> {
        self.shared.transport.sockname()
    }

    /// The connection's counters: bytes in and out, queued writes, time connected
    /// ([`Transport::stats`]).
    ///
    /// asyncio: none.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{StreamReader, StreamWriter, open_connection, start_server};
    ///
    /// let server = start_server(
    ///     |mut reader: StreamReader, writer: StreamWriter| async move {
    ///         let line = reader.readline().await?;
    ///         writer.write(&line[..3])?;
    ///         writer.drain().await
    ///     },
    ///     "127.0.0.1",
    ///     0,
    /// )
    /// .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"hello\n")?;
    /// assert_eq!(reader.read_to_eof().await?, "hel");
    /// let stats = writer.stats(); // the reader's numbers too
    /// assert_eq!((stats.bytes_out, stats.bytes_in), (6, 3));
    /// assert_eq!(reader.stats().map(|s| s.bytes_in), Some(3));
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> crate::ConnectionStats {
        self.shared.transport.stats()
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("transport", &self.shared.transport)
            .finish_non_exhaustive()
    }
}
