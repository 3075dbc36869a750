//! Server binding and lifecycle beyond CPython's own tests: asyncio's `host=` forms and
//! IPV6_V6ONLY, the bind error text, `max_connections`, `listeners_per_address`,
//! `shutdown(deadline)`, dropping the server, Unix path rules (stale socket, regular
//! file, abstract names) and peer credentials.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
#[cfg(unix)]
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aiostreams::{
    Error, Hosts, Server, ServerOptions, ShutdownReport, StreamReader, StreamWriter,
    open_connection, start_server,
};
#[cfg(unix)]
use aiostreams::{open_unix_connection, start_unix_server};

use crate::support::bounded_test;
use crate::support::{bounded, ipv6_or_skip, temp::TempPath};

fn inet_sockets(server: &Server) -> Vec<SocketAddr> {
    server
        .sockets()
        .iter()
        .map(|s| s.as_inet().expect("a TCP server"))
        .collect()
}

/// Sends `hello N\n` (N counts the clients in arrival order), then echoes lines to EOF.
fn greet_then_echo() -> impl Fn(StreamReader, StreamWriter) -> GreetFuture + Send + Sync + 'static {
    let arrivals = Arc::new(AtomicUsize::new(0));
    move |mut reader, writer| {
        let n = arrivals.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            writer.write(format!("hello {n}\n").as_bytes())?;
            loop {
                let line = reader.readline().await?;
                if line.is_empty() {
                    return Ok(());
                }
                writer.write(&line)?;
                writer.drain().await?;
            }
        })
    }
}

type GreetFuture = std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Connects, reads the greeting, and checks one echo round trip.
async fn served(host: &str, port: u16) -> (StreamReader, StreamWriter) {
    let (mut reader, writer) = open_connection(host, port).await.unwrap();
    let greeting = reader.readline().await.unwrap();
    assert!(greeting.starts_with(b"hello "), "{greeting:?}");
    round_trip(&mut reader, &writer).await;
    (reader, writer)
}

async fn round_trip(reader: &mut StreamReader, writer: &StreamWriter) {
    writer.write(b"ping\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "ping\n");
}

/// A [`greet_then_echo`] server on `hosts` and `port` with exactly two sockets, an IPv4
/// and an IPv6 one: the server and their addresses.
async fn ipv4_and_ipv6_server(
    hosts: impl Into<Hosts>,
    port: u16,
) -> (Server, SocketAddr, SocketAddr) {
    let server = start_server(greet_then_echo(), hosts, port).await.unwrap();
    let addrs = inet_sockets(&server);
    assert_eq!(addrs.len(), 2, "{addrs:?}");
    let v4 = *addrs.iter().find(|a| a.is_ipv4()).expect("an IPv4 socket");
    let v6 = *addrs.iter().find(|a| a.is_ipv6()).expect("an IPv6 socket");
    (server, v4, v6)
}

/// A port free on both 0.0.0.0 and :: right now (a dual-stack probe), as CPython's
/// `find_unused_port()`.
fn free_dual_stack_port() -> u16 {
    let probe = std::net::TcpListener::bind("[::]:0").unwrap();
    probe.local_addr().unwrap().port()
}

// host="" (and None, and Hosts::Any): one socket on 0.0.0.0 and one on ::, each with its
// own ephemeral port; the :: one is IPv6-only.
#[tokio::test]
async fn any_host_binds_ipv4_and_ipv6_separately() {
    let ipv6 = ipv6_or_skip("any_host_binds_ipv4_and_ipv6_separately: its :: half");
    for host in [Hosts::from(""), Hosts::from(None::<&str>), Hosts::Any] {
        bounded(async {
            let server = start_server(greet_then_echo(), host, 0).await.unwrap();
            let addrs = inet_sockets(&server);
            // The socket on the unspecified address `any`, served on its own port.
            let served_on = async |any: IpAddr, client_host: &str| {
                let addr = *addrs.iter().find(|a| a.ip() == any).unwrap();
                assert_ne!(addr.port(), 0);
                served(client_host, addr.port()).await;
                addr
            };
            let v4 = served_on(Ipv4Addr::UNSPECIFIED.into(), "127.0.0.1").await;
            if !ipv6 {
                return;
            }
            assert_eq!(addrs.len(), 2, "{addrs:?}");
            let v6 = served_on(Ipv6Addr::UNSPECIFIED.into(), "::1").await;
            if v6.port() != v4.port() {
                // IPV6_V6ONLY: IPv4 clients cannot reach the :: socket.
                let err = open_connection("127.0.0.1", v6.port()).await.unwrap_err();
                assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
            }
        })
        .await;
    }
}

// 0.0.0.0 and :: on the same port bind side by side only because the IPv6 socket is
// IPV6_V6ONLY (a dual-stack :: would collide with 0.0.0.0).
#[bounded_test]
async fn any_host_same_port_needs_v6only() {
    if !ipv6_or_skip("any_host_same_port_needs_v6only") {
        return;
    }
    let port = free_dual_stack_port();
    let (_server, v4, v6) = ipv4_and_ipv6_server("", port).await;
    assert_eq!((v4.port(), v6.port()), (port, port));
    served("127.0.0.1", port).await;
    served("::1", port).await;
}

// A list of hosts: one socket per address.
#[bounded_test]
async fn host_list_binds_each() {
    if !ipv6_or_skip("host_list_binds_each") {
        return;
    }
    let (_server, v4, v6) = ipv4_and_ipv6_server(["127.0.0.1", "::1"], 0).await;
    assert_eq!(v4.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(v6.ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
    served("127.0.0.1", v4.port()).await;
    served("::1", v6.port()).await;
}

// The bind error has asyncio 3.13's text (errno 98 is Linux's EADDRINUSE).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn bind_error_text_matches_asyncio() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = start_server(greet_then_echo(), "127.0.0.1", port)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "error while attempting to bind on address ('127.0.0.1', {port}): \
             [errno 98] address already in use"
        )
    );
    assert_eq!(err.io_kind(), io::ErrorKind::AddrInUse);
}

