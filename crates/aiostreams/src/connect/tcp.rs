//! Opening a TCP connection the way asyncio's `loop.create_connection` does: resolve,
//! optionally interleave address families, bind a local address, then connect to each
//! address in turn or in a staggered race (Happy Eyeballs, RFC 8305).

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use socket2::SockRef;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, sleep_until};

use crate::error::{ConnectAttempt, Error};
use crate::net::{Family, Tuning, bind_error, resolve};

/// asyncio's `create_connection` keywords that apply to a plain TCP connection.
#[derive(Clone, Debug, Default)]
pub(crate) struct TcpConnectOptions {
    /// Address family filter (`family=`).
    pub(crate) family: Family,
    /// Local `(host, port)` to bind before connecting (`local_addr=`).
    pub(crate) local_addr: Option<(String, u16)>,
    /// Start the next attempt after this delay (`happy_eyeballs_delay=`).
    pub(crate) happy_eyeballs_delay: Option<Duration>,
    /// Family interleaving (`interleave=`); 1 by default with `happy_eyeballs_delay`.
    pub(crate) interleave: Option<usize>,
    /// Deadline for the whole connect, resolution included (not in asyncio).
    pub(crate) connect_timeout: Option<Duration>,
    /// Set `TCP_NODELAY` (asyncio always does).
    pub(crate) nodelay: bool,
    /// Set `SO_KEEPALIVE`.
    pub(crate) keepalive: bool,
    /// Keepalive parameters and the user's hook (Go's `Dialer`).
    pub(crate) tuning: Tuning,
}

/// Connects to `host:port` as asyncio's `loop.create_connection` does.
///
/// `host` is a name or an IP literal (`"[::1]"` is accepted too); names are resolved on
/// tokio's blocking pool. The first attempt that connects wins; the others are dropped,
/// which closes their sockets.
///
/// # Errors
///
/// [`Error::Resolve`] when a name does not resolve, [`Error::Io`] with
/// `getaddrinfo() returned empty list` when no address of the requested family exists,
/// [`Error::Connect`] listing every failed attempt, [`Error::TimedOut`] when
/// `connect_timeout` expires.
///
/// # Cancel safety
///
/// Dropping the future closes every socket it opened.
pub(crate) async fn connect_tcp(
    host: &str,
    port: u16,
    opts: &TcpConnectOptions,
) -> Result<TcpStream, Error> {
    with_deadline(
        opts.connect_timeout,
        "connect",
        connect_inner(host, port, opts),
    )
    .await
}

/// [`connect_tcp`] without the deadline.
async fn connect_inner(
    host: &str,
    port: u16,
    opts: &TcpConnectOptions,
) -> Result<TcpStream, Error> {
    let local = async {
        match &opts.local_addr {
            Some((lhost, lport)) => resolve(lhost, *lport, opts.family).await.map(Some),
            None => Ok(None),
        }
    };
    let (mut addrs, local) = tokio::try_join!(resolve(host, port, opts.family), local)?;
    let interleave = opts.interleave.or(opts.happy_eyeballs_delay.map(|_| 1));
    if let Some(n) = interleave.filter(|&n| n > 0) {
        addrs = interleave_families(addrs, n);
    }
    let local = local.as_deref();
    race(&addrs, opts.happy_eyeballs_delay, |addr| {
        attempt(addr, local, opts)
    })
    .await
    .map_err(|attempts| Error::Connect {
        attempts: attempts.into(),
    })
}

/// Runs `fut`, failing with [`Error::TimedOut`] if `limit` passes first.
pub(crate) async fn with_deadline<T>(
    limit: Option<Duration>,
    operation: &'static str,
    fut: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let Some(after) = limit else { return fut.await };
    tokio::time::timeout(after, fut)
        .await
        .unwrap_or(Err(Error::TimedOut { operation, after }))
}

