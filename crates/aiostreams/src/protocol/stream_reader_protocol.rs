//! [`StreamReaderProtocol`]: feeds a [`StreamReader`] from a transport.

use bytes::Bytes;

use super::Protocol;
use crate::{Error, Feeder, StreamReader, Transport};

/// The protocol that turns a transport's callbacks into a fed [`StreamReader`].
///
/// asyncio: `asyncio.StreamReaderProtocol(reader)`. Bytes received are fed to the
/// reader; when more than `2 * limit` bytes are buffered the transport stops reading,
/// and it resumes once the reader is down to `limit` (or is about to wait). EOF and
/// connection loss reach the reader as `feed_eof` or its stored exception.
///
/// # Examples
///
/// The asyncio docs invite "copying the code of `open_connection`"; here it is:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let port = listener.local_addr()?.port();
/// # tokio::spawn(async move {
/// #     let (mut s, _) = listener.accept().await.unwrap();
/// #     let (mut r, mut w) = s.split();
/// #     tokio::io::copy(&mut r, &mut w).await.unwrap();
/// # });
/// use aiostreams::{StreamReader, StreamReaderProtocol, StreamWriter, create_connection};
///
/// let mut reader = StreamReader::new();
/// let protocol = StreamReaderProtocol::new(&reader);
/// let (transport, _task) = create_connection(|| protocol, "127.0.0.1", port).await?;
/// let writer = StreamWriter::new(transport, Some(reader.feeder()));
///
/// writer.write(b"ping\n")?;
/// assert_eq!(reader.readline().await?, "ping\n");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct StreamReaderProtocol {
    feeder: Feeder,
    limit: usize,
    transport: Option<Transport>,
}

impl StreamReaderProtocol {
    /// A protocol feeding `reader`.
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
    /// use aiostreams::{StreamReader, StreamReaderProtocol, StreamWriter, create_connection};
    ///
    /// let mut reader = StreamReader::with_limit(1024)?;
    /// let protocol = StreamReaderProtocol::new(&reader); // feeds `reader`, with its limit
    /// let (transport, _task) = create_connection(move || protocol, "127.0.0.1", port).await?;
    /// let writer = StreamWriter::new(transport, Some(reader.feeder()));
    /// writer.write(b"fed by the protocol\n")?;
    /// assert_eq!(reader.readline().await?, "fed by the protocol\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(reader: &StreamReader) -> Self {
        StreamReaderProtocol {
            feeder: reader.feeder(),
            limit: reader.limit(),
            transport: None,
        }
    }

    /// The transport, once `connection_made` has run.
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
    /// use aiostreams::{StreamReader, StreamReaderProtocol, create_connection};
    ///
    /// let reader = StreamReader::new();
    /// let protocol = StreamReaderProtocol::new(&reader);
    /// assert!(protocol.transport().is_none()); // until connection_made
    /// let (transport, task) = create_connection(move || protocol, "127.0.0.1", port).await?;
    /// transport.close();
    /// let protocol = task.await.unwrap();
    /// assert!(protocol.transport().is_none()); // dropped at connection_lost
    /// # Ok(())
    /// # }
    /// ```
    pub fn transport(&self) -> Option<&Transport> {
        self.transport.as_ref()
    }
}

impl Protocol for StreamReaderProtocol {
    /// The transport also feeds the reader its EOF or error the moment the connection
    /// ends, as on the fused path: once `wait_closed()` returns, the reader knows (asyncio
    /// feeds the reader in `connection_lost` before resolving `wait_closed()`).
    fn stream_reader(&self) -> Option<Feeder> {
        Some(self.feeder.clone())
    }

    fn connection_made(&mut self, transport: Transport) {
        self.feeder
            .shared()
            .set_flow(transport.read_flow(), self.limit);
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: Bytes) {
        // Refused only after EOF: the transport stops reading at EOF, and input read as
        // the connection closes is dropped, as asyncio drops it once closing.
        let _ = self.feeder.feed_data(&data);
    }

    fn eof_received(&mut self) -> bool {
        self.feeder.feed_eof();
        true
    }

    fn connection_lost(&mut self, exc: Option<Error>) {
        match exc {
            None => self.feeder.feed_eof(),
            Some(err) => self.feeder.set_exception(err),
        }
        self.transport = None;
    }
}
