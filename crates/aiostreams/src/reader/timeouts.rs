//! Time limits on reads: `set_read_timeout`, `set_read_deadline`, `set_idle_timeout` and
//! the per-call `with_timeout`.

use std::time::Duration;

use tokio::time::Instant;

use super::StreamReader;
use super::source::Source;
use super::timer::{ReadTimer, Timed};
use crate::Error;

impl StreamReader {
    /// Limits how long each read may take once it has to wait for bytes; `None` (the
    /// default) removes the limit.
    ///
    /// asyncio: none (`asyncio.timeout()` around each read); Go: `http.Server.ReadTimeout`,
    /// Netty: `ReadTimeoutHandler`, nginx: `client_header_timeout`. Also set for every
    /// connection by [`ServerOptions::read_timeout`](crate::ServerOptions::read_timeout)
    /// and [`ConnectOptions::read_timeout`](crate::ConnectOptions::read_timeout).
    ///
    /// A read's clock starts when it first finds too few bytes and must wait, and runs
    /// until the read completes: bytes arriving meanwhile do not restart it, so a peer
    /// that sends one byte a second cannot keep a `readline()` waiting (slowloris). A read
    /// the buffer answers never starts it. With an [idle timeout](Self::set_idle_timeout)
    /// also set, waiting for the *first* byte of the next record is idle time, not read
    /// time: the read clock then starts at the first wait with part of the record
    /// received (Go's `IdleTimeout` between requests, `ReadTimeout` within one). When the time is up the read fails with
    /// [`Error::TimedOut`] (`operation: "read"`, [`io::ErrorKind::TimedOut`] through
    /// `AsyncRead`) and **consumes nothing**: the bytes that did arrive stay buffered for
    /// the next read, and the connection stays open (the caller decides: read again,
    /// answer, or close). Each `AsyncRead::poll_read` call that waits is a read of its
    /// own. The clocks cost no system call and no allocation per read (see
    /// `docs/DESIGN.md`, "Timeouts").
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] for a reader with no source (one fed with
    /// [`feed_data`](Self::feed_data) or a [`Feeder`](crate::Feeder)): it has no wait to
    /// time; use [`with_timeout`](Self::with_timeout) there.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    /// let (client, server) = tokio::io::duplex(64);
    /// let mut reader = aiostreams::StreamReader::from_io(server);
    /// reader.set_read_timeout(Some(Duration::from_secs(5)))?;
    /// let err = reader.readline().await.unwrap_err();
    /// assert!(matches!(err, aiostreams::Error::TimedOut { operation: "read", .. }));
    /// # drop(client);
    /// # Ok(()) }
    /// ```
    ///
    /// [`io::ErrorKind::TimedOut`]: std::io::ErrorKind::TimedOut
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.configure_timer(|t| t.set_timeout(timeout))
    }

    /// Sets an absolute time after which no read waits; `None` clears it.
    ///
    /// asyncio: `asyncio.timeout_at(when)` around the reads; Go: `conn.SetReadDeadline`.
    ///
    /// Unlike Go's, a deadline bounds *waiting*: a read the buffer (or the socket)
    /// already answers succeeds after the deadline too, and one that would wait fails at
    /// once with [`Error::TimedOut`] (`operation: "read"`), consuming nothing, as with
    /// [`set_read_timeout`](Self::set_read_timeout). The deadline stays until changed;
    /// both limits may be set, and the earlier one applies. Takes effect at the next
    /// wait (a read already waiting sees it when next woken).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] for a reader with no source, as
    /// [`set_read_timeout`](Self::set_read_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use tokio::time::Instant;
    /// let (_client, server) = tokio::io::duplex(64);
    /// let mut reader = aiostreams::StreamReader::from_io(server);
    /// reader.set_read_deadline(Some(Instant::now()))?; // already passed: fail at once
    /// assert!(reader.read(10).await.is_err());
    /// reader.set_read_deadline(None)?;
    /// # Ok(()) }
    /// ```
    pub fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), Error> {
        self.configure_timer(|t| t.set_deadline(deadline))
    }

    /// Closes the connection once no byte has moved in either direction for this long,
    /// whether or not a read is waiting; `None` (the default) removes the limit.
    ///
    /// asyncio: none; Go: `http.Server.IdleTimeout` (and `SetDeadline` renewed on every
    /// byte), Netty: `IdleStateHandler(allIdleTime)` closing the channel, nginx:
    /// `keepalive_timeout`. Usually set for every connection by
    /// [`ServerOptions::idle_timeout`](crate::ServerOptions::idle_timeout) or
    /// [`ConnectOptions::idle_timeout`](crate::ConnectOptions::idle_timeout).
    ///
    /// Activity is a byte the connection reads from the socket (into this reader's
    /// buffer) or one the socket takes from the writer. Bytes the peer sent that nobody
    /// reads are not activity: a handler that does not read (it awaits something else,
    /// or holds the reader) on a connection that sends nothing is idle, and is closed.
    /// The clock starts when the limit is set (for the options: when the connection is
    /// made). The connection is closed no earlier than `timeout` after the last byte
    /// moved and at most `timeout / 16` later (a watchdog task per connection looks at
    /// its byte counters; nothing is added to reads or writes, see `docs/DESIGN.md`,
    /// "Timeouts").
    ///
    /// When the time is up, the connection is closed at once, as by
    /// [`Transport::abort`](crate::Transport::abort): the peer sees EOF after what was
    /// sent (no reset); queued bytes, which made no progress the whole time, are
    /// dropped; a server's connection does not linger (the peer has no request in
    /// flight), so its `max_connections` slot is free at once; TLS sends no
    /// close_notify. The connection is then lost with [`Error::TimedOut`] (`operation:
    /// "idle"`): an error, not EOF, so the handler can tell a timeout from a peer that
    /// finished. A read waiting then fails with it, and so does every later read that
    /// needs more than the buffer holds (asyncio's rule for a reader's stored
    /// exception: it is raised ahead of buffered bytes), and `drain()` and
    /// `wait_closed()`. A reader over an `AsyncRead` ([`from_io`](Self::from_io)) has no
    /// connection to close: a read that has waited this long with no byte arriving
    /// fails with the same error, once.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] for a reader with no source, as
    /// [`set_read_timeout`](Self::set_read_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    /// let (_client, server) = tokio::io::duplex(64);
    /// let mut reader = aiostreams::StreamReader::from_io(server);
    /// reader.set_idle_timeout(Some(Duration::from_secs(60)))?;
    /// let err = reader.readline().await.unwrap_err();
    /// assert!(matches!(err, aiostreams::Error::TimedOut { operation: "idle", .. }));
    /// # Ok(()) }
    /// ```
    pub fn set_idle_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.configure(|source| source.set_idle_timeout(timeout))
    }

    /// Runs one read (or several) with a time limit of its own.
    ///
    /// asyncio: `async with asyncio.timeout(d): await reader.readline()`; Go: a deadline
    /// set for one call. Works on every reader, fed ones included.
    ///
    /// The clock starts at the call (not at the first wait, as the reader's
    /// [`read_timeout`](Self::set_read_timeout) does). When it runs out, `read`'s future
    /// is dropped and the call fails with [`Error::TimedOut`] (`operation: "read"`,
    /// `after: timeout`). Since every read of this reader is cancel safe, the timed-out
    /// read consumed nothing: the stream continues exactly where it was. The timer is
    /// tokio's, inside the returned future (no allocation), registered only if `read`
    /// has to wait.
    ///
    /// # Errors
    ///
    /// What `read` returns, or [`Error::TimedOut`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe when `read` is (every read of `StreamReader` is).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use std::time::Duration;
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"partial")?;
    /// let err = reader
    ///     .with_timeout(Duration::from_secs(1), async |r| r.readline().await)
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(err, aiostreams::Error::TimedOut { operation: "read", .. }));
    /// reader.feed_data(b" line\n")?;
    /// assert_eq!(reader.readline().await?, "partial line\n"); // nothing was lost
    /// # Ok(()) }
    /// ```
    pub async fn with_timeout<T>(
        &mut self,
        timeout: Duration,
        read: impl AsyncFnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(timeout, read(self)).await {
            Ok(result) => result,
            Err(_) => Err(Error::TimedOut {
                operation: "read",
                after: timeout,
            }),
        }
    }

    fn configure_timer(&mut self, f: impl FnOnce(&mut ReadTimer)) -> Result<(), Error> {
        self.configure(|source| {
            if let Some(timer) = source.timer() {
                f(timer);
            }
        })
    }

    fn configure(&mut self, f: impl FnOnce(&mut dyn Source)) -> Result<(), Error> {
        let Some(source) = self.source.as_deref_mut() else {
            return Err(Error::InvalidState(
                "a reader with no source has no wait to time; use with_timeout",
            ));
        };
        f(source);
        let mode = source.timer().map_or(Timed::Off, |t| t.mode());
        // A read whose clock runs keeps asking.
        if !(mode == Timed::MidRecord && self.timed == Timed::Engaged) {
            self.timed = mode;
        }
        Ok(())
    }
}
