//! asyncio's callback layer (spec 4, 5, 7.1, 7.5, 7.6): a [`Protocol`] driven by
//! [`create_connection`] gets its callbacks in asyncio's order, `eof_received`'s answer
//! decides between half-close and close, `pause_writing`/`resume_writing` follow the
//! write queue's marks, and a hand-built stream pair (the asyncio docs' "copy the code of
//! `open_connection`") behaves like `open_connection`, reader flow control included.

use std::io;
use std::time::Duration;

use aiostreams::{
    Error, Protocol, StreamReader, StreamReaderProtocol, StreamWriter, Transport,
    create_connection, open_connection,
};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::support::bounded_test;
use crate::support::{
    both_runtimes, bounded,
    net::{assert_close_feeds_eof, echo_server, listener, small_window_listener},
    pattern,
};

/// One protocol callback, as recorded.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Made,
    Data(Bytes),
    Eof,
    /// `connection_lost`, with the error's kind if there was one.
    Lost(Option<io::ErrorKind>),
    PauseWriting,
    /// `resume_writing`, with the queue size seen inside the callback.
    ResumeWriting(usize),
}

/// Records every callback on a channel; `eof_received` answers `keep_open`.
#[derive(Debug)]
struct Recorder {
    calls: UnboundedSender<Call>,
    keep_open: bool,
    transport: Option<Transport>,
}

impl Recorder {
    fn new(keep_open: bool) -> (Self, UnboundedReceiver<Call>) {
        let (calls, rx) = unbounded_channel();
        let recorder = Recorder {
            calls,
            keep_open,
            transport: None,
        };
        (recorder, rx)
    }

    fn record(&self, call: Call) {
        let _ = self.calls.send(call);
    }
}

impl Protocol for Recorder {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
        self.record(Call::Made);
    }
    fn data_received(&mut self, data: Bytes) {
        self.record(Call::Data(data));
    }
    fn eof_received(&mut self) -> bool {
        self.record(Call::Eof);
        self.keep_open
    }
    fn connection_lost(&mut self, exc: Option<Error>) {
        self.record(Call::Lost(exc.map(|e| e.io_kind())));
        self.transport = None;
    }
    fn pause_writing(&mut self) {
        self.record(Call::PauseWriting);
    }
    fn resume_writing(&mut self) {
        let size = self.transport.as_ref().unwrap().get_write_buffer_size();
        self.record(Call::ResumeWriting(size));
    }
}

/// Connects a [`Recorder`]; returns the transport, the calls, the task and the peer.
///
/// SO_SNDBUF is 4 KiB here and SO_RCVBUF 4 KiB at the peer, so while the peer does not
/// read the kernels take about 12 KiB of what we write (measured): the rest stays queued.
async fn recorded(
    keep_open: bool,
) -> (
    Transport,
    UnboundedReceiver<Call>,
    tokio::task::JoinHandle<Recorder>,
    TcpStream,
) {
    let (listener, port) = small_window_listener();
    let (protocol, mut calls) = Recorder::new(keep_open);
    let (made, accepted) = tokio::join!(
        create_connection(|| protocol, "127.0.0.1", port),
        listener.accept()
    );
    let (transport, task) = made.unwrap();
    transport.with_socket(|s| s.set_send_buffer_size(4096).unwrap());
    // connection_made has run by the time create_connection returns.
    assert_eq!(calls.try_recv().unwrap(), Call::Made);
    (transport, calls, task, accepted.unwrap().0)
}

/// Collects `Data` calls until the next other call, which is returned with the bytes.
async fn data_then(calls: &mut UnboundedReceiver<Call>) -> (Vec<u8>, Call) {
    let mut data = Vec::new();
    loop {
        match calls.recv().await.expect("protocol task ended") {
            Call::Data(d) => data.extend_from_slice(&d),
            other => return (data, other),
        }
    }
}

#[bounded_test]
async fn callbacks_come_in_order_and_connection_lost_is_last() {
    let (transport, mut calls, task, mut peer) = recorded(false).await;
    transport.write(b"hello").unwrap();
    let mut buf = [0; 5];
    peer.read_exact(&mut buf).await.unwrap();
    peer.write_all(&buf).await.unwrap();
    peer.write_all(b" world").await.unwrap();
    peer.shutdown().await.unwrap();
    let (data, next) = data_then(&mut calls).await;
    assert_eq!(data, b"hello world");
    assert_eq!(next, Call::Eof);
    // eof_received returned false: the transport closes itself.
    assert_eq!(calls.recv().await, Some(Call::Lost(None)));
    assert!(transport.is_closing());
    let protocol = task.await.unwrap();
    assert!(protocol.transport.is_none());
    drop(protocol);
    assert_eq!(calls.recv().await, None, "nothing after connection_lost");
    assert_eq!(peer.read(&mut buf).await.unwrap(), 0);
}

