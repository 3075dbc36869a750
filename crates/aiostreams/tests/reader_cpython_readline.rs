//! CPython `test_streams.py` reader cases, part 2: `readline()` and `at_eof()` (inventory
//! A17-A25).
//!
//! Where asyncio raises `ValueError` for an over-long line, `readline` returns
//! [`Error::LimitOverrun`] after the same buffer clean-up. "Via cb" feeds (a callback that
//! runs before the read's first step) are plain feeds before the read starts.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

use aiostreams::{Error, StreamReader};

use crate::support::bounded_test;
use crate::support::{assert_overrun, error_type};
use crate::support::{fed_reader, fed_reader_with_limit};

/// The inventory's `DATA`.
const DATA: &[u8] = b"line1\nline2\nline3\n";

/// Polls `fut` once and returns its output; panics if it would have to wait.
async fn without_waiting<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the read waited for data"),
    }
}

// asyncio's `ValueError()` given to `set_exception`.
error_type!(ValueError, "ValueError");

#[bounded_test]
async fn test_readline() {
    let mut reader = fed_reader(&[b"chunk1 "]);
    let feeder = reader.feeder();
    // One callback feeds three chunks once the readline waits.
    tokio::spawn(async move {
        for chunk in [&b"chunk2 "[..], b"chunk3 ", b"\n chunk4"] {
            feeder.feed_data(chunk).unwrap();
        }
    });
    assert_eq!(reader.readline().await.unwrap(), "chunk1 chunk2 chunk3 \n");
    assert_eq!(reader.buffer(), b" chunk4");
}

#[bounded_test]
async fn test_readline_limit_with_existing_data() {
    let mut reader = fed_reader_with_limit(3, &[b"li", b"ne1\nline2\n"]);
    assert_overrun(&reader.readline().await.unwrap_err(), 5, true);
    // The over-long line is dropped through its newline; the next one stays.
    assert_eq!(reader.buffer(), b"line2\n");

    let mut reader = StreamReader::with_limit(3).unwrap();
    for chunk in [&b"li"[..], b"ne1", b"li"] {
        reader.feed_data(chunk).unwrap();
    }
    let err = without_waiting(reader.readline()).await.unwrap_err();
    assert_overrun(&err, 7, false);
    assert_eq!(reader.buffer(), b"");
}

#[bounded_test]
async fn test_at_eof() {
    let mut reader = StreamReader::new();
    assert!(!reader.at_eof());
    reader.feed_data(b"some data\n").unwrap();
    assert!(!reader.at_eof());
    reader.readline().await.unwrap();
    // Empty buffer but no EOF yet.
    assert!(!reader.at_eof());
    reader.feed_data(b"some data\n").unwrap();
    reader.feed_eof();
    reader.readline().await.unwrap();
    assert!(reader.at_eof());
}

#[bounded_test]
async fn test_readline_limit() {
    // Fed through a feeder, then EOF: the over-long line goes through its newline.
    for (chunks, consumed, rest) in [
        (["chunk1", "chunk2", "chunk3\n"], 18, ""),
        (["chunk1", "chunk2\n", "chunk3\n"], 12, "chunk3\n"),
    ] {
        let mut reader = StreamReader::with_limit(7).unwrap();
        let feeder = reader.feeder();
        for chunk in chunks {
            feeder.feed_data(chunk.as_bytes()).unwrap();
        }
        feeder.feed_eof();
        assert_overrun(&reader.readline().await.unwrap_err(), consumed, true);
        assert_eq!(reader.buffer(), rest.as_bytes());
    }

    // The limit counts the line without its newline.
    let mut reader = fed_reader_with_limit(7, &[b"1234567\n"]);
    assert_eq!(reader.readline().await.unwrap(), "1234567\n");
    assert_eq!(reader.buffer(), b"");
    reader.feed_data(b"12345678\n").unwrap();
    assert_overrun(&reader.readline().await.unwrap_err(), 8, true);
    assert_eq!(reader.buffer(), b"");
    reader.feed_data(b"12345678").unwrap();
    assert_overrun(&reader.readline().await.unwrap_err(), 8, false);
    assert_eq!(reader.buffer(), b"");
}

