//! Counters: per connection ([`ConnectionStats`], from the reader, the writer or the
//! transport) and per server ([`ServerStats`], from [`Server::stats`](crate::Server::stats)).
//!
//! Cost: no atomic read-modify-write on the data path. Each counter has one writer (the
//! reader for bytes in, whoever holds the connection's lock for bytes out and queued
//! writes), so an update is a relaxed load and store (plain moves on x86-64 and ARM64),
//! once per system call, never per byte. Server-wide counts change once per connection.

mod server;

pub use server::ServerStats;
pub(crate) use server::{Closed, ServerCounters};

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One connection's counters, as read by `stats()` on
/// [`StreamReader`](crate::StreamReader::stats), [`StreamWriter`](crate::StreamWriter::stats)
/// or [`Transport`](crate::Transport::stats).
///
/// asyncio: none (`transport.get_write_buffer_size()` is the only number); Go: none in
/// `net.Conn` (wrap it to count). Bytes are application bytes: over TLS, what the reader
/// received after decryption and what the socket took before encryption.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Bytes the reader pulled from the connection.
    pub bytes_in: u64,
    /// Bytes the socket took from the writer (sent, or in the kernel's send buffer).
    pub bytes_out: u64,
    /// `write()`s (and `writelines()`, `write_bytes()`) whose bytes went to the write queue
    /// instead of straight to the socket (answers to pipelined requests, a slow peer).
    pub writes_queued: u64,
    /// How long since the connection was made.
    pub connected_for: Duration,
}

/// The counters a connection keeps (inside its transport).
#[derive(Debug)]
pub(crate) struct Counters {
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    writes_queued: AtomicU64,
    /// Nanoseconds from [`epoch`] to the connection's creation (8 bytes, not an
    /// `Instant`'s 16: memory per idle connection).
    created: u64,
}

/// A process-wide origin for connection times.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `counter += n` for a counter with one writer: no read-modify-write instruction.
#[inline]
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn new() -> Self {
        let since = Instant::now().saturating_duration_since(epoch());
        Counters {
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            writes_queued: AtomicU64::new(0),
            created: u64::try_from(since.as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// The reader pulled `n` bytes (the reader is the only writer).
    #[inline]
    pub(crate) fn received(&self, n: usize) {
        bump(&self.bytes_in, n as u64);
    }

    /// The socket took `n` bytes (called with the connection's lock held).
    #[inline]
    pub(crate) fn sent(&self, n: usize) {
        bump(&self.bytes_out, n as u64);
    }

    /// A write was queued (called with the connection's lock held).
    #[inline]
    pub(crate) fn queued(&self) {
        bump(&self.writes_queued, 1);
    }

    /// Bytes received plus bytes sent: it changes whenever a byte moves (the idle
    /// timeout's watchdog compares it between looks).
    pub(crate) fn activity(&self) -> u64 {
        let bytes_in = self.bytes_in.load(Ordering::Relaxed);
        bytes_in.wrapping_add(self.bytes_out.load(Ordering::Relaxed))
    }

    pub(crate) fn snapshot(&self) -> ConnectionStats {
        let created = epoch() + Duration::from_nanos(self.created);
        ConnectionStats {
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            writes_queued: self.writes_queued.load(Ordering::Relaxed),
            connected_for: Instant::now().saturating_duration_since(created),
        }
    }
}