#[bounded_test]
async fn eof_received_true_keeps_the_connection_writable() {
    let (transport, mut calls, task, mut peer) = recorded(true).await;
    peer.write_all(b"question").await.unwrap();
    peer.shutdown().await.unwrap();
    let (data, next) = data_then(&mut calls).await;
    assert_eq!((data.as_slice(), next), (&b"question"[..], Call::Eof));
    assert!(!transport.is_closing(), "half-closed, not closing");
    transport.write(b"answer after eof").unwrap();
    let mut answer = [0; 16];
    peer.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"answer after eof");
    transport.close();
    assert_eq!(calls.recv().await, Some(Call::Lost(None)));
    task.await.unwrap();
    assert_eq!(peer.read(&mut answer).await.unwrap(), 0);
}

#[tokio::test]
async fn a_protocol_with_only_defaults_closes_on_the_peers_eof() {
    struct Defaults;
    impl Protocol for Defaults {}
    bounded(async {
        let (listener, port) = listener().await;
        let (made, accepted) = tokio::join!(
            create_connection(|| Defaults, "127.0.0.1", port),
            listener.accept()
        );
        let (transport, task) = made.unwrap();
        let (mut peer, _) = accepted.unwrap();
        peer.write_all(b"ignored").await.unwrap();
        peer.shutdown().await.unwrap();
        let Defaults = task.await.unwrap();
        assert!(transport.is_closing());
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    })
    .await;
}

#[bounded_test]
async fn connection_lost_carries_a_peer_reset() {
    let (transport, mut calls, task, peer) = recorded(true).await;
    socket2::SockRef::from(&peer)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(peer);
    let lost = calls.recv().await.unwrap();
    assert_eq!(lost, Call::Lost(Some(io::ErrorKind::ConnectionReset)));
    assert!(transport.is_closing());
    task.await.unwrap();
}

#[bounded_test]
async fn abort_ends_with_connection_lost_none() {
    let (transport, mut calls, task, mut peer) = recorded(true).await;
    transport.write(&vec![0; 1 << 20]).unwrap();
    transport.abort();
    assert_eq!(transport.get_write_buffer_size(), 0);
    // Paused by the write; an abort does not resume (asyncio neither).
    assert_eq!(calls.recv().await, Some(Call::PauseWriting));
    assert_eq!(calls.recv().await, Some(Call::Lost(None)));
    task.await.unwrap();
    let mut sink = Vec::new();
    let read = peer.read_to_end(&mut sink).await;
    assert!(
        read.is_err() || sink.len() < 1 << 20,
        "the queue was dropped"
    );
}

#[bounded_test]
async fn create_connection_to_a_closed_port_fails_without_a_protocol() {
    let port = {
        let (listener, port) = listener().await;
        drop(listener);
        port
    };
    let factory = || -> Recorder { panic!("no protocol is made for a failed connect") };
    let err = create_connection(factory, "127.0.0.1", port)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
}

/// pause/resume_writing alternate and follow the marks: a write far above the high mark
/// pauses, the peer's reading resumes (with at most `low` queued), three times over.
async fn pause_and_resume_writing_follow_the_marks() {
    let (transport, mut calls, task, mut peer) = recorded(true).await;
    let (low, high) = transport.get_write_buffer_limits();
    // Far more than the kernels take, so only the peer's reads resume.
    let chunk = 1 << 20;
    for round in 0..3 {
        transport.write(&pattern(round * chunk, chunk)).unwrap();
        assert!(transport.get_write_buffer_size() > high);
        assert_eq!(calls.recv().await, Some(Call::PauseWriting));
        let mut got = vec![0; chunk];
        peer.read_exact(&mut got).await.unwrap();
        assert!(got == pattern(round * chunk, chunk));
        match calls.recv().await {
            Some(Call::ResumeWriting(size)) => assert!(size <= low, "resumed at {size}"),
            other => panic!("expected resume_writing, got {other:?}"),
        }
    }
    // Lowering the marks below the queue pauses at once (spec 7.7).
    transport
        .set_write_buffer_limits(Some(4 * chunk), None)
        .unwrap();
    transport.write(&pattern(0, chunk)).unwrap(); // not above the new high mark
    transport
        .set_write_buffer_limits(Some(chunk / 2), Some(1000))
        .unwrap();
    assert_eq!(calls.recv().await, Some(Call::PauseWriting));
    let mut got = vec![0; chunk];
    peer.read_exact(&mut got).await.unwrap();
    assert!(matches!(calls.recv().await, Some(Call::ResumeWriting(s)) if s <= 1000));
    transport.close();
    assert_eq!(calls.recv().await, Some(Call::Lost(None)));
    task.await.unwrap();
}