/// asyncio's `_interleave_addrinfos`: groups addresses by family in first-seen order, puts
/// the first `first_family_count - 1` addresses of the first family first, then takes one
/// address of each family in turn.
fn interleave_families(addrs: Vec<SocketAddr>, first_family_count: usize) -> Vec<SocketAddr> {
    let total = addrs.len();
    let mut groups: Vec<VecDeque<SocketAddr>> = Vec::new();
    for addr in addrs {
        match groups.iter_mut().find(|g| g[0].is_ipv4() == addr.is_ipv4()) {
            Some(group) => group.push_back(addr),
            None => groups.push(VecDeque::from([addr])),
        }
    }
    let mut out = Vec::with_capacity(total);
    if let Some(first) = groups.first_mut() {
        let head = first_family_count.saturating_sub(1).min(first.len());
        out.extend(first.drain(..head));
    }
    while out.len() < total {
        out.extend(groups.iter_mut().filter_map(VecDeque::pop_front));
    }
    out
}

/// What one attempt yields: the connection, or every error it met, in order.
type Outcome<T> = Result<T, Vec<io::Error>>;

/// Tries `addrs` in order: the next attempt starts when the latest one fails or, with a
/// `delay`, when `delay` has passed since it started (asyncio's `staggered_race`). Without
/// a delay the attempts are strictly sequential. The first success wins and the pending
/// attempts are dropped; if all fail, every error is returned in start order.
async fn race<T, F, Fut>(
    addrs: &[SocketAddr],
    delay: Option<Duration>,
    mut attempt: F,
) -> Result<T, Vec<ConnectAttempt>>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = Outcome<T>>,
{
    let mut errors: Vec<Vec<io::Error>> = addrs.iter().map(|_| Vec::new()).collect();
    let mut running: Vec<(usize, Pin<Box<Fut>>)> = Vec::new();
    let (mut started, mut start_next, mut next_start) = (0, true, Instant::now());
    loop {
        if start_next && started < addrs.len() {
            running.push((started, Box::pin(attempt(addrs[started]))));
            started += 1;
            next_start = delay.map_or(next_start, |d| Instant::now() + d);
        }
        if running.is_empty() {
            break;
        }
        let more = delay.is_some() && started < addrs.len();
        // Only the failure of the latest attempt starts the next one early.
        start_next = tokio::select! {
            (index, outcome) = first_done(&mut running) => match outcome {
                Ok(stream) => return Ok(stream),
                Err(errs) => {
                    errors[index] = errs;
                    index + 1 == started
                }
            },
            () = sleep_until(next_start), if more => true,
        };
    }
    Err(flatten(addrs, errors))
}

/// Polls every running attempt; resolves with the first that finishes, removing it.
async fn first_done<T, Fut>(running: &mut Vec<(usize, Pin<Box<Fut>>)>) -> (usize, Outcome<T>)
where
    Fut: Future<Output = Outcome<T>>,
{
    poll_fn(|cx| {
        for i in 0..running.len() {
            if let Poll::Ready(outcome) = running[i].1.as_mut().poll(cx) {
                let (index, _) = running.swap_remove(i);
                return Poll::Ready((index, outcome));
            }
        }
        Poll::Pending
    })
    .await
}

fn flatten(addrs: &[SocketAddr], errors: Vec<Vec<io::Error>>) -> Vec<ConnectAttempt> {
    let per_addr = addrs.iter().zip(errors);
    let all = per_addr.flat_map(|(&addr, errs)| errs.into_iter().map(move |e| (addr, e)));
    all.map(|(addr, error)| ConnectAttempt {
        addr,
        error: Arc::new(error),
    })
    .collect()
}

/// Creates a socket for `addr`, binds a local address if asked, sets the options, connects.
async fn attempt(
    addr: SocketAddr,
    local: Option<&[SocketAddr]>,
    opts: &TcpConnectOptions,
) -> Outcome<TcpStream> {
    let socket = new_socket(addr, opts).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    if let Some(local) = local
        && !bind_local(&socket, addr, local, &mut errors)
    {
        return Err(errors);
    }
    socket.connect(addr).await.map_err(|e| {
        errors.push(e);
        errors
    })
}

fn new_socket(addr: SocketAddr, opts: &TcpConnectOptions) -> io::Result<TcpSocket> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if opts.nodelay {
        socket.set_nodelay(true)?;
    }
    if opts.keepalive {
        socket.set_keepalive(true)?;
    }
    opts.tuning.keepalive_on(SockRef::from(&socket))?;
    // Last, before bind and connect (Go's `Dialer.Control`).
    opts.tuning.hook(SockRef::from(&socket))?;
    Ok(socket)
}

