//! The accept loop and the task that runs each client's callback.

use std::any::Any;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;

use super::admission::Admission;
use super::core::Core;
use super::listener::ListenerSlot;
use super::serve::{Panic, Serve};
use crate::metrics::Closed;
use crate::transport::inner::Inner;
use crate::transport::io::Socket;
use crate::{ProxyHeader, StreamReader, StreamWriter, Transport};

/// An error a client callback returned.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// asyncio pauses accepting this long after running out of descriptors or memory.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// What a client callback may return: `()` or a `Result` whose error is logged.
pub trait HandlerResult: Send + 'static {
    /// The outcome as a result.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::{BoxError, HandlerResult};
    ///
    /// assert!(().into_result().is_ok());
    /// let failed: Result<(), std::io::Error> = Err(std::io::Error::other("lost"));
    /// let logged: BoxError = failed.into_result().unwrap_err();
    /// assert_eq!(logged.to_string(), "lost");
    /// ```
    fn into_result(self) -> Result<(), BoxError>;
}

impl HandlerResult for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send + 'static> HandlerResult for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// A server's client callback: `async fn(StreamReader, StreamWriter)` returning `()` or
/// a `Result` (asyncio's `client_connected_cb`).
///
/// Implemented for every function and closure of that shape; there is nothing to
/// implement by hand. The callback stays generic (not boxed) so that a connection's task
/// holds its future inline: one allocation per connection instead of two.
///
/// # Examples
///
/// ```
/// use aiostreams::{ClientConnected, StreamReader, StreamWriter};
///
/// async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), aiostreams::Error> {
///     let line = reader.readline().await?;
///     writer.write(&line)?;
///     writer.drain().await
/// }
///
/// fn assert_callback(_: impl ClientConnected) {}
/// assert_callback(echo);
/// assert_callback(|_reader, _writer| async {});
/// ```
pub trait ClientConnected:
    Fn(StreamReader, StreamWriter) -> <Self as ClientConnected>::Future + Send + Sync + 'static
{
    /// The callback's future.
    type Future: Future<Output: HandlerResult> + Send + 'static;
}

impl<F, Fut> ClientConnected for F
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output: HandlerResult> + Send + 'static,
{
    type Future = Fut;
}

/// Accepts on one listening socket until it is closed.
pub(crate) async fn accept_loop<H: Serve>(
    core: Arc<Core>,
    slot: Arc<ListenerSlot>,
    handler: Arc<H>,
) {
    loop {
        let permit = match core.connection_limit() {
            Some(sem) => match sem.acquire_owned().await {
                Ok(permit) => Some(permit),
                Err(_) => return,
            },
            None => None,
        };
        match poll_fn(|cx| slot.poll_accept(cx)).await {
            None => return,
            Some(Ok(socket)) => {
                core.counters.accepted();
                match core.ip_slot(&socket) {
                    Ok(ip_slot) => {
                        let admission = Admission::new(permit, ip_slot);
                        tokio::spawn(serve_client(
                            core.clone(),
                            socket,
                            admission,
                            handler.clone(),
                        ));
                    }
                    // Closed at once (nginx's limit_conn for streams); the client sees EOF.
                    Err(ip) => {
                        core.counters.closed(Closed::Limit);
                        tracing::debug!(%ip, "max_connections_per_ip reached; closed");
                    }
                }
            }
            Some(Err(e)) if is_out_of_resources(&e) => {
                tracing::error!(addr = %slot.addr, "socket.accept() out of system resource: {e}");
                drop(permit);
                tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
            }
            Some(Err(e)) => {
                tracing::debug!(addr = %slot.addr, "accept failed, skipped: {e}");
            }
        }
    }
}

/// The accept errors asyncio backs off on: EMFILE, ENFILE, ENOBUFS, ENOMEM (each
/// platform's own numbers: ENOBUFS is 105 on Linux, 55 on macOS and the BSDs).
fn is_out_of_resources(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    if let Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) = e.raw_os_error() {
        return true;
    }
    e.kind() == std::io::ErrorKind::OutOfMemory
}

/// Runs the callback for one client; an error or a panic is logged and the connection
/// closed, and the server goes on (asyncio 3.12.1+).
///
/// Two steps in one enum, not one `async fn`, to keep an idle connection's task small:
/// an `async fn` keeps its arguments (the socket, the admission...) for its whole life
/// and lays its locals around them, which made the task 768 bytes where the callback's
/// future and two pointers are all a served client needs.
fn serve_client<H: Serve>(
    core: Arc<Core>,
    socket: Socket,
    admission: Admission,
    handler: Arc<H>,
) -> Connection<impl Future<Output = Option<Serving<H::Future>>>, H::Future> {
    Connection::Setup {
        setup: setup(core, socket, admission, handler),
    }
}

