//! Connection limits: `max_connections(0)` and `max_connections_per_ip(0)` are errors,
//! and `max_connections_per_ip` closes a client over its address's share while other
//! addresses are served.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use aiostreams::{Error, ServerOptions, StreamReader, StreamWriter};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};

use crate::support::bounded_test;
use crate::support::net::port_of;

/// Greets, then holds the connection until the client closes.
async fn greet_and_hold(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    writer.write(b"hello\n")?;
    reader.read_to_eof().await?;
    Ok(())
}

/// Connects from `source` (any 127.0.0.0/8 address is this machine's loopback).
async fn connect_from(source: Ipv4Addr, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).unwrap();
    socket.connect(([127, 0, 0, 1], port).into()).await.unwrap()
}

/// What the server said before closing or going quiet: the greeting, or EOF at once.
async fn greeted(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 6];
    match stream.read_exact(&mut buf).await {
        Ok(_) => {
            assert_eq!(&buf, b"hello\n");
            true
        }
        Err(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
            false
        }
    }
}

// `max_connections(0)` was silently 1: a server that can never accept is an error.
#[tokio::test]
async fn zero_connection_limits_are_errors() {
    for (options, message) in [
        (
            ServerOptions::new().max_connections(0),
            "max_connections must be at least 1",
        ),
        (
            ServerOptions::new().max_connections_per_ip(0),
            "max_connections_per_ip must be at least 1",
        ),
    ] {
        let started = options.start_server(greet_and_hold, "127.0.0.1", 0).await;
        match started {
            Err(Error::InvalidArgument(m)) => assert_eq!(m, message),
            other => panic!("{other:?}"),
        }
    }
}

#[bounded_test]
async fn max_connections_per_ip_closes_the_extra_client_and_serves_other_addresses() {
    let server = ServerOptions::new()
        .max_connections_per_ip(2)
        .start_server(greet_and_hold, "127.0.0.1", 0)
        .await
        .unwrap();
    let port = port_of(&server);
    let a = Ipv4Addr::new(127, 0, 0, 1);
    let mut first = connect_from(a, port).await;
    let mut second = connect_from(a, port).await;
    assert!(greeted(&mut first).await && greeted(&mut second).await);
    let mut third = connect_from(a, port).await;
    assert!(!greeted(&mut third).await, "a third from {a} is closed");
    let mut other = connect_from(Ipv4Addr::new(127, 0, 0, 2), port).await;
    assert!(greeted(&mut other).await, "another address is served");
    // A slot comes back when its connection's socket is closed.
    drop(first);
    loop {
        if greeted(&mut connect_from(a, port).await).await {
            break;
        }
        tokio::task::yield_now().await;
    }
}
