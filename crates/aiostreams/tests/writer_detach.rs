//! `StreamWriter::detach`: the socket comes back with the reader's buffered bytes and
//! the writer's unsent queue; carried on by hand, the byte streams in both directions
//! are exactly what was sent (nothing lost, nothing repeated).

use aiostreams::{
    DetachedSocket, Error, ServerOptions, StreamReader, StreamWriter, open_connection,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::both_runtimes;
use crate::support::net::{listener, port_of, stalled_pair};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Pipelined input pulled with the head and a 1 MiB answer mostly still queued: after
/// detach, read_buf + the socket's input and write_buf + the socket's output are the
/// exact streams.
async fn nothing_is_lost_either_way() {
    let (mut reader, writer, mut peer) = stalled_pair().await;
    peer.write_all(b"UPGRADE\r\nearly-1 early-2").await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "UPGRADE\r\n");
    let answer = pattern(1 << 20);
    writer.write(&answer).unwrap();
    assert!(writer.transport().get_write_buffer_size() > 0);

    let parts = writer.detach(&mut reader).unwrap();
    assert_eq!(parts.read_buf, "early-1 early-2");
    assert!(!parts.write_buf.is_empty());
    assert!(writer.is_closing());
    writer.wait_closed().await.unwrap();
    writer
        .write(b"dropped: the connection is not ours")
        .unwrap();
    assert!(reader.read_to_eof().await.unwrap().is_empty());

    let DetachedSocket::Tcp(mut socket) = parts.socket else {
        panic!("a TCP connection");
    };
    let sent_already = answer.len() - parts.write_buf.len();
    assert_eq!(&answer[sent_already..], &parts.write_buf[..]);
    let carry_on = async {
        socket.write_all(&parts.write_buf).await.unwrap();
        socket.write_all(b"<end>").await.unwrap();
        let mut more = [0; 6];
        socket.read_exact(&mut more).await.unwrap();
        assert_eq!(&more, b" late\n");
        socket
    };
    let peer_side = async {
        let mut got = vec![0; answer.len() + 5];
        peer.read_exact(&mut got).await.unwrap();
        peer.write_all(b" late\n").await.unwrap();
        got
    };
    let (_socket, got) = tokio::join!(carry_on, peer_side);
    assert_eq!(
        &got[..answer.len()],
        &answer[..],
        "the answer arrives whole, in order"
    );
    assert_eq!(&got[answer.len()..], b"<end>");
}
both_runtimes!(nothing_is_lost_either_way);

/// Refusals change nothing: a foreign reader, a pending write_eof, a closed connection;
/// a server handler's detach ends the connection's count.
async fn refusals_leave_the_connection_working() {
    let (listener, port) = listener().await;
    let (streams, accepted) = tokio::join!(open_connection("127.0.0.1", port), listener.accept());
    let (mut reader, writer) = streams.unwrap();
    let mut peer = accepted.unwrap().0;
    let mut stranger = StreamReader::new();
    assert!(matches!(
        writer.detach(&mut stranger),
        Err(Error::InvalidArgument(_))
    ));
    writer.write(b"still works\n").unwrap();
    let mut got = [0; 12];
    peer.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"still works\n");
    writer.close();
    writer.wait_closed().await.unwrap();
    assert!(matches!(
        writer.detach(&mut reader),
        Err(Error::ConnectionLost)
    ));

    // A generic writer has no socket to hand out.
    let (ours, _theirs) = tokio::io::duplex(64);
    let writer = StreamWriter::from_io(ours);
    assert!(writer.detach(&mut StreamReader::new()).is_err());
}
both_runtimes!(refusals_leave_the_connection_working);

/// A server handler that detaches: the server stops counting the connection while the
/// handler still drives the socket by hand.
async fn server_handler_detaches() {
    let (detached_tx, detached_rx) = tokio::sync::oneshot::channel::<()>();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let slots = std::sync::Mutex::new(Some((detached_tx, go_rx)));
    let handler = move |mut reader: StreamReader, writer: StreamWriter| {
        let slot = slots.lock().unwrap().take();
        async move {
            let (detached_tx, go_rx) = slot.expect("one connection");
            assert_eq!(reader.readline().await?, "switch\n");
            let parts = writer.detach(&mut reader)?;
            let mut socket = parts.socket;
            let _ = detached_tx.send(());
            let _ = go_rx.await;
            // "rest" is in read_buf, in the socket, or split between them.
            let mut rest = parts.read_buf.to_vec();
            rest.resize(4, 0);
            let had = parts.read_buf.len();
            socket.read_exact(&mut rest[had..]).await?;
            socket.write_all(&rest).await?;
            socket.write_all(b"|bye").await?;
            Ok::<(), Error>(())
        }
    };
    let server = ServerOptions::new()
        .start_server(handler, "127.0.0.1", 0)
        .await
        .unwrap();
    let port = port_of(&server);
    let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    client.write_all(b"switch\nrest").await.unwrap();
    detached_rx.await.unwrap();
    assert_eq!(server.active_connections(), 0);
    go_tx.send(()).unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"rest|bye");
}
both_runtimes!(server_handler_detaches);
