//! What the integration tests share, used as `crate::support::...` from every test module
//! of the `all` binary (`tests/all.rs`). One copy of each helper: a test file that needs
//! something another file has should move it here rather than copy it.
//!
//! - [`bounded`], [`bounded_for`]: every async test body runs under a timeout;
//!   [`bounded_test`] (`#[bounded_test]` instead of `#[tokio::test]`) wraps a test's body.
//! - [`certs`]: the one certificate generator (a private CA and server certificates).
//! - [`echo`]: echo server callbacks (by lines, by chunks).
//! - [`examples`]: our examples built and found as programs.
//! - [`layout`]: the check that every test file is a module of `tests/all.rs`.
//! - [`log_capture`]: a `tracing` subscriber that records what the library logged.
//! - [`net`]: loopback listeners, an echo server, connection pairs (TCP, Unix).
//! - [`parity`]: the CPython oracle process and wire format of the differential tests.
//! - [`payload`]: regenerable payloads, sent and checked over streams.
//! - [`process`]: child processes, run or kept running and read line by line.
//! - [`source`]: a read source made of a closure ([`source::ReadFn`]).
//! - [`temp`]: temporary directories and socket paths (`tempfile`), removed on drop.
//! - [`tls_interop_support`]: certificates and scripts for TLS against CPython and openssl.
//!
//! The Python helper scripts of this directory are run by path from the tests.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[cfg(feature = "tls")]
pub(crate) mod certs;
pub(crate) mod echo;
pub(crate) mod examples;
pub(crate) mod layout;
pub(crate) mod log_capture;
pub(crate) mod net;
pub(crate) mod parity;
pub(crate) mod payload;
pub(crate) mod process;
pub(crate) mod source;
pub(crate) mod temp;
#[cfg(feature = "tls")]
pub(crate) mod tls_interop_support;

/// `#[tokio::test]` with the body under [`bounded`] (`#[bounded_test(limit = L, ..)]`:
/// [`bounded_for`]`(L, ..)`); tokio::test's own arguments pass through.
pub(crate) use aiostreams_test_macros::bounded_test;

/// How long a test body may take unless it says otherwise ([`bounded_for`]).
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a test body under [`TEST_TIMEOUT`]: a hang fails the test instead of the run.
pub(crate) async fn bounded<F: Future>(body: F) -> F::Output {
    bounded_for(TEST_TIMEOUT, body).await
}

/// Runs a test body under `limit` of wall-clock time (for bodies that start processes or
/// many connections).
///
/// The bound is kept by a thread, not by a tokio timer: under tokio's paused clock a
/// timer would be the next deadline the runtime jumps to whenever it finds nothing ready,
/// so a FIN or a byte still in the kernel's loopback path (softirq deferred on a loaded
/// machine) let the clock leap to the bound and failed a correct test. With no timer of
/// its own the bound never moves the paused clock.
pub(crate) async fn bounded_for<F: Future>(limit: Duration, body: F) -> F::Output {
    let (expired_tx, expired) = tokio::sync::oneshot::channel::<()>();
    let (finished, finished_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if finished_rx.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            let _ = expired_tx.send(());
        }
    });
    let out = tokio::select! {
        biased;
        out = body => out,
        _ = expired => panic!("test timed out after {limit:?} of wall-clock time"),
    };
    drop(finished);
    out
}

/// A reader (asyncio's default limit) fed `chunks` one `feed_data` each, as the CPython
/// tests set one up.
pub(crate) fn fed_reader(chunks: &[&[u8]]) -> aiostreams::StreamReader {
    fed_reader_with_limit(aiostreams::DEFAULT_LIMIT, chunks)
}

/// [`fed_reader`] with `limit`.
pub(crate) fn fed_reader_with_limit(limit: usize, chunks: &[&[u8]]) -> aiostreams::StreamReader {
    let mut reader = aiostreams::StreamReader::with_limit(limit).expect("a non-zero limit");
    for chunk in chunks {
        reader.feed_data(chunk).expect("feed_data before feed_eof");
    }
    reader
}

/// Polls `fut` once with a waker that does nothing: "is it ready right now?".
pub(crate) fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `fut` up to `turns` times, yielding to the runtime after each poll that waits:
/// its output, or `None` if it still waits (it is then dropped unfinished).
pub(crate) async fn within_turns<F: Future>(fut: F, turns: u32) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..turns {
        let step = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
        if let Poll::Ready(out) = step {
            return Some(out);
        }
        tokio::task::yield_now().await;
    }
    None
}

