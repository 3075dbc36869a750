//! CPython `test_streams.py` reader cases, part 1: feeding, `read()` and `readexactly()`
//! (inventory A7-A16, A35-A39, and the historical B4).
//!
//! asyncio's "task first" cases (the read waits, then a callback feeds) run the read in
//! the test's task and feed from a spawned task through a [`Feeder`]: on the
//! current-thread runtime of `#[tokio::test]` the spawned task only runs once the read
//! is waiting, as in asyncio.

use aiostreams::{Error, Feeder, StreamReader};

use crate::support::bounded_test;
use crate::support::error_type;
use crate::support::{fed_reader, fed_reader_with_limit};

/// The inventory's `DATA`.
const DATA: &[u8] = b"line1\nline2\nline3\n";

// asyncio's `ValueError()` given to `set_exception`.
error_type!(ValueError, "ValueError");

fn is_value_error(err: &Error) -> bool {
    matches!(err, Error::Custom(e) if e.is::<ValueError>())
}

/// Feeds each chunk from a spawned task, yielding in between (one asyncio callback each).
fn feed_later(feeder: Feeder, chunks: &'static [&'static [u8]], eof: bool) {
    tokio::spawn(async move {
        for chunk in chunks {
            feeder.feed_data(chunk).unwrap();
            tokio::task::yield_now().await;
        }
        if eof {
            feeder.feed_eof();
        }
    });
}

#[test]
fn test_feed_empty_data() {
    let mut reader = fed_reader(&[b""]);
    assert_eq!(reader.buffer(), b"");
}

#[test]
fn test_feed_nonempty_data() {
    let mut reader = fed_reader(&[DATA]);
    assert_eq!(reader.buffer(), DATA);
}

#[bounded_test]
async fn test_read_zero() {
    let mut reader = fed_reader(&[DATA]);
    assert_eq!(reader.read(0).await.unwrap(), "");
    assert_eq!(reader.buffer(), DATA);
}

#[bounded_test]
async fn test_read() {
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    tokio::spawn(async move { feeder.feed_data(DATA).unwrap() });
    // Fewer bytes than asked for, returned as soon as they are there.
    assert_eq!(reader.read(30).await.unwrap(), DATA);
    assert_eq!(reader.buffer(), b"");
}

#[bounded_test]
async fn test_read_line_breaks() {
    let mut reader = fed_reader(&[b"line1", b"line2"]);
    assert_eq!(reader.read(5).await.unwrap(), "line1");
    assert_eq!(reader.buffer(), b"line2");
}

#[bounded_test]
async fn test_read_eof() {
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    tokio::spawn(async move { feeder.feed_eof() });
    assert_eq!(reader.read(1024).await.unwrap(), "");
    assert_eq!(reader.buffer(), b"");
    assert!(reader.at_eof());
}

#[bounded_test]
async fn test_read_until_eof() {
    let mut reader = StreamReader::new();
    feed_later(reader.feeder(), &[b"chunk1\n", b"chunk2"], true);
    assert_eq!(reader.read_to_eof().await.unwrap(), "chunk1\nchunk2");
    assert_eq!(reader.buffer(), b"");
}

/// A14/A39: a read of 2 from `line\n` gives `li`; then, with an exception stored, the
/// same read fails with it: the exception wins over buffered bytes, and over the
/// shortcut for 0 bytes; nothing is consumed.
async fn assert_stored_exception_wins(
    read: impl AsyncFn(&mut StreamReader, usize) -> Result<bytes::Bytes, Error>,
) {
    let mut reader = fed_reader(&[b"line\n"]);
    assert_eq!(read(&mut reader, 2).await.unwrap(), "li");
    reader.set_exception(Error::custom(ValueError));
    assert!(is_value_error(&read(&mut reader, 2).await.unwrap_err()));
    assert!(is_value_error(&read(&mut reader, 0).await.unwrap_err()));
    assert_eq!(reader.buffer(), b"ne\n");
}

#[bounded_test]
async fn test_read_exception() {
    assert_stored_exception_wins(async |reader, n| reader.read(n).await).await;
}

#[test]
fn test_invalid_limit() {
    // asyncio also rejects limit=-1; a `usize` limit cannot be negative.
    let err = StreamReader::with_limit(0).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidArgument("Limit cannot be <= 0")
    ));
    assert!(err.to_string().contains("imit"));
    let err = StreamReader::from_io_with_limit(&b""[..], 0).unwrap_err();
    assert_eq!(err.to_string(), "Limit cannot be <= 0");
}

/// A16/A37: the read takes all 5 bytes of `chunk` from a reader whose limit is 3: the
/// limit bounds lines and separators, not counted reads.
async fn assert_not_bounded_by_the_limit(
    read: impl AsyncFnOnce(&mut StreamReader) -> Result<bytes::Bytes, Error>,
) {
    let mut reader = fed_reader_with_limit(3, &[b"chunk"]);
    assert_eq!(read(&mut reader).await.unwrap(), "chunk");
    assert_eq!(reader.buffer(), b"");
}

#[bounded_test]
async fn test_read_limit() {
    assert_not_bounded_by_the_limit(async |reader| reader.read(5).await).await;
}

