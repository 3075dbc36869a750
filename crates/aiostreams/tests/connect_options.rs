//! Every connect entry point honours every option it accepts, or refuses it with a clear
//! error (issue 10, bug 3: `create_connection_with` connected in plaintext when given
//! `.ssl()`). One test per entry point x option family, driven by one table
//! ([`expected`]), which is the table in `src/connect/accepts.rs`.

use std::net::SocketAddr;
use std::time::Duration;

use aiostreams::{
    ConnectOptions, Error, Family, Server, ServerOptions, StreamReader, StreamReaderProtocol,
    StreamWriter, Transport, create_connection_with,
};

use crate::support::{
    bounded,
    certs::{Kind, Pki},
};

/// The connect entry points.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Entry {
    Connect,
    ConnectUnix,
    SockTcp,
    SockUnix,
    CreateConnection,
}

/// The option families.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Option_ {
    Limit,
    Addressing,
    SocketOptions,
    ConnectTimeout,
    Tls,
}

/// What an entry point does with an option family: `Some(text)` refuses it with an error
/// containing `text`, `None` honours it.
fn expected(entry: Entry, option: Option_) -> Option<&'static str> {
    use Entry::*;
    use Option_::*;
    match (entry, option) {
        (CreateConnection, Limit) => Some("create_connection() takes no limit"),
        (ConnectUnix, Addressing) => Some("TCP options: connect_unix() cannot use them"),
        (ConnectUnix, SocketOptions) => Some("TCP options: connect_unix() cannot use them"),
        (SockTcp | SockUnix, Addressing | ConnectTimeout) => {
            Some("connect_sock() takes a connected socket")
        }
        (SockUnix, SocketOptions) => Some("connect_sock() was given a Unix socket"),
        _ => None,
    }
}

/// Echo servers, plain and TLS, over TCP and Unix.
struct Servers {
    pki: Pki,
    plain: SocketAddr,
    tls: SocketAddr,
    _servers: Vec<Server>,
}

async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    loop {
        let line = reader.readline().await?;
        if line.is_empty() {
            writer.close();
            return writer.wait_closed().await;
        }
        writer.write(&line)?;
    }
}

impl Servers {
    async fn start() -> Servers {
        let pki = Pki::new();
        let tls_options = || ServerOptions::new().ssl(pki.server_config(Kind::Good));
        let plain = aiostreams::start_server(echo, "127.0.0.1", 0)
            .await
            .unwrap();
        let tls = tls_options()
            .start_server(echo, "127.0.0.1", 0)
            .await
            .unwrap();
        let mut servers = vec![
            aiostreams::start_unix_server(echo, pki.dir.path().join("plain.sock"))
                .await
                .unwrap(),
            tls_options()
                .start_unix_server(echo, pki.dir.path().join("tls.sock"))
                .await
                .unwrap(),
        ];
        let (plain_addr, tls_addr) = (
            plain.sockets()[0].as_inet().unwrap(),
            tls.sockets()[0].as_inet().unwrap(),
        );
        servers.extend([plain, tls]);
        Servers {
            plain: plain_addr,
            tls: tls_addr,
            pki,
            _servers: servers,
        }
    }

    fn path(&self, tls: bool) -> std::path::PathBuf {
        self.pki
            .dir
            .path()
            .join(if tls { "tls.sock" } else { "plain.sock" })
    }
}

/// A connection as the test sees it, whatever the entry point.
struct Conn {
    reader: StreamReader,
    transport: Transport,
    /// Keeps the connection open (dropping the last writer closes it).
    _writer: Option<StreamWriter>,
}

/// Connects through `entry` with `options`, to the TLS server when `tls`.
async fn connect(
    servers: &Servers,
    entry: Entry,
    options: ConnectOptions,
    tls: bool,
) -> Result<Conn, Error> {
    let addr = if tls { servers.tls } else { servers.plain };
    let (reader, writer) = match entry {
        Entry::Connect => options.connect("127.0.0.1", addr.port()).await?,
        Entry::ConnectUnix => options.connect_unix(servers.path(tls)).await?,
        Entry::SockTcp => {
            let sock = tokio::task::spawn_blocking(move || std::net::TcpStream::connect(addr));
            options.connect_sock(sock.await.unwrap().unwrap()).await?
        }
        Entry::SockUnix => {
            let path = servers.path(tls);
            let sock = std::os::unix::net::UnixStream::connect(path).unwrap();
            options.connect_sock(sock).await?
        }
        Entry::CreateConnection => {
            let reader = StreamReader::with_limit(7).unwrap();
            let protocol = StreamReaderProtocol::new(&reader);
            let (transport, _task) =
                create_connection_with(|| protocol, "127.0.0.1", addr.port(), &options).await?;
            return Ok(Conn {
                reader,
                transport,
                _writer: None,
            });
        }
    };
    Ok(Conn {
        reader,
        transport: writer.transport().clone(),
        _writer: Some(writer),
    })
}

/// The options of a family, set to values that differ from the defaults.
fn options_for(servers: &Servers, option: Option_) -> ConnectOptions {
    let tls = ConnectOptions::new()
        .ssl_config(servers.pki.client_config())
        .server_hostname("localhost");
    match option {
        Option_::Limit => ConnectOptions::new().limit(7),
        Option_::Addressing => ConnectOptions::new().family(Family::Inet6),
        Option_::SocketOptions => ConnectOptions::new().nodelay(false).keepalive(true),
        Option_::ConnectTimeout => ConnectOptions::new().connect_timeout(Duration::from_secs(5)),
        Option_::Tls => tls,
    }
}

