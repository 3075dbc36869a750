//! What can be asked of a [`ReadBuffer`] (and its limit changed): the limit, the mode,
//! the buffered bytes (asyncio's `_buffer`), EOF, and whether an over-long line is being
//! dropped.

use super::{ReadBuffer, check_limit};
use crate::Error;
use crate::sansio::Mode;

impl ReadBuffer {
    /// The limit on a line or separated record (asyncio's `_limit`).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// assert_eq!(ReadBuffer::new(100, Mode::default())?.limit(), 100);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the limit (beyond asyncio, whose `_limit` is fixed at creation). Reads
    /// started later, and a read in progress at its next step, use the new limit; bytes
    /// already buffered stay. A lower limit can make a buffered record over-long.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`) when `limit` is 0; the
    /// limit is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    /// let mut buf = ReadBuffer::new(16, Mode::default())?;
    /// buf.set_limit(1 << 20)?;
    /// assert_eq!(buf.limit(), 1 << 20);
    /// assert!(buf.set_limit(0).is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn set_limit(&mut self, limit: usize) -> Result<(), Error> {
        self.limit = check_limit(limit)?;
        Ok(())
    }

    /// Sets the limit for one step of a read with its own limit; returns the old one.
    pub(crate) fn swap_limit(&mut self, limit: usize) -> usize {
        std::mem::replace(&mut self.limit, limit)
    }

    /// The rules this buffer follows.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// assert_eq!(ReadBuffer::new(100, Mode::default())?.mode(), Mode::Aiostreams);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The received bytes not yet read (asyncio's `_buffer`).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"ab")?;
    /// buf.feed(b"cd")?;
    /// assert_eq!(buf.buffer(), b"abcd");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn buffer(&self) -> &[u8] {
        if self.ready.is_empty() {
            &self.data[..self.len()]
        } else {
            &self.ready
        }
    }

    /// How many bytes are buffered (asyncio's `len(self._buffer)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"12345")?;
    /// assert_eq!(buf.len(), 5);
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.ready.len() + self.data.len() - self.spare as usize
    }

    /// [`is_empty`](Self::is_empty) as a branch: right after a cut from the frozen
    /// bytes the compiler knows some are left without reading `data`.
    #[inline(always)]
    pub(crate) fn is_drained(&self) -> bool {
        self.ready.is_empty() && self.data.len() == self.spare as usize
    }

    /// True when nothing is buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// assert!(buf.is_empty());
    /// buf.feed(b"x")?;
    /// assert!(!buf.is_empty());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once EOF was fed (asyncio's `_eof`), even with bytes still buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"x")?;
    /// buf.feed_eof();
    /// assert!(buf.eof()); // EOF was fed...
    /// assert!(!buf.at_eof()); // ...but a byte is still to be read
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn eof(&self) -> bool {
        self.eof
    }

    /// True when EOF was fed and every buffered byte has been read.
    ///
    /// asyncio: `at_eof()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed(b"x")?;
    /// buf.feed_eof();
    /// assert!(!buf.at_eof());
    /// let _ = ReadOp::read(1).step(&mut buf, false);
    /// assert!(buf.at_eof());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn at_eof(&self) -> bool {
        self.eof && self.is_empty()
    }

    /// True while the rest of an over-long line is being dropped as it arrives (after
    /// `readline`'s limit error in [`Mode::Aiostreams`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer, ReadOp};
    ///
    /// let mut buf = ReadBuffer::new(4, Mode::Aiostreams)?;
    /// buf.feed(b"too long")?;
    /// let mut op = ReadOp::readline();
    /// let _ = op.step(&mut buf, false);
    /// let _ = op.finish_without_more(&mut buf); // the limit error
    /// assert!(buf.is_discarding());
    /// buf.feed(b" still the same line\nnext\n")?; // dropped through its `\n`
    /// assert!(!buf.is_discarding());
    /// assert_eq!(buf.buffer(), b"next\n");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }
}
