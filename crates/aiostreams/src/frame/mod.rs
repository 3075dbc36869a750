//! Length-prefixed frames: [`StreamReader::read_frame`] and [`StreamWriter::write_frame`]
//! (beyond asyncio). The layout and the maximum are a [`FrameSpec`]; the read's rules
//! are the sans-I/O core's ([`ReadOp::frame`]).

use bytes::Bytes;

use crate::sansio::{FrameSpec, ReadOp, take_frame};
use crate::{Error, StreamReader, StreamWriter};

impl StreamReader {
    /// Reads one length-prefixed frame and returns its payload (without the header), or
    /// `None` at EOF on a frame boundary.
    ///
    /// asyncio: none (`readexactly(4)` then `readexactly(n)`, with no size check between);
    /// tokio-util: `FramedRead` with `LengthDelimitedCodec`; Go: `io.ReadFull` twice.
    ///
    /// The header's width, byte order and the largest payload accepted come from `spec`.
    /// The size is checked as soon as the header is buffered, *before* any payload byte
    /// is waited for: a hostile header declaring 4 GiB fails at once and allocates
    /// nothing, and even an accepted large frame reserves memory only as its bytes arrive
    /// (a pull reserves at most 64 KiB). Frames may exceed the reader's limit. A frame the
    /// buffer already holds is taken without waiting (the fast path of
    /// [`readexactly`](Self::readexactly)).
    ///
    /// # Errors
    ///
    /// - the stored exception, if any, first; buffered bytes stay there;
    /// - [`Error::FrameTooLarge`] when the header declares more than
    ///   [`FrameSpec::max_len`]; nothing is consumed (the header stays buffered: a
    ///   protocol usually closes the connection here);
    /// - [`Error::IncompleteRead`] when EOF comes inside a frame: its `partial` holds
    ///   every buffered byte (header included), `expected` the header's width or the
    ///   whole frame's size, and the buffer is left empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the header and payload stay in the buffer until the whole frame is
    /// there, so a dropped read consumes nothing and the next read starts at the same
    /// header.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Error, FrameSpec, StreamReader};
    ///
    /// let spec = FrameSpec::u32_be().max_frame(1024);
    /// let mut reader = StreamReader::new();
    /// reader.feed_data(b"\0\0\0\x05hello\0\0\0\0")?;
    /// assert_eq!(reader.read_frame(&spec).await?.unwrap(), "hello");
    /// assert_eq!(reader.read_frame(&spec).await?.unwrap(), ""); // an empty frame
    ///
    /// // A hostile 4 GiB header is refused before anything is buffered.
    /// reader.feed_data(b"\xff\xff\xff\xff")?;
    /// let err = reader.read_frame(&spec).await.unwrap_err();
    /// assert!(matches!(err, Error::FrameTooLarge { len: 0xffff_ffff, max: 1024 }));
    ///
    /// let mut reader = StreamReader::new();
    /// reader.feed_eof();
    /// assert_eq!(reader.read_frame(&spec).await?, None); // EOF between frames
    /// # Ok(()) }
    /// ```
    pub async fn read_frame(&mut self, spec: &FrameSpec) -> Result<Option<Bytes>, Error> {
        if let Some(frame) = self.fast(|buf| take_frame(buf, spec)) {
            return Ok(Some(frame));
        }
        match self.run(ReadOp::frame(*spec)).await {
            Ok(frame) => Ok(Some(frame)),
            Err(Error::IncompleteRead { partial, .. }) if partial.is_empty() => Ok(None),
            Err(err) => Err(err),
        }
    }
}

impl StreamWriter {
    /// Queues one length-prefixed frame: the header `spec` describes, then `payload`;
    /// never blocks.
    ///
    /// asyncio: none (`write(struct.pack(">I", len(p)) + p)`); tokio-util: `FramedWrite`
    /// with `LengthDelimitedCodec`. Header and payload are queued as one batch (one
    /// `writev` takes both, as [`writelines`](Self::writelines)). As with
    /// [`write`](Self::write), call [`drain`](Self::drain) for back-pressure.
    ///
    /// # Errors
    ///
    /// - [`Error::FrameTooLarge`] when `payload` is longer than [`FrameSpec::max_len`]
    ///   (the spec's maximum, or what its header can express); nothing is queued;
    /// - as [`write`](Self::write).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{FrameSpec, ServerOptions, open_connection};
    ///
    /// let spec = FrameSpec::u16_le();
    /// let server = ServerOptions::new()
    ///     .start_server(
    ///         move |mut reader: aiostreams::StreamReader, writer: aiostreams::StreamWriter| async move {
    ///             while let Some(frame) = reader.read_frame(&spec).await? {
    ///                 writer.write_frame(&spec, &frame)?; // echo each frame
    ///             }
    ///             writer.drain().await
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write_frame(&spec, b"ping")?;
    /// assert_eq!(reader.read_frame(&spec).await?.unwrap(), "ping");
    /// assert!(writer.write_frame(&FrameSpec::u8(), &[0; 256]).is_err()); // too long for a u8
    /// # Ok(()) }
    /// ```
    pub fn write_frame(&self, spec: &FrameSpec, payload: &[u8]) -> Result<(), Error> {
        let header = spec.header(payload.len())?;
        self.writelines([&header[..], payload])
    }
}
