//! Loopback connections for the tests: listeners on 127.0.0.1 port 0, an echo server, and
//! connection pairs whose other end the test drives by hand (a raw tokio TCP peer, a peer
//! that does not read, a Unix socketpair).

use std::net::SocketAddr;

use aiostreams::{ConnectOptions, Server, StreamReader, StreamWriter, open_connection};
use socket2::{Domain, Socket, Type};
use tokio::net::{TcpListener, TcpStream};

/// A listener on 127.0.0.1 port 0, and its port.
pub(crate) async fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A listener on 127.0.0.1 port 0 whose connections have a 4 KiB SO_RCVBUF (inherited by
/// the accepted sockets), so that a peer that does not read soon stops taking bytes.
pub(crate) fn small_window_listener() -> (TcpListener, u16) {
    listener_with(Some(4096), 16)
}

/// A listener on 127.0.0.1 port 0 with `backlog`, and SO_RCVBUF `recv_buffer` if given.
fn listener_with(recv_buffer: Option<usize>, backlog: i32) -> (TcpListener, u16) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&any.into()).unwrap();
    socket.listen(backlog).unwrap();
    socket.set_nonblocking(true).unwrap();
    let listener = TcpListener::from_std(socket.into()).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

pub(crate) use super::echo::echo_lines;

/// A tokio echo server (not ours): echoes every connection until its EOF, then closes. Its
/// backlog takes a thousand clients knocking at once.
pub(crate) async fn echo_server() -> u16 {
    let (listener, port) = listener_with(None, 4096);
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = conn.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

/// A connection made by `open_connection`, and the peer's end (a raw tokio socket).
pub(crate) async fn tcp_pair() -> (StreamReader, StreamWriter, TcpStream) {
    let (listener, port) = listener().await;
    let (streams, accepted) = tokio::join!(open_connection("127.0.0.1", port), listener.accept());
    let (reader, writer) = streams.unwrap();
    (reader, writer, accepted.unwrap().0)
}

/// A connection to a peer that reads only when the test does, with tiny kernel buffers
/// (SO_SNDBUF 4 KiB on our side, SO_RCVBUF 4 KiB on the peer: the kernels absorb about
/// 12 KiB, measured), so what sits in our queue is known to within that slack.
pub(crate) async fn stalled_pair() -> (StreamReader, StreamWriter, TcpStream) {
    let (listener, port) = small_window_listener();
    let client = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    client.set_send_buffer_size(4096).unwrap();
    // A blocking connect to a listening loopback socket completes at once.
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    client.connect(&addr.into()).unwrap();
    let (peer, _) = listener.accept().await.unwrap();
    let (reader, writer) = ConnectOptions::new().connect_sock(client).await.unwrap();
    (reader, writer, peer)
}

/// Our streams over one end of a Unix socketpair, and the other end.
#[cfg(unix)]
pub(crate) async fn unix_pair() -> (StreamReader, StreamWriter, std::os::unix::net::UnixStream) {
    let (ours, peer) = std::os::unix::net::UnixStream::pair().unwrap();
    let (reader, writer) = ConnectOptions::new().connect_sock(ours).await.unwrap();
    (reader, writer, peer)
}

/// The peer's side of a half-closed exchange: reads what we sent up to our EOF, checks
/// that it is `request`, then sends `answer` and closes.
pub(crate) async fn answer_at_eof(
    mut peer: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    request: &[u8],
    answer: &[u8],
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut got = Vec::new();
    peer.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, request, "what the peer got before our EOF");
    peer.write_all(answer).await.unwrap();
}

/// asyncio A68 (bpo-35065): closing our side feeds EOF to our reader, by the time
/// `wait_closed()` returns.
pub(crate) async fn assert_close_feeds_eof(reader: &mut StreamReader, writer: &StreamWriter) {
    writer.close();
    writer.wait_closed().await.unwrap();
    assert!(reader.at_eof(), "no EOF once wait_closed() returned");
    assert_eq!(reader.read_to_eof().await.unwrap(), "");
}

/// The port of a TCP server's first socket.
pub(crate) fn port_of(server: &Server) -> u16 {
    server.sockets()[0].as_inet().expect("a TCP server").port()
}

/// What each connection of a [`reporting_server`] came to, in order: `ok`, `error: ..`
/// or `panicked: ..`.
#[cfg(feature = "tls")]
pub(crate) type Outcomes = tokio::sync::mpsc::UnboundedReceiver<String>;

