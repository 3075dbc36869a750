//! [`FrameSpec`]: a length-prefixed frame's header (width, byte order, maximum size),
//! and the frame read's step.

use bytes::{Buf, Bytes};

use super::buffer::ReadBuffer;
use super::op::Step;
use crate::Error;

/// The default largest payload of a [`FrameSpec`]: 8 MiB (tokio-util's
/// `LengthDelimitedCodec` default).
pub const DEFAULT_MAX_FRAME: u64 = 8 * 1024 * 1024;

/// The byte order of a frame's length header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Most significant byte first (network order).
    Big,
    /// Least significant byte first.
    Little,
}

/// How a length-prefixed frame is laid out: a 1, 2, 4 or 8-byte unsigned length header
/// in big- or little-endian order, then that many payload bytes; and the largest payload
/// accepted.
///
/// tokio-util: `LengthDelimitedCodec` (`length_field_length`, `big_endian`/
/// `little_endian`, `max_frame_length`); Go: `binary.BigEndian.Uint32` on an
/// `io.ReadFull` header. asyncio has none (`readexactly` twice). The header counts the
/// payload only, not itself.
///
/// The maximum is checked as soon as the header is buffered, *before* any payload byte is
/// waited for or buffered: a hostile header declaring 4 GiB is an error at once, and a
/// legitimate large frame costs memory only as its bytes arrive. The default maximum is
/// [`DEFAULT_MAX_FRAME`] (8 MiB); frames may exceed the reader's limit.
///
/// Used by [`StreamReader::read_frame`](crate::StreamReader::read_frame),
/// [`StreamWriter::write_frame`](crate::StreamWriter::write_frame) and
/// [`ReadOp::frame`](super::ReadOp::frame).
///
/// # Examples
///
/// ```
/// use aiostreams::sansio::{ByteOrder, FrameSpec};
///
/// let spec = FrameSpec::u32_be().max_frame(1024);
/// assert_eq!((spec.header_len(), spec.byte_order(), spec.max_len()), (4, ByteOrder::Big, 1024));
/// assert_eq!(spec.header(5)?, [0, 0, 0, 5]);
/// assert_eq!(FrameSpec::u16_le().header(0x0102)?, [2, 1]);
/// assert!(FrameSpec::u8().header(256).is_err()); // does not fit one byte
/// assert!(FrameSpec::new(3, ByteOrder::Big).is_err());
/// # Ok::<(), aiostreams::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct FrameSpec {
    width: u8,
    order: ByteOrder,
    max: u64,
}

impl FrameSpec {
    /// A spec with a `width`-byte header (1, 2, 4 or 8) in `order`, and the default
    /// maximum.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for any other width.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{ByteOrder, FrameSpec};
    ///
    /// let spec = FrameSpec::new(2, ByteOrder::Little)?;
    /// assert_eq!(spec.header(0x0102)?, [2, 1]);
    /// assert!(FrameSpec::new(3, ByteOrder::Big).is_err()); // 1, 2, 4 or 8 bytes
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub const fn new(width: usize, order: ByteOrder) -> Result<Self, Error> {
        match width {
            1 | 2 | 4 | 8 => Ok(FrameSpec {
                width: width as u8,
                order,
                max: DEFAULT_MAX_FRAME,
            }),
            _ => Err(Error::InvalidArgument(
                "frame header width must be 1, 2, 4 or 8 bytes",
            )),
        }
    }

    const fn of(width: u8, order: ByteOrder) -> Self {
        FrameSpec {
            width,
            order,
            max: DEFAULT_MAX_FRAME,
        }
    }

