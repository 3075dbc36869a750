//! asyncio's callback layer: the [`Protocol`] trait, [`create_connection`], and
//! [`StreamReaderProtocol`], the bridge from a transport to a fed
//! [`StreamReader`](crate::StreamReader).
//!
//! asyncio: `loop.create_connection(protocol_factory, host, port)` and
//! `asyncio.Protocol`, the layer under asyncio's streams. The stream functions
//! ([`open_connection`](crate::open_connection)) do not go through this layer (the reader
//! pulls from the socket itself), but their observable behaviour is the same; this layer
//! exists so that protocols can be written, and stream pairs built by hand, as the
//! asyncio docs invite. Everything here is also re-exported at the crate root.
//!
//! # Examples
//!
//! A protocol that answers every chunk it receives with its length:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), aiostreams::Error> {
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let port = listener.local_addr()?.port();
//! use aiostreams::Bytes;
//! use aiostreams::protocol::{Protocol, create_connection};
//! use aiostreams::Transport;
//!
//! struct Lengths(Option<Transport>);
//!
//! impl Protocol for Lengths {
//!     fn connection_made(&mut self, transport: Transport) {
//!         self.0 = Some(transport);
//!     }
//!     fn data_received(&mut self, data: Bytes) {
//!         let transport = self.0.as_ref().unwrap();
//!         transport.write(format!("{}\n", data.len()).as_bytes()).unwrap();
//!     }
//! }
//!
//! let (_transport, _task) = create_connection(|| Lengths(None), "127.0.0.1", port).await?;
//! let (mut peer, _) = listener.accept().await?;
//! tokio::io::AsyncWriteExt::write_all(&mut peer, b"hello").await?;
//! let mut answer = [0; 2];
//! tokio::io::AsyncReadExt::read_exact(&mut peer, &mut answer).await?;
//! assert_eq!(&answer, b"5\n");
//! # Ok(())
//! # }
//! ```

mod driver;
mod stream_reader_protocol;
#[cfg(unix)]
mod unix;

use bytes::Bytes;

pub(crate) use driver::{Driver, wire};
pub use driver::{ProtocolTask, create_connection, create_connection_with};
pub use stream_reader_protocol::StreamReaderProtocol;
#[cfg(unix)]
pub use unix::{create_unix_connection, create_unix_connection_with};

use crate::{Error, Feeder, Transport};

