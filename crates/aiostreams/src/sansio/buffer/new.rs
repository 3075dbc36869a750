//! Making a [`ReadBuffer`]: asyncio's `StreamReader(limit=n)` state, the limit checked.

use bytes::{Bytes, BytesMut};

use super::{ReadBuffer, check_limit};
use crate::Error;
use crate::sansio::Mode;

impl ReadBuffer {
    /// An empty buffer with the given limit and mode.
    ///
    /// asyncio: `StreamReader(limit=limit)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`) when `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::{Mode, ReadBuffer};
    ///
    /// let buf = ReadBuffer::new(64 * 1024, Mode::AsyncioExact)?;
    /// assert!(buf.is_empty());
    /// assert!(ReadBuffer::new(0, Mode::default()).is_err()); // "Limit cannot be <= 0"
    /// # Ok::<(), aiostreams::Error>(())
    /// ```
    pub fn new(limit: usize, mode: Mode) -> Result<Self, Error> {
        Ok(Self::with_checked_limit(check_limit(limit)?, mode))
    }

    pub(crate) fn with_checked_limit(limit: usize, mode: Mode) -> Self {
        ReadBuffer {
            ready: Bytes::new(),
            data: BytesMut::new(),
            limit,
            spare: 0,
            eof: false,
            mode,
            discarding: false,
        }
    }
}