// max_connections(2): a third client is connected (backlog) but not served until one of
// the first two leaves.
#[bounded_test]
async fn max_connections_queues_the_rest() {
    let server = ServerOptions::new()
        .max_connections(2)
        .start_server(greet_then_echo(), "127.0.0.1", 0)
        .await
        .unwrap();
    let port = inet_sockets(&server)[0].port();
    let (mut r1, w1) = open_connection("127.0.0.1", port).await.unwrap();
    assert_eq!(r1.readline().await.unwrap(), "hello 0\n");
    let (mut r2, w2) = open_connection("127.0.0.1", port).await.unwrap();
    assert_eq!(r2.readline().await.unwrap(), "hello 1\n");
    let (mut r3, _w3) = open_connection("127.0.0.1", port).await.unwrap();
    // The first two keep being served meanwhile; the third is not accepted.
    round_trip(&mut r1, &w1).await;
    round_trip(&mut r2, &w2).await;
    assert_eq!(server.active_connections(), 2);
    drop(w1);
    assert_eq!(r1.read_to_eof().await.unwrap(), "");
    assert_eq!(r3.readline().await.unwrap(), "hello 2\n");
    round_trip(&mut r2, &w2).await;
}

// listeners_per_address(2) with reuse_port: two sockets on one port, all clients served.
#[cfg(unix)]
#[bounded_test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_per_address_share_a_port() {
    let server = ServerOptions::new()
        .reuse_port(true)
        .listeners_per_address(2)
        .start_server(greet_then_echo(), "127.0.0.1", 0)
        .await
        .unwrap();
    let addrs = inet_sockets(&server);
    assert_eq!(addrs.len(), 2, "{addrs:?}");
    assert_eq!(addrs[0], addrs[1]);
    let tasks: Vec<_> = (0..16)
        .map(|_| tokio::spawn(served("127.0.0.1", addrs[0].port())))
        .collect();
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(task.await.unwrap());
    }
    assert_eq!(server.active_connections(), 16);
}

// shutdown(deadline): a handler that watches shutdown_signal() finishes, and its socket
// lingers (its client does not close) until the deadline cuts it; one that ignores the
// signal is aborted at the deadline (its client sees EOF: abort sends no reset).
#[bounded_test]
async fn shutdown_with_deadline_reports_graceful_and_aborted() {
    let options = ServerOptions::new();
    let signal = options.shutdown_signal();
    let handler = move |mut reader: StreamReader, writer: StreamWriter| {
        let signal = signal.clone();
        async move {
            let kind = reader.readline().await?;
            writer.write(b"ok\n")?;
            if kind == "polite\n" {
                signal.cancelled().await;
                writer.write(b"bye\n")?;
                writer.close();
            } else {
                // Ignores the signal; ends only when its connection is aborted.
                reader.read_to_eof().await?;
            }
            Ok::<(), Error>(())
        }
    };
    let server = options.start_server(handler, "127.0.0.1", 0).await.unwrap();
    let port = inet_sockets(&server)[0].port();
    let mut clients = Vec::new();
    for kind in ["polite\n", "rude\n"] {
        let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
        writer.write(kind.as_bytes()).unwrap();
        assert_eq!(reader.readline().await.unwrap(), "ok\n");
        clients.push((reader, writer));
    }
    let report = server.shutdown(Duration::from_millis(200)).await;
    assert_eq!(
        report,
        ShutdownReport {
            graceful: 0,
            aborted: 1,
            cut_lingering: 1,
        }
    );
    assert!(server.sockets().is_empty());
    let (mut polite, _polite_writer) = clients.remove(0);
    assert_eq!(polite.read_to_eof().await.unwrap(), "bye\n");
    let (mut rude, _rude_writer) = clients.remove(0);
    assert_eq!(rude.read_to_eof().await.unwrap(), "");
}