/// asyncio's `Protocol` callbacks, called in order by the task that drives the connection.
///
/// asyncio: `asyncio.Protocol`. Every method has a default that does nothing (and
/// `eof_received` returns `false`, closing the transport, as asyncio's default does).
///
/// Unlike asyncio, `pause_writing`/`resume_writing` are delivered by the driving task
/// right after the `write()` that crossed the mark rather than inside it, because the
/// protocol is owned by that task. The order of callbacks is asyncio's.
pub trait Protocol: Send + 'static {
    /// The connection is up; keep the transport to write.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use aiostreams::{Protocol, Transport, create_connection};
    /// use tokio::io::AsyncReadExt;
    ///
    /// struct Greeter;
    /// impl Protocol for Greeter {
    ///     fn connection_made(&mut self, transport: Transport) {
    ///         transport.write(b"hello\n").unwrap();
    ///         transport.close(); // once the queued bytes are sent
    ///     }
    /// }
    ///
    /// let (_transport, task) = create_connection(|| Greeter, "127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// let mut got = String::new();
    /// peer.read_to_string(&mut got).await?;
    /// assert_eq!(got, "hello\n");
    /// task.await.unwrap();
    /// # Ok(()) }
    /// ```
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// Bytes arrived (up to 64 KiB per call).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use aiostreams::{Bytes, Protocol, create_connection};
    /// use tokio::io::AsyncWriteExt;
    ///
    /// #[derive(Default)]
    /// struct Collect(Vec<u8>);
    /// impl Protocol for Collect {
    ///     fn data_received(&mut self, data: Bytes) {
    ///         self.0.extend_from_slice(&data);
    ///     }
    /// }
    ///
    /// let (_transport, task) = create_connection(Collect::default, "127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// peer.write_all(b"one ").await?;
    /// peer.write_all(b"two").await?;
    /// drop(peer); // EOF: the default eof_received closes the transport
    /// let protocol = task.await.unwrap(); // handed back after connection_lost
    /// assert_eq!(protocol.0, b"one two");
    /// # Ok(()) }
    /// ```
    fn data_received(&mut self, data: Bytes) {
        let _ = data;
    }

    /// The peer sent EOF. Return `true` to keep the connection open for writing
    /// (half-close); `false` closes the transport.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use aiostreams::{Protocol, Transport, create_connection};
    /// use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    ///
    /// struct Reply(Option<Transport>);
    /// impl Protocol for Reply {
    ///     fn connection_made(&mut self, transport: Transport) {
    ///         self.0 = Some(transport);
    ///     }
    ///     fn eof_received(&mut self) -> bool {
    ///         self.0.as_ref().unwrap().write(b"got your EOF\n").unwrap();
    ///         true // keep the connection open for writing
    ///     }
    /// }
    ///
    /// let (transport, task) = create_connection(|| Reply(None), "127.0.0.1", port).await?;
    /// let (peer, _) = listener.accept().await?;
    /// let mut peer = BufReader::new(peer);
    /// peer.get_mut().shutdown().await?; // the peer's EOF
    /// let mut line = String::new();
    /// peer.read_line(&mut line).await?;
    /// assert_eq!(line, "got your EOF\n");
    /// transport.write(b"still open\n")?; // half-closed, not closed
    /// transport.close();
    /// let mut rest = String::new();
    /// peer.read_to_string(&mut rest).await?;
    /// assert_eq!(rest, "still open\n");
    /// task.await.unwrap();
    /// # Ok(()) }
    /// ```
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The connection is gone: `None` after a clean close, the error otherwise. The
    /// last callback.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::io::ErrorKind;
    /// use std::time::Duration;
    ///
    /// use aiostreams::{Error, Protocol, create_connection};
    ///
    /// #[derive(Default)]
    /// struct Outcome(Option<Option<ErrorKind>>);
    /// impl Protocol for Outcome {
    ///     fn connection_lost(&mut self, exc: Option<Error>) {
    ///         self.0 = Some(exc.map(|e| e.io_kind()));
    ///     }
    /// }
    ///
    /// // A clean close: None.
    /// let (_transport, task) = create_connection(Outcome::default, "127.0.0.1", port).await?;
    /// drop(listener.accept().await?);
    /// assert_eq!(task.await.unwrap().0, Some(None));
    ///
    /// // A reset: the error.
    /// let (_transport, task) = create_connection(Outcome::default, "127.0.0.1", port).await?;
    /// let (peer, _) = listener.accept().await?;
    /// socket2::SockRef::from(&peer).set_linger(Some(Duration::ZERO))?;
    /// drop(peer); // RST
    /// assert_eq!(task.await.unwrap().0, Some(Some(ErrorKind::ConnectionReset)));
    /// # Ok(()) }
    /// ```
    fn connection_lost(&mut self, exc: Option<Error>) {
        let _ = exc;
    }

    /// The transport's write queue went above its high-water mark.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::sync::{Arc, Mutex};
    ///
    /// use aiostreams::{Protocol, create_connection};
    /// use tokio::io::AsyncReadExt;
    ///
    /// struct Flow(Arc<Mutex<Vec<&'static str>>>);
    /// impl Protocol for Flow {
    ///     fn pause_writing(&mut self) {
    ///         self.0.lock().unwrap().push("pause");
    ///     }
    ///     fn resume_writing(&mut self) {
    ///         self.0.lock().unwrap().push("resume");
    ///     }
    /// }
    ///
    /// let calls = Arc::new(Mutex::new(Vec::new()));
    /// let flow = Flow(calls.clone());
    /// let (transport, task) = create_connection(move || flow, "127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?; // reads nothing yet
    /// transport.set_write_buffer_limits(Some(1024), None)?;
    /// while transport.get_write_buffer_size() <= 1024 {
    ///     transport.write(&[0; 64 * 1024])?; // until the socket's buffers are full
    /// }
    /// let queued = transport.get_write_buffer_size();
    /// transport.close();
    /// let mut all = Vec::new();
    /// peer.read_to_end(&mut all).await?; // the peer reads: the queue drains
    /// task.await.unwrap();
    /// assert!(all.len() >= queued);
    /// assert_eq!(*calls.lock().unwrap(), ["pause", "resume"]);
    /// # Ok(()) }
    /// ```
    fn pause_writing(&mut self) {}

    /// The transport's write queue went down to its low-water mark.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// use aiostreams::{Protocol, create_connection};
    ///
    /// struct Resumed(Arc<AtomicUsize>);
    /// impl Protocol for Resumed {
    ///     fn resume_writing(&mut self) {
    ///         self.0.fetch_add(1, Ordering::SeqCst);
    ///     }
    /// }
    ///
    /// let resumed = Arc::new(AtomicUsize::new(0));
    /// let counter = resumed.clone();
    /// let (transport, task) = create_connection(move || Resumed(counter), "127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// transport.set_write_buffer_limits(Some(4096), Some(0))?;
    /// while transport.get_write_buffer_size() <= 4096 {
    ///     transport.write(&[0; 64 * 1024])?; // the peer reads nothing: the queue grows
    /// }
    /// assert_eq!(resumed.load(Ordering::SeqCst), 0);
    /// transport.close();
    /// tokio::io::copy(&mut peer, &mut tokio::io::sink()).await?; // now it reads everything
    /// task.await.unwrap();
    /// assert_eq!(resumed.load(Ordering::SeqCst), 1); // once, when the queue was empty
    /// # Ok(()) }
    /// ```
    fn resume_writing(&mut self) {}

    /// Beyond asyncio: the reader this protocol feeds, if any, asked once before
    /// `connection_made`. The transport then feeds it EOF or the error itself the moment
    /// the connection ends (before `wait_closed()` completes, as asyncio's
    /// `StreamReaderProtocol.connection_lost` does), and `write()` sends at once only
    /// while that reader holds no unread input. [`StreamReaderProtocol`] returns its
    /// reader; the default is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use aiostreams::{Bytes, Feeder, Protocol, StreamReader, create_connection};
    /// use tokio::io::AsyncWriteExt;
    ///
    /// /// Feeds a reader itself, and tells the transport which reader that is.
    /// struct Lines(Feeder);
    /// impl Protocol for Lines {
    ///     fn data_received(&mut self, data: Bytes) {
    ///         let _ = self.0.feed_data(&data);
    ///     }
    ///     fn stream_reader(&self) -> Option<Feeder> {
    ///         Some(self.0.clone())
    ///     }
    /// }
    ///
    /// let mut reader = StreamReader::new();
    /// let feeder = reader.feeder();
    /// let (_transport, _task) = create_connection(move || Lines(feeder), "127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// peer.write_all(b"first\n").await?;
    /// drop(peer);
    /// assert_eq!(reader.readline().await?, "first\n");
    /// // The transport fed EOF itself when the connection ended.
    /// assert!(reader.read_to_eof().await?.is_empty());
    /// assert!(reader.at_eof());
    /// # Ok(()) }
    /// ```
    fn stream_reader(&self) -> Option<Feeder> {
        None
    }
}
