//! `StreamReader::peek(n)`: waits for `n` bytes (or EOF), consumes nothing, bounded by
//! the limit, cancel safe.

use std::pin::pin;

use aiostreams::{Error, StreamReader};
use tokio::io::AsyncWriteExt;

use crate::support::bounded_test;
use crate::support::fed_reader;
use crate::support::poll_once;

#[bounded_test]
async fn peek_waits_for_n_bytes_and_consumes_none() {
    let (mut peer, io) = tokio::io::duplex(64);
    let mut reader = StreamReader::from_io(io);
    peer.write_all(b"GE").await.unwrap();
    {
        let mut peek = pin!(reader.peek(4));
        assert!(
            poll_once(peek.as_mut()).is_pending(),
            "two bytes of four: peek waits"
        );
    }
    peer.write_all(b"T / HTTP/1.0\r\n").await.unwrap();
    assert_eq!(reader.peek(4).await.unwrap(), b"GET ");
    assert_eq!(reader.peek(0).await.unwrap(), b"");
    assert_eq!(reader.readline().await.unwrap(), "GET / HTTP/1.0\r\n");
}

#[tokio::test]
async fn peek_returns_fewer_bytes_only_at_eof() {
    let mut reader = StreamReader::from_io(&b"ab"[..]);
    assert_eq!(reader.peek(5).await.unwrap(), b"ab");
    assert_eq!(reader.read_to_eof().await.unwrap(), "ab");
    assert_eq!(reader.peek(5).await.unwrap(), b"");
}

// n over the limit would make the reader hold more than its limit: refused at once, even
// with an exception stored (argument errors come first, as in asyncio).
#[tokio::test]
async fn peek_over_the_limit_is_an_argument_error() {
    let mut reader = StreamReader::with_limit(8).unwrap();
    reader.set_exception(Error::ConnectionLost);
    let err = reader.peek(9).await.unwrap_err();
    assert_eq!(err.to_string(), "peek size exceeds the reader's limit");
    assert!(matches!(reader.peek(8).await, Err(Error::ConnectionLost)));
    reader.clear_exception();
    reader.feed_data(b"12345678").unwrap();
    assert_eq!(reader.peek(8).await.unwrap(), b"12345678");
}

// A peek waiting when an exception is stored from elsewhere raises it; the bytes stay.
#[bounded_test]
async fn a_waiting_peek_raises_an_exception_stored_meanwhile() {
    let mut reader = fed_reader(&[b"x"]);
    let feeder = reader.feeder();
    tokio::spawn(async move {
        tokio::task::yield_now().await;
        feeder.set_exception(Error::ConnectionLost);
    });
    assert!(matches!(reader.peek(2).await, Err(Error::ConnectionLost)));
    reader.clear_exception();
    assert_eq!(reader.buffer(), b"x");
}

#[cfg(feature = "tls")]
#[path = "../examples/sniff_tls.rs"]
mod sniff_tls;

// The sniff_tls example on one port: a plain client and a TLS client each get their
// line back, labelled with what the server saw.
#[cfg(feature = "tls")]
#[bounded_test]
async fn the_sniffing_example_serves_tls_and_plain_on_one_port() {
    use crate::support::certs::{Kind, Pki};
    use crate::support::net::{connect_tls, serve_loopback};
    use aiostreams::{ServerOptions, open_connection};
    let pki = Pki::new();
    let config = pki.server_config(Kind::Good);
    let (_server, port) = serve_loopback(ServerOptions::new(), move |r, w| {
        sniff_tls::handle(r, w, config.clone())
    })
    .await;

    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    writer.write(b"hi\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "plain: hi\n");

    let (mut reader, writer) = connect_tls(&pki, port).await;
    writer.write(b"secret\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "tls: secret\n");
}
