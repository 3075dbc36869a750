//! tokio-util codecs on the reader's and the writer's own buffers (feature `codec`):
//! [`StreamReader::decode`], [`StreamReader::decoded`] and [`StreamWriter::encode`].
//!
//! A decoder works straight on the reader's buffer (no second buffer, no `FramedRead`
//! owning the stream), so the reader can change codecs, or go back to `readline()` and
//! `readexactly()`, between two frames without losing a byte: what tokio's issues #717
//! and #7472 ask of `Framed`.

mod decode;
mod stream;

pub use stream::Decoded;

use std::io;

use tokio_util::codec::Encoder;

use crate::StreamWriter;

impl StreamWriter {
    /// Encodes `item` with `codec` and queues the bytes; never blocks.
    ///
    /// tokio-util: `FramedWrite::send` (without its flush: call [`drain`](Self::drain)
    /// for back-pressure, as after [`write`](Self::write)). The codec encodes into a fresh
    /// buffer that is then queued without a copy ([`write_bytes`](Self::write_bytes)).
    /// Nothing is queued when the codec fails or writes nothing.
    ///
    /// # Errors
    ///
    /// The codec's error; [`Error::InvalidState`](crate::Error::InvalidState) after
    /// [`write_eof`](Self::write_eof), converted into the codec's error type through
    /// [`io::Error`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use aiostreams::{ServerOptions, open_connection};
    /// use tokio_util::codec::LinesCodec;
    ///
    /// let server = ServerOptions::new()
    ///     .start_server(
    ///         |_reader: aiostreams::StreamReader, writer: aiostreams::StreamWriter| async move {
    ///             let mut codec = LinesCodec::new();
    ///             writer.encode(&mut codec, "hello").map_err(aiostreams::Error::custom)?;
    ///             writer.drain().await
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, _writer) = open_connection("127.0.0.1", port).await?;
    /// assert_eq!(reader.readline().await?, "hello\n");
    /// # Ok(()) }
    /// ```
    pub fn encode<E: Encoder<I>, I>(&self, codec: &mut E, item: I) -> Result<(), E::Error> {
        let mut dst = bytes::BytesMut::new();
        codec.encode(item, &mut dst)?;
        if dst.is_empty() {
            return Ok(());
        }
        self.write_bytes(dst.freeze())
            .map_err(|err| io::Error::from(err).into())
    }
}
