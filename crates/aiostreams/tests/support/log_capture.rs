//! A tiny `tracing` subscriber that records every event, so tests can check what the
//! library logged (asyncio's "handler messages") without a tracing-subscriber dependency.
//!
//! Used as `crate::support::log_capture`.

use std::fmt::{self, Write as _};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::DefaultGuard;
use tracing::{Event, Level, Metadata, Subscriber};

/// The events recorded so far: level and text (`message key=value ...`).
#[derive(Clone, Default)]
pub(crate) struct Logs {
    events: Arc<Mutex<Vec<(Level, String)>>>,
    changed: Arc<Notify>,
}

impl Logs {
    /// Records the events of the current thread (a current-thread runtime runs every
    /// task there) until the guard is dropped.
    pub(crate) fn capture_thread() -> (Logs, DefaultGuard) {
        let logs = Logs::default();
        let guard = tracing::subscriber::set_default(Recorder::new(logs.clone()));
        (logs, guard)
    }

    /// Records the events of every thread, for the rest of the process.
    pub(crate) fn capture_global() -> Logs {
        let logs = Logs::default();
        tracing::subscriber::set_global_default(Recorder::new(logs.clone()))
            .expect("a global subscriber was already set");
        logs
    }

    /// The texts of the events at `level` or more severe.
    pub(crate) fn at_least(&self, level: Level) -> Vec<String> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|(l, _)| *l <= level)
            .map(|(_, text)| text.clone())
            .collect()
    }

    /// How many events contain `needle`.
    pub(crate) fn count(&self, needle: &str) -> usize {
        let events = self.events.lock().unwrap();
        events.iter().filter(|(_, t)| t.contains(needle)).count()
    }

    /// Waits until an event containing `needle` has been recorded.
    pub(crate) async fn wait_for(&self, needle: &str) {
        loop {
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            if self.count(needle) > 0 {
                return;
            }
            changed.await;
        }
    }
}

struct Recorder {
    logs: Logs,
    next_span: AtomicU64,
}

impl Recorder {
    fn new(logs: Logs) -> Self {
        Recorder {
            logs,
            next_span: AtomicU64::new(1),
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = Text::default();
        event.record(&mut text);
        let level = *event.metadata().level();
        self.logs.events.lock().unwrap().push((level, text.0));
        self.logs.changed.notify_waiters();
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// `message key=value ...`
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}
