//! [`ServerStats`]: what a server counts, once per connection.

use std::sync::atomic::{AtomicU64, Ordering};

use super::ConnectionStats;

/// A server's counters ([`Server::stats`](crate::Server::stats)).
///
/// asyncio: none; Go: none in `net/http` (`ConnState` hooks to count). Every counter
/// changes once per connection, never per request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connections accepted from the kernel (those refused at once by
    /// `max_connections_per_ip` included).
    pub accepted: u64,
    /// Connections open now ([`Server::active_connections`](crate::Server::active_connections)).
    pub active: u64,
    /// Connections closed by a timeout: the TLS handshake's or the PROXY header's, or a
    /// callback that returned [`Error::TimedOut`](crate::Error::TimedOut).
    pub closed_by_timeout: u64,
    /// Connections closed by a limit: refused by `max_connections_per_ip`, or a callback
    /// that returned [`Error::LimitOverrun`](crate::Error::LimitOverrun) or
    /// [`Error::FrameTooLarge`](crate::Error::FrameTooLarge).
    pub closed_by_limit: u64,
    /// Connections closed by another error: a failed TLS handshake or PROXY header, a
    /// callback's error or panic.
    pub closed_by_error: u64,
    /// Bytes received on the server's connections, open and closed.
    pub bytes_in: u64,
    /// Bytes sent on the server's connections, open and closed.
    pub bytes_out: u64,
}

/// Why a connection was closed, for the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    Timeout,
    Limit,
    Error,
}

impl Closed {
    /// The category of an error that ended a connection.
    pub(crate) fn of(err: &(dyn std::error::Error + 'static)) -> Closed {
        match err.downcast_ref::<crate::Error>() {
            Some(crate::Error::TimedOut { .. }) => Closed::Timeout,
            #[cfg(feature = "tls")]
            Some(crate::Error::Tls(crate::tls::TlsError::HandshakeTimeout(_))) => Closed::Timeout,
            Some(crate::Error::LimitOverrun { .. } | crate::Error::FrameTooLarge { .. }) => {
                Closed::Limit
            }
            _ => Closed::Error,
        }
    }
}

/// The server-wide counters (in the server's shared state).
#[derive(Debug, Default)]
pub(crate) struct ServerCounters {
    accepted: AtomicU64,
    timeout: AtomicU64,
    limit: AtomicU64,
    error: AtomicU64,
    /// Bytes of the connections already closed (open ones are summed when asked).
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl ServerCounters {
    pub(crate) fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn closed(&self, why: Closed) {
        let counter = match why {
            Closed::Timeout => &self.timeout,
            Closed::Limit => &self.limit,
            Closed::Error => &self.error,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection ended: its bytes join the closed total.
    pub(crate) fn retire(&self, conn: ConnectionStats) {
        self.bytes_in.fetch_add(conn.bytes_in, Ordering::Relaxed);
        self.bytes_out.fetch_add(conn.bytes_out, Ordering::Relaxed);
    }

    /// The counters, with the open connections' bytes added.
    pub(crate) fn snapshot(&self, open: impl Iterator<Item = ConnectionStats>) -> ServerStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut stats = ServerStats {
            accepted: get(&self.accepted),
            active: 0,
            closed_by_timeout: get(&self.timeout),
            closed_by_limit: get(&self.limit),
            closed_by_error: get(&self.error),
            bytes_in: get(&self.bytes_in),
            bytes_out: get(&self.bytes_out),
        };
        for conn in open {
            stats.bytes_in += conn.bytes_in;
            stats.bytes_out += conn.bytes_out;
        }
        stats
    }
}
