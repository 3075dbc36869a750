//! Reads the buffer already answers (issue 17): the fast path takes no pull and keeps no
//! waker; `try_*` reads never wait; `readexactly` of a huge size reserves nothing up front.

use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use aiostreams::{Bytes, Error, StreamReader};
use tokio::io::ReadBuf;

use crate::support::fed_reader_with_limit;
use crate::support::source::ReadFn;

/// A waker that counts how often it is cloned (a registration keeps a clone).
struct Counting;

impl Wake for Counting {
    fn wake(self: Arc<Self>) {}
}

/// Polls `fut` once with a fresh waker; panics if it would wait or kept the waker.
fn poll_without_waker<T>(fut: impl std::future::Future<Output = T>) -> T {
    let counting = Arc::new(Counting);
    let out = {
        let waker = Waker::from(counting.clone());
        let mut fut = pin!(fut);
        let Poll::Ready(out) = fut.as_mut().poll(&mut Context::from_waker(&waker)) else {
            panic!("the read waited");
        };
        out
    };
    assert_eq!(Arc::strong_count(&counting), 1, "the read kept a waker");
    out
}

fn buffered(data: &[u8]) -> StreamReader {
    // A source that must not be read: the reads under test are answered by the buffer.
    let must_not_pull = ReadFn(
        |_: &mut Context<'_>, _: &mut ReadBuf<'_>| -> Poll<io::Result<()>> {
            panic!("the reader pulled although the buffer answered the read")
        },
    );
    let mut reader = StreamReader::from_io(must_not_pull);
    reader.feed_data(data).unwrap();
    reader
}

#[test]
fn buffered_reads_take_no_pull_and_keep_no_waker() {
    let mut reader = buffered(b"line\nrecord;exactly rest");
    assert_eq!(poll_without_waker(reader.readline()).unwrap(), "line\n");
    assert_eq!(
        poll_without_waker(reader.readuntil(b";")).unwrap(),
        "record;"
    );
    assert_eq!(
        poll_without_waker(reader.readexactly(7)).unwrap(),
        "exactly"
    );
    assert_eq!(poll_without_waker(reader.read(100)).unwrap(), " rest");
    assert_eq!(poll_without_waker(reader.read(0)).unwrap(), "");
}

#[test]
fn the_fast_path_gives_way_to_a_stored_exception_and_fed_bytes() {
    let mut reader = buffered(b"line\n");
    reader.set_exception(Error::InvalidState("stored"));
    assert!(matches!(
        poll_without_waker(reader.readline()),
        Err(Error::InvalidState("stored"))
    ));
    assert!(matches!(
        reader.try_readline(),
        Err(Error::InvalidState("stored"))
    ));
    reader.clear_exception();
    // Bytes fed from elsewhere come after the buffered ones.
    reader.feeder().feed_data(b"fed\n").unwrap();
    assert_eq!(poll_without_waker(reader.readline()).unwrap(), "line\n");
    assert_eq!(
        reader.try_readline().unwrap().as_deref(),
        Some(&b"fed\n"[..])
    );
}

#[test]
fn try_reads_return_none_where_the_read_would_wait_and_consume_nothing() {
    let mut reader = buffered(b"ab");
    assert_eq!(reader.try_readline().unwrap(), None);
    assert_eq!(reader.try_readuntil(b";").unwrap(), None);
    assert_eq!(reader.try_readexactly(3).unwrap(), None);
    assert_eq!(reader.buffer(), b"ab");
    assert_eq!(reader.try_read(1).unwrap().as_deref(), Some(&b"a"[..]));
    assert_eq!(reader.try_read(0).unwrap(), Some(Bytes::new()));
    assert!(matches!(
        reader.try_readuntil(b""),
        Err(Error::InvalidArgument(_))
    ));
    reader.feed_eof();
    let Err(Error::IncompleteRead { partial, expected }) = reader.try_readexactly(3) else {
        panic!("EOF came first");
    };
    assert_eq!((&partial[..], expected), (&b"b"[..], Some(3)));
    assert_eq!(
        reader.try_readline().unwrap(),
        Some(Bytes::new()),
        "EOF: empty line"
    );
}

#[test]
fn try_readline_reports_an_overlong_line_once_and_drops_its_rest() {
    let mut reader = fed_reader_with_limit(4, &[b"abcdefgh"]);
    assert!(matches!(
        reader.try_readline(),
        Err(Error::LimitOverrun {
            separator_found: false,
            ..
        })
    ));
    reader.feed_data(b"ij\nok\n").unwrap();
    assert_eq!(
        reader.try_readline().unwrap().as_deref(),
        Some(&b"ok\n"[..])
    );
}

// A declared size of 2^62 bytes: the read fails at EOF with what came, without trying to
// allocate it first (that would abort the test process).
#[tokio::test]
async fn readexactly_of_a_huge_size_reserves_nothing_up_front() {
    let mut reader = StreamReader::from_io(&b"only a few bytes"[..]);
    let Err(Error::IncompleteRead { partial, expected }) = reader.readexactly(1 << 62).await else {
        panic!("EOF came first");
    };
    assert_eq!(
        (&partial[..], expected),
        (&b"only a few bytes"[..], Some(1 << 62))
    );

    let (mut peer, io) = tokio::io::duplex(4096);
    let mut reader = StreamReader::from_io(io);
    tokio::io::AsyncWriteExt::write_all(&mut peer, &[7; 1000])
        .await
        .unwrap();
    {
        let mut read = pin!(reader.readexactly(usize::MAX));
        for _ in 0..3 {
            let poll = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
            assert!(poll.is_pending());
        }
    }
    assert_eq!(
        reader.buffer().len(),
        1000,
        "what came, kept for the next read"
    );
}

/// Lines looked at in place and consumed (`buffer()` + `consume`, which freezes a buffer
/// of several lines as the reads do), mixed with reads and with bytes fed between them:
/// every byte comes out once, in order.
#[tokio::test]
async fn lines_consumed_in_place_mix_with_reads_and_later_feeds() {
    use tokio::io::AsyncBufReadExt;

    let mut reader = StreamReader::new();
    reader.feed_data(b"one\ntwo\nthree\nfour\n").unwrap();
    let end = reader.buffer().iter().position(|&b| b == b'\n').unwrap();
    assert_eq!(&reader.buffer()[..=end], b"one\n");
    reader.consume(end + 1);
    assert_eq!(reader.readline().await.unwrap(), "two\n");
    reader.consume(3); // "thr"
    reader.feed_data(b"five").unwrap(); // appended behind the consumed-from buffer
    assert_eq!(reader.buffer(), b"ee\nfour\nfive");
    reader.consume(3);
    assert_eq!(reader.readline().await.unwrap(), "four\n");
    reader.feed_eof();
    assert_eq!(reader.read_to_eof().await.unwrap(), "five");
}
