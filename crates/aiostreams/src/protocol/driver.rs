//! The task that reads a transport and calls its [`Protocol`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::task::JoinHandle;

use super::Protocol;
use crate::connect::tcp::connect_tcp;
use crate::connect::{ConnectOptions, Entry};
use crate::reader::source::Source;
use crate::reader::timer::{ReadTimer, Timed};
use crate::transport::inner::Inner;
use crate::transport::io::Socket;
use crate::transport::source::TransportSource;
use crate::transport::{Builder, Event};
use crate::{Error, Transport};

/// Read size per `data_received` call.
const CHUNK: usize = 64 * 1024;

/// Reads in a row before the driver yields to other tasks.
const READS_PER_TURN: usize = 16;

/// The task driving a protocol; awaiting it gives the protocol back once
/// `connection_lost` has run.
pub type ProtocolTask<P> = JoinHandle<P>;

/// Connects to `host:port` and drives a protocol made by `factory` on a new task.
///
/// asyncio: `await loop.create_connection(protocol_factory, host, port)`. Returns once
/// `connection_made` has run, with the transport and the task, which yields the protocol
/// back after `connection_lost`.
///
/// # Errors
///
/// As [`open_connection`](crate::open_connection).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no connection open.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), aiostreams::Error> {
/// # let server = aiostreams::start_server(
/// #     |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
/// #         while let Ok(line) = r.readline().await {
/// #             if line.is_empty() || w.write(&line).is_err() { break; }
/// #         }
/// #     },
/// #     "127.0.0.1", 0).await?;
/// # let port = server.sockets()[0].as_inet().unwrap().port();
/// use aiostreams::{Bytes, Error, Protocol, Transport, create_connection};
///
/// /// Counts the bytes it receives, as an asyncio Protocol would.
/// #[derive(Default)]
/// struct Counter {
///     received: usize,
///     transport: Option<Transport>,
/// }
///
/// impl Protocol for Counter {
///     fn connection_made(&mut self, transport: Transport) {
///         transport.write(b"twelve bytes").unwrap();
///         transport.write(b"\n").unwrap();
///         self.transport = Some(transport);
///     }
///     fn data_received(&mut self, data: Bytes) {
///         self.received += data.len();
///         if self.received == 13 {
///             self.transport.take().unwrap().close(); // all echoed back
///         }
///     }
///     fn connection_lost(&mut self, exc: Option<Error>) {
///         assert!(exc.is_none());
///     }
/// }
///
/// let (_transport, task) = create_connection(Counter::default, "127.0.0.1", port).await?;
/// let counter = task.await.unwrap(); // after connection_lost
/// assert_eq!(counter.received, 13);
/// # Ok(())
/// # }
/// ```
pub async fn create_connection<P: Protocol>(
    factory: impl FnOnce() -> P,
    host: &str,
    port: u16,
) -> Result<(Transport, ProtocolTask<P>), Error> {
    create_connection_with(factory, host, port, &ConnectOptions::new()).await
}

/// [`create_connection`] with options: addressing, socket options, `connect_timeout`
/// and TLS (asyncio's `ssl=`, `server_hostname=`, `ssl_handshake_timeout=`,
/// `ssl_shutdown_timeout=`). The protocol is made once the connection (and its TLS
/// handshake) is up, as asyncio does.
///
/// # Errors
///
/// As [`ConnectOptions::connect`](crate::ConnectOptions::connect), plus
/// [`Error::InvalidArgument`] when a `limit` was set: the protocol gets the bytes, so
/// the limit belongs to the [`StreamReader`](crate::StreamReader) it may feed.
///
/// The connection's time limits apply: `read_timeout` bounds each wait for bytes (the
/// clock restarts with every `data_received`, Netty's `ReadTimeoutHandler`),
/// `idle_timeout` the time with no byte in either direction, `write_timeout` the
/// queue; when one runs out the connection is lost and the protocol's
/// `connection_lost` gets [`Error::TimedOut`] (a fed `StreamReader` raises it).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call leaves no connection open.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), aiostreams::Error> {
/// # let server = aiostreams::start_server(
/// #     |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
/// #         while let Ok(line) = r.readline().await {
/// #             if line.is_empty() || w.write(&line).is_err() { break; }
/// #         }
/// #     },
/// #     "127.0.0.1", 0).await?;
/// # let port = server.sockets()[0].as_inet().unwrap().port();
/// use std::time::Duration;
///
/// use aiostreams::{ConnectOptions, Protocol, create_connection_with};
///
/// struct Quiet;
/// impl Protocol for Quiet {}
///
/// let options = ConnectOptions::new().connect_timeout(Duration::from_secs(5));
/// let (transport, task) = create_connection_with(|| Quiet, "127.0.0.1", port, &options).await?;
/// transport.close();
/// task.await.unwrap();
/// # Ok(())
/// # }
/// ```
pub async fn create_connection_with<P: Protocol>(
    factory: impl FnOnce() -> P,
    host: &str,
    port: u16,
    options: &ConnectOptions,
) -> Result<(Transport, ProtocolTask<P>), Error> {
    options.refuse_unused(Entry::Protocol)?;
    #[cfg(feature = "tls")]
    let tls = options.tls.prepare(Some(host))?;
    let socket = Socket::Tcp(connect_tcp(host, port, options.tcp()).await?);
    #[cfg(feature = "tls")]
    let connection = crate::connect::handshake(socket, tls).await?;
    #[cfg(not(feature = "tls"))]
    let connection = Transport::builder(socket);
    Ok(drive(connection.timeouts(options.timeouts), factory()))
}

