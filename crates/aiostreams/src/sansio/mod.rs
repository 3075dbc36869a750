//! asyncio's reader rules without I/O: what a read returns, raises or waits for.
//!
//! Every decision of asyncio's `StreamReader` reads lives here, and nowhere else: argument
//! validation with asyncio's messages, the check order (arguments, then the stored
//! exception, then the buffer), the limit rules, the buffer clean-ups, EOF, `feed_data`
//! after `feed_eof`, and the flow-control thresholds. Nothing here imports tokio or
//! touches a socket, so the rules are tested synchronously. Two readers drive it:
//!
//! - the tokio [`StreamReader`](crate::StreamReader), which pulls bytes from its socket
//!   into the buffer when a read says [`Step::NeedMore`] and wakes on feeds;
//! - the Python package's reader (an `asyncio.BufferedProtocol`), which receives bytes
//!   through [`ReadBuffer::spare_mut`] + [`ReadBuffer::commit`] (or [`ReadBuffer::feed`]),
//!   keeps a [`ReadOp`] in its awaitable between wake-ups and waits on a future.
//!
//! The pieces:
//!
//! | asyncio | here |
//! |---|---|
//! | `StreamReader(limit=n)` state: `_buffer`, `_eof`, `_limit` | [`ReadBuffer`] |
//! | `feed_data`, `feed_eof`, `at_eof()`, `_buffer` | [`ReadBuffer::feed`], [`ReadBuffer::feed_eof`], [`ReadBuffer::at_eof`], [`ReadBuffer::buffer`] |
//! | `get_buffer(n)` / `buffer_updated(n)` (`BufferedProtocol`) | [`ReadBuffer::spare_mut`] / [`ReadBuffer::commit`] |
//! | `read(n)`, `read(-1)`, `readexactly(n)`, `readuntil(sep)`, `readuntil((a, b))`, `readline()` | [`ReadOp`] constructors |
//! | the body of each read between two waits | [`ReadOp::step`] returning a [`Step`] |
//! | beyond asyncio: a per-call limit and overrun policy for `readline`/`readuntil` | [`ReadOp::with_limit`] with a [`RecordLimit`] ([`Overlong`]); [`ReadBuffer::set_limit`] |
//! | beyond asyncio: a length-prefixed frame, a peek | [`ReadOp::frame`] with a [`FrameSpec`], [`ReadOp::peek`] |
//! | `_paused`, `pause_reading()` in `feed_data`, `_maybe_resume_transport`, the resume in `_wait_for_data` | [`FlowControl`] |
//!
//! # Driving a read
//!
//! Construct the operation (this validates its arguments), then call
//! [`step`](ReadOp::step) whenever something may have changed: first at once, then each
//! time bytes or EOF arrived. Pass whether an exception is stored; the operation looks at
//! it where asyncio does. A wait ended by an exception raises it without stepping.
//!
//! ```
//! use aiostreams::sansio::{FlowControl, Mode, ReadBuffer, ReadOp, Step};
//!
//! let mut buf = ReadBuffer::new(64, Mode::default())?;
//! let mut flow = FlowControl::new();
//! let mut op = ReadOp::readline();
//!
//! // Bytes arrive (asyncio: data_received -> feed_data).
//! buf.feed(b"hel")?;
//! if flow.pause_after_feed(buf.len(), buf.limit()) { /* transport.pause_reading() */ }
//!
//! // The read runs: not a whole line yet.
//! assert!(matches!(op.step(&mut buf, false), Step::NeedMore));
//! if flow.resume_before_wait() { /* transport.resume_reading() */ }
//! // ... the caller waits (a future, a waker) ...
//!
//! // More bytes, written straight into the buffer (BufferedProtocol).
//! let spare = buf.spare_mut(16);
//! spare[..7].copy_from_slice(b"lo\nnext");
//! buf.commit(7)?;
//!
//! // Woken: step again; the search resumes where it stopped.
//! match op.step(&mut buf, false) {
//!     Step::Done(Ok(line)) => assert_eq!(line, "hello\n"),
//!     other => panic!("{other:?}"),
//! }
//! if op.resumes_transport() && flow.resume_after_read(buf.len(), buf.limit()) {
//!     /* transport.resume_reading() */
//! }
//! assert_eq!(buf.buffer(), b"next");
//!
//! // A stored exception comes before buffered bytes; invalid arguments before that.
//! assert!(matches!(ReadOp::readline().step(&mut buf, true), Step::RaiseStored));
//! assert!(ReadOp::readuntil(b"").is_err());
//! # Ok::<(), aiostreams::Error>(())
//! ```
//!
//! # Modes
//!
//! [`Mode`] is set when the buffer is made. [`Mode::AsyncioExact`] is CPython's
//! behaviour to the letter (the Python package uses it); [`Mode::Aiostreams`], the
//! default and the tokio reader's, differs in two documented ways; see [`Mode`].

mod buffer;
mod flow;
mod frame;
mod op;
mod record;
mod search;
#[cfg(test)]
mod tests;

pub(crate) use buffer::{MAX_PULL, check_limit, reserve_pull};
pub use buffer::{MAX_SPARE, ReadBuffer};
pub use flow::{FlowControl, pause_needed, resume_allowed};
pub(crate) use frame::take_frame;
pub use frame::{ByteOrder, DEFAULT_MAX_FRAME, FrameHeader, FrameSpec};
pub(crate) use op::Want;
pub use op::{ReadOp, Step};
pub(crate) use record::take_line_within;
pub use record::{Overlong, RecordLimit};

/// How many bytes of an over-long line `readline` looks through, among bytes already
/// received, for its end before reporting "not found" ([`Mode::Aiostreams`]). asyncio's
/// selector transport receives up to 256 KiB at a time, so a line up to that much past
/// the buffered part would have been "received" there too.
pub const PROBE_BUDGET: usize = 256 * 1024;

/// Which rules a [`ReadBuffer`] follows where aiostreams deliberately differs from
/// CPython.
///
/// | | [`Aiostreams`](Mode::Aiostreams) (default) | [`AsyncioExact`](Mode::AsyncioExact) |
/// |---|---|---|
/// | `readline()` over the limit, its `\n` not received | the error once, then the rest of that line is dropped as it arrives: no byte of it is ever returned | the buffer is cleared; bytes of the same line arriving later are returned as if they were a line |
/// | `readline()` over the limit, the whole line already received by the transport | "Separator is found, but chunk is longer than limit" ([`Step::NeedMoreIfReady`] lets a pulling reader look) | the same, when the line is in the buffer |
/// | `read(-1)` | bytes stay in the buffer until EOF: abandoning the read or a stored exception loses nothing | bytes are gathered out of the buffer as they arrive; a stored exception (checked before each block) loses them |
///
/// Everything else is identical.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// aiostreams' rules (the tokio reader's).
    #[default]
    Aiostreams,
    /// CPython's asyncio, exactly (the Python package's).
    AsyncioExact,
}