/// Prepares the socket (PROXY header, TLS handshake), builds the connection and starts
/// the callback; `None` when the connection ended before.
async fn setup<H: Serve>(
    core: Arc<Core>,
    socket: Socket,
    admission: Admission,
    handler: Arc<H>,
) -> Option<Serving<H::Future>> {
    let socket = match core.prepare(socket) {
        Ok(socket) => socket,
        Err(e) => return refused(&core, &e.into(), "accepted socket unusable"),
    };
    // Boxed: only connections behind a proxy carry the read's state.
    let (socket, proxied) = match core.options.proxy.policy {
        None => (socket, None),
        Some(_) => match Box::pin(accept_proxy(&core, socket)).await {
            Ok(accepted) => accepted,
            Err(e) => return refused(&core, &e, "PROXY protocol header refused"),
        },
    };
    // Boxed: the handshake's state is large, and a plain connection's task should not
    // carry it (idle memory per connection).
    #[cfg(feature = "tls")]
    let socket = match core.options.ssl.is_some() {
        true => match Box::pin(tls_accept(&core, socket)).await {
            Ok(socket) => socket,
            // Failed handshakes are the client's business (an internet server sees
            // them all day): DEBUG. A timeout gets a target of its own, so that a
            // server's log can show the connections its time limits closed.
            Err(e @ crate::Error::Tls(crate::tls::TlsError::HandshakeTimeout(_))) => {
                tracing::debug!(target: "aiostreams::timeout", "TLS handshake closed: {e}");
                return refused(&core, &e, "TLS handshake failed");
            }
            Err(e) => return refused(&core, &e, "TLS handshake failed"),
        },
        false => socket,
    };
    let id = core.next_id();
    let builder = Transport::builder(socket)
        .proxied(proxied)
        .on_lost(core.on_lost(id, admission))
        .timeouts(core.options.timeouts);
    #[cfg(feature = "tls")]
    let builder = builder.ssl_shutdown_timeout(core.options.tls_timeouts.with_defaults().shutdown);
    let (inner, wired) = match handler.wire(builder, core.options.limit) {
        Ok(wired) => wired,
        Err(panic) => {
            tracing::error!(
                "Unhandled exception in protocol_factory: panicked: {}",
                panic_message(&*panic)
            );
            return None;
        }
    };
    if !core.track(id, &inner) {
        tracing::debug!("server closed before the connection's task ran; closed");
        return None;
    }
    // A callback that panics before returning its future is reported like one whose
    // future panics, and its connection closed (asyncio gh-155941).
    let made = handler.run(wired);
    let span = connection_span(&inner);
    Some(Serving {
        callback: CatchPanic::new(made, span),
        // Weakly: only to count how the connection ended.
        server: Arc::downgrade(&core),
        inner,
    })
}

pin_project_lite::pin_project! {
    /// A client's task: setting up, then serving.
    #[project = ConnectionProj]
    enum Connection<S, F> {
        Setup { #[pin] setup: S },
        Serving { #[pin] serving: Serving<F> },
        Done,
    }
}

impl<S, F> Future for Connection<S, F>
where
    S: Future<Output = Option<Serving<F>>>,
    F: Future<Output: HandlerResult>,
{
    type Output = ();

    /// A served connection's poll is its callback's, the setup out of line: a
    /// request/response connection polls its task once per request, and the loop over
    /// the three states (with the setup's inlined) cost 15-20 instructions more per poll
    /// (callgrind).
    #[inline]
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if let ConnectionProj::Serving { serving } = self.as_mut().project() {
            std::task::ready!(serving.poll(cx));
            self.set(Connection::Done);
            return Poll::Ready(());
        }
        self.poll_setup(cx)
    }
}

impl<S, F> Connection<S, F>
where
    S: Future<Output = Option<Serving<F>>>,
    F: Future<Output: HandlerResult>,
{
    /// [`Connection::poll`] before the callback runs, or after the connection ended.
    #[inline(never)]
    fn poll_setup(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let serving = match self.as_mut().project() {
            ConnectionProj::Setup { setup } => std::task::ready!(setup.poll(cx)),
            // (`Serving` never gets here: `poll` polls it.)
            ConnectionProj::Serving { .. } | ConnectionProj::Done => return Poll::Ready(()),
        };
        let Some(serving) = serving else {
            self.set(Connection::Done);
            return Poll::Ready(());
        };
        self.set(Connection::Serving { serving });
        self.poll(cx)
    }
}

pin_project_lite::pin_project! {
    /// A served client: its callback's future, the connection and the server.
    struct Serving<F> {
        #[pin]
        callback: CatchPanic<F>,
        inner: Arc<Inner>,
        server: Weak<Core>,
    }
}

impl<F: Future<Output: HandlerResult>> Future for Serving<F> {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let this = self.project();
        let own_task = this.inner.enter_own_task();
        let poll = this.callback.poll(cx);
        drop(own_task);
        let outcome = std::task::ready!(poll);
        served(outcome, this.inner, this.server);
        Poll::Ready(())
    }
}

