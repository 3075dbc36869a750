//! `Server::shutdown(deadline)`: graceful, then forced.

use std::time::Duration;

use super::Server;

/// How a [`Server::shutdown`] ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Connections that ended on their own before the deadline.
    pub graceful: usize,
    /// Connections aborted at the deadline.
    pub aborted: usize,
}

impl Server {
    /// Stops accepting, lets handlers finish, and aborts what is left after `deadline`.
    ///
    /// Beyond asyncio. The server closes (its [`shutdown_signal`] fires, so handlers that
    /// watch it can wind down), then waits up to `deadline` for every connection to end;
    /// the rest are aborted. Returns how many ended gracefully and how many were aborted.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the server is closed before the first await; dropping the future
    /// only skips the abort at the deadline.
    ///
    /// [`shutdown_signal`]: crate::ServerOptions::shutdown_signal
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let before = self.active_connections();
        self.close();
        let graceful_end = tokio::time::timeout(deadline, self.wait_closed()).await;
        if graceful_end.is_ok() {
            return ShutdownReport {
                graceful: before,
                aborted: 0,
            };
        }
        let left = self.core.connections();
        let aborted = left.len();
        for inner in left {
            inner.abort();
        }
        self.wait_closed().await;
        ShutdownReport {
            graceful: before.saturating_sub(aborted),
            aborted,
        }
    }
}