both_runtimes!(pause_and_resume_writing_follow_the_marks);

/// Regression: a write above the high mark that the kernel took at once made the protocol
/// see `pause_writing` then `resume_writing`. asyncio sends first and pauses only on what
/// is left: here (default buffers, an idle peer) the kernel takes it all, and no call comes.
#[bounded_test]
async fn regression_a_write_sent_at_once_neither_pauses_nor_resumes() {
    let (listener, port) = listener().await;
    let (protocol, mut calls) = Recorder::new(true);
    let (made, accepted) = tokio::join!(
        create_connection(|| protocol, "127.0.0.1", port),
        listener.accept()
    );
    let (transport, task) = made.unwrap();
    let (mut peer, _) = accepted.unwrap();
    assert_eq!(calls.recv().await, Some(Call::Made));
    tokio::task::yield_now().await; // the socket's writability is known
    let (_, high) = transport.get_write_buffer_limits();
    let data = pattern(0, high + 4096);
    transport.write(&data).unwrap();
    let left = transport.get_write_buffer_size();
    let mut got = vec![0; data.len()];
    peer.read_exact(&mut got).await.unwrap();
    assert!(got == data);
    transport.close();
    let mut seen = Vec::new();
    loop {
        match calls.recv().await.unwrap() {
            Call::Lost(None) => break,
            call => seen.push(call),
        }
    }
    task.await.unwrap();
    // Whatever the kernel took, the protocol hears of a pause only if what is left is
    // above the mark (and then of the resume).
    if left > high {
        assert!(
            matches!(seen[..], [Call::PauseWriting, Call::ResumeWriting(_)]),
            "{seen:?}"
        );
    } else {
        assert!(seen.is_empty(), "{left} left, yet {seen:?}");
    }
}

/// The hand-built pair of the asyncio docs.
async fn hand_built(port: u16, limit: usize) -> (StreamReader, StreamWriter) {
    let reader = StreamReader::with_limit(limit).unwrap();
    let protocol = StreamReaderProtocol::new(&reader);
    let (transport, _task) = create_connection(|| protocol, "127.0.0.1", port)
        .await
        .unwrap();
    let writer = StreamWriter::new(transport, Some(reader.feeder()));
    (reader, writer)
}

/// An echo exchange; returns what was read, in order, for comparison between pairs.
async fn echo_exchange(mut reader: StreamReader, writer: StreamWriter) -> Vec<Bytes> {
    let mut transcript = Vec::new();
    for i in 0..100 {
        writer.write(format!("line {i}\n").as_bytes()).unwrap();
        transcript.push(reader.readline().await.unwrap());
    }
    let big = pattern(0, 1 << 20);
    writer.write(&big).unwrap();
    writer.drain().await.unwrap();
    let echoed = reader.readexactly(big.len()).await.unwrap();
    assert!(echoed == big);
    writer.write(b"tail without newline").unwrap();
    writer.write_eof();
    transcript.push(reader.read_to_eof().await.unwrap());
    assert!(reader.at_eof());
    assert!(
        !writer.is_closing(),
        "our write_eof and the peer's EOF are not a close"
    );
    writer.close();
    writer.wait_closed().await.unwrap();
    transcript
}

