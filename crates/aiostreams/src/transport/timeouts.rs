//! A connection's time limits: the options' [`Timeouts`] and the write side's setters.

use std::time::Duration;

use tokio::time::Instant;

use super::Transport;

/// The per-connection limits given to `ServerOptions` / `ConnectOptions`: the reader
/// gets `read` and `idle` (its source's timer), the connection state `write`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) read: Option<Duration>,
    pub(crate) write: Option<Duration>,
    pub(crate) idle: Option<Duration>,
}

impl Transport {
    /// Ends the connection when queued bytes wait too long for the peer; `None` (the
    /// default) removes the limit.
    ///
    /// asyncio: none; Go: `http.Server.WriteTimeout` (a deadline for the write), Netty:
    /// `WriteTimeoutHandler` (a write not done in time), nginx: `send_timeout`. Also set
    /// for every connection by
    /// [`ServerOptions::write_timeout`](crate::ServerOptions::write_timeout) and
    /// [`ConnectOptions::write_timeout`](crate::ConnectOptions::write_timeout).
    ///
    /// Two clocks, either of which ends the connection:
    /// - **no progress**: bytes are queued and the socket takes none for `timeout` (a
    ///   peer that does not read); any byte the kernel takes restarts it;
    /// - **a drain that does not finish**: the queue went above the high-water mark
    ///   (`drain()` waits, the protocol got `pause_writing`) and is not back at the
    ///   low-water mark `timeout` later. A peer that reads a byte now and then ("slow
    ///   read") makes progress but cannot hold a drain forever; a healthy transfer, which
    ///   writes and drains in rounds of the marks' size, gets back under the low mark
    ///   within each round and is never cut. One `write()` much larger than the marks
    ///   must all but leave within `timeout` (Go's rule for a whole write): write large
    ///   bodies in pieces with `drain()` between them, or raise the timeout.
    ///
    /// When one runs out the
    /// connection is lost with [`Error::TimedOut`](crate::Error::TimedOut) (`operation:
    /// "write"`): the queue is dropped, the socket closed with a reset (the peer's
    /// unread bytes are not worth a FIN), waiting and later `drain()` and `wait_closed()`
    /// calls fail with it, and so does the connection's reader's next read. No timer
    /// exists until the queue first waits for the socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// writer.transport().set_write_timeout(Some(std::time::Duration::from_secs(30)));
    /// # Ok(()) }
    /// ```
    pub fn set_write_timeout(&self, timeout: Option<Duration>) {
        self.inner()
            .set_write_limits(|st| st.set_write_timeout(timeout));
    }

    /// Ends the connection if bytes are still queued at `deadline`; `None` clears it.
    ///
    /// asyncio: `asyncio.timeout_at(when)` around `drain()`, which leaves the bytes
    /// queued; Go: `conn.SetWriteDeadline`.
    ///
    /// A deadline bounds *waiting for the peer*: `write()` never blocks and never fails
    /// for it, bytes the kernel takes at once leave after the deadline too, and a
    /// queue that is empty at the deadline is not affected. Queued bytes that still wait
    /// for the socket at (or after) the deadline end the connection as
    /// [`set_write_timeout`](Self::set_write_timeout) does, at once when the deadline
    /// has already passed. With both set, the earlier applies.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use tokio::time::{Duration, Instant};
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// writer.transport().set_write_deadline(Some(deadline));
    /// writer.transport().set_write_deadline(None);
    /// # Ok(()) }
    /// ```
    pub fn set_write_deadline(&self, deadline: Option<Instant>) {
        self.inner()
            .set_write_limits(|st| st.set_write_deadline(deadline));
    }
}
