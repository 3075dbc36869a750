//! [`Builder`]: a connection wired whole, once.

use std::sync::Arc;
use std::time::Duration;

use super::events::Events;
use super::extra::Extra;
use super::inner::Inner;
use super::io::Socket;
use super::linger::OnLost;
use super::source::TransportSource;
use super::state::{ConnState, DEFAULT_SSL_SHUTDOWN_TIMEOUT};
use super::{Handle, SocketAddress, Timeouts, Transport};
use crate::reader::shared::Shared;
use crate::reader::timer::ReadTimer;
use crate::{Feeder, PeerCredentials, ProxyHeader, StreamReader, StreamWriter};

/// Everything a connection holds besides its state, given before it exists: the socket,
/// the reader it feeds on loss, the protocol's event queue, the server's loss hook and
/// the TLS close timeout.
///
/// ```text
/// Transport::builder(socket)       // TCP, Unix or TLS, connected
///     .on_lost(hook)               // server: count the connection until it ends
///     .timeouts(t)                 // read / write / idle limits
///     .ssl_shutdown_timeout(t)     // TLS: how long close() may take (30 s)
///     .streams(limit)              // open_connection / start_server: (reader, writer)
/// Transport::builder(socket).events().feeds(reader).build()   // protocol layer
/// ```
#[must_use]
pub(crate) struct Builder {
    socket: Socket,
    feeds: Option<Feeder>,
    events: bool,
    on_lost: Option<Arc<dyn OnLost>>,
    ssl_shutdown_timeout: Duration,
    proxied: Option<ProxyHeader>,
    timeouts: Timeouts,
}

impl Transport {
    /// Starts wiring a connection over a connected socket.
    pub(crate) fn builder(socket: Socket) -> Builder {
        Builder {
            socket,
            feeds: None,
            events: false,
            on_lost: None,
            ssl_shutdown_timeout: DEFAULT_SSL_SHUTDOWN_TIMEOUT,
            proxied: None,
            timeouts: Timeouts::default(),
        }
    }
}

impl Builder {
    /// The protocol layer: queue `pause_writing`, `resume_writing` and `connection_lost`
    /// for the task that drives the protocol.
    pub(crate) fn events(mut self) -> Self {
        self.events = true;
        self
    }

    /// Feed this reader EOF or the error the moment the connection ends (a
    /// `StreamReaderProtocol`'s reader), and send at once only when it is drained.
    pub(crate) fn feeds(mut self, reader: Option<Feeder>) -> Self {
        self.feeds = reader;
        self
    }

    /// Tell `hook` once the connection is over; a graceful close lingers as it says.
    pub(crate) fn on_lost(mut self, hook: Arc<dyn OnLost>) -> Self {
        self.on_lost = Some(hook);
        self
    }

    /// How long a TLS `close()` may take to send close_notify (asyncio's
    /// `ssl_shutdown_timeout`, 30 s).
    #[cfg(feature = "tls")]
    pub(crate) fn ssl_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.ssl_shutdown_timeout = timeout;
        self
    }

    /// The connection came through a proxy that sent this PROXY protocol header: its
    /// source becomes the peer name, the socket's peer the proxy's.
    pub(crate) fn proxied(mut self, header: Option<ProxyHeader>) -> Self {
        self.proxied = header;
        self
    }

    /// The connection's time limits.
    pub(crate) fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The protocol driver's timer: the read timeout bounds each wait for bytes.
    pub(crate) fn protocol_timer(&self) -> ReadTimer {
        ReadTimer::new(self.timeouts.read, false)
    }

    /// The transport; the caller must be inside a tokio runtime.
    pub(crate) fn build(self) -> Transport {
        let mut extra = extra_of(&self.socket);
        if let Some(header) = self.proxied {
            extra.proxied(header);
        }
        let mut conn = ConnState::new(self.socket.is_tls(), self.ssl_shutdown_timeout);
        conn.set_write_timeout(self.timeouts.write);
        let events = self.events.then(Box::<Events>::default);
        let inner = Arc::new(Inner::new(
            self.socket,
            conn,
            self.feeds,
            events,
            self.on_lost,
            extra,
        ));
        if self.timeouts.idle.is_some() {
            inner.set_idle_timeout(self.timeouts.idle);
        }
        Transport {
            handle: Arc::new(Handle { inner }),
        }
    }

    /// The stream pair of `open_connection` and `start_server` (no protocol in between):
    /// a reader with `limit` that pulls from the socket itself and is fed the
    /// connection's loss, and a writer over the transport.
    pub(crate) fn streams(mut self, limit: usize) -> (StreamReader, StreamWriter) {
        let shared = Arc::<Shared>::default();
        self.feeds = Some(Feeder::new(shared.clone()));
        let timer = ReadTimer::new(self.timeouts.read, self.timeouts.idle.is_some());
        let transport = self.build();
        let source = TransportSource::new(transport.inner().clone(), timer);
        let reader = StreamReader::build_with(limit, Some(Box::new(source)), shared);
        let writer = StreamWriter::new(transport, Some(reader.feeder()));
        (reader, writer)
    }
}

fn extra_of(socket: &Socket) -> Extra {
    match socket {
        #[cfg(feature = "tls")]
        Socket::Tls(tls) => extra_of(tls.raw()),
        Socket::Io(_) => Extra::default(),
        Socket::Tcp(s) => Extra {
            peername: s.peer_addr().ok().map(SocketAddress::Inet),
            sockname: s.local_addr().ok().map(SocketAddress::Inet),
            peer_credentials: None,
            proxy: None,
        },
        #[cfg(unix)]
        Socket::Unix(s) => Extra {
            peername: s
                .peer_addr()
                .ok()
                .map(|a| SocketAddress::Unix(Box::new(a.into()))),
            sockname: s
                .local_addr()
                .ok()
                .map(|a| SocketAddress::Unix(Box::new(a.into()))),
            peer_credentials: s.peer_cred().ok().map(|c| PeerCredentials {
                pid: c.pid(),
                uid: c.uid(),
                gid: c.gid(),
            }),
            proxy: None,
        },
    }
}
