//! The one error type of the crate, and how it maps to asyncio's exceptions.
//!
//! | asyncio                                   | aiostreams                                  |
//! |-------------------------------------------|---------------------------------------------|
//! | `IncompleteReadError(partial, expected)`  | [`Error::IncompleteRead`]                   |
//! | `LimitOverrunError(message, consumed)`    | [`Error::LimitOverrun`]                     |
//! | `ValueError` from `readline()` (too long) | [`Error::LimitOverrun`] (buffer cleaned up) |
//! | `ValueError` for a bad argument           | [`Error::InvalidArgument`]                  |
//! | `AssertionError('feed_data after feed_eof')` | [`Error::FeedAfterEof`]                  |
//! | `OSError` and subclasses                  | [`Error::Io`]                               |
//! | any exception given to `set_exception`    | [`Error::Custom`] (or any variant)          |

use std::fmt;
use std::io;
use std::sync::Arc;

use bytes::Bytes;

/// Everything that can go wrong in aiostreams.
///
/// The error is cheap to clone (large payloads sit behind [`Bytes`] or [`Arc`]), because a
/// reader raises the exception stored by [`StreamReader::set_exception`] again on every
/// read, as asyncio does.
///
/// It converts into [`io::Error`] (for `AsyncRead`/`AsyncWrite` interop) so that the
/// original stays reachable:
///
/// ```
/// use aiostreams::Error;
/// let io: std::io::Error = Error::LimitOverrun { consumed: 9, separator_found: false }.into();
/// let back = io.get_ref().and_then(|e| e.downcast_ref::<Error>()).unwrap();
/// assert!(matches!(back, Error::LimitOverrun { consumed: 9, .. }));
/// ```
///
/// [`StreamReader::set_exception`]: crate::StreamReader::set_exception
#[derive(Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// EOF arrived before the read could complete (asyncio's `IncompleteReadError`).
    ///
    /// `partial` holds every byte the read took out of the buffer: nothing is lost.
    /// `expected` is the requested size for `readexactly`, `None` for `readuntil`.
    #[error("{} bytes read on a total of {} expected bytes", partial.len(), Expected(*expected))]
    IncompleteRead {
        /// The bytes read before EOF.
        partial: Bytes,
        /// How many bytes were expected, or `None` when unknown (`readuntil`).
        expected: Option<usize>,
    },

    /// A separator search went past the reader's limit (asyncio's `LimitOverrunError`).
    ///
    /// `consumed` is an index, not a count of removed bytes: from `readuntil` nothing is
    /// removed. When `separator_found` is false it is where the next search would start
    /// (the buffer's first `consumed` bytes hold no separator); when true it is where the
    /// separator begins (the length of the over-long record). `readline` reports the same
    /// error after it has dropped the over-long line, as asyncio's `ValueError` does.
    #[error("{}", if *separator_found {
        "Separator is found, but chunk is longer than limit"
    } else {
        "Separator is not found, and chunk exceed the limit"
    })]
    LimitOverrun {
        /// asyncio's `consumed` attribute.
        consumed: usize,
        /// Which of asyncio's two messages applies.
        separator_found: bool,
    },

    /// An argument was out of range (asyncio's `ValueError`), with asyncio's message.
    #[error("{0}")]
    InvalidArgument(&'static str),

    /// `feed_data` or `feed_eof`-then-data on a reader that has already seen EOF.
    ///
    /// asyncio asserts here; we return this error and leave the reader unchanged.
    #[error("feed_data after feed_eof")]
    FeedAfterEof,

    /// An I/O error from the byte source or the socket.
    #[error("{0}")]
    Io(Arc<io::Error>),

    /// Any other error, typically one given to [`StreamReader::set_exception`].
    ///
    /// [`StreamReader::set_exception`]: crate::StreamReader::set_exception
    #[error("{0}")]
    Custom(Arc<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// Wraps any error as [`Error::Custom`].
    pub fn custom(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Custom(Arc::new(err))
    }

    /// The [`io::ErrorKind`] this error stands for when seen through `std::io`.
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            Error::IncompleteRead { .. } => io::ErrorKind::UnexpectedEof,
            Error::LimitOverrun { .. } | Error::FeedAfterEof => io::ErrorKind::InvalidData,
            Error::InvalidArgument(_) => io::ErrorKind::InvalidInput,
            Error::Io(e) => e.kind(),
            Error::Custom(_) => io::ErrorKind::Other,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::IncompleteRead { partial, expected } => f
                .debug_struct("IncompleteRead")
                .field("partial", partial)
                .field("expected", expected)
                .finish(),
            Error::LimitOverrun {
                consumed,
                separator_found,
            } => f
                .debug_struct("LimitOverrun")
                .field("consumed", consumed)
                .field("separator_found", separator_found)
                .finish(),
            Error::InvalidArgument(m) => f.debug_tuple("InvalidArgument").field(m).finish(),
            Error::FeedAfterEof => f.write_str("FeedAfterEof"),
            Error::Io(e) => f.debug_tuple("Io").field(e).finish(),
            Error::Custom(e) => f.debug_tuple("Custom").field(e).finish(),
        }
    }
}

/// Renders asyncio's `expected` field: the number, or `undefined` for `None`.
struct Expected(Option<usize>);

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("undefined"),
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        // An io::Error that already carries one of ours is unwrapped, not nested.
        if err.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            let inner = err.into_inner().expect("checked above");
            return *inner.downcast::<Error>().expect("checked above");
        }
        Error::Io(Arc::new(err))
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> Self {
        io::Error::new(err.io_kind(), err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_read_messages_match_asyncio() {
        let e = Error::IncompleteRead {
            partial: Bytes::from_static(b"abc"),
            expected: Some(10),
        };
        assert_eq!(
            e.to_string(),
            "3 bytes read on a total of 10 expected bytes"
        );
        let e = Error::IncompleteRead {
            partial: Bytes::from_static(b"some dataAA"),
            expected: None,
        };
        assert_eq!(
            e.to_string(),
            "11 bytes read on a total of undefined expected bytes"
        );
    }

    #[test]
    fn io_round_trip_keeps_the_original() {
        let io: io::Error = Error::FeedAfterEof.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        assert!(matches!(Error::from(io), Error::FeedAfterEof));
        let plain = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(Error::from(plain).io_kind(), io::ErrorKind::ConnectionReset);
    }
}