/// The callback ended: its error or panic is logged and counted, the connection closed.
fn served(outcome: Result<Result<(), BoxError>, Panic>, inner: &Arc<Inner>, server: &Weak<Core>) {
    let peer = inner.peername();
    let peer = peer.map(ToString::to_string).unwrap_or_default();
    let closed = match outcome {
        Ok(Ok(())) => return,
        // A time limit the server itself set (read, write, idle timeout) is no bug.
        Ok(Err(e)) if is_timeout(&*e) => {
            tracing::info!(peer, "connection closed: {e}");
            Closed::of(&*e)
        }
        Ok(Err(e)) => {
            tracing::error!(peer, "Unhandled exception in client_connected_cb: {e}");
            Closed::of(&*e)
        }
        Err(panic) => {
            tracing::error!(
                peer,
                "Unhandled exception in client_connected_cb: panicked: {}",
                panic_message(&*panic)
            );
            Closed::Error
        }
    };
    if let Some(core) = server.upgrade() {
        core.counters.closed(closed);
    }
    inner.close();
}

/// A connection that ended before its callback ran: counted and logged (at debug: an
/// internet server sees failed handshakes all day).
fn refused<T>(core: &Core, err: &crate::Error, what: &str) -> Option<T> {
    core.counters.closed(Closed::of(err));
    tracing::debug!("{what}: {err}");
    None
}

/// The connection's `tracing` span (`connection`, with its peer), entered whenever its
/// callback runs; boxed, and only made when a subscriber wants it (DEBUG level), so a
/// connection without one pays a null pointer and no per-poll work.
fn connection_span(inner: &Inner) -> Option<Box<tracing::Span>> {
    let span = tracing::debug_span!("connection", peer = %DisplayPeer(inner.peername()));
    (!span.is_disabled()).then(|| Box::new(span))
}

/// A peer name for logs: the address, or empty.
struct DisplayPeer<'a>(Option<&'a crate::SocketAddress>);

impl std::fmt::Display for DisplayPeer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(peer) => peer.fmt(f),
            None => Ok(()),
        }
    }
}

/// Reads the PROXY protocol header when the server expects one.
async fn accept_proxy(
    core: &Core,
    mut socket: Socket,
) -> Result<(Socket, Option<ProxyHeader>), crate::Error> {
    let settings = core.options.proxy;
    let Some(policy) = settings.policy else {
        return Ok((socket, None));
    };
    let Socket::Tcp(stream) = &mut socket else {
        return Err(crate::Error::ProxyProtocol("PROXY protocol is TCP only"));
    };
    let header = crate::proxy::read_header(stream, policy, settings.timeout).await?;
    Ok((socket, header))
}

/// The server side of the TLS handshake, in the client's own task.
#[cfg(feature = "tls")]
async fn tls_accept(core: &Core, socket: Socket) -> Result<Socket, crate::Error> {
    let Some(config) = &core.options.ssl else {
        return Ok(socket);
    };
    let timeout = core.options.tls_timeouts.with_defaults().handshake;
    crate::tls::wrap(socket, crate::tls::Side::Server(config.clone()), timeout).await
}

/// The handler gave up with one of the connection's time limits.
fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let ours = e.downcast_ref::<crate::Error>().or_else(|| {
        e.downcast_ref::<std::io::Error>()?
            .get_ref()?
            .downcast_ref()
    });
    matches!(ours, Some(crate::Error::TimedOut { .. }))
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)")
}

pin_project_lite::pin_project! {
    /// Runs the callback's future, turning a panic (also one raised while making it)
    /// into an error value.
    struct CatchPanic<F> {
        #[pin]
        fut: Option<F>,
        panic: Option<Panic>,
        span: Option<Box<tracing::Span>>,
    }
}

impl<F> CatchPanic<F> {
    fn new(made: Result<F, Panic>, span: Option<Box<tracing::Span>>) -> Self {
        match made {
            Ok(fut) => CatchPanic {
                fut: Some(fut),
                panic: None,
                span,
            },
            Err(panic) => CatchPanic {
                fut: None,
                panic: Some(panic),
                span,
            },
        }
    }
}

impl<F: Future<Output: HandlerResult>> Future for CatchPanic<F> {
    type Output = Result<Result<(), BoxError>, Panic>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(fut) = this.fut.as_pin_mut() else {
            let panic = this
                .panic
                .take()
                .expect("CatchPanic polled after completion");
            return Poll::Ready(Err(panic));
        };
        let _entered = this.span.as_deref().map(tracing::Span::enter);
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output.into_result())),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::is_out_of_resources;
    use std::io::Error;

    #[test]
    fn backs_off_on_the_platforms_resource_errnos_only() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
            assert!(
                is_out_of_resources(&Error::from_raw_os_error(errno)),
                "{errno}"
            );
        }
        for errno in [libc::ECONNABORTED, libc::EINTR, libc::EPROTO] {
            assert!(
                !is_out_of_resources(&Error::from_raw_os_error(errno)),
                "{errno}"
            );
        }
    }
}
