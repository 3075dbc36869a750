//! Answers to pipelined requests on a server connection: a `write()` made while the reader
//! still holds requests is queued (the answers leave together when the reader next pulls),
//! and it must leave even when the handler then waits for something else than its reader,
//! whichever task made it. (Inside the connection's own task the flush task's kick waits
//! until the task's poll ends; from another task it is made at once.)

use std::time::Duration;

use aiostreams::{StreamReader, StreamWriter, start_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::support::both_runtimes;

/// Who writes the answer to the first of two pipelined lines.
#[derive(Clone, Copy)]
enum Writer {
    /// The handler itself, which then waits on a channel instead of reading.
    OwnTask,
    /// A task the handler spawned (and does not wait for), while the handler waits on a
    /// channel: the write comes after the handler's task has parked.
    OtherTask,
}

/// A server whose handler reads `a\n` with `b\n` still buffered behind it, has `A\n`
/// written (queued: the reader is not drained), then waits on a channel the client
/// releases only once it has received `A\n`; then it answers `b\n` with `B\n`.
async fn answer_leaves_while_the_handler_waits_elsewhere(writer: Writer) {
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release_rx = std::sync::Mutex::new(Some(release_rx));
    let server = start_server(
        move |mut reader: StreamReader, writer_half: StreamWriter| {
            let release = release_rx.lock().unwrap().take();
            async move {
                let release = release.expect("one connection");
                assert_eq!(&reader.readline().await?[..], b"a\n");
                assert!(reader.buffer().starts_with(b"b"), "b\\n is buffered");
                match writer {
                    Writer::OwnTask => {
                        writer_half.write(b"A\n")?;
                        assert_eq!(
                            writer_half.transport().get_write_buffer_size(),
                            2,
                            "queued behind the buffered request"
                        );
                    }
                    Writer::OtherTask => {
                        let w = writer_half.clone();
                        tokio::spawn(async move { w.write(b"A\n").unwrap() });
                    }
                }
                // Waits for the client, not for the reader: only the flush task can
                // send `A\n` now.
                release.await.unwrap();
                assert_eq!(&reader.readline().await?[..], b"b\n");
                writer_half.write(b"B\n")?;
                writer_half.close();
                writer_half.wait_closed().await
            }
        },
        "127.0.0.1",
        0,
    )
    .await
    .unwrap();
    let port = server.sockets()[0].as_inet().unwrap().port();
    let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    client.write_all(b"a\nb\n").await.unwrap();
    let mut answer = [0; 2];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut answer))
        .await
        .expect("the queued answer was never sent")
        .unwrap();
    assert_eq!(&answer, b"A\n");
    release_tx.send(()).unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"B\n");
    server.close();
}

async fn own_task_write_leaves_while_the_handler_waits_elsewhere() {
    answer_leaves_while_the_handler_waits_elsewhere(Writer::OwnTask).await;
}
both_runtimes!(own_task_write_leaves_while_the_handler_waits_elsewhere);

async fn other_task_write_leaves_while_the_handler_waits_elsewhere() {
    answer_leaves_while_the_handler_waits_elsewhere(Writer::OtherTask).await;
}
both_runtimes!(other_task_write_leaves_while_the_handler_waits_elsewhere);