    /// A one-byte header (payloads up to 255 bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FrameSpec;
    ///
    /// assert_eq!(FrameSpec::u8().header(255)?, [255]);
    /// assert!(FrameSpec::u8().header(256).is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub const fn u8() -> Self {
        Self::of(1, ByteOrder::Big)
    }

    /// A two-byte big-endian header.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiostreams::sansio::FrameSpec::u16_be().header(0x0102)?, [1, 2]);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub const fn u16_be() -> Self {
        Self::of(2, ByteOrder::Big)
    }

    /// A two-byte little-endian header.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiostreams::sansio::FrameSpec::u16_le().header(0x0102)?, [2, 1]);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub const fn u16_le() -> Self {
        Self::of(2, ByteOrder::Little)
    }

    /// A four-byte big-endian header (the most common: tokio-util's default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiostreams::sansio::FrameSpec::u32_be().header(5)?, [0, 0, 0, 5]);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub const fn u32_be() -> Self {
        Self::of(4, ByteOrder::Big)
    }

    /// A four-byte little-endian header.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(aiostreams::sansio::FrameSpec::u32_le().header(5)?, [5, 0, 0, 0]);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub const fn u32_le() -> Self {
        Self::of(4, ByteOrder::Little)
    }

    /// An eight-byte big-endian header.
    ///
    /// # Examples
    ///
    /// ```
    /// let spec = aiostreams::sansio::FrameSpec::u64_be().max_frame(1 << 40);
    /// assert_eq!(spec.header(1)?, [0, 0, 0, 0, 0, 0, 0, 1]);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub const fn u64_be() -> Self {
        Self::of(8, ByteOrder::Big)
    }

    /// An eight-byte little-endian header.
    ///
    /// # Examples
    ///
    /// ```
    /// let spec = aiostreams::sansio::FrameSpec::u64_le().max_frame(1 << 40);
    /// assert_eq!(spec.header(1)?, [1, 0, 0, 0, 0, 0, 0, 0]);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub const fn u64_le() -> Self {
        Self::of(8, ByteOrder::Little)
    }

    /// The same spec with `max` as the largest payload accepted (bytes, header
    /// excluded). Reads of a larger declared frame and writes of a larger payload fail
    /// with [`Error::FrameTooLarge`]. Whatever the value, a payload must also fit the
    /// header's width.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::{Error, sansio::FrameSpec};
    ///
    /// let spec = FrameSpec::u32_be().max_frame(1024);
    /// assert_eq!(spec.max_len(), 1024);
    /// assert!(matches!(spec.header(1025), Err(Error::FrameTooLarge { .. })));
    /// ```
    pub const fn max_frame(mut self, max: u64) -> Self {
        self.max = max;
        self
    }

    /// The header's width in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FrameSpec;
    ///
    /// assert_eq!(FrameSpec::u8().header_len(), 1);
    /// assert_eq!(FrameSpec::u64_le().header_len(), 8);
    /// ```
    pub const fn header_len(&self) -> usize {
        self.width as usize
    }

    /// The header's byte order.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{ByteOrder, FrameSpec};
    ///
    /// assert_eq!(FrameSpec::u16_le().byte_order(), ByteOrder::Little);
    /// ```
    pub const fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// The largest payload accepted: the smaller of [`max_frame`](Self::max_frame) and
    /// what the header's width can express.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FrameSpec;
    ///
    /// // The header's width caps the maximum, whatever max_frame says.
    /// assert_eq!(FrameSpec::u8().max_frame(1 << 20).max_len(), 255);
    /// assert_eq!(FrameSpec::u32_be().max_frame(100).max_len(), 100);
    /// ```
    pub const fn max_len(&self) -> u64 {
        let width_max = match self.width {
            8 => u64::MAX,
            w => (1 << (8 * w as u32)) - 1,
        };
        if self.max < width_max {
            self.max
        } else {
            width_max
        }
    }

    /// Decodes a length header (`header.len()` must be the width).
    fn length(&self, header: &[u8]) -> u64 {
        let mut bytes = [0u8; 8];
        match self.order {
            ByteOrder::Big => {
                bytes[8 - header.len()..].copy_from_slice(header);
                u64::from_be_bytes(bytes)
            }
            ByteOrder::Little => {
                bytes[..header.len()].copy_from_slice(header);
                u64::from_le_bytes(bytes)
            }
        }
    }

    /// The header announcing a payload of `len` bytes (its first
    /// [`header_len`](Self::header_len) bytes).
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLarge`] when `len` exceeds [`max_len`](Self::max_len).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FrameSpec;
    ///
    /// let spec = FrameSpec::u16_be();
    /// let mut frame = spec.header(5)?.to_vec();
    /// frame.extend_from_slice(b"hello");
    /// assert_eq!(frame, b"\x00\x05hello");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn header(&self, len: usize) -> Result<FrameHeader, Error> {
        let len = len as u64;
        self.check(len)?;
        let bytes = match self.order {
            ByteOrder::Big => len.to_be_bytes(),
            ByteOrder::Little => len.to_le_bytes(),
        };
        let mut out = FrameHeader {
            bytes: [0; 8],
            len: self.width,
        };
        let w = self.header_len();
        match self.order {
            ByteOrder::Big => out.bytes[..w].copy_from_slice(&bytes[8 - w..]),
            ByteOrder::Little => out.bytes[..w].copy_from_slice(&bytes[..w]),
        }
        Ok(out)
    }

    fn check(&self, len: u64) -> Result<(), Error> {
        if len > self.max_len() {
            return Err(Error::FrameTooLarge {
                len,
                max: self.max_len(),
            });
        }
        Ok(())
    }
}

/// An encoded frame header: dereferences to its 1 to 8 bytes
/// ([`FrameSpec::header`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    bytes: [u8; 8],
    len: u8,
}

impl std::ops::Deref for FrameHeader {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl<const N: usize> PartialEq<[u8; N]> for FrameHeader {
    fn eq(&self, other: &[u8; N]) -> bool {
        **self == other[..]
    }
}

/// The common case: a whole frame within the maximum is buffered. It is taken as the
/// step would take it; otherwise `None`, and nothing changes.
#[inline]
pub(crate) fn take_frame(buf: &mut ReadBuffer, spec: &FrameSpec) -> Option<Bytes> {
    let width = spec.header_len();
    let len = spec.length(buf.buffer().get(..width)?);
    if len > spec.max_len() || ((buf.len() - width) as u64) < len {
        return None;
    }
    // Buffered, so it fits in usize.
    Some(split_payload(buf, width, len as usize))
}

/// Takes the header and payload out of the buffer and returns the payload.
fn split_payload(buf: &mut ReadBuffer, width: usize, len: usize) -> Bytes {
    let mut frame = buf.take(width + len);
    frame.advance(width);
    frame
}

/// One step of a frame read: the payload once the header and all its bytes are
/// buffered; [`Error::FrameTooLarge`] as soon as the header is (nothing consumed); at EOF
/// an `IncompleteRead` with every buffered byte (empty at a frame boundary).
pub(crate) fn step_frame(buf: &mut ReadBuffer, spec: &FrameSpec, resume: &mut bool) -> Step {
    let width = spec.header_len();
    let Some(header) = buf.buffer().get(..width) else {
        return incomplete_or_more(buf, width);
    };
    let len = spec.length(header);
    if let Err(err) = spec.check(len) {
        return Step::Done(Err(err));
    }
    // Within max_len, and a buffer that holds it fits in memory: len fits in usize when
    // it is buffered; otherwise saturate (EOF or more bytes will come first).
    let total = usize::try_from(len).map_or(usize::MAX, |n| n.saturating_add(width));
    if buf.len() < total {
        return incomplete_or_more(buf, total);
    }
    *resume = true;
    Step::Done(Ok(split_payload(buf, width, total - width)))
}

fn incomplete_or_more(buf: &mut ReadBuffer, expected: usize) -> Step {
    if !buf.eof {
        return Step::NeedMore;
    }
    Step::Done(Err(Error::IncompleteRead {
        partial: buf.take_all(),
        expected: Some(expected),
    }))
}

/// The bytes a frame read still needs (pull sizing): the header, then the payload.
pub(crate) fn frame_need(buf: &ReadBuffer, spec: &FrameSpec) -> usize {
    let width = spec.header_len();
    match buf.buffer().get(..width) {
        None => width - buf.len(),
        Some(header) => {
            let total = usize::try_from(spec.length(header))
                .map_or(usize::MAX, |n| n.saturating_add(width));
            total.saturating_sub(buf.len()).max(1)
        }
    }
}
