//! [`StreamWriter`]'s constructors: over a transport (asyncio's) and over any `AsyncWrite`,
//! not only a socket. In their own file, declared first, so the docs page starts with them.

use std::sync::Arc;

use tokio::io::AsyncWrite;

use super::{Shared, StreamWriter};
use crate::{Feeder, Transport};

impl StreamWriter {
    /// A writer over `transport`; `reader` (a [`Feeder`] of the connection's reader) lets
    /// [`drain`](Self::drain) raise the reader's stored error first, as asyncio does.
    ///
    /// asyncio: `StreamWriter(transport, protocol, reader, loop)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use aiostreams::{StreamReader, StreamReaderProtocol, StreamWriter};
    ///
    /// // What open_connection does, by hand: a fed reader, its protocol, a writer over the
    /// // transport (the feeder lets drain() raise the reader's error first).
    /// let reader = StreamReader::new();
    /// let protocol = StreamReaderProtocol::new(&reader);
    /// let (transport, _task) =
    ///     aiostreams::create_connection(move || protocol, "127.0.0.1", port).await?;
    /// let writer = StreamWriter::new(transport, Some(reader.feeder()));
    /// assert!(!writer.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(transport: Transport, reader: Option<Feeder>) -> Self {
        StreamWriter {
            shared: Arc::new(Shared { transport, reader }),
            waited: false,
        }
    }

    /// A writer over any tokio [`AsyncWrite`]: a pipe, stdout, a child's stdin, one end of
    /// [`tokio::io::duplex`], the write half of [`tokio::io::split`].
    ///
    /// asyncio: the writer of `loop.connect_write_pipe()` (and of a subprocess's stdin);
    /// tokio: what `FramedWrite::new(io, ..)` accepts. The writer behaves as over a
    /// socket: [`write`](Self::write) never blocks (what `io` does not take at once is
    /// queued and sent by the connection's flush task), [`drain`](Self::drain) honours
    /// the same water marks, [`write_eof`](Self::write_eof) sends the queue and then
    /// shuts `io` down (`poll_shutdown`) and drops it, which closes a pipe (the reading
    /// side sees EOF) or a duplex's direction; [`close`](Self::close) does the same and
    /// ends the writer, [`wait_closed`](Self::wait_closed) waits for it. A write error
    /// (e.g. `BrokenPipe` once the reading end is closed) ends the writer; `drain()` and
    /// `wait_closed()` raise it. There is no socket: `peername()`, `sockname()` and
    /// [`Transport::with_socket`] are `None`, and `start_tls` is refused.
    ///
    /// The reading direction is [`StreamReader::from_io`](crate::StreamReader::from_io);
    /// for one object that does both, split it with [`tokio::io::split`].
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (the flush task is spawned on the current one), as
    /// tokio's own `from_std` constructors.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{StreamReader, StreamWriter};
    ///
    /// let (ours, theirs) = tokio::io::duplex(64);
    /// let writer = StreamWriter::from_io(ours);
    /// let mut reader = StreamReader::from_io(theirs);
    /// writer.write(&[b'x'; 1000])?; // more than the duplex holds: the rest is queued
    /// writer.write(b"\n")?;
    /// writer.write_eof();
    /// assert_eq!(reader.readline().await?.len(), 1001);
    /// assert!(reader.read_to_eof().await?.is_empty()); // EOF after write_eof()
    /// writer.close();
    /// writer.wait_closed().await?;
    /// # Ok(()) }
    /// ```
    pub fn from_io(io: impl AsyncWrite + Send + 'static) -> Self {
        StreamWriter::new(Transport::over_write(io), None)
    }
}
