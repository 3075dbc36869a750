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
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// Bytes arrived (up to 64 KiB per call).
    fn data_received(&mut self, data: Bytes) {
        let _ = data;
    }

    /// The peer sent EOF. Return `true` to keep the connection open for writing
    /// (half-close); `false` closes the transport.
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The connection is gone: `None` after a clean close, the error otherwise. The
    /// last callback.
    fn connection_lost(&mut self, exc: Option<Error>) {
        let _ = exc;
    }

    /// The transport's write queue went above its high-water mark.
    fn pause_writing(&mut self) {}

    /// The transport's write queue went down to its low-water mark.
    fn resume_writing(&mut self) {}

    /// Beyond asyncio: the reader this protocol feeds, if any, asked once before
    /// `connection_made`. The transport then feeds it EOF or the error itself the moment
    /// the connection ends (before `wait_closed()` completes, as asyncio's
    /// `StreamReaderProtocol.connection_lost` does), and `write()` sends at once only
    /// while that reader holds no unread input. [`StreamReaderProtocol`] returns its
    /// reader; the default is `None`.
    fn stream_reader(&self) -> Option<Feeder> {
        None
    }
}
