//! TLS (asyncio's `ssl=`, `ssl_handshake_timeout=`, `ssl_shutdown_timeout=`); every
//! method needs the `tls` feature.

use super::ServerOptions;

impl ServerOptions {
    /// Serve TLS with this rustls configuration (asyncio `ssl=context`); see
    /// [`server_config_from_pem`](crate::tls::server_config_from_pem). The handshake runs
    /// in each client's own task, bounded by `ssl_handshake_timeout`, so a silent client
    /// never holds up the others; the callback runs once it succeeded.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "tls")] fn main() -> Result<(), aiostreams::Error> {
    /// # let dir = tempfile::tempdir()?;
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    /// # std::fs::write(dir.path().join("cert.pem"), cert.cert.pem())?;
    /// # std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem())?;
    /// # let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use aiostreams::{ServerOptions, tls};
    ///
    /// let config = tls::server_config_from_pem(&cert_pem, &key_pem)?;
    /// let server = ServerOptions::new()
    ///     .ssl(config)
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// assert!(server.is_serving());
    /// # Ok(()) })
    /// # }
    /// # #[cfg(not(feature = "tls"))] fn main() {}
    /// ```
    #[cfg(feature = "tls")]
    pub fn ssl(mut self, config: std::sync::Arc<rustls::ServerConfig>) -> Self {
        self.ssl = Some(config);
        self
    }

    /// How long a client's TLS handshake may take (asyncio `ssl_handshake_timeout=`, 60 s).
    ///
    /// The handshake runs in the client's task and holds its
    /// [`max_connections`](Self::max_connections) slot, so this bounds how long silent
    /// TLS clients can keep others out; past it the connection is dropped (logged at
    /// DEBUG on the target `aiostreams::timeout`) and the slot freed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "tls")] fn main() -> Result<(), aiostreams::Error> {
    /// # let dir = tempfile::tempdir()?;
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    /// # std::fs::write(dir.path().join("cert.pem"), cert.cert.pem())?;
    /// # std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem())?;
    /// # let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use std::time::Duration;
    ///
    /// use aiostreams::{ServerOptions, tls};
    ///
    /// let _server = ServerOptions::new()
    ///     .ssl(tls::server_config_from_pem(&cert_pem, &key_pem)?)
    ///     .ssl_handshake_timeout(Duration::from_secs(10))
    ///     .ssl_shutdown_timeout(Duration::from_secs(5))
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await?;
    /// # Ok(()) })
    /// # }
    /// # #[cfg(not(feature = "tls"))] fn main() {}
    /// ```
    #[doc(alias = "handshake_timeout")]
    #[cfg(feature = "tls")]
    pub fn ssl_handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.tls_timeouts.handshake = Some(timeout);
        self
    }

    /// How long a TLS close may take to send close_notify (asyncio
    /// `ssl_shutdown_timeout=`, 30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "tls")] fn main() -> Result<(), aiostreams::Error> {
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use std::time::Duration;
    ///
    /// // Without `ssl`, a TLS timeout is refused, as asyncio refuses it without `ssl=`.
    /// let refused = aiostreams::ServerOptions::new()
    ///     .ssl_shutdown_timeout(Duration::from_secs(5))
    ///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
    ///     .await;
    /// assert!(matches!(refused, Err(aiostreams::Error::InvalidArgument(_))));
    /// # Ok(()) })
    /// # }
    /// # #[cfg(not(feature = "tls"))] fn main() {}
    /// ```
    #[cfg(feature = "tls")]
    pub fn ssl_shutdown_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.tls_timeouts.shutdown = Some(timeout);
        self
    }
}