/// Binds the first local address of `remote`'s family that works, recording each failure
/// in asyncio's words. Returns whether a bind succeeded. The no-match message names the
/// family as `AF_INET6` where Python prints `<AddressFamily.AF_INET6: 10>`.
fn bind_local(
    socket: &TcpSocket,
    remote: SocketAddr,
    local: &[SocketAddr],
    errors: &mut Vec<io::Error>,
) -> bool {
    let same_family = local.iter().filter(|l| l.is_ipv4() == remote.is_ipv4());
    for &laddr in same_family {
        match socket.bind(laddr) {
            Ok(()) => return true,
            Err(source) => errors.push(bind_error(&laddr, source)),
        }
    }
    if errors.is_empty() {
        let family = if remote.is_ipv4() {
            "AF_INET"
        } else {
            "AF_INET6"
        };
        let msg = format!("no matching local address with family={family} found");
        errors.push(io::Error::new(io::ErrorKind::AddrNotAvailable, msg));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::net::TcpListener;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    fn opts() -> TcpConnectOptions {
        TcpConnectOptions {
            nodelay: true,
            ..Default::default()
        }
    }

    fn has_ipv6_loopback() -> bool {
        std::net::TcpListener::bind("[::1]:0").is_ok()
    }

    /// A port with nothing listening on it, free on both 127.0.0.1 and ::1 when possible.
    fn closed_port() -> u16 {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        let _v6 = std::net::TcpListener::bind(("::1", port));
        port
    }

    fn attempts(err: Error) -> Arc<[ConnectAttempt]> {
        match err {
            Error::Connect { attempts } => attempts,
            other => panic!("expected Error::Connect, got {other:?}"),
        }
    }

    /// Connects to `host` and checks the server sees the client's address.
    async fn connect_and_accept(listen: &str, host: &str, opts: &TcpConnectOptions) -> TcpStream {
        let listener = TcpListener::bind(listen).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (client, accepted) = tokio::join!(connect_tcp(host, port, opts), listener.accept());
        let client = client.unwrap();
        assert_eq!(accepted.unwrap().1, client.local_addr().unwrap());
        client
    }

    #[tokio::test]
    async fn connects_to_ipv4_with_options_set() {
        let o = TcpConnectOptions {
            keepalive: true,
            ..opts()
        };
        let client = connect_and_accept("127.0.0.1:0", "127.0.0.1", &o).await;
        assert!(client.nodelay().unwrap());
        let socket = TcpSocket::from_std_stream(client.into_std().unwrap());
        assert!(socket.keepalive().unwrap());
    }

    #[tokio::test]
    async fn connects_to_ipv6_plain_and_bracketed() {
        if !has_ipv6_loopback() {
            return;
        }
        connect_and_accept("[::1]:0", "::1", &opts()).await;
        connect_and_accept("[::1]:0", "[::1]", &opts()).await;
    }

    #[tokio::test]
    async fn connects_to_localhost_by_name() {
        connect_and_accept("127.0.0.1:0", "localhost", &opts()).await;
    }

    #[tokio::test]
    async fn family_filter_leaves_an_empty_list() {
        let o = TcpConnectOptions {
            family: Family::Inet6,
            ..opts()
        };
        let err = connect_tcp("127.0.0.1", 1, &o).await.unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err:?}");
        assert_eq!(err.to_string(), "getaddrinfo() returned empty list");
    }

    #[tokio::test]
    async fn closed_port_is_refused_and_listed() {
        let port = closed_port();
        let err = connect_tcp("127.0.0.1", port, &opts()).await.unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
        let expected = format!("Connect call failed ('127.0.0.1', {port}): ");
        assert!(err.to_string().starts_with(&expected), "{err}");
        let list = attempts(err);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].addr, SocketAddr::from(([127, 0, 0, 1], port)));
    }

    #[tokio::test]
    async fn localhost_closed_port_with_happy_eyeballs_lists_every_address() {
        let port = closed_port();
        let resolved = resolve("localhost", port, Family::Unspec).await.unwrap();
        let o = TcpConnectOptions {
            happy_eyeballs_delay: Some(Duration::from_millis(250)),
            ..opts()
        };
        let err = connect_tcp("localhost", port, &o).await.unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
        let list = attempts(err.clone());
        let mut tried: Vec<SocketAddr> = list.iter().map(|a| a.addr).collect();
        tried.sort();
        let mut resolved = resolved;
        resolved.sort();
        assert_eq!(tried, resolved);
        let multiple = err.to_string().starts_with("Multiple exceptions: ");
        assert_eq!(multiple, list.len() > 1, "{err}");
    }

    #[tokio::test]
    async fn both_families_refused_gives_multiple_exceptions() {
        if !has_ipv6_loopback() {
            return;
        }
        let port = closed_port();
        let both = addrs(&[&format!("[::1]:{port}"), &format!("127.0.0.1:{port}")]);
        let o = opts();
        let delay = Some(Duration::from_millis(250));
        let list = race(&both, delay, |a| attempt(a, None, &o))
            .await
            .unwrap_err();
        assert_eq!(list.iter().map(|a| a.addr).collect::<Vec<_>>(), both);
        let err = Error::Connect {
            attempts: list.into(),
        };
        let text = err.to_string();
        let v6 = format!("Multiple exceptions: Connect call failed ('::1', {port}, 0, 0): ");
        assert!(text.starts_with(&v6), "{text}");
        assert!(text.contains(&format!(", Connect call failed ('127.0.0.1', {port}): ")));
    }

    #[tokio::test]
    async fn happy_eyeballs_moves_on_as_soon_as_an_attempt_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        let list = addrs(&[&format!("127.0.0.1:{}", closed_port()), &open.to_string()]);
        let o = opts();
        // With a 60 s delay only the failure can start the second attempt within 10 s.
        let delay = Some(Duration::from_secs(60));
        let raced = race(&list, delay, |a| attempt(a, None, &o));
        let stream = tokio::time::timeout(Duration::from_secs(10), raced).await;
        assert_eq!(stream.unwrap().unwrap().peer_addr().unwrap(), open);
    }

    #[tokio::test]
    async fn local_addr_is_bound_before_connect() {
        let port = closed_port();
        let o = TcpConnectOptions {
            local_addr: Some(("127.0.0.1".into(), port)),
            ..opts()
        };
        let client = connect_and_accept("127.0.0.1:0", "127.0.0.1", &o).await;
        assert_eq!(client.local_addr().unwrap().port(), port);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn unbindable_local_addr_reports_asyncio_text() {
        // 192.0.2.1 (TEST-NET-1) is not on this machine: bind fails locally, nothing is sent.
        let o = TcpConnectOptions {
            local_addr: Some(("192.0.2.1".into(), 0)),
            ..opts()
        };
        let err = connect_tcp("127.0.0.1", closed_port(), &o)
            .await
            .unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::AddrNotAvailable);
        // CPython 3.13's text (errno 99 is Linux's EADDRNOTAVAIL).
        let expected = "error while attempting to bind on address ('192.0.2.1', 0): \
                        [errno 99] cannot assign requested address";
        assert_eq!(err.to_string(), expected);
        let list = attempts(err);
        assert!(std::error::Error::source(list[0].error.get_ref().unwrap()).is_some());
    }

    #[tokio::test]
    async fn local_addr_of_another_family_does_not_match() {
        if !has_ipv6_loopback() {
            return;
        }
        let o = TcpConnectOptions {
            local_addr: Some(("127.0.0.1".into(), 0)),
            ..opts()
        };
        let err = connect_tcp("::1", closed_port(), &o).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "no matching local address with family=AF_INET6 found"
        );
    }

    #[tokio::test]
    async fn unresolvable_name_is_named_in_the_error() {
        let o = opts();
        let lookup = connect_tcp("no-such-host.invalid", 80, &o);
        let err = tokio::time::timeout(Duration::from_secs(30), lookup)
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(&err, Error::Resolve { host, .. } if &**host == "no-such-host.invalid"));
        assert!(
            err.to_string().contains("\"no-such-host.invalid\""),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_expires_as_timed_out() {
        let two = Duration::from_secs(2);
        let pending = std::future::pending::<Result<(), Error>>();
        let err = with_deadline(Some(two), "connect", pending)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::TimedOut { operation: "connect", after } if after == two));
        assert_eq!(err.to_string(), "connect timed out after 2s");
        assert!(
            with_deadline(Some(two), "connect", async { Ok(()) })
                .await
                .is_ok()
        );
    }

    /// Fake attempts by port: 1 never finishes, 2 connects, 3 fails at once, 4 fails after
    /// 100 ms. Returns the winning port and the start offsets in milliseconds.
    async fn fake_race(ports: &[u16], delay_ms: Option<u64>) -> (Result<u16, Vec<u16>>, Vec<u64>) {
        let list: Vec<SocketAddr> = ports
            .iter()
            .map(|&p| SocketAddr::from(([127, 0, 0, 1], p)))
            .collect();
        let t0 = Instant::now();
        let starts = Mutex::new(Vec::new());
        let delay = delay_ms.map(Duration::from_millis);
        let outcome = race(&list, delay, |addr| {
            starts
                .lock()
                .unwrap()
                .push((Instant::now() - t0).as_millis() as u64);
            async move {
                let refused = || vec![io::Error::from(io::ErrorKind::ConnectionRefused)];
                match addr.port() {
                    1 => std::future::pending().await,
                    2 => Ok(2),
                    3 => Err(refused()),
                    _ => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Err(refused())
                    }
                }
            }
        })
        .await;
        let outcome = outcome.map_err(|list| list.iter().map(|a| a.addr.port()).collect());
        (outcome, starts.into_inner().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn staggered_attempts_start_every_delay_or_on_failure() {
        assert_eq!(
            fake_race(&[1, 1, 2], Some(250)).await,
            (Ok(2), vec![0, 250, 500])
        );
        assert_eq!(
            fake_race(&[3, 1, 2], Some(250)).await,
            (Ok(2), vec![0, 0, 250])
        );
        assert_eq!(fake_race(&[4, 2], Some(250)).await, (Ok(2), vec![0, 100]));
        // Errors are listed in start order, not in the order they happened.
        assert_eq!(
            fake_race(&[4, 3], Some(50)).await,
            (Err(vec![4, 3]), vec![0, 50])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_delay_attempts_are_sequential() {
        assert_eq!(
            fake_race(&[4, 4, 2], None).await,
            (Ok(2), vec![0, 100, 200])
        );
        assert_eq!(
            fake_race(&[4, 3], None).await,
            (Err(vec![4, 3]), vec![0, 100])
        );
    }

    #[test]
    fn interleave_matches_asyncio() {
        // Expected orders printed by CPython 3.11's asyncio.base_events._interleave_addrinfos.
        let v6_first = addrs(&["[::a]:1", "[::b]:1", "[::c]:1", "10.0.0.1:1", "10.0.0.2:1"]);
        let v4_first = addrs(&[
            "10.0.0.1:1",
            "[::a]:1",
            "10.0.0.2:1",
            "10.0.0.3:1",
            "[::b]:1",
        ]);
        let cases: [(&Vec<SocketAddr>, usize, [usize; 5]); 6] = [
            (&v6_first, 1, [0, 3, 1, 4, 2]),
            (&v6_first, 2, [0, 1, 3, 2, 4]),
            (&v6_first, 3, [0, 1, 2, 3, 4]),
            (&v6_first, 5, [0, 1, 2, 3, 4]),
            (&v4_first, 1, [0, 1, 2, 4, 3]),
            (&v4_first, 2, [0, 2, 1, 3, 4]),
        ];
        for (given, first_family_count, order) in cases {
            let expected: Vec<_> = order.iter().map(|&i| given[i]).collect();
            let got = interleave_families(given.clone(), first_family_count);
            assert_eq!(got, expected, "{given:?}, interleave {first_family_count}");
        }
        assert_eq!(interleave_families(Vec::new(), 1), Vec::new());
    }
}
