//! Go's `net.Dialer` / `net.ListenConfig` tuning: keepalive idle/interval/count on
//! connects and on accepted connections, and the hook that sets options before connect
//! or bind, each read back with getsockopt.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aiostreams::{ConnectOptions, Error, ServerOptions, StreamReader, StreamWriter};
use socket2::{SockRef, TcpKeepalive};
use tokio::sync::mpsc;

use crate::support::both_runtimes;
use crate::support::net::{listener, port_of};

fn keepalive() -> TcpKeepalive {
    TcpKeepalive::new()
        .with_time(Duration::from_secs(71))
        .with_interval(Duration::from_secs(13))
        .with_retries(4)
}

/// SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT as the kernel reports them.
fn read_keepalive(s: &socket2::Socket) -> (bool, Duration, Duration, u32) {
    (
        s.keepalive().unwrap(),
        s.tcp_keepalive_time().unwrap(),
        s.tcp_keepalive_interval().unwrap(),
        s.tcp_keepalive_retries().unwrap(),
    )
}

/// `hook`, and the count of its calls.
fn counted(
    hook: impl Fn(SockRef<'_>) -> io::Result<()> + Send + Sync + 'static,
) -> (
    Arc<AtomicUsize>,
    impl Fn(SockRef<'_>) -> io::Result<()> + Send + Sync + 'static,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let counting = move |s: SockRef<'_>| {
        seen.fetch_add(1, Ordering::SeqCst);
        hook(s)
    };
    (calls, counting)
}

const WANT: (bool, Duration, Duration, u32) =
    (true, Duration::from_secs(71), Duration::from_secs(13), 4);

async fn connect_sets_keepalive_and_runs_the_hook_before_connecting() {
    let (_listener, port) = listener().await;
    let (calls, hook) = counted(|s| {
        assert!(s.peer_addr().is_err(), "the hook runs before the connect");
        s.set_ttl_v4(17)?;
        s.set_tcp_nodelay(false) // after ours: it may override them
    });
    let options = ConnectOptions::new()
        .tcp_keepalive(keepalive())
        .configure_socket(hook);
    let (_reader, writer) = options.connect("127.0.0.1", port).await.unwrap();
    let got = writer.transport().with_socket(|s| {
        (
            read_keepalive(&s),
            s.ttl_v4().unwrap(),
            s.tcp_nodelay().unwrap(),
        )
    });
    assert_eq!(got, Some((WANT, 17, false)));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A failing hook fails the attempt with its error.
    let failing = ConnectOptions::new()
        .configure_socket(|_| Err(std::io::Error::other("refused by the hook")));
    let err = failing.connect("127.0.0.1", port).await.unwrap_err();
    assert!(err.to_string().contains("refused by the hook"), "{err}");
}
both_runtimes!(connect_sets_keepalive_and_runs_the_hook_before_connecting);

/// The server: keepalive parameters on every accepted connection; the hook on the
/// listening socket before bind (SO_RCVBUF, which accepted sockets inherit).
async fn server_sets_keepalive_on_accepted_and_the_hook_on_listeners() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handler = move |_reader: StreamReader, writer: StreamWriter| {
        let tx = tx.clone();
        async move {
            let got = writer
                .transport()
                .with_socket(|s| (read_keepalive(&s), s.recv_buffer_size().unwrap()));
            let _ = tx.send(got);
        }
    };
    let (hooked, hook) = counted(|s| {
        let addr = s.local_addr().unwrap();
        assert!(
            addr.as_socket().is_none_or(|a| a.port() == 0),
            "before bind"
        );
        s.set_recv_buffer_size(24 * 1024)
    });
    let server = ServerOptions::new()
        .tcp_keepalive(keepalive())
        .configure_socket(hook)
        .start_server(handler, "127.0.0.1", 0)
        .await
        .unwrap();
    assert_eq!(hooked.load(Ordering::SeqCst), 1);
    let port = port_of(&server);
    let _client = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (keepalive, rcvbuf) = rx.recv().await.unwrap().unwrap();
    assert_eq!(keepalive, WANT);
    // What the kernel makes of a 24 KiB SO_RCVBUF (Linux doubles it), on a probe.
    let probe = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    probe.set_recv_buffer_size(24 * 1024).unwrap();
    assert_eq!(rcvbuf, probe.recv_buffer_size().unwrap());

    let failing = ServerOptions::new()
        .configure_socket(|_| Err(std::io::Error::other("no listening today")))
        .start_server(|_r, _w| async {}, "127.0.0.1", 0)
        .await;
    assert!(failing.is_err());
}
both_runtimes!(server_sets_keepalive_on_accepted_and_the_hook_on_listeners);

/// Where the options cannot apply they are refused, as the other TCP options.
#[cfg(unix)]
#[tokio::test]
async fn refused_where_they_cannot_apply() {
    let hook = ConnectOptions::new().configure_socket(|_| Ok(()));
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    assert!(matches!(
        hook.connect_sock(a).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        hook.connect_unix("/nonexistent").await,
        Err(Error::InvalidArgument(_))
    ));
    let keep = ConnectOptions::new().tcp_keepalive(keepalive());
    assert!(matches!(
        keep.connect_unix("/nonexistent").await,
        Err(Error::InvalidArgument(_))
    ));
    // connect_sock of a TCP socket takes the keepalive parameters.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (_r, writer) = keep.connect_sock(tcp).await.unwrap();
    assert_eq!(
        writer.transport().with_socket(|s| read_keepalive(&s)),
        Some(WANT)
    );
}
