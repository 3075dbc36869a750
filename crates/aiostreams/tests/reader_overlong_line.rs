//! Issue 10, bug 1, over real loopback sockets: after `readline()`'s limit error, no byte
//! of the over-long line is returned by a later read. (asyncio returns the later pieces of
//! such a line as lines; the pull-based reader used to return the part it had not pulled
//! yet.) Each test is one reproduction from the issue.

use aiostreams::{ConnectOptions, Error, StreamReader, StreamWriter};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::bounded_test;
use crate::support::net::listener;

/// Our reader (with `limit`) and writer on one end of a 127.0.0.1 connection, the raw peer
/// socket on the other.
pub(crate) async fn pair(limit: usize) -> (StreamReader, StreamWriter, TcpStream) {
    let (listener, port) = listener().await;
    let options = ConnectOptions::new().limit(limit);
    let (connected, accepted) = tokio::join!(options.connect("127.0.0.1", port), listener.accept());
    let (reader, writer) = connected.unwrap();
    (reader, writer, accepted.unwrap().0)
}

/// The limit error's `separator_found`, or a panic for anything else.
fn limit_error(result: Result<bytes::Bytes, Error>) -> bool {
    match result {
        Err(Error::LimitOverrun {
            separator_found, ..
        }) => separator_found,
        other => panic!("expected readline's limit error, got {other:?}"),
    }
}

// limit 8; 20 bytes without a newline, and only after the error `KL\nok\n`: one error, then
// `ok\n` (asyncio: `KL\n`; we returned `GHIJKL\n`-like fragments).
#[bounded_test]
async fn readline_never_returns_the_tail_of_an_overlong_line_sent_later() {
    let (mut reader, _writer, mut peer) = pair(8).await;
    peer.write_all(b"ABCDEFGHIJ0123456789").await.unwrap();
    assert!(
        !limit_error(reader.readline().await),
        "its newline is not sent yet"
    );
    peer.write_all(b"KL\nok\n").await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "ok\n");
}

// limit 8; a 100-byte line, `\n`, `next\n`, all sent before reading: exactly one error,
// CPython's ("Separator is found, ..."), then `next\n` (we raised six "not found" errors
// and returned a 4-byte fragment).
#[bounded_test]
async fn readline_raises_once_with_cpythons_error_for_an_overlong_line_already_received() {
    let (mut reader, _writer, mut peer) = pair(8).await;
    let mut sent = vec![b'x'; 100];
    sent.extend_from_slice(b"\nnext\n");
    peer.write_all(&sent).await.unwrap();
    let err = reader.readline().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Separator is found, but chunk is longer than limit"
    );
    assert!(matches!(err, Error::LimitOverrun { consumed: 100, .. }));
    assert_eq!(reader.readline().await.unwrap(), "next\n");
}

// The default 64 KiB limit; a 150 KiB line, `\n`, `next\n`: one error, then `next\n` (we
// returned a 26,625-byte fragment). The peer writes from its own task: the kernel may not
// hold 150 KiB before the reader reads.
#[bounded_test]
async fn readline_raises_once_then_reads_the_next_line_after_a_150_kib_line() {
    let (mut reader, _writer, mut peer) = pair(aiostreams::DEFAULT_LIMIT).await;
    let sending = tokio::spawn(async move {
        let mut sent = vec![b'x'; 150 * 1024];
        sent.extend_from_slice(b"\nnext\n");
        peer.write_all(&sent).await.unwrap();
        peer
    });
    limit_error(reader.readline().await);
    assert_eq!(reader.readline().await.unwrap(), "next\n");
    drop(sending.await.unwrap());
    assert_eq!(reader.readline().await.unwrap(), "", "nothing else came");
}