#[bounded_test]
async fn test_readexactly_zero_or_less() {
    // asyncio's readexactly(-1) ValueError has no Rust counterpart: n is a `usize`.
    let mut reader = fed_reader(&[DATA]);
    assert_eq!(reader.readexactly(0).await.unwrap(), "");
    assert_eq!(reader.buffer(), DATA);
    // A stored exception beats the n == 0 shortcut (spec 3.6).
    reader.set_exception(Error::custom(ValueError));
    assert!(is_value_error(&reader.readexactly(0).await.unwrap_err()));
    assert_eq!(reader.buffer(), DATA);
}

#[bounded_test]
async fn test_readexactly() {
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    // One callback feeds DATA three times once the read waits.
    tokio::spawn(async move {
        for _ in 0..3 {
            feeder.feed_data(DATA).unwrap();
        }
    });
    assert_eq!(reader.readexactly(36).await.unwrap(), [DATA, DATA].concat());
    assert_eq!(reader.buffer(), DATA);
}

#[bounded_test]
async fn test_readexactly_limit() {
    assert_not_bounded_by_the_limit(async |reader| reader.readexactly(5).await).await;
}

#[bounded_test]
async fn test_readexactly_eof() {
    let mut reader = StreamReader::new();
    feed_later(reader.feeder(), &[DATA], true);
    let err = reader.readexactly(36).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "18 bytes read on a total of 36 expected bytes"
    );
    let Error::IncompleteRead { partial, expected } = err else {
        panic!("expected IncompleteRead, got {err:?}");
    };
    assert_eq!(partial, DATA);
    assert_eq!(expected, Some(36));
    assert_eq!(reader.buffer(), b"");
    assert!(reader.at_eof());
}

#[bounded_test]
async fn test_readexactly_exception() {
    assert_stored_exception_wins(async |reader, n| reader.readexactly(n).await).await;
}

/// B4, over a real OS pipe written by a child process, as in CPython (limit 1, so the
/// 4 bytes exceed `2 * limit`).
#[cfg(unix)]
#[bounded_test]
async fn test_read_all_from_pipe_reader() {
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", "printf data"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let stdout = child.stdout.take().unwrap();
    let mut reader = StreamReader::from_io_with_limit(stdout, 1).unwrap();
    assert_eq!(reader.read_to_eof().await.unwrap(), "data");
    assert!(reader.at_eof());
    assert!(child.wait().await.unwrap().success());
}

/// B4 with far more data than `2 * limit` (and than one pull) through a tokio pipe.
#[cfg(unix)]
#[bounded_test]
async fn test_read_all_from_pipe_reader_large() {
    use tokio::io::AsyncWriteExt;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (mut tx, rx) = tokio::net::unix::pipe::pipe().unwrap();
    let expected = data.clone();
    let writer = tokio::spawn(async move { tx.write_all(&data).await.unwrap() });
    let mut reader = StreamReader::from_io_with_limit(rx, 1).unwrap();
    let got = reader.read_to_eof().await.unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected);
    writer.await.unwrap();
}

/// B4 over a `tokio::io::duplex` whose small capacity forces many partial writes.
#[bounded_test]
async fn test_read_all_from_duplex_reader() {
    use tokio::io::AsyncWriteExt;
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
    let (mut tx, rx) = tokio::io::duplex(7);
    let expected = data.clone();
    tokio::spawn(async move {
        tx.write_all(&data).await.unwrap();
        tx.shutdown().await.unwrap();
    });
    let mut reader = StreamReader::from_io_with_limit(rx, 1).unwrap();
    assert!(reader.read_to_eof().await.unwrap() == expected);
    assert_eq!(reader.read(1).await.unwrap(), "");
}

// Spec 3.6 and source errors, beyond the CPython file.

#[bounded_test]
async fn readexactly_exception_while_waiting_keeps_the_partial_data() {
    let mut reader = fed_reader(&[b"abc"]);
    let feeder = reader.feeder();
    tokio::spawn(async move {
        feeder.feed_data(b"de").unwrap();
        tokio::task::yield_now().await;
        feeder.set_exception(Error::custom(ValueError));
    });
    assert!(is_value_error(&reader.readexactly(10).await.unwrap_err()));
    assert_eq!(reader.buffer(), b"abcde");
}

/// A source that hands out its bytes, then fails.
struct FailingSource(&'static [u8]);

impl tokio::io::AsyncRead for FailingSource {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.0.is_empty() {
            let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
            return std::task::Poll::Ready(Err(reset));
        }
        let n = self.0.len().min(buf.remaining());
        buf.put_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        std::task::Poll::Ready(Ok(()))
    }
}

#[bounded_test]
async fn read_source_error_becomes_the_stored_exception() {
    let mut reader = StreamReader::from_io(FailingSource(b"abc"));
    assert_eq!(reader.read(10).await.unwrap(), "abc");
    for _ in 0..2 {
        let err = reader.read(10).await.unwrap_err();
        assert!(matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionReset));
    }
    assert!(matches!(reader.exception(), Some(Error::Io(_))));
    assert!(!reader.at_eof());
}
