//! `StreamReader::decode`: one item from a tokio-util `Decoder`, on the reader's buffer.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio_util::codec::Decoder;

use crate::StreamReader;
use crate::reader::Op;
use crate::sansio::{ReadBuffer, Step, Want};

impl StreamReader {
    /// Decodes one item with `codec`, straight from the reader's buffer; `None` once the
    /// codec has nothing more at EOF.
    ///
    /// tokio-util: the next item of `FramedRead::new(io, codec)`, without the `FramedRead`:
    /// the bytes stay in this reader, so the next call may use another codec (or
    /// [`readline`](Self::readline), [`readexactly`](Self::readexactly), `start_tls`...)
    /// and sees every byte the previous codec did not consume.
    ///
    /// Before EOF the codec's `decode` is called on the buffer each time bytes arrive,
    /// until it returns an item; at EOF its `decode_eof`, as `FramedRead` does (the default
    /// `decode_eof` returns an item still buffered, `None` on an empty buffer, and an error
    /// "bytes remaining on stream" if bytes are left that make no item; those bytes stay
    /// buffered). Once EOF was met, every call returns what `decode_eof` returns.
    ///
    /// The reader's [limit](Self::limit) does not bound a decoder: the codec's own maximum
    /// does (`LinesCodec::new_with_max_length`, `LengthDelimitedCodec`'s
    /// `max_frame_length`). A codec that waits forever for a delimiter grows the buffer
    /// for as long as the peer sends. Pulls are sized by what the codec reserved in the
    /// buffer (a `LengthDelimitedCodec` reserves the frame it is reading), at most 64 KiB
    /// each.
    ///
    /// # Errors
    ///
    /// The codec's error; the reader's stored exception (first, as every read) or an I/O
    /// error from the source, converted into the codec's error type through
    /// [`io::Error`] (the original [`Error`](crate::Error) can be downcast from it).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if the same codec is used again: the reader's buffer loses nothing,
    /// and what the codec consumed before returning `None` (a `LengthDelimitedCodec`
    /// consumes a header, then waits for the payload) is remembered by the codec. Switch
    /// codecs between items, not inside one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio_util::codec::{LengthDelimitedCodec, LinesCodec};
    ///
    /// let mut reader = aiostreams::StreamReader::new();
    /// // A text greeting, then length-prefixed frames, in one segment.
    /// reader.feed_data(b"HELLO v1\n\0\0\0\x03abc")?;
    /// reader.feed_eof();
    /// let greeting = reader.decode(&mut LinesCodec::new_with_max_length(64)).await?;
    /// assert_eq!(greeting.as_deref(), Some("HELLO v1"));
    /// let mut frames = LengthDelimitedCodec::new();
    /// assert_eq!(reader.decode(&mut frames).await?.unwrap(), "abc");
    /// assert!(reader.decode(&mut frames).await?.is_none()); // EOF
    /// # Ok(()) }
    /// ```
    pub async fn decode<D: Decoder>(&mut self, codec: &mut D) -> Result<Option<D::Item>, D::Error> {
        poll_fn(|cx| self.poll_decode(cx, codec)).await
    }

    /// One poll of [`decode`](Self::decode) (also the [`Decoded`](crate::Decoded) stream's).
    pub(crate) fn poll_decode<D: Decoder>(
        &mut self,
        cx: &mut Context<'_>,
        codec: &mut D,
    ) -> Poll<Result<Option<D::Item>, D::Error>> {
        let mut op = DecodeOp {
            codec,
            started: false,
            item: None,
        };
        match std::task::ready!(self.poll_op(cx, &mut op)) {
            Ok(_) => Poll::Ready(op.item.unwrap_or(Ok(None))),
            Err(err) => Poll::Ready(Err(io::Error::from(err).into())),
        }
    }
}

/// A decoder's read as an [`Op`]: it completes with `Ok(empty)` once the codec returned
/// an item, an error, or (at EOF) `None`, and keeps that outcome in `item`.
struct DecodeOp<'c, D: Decoder> {
    codec: &'c mut D,
    started: bool,
    item: Option<Result<Option<D::Item>, D::Error>>,
}

impl<D: Decoder> Op for DecodeOp<'_, D> {
    fn step(&mut self, buf: &mut ReadBuffer, exception_stored: bool) -> Step {
        if !std::mem::replace(&mut self.started, true) && exception_stored {
            return Step::RaiseStored;
        }
        let eof = buf.eof();
        let outcome = if eof {
            self.codec.decode_eof(buf.data_mut())
        } else {
            self.codec.decode(buf.data_mut())
        };
        buf.release_if_drained();
        if matches!(outcome, Ok(None)) && !eof {
            return Step::NeedMore;
        }
        self.item = Some(outcome);
        Step::Done(Ok(Bytes::new()))
    }

    fn has_started(&self) -> bool {
        self.started
    }

    fn is_probing(&self) -> bool {
        false
    }

    fn want(&self, buf: &ReadBuffer) -> Want {
        // What the codec reserved is what it expects next (tokio-util's convention).
        let reserved = buf.spare_capacity();
        Want {
            need: reserved.max(1),
            merge_to: 0,
        }
    }

    fn finish_without_more(&mut self, buf: &mut ReadBuffer) -> Step {
        self.step(buf, false)
    }
}
