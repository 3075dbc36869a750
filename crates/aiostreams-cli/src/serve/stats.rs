//! What `serve` counts while it runs, for the summary it logs at shutdown.

use std::sync::atomic::{AtomicU64, Ordering};

use aiostreams::ShutdownReport;

/// Per-connection outcomes, counted once per connection (never per request).
#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Connections whose handler ran.
    served: AtomicU64,
    /// Connections answered and closed because a line or request head was over the limit.
    closed_by_limit: AtomicU64,
    /// Over-long lines answered and skipped (`--on-overlong skip`), the connection kept.
    skipped_lines: AtomicU64,
    /// Connections whose handler ended with an error (the library logs each one).
    closed_by_error: AtomicU64,
    /// Connections closed by `--read-timeout`, `--write-timeout` or `--idle-timeout`.
    closed_by_timeout: AtomicU64,
}

/// Which counter an event bumps.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    Served,
    ClosedByLimit,
    SkippedLine,
    ClosedByError,
    ClosedByTimeout,
}

impl Stats {
    /// Counts one `event`.
    pub(super) fn count(&self, event: Event) {
        let counter = match event {
            Event::Served => &self.served,
            Event::ClosedByLimit => &self.closed_by_limit,
            Event::SkippedLine => &self.skipped_lines,
            Event::ClosedByError => &self.closed_by_error,
            Event::ClosedByTimeout => &self.closed_by_timeout,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Logs the one-line summary at `info`, with how the shutdown ended.
    pub(super) fn log_summary(&self, report: ShutdownReport) {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        tracing::info!(
            "shutdown: {} connections served, {} closed by the line limit ({} over-long lines skipped), {} closed by an error, {} by a timeout; at shutdown {} ended gracefully, {} aborted, {} cut while lingering",
            get(&self.served),
            get(&self.closed_by_limit),
            get(&self.skipped_lines),
            get(&self.closed_by_error),
            get(&self.closed_by_timeout),
            report.graceful,
            report.aborted,
            report.cut_lingering,
        );
    }
}
