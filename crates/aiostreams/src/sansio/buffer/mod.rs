//! [`ReadBuffer`]: received bytes, EOF, the limit and the over-long-line state.
//!
//! This file holds the buffer's state; its methods are grouped by what they do:
//!
//! - [`new`]: making one, with asyncio's limit check;
//! - [`state`]: what can be asked of it: the limit, the mode, the buffered bytes, EOF;
//! - [`input`]: bytes coming in (asyncio's `feed_data`, `feed_eof`, `get_buffer` /
//!   `buffer_updated`, chunks and pulls) and the over-long line dropped as it arrives;
//! - [`cut`]: bytes going out, the records reads hand out and the bytes they drop;
//! - [`memory`]: the allocation behind the bytes: the per-thread spare, the pull window,
//!   releasing a drained buffer.

use bytes::{Bytes, BytesMut};

use super::Mode;
use crate::Error;

// rustdoc lists the methods in the order of these modules: the constructor first, then
// as the methods were written (a module's own impls would come after its submodules').
mod new;

mod state;

mod cut;
mod input;
mod memory;

pub(crate) use memory::reserve_pull;

/// Capacity kept after the buffer is drained; a larger allocation is released.
pub(crate) const RETAIN_CAPACITY: usize = 64 * 1024;

/// The largest number of bytes a single pull from a source may read.
pub(crate) const MAX_PULL: usize = 64 * 1024;

/// The largest region [`ReadBuffer::spare_mut`] hands out at once.
pub const MAX_SPARE: usize = 256 * 1024;

/// The state of an asyncio `StreamReader` that decides what reads return: the received
/// bytes not yet read (asyncio's `_buffer`), EOF, the limit, and the [`Mode`].
///
/// It holds no waiter, no transport and no stored exception: those belong to the I/O
/// layer driving it (the tokio [`StreamReader`](crate::StreamReader), or the Python
/// package's reader), which passes "is an exception stored" to [`ReadOp::step`].
///
/// Bytes come in through [`feed`](Self::feed) (asyncio's `feed_data`, a copy) or by
/// writing straight into [`spare_mut`](Self::spare_mut) and then
/// [`commit`](Self::commit)ting them (asyncio's `BufferedProtocol.get_buffer` /
/// `buffer_updated`); reads take them out through a [`ReadOp`].
///
/// [`ReadOp`]: super::ReadOp
/// [`ReadOp::step`]: super::ReadOp::step
///
/// # Examples
///
/// ```
/// use aiostreams::sansio::{Mode, ReadBuffer};
///
/// let mut buf = ReadBuffer::new(16, Mode::default())?;
/// buf.feed(b"ab")?;
/// let spare = buf.spare_mut(4);
/// spare[..2].copy_from_slice(b"c\n");
/// buf.commit(2)?;
/// assert_eq!(buf.buffer(), b"abc\n");
/// buf.feed_eof();
/// assert!(matches!(buf.feed(b"x"), Err(aiostreams::Error::FeedAfterEof)));
/// # Ok::<(), aiostreams::Error>(())
/// ```
#[derive(Debug)]
pub struct ReadBuffer {
    /// The buffered bytes, frozen, while several records are buffered (see
    /// [`take`](Self::take)): reads then cut them with `Bytes::split_to`, without
    /// `BytesMut`'s split and freeze per record. While it holds bytes, `data` is empty
    /// (its spare capacity stays for the next pull) and `spare` is 0; anything that
    /// appends to `data` first moves them back ([`thaw`](Self::thaw)).
    pub(super) ready: Bytes,
    pub(super) data: BytesMut,
    limit: usize,
    /// Bytes at the end of `data` handed out by `spare_mut` and not yet committed.
    spare: u32,
    pub(crate) eof: bool,
    mode: Mode,
    /// Dropping incoming bytes through the next `\n`: the rest of an over-long line whose
    /// limit error `readline` already reported ([`Mode::Aiostreams`] only).
    pub(crate) discarding: bool,
}

/// asyncio's `ValueError('Limit cannot be <= 0')`, shared by every `limit=` option.
pub(crate) fn check_limit(limit: usize) -> Result<usize, Error> {
    if limit == 0 {
        return Err(Error::InvalidArgument("Limit cannot be <= 0"));
    }
    Ok(limit)
}