/// Each addressing option alone (each must be refused where the family is).
fn addressing_options() -> [ConnectOptions; 4] {
    [
        ConnectOptions::new().family(Family::Inet),
        ConnectOptions::new().local_addr("127.0.0.1", 0),
        ConnectOptions::new().happy_eyeballs_delay(Duration::from_millis(250)),
        ConnectOptions::new().interleave(1),
    ]
}

async fn echoes(conn: &mut Conn) {
    conn.transport.write(b"ping\n").unwrap();
    assert_eq!(conn.reader.readline().await.unwrap(), "ping\n");
}

/// Runs one cell of the table.
async fn cell(entry: Entry, option: Option_) {
    let servers = Servers::start().await;
    let tls = option == Option_::Tls;
    let result = connect(&servers, entry, options_for(&servers, option), tls).await;
    if let Some(text) = expected(entry, option) {
        let err = result.err().expect("the option must be refused");
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        assert!(err.to_string().contains(text), "{err}");
        if option == Option_::Addressing {
            for options in addressing_options() {
                let err = connect(&servers, entry, options, false).await.err();
                assert!(err.expect("refused").to_string().contains(text));
            }
        }
        return;
    }
    match option {
        Option_::Limit => assert_eq!(result.unwrap().reader.limit(), 7),
        Option_::Addressing => {
            // IPv6 only, to an IPv4 literal: honoured means nothing to connect to.
            let err = result.err().expect("no IPv6 address for 127.0.0.1");
            assert!(err.to_string().contains("empty list"), "{err}");
            for options in addressing_options() {
                echoes(&mut connect(&servers, entry, options, false).await.unwrap()).await;
            }
        }
        Option_::SocketOptions => {
            let conn = result.unwrap();
            let (nodelay, keepalive) = conn
                .transport
                .with_socket(|s| (s.tcp_nodelay().unwrap(), s.keepalive().unwrap()))
                .unwrap();
            assert_eq!((nodelay, keepalive), (false, true));
        }
        Option_::ConnectTimeout => echoes(&mut result.unwrap()).await,
        Option_::Tls => {
            let mut conn = result.unwrap();
            assert!(conn.transport.tls_info().is_some(), "connected without TLS");
            echoes(&mut conn).await;
        }
    }
}

macro_rules! cells {
    ($($name:ident: $entry:ident x $option:ident;)*) => {$(
        #[tokio::test]
        async fn $name() {
            bounded(cell(Entry::$entry, Option_::$option)).await;
        }
    )*};
}

cells! {
    connect_limit: Connect x Limit;
    connect_addressing: Connect x Addressing;
    connect_socket_options: Connect x SocketOptions;
    connect_connect_timeout: Connect x ConnectTimeout;
    connect_tls: Connect x Tls;
    connect_unix_limit: ConnectUnix x Limit;
    connect_unix_addressing: ConnectUnix x Addressing;
    connect_unix_socket_options: ConnectUnix x SocketOptions;
    connect_unix_connect_timeout: ConnectUnix x ConnectTimeout;
    connect_unix_tls: ConnectUnix x Tls;
    connect_sock_tcp_limit: SockTcp x Limit;
    connect_sock_tcp_addressing: SockTcp x Addressing;
    connect_sock_tcp_socket_options: SockTcp x SocketOptions;
    connect_sock_tcp_connect_timeout: SockTcp x ConnectTimeout;
    connect_sock_tcp_tls: SockTcp x Tls;
    connect_sock_unix_limit: SockUnix x Limit;
    connect_sock_unix_addressing: SockUnix x Addressing;
    connect_sock_unix_socket_options: SockUnix x SocketOptions;
    connect_sock_unix_connect_timeout: SockUnix x ConnectTimeout;
    connect_sock_unix_tls: SockUnix x Tls;
    create_connection_limit: CreateConnection x Limit;
    create_connection_addressing: CreateConnection x Addressing;
    create_connection_socket_options: CreateConnection x SocketOptions;
    create_connection_connect_timeout: CreateConnection x ConnectTimeout;
    create_connection_tls: CreateConnection x Tls;
}

/// A listener whose accept queue is full: a further connect's SYN is dropped, so the
/// connect waits until its deadline.
fn full_listener() -> (socket2::Socket, Vec<socket2::Socket>, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    listener.bind(&any.into()).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let fillers = (0..4)
        .map(|_| {
            let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            s.set_nonblocking(true).unwrap();
            let _ = s.connect(&addr.into());
            s
        })
        .collect();
    (listener, fillers, addr)
}

// connect_timeout is honoured where the connect can wait: a TCP connect to a full accept
// queue times out (paused clock) through connect() and create_connection_with().
#[tokio::test(start_paused = true)]
async fn connect_timeout_expires_through_connect_and_create_connection() {
    let (_listener, _fillers, addr) = full_listener();
    let after = Duration::from_secs(3);
    let options = ConnectOptions::new().connect_timeout(after);
    let err = options.connect("127.0.0.1", addr.port()).await.unwrap_err();
    assert!(
        matches!(err, Error::TimedOut { after: a, .. } if a == after),
        "{err:?}"
    );
    let reader = StreamReader::new();
    let protocol = StreamReaderProtocol::new(&reader);
    let err = create_connection_with(|| protocol, "127.0.0.1", addr.port(), &options)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TimedOut { after: a, .. } if a == after),
        "{err:?}"
    );
}
