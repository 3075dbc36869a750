//! Bytes coming into a [`ReadBuffer`]: asyncio's `feed_data` and `feed_eof`, the
//! `BufferedProtocol` region (`get_buffer` / `buffer_updated`), chunks and pulls from a
//! source, and the rest of an over-long line dropped as it arrives.

use bytes::{Buf, BytesMut};

use super::{MAX_SPARE, ReadBuffer};
use crate::Error;

impl ReadBuffer {
    /// Appends received bytes (copying them).
    ///
    /// asyncio: `feed_data(data)`. Empty data is a no-op. Bytes of an over-long line
    /// being discarded are dropped here (see [`is_discarding`](Self::is_discarding)).
    /// Afterwards the caller asks [`FlowControl::pause_after_feed`] whether to pause.
    ///
    /// [`FlowControl::pause_after_feed`]: crate::sansio::FlowControl::pause_after_feed
    ///
    /// # Errors
    ///
    /// [`Error::FeedAfterEof`] once EOF was fed, even for empty data (asyncio asserts
    /// before its emptiness check); the buffer is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use aiostreams::sansio::{FlowControl, Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(4, Mode::default())?;
    /// let mut flow = FlowControl::new();
    /// buf.feed(b"0123456789")?;
    /// if flow.pause_after_feed(buf.len(), buf.limit()) {
    ///     // transport.pause_reading(): more than 2 * limit is buffered
    /// }
    /// assert!(flow.is_paused());
    /// buf.feed_eof();
    /// assert!(matches!(buf.feed(b""), Err(Error::FeedAfterEof)));
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn feed(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.eof {
            return Err(Error::FeedAfterEof);
        }
        self.abandon_spare();
        self.thaw();
        let data = self.skip_discarded(data);
        self.data.extend_from_slice(data);
        Ok(())
    }

    /// Marks EOF. Idempotent.
    ///
    /// asyncio: `feed_eof()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.feed_eof();
    /// buf.feed_eof(); // idempotent
    /// assert!(buf.at_eof());
    /// assert!(buf.feed(b"late").is_err());
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn feed_eof(&mut self) {
        self.abandon_spare();
        self.eof = true;
    }