/// A server (TLS or not, as `options` say) on 127.0.0.1 port 0 running `handler`; each
/// connection's outcome (`ok`, the error, or a failed assertion in the handler) arrives on
/// the returned channel.
#[cfg(feature = "tls")]
pub(crate) async fn reporting_server<F, Fut>(
    options: aiostreams::ServerOptions,
    handler: F,
) -> (Server, u16, Outcomes)
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), aiostreams::Error>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let handler = std::sync::Arc::new(handler);
    let server = options
        .start_server(
            move |reader: StreamReader, writer: StreamWriter| {
                let (tx, handler) = (tx.clone(), handler.clone());
                async move {
                    let outcome = match tokio::spawn(handler(reader, writer)).await {
                        Ok(Ok(())) => "ok".to_owned(),
                        Ok(Err(e)) => format!("error: {e}"),
                        Err(panic) => format!("panicked: {panic:?}"),
                    };
                    let _ = tx.send(outcome);
                }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
    let port = port_of(&server);
    (server, port, rx)
}

/// Checks that the next connection of a [`reporting_server`] ended well: its handler
/// returned `Ok`.
#[cfg(feature = "tls")]
pub(crate) async fn assert_handler_ok(outcomes: &mut Outcomes) {
    assert_eq!(outcomes.recv().await.unwrap(), "ok", "the server's handler");
}

/// The [`reporting_server`]'s side ended the connection cleanly: our reader is at EOF,
/// `wait_closed()` completes without our close, and the handler returned `Ok`.
#[cfg(feature = "tls")]
pub(crate) async fn assert_closed_by_the_server(
    reader: &mut StreamReader,
    writer: &StreamWriter,
    outcomes: &mut Outcomes,
) {
    assert_eq!(reader.read(10).await.unwrap(), "");
    writer.wait_closed().await.unwrap();
    assert_handler_ok(outcomes).await;
}

/// Closes `writer` and waits for the close (a handler's usual last step).
pub(crate) async fn closed(writer: &StreamWriter) -> Result<(), aiostreams::Error> {
    writer.close();
    writer.wait_closed().await
}

/// Closes `writer` and waits for the close, which must succeed.
pub(crate) async fn close_and_wait(writer: &StreamWriter) {
    closed(writer).await.unwrap();
}

/// Closes our side, waits for the close, and checks that the [`reporting_server`]'s
/// handler of this connection returned `Ok`.
#[cfg(feature = "tls")]
pub(crate) async fn close_then_handler_ok(writer: &StreamWriter, outcomes: &mut Outcomes) {
    close_and_wait(writer).await;
    assert_handler_ok(outcomes).await;
}

/// A handler running `body` for each connection with a clone of `tx` (a channel on which
/// the connections report to the test, usually).
pub(crate) fn with_sender<T, F, Fut>(
    tx: T,
    body: F,
) -> impl Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static
where
    T: Clone + Send + Sync + 'static,
    F: Fn(StreamReader, StreamWriter, T) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
{
    move |reader, writer| body(reader, writer, tx.clone())
}

/// A server started from `options` on 127.0.0.1 port 0 with `handler`, and its port.
pub(crate) async fn serve_loopback<H: aiostreams::ClientConnected>(
    options: aiostreams::ServerOptions,
    handler: H,
) -> (Server, u16) {
    let server = options
        .start_server(handler, "127.0.0.1", 0)
        .await
        .expect("a loopback server");
    let port = port_of(&server);
    (server, port)
}

/// A TLS client's options for the tests' servers: `config` (often a `Pki`'s
/// `client_config()`), checking the name `localhost`.
#[cfg(feature = "tls")]
pub(crate) fn tls_client(config: std::sync::Arc<rustls::ClientConfig>) -> ConnectOptions {
    ConnectOptions::new()
        .ssl_config(config)
        .server_hostname("localhost")
}

/// A TLS connection to 127.0.0.1 `port` as `localhost`, trusting `pki`'s CA.
#[cfg(feature = "tls")]
pub(crate) async fn connect_tls(
    pki: &super::certs::Pki,
    port: u16,
) -> (StreamReader, StreamWriter) {
    tls_client(pki.client_config())
        .connect("127.0.0.1", port)
        .await
        .expect("a TLS connection")
}

/// A [`reporting_server`] serving TLS with `pki`'s good certificate and default options:
/// the server, its port and the outcomes of its handlers.
#[cfg(feature = "tls")]
pub(crate) async fn tls_server<F, Fut>(
    pki: &super::certs::Pki,
    handler: F,
) -> (Server, u16, Outcomes)
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), aiostreams::Error>> + Send + 'static,
{
    let options = aiostreams::ServerOptions::new().ssl(pki.server_config(super::certs::Kind::Good));
    reporting_server(options, handler).await
}

/// A [`tls_server`] of a fresh PKI running `handler`, and one client connected to it:
/// the server, the outcomes of its handlers, and the client's reader and writer.
#[cfg(feature = "tls")]
pub(crate) async fn tls_session<F, Fut>(
    handler: F,
) -> (Server, Outcomes, StreamReader, StreamWriter)
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), aiostreams::Error>> + Send + 'static,
{
    let pki = super::certs::Pki::new();
    let (server, port, outcomes) = tls_server(&pki, handler).await;
    let (reader, writer) = connect_tls(&pki, port).await;
    (server, outcomes, reader, writer)
}
