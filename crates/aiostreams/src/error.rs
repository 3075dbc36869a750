//! The one error type of the crate, and how it maps to asyncio's exceptions.
//!
//! | asyncio                                   | aiostreams                                  |
//! |-------------------------------------------|---------------------------------------------|
//! | `IncompleteReadError(partial, expected)`  | [`Error::IncompleteRead`]                   |
//! | `LimitOverrunError(message, consumed)`    | [`Error::LimitOverrun`]                     |
//! | `ValueError` from `readline()` (too long) | [`Error::LimitOverrun`] (buffer cleaned up) |
//! | none (beyond asyncio: a frame over its maximum) | [`Error::FrameTooLarge`] |
//! | none (beyond asyncio: a bad PROXY protocol header) | [`Error::ProxyProtocol`] |
//! | none (beyond asyncio: an over-long record skipped, [`Overlong::DiscardToSeparator`]) | [`Error::OverlongDiscarded`] |
//! | `ValueError` for a bad argument           | [`Error::InvalidArgument`]                  |
//! | `AssertionError('feed_data after feed_eof')` | [`Error::FeedAfterEof`]                  |
//! | `ConnectionResetError('Connection lost')` | [`Error::ConnectionLost`]                   |
//! | `RuntimeError` (e.g. write after write_eof) | [`Error::InvalidState`]                   |
//! | `OSError` and subclasses                  | [`Error::Io`]                               |
//! | `OSError('Connect call failed …')`, `OSError('Multiple exceptions: …')`, `ExceptionGroup` (`all_errors=True`) | [`Error::Connect`] (every attempt kept) |
//! | `socket.gaierror` from name resolution    | [`Error::Resolve`]                          |
//! | `TimeoutError` from a deadline            | [`Error::TimedOut`]                         |
//! | any exception given to `set_exception`    | [`Error::Custom`] (or any variant)          |
//!
//! [`Overlong::DiscardToSeparator`]: crate::Overlong::DiscardToSeparator

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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

    /// A length-prefixed frame's declared size is over its
    /// [`FrameSpec`](crate::sansio::FrameSpec)'s maximum (beyond asyncio; tokio-util's
    /// "frame size too big"). A read reports it as soon as the header is buffered and
    /// consumes nothing; a write queues nothing.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge {
        /// The declared (read) or given (write) payload size.
        len: u64,
        /// The largest payload the spec accepts.
        max: u64,
    },

    /// A connection's PROXY protocol header was missing or malformed (beyond asyncio;
    /// [`ServerOptions::proxy_protocol`](crate::ServerOptions::proxy_protocol)): what is
    /// wrong, e.g. `"PROXY v1 header has a bad port"`.
    #[error("{0}")]
    ProxyProtocol(&'static str),

    /// A `readline`/`readuntil` record over its limit was dropped, through its separator,
    /// under [`Overlong::DiscardToSeparator`] (beyond asyncio). The read is over, nothing
    /// else is lost, and the next read starts at the next record: a line server answers
    /// an error and goes on. `dropped` counts the record's bytes and its separator (at
    /// EOF before the separator: every byte of the record).
    ///
    /// [`Overlong::DiscardToSeparator`]: crate::Overlong::DiscardToSeparator
    #[error("a record over the limit was discarded ({dropped} bytes)")]
    OverlongDiscarded {
        /// Bytes dropped, separator included.
        dropped: usize,
    },

    /// An argument was out of range (asyncio's `ValueError`), with asyncio's message.
    #[error("{0}")]
    InvalidArgument(&'static str),

    /// `feed_data` or `feed_eof`-then-data on a reader that has already seen EOF.
    ///
    /// asyncio asserts here; we return this error and leave the reader unchanged.
    #[error("feed_data after feed_eof")]
    FeedAfterEof,

    /// The connection is gone: asyncio's `ConnectionResetError('Connection lost')`, raised
    /// by `drain()` after the connection was closed or lost.
    #[error("Connection lost")]
    ConnectionLost,

    /// A call that the object's state forbids (asyncio's `RuntimeError`), with asyncio's
    /// message, e.g. `"Cannot call write() after write_eof()"`.
    #[error("{0}")]
    InvalidState(&'static str),

    /// A TLS failure: certificate verification, the peer's alert, a handshake timeout...
    #[cfg(feature = "tls")]
    #[error("{0}")]
    Tls(crate::tls::TlsError),

    /// An I/O error from the byte source or the socket.
    #[error("{0}")]
    Io(Arc<io::Error>),

    /// Every address of a connect failed (asyncio's `create_connection` error).
    ///
    /// `attempts` lists each failure in the order the attempts started, as asyncio 3.12's
    /// `all_errors=True` does; an address can appear more than once when several local
    /// addresses failed to bind. The message follows asyncio's rules: one failure gives its
    /// own text, several with identical text give the first, otherwise
    /// `Multiple exceptions: a, b, …`. [`Error::io_kind`] is the first failure's kind.
    #[error("{}", connect_message(attempts))]
    Connect {
        /// The failed attempts, in the order they started.
        attempts: Arc<[ConnectAttempt]>,
    },

    /// A host name could not be resolved (asyncio's `socket.gaierror`).
    #[error("cannot resolve host {host:?}: {error}")]
    Resolve {
        /// The name that was looked up.
        host: Arc<str>,
        /// The resolver's error.
        error: Arc<io::Error>,
    },

    /// An operation did not finish before its deadline (asyncio's `TimeoutError`).
    #[error("{operation} timed out after {after:?}")]
    TimedOut {
        /// What timed out, e.g. `"connect"`.
        operation: &'static str,
        /// The deadline that expired.
        after: Duration,
    },

    /// Any other error, typically one given to [`StreamReader::set_exception`].
    ///
    /// [`StreamReader::set_exception`]: crate::StreamReader::set_exception
    #[error("{0}")]
    Custom(Arc<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// Wraps any error as [`Error::Custom`].
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Debug)]
    /// struct BadFrame;
    /// impl std::fmt::Display for BadFrame {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("bad frame")
    ///     }
    /// }
    /// impl std::error::Error for BadFrame {}
    ///
    /// let err = aiostreams::Error::custom(BadFrame);
    /// assert_eq!(err.to_string(), "bad frame");
    /// assert_eq!(err.io_kind(), std::io::ErrorKind::Other);
    /// ```
    pub fn custom(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Custom(Arc::new(err))
    }

    /// The [`io::ErrorKind`] this error stands for when seen through `std::io`.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::Error;
    /// use std::io::ErrorKind;
    ///
    /// assert_eq!(Error::ConnectionLost.io_kind(), ErrorKind::ConnectionReset);
    /// let incomplete = Error::IncompleteRead { partial: "ab".into(), expected: Some(4) };
    /// assert_eq!(incomplete.io_kind(), ErrorKind::UnexpectedEof);
    /// ```
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            Error::IncompleteRead { .. } => io::ErrorKind::UnexpectedEof,
            Error::LimitOverrun { .. }
            | Error::FeedAfterEof
            | Error::FrameTooLarge { .. }
            | Error::OverlongDiscarded { .. } => io::ErrorKind::InvalidData,
            Error::InvalidArgument(_) => io::ErrorKind::InvalidInput,
            Error::ProxyProtocol(_) => io::ErrorKind::InvalidData,
            Error::ConnectionLost => io::ErrorKind::ConnectionReset,
            #[cfg(feature = "tls")]
            Error::Tls(e) => e.io_kind(),
            Error::InvalidState(_) => io::ErrorKind::Other,
            Error::Io(e) | Error::Resolve { error: e, .. } => e.kind(),
            Error::Connect { attempts } => attempts
                .first()
                .map_or(io::ErrorKind::Other, |a| a.error.kind()),
            Error::TimedOut { .. } => io::ErrorKind::TimedOut,
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
            Error::FrameTooLarge { len, max } => f
                .debug_struct("FrameTooLarge")
                .field("len", len)
                .field("max", max)
                .finish(),
            Error::OverlongDiscarded { dropped } => f
                .debug_struct("OverlongDiscarded")
                .field("dropped", dropped)
                .finish(),
            Error::InvalidArgument(m) => f.debug_tuple("InvalidArgument").field(m).finish(),
            Error::ProxyProtocol(m) => f.debug_tuple("ProxyProtocol").field(m).finish(),
            Error::FeedAfterEof => f.write_str("FeedAfterEof"),
            Error::ConnectionLost => f.write_str("ConnectionLost"),
            #[cfg(feature = "tls")]
            Error::Tls(e) => f.debug_tuple("Tls").field(e).finish(),
            Error::InvalidState(m) => f.debug_tuple("InvalidState").field(m).finish(),
            Error::Io(e) => f.debug_tuple("Io").field(e).finish(),
            Error::Connect { attempts } => f
                .debug_struct("Connect")
                .field("attempts", attempts)
                .finish(),
            Error::Resolve { host, error } => f
                .debug_struct("Resolve")
                .field("host", host)
                .field("error", error)
                .finish(),
            Error::TimedOut { operation, after } => f
                .debug_struct("TimedOut")
                .field("operation", operation)
                .field("after", after)
                .finish(),
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

/// One failed connection attempt inside [`Error::Connect`].
///
/// Its `Display` is asyncio's text for the failure: `Connect call failed ('127.0.0.1', 1):
/// <os error>` for a refused or failed connect, or the error's own message when it already
/// names an address (a failed bind of the local address).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnectAttempt {
    /// The remote address the attempt tried to reach.
    pub addr: SocketAddr,
    /// Why it failed; [`io::Error::raw_os_error`] is kept for connect failures, and a bind
    /// failure's original error is its [`source`](std::error::Error::source).
    pub error: Arc<io::Error>,
}

impl fmt::Display for ConnectAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Errors we built ourselves (bind failures) carry a message naming the address.
        if self.error.get_ref().is_some() {
            return write!(f, "{}", self.error);
        }
        write!(
            f,
            "Connect call failed {}: {}",
            PyAddr(&self.addr),
            self.error
        )
    }
}

