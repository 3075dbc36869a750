//! A reader that waits again and again in the same task keeps its waker registered
//! without the inbox's lock (`Shared::park`): whatever arrives later must still wake it.
//!
//! The reader runs in a task of its own and first waits several times with no wake-up
//! in between (a read raced against a timer, dropped each time), so that its later
//! waits take the lock-free path. The test feeds it from outside once it waits (paused
//! time orders this: the reader's timers end long before the test's), and a lost
//! wake-up leaves the reader's task hanging, which `bounded` turns into a failure.

use std::time::Duration;

use aiostreams::{Feeder, StreamReader};
use tokio::task::JoinHandle;

use crate::support::{bounded, bounded_test};

/// Makes `reader` wait `times` times in the current task, dropping each read.
async fn wait_repeatedly(reader: &mut StreamReader, times: usize) {
    for _ in 0..times {
        tokio::select! {
            biased;
            got = reader.readline() => panic!("nothing was fed yet: {got:?}"),
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
    }
}

/// A fresh reader in a task of its own that waits 3 times there, then runs `then` on
/// it: the reader's feeder and the task.
fn spawn_after_repeated_waits<Fut>(
    then: impl FnOnce(StreamReader) -> Fut + Send + 'static,
) -> (Feeder, JoinHandle<Fut::Output>)
where
    Fut: Future + Send + 'static,
    Fut::Output: Send,
{
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    let task = tokio::spawn(async move {
        wait_repeatedly(&mut reader, 3).await;
        then(reader).await
    });
    (feeder, task)
}

/// Lets the reader's task reach its next wait (its timers are shorter).
async fn until_it_waits() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn bytes_and_eof_fed_after_repeated_waits_wake_the_reader() {
    let (feeder, task) = spawn_after_repeated_waits(|mut reader| async move {
        let line = reader.readline().await.unwrap();
        // Woken once, it waits again (registering anew) and is woken again.
        wait_repeatedly(&mut reader, 2).await;
        (line, reader.readline().await.unwrap())
    });
    until_it_waits().await;
    feeder.feed_data(b"line\n").unwrap();
    until_it_waits().await;
    feeder.feed_eof();
    let (line, at_eof) = bounded(task).await.unwrap();
    assert_eq!((&line[..], &at_eof[..]), (&b"line\n"[..], &b""[..]));
}

#[tokio::test(start_paused = true)]
async fn an_exception_set_after_repeated_waits_wakes_the_reader() {
    let (feeder, task) =
        spawn_after_repeated_waits(|mut reader| async move { reader.readline().await });
    until_it_waits().await;
    feeder.set_exception(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
    let err = bounded(task).await.unwrap().unwrap_err();
    assert_eq!(
        err.io_kind(),
        std::io::ErrorKind::ConnectionReset,
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_reader_waiting_in_another_task_than_before_is_woken() {
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    wait_repeatedly(&mut reader, 2).await;
    // The same reader now waits in a new task: its waker must replace the old one.
    let task = tokio::spawn(async move { reader.readline().await });
    until_it_waits().await;
    feeder.feed_data(b"moved\n").unwrap();
    assert_eq!(bounded(task).await.unwrap().unwrap(), "moved\n");
}

/// Polls `read` (which must keep waiting) until the connection has received `total`
/// bytes: the read pulled them and waits again.
async fn until_pulled<F: Future>(
    mut read: std::pin::Pin<&mut F>,
    writer: &aiostreams::StreamWriter,
    total: u64,
) {
    loop {
        let waits = std::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx)))
            .await
            .is_pending();
        assert!(waits, "the read completed early");
        if writer.stats().bytes_in == total {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// A socket read woken after its pull found nothing pulls again without stepping first
/// (`StreamReader::poll_op`): a record arriving in pieces, each after the read waited
/// again, is read whole; and an exception stored while it waits still wins.
#[bounded_test]
async fn a_socket_read_woken_again_and_again_reads_its_record_whole() {
    use tokio::io::AsyncWriteExt;
    let (mut reader, writer, mut peer) = crate::support::net::tcp_pair().await;
    {
        let mut read = std::pin::pin!(reader.readexactly(9));
        let mut sent = 0;
        for piece in [&b"abc"[..], b"def"] {
            peer.write_all(piece).await.unwrap();
            sent += piece.len() as u64;
            until_pulled(read.as_mut(), &writer, sent).await;
        }
        peer.write_all(b"ghi").await.unwrap();
        assert_eq!(read.await.unwrap(), "abcdefghi");
    }
    let feeder = reader.feeder();
    let mut read = std::pin::pin!(reader.readline());
    peer.write_all(b"half a li").await.unwrap();
    until_pulled(read.as_mut(), &writer, 18).await;
    feeder.set_exception(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
    let err = read.await.unwrap_err();
    assert_eq!(
        err.io_kind(),
        std::io::ErrorKind::ConnectionReset,
        "{err:?}"
    );
}