/// Finishes wiring a connection for the protocol layer and starts driving `protocol`
/// on it.
pub(crate) fn drive<P: Protocol>(connection: Builder, protocol: P) -> (Transport, ProtocolTask<P>) {
    let (transport, timer) = wire(connection, &protocol);
    let task = tokio::spawn(Driver::start(&transport, protocol, timer));
    (transport, task)
}

/// The protocol layer's transport for `protocol`: events queued for the driver, and the
/// reader it names fed at loss; and the driver's read timer (its `read_timeout`).
pub(crate) fn wire<P: Protocol>(connection: Builder, protocol: &P) -> (Transport, ReadTimer) {
    let timer = connection.protocol_timer();
    let transport = connection.events().feeds(protocol.stream_reader()).build();
    (transport, timer)
}

/// The future that drives a protocol on its transport (see [`Driver::start`]).
pub(crate) struct Driver<P> {
    inner: Arc<Inner>,
    source: TransportSource,
    protocol: Option<P>,
    buf: BytesMut,
    eof: bool,
    /// A read timeout is set: each wait for bytes is timed (Netty's `ReadTimeoutHandler`).
    timed: bool,
}

impl<P: Protocol> Driver<P> {
    /// Calls `connection_made`, then returns the future that reads the transport and
    /// calls the protocol until `connection_lost`; it yields the protocol back.
    pub(crate) fn start(transport: &Transport, mut protocol: P, timer: ReadTimer) -> Self {
        let inner = transport.inner().clone();
        protocol.connection_made(transport.clone());
        let timed = timer.mode() != Timed::Off;
        Driver {
            source: TransportSource::new(inner.clone(), timer),
            inner,
            protocol: Some(protocol),
            buf: BytesMut::new(),
            eof: false,
            timed,
        }
    }

    /// No byte came for the read timeout: the connection is lost with the error
    /// (`connection_lost(TimedOut)` follows as an event). `Pending` while in time.
    fn poll_read_timeout(
        source: &mut TransportSource,
        inner: &Inner,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        // Every wait is inside a record as far as the timer knows: the clock runs
        // from the wait's start, and each `data_received` starts a new one.
        let err = std::task::ready!(source.poll_timeout(cx, true));
        tracing::debug!(peer = ?inner.peername(), "{err}: closing");
        inner.timed_out(err);
        Poll::Ready(())
    }
}

// The protocol is never pinned: it is only reached through `&mut` and moved out at the end.
impl<P> Unpin for Driver<P> {}

impl<P: Protocol> Future for Driver<P> {
    type Output = P;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<P> {
        let this = self.get_mut();
        let Some(events) = this.inner.events() else {
            unreachable!("a driven transport is built with events()");
        };
        for _ in 0..READS_PER_TURN {
            while let Poll::Ready(event) = events.poll_next(cx) {
                let Some(mut protocol) = this.protocol.take() else {
                    panic!("polled after completion");
                };
                match event {
                    Event::PauseWriting => protocol.pause_writing(),
                    Event::ResumeWriting => protocol.resume_writing(),
                    Event::ConnectionLost(exc) => {
                        protocol.connection_lost(exc);
                        return Poll::Ready(protocol);
                    }
                }
                this.protocol = Some(protocol);
            }
            if this.eof || this.inner.is_closing() {
                return Poll::Pending;
            }
            match this.source.poll_pull(cx, &mut this.buf, CHUNK) {
                Poll::Pending if !this.timed => return Poll::Pending,
                Poll::Pending if this.inner.is_reading_paused() => {
                    // The protocol paused reading: not the peer's delay. The clock
                    // starts again at the first wait after `resume_reading`.
                    this.source.timer_new_read();
                    return Poll::Pending;
                }
                Poll::Pending => match Self::poll_read_timeout(&mut this.source, &this.inner, cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => continue, // connection_lost is queued
                },
                Poll::Ready(Err(_)) => {} // connection_lost(exc) is queued as an event
                Poll::Ready(Ok(0)) if this.inner.is_closing() => {}
                Poll::Ready(Ok(0)) => {
                    this.eof = true;
                    let protocol = this.protocol.as_mut().expect("polled after completion");
                    if !protocol.eof_received() {
                        this.inner.close();
                    }
                }
                Poll::Ready(Ok(_)) => {
                    if this.timed {
                        this.source.timer_new_read();
                    }
                    let data = this.buf.split().freeze();
                    let protocol = this.protocol.as_mut().expect("polled after completion");
                    protocol.data_received(data);
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