/// asyncio's message for a failed `create_connection` (see [`Error::Connect`]).
fn connect_message(attempts: &[ConnectAttempt]) -> String {
    let texts: Vec<String> = attempts.iter().map(ToString::to_string).collect();
    match texts.as_slice() {
        [] => "create_connection failed".to_owned(),
        [first, rest @ ..] if rest.iter().all(|t| t == first) => first.clone(),
        _ => format!("Multiple exceptions: {}", texts.join(", ")),
    }
}

/// Renders a socket address as Python's `repr` of the sockaddr tuple:
/// `('127.0.0.1', 80)` or `('::1', 80, 0, 0)`.
pub(crate) struct PyAddr<'a>(pub(crate) &'a SocketAddr);

impl fmt::Display for PyAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SocketAddr::V4(a) => write!(f, "('{}', {})", a.ip(), a.port()),
            SocketAddr::V6(a) => {
                let (ip, port) = (a.ip(), a.port());
                write!(f, "('{ip}', {port}, {}, {})", a.flowinfo(), a.scope_id())
            }
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        // An io::Error that already carries one of ours is unwrapped, not nested.
        match err.downcast::<Error>() {
            Ok(ours) => ours,
            Err(err) => Error::Io(Arc::new(err)),
        }
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

    fn attempt(addr: &str, error: io::Error) -> ConnectAttempt {
        let addr = addr.parse().unwrap();
        ConnectAttempt {
            addr,
            error: Arc::new(error),
        }
    }

    #[test]
    fn connect_messages_follow_asyncio_rules() {
        let refused = || io::Error::from_raw_os_error(111);
        let one = Error::Connect {
            attempts: Arc::new([attempt("127.0.0.1:1", refused())]),
        };
        assert!(
            one.to_string()
                .starts_with("Connect call failed ('127.0.0.1', 1): ")
        );
        assert_eq!(one.io_kind(), io::ErrorKind::ConnectionRefused);

        let same = [
            attempt("127.0.0.1:1", refused()),
            attempt("127.0.0.1:1", refused()),
        ];
        let same = Error::Connect {
            attempts: Arc::new(same),
        };
        assert_eq!(same.to_string(), one.to_string());

        let bind = io::Error::new(io::ErrorKind::AddrNotAvailable, "error while binding");
        let two = [attempt("[::1]:1", refused()), attempt("127.0.0.1:1", bind)];
        let two = Error::Connect {
            attempts: Arc::new(two),
        };
        let text = two.to_string();
        assert!(text.starts_with("Multiple exceptions: Connect call failed ('::1', 1, 0, 0): "));
        assert!(text.ends_with(", error while binding"), "{text}");
        assert_eq!(two.io_kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn timed_out_message_and_kind() {
        let e = Error::TimedOut {
            operation: "connect",
            after: Duration::from_secs(2),
        };
        assert_eq!(e.to_string(), "connect timed out after 2s");
        assert_eq!(e.io_kind(), io::ErrorKind::TimedOut);
        assert!(format!("{e:?}").starts_with("TimedOut"));
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
