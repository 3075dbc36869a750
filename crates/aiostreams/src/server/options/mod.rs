//! [`ServerOptions`]: asyncio's `start_server` keywords, as a builder.
//!
//! This file holds the options themselves; their builder methods are grouped by concept:
//!
//! - [`new`]: asyncio's defaults;
//! - [`socket`]: the listening and accepted sockets (family, backlog, address reuse, the
//!   listeners per address, TCP options, the Unix socket file);
//! - [`limits`]: the reader's limit and the connection limits (admission);
//! - [`lifecycle`]: serving at once, the graceful close's linger, the shutdown signal;
//! - [`timeouts`]: the read, write and idle timeouts of accepted connections;
//! - [`tls`]: serving TLS and its handshake and shutdown timeouts.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::net::Family;
use crate::transport::Timeouts;

// rustdoc lists the methods in the order of these modules: the constructor first.
mod new;

mod socket;

mod limits;

mod lifecycle;

mod timeouts;

mod tls;

/// The default listen backlog: the largest value older kernels store (Go's cap too);
/// `listen()` clamps it to `net.core.somaxconn`, so it asks for the system's maximum.
const DEFAULT_BACKLOG: u32 = 65_535;

/// How long a graceful close lingers at most (see [`ServerOptions::linger`]).
pub const DEFAULT_LINGER: Duration = Duration::from_secs(2);

/// asyncio's `start_server`/`start_unix_server` keywords, plus a few of our own.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::{ServerOptions, StreamReader, StreamWriter};
/// let server = ServerOptions::new()
///     .backlog(512)
///     .max_connections(10_000)
///     .start_server(|_r: StreamReader, _w: StreamWriter| async {}, "127.0.0.1", 0)
///     .await?;
/// assert!(server.is_serving());
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "options do nothing until `start_server` (or another start method) is awaited"]
pub struct ServerOptions {
    pub(crate) limit: usize,
    pub(crate) family: Family,
    pub(crate) backlog: u32,
    pub(crate) reuse_address: bool,
    pub(crate) reuse_port: bool,
    pub(crate) keep_alive: bool,
    pub(crate) start_serving: bool,
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_connections_per_ip: Option<usize>,
    pub(crate) linger: Duration,
    pub(crate) listeners_per_address: usize,
    pub(crate) nodelay: bool,
    pub(crate) cleanup_socket: bool,
    /// PROXY protocol on accept (off by default; `proxy/mod.rs`).
    pub(crate) proxy: crate::proxy::ProxySettings,
    /// Keepalive parameters (accepted connections) and the hook (listening sockets).
    pub(crate) tuning: crate::net::Tuning,
    pub(crate) timeouts: Timeouts,
    /// The shutdown signal of the server these options start; moved into the `Server`
    /// at start, and a fresh one for every clone (see `Clone`).
    pub(crate) shutdown: CancellationToken,
    #[cfg(feature = "tls")]
    pub(crate) ssl: Option<std::sync::Arc<rustls::ServerConfig>>,
    #[cfg(feature = "tls")]
    pub(crate) tls_timeouts: crate::net::TlsTimeouts,
}

/// A clone is the same keywords for another server: it gets its own shutdown signal, so
/// closing one server never cancels the handlers of another started from a clone.
impl Clone for ServerOptions {
    fn clone(&self) -> Self {
        ServerOptions {
            limit: self.limit,
            family: self.family,
            backlog: self.backlog,
            reuse_address: self.reuse_address,
            reuse_port: self.reuse_port,
            keep_alive: self.keep_alive,
            start_serving: self.start_serving,
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            linger: self.linger,
            listeners_per_address: self.listeners_per_address,
            nodelay: self.nodelay,
            cleanup_socket: self.cleanup_socket,
            proxy: self.proxy,
            tuning: self.tuning.clone(),
            timeouts: self.timeouts,
            shutdown: CancellationToken::new(),
            #[cfg(feature = "tls")]
            ssl: self.ssl.clone(),
            #[cfg(feature = "tls")]
            tls_timeouts: self.tls_timeouts,
        }
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self::new()
    }
}
