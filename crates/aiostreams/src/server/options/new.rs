//! [`ServerOptions::new`]: asyncio's `start_server` defaults.

use tokio_util::sync::CancellationToken;

use super::{DEFAULT_BACKLOG, DEFAULT_LINGER, ServerOptions};
use crate::DEFAULT_LIMIT;
use crate::net::Family;
use crate::transport::Timeouts;

impl ServerOptions {
    /// asyncio's defaults, except the backlog: limit 64 KiB, backlog 65535 (the system's
    /// maximum, as Go; asyncio: 100), SO_REUSEADDR on (Unix), serving at once,
    /// TCP_NODELAY on accepted connections, Unix socket file removed on close. Beyond
    /// asyncio: no connection limit, no per-address limit, a graceful close lingers up
    /// to [`DEFAULT_LINGER`] (2 s).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::ServerOptions;
    ///
    /// let server = ServerOptions::new()
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(server.is_serving());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> Self {
        ServerOptions {
            limit: DEFAULT_LIMIT,
            family: Family::Unspec,
            backlog: DEFAULT_BACKLOG,
            reuse_address: cfg!(unix),
            reuse_port: false,
            keep_alive: false,
            start_serving: true,
            max_connections: None,
            max_connections_per_ip: None,
            linger: DEFAULT_LINGER,
            listeners_per_address: 1,
            nodelay: true,
            cleanup_socket: true,
            proxy: Default::default(),
            tuning: crate::net::Tuning::default(),
            timeouts: Timeouts::default(),
            shutdown: CancellationToken::new(),
            #[cfg(feature = "tls")]
            ssl: None,
            #[cfg(feature = "tls")]
            tls_timeouts: Default::default(),
        }
    }
}