// Two servers started from clones of one ServerOptions: closing one cancelled the other's
// shutdown signal too (the token lived in the Clone builder, shared by every clone).
#[bounded_test]
async fn servers_from_cloned_options_have_their_own_shutdown_signal() {
    let options = ServerOptions::new();
    let first_options = options.clone();
    let (first_signal, second_signal) =
        (first_options.shutdown_signal(), options.shutdown_signal());
    let first = first_options
        .start_server(greet_then_echo(), "127.0.0.1", 0)
        .await
        .unwrap();
    let second = options
        .start_server(greet_then_echo(), "127.0.0.1", 0)
        .await
        .unwrap();
    first.close();
    assert!(first_signal.is_cancelled());
    assert!(first.shutdown_signal().is_cancelled());
    assert!(!second_signal.is_cancelled());
    assert!(!second.shutdown_signal().is_cancelled());
    let _still_served = served("127.0.0.1", inet_sockets(&second)[0].port()).await;
    second.close();
    assert!(second_signal.is_cancelled());
}

// Dropping the Server closes its listening sockets: nothing can connect afterwards.
#[bounded_test]
async fn dropping_the_server_closes_listeners() {
    let server = start_server(greet_then_echo(), "127.0.0.1", 0)
        .await
        .unwrap();
    let port = inet_sockets(&server)[0].port();
    let (_r, _w) = served("127.0.0.1", port).await;
    drop(server);
    let err = open_connection("127.0.0.1", port).await.unwrap_err();
    assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
}

#[cfg(unix)]
async fn unix_served(path: impl AsRef<Path>) -> (StreamReader, StreamWriter) {
    let (mut reader, writer) = open_unix_connection(path).await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), "hello 0\n");
    round_trip(&mut reader, &writer).await;
    (reader, writer)
}

// A stale socket file (its server is gone) is removed and the new server binds.
#[cfg(unix)]
#[tokio::test]
async fn unix_stale_socket_is_replaced() {
    let path = TempPath::new("stale");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    bounded(async {
        let server = start_unix_server(greet_then_echo(), &path).await.unwrap();
        unix_served(&path).await;
        server.close();
    })
    .await;
}

// A regular file at the path is not ours to remove: binding fails, the file stays.
#[cfg(unix)]
#[tokio::test]
async fn unix_regular_file_is_left_alone() {
    let path = TempPath::new("regular");
    std::fs::write(&path, b"precious").unwrap();
    let err = start_unix_server(greet_then_echo(), &path)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already in use"), "{err}");
    assert_eq!(err.io_kind(), io::ErrorKind::AddrInUse);
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
}

// A Linux abstract name (leading NUL): no file, served and connected by name.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn unix_abstract_name() {
    use std::os::unix::ffi::OsStrExt;
    let name = format!("\0aiostreams-abstract-{}", std::process::id());
    let path = Path::new(std::ffi::OsStr::from_bytes(name.as_bytes()));
    bounded(async {
        let server = start_unix_server(greet_then_echo(), path).await.unwrap();
        unix_served(path).await;
        server.close();
        server.wait_closed().await;
        let err = open_unix_connection(path).await.unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
    })
    .await;
}

/// The first (real) id of a `Uid:` or `Gid:` line of /proc/self/status.
#[cfg(target_os = "linux")]
fn proc_status_id(key: &str) -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

// peer_credentials(): both ends of a Unix connection see this very process.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn unix_peer_credentials_are_ours() {
    let path = TempPath::new("peercred");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handler = move |_reader: StreamReader, writer: StreamWriter| {
        let _ = tx.send(writer.transport().peer_credentials());
        async {}
    };
    bounded(async {
        let server = start_unix_server(handler, &path).await.unwrap();
        let (_reader, writer) = open_unix_connection(&path).await.unwrap();
        let seen_by_server = rx.recv().await.unwrap().expect("server side credentials");
        let seen_by_client = writer.transport().peer_credentials().unwrap();
        for creds in [seen_by_server, seen_by_client] {
            assert_eq!(creds.pid, Some(std::process::id() as i32));
            assert_eq!(creds.uid, proc_status_id("Uid:"));
            assert_eq!(creds.gid, proc_status_id("Gid:"));
        }
        server.close();
    })
    .await;
}