    /// A writable region of `hint` bytes (1 to [`MAX_SPARE`]) after the buffered bytes,
    /// for a transport to receive into; [`commit`](Self::commit) then appends what it
    /// wrote.
    ///
    /// asyncio: `BufferedProtocol.get_buffer(sizehint)` (pass a positive size; asyncio's
    /// `-1` means "any", the caller picks one). The region is zero-filled, which costs a
    /// `memset` of `hint` bytes: ask for what a receive is likely to bring. Calling it
    /// again, or any other mutating method, before `commit` abandons the region.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// // A transport receives straight into the buffer (asyncio's BufferedProtocol).
    /// let region = buf.spare_mut(1024);
    /// let received = 5; // e.g. what recv() into `region` returned
    /// region[..received].copy_from_slice(b"hello");
    /// buf.commit(received)?;
    /// assert_eq!(buf.buffer(), b"hello");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn spare_mut(&mut self, hint: usize) -> &mut [u8] {
        self.abandon_spare();
        self.thaw();
        let hint = hint.clamp(1, MAX_SPARE);
        let start = self.data.len();
        self.data.resize(start + hint, 0);
        self.spare = hint as u32;
        &mut self.data[start..]
    }

    /// Appends the first `n` bytes written into the region from
    /// [`spare_mut`](Self::spare_mut); `commit(0)` only abandons it.
    ///
    /// asyncio: `BufferedProtocol.buffer_updated(nbytes)`. As with [`feed`](Self::feed),
    /// bytes of an over-long line being discarded are dropped.
    ///
    /// # Errors
    ///
    /// - [`Error::FeedAfterEof`] once EOF was fed;
    /// - [`Error::InvalidArgument`] when `n` exceeds the region handed out.
    ///
    /// In both cases nothing is appended and the region is abandoned.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let mut buf = ReadBuffer::new(64, Mode::default())?;
    /// buf.spare_mut(4)[..2].copy_from_slice(b"ok");
    /// buf.commit(2)?;
    /// assert_eq!(buf.buffer(), b"ok");
    /// let _ = buf.spare_mut(4);
    /// assert!(buf.commit(5).is_err()); // more than the region handed out: nothing appended
    /// assert_eq!(buf.buffer(), b"ok");
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn commit(&mut self, n: usize) -> Result<(), Error> {
        let (before, spare) = (self.len(), self.spare as usize);
        self.spare = 0;
        let outcome = if self.eof {
            Err(Error::FeedAfterEof)
        } else if n > spare {
            Err(Error::InvalidArgument(
                "buffer_updated() reported more bytes than get_buffer() returned",
            ))
        } else {
            Ok(())
        };
        self.data
            .truncate(before + if outcome.is_ok() { n } else { 0 });
        if self.discarding {
            self.drop_discarded();
        }
        outcome
    }

    #[inline]
    pub(super) fn abandon_spare(&mut self) {
        if self.spare != 0 {
            let len = self.len();
            self.data.truncate(len);
            self.spare = 0;
        }
    }

    /// Moves frozen bytes back into `data` before anything is appended to it: a copy
    /// into `data`'s spare capacity, rare (a buffer is frozen only when it ends where a
    /// line ends, and thawed only when a read needs more than it holds, or by a write).
    #[inline]
    pub(super) fn thaw(&mut self) {
        if !self.ready.is_empty() {
            self.thaw_ready();
        }
    }

    #[cold]
    #[inline(never)]
    fn thaw_ready(&mut self) {
        let ready = std::mem::take(&mut self.ready);
        self.data.extend_from_slice(&ready);
    }

    /// The buffer a source appends to (thawed first; the codec decoders').
    #[cfg(feature = "codec")]
    #[inline]
    pub(crate) fn data_mut(&mut self) -> &mut BytesMut {
        self.thaw();
        &mut self.data
    }

    /// The capacity left for appending without a reallocation (the codec decoders').
    #[cfg(feature = "codec")]
    pub(crate) fn spare_capacity(&self) -> usize {
        self.data.capacity() - self.data.len()
    }

    /// Drops the rest of the current line as it arrives (an abandoned skip of an
    /// over-long line).
    pub(crate) fn discard_rest_of_line(&mut self) {
        self.discarding = true;
        self.drop_discarded();
    }

    /// The part of `data` left after the rest of an over-long line (discarding only).
    fn skip_discarded<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        if !self.discarding {
            return data;
        }
        match memchr::memchr(b'\n', data) {
            Some(i) => {
                self.discarding = false;
                &data[i + 1..]
            }
            None => &[],
        }
    }

    /// Drops the rest of an over-long line from bytes appended to the buffer. While
    /// discarding the buffer holds nothing else: every entry point drops as it appends.
    pub(crate) fn drop_discarded(&mut self) {
        self.thaw();
        match memchr::memchr(b'\n', &self.data) {
            Some(i) => {
                self.discarding = false;
                self.data.advance(i + 1);
            }
            None => self.data.clear(),
        }
    }

    /// After a pull appended bytes to `data`: drops those of a discarded line.
    #[inline]
    pub(crate) fn after_pull(&mut self) {
        if self.discarding {
            self.drop_discarded();
        }
    }

    /// Appends a chunk (fed from another thread), without a copy when the buffer is empty.
    pub(crate) fn append(&mut self, mut chunk: BytesMut) {
        self.abandon_spare();
        self.thaw();
        if self.discarding {
            let skip = chunk.len() - self.skip_discarded(&chunk).len();
            chunk.advance(skip);
        }
        if self.data.is_empty() {
            self.data = chunk;
        } else {
            self.data.unsplit(chunk);
        }
    }
}
