//! The [`ReadOp`] constructors: one per asyncio read (and the reads beyond asyncio:
//! a frame, a peek), each validating its arguments as asyncio does.

use std::borrow::Cow;

use bytes::BytesMut;

use super::{Kind, ReadOp};
use crate::Error;
use crate::sansio::frame::FrameSpec;
use crate::sansio::search::Separators;

impl ReadOp<'static> {
    /// asyncio `read(n)` for `n >= 0`: up to `n` bytes, as soon as any are buffered;
    /// `read(0)` returns empty at once (after the stored-exception check); at EOF with
    /// nothing buffered, empty. The limit does not apply.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// assert!(matches!(ReadOp::read(4).step(&mut buf, false), Step::NeedMore));
    /// buf.feed(b"abcdef")?;
    /// assert!(matches!(ReadOp::read(4).step(&mut buf, false), Step::Done(Ok(b)) if b == "abcd"));
    /// assert!(matches!(ReadOp::read(0).step(&mut buf, false), Step::Done(Ok(b)) if b.is_empty()));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn read(n: usize) -> Self {
        Self::new(Kind::Read(n))
    }

    /// asyncio `read(n)` with Python's signed `n`: any negative value is `read(-1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"all")?;
    /// buf.feed_eof();
    /// // Python's read(-1): everything up to EOF.
    /// assert!(matches!(ReadOp::read_signed(-1).step(&mut buf, false), Step::Done(Ok(b)) if b == "all"));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn read_signed(n: i64) -> Self {
        match usize::try_from(n) {
            Ok(n) => Self::read(n),
            Err(_) => Self::read_to_eof(),
        }
    }

    /// asyncio `read(-1)`: every byte up to EOF, not bounded by the limit.
    ///
    /// [`Mode::Aiostreams`] keeps the bytes in the buffer until EOF (abandoning the
    /// operation loses nothing; a stored exception leaves them buffered).
    /// [`Mode::AsyncioExact`] gathers them out of the buffer as they arrive, as asyncio's
    /// loop of `read(limit)` calls does, and checks the stored exception before each.
    ///
    /// [`Mode::Aiostreams`]: crate::sansio::Mode::Aiostreams
    /// [`Mode::AsyncioExact`]: crate::sansio::Mode::AsyncioExact
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(4, Mode::default())?;
    /// let mut op = ReadOp::read_to_eof();
    /// buf.feed(b"more than the limit")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore)); // not at EOF yet
    /// buf.feed_eof();
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(b)) if b == "more than the limit"));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn read_to_eof() -> Self {
        Self::new(Kind::ToEof(BytesMut::new()))
    }

    /// asyncio `readexactly(n)`: exactly `n` bytes, or at EOF `IncompleteRead` with
    /// every buffered byte (the buffer is then left empty). `n` may exceed the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"\x00\x05hel")?;
    /// assert!(matches!(ReadOp::readexactly(2).step(&mut buf, false), Step::Done(Ok(b)) if b == "\x00\x05"));
    /// buf.feed_eof();
    /// let Step::Done(Err(Error::IncompleteRead { partial, expected })) =
    ///     ReadOp::readexactly(5).step(&mut buf, false)
    /// else {
    ///     panic!("EOF came first");
    /// };
    /// assert_eq!((&partial[..], expected), (&b"hel"[..], Some(5)));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readexactly(n: usize) -> Self {
        Self::new(Kind::Exactly(n))
    }

    /// [`readexactly`](Self::readexactly) with Python's signed `n`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"readexactly size can not be less than zero"`) for a
    /// negative `n`: asyncio checks it before the stored exception.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::ReadOp;
    ///
    /// assert!(ReadOp::readexactly_signed(3).is_ok());
    /// let err = ReadOp::readexactly_signed(-1).unwrap_err();
    /// assert_eq!(err.to_string(), "readexactly size can not be less than zero");
    /// ```
    pub fn readexactly_signed(n: i64) -> Result<Self, Error> {
        usize::try_from(n)
            .map(Self::readexactly)
            .map_err(|_| Error::InvalidArgument("readexactly size can not be less than zero"))
    }

    /// asyncio `readline()`: `readuntil(b"\n")`, but at EOF the unterminated last line
    /// (or empty) is returned, and a line over the limit is dropped before the error:
    /// through its `\n` if it was seen, else the whole buffer, and in
    /// [`Mode::Aiostreams`] also the rest of the line as it arrives.
    ///
    /// [`Mode::Aiostreams`]: crate::sansio::Mode::Aiostreams
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"one\ntwo")?;
    /// assert!(matches!(ReadOp::readline().step(&mut buf, false), Step::Done(Ok(b)) if b == "one\n"));
    /// assert!(matches!(ReadOp::readline().step(&mut buf, false), Step::NeedMore));
    /// buf.feed_eof(); // the unterminated last line
    /// assert!(matches!(ReadOp::readline().step(&mut buf, false), Step::Done(Ok(b)) if b == "two"));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readline() -> Self {
        Self::new(Kind::Line {
            offset: 0,
            probe: None,
        })
    }

    /// A length-prefixed frame (beyond asyncio): its header, then the payload the header
    /// announces, which is returned without the header. See [`FrameSpec`].
    ///
    /// As soon as the header is buffered its length is checked against
    /// [`FrameSpec::max_len`]: over it the step is [`Error::FrameTooLarge`] and nothing is
    /// consumed, before any payload byte is waited for. At EOF: `IncompleteRead` with every
    /// buffered byte (the buffer is then left empty) and `expected: Some(n)` (the header's
    /// width while the header is incomplete, else header + payload); an empty `partial`
    /// means EOF came at a frame boundary. The limit does not apply.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{FrameSpec, Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// let spec = FrameSpec::u16_be().max_frame(100);
    /// let mut op = ReadOp::frame(spec);
    /// buf.feed(b"\x00\x03ab")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore));
    /// buf.feed(b"c\x01\x00")?;
    /// let Step::Done(Ok(frame)) = op.step(&mut buf, false) else { panic!() };
    /// assert_eq!(frame, "abc");
    /// // A 256-byte frame is over the maximum: refused before its payload arrives.
    /// let Step::Done(Err(err)) = ReadOp::frame(spec).step(&mut buf, false) else { panic!() };
    /// assert_eq!(err.to_string(), "frame of 256 bytes exceeds the maximum of 100 bytes");
    /// assert_eq!(buf.buffer(), b"\x01\x00"); // nothing consumed
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn frame(spec: FrameSpec) -> Self {
        Self::new(Kind::Frame(spec))
    }

    /// Waits until `n` bytes are buffered, or EOF, and consumes nothing (beyond asyncio;
    /// Go's `bufio.Reader.Peek`). The step is `Done(Ok(empty))` once the bytes are there
    /// (or EOF came): look at [`ReadBuffer::buffer`]. `n` over the buffer's limit is
    /// `Done(Err(`[`Error::InvalidArgument`]`))` at once, before the stored exception: a
    /// peek may not buffer past the limit.
    ///
    /// [`ReadBuffer::buffer`]: crate::sansio::ReadBuffer::buffer
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// let mut op = ReadOp::peek(3);
    /// buf.feed(b"ab")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::NeedMore));
    /// buf.feed(b"cd")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(b)) if b.is_empty()));
    /// assert_eq!(buf.buffer(), b"abcd");
    /// assert!(matches!(ReadOp::peek(65).step(&mut buf, false), Step::Done(Err(_))));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn peek(n: usize) -> Self {
        Self::new(Kind::Peek(n))
    }

    /// [`readuntil`](ReadOp::readuntil) with an owned separator.
    ///
    /// # Errors
    ///
    /// As [`readuntil`](ReadOp::readuntil).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// // An owned separator: the operation can outlive the caller's bytes (kept in a future).
    /// let separator = String::from("\r\n\r\n").into_bytes();
    /// let mut op = ReadOp::readuntil_owned(separator)?;
    /// let mut buf = ReadBuffer::new(1024, Mode::default())?;
    /// buf.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(head)) if head.ends_with(b"\r\n\r\n")));
    /// assert_eq!(buf.buffer(), b"body");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readuntil_owned(separator: Vec<u8>) -> Result<Self, Error> {
        Self::until(Separators::one(Cow::Owned(separator))?)
    }

    /// [`readuntil_any`](ReadOp::readuntil_any) with owned separators.
    ///
    /// # Errors
    ///
    /// As [`readuntil_any`](ReadOp::readuntil_any).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut op = ReadOp::readuntil_any_owned(vec![b"\n".to_vec(), b"\r\n".to_vec()])?;
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"a\r\nb")?;
    /// assert!(matches!(op.step(&mut buf, false), Step::Done(Ok(b)) if b == "a\r\n"));
    /// assert!(ReadOp::readuntil_any_owned(Vec::new()).is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readuntil_any_owned(separators: Vec<Vec<u8>>) -> Result<Self, Error> {
        Self::until(Separators::many(
            separators.into_iter().map(Cow::Owned).collect(),
        )?)
    }
}

