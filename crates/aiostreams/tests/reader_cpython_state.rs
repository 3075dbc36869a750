//! CPython `test_streams.py` reader cases, part 4: the stored exception, constructors,
//! `repr`, exception pickling (inventory A40-A42, A47-A52, A55-A63), and `feed_data`
//! after `feed_eof` (spec 3.3; an assertion in asyncio, [`Error::FeedAfterEof`] here).

#![allow(
    non_snake_case,
    reason = "test names keep CPython's, e.g. test___repr__eof"
)]

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use aiostreams::{Error, StreamReader};
use bytes::Bytes;

use crate::support::assert_overrun;
use crate::support::bounded_test;
use crate::support::{fed_reader, fed_reader_with_limit};

/// A Python-like exception type: `Name()` or `Name('message')`.
#[derive(Debug)]
struct RuntimeError(&'static str);

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RuntimeError {}

fn is_runtime_error(err: &Error, message: &str) -> bool {
    matches!(err, Error::Custom(e) if e.downcast_ref::<RuntimeError>().is_some_and(|e| e.0 == message))
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn test_exception() {
    let reader = StreamReader::new();
    assert!(reader.exception().is_none());
    let exc: Arc<dyn std::error::Error + Send + Sync> = Arc::new(RuntimeError("boom"));
    reader.set_exception(Error::Custom(exc.clone()));
    // "The same object": the stored error shares the caller's allocation.
    let Some(Error::Custom(stored)) = reader.exception() else {
        panic!("no stored exception");
    };
    assert!(Arc::ptr_eq(&stored, &exc));
    let Some(Error::Custom(seen)) = reader.feeder().exception() else {
        panic!("the feeder does not see the stored exception");
    };
    assert!(Arc::ptr_eq(&seen, &exc));
    // asyncio's set_exception(None) with no waiter.
    reader.clear_exception();
    assert!(reader.exception().is_none());
}

#[bounded_test]
async fn test_exception_waiter() {
    // asyncio runs two tasks; a second task *reading* at the same time would get
    // "readuntil() called while another coroutine is already waiting for incoming
    // data". Reads take `&mut self`, so that is a compile-time error here, and only
    // the exception can come from another task, through a `Feeder`.
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    let setter = tokio::spawn(async move {
        feeder.set_exception(Error::custom(RuntimeError("from t2")));
    });
    let err = reader.readline().await.unwrap_err();
    assert!(is_runtime_error(&err, "from t2"));
    setter.await.unwrap();
}

#[bounded_test]
async fn test_exception_cancel() {
    let mut reader = fed_reader(&[b"partial"]);
    {
        let mut read = pin!(reader.readline());
        let first = poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "the readline should be waiting");
    } // Cancelled: the future is dropped while it waits.
    reader.set_exception(Error::custom(RuntimeError("message")));
    // No waiter is left behind (asyncio: `_waiter is None`), nor a lost byte.
    assert_eq!(
        format!("{reader:?}"),
        format!(
            "<StreamReader 7 bytes exception={:?}>",
            reader.exception().unwrap()
        )
    );
    assert_eq!(reader.buffer(), b"partial");
    assert!(is_runtime_error(
        &reader.readline().await.unwrap_err(),
        "message"
    ));

    // The same with the read in its own task, aborted while it waits.
    let reader = StreamReader::new();
    let feeder = reader.feeder();
    let task = tokio::spawn(async move {
        let mut reader = reader;
        reader.readline().await
    });
    tokio::task::yield_now().await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    feeder.set_exception(Error::custom(RuntimeError("message")));
    assert!(feeder.exception().is_some());
}

// A47-A52: an asyncio reader binds to an event loop at construction. A StreamReader binds
// to no runtime: it can be made anywhere and read on whatever runtime polls it.

#[test]
fn test_streamreader_constructor_without_loop() {
    let mut reader = fed_reader(&[b"abc"]);
    assert_eq!(current_thread().block_on(reader.read(10)).unwrap(), "abc");
}

#[bounded_test]
async fn test_streamreader_constructor_use_running_loop() {
    let mut reader = StreamReader::default();
    assert_eq!(reader.limit(), aiostreams::DEFAULT_LIMIT);
    reader.feed_data(b"abc").unwrap();
    assert_eq!(reader.read(10).await.unwrap(), "abc");
}

#[test]
fn test_streamreader_constructor_use_global_loop() {
    // Made outside any runtime, then used on two different runtimes in turn.
    let mut reader = fed_reader(&[b"line1\nline2\n"]);
    assert_eq!(
        current_thread().block_on(reader.readline()).unwrap(),
        "line1\n"
    );
    assert_eq!(
        current_thread().block_on(reader.readline()).unwrap(),
        "line2\n"
    );
}

#[test]
fn test_streamreaderprotocol_constructor_without_loop() {
    // The protocol's role (attaching a byte source) is `from_io`; it needs no runtime.
    let mut reader = StreamReader::from_io(&b"abc"[..]);
    assert_eq!(
        current_thread().block_on(reader.read_to_eof()).unwrap(),
        "abc"
    );
}

#[bounded_test]
async fn test_streamreaderprotocol_constructor_use_running_loop() {
    let (mut tx, rx) = tokio::io::duplex(16);
    let mut reader = StreamReader::from_io(rx);
    tokio::io::AsyncWriteExt::write_all(&mut tx, b"abc\n")
        .await
        .unwrap();
    assert_eq!(reader.readline().await.unwrap(), "abc\n");
}

#[test]
fn test_streamreaderprotocol_constructor_use_global_loop() {
    let (tx, rx) = tokio::io::duplex(16);
    let mut reader = StreamReader::from_io_with_limit(rx, 10).unwrap();
    drop(tx);
    assert_eq!(current_thread().block_on(reader.read_to_eof()).unwrap(), "");
    assert!(reader.at_eof());
}

#[test]
fn test___repr__() {
    assert_eq!(format!("{:?}", StreamReader::new()), "<StreamReader>");
}

#[test]
fn test___repr__nondefault_limit() {
    let reader = StreamReader::with_limit(123).unwrap();
    assert_eq!(format!("{reader:?}"), "<StreamReader limit=123>");
}

#[test]
fn test___repr__eof() {
    let mut reader = StreamReader::new();
    reader.feed_eof();
    assert_eq!(format!("{reader:?}"), "<StreamReader eof>");
}

#[test]
fn test___repr__data() {
    let reader = fed_reader(&[b"data"]);
    assert_eq!(format!("{reader:?}"), "<StreamReader 4 bytes>");
    // Bytes and EOF fed through a feeder count before the reader has taken them.
    let reader = StreamReader::new();
    let feeder = reader.feeder();
    feeder.feed_data(b"data").unwrap();
    feeder.feed_eof();
    assert_eq!(format!("{reader:?}"), "<StreamReader 4 bytes eof>");
}

// Issue 10, bug 4: `buffer()` missed bytes fed through a feeder until the next read or feed.
#[test]
fn buffer_shows_bytes_fed_through_a_feeder() {
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    feeder.feed_data(b"abc").unwrap();
    assert_eq!(reader.buffer(), b"abc");
    reader.feed_data(b"d").unwrap();
    feeder.feed_data(b"e").unwrap();
    assert_eq!(reader.buffer(), b"abcde");
    assert!(!reader.at_eof());
}

#[test]
fn test___repr__exception() {
    let reader = StreamReader::new();
    reader.set_exception(Error::custom(RuntimeError("")));
    assert_eq!(
        format!("{reader:?}"),
        r#"<StreamReader exception=Custom(RuntimeError(""))>"#
    );
    // Every part, in asyncio's order.
    let mut reader = fed_reader_with_limit(10, &[b"data"]);
    reader.feed_eof();
    reader.set_exception(Error::FeedAfterEof);
    assert_eq!(
        format!("{reader:?}"),
        "<StreamReader 4 bytes eof limit=10 exception=FeedAfterEof>"
    );
}

#[bounded_test]
async fn test___repr__waiter() {
    // A waiting read holds `&mut reader`, so the reader cannot be formatted while it
    // waits; what is observable is that a dropped wait leaves nothing in the repr.
    let mut reader = StreamReader::new();
    {
        let mut read = pin!(reader.read(1));
        let first = poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
        assert!(first.is_pending());
    }
    assert_eq!(format!("{reader:?}"), "<StreamReader>");
}

#[test]
fn test___repr__transport() {
    // asyncio's `transport=<Transport>` is the attached byte source here.
    let reader = StreamReader::from_io(tokio::io::empty());
    assert_eq!(format!("{reader:?}"), "<StreamReader source>");
}

/// Checks what pickling checks in asyncio: the error survives a round trip with the same
/// text and fields. Rust's round trip is `Clone` and the `io::Error` boundary.
fn round_trip(err: Error) -> (Error, Error) {
    let text = err.to_string();
    let cloned = err.clone();
    assert_eq!(cloned.to_string(), text);
    let io: io::Error = err.into();
    assert_eq!(io.to_string(), text);
    let inner = io
        .get_ref()
        .and_then(|e| e.downcast_ref::<Error>())
        .cloned();
    let back = Error::from(io);
    assert_eq!(back.to_string(), text);
    (inner.expect("io::Error wraps the original"), back)
}

/// `err`'s message, and the kind of the `io::Error` it becomes.
fn assert_text_and_io_kind(err: &Error, text: &str, kind: io::ErrorKind) {
    assert_eq!(err.to_string(), text);
    assert_eq!(io::Error::from(err.clone()).kind(), kind);
}

#[test]
fn test_IncompleteReadError_pickleable() {
    fn check(err: &Error) {
        let Error::IncompleteRead { partial, expected } = err else {
            panic!("expected IncompleteRead, got {err:?}");
        };
        assert_eq!((&partial[..], *expected), (&b"abc"[..], Some(10)));
    }
    let err = Error::IncompleteRead {
        partial: Bytes::from_static(b"abc"),
        expected: Some(10),
    };
    let text = "3 bytes read on a total of 10 expected bytes";
    assert_text_and_io_kind(&err, text, io::ErrorKind::UnexpectedEof);
    let (inner, back) = round_trip(err);
    check(&inner);
    check(&back);
}

#[test]
fn test_LimitOverrunError_pickleable() {
    // asyncio's message is free text; ours is one of the reader's two messages.
    let err = Error::LimitOverrun {
        consumed: 10,
        separator_found: true,
    };
    let text = "Separator is found, but chunk is longer than limit";
    assert_text_and_io_kind(&err, text, io::ErrorKind::InvalidData);
    let (inner, back) = round_trip(err);
    assert_overrun(&inner, 10, true);
    assert_overrun(&back, 10, true);
}

#[test]
fn test_errors_are_send_sync_static() {
    fn assert_bounds<T: Send + Sync + 'static>() {}
    assert_bounds::<Error>();
    assert_bounds::<aiostreams::Feeder>();
}

#[bounded_test]
async fn test_feed_data_after_feed_eof() {
    let mut reader = fed_reader(&[b"abc"]);
    reader.feed_eof();
    assert!(matches!(reader.feed_data(b"x"), Err(Error::FeedAfterEof)));
    // Refused even for empty data, as asyncio's assertion comes first.
    assert!(matches!(reader.feed_data(b""), Err(Error::FeedAfterEof)));
    assert_eq!(reader.buffer(), b"abc");
    assert_eq!(format!("{reader:?}"), "<StreamReader 3 bytes eof>");
    // feed_eof stays idempotent.
    reader.feed_eof();
    assert_eq!(reader.read_to_eof().await.unwrap(), "abc");
    assert!(matches!(reader.feed_data(b"x"), Err(Error::FeedAfterEof)));
}

#[bounded_test]
async fn test_feed_data_after_feed_eof_through_feeder() {
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    feeder.feed_data(b"abc").unwrap();
    feeder.feed_eof();
    assert!(!reader.at_eof());
    assert!(matches!(feeder.feed_data(b"x"), Err(Error::FeedAfterEof)));
    assert!(matches!(feeder.feed_data(b""), Err(Error::FeedAfterEof)));
    // EOF given to the feeder binds the reader too, and the other way round.
    assert!(matches!(reader.feed_data(b""), Err(Error::FeedAfterEof)));
    assert_eq!(reader.read_to_eof().await.unwrap(), "abc");
    assert!(reader.at_eof());

    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    reader.feed_data(b"abc").unwrap();
    reader.feed_eof();
    assert!(matches!(feeder.feed_data(b"x"), Err(Error::FeedAfterEof)));
    assert!(matches!(feeder.feed_data(b""), Err(Error::FeedAfterEof)));
    assert_eq!(reader.buffer(), b"abc");
    assert_eq!(reader.read_to_eof().await.unwrap(), "abc");
}

#[bounded_test]
async fn test_feed_data_after_source_eof() {
    // EOF seen from the byte source also ends feeding.
    let mut reader = StreamReader::from_io(&b"abc"[..]);
    let feeder = reader.feeder();
    assert_eq!(reader.read_to_eof().await.unwrap(), "abc");
    assert!(matches!(reader.feed_data(b"x"), Err(Error::FeedAfterEof)));
    assert!(matches!(feeder.feed_data(b""), Err(Error::FeedAfterEof)));
    assert_eq!(reader.buffer(), b"");
    assert!(reader.at_eof());
}
