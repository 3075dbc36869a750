//! Lingering close: a client whose request is in flight when the server shuts down gets
//! its whole answer and then EOF, not a reset, and `ShutdownReport` tells a graceful end
//! from a cut one.
//!
//! The scenario is HTTP pipelining's: each client sends a request and, while its answer
//! is arriving, the next one, which the server will never read. A server that closes its
//! socket with that request unread (or arriving after the close) makes the kernel send a
//! RST, which throws away the part of the answer still queued: the client sees a cut
//! answer and ECONNRESET. A small client receive buffer keeps most of each answer in the
//! server's kernel queue when the handler returns, as a slow or distant client would.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aiostreams::{ServerOptions, ShutdownReport, StreamReader, StreamWriter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::Notify;

use crate::support::bounded_test;
use crate::support::net::port_of;

/// Clients mid-request at shutdown.
const CLIENTS: usize = 200;
/// Each answer: well above the client's receive buffer.
const ANSWER: usize = 256 * 1024;

/// How one client's exchange ended.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// Every byte of the answer, then EOF.
    FullThenEof,
    /// Fewer bytes, then EOF.
    CutThenEof(usize),
    /// An error (a reset) after this many bytes.
    Error(usize, io::ErrorKind),
}

/// Sends a request, and the next one once its answer starts to arrive; reads to the end.
async fn client(port: u16) -> Seen {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(([127, 0, 0, 1], port).into()).await.unwrap();
    stream.write_all(b"request 1\n").await.unwrap();
    let mut got = 0;
    let mut sent_next = false;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) if got == ANSWER => return Seen::FullThenEof,
            Ok(0) => return Seen::CutThenEof(got),
            Ok(n) => {
                assert!(buf[..n].iter().all(|&b| b == b'a'), "answer bytes");
                got += n;
                if !sent_next && got >= ANSWER / 4 {
                    sent_next = true;
                    // The pipelined next request (a reset here counts as a reset).
                    if let Err(e) = stream.write_all(b"request 2\n").await {
                        return Seen::Error(got, e.kind());
                    }
                }
            }
            Err(e) => return Seen::Error(got, e.kind()),
        }
    }
}

// 200 clients mid-request at shutdown: each gets its whole answer, then EOF.
#[bounded_test(limit = Duration::from_secs(60), flavor = "multi_thread", worker_threads = 2)]
async fn clients_mid_request_at_shutdown_get_their_whole_answer_then_eof() {
    let options = ServerOptions::new();
    let signal = options.shutdown_signal();
    let arrived = Arc::new(AtomicUsize::new(0));
    let all_arrived = Arc::new(Notify::new());
    let (a, n) = (arrived.clone(), all_arrived.clone());
    let handler = move |mut reader: StreamReader, writer: StreamWriter| {
        let (signal, arrived, all_arrived) = (signal.clone(), a.clone(), n.clone());
        async move {
            let request = reader.readline().await?;
            assert_eq!(request, "request 1\n");
            if arrived.fetch_add(1, Ordering::SeqCst) + 1 == CLIENTS {
                all_arrived.notify_one();
            }
            // The answer is being made when the server starts shutting down.
            signal.cancelled().await;
            writer.write(&vec![b'a'; ANSWER])?;
            writer.drain().await
            // Returning drops the writer: the connection closes.
        }
    };
    let server = options.start_server(handler, "127.0.0.1", 0).await.unwrap();
    let port = port_of(&server);
    let clients: Vec<_> = (0..CLIENTS).map(|_| tokio::spawn(client(port))).collect();
    all_arrived.notified().await;
    let report = server.shutdown(Duration::from_secs(30)).await;
    let mut seen = Vec::new();
    for c in clients {
        seen.push(c.await.unwrap());
    }
    let full = seen.iter().filter(|s| **s == Seen::FullThenEof).count();
    let others: Vec<_> = seen.iter().filter(|s| **s != Seen::FullThenEof).collect();
    eprintln!("lingering close: {full} of {CLIENTS} got the whole answer then EOF");
    assert_eq!(
        full,
        CLIENTS,
        "not all clean: {:?}",
        &others[..others.len().min(5)]
    );
    assert_eq!(
        report,
        ShutdownReport {
            graceful: CLIENTS,
            ..ShutdownReport::default()
        }
    );
}