impl<'a> ReadOp<'a> {
    fn new(kind: Kind<'a>) -> Self {
        ReadOp {
            kind,
            started: false,
            resume: false,
            discard: false,
            record_limit: 0,
        }
    }

    /// asyncio `readuntil(separator)`: up to and including the first `separator`.
    ///
    /// The record (without the separator) may be `limit` bytes long; over that the read
    /// fails with [`Error::LimitOverrun`] and leaves the buffer intact; the limit is
    /// checked before EOF; at EOF without a separator, `IncompleteRead` with every
    /// buffered byte (the buffer is then left empty).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Separator should be at least one-byte string"`) for
    /// an empty separator.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(16, Mode::default())?;
    /// buf.feed(b"key=value;rest")?;
    /// assert!(matches!(ReadOp::readuntil(b";")?.step(&mut buf, false), Step::Done(Ok(b)) if b == "key=value;"));
    /// buf.feed(b" and far too long for the limit")?;
    /// let step = ReadOp::readuntil(b";")?.step(&mut buf, false);
    /// assert!(matches!(step, Step::Done(Err(Error::LimitOverrun { separator_found: false, .. }))));
    /// assert_eq!(buf.buffer(), b"rest and far too long for the limit"); // left intact
    /// assert!(ReadOp::readuntil(b"").is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readuntil(separator: &'a [u8]) -> Result<Self, Error> {
        Self::until(Separators::one(Cow::Borrowed(separator))?)
    }

    /// asyncio 3.13 `readuntil((sep1, sep2, ...))`: whichever separator ends first; on a
    /// tie the shorter; the "not found" limit check uses the longest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`]: `"Separator should contain at least one element"` for
    /// an empty list, `"Separator should be at least one-byte string"` when one is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp, Step};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"x;y,")?;
    /// // Whichever separator ends first.
    /// assert!(matches!(ReadOp::readuntil_any(&[b",", b";"])?.step(&mut buf, false), Step::Done(Ok(b)) if b == "x;"));
    /// assert!(ReadOp::readuntil_any(&[]).is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn readuntil_any(separators: &[&'a [u8]]) -> Result<Self, Error> {
        Self::until(Separators::many(
            separators.iter().map(|s| Cow::Borrowed(*s)).collect(),
        )?)
    }

    fn until(seps: Separators<'a>) -> Result<Self, Error> {
        Ok(Self::new(Kind::Until { seps, offset: 0 }))
    }
}