async fn hand_built_pair_behaves_like_open_connection() {
    let port = echo_server().await;
    let (reader, writer) = hand_built(port, 64 * 1024).await;
    let by_hand = echo_exchange(reader, writer).await;
    let (reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    let fused = echo_exchange(reader, writer).await;
    assert_eq!(by_hand, fused);
    assert_eq!(by_hand[7], "line 7\n");
    assert_eq!(by_hand.last().unwrap(), "tail without newline");
}

both_runtimes!(hand_built_pair_behaves_like_open_connection);

/// asyncio A68 (bpo-35065) on the hand-built pair: once `wait_closed()` returns, the
/// reader has its EOF, as with `open_connection`.
#[bounded_test]
async fn hand_built_pair_close_feeds_eof_before_wait_closed_returns() {
    let port = echo_server().await;
    let (mut reader, writer) = hand_built(port, 64 * 1024).await;
    assert_close_feeds_eof(&mut reader, &writer).await;
}

/// On the hand-built pair, a peer's reset is the reader's exception by the time
/// `wait_closed()` raises it, and `drain()` raises the same.
#[bounded_test]
async fn hand_built_pair_reset_reaches_the_reader_before_wait_closed_returns() {
    let (listener, port) = listener().await;
    let reader = StreamReader::new();
    let protocol = StreamReaderProtocol::new(&reader);
    let (made, accepted) = tokio::join!(
        create_connection(|| protocol, "127.0.0.1", port),
        listener.accept()
    );
    let (transport, _task) = made.unwrap();
    let writer = StreamWriter::new(transport, Some(reader.feeder()));
    let (peer, _) = accepted.unwrap();
    socket2::SockRef::from(&peer)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(peer);
    let err = writer.wait_closed().await.unwrap_err();
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset);
    let stored = reader.exception().expect("the reader has the reset");
    assert_eq!(stored.io_kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(
        writer.drain().await.unwrap_err().io_kind(),
        io::ErrorKind::ConnectionReset
    );
}

/// Wraps a [`StreamReaderProtocol`], reporting after each `data_received` how many bytes
/// were fed so far and whether the transport is still reading.
struct Tap {
    inner: StreamReaderProtocol,
    fed: usize,
    reports: UnboundedSender<(usize, bool)>,
}

impl Protocol for Tap {
    fn connection_made(&mut self, transport: Transport) {
        self.inner.connection_made(transport);
    }
    fn data_received(&mut self, data: Bytes) {
        self.fed += data.len();
        self.inner.data_received(data);
        let reading = self.inner.transport().unwrap().is_reading();
        let _ = self.reports.send((self.fed, reading));
    }
    fn eof_received(&mut self) -> bool {
        self.inner.eof_received()
    }
    fn connection_lost(&mut self, exc: Option<Error>) {
        self.inner.connection_lost(exc);
    }
}

#[bounded_test]
async fn stream_reader_protocol_pauses_reading_above_twice_the_limit() {
    let (listener, port) = listener().await;
    let limit = 1024;
    let total = 1 << 20;
    let mut reader = StreamReader::with_limit(limit).unwrap();
    let (reports, mut rx) = unbounded_channel();
    let tap = Tap {
        inner: StreamReaderProtocol::new(&reader),
        fed: 0,
        reports,
    };
    let (made, accepted) = tokio::join!(
        create_connection(|| tap, "127.0.0.1", port),
        listener.accept()
    );
    let (transport, _task) = made.unwrap();
    let (mut peer, _) = accepted.unwrap();
    let sending = tokio::spawn(async move {
        peer.write_all(&pattern(0, total)).await.unwrap();
        peer.shutdown().await.unwrap();
        peer // kept open until the test has read everything
    });

    // Nothing is consumed yet: reading stops exactly when more than 2 * limit is fed.
    let fed = loop {
        let (fed, reading) = rx.recv().await.unwrap();
        assert_eq!(reading, fed <= 2 * limit, "fed {fed}");
        if !reading {
            break fed;
        }
    };
    assert!(!transport.is_reading());
    assert!(format!("{reader:?}").contains(" paused"), "{reader:?}");

    // Resumes only when the reader is down to the limit.
    let first = reader.readexactly(fed - limit - 1).await.unwrap();
    assert!(first == pattern(0, fed - limit - 1));
    assert!(!transport.is_reading(), "limit + 1 bytes still buffered");
    let one = reader.readexactly(1).await.unwrap();
    assert_eq!(one[0], pattern(fed - limit - 1, 1)[0]);
    assert!(transport.is_reading(), "limit bytes buffered: resumed");

    let rest = reader.read_to_eof().await.unwrap();
    assert!(rest == pattern(fed - limit, total - fed + limit));
    drop(sending.await.unwrap());
}

#[bounded_test]
async fn pause_and_resume_reading_are_idempotent_and_off_once_closing() {
    let (transport, mut calls, task, mut peer) = recorded(true).await;
    assert!(transport.is_reading());
    transport.pause_reading();
    transport.pause_reading();
    assert!(!transport.is_reading());
    peer.write_all(b"held back").await.unwrap();
    transport.resume_reading();
    transport.resume_reading();
    assert!(transport.is_reading());
    let data = calls.recv().await;
    assert_eq!(data, Some(Call::Data(Bytes::from_static(b"held back"))));
    transport.close();
    assert!(!transport.is_reading());
    transport.resume_reading();
    assert!(!transport.is_reading());
    assert_eq!(calls.recv().await, Some(Call::Lost(None)));
    task.await.unwrap();
}

/// Regression: a fed reader waiting for more than `2 * limit` bytes (`readexactly`) hung
/// on the multi-thread runtime. The feeder woke the reader before pausing the transport;
/// the reader could run in between, see no pause to undo, wait, and then stay waiting on
/// a paused transport.
#[bounded_test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_fed_readexactly_beyond_twice_the_limit_does_not_hang() {
    let port = echo_server().await;
    for _ in 0..20 {
        let (mut reader, writer) = hand_built(port, 1024).await;
        let payload = pattern(0, 256 * 1024);
        writer.write(&payload).unwrap();
        assert!(reader.readexactly(payload.len()).await.unwrap() == payload);
        writer.close();
    }
}