#[bounded_test]
async fn test_readline_nolimit_nowait() {
    let mut reader = fed_reader(&[&DATA[..6], &DATA[6..]]);
    assert_eq!(without_waiting(reader.readline()).await.unwrap(), "line1\n");
    assert_eq!(reader.buffer(), b"line2\nline3\n");
}

#[bounded_test]
async fn test_readline_eof() {
    let mut reader = fed_reader(&[b"some data"]);
    reader.feed_eof();
    assert_eq!(reader.readline().await.unwrap(), "some data");
    assert!(reader.at_eof());
}

#[bounded_test]
async fn test_readline_empty_eof() {
    let mut reader = StreamReader::new();
    reader.feed_eof();
    assert_eq!(reader.readline().await.unwrap(), "");
    assert_eq!(reader.readline().await.unwrap(), "");
}

#[bounded_test]
async fn test_readline_read_byte_count() {
    let mut reader = fed_reader(&[DATA]);
    assert_eq!(reader.readline().await.unwrap(), "line1\n");
    assert_eq!(reader.read(7).await.unwrap(), "line2\nl");
    assert_eq!(reader.buffer(), b"ine3\n");
}

#[bounded_test]
async fn test_readline_exception() {
    let mut reader = fed_reader(&[b"line\n"]);
    assert_eq!(reader.readline().await.unwrap(), "line\n");
    reader.set_exception(Error::custom(ValueError));
    let err = reader.readline().await.unwrap_err();
    assert!(matches!(&err, Error::Custom(e) if e.is::<ValueError>()));
    assert_eq!(reader.buffer(), b"");
    // The stored exception also wins over a buffered line, which stays buffered.
    reader.feed_data(b"next\n").unwrap();
    assert!(matches!(reader.readline().await, Err(Error::Custom(_))));
    assert_eq!(reader.buffer(), b"next\n");
}

// Spec 3.8 and 3.10 cases beyond the CPython file.

#[bounded_test]
async fn readline_overlong_tail_at_eof_is_a_limit_error() {
    let mut reader = fed_reader_with_limit(3, &[b"abcdef"]);
    reader.feed_eof();
    assert_overrun(&reader.readline().await.unwrap_err(), 6, false);
    assert_eq!(reader.buffer(), b"");
    assert_eq!(reader.readline().await.unwrap(), "");
    assert!(reader.at_eof());
}

// asyncio returns `gh\n` here (the tail of the same line); we drop it (issue 10, bug 1).
#[bounded_test]
async fn readline_drops_the_rest_of_an_overlong_line_fed_later() {
    let mut reader = fed_reader_with_limit(3, &[b"abcdef"]);
    assert_overrun(&reader.readline().await.unwrap_err(), 6, false);
    reader.feed_data(b"gh\n").unwrap();
    assert_eq!(reader.buffer(), b"");
    reader.feed_data(b"ok\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "ok\n");
}

#[bounded_test]
async fn at_eof_ignores_the_stored_exception() {
    let mut reader = StreamReader::new();
    reader.feed_eof();
    reader.set_exception(Error::custom(ValueError));
    assert!(reader.at_eof());
    assert!(reader.readline().await.is_err());
}

#[bounded_test]
async fn async_iteration() {
    use tokio_stream::StreamExt;
    let mut reader = fed_reader(&[b"a\nb\nc"]);
    reader.feed_eof();
    let lines: Vec<_> = reader.lines().map(Result::unwrap).collect().await;
    assert_eq!(lines, ["a\n", "b\n", "c"]);

    // An over-long line is an item of its own; iteration goes on after it.
    let mut reader = fed_reader_with_limit(3, &[b"toolong\nok\n"]);
    reader.feed_eof();
    let items: Vec<_> = reader.lines().collect().await;
    assert_eq!(items.len(), 2);
    assert!(matches!(
        items[0],
        Err(Error::LimitOverrun {
            consumed: 7,
            separator_found: true
        })
    ));
    assert_eq!(*items[1].as_ref().unwrap(), "ok\n");
}