/// Runs `read` with `chunks` fed through `feeder` one by one while it waits (it must be
/// waiting before each one), and returns its output once the last one is in.
pub(crate) async fn fed_while_waiting<F: Future>(
    read: F,
    feeder: &aiostreams::Feeder,
    chunks: &[&[u8]],
) -> F::Output {
    let mut read = std::pin::pin!(read);
    for chunk in chunks {
        assert!(
            poll_once(read.as_mut()).is_pending(),
            "the read did not wait"
        );
        feeder.feed_data(chunk).expect("feed_data before feed_eof");
    }
    read.await
}

/// `err` is [`aiostreams::Error::TimedOut`] for `operation` (`"read"`, `"write"`,
/// `"idle"`...).
pub(crate) fn assert_timed_out(err: &aiostreams::Error, operation: &str) {
    assert!(
        matches!(err, aiostreams::Error::TimedOut { operation: op, .. } if *op == operation),
        "expected TimedOut {{ operation: {operation:?} }}, got {err:?}"
    );
}

/// `len` bytes of a pattern that starts at stream offset `at`, so order is checkable.
pub(crate) fn pattern(at: usize, len: usize) -> Vec<u8> {
    (at..at + len).map(|i| (i % 251) as u8).collect()
}

/// Whether this machine has an IPv6 loopback (`[::1]:0` binds). When it has not, prints
/// that `what` is skipped and why: a run without IPv6 says so instead of passing silently.
pub(crate) fn ipv6_or_skip(what: &str) -> bool {
    match std::net::TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIPPED {what}: no IPv6 loopback on this machine (bind [::1]:0: {e})");
            false
        }
    }
}

/// Runs the async fn `$name` (no arguments) as two tests, `$name::current_thread` and
/// `$name::multi_thread` (two workers), each under [`bounded`] or the given limit: one
/// body instead of a hand-written pair per runtime flavour. `cargo test NAME::` runs both.
///
/// ```ignore
/// async fn awaited_drain_wakes() { /* the test body */ }
/// both_runtimes!(awaited_drain_wakes);
/// both_runtimes!(many_connections, Duration::from_secs(30));
/// ```
macro_rules! both_runtimes {
    ($name:ident) => {
        $crate::support::both_runtimes!($name, $crate::support::TEST_TIMEOUT);
    };
    ($name:ident, $limit:expr) => {
        mod $name {
            // The body and the limit are written in the parent module.
            use super::*;

            #[tokio::test]
            async fn current_thread() {
                $crate::support::bounded_for($limit, $name()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn multi_thread() {
                $crate::support::bounded_for($limit, $name()).await;
            }
        }
    };
}
pub(crate) use both_runtimes;

/// Defines the unit error type `$name` whose message is `$text`: what tests inject with
/// `set_exception` or return from handlers, as Python tests raise `ValueError()`.
macro_rules! error_type {
    ($name:ident, $text:expr) => {
        #[derive(Debug)]
        struct $name;

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($text)
            }
        }

        impl std::error::Error for $name {}
    };
}
pub(crate) use error_type;

/// The name the test harness gives test `name` of the module `module` (pass
/// `module_path!()`): the path without the crate, as `--exact` wants it when a test
/// re-runs one test of this binary in a child process.
pub(crate) fn test_name(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{name}"),
        None => name.to_owned(),
    }
}

/// Asserts `err` is the reader's limit error (asyncio's `LimitOverrunError`, or the
/// `ValueError` readline raises) with this `consumed` and `separator_found`, and asyncio's
/// message for it.
pub(crate) fn assert_overrun(err: &aiostreams::Error, consumed: usize, separator_found: bool) {
    let message = if separator_found {
        "Separator is found, but chunk is longer than limit"
    } else {
        "Separator is not found, and chunk exceed the limit"
    };
    assert_eq!(err.to_string(), message);
    match err {
        aiostreams::Error::LimitOverrun {
            consumed: c,
            separator_found: f,
        } => assert_eq!((*c, *f), (consumed, separator_found)),
        other => panic!("expected LimitOverrun, got {other:?}"),
    }
}
