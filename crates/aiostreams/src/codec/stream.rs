//! [`Decoded`]: a `Stream` of a decoder's items over a borrowed reader.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio_util::codec::Decoder;

use crate::StreamReader;

/// The items `codec` decodes from a reader, as a [`Stream`]
/// ([`StreamReader::decoded`]).
///
/// tokio-util: `FramedRead<T, D>`, but it borrows the reader instead of owning it: drop
/// the stream (or take the codec back with [`into_codec`](Self::into_codec)) and the
/// reader goes on with every byte the codec did not consume. The stream ends (`None`)
/// when [`StreamReader::decode`] returns `None` at EOF.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Decoded<'r, D> {
    reader: &'r mut StreamReader,
    codec: D,
}

impl<D> Decoded<'_, D> {
    /// The codec.
    ///
    /// # Examples
    ///
    /// ```
    /// use tokio_util::codec::LinesCodec;
    ///
    /// let mut reader = aiostreams::StreamReader::new();
    /// let lines = reader.decoded(LinesCodec::new_with_max_length(80));
    /// assert_eq!(lines.codec().max_length(), 80);
    /// ```
    pub fn codec(&self) -> &D {
        &self.codec
    }

    /// The codec, mutably (e.g. to change a `LengthDelimitedCodec`'s maximum between
    /// items).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use tokio_stream::StreamExt;
    /// use tokio_util::codec::LengthDelimitedCodec;
    ///
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"\x00\x00\x00\x02hi\x00\x00\x00\x05large")?;
    /// let mut frames = reader.decoded(LengthDelimitedCodec::new());
    /// frames.codec_mut().set_max_frame_length(2); // a handshake: small frames only
    /// assert_eq!(&frames.next().await.unwrap()?[..], b"hi");
    /// frames.codec_mut().set_max_frame_length(1 << 20); // then larger ones
    /// assert_eq!(&frames.next().await.unwrap()?[..], b"large");
    /// # Ok(())
    /// # }
    /// ```
    pub fn codec_mut(&mut self) -> &mut D {
        &mut self.codec
    }

    /// Ends the stream and returns the codec (with any state it keeps between items);
    /// the reader is free again.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use tokio_stream::StreamExt;
    /// use tokio_util::codec::LinesCodec;
    ///
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"HELLO\n\x00binary from here")?;
    /// let mut lines = reader.decoded(LinesCodec::new());
    /// assert_eq!(lines.next().await.unwrap().unwrap(), "HELLO");
    /// let _codec = lines.into_codec(); // the reader is free again, with what follows
    /// assert_eq!(reader.buffer(), b"\x00binary from here");
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_codec(self) -> D {
        self.codec
    }
}

impl<D: Decoder + Unpin> Stream for Decoded<'_, D> {
    type Item = Result<D::Item, D::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.reader
            .poll_decode(cx, &mut this.codec)
            .map(Result::transpose)
    }
}

impl StreamReader {
    /// The items `codec` decodes from this reader, as a [`Stream`] ([`Decoded`]).
    ///
    /// tokio-util: `FramedRead::new(reader, codec)`; each item is one
    /// [`decode`](Self::decode) (see there for EOF, the limit and errors).
    ///
    /// # Cancel safety
    ///
    /// Each `next()` is as cancel safe as [`decode`](Self::decode): nothing in the
    /// reader's buffer is lost, and the codec (kept in the stream) remembers what it
    /// consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio_stream::StreamExt;
    /// use tokio_util::codec::LinesCodec;
    ///
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"one\ntwo\nSTOP\nrest")?;
    /// let mut lines = reader.decoded(LinesCodec::new_with_max_length(80));
    /// while let Some(line) = lines.next().await {
    ///     if line? == "STOP" {
    ///         break;
    ///     }
    /// }
    /// drop(lines);
    /// assert_eq!(reader.buffer(), b"rest"); // nothing lost
    /// # Ok(()) }
    /// ```
    pub fn decoded<D: Decoder>(&mut self, codec: D) -> Decoded<'_, D> {
        Decoded {
            reader: self,
            codec,
        }
    }
}
