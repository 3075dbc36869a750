//! `StreamWriter::start_tls()`: upgrade a plain connection to TLS in place (STARTTLS).

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::ServerName;

use super::{Side, TlsConfig};
use crate::net::TlsTimeouts;
use crate::{Error, StreamReader, StreamWriter};

impl From<Arc<ClientConfig>> for TlsConfig {
    fn from(config: Arc<ClientConfig>) -> Self {
        TlsConfig::Client(config)
    }
}

impl From<Arc<ServerConfig>> for TlsConfig {
    fn from(config: Arc<ServerConfig>) -> Self {
        TlsConfig::Server(config)
    }
}

impl StreamWriter {
    /// Upgrades this connection to TLS; `reader` and `self` then read and write through
    /// the TLS session.
    ///
    /// asyncio 3.11: `await writer.start_tls(sslcontext, server_hostname=...)`. The side
    /// comes from the configuration: a [`ClientConfig`] makes us the TLS client (then
    /// `server_hostname` names the server to verify), a [`ServerConfig`] the server.
    /// The reader is passed in because its buffer matters, and borrowing it guarantees no
    /// read runs during the handshake:
    ///
    /// - server side, bytes already in the reader's buffer (a ClientHello pipelined
    ///   after the `STARTTLS` line) become the start of the TLS input (asyncio's 2026 fix);
    /// - client side, unread bytes in the reader's buffer are plaintext the server sent
    ///   before the upgrade: they are refused rather than ever read as if they came over
    ///   TLS (the STARTTLS injection attack).
    ///
    /// It drains first, and queued plaintext is sent before the handshake starts.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidState`] if the connection is already TLS, or (client side) if
    ///   plaintext is buffered in the reader;
    /// - [`Error::InvalidArgument`] without a valid `server_hostname` on the client side;
    /// - [`Error::Tls`] for certificate and protocol failures and
    ///   [`TlsError::HandshakeTimeout`](crate::tls::TlsError::HandshakeTimeout) after 60 s; the connection is then aborted.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future mid-handshake leaves the connection unusable;
    /// it is aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # // A private CA and a certificate for localhost, as PEM files, and roots trusting the CA.
    /// # let ca_key = rcgen::KeyPair::generate()?;
    /// # let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    /// # ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    /// # let ca_cert = ca_params.self_signed(&ca_key)?;
    /// # let ca = rcgen::Issuer::new(ca_params, ca_key);
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])?.signed_by(&key, &ca)?;
    /// # let dir = tempfile::tempdir()?;
    /// # let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    /// # std::fs::write(&cert_pem, cert.pem())?;
    /// # std::fs::write(&key_pem, key.serialize_pem())?;
    /// # let mut roots = aiostreams::tls::rustls::RootCertStore::empty();
    /// # roots.add(ca_cert.der().clone())?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use std::sync::Arc;
    ///
    /// use aiostreams::{StreamReader, StreamWriter, open_connection, start_server, tls};
    ///
    /// // A plaintext protocol that upgrades on request (SMTP's STARTTLS, say).
    /// let server_config = tls::server_config_from_pem(&cert_pem, &key_pem)?;
    /// let server = start_server(
    ///     move |mut reader: StreamReader, writer: StreamWriter| {
    ///         let config = server_config.clone();
    ///         async move {
    ///             assert_eq!(reader.readline().await?, "STARTTLS\n");
    ///             writer.write(b"OK\n")?;
    ///             writer.drain().await?;
    ///             writer.start_tls(&mut reader, config, None).await?;
    ///             let line = reader.readline().await?; // decrypted
    ///             writer.write(&line)?;
    ///             writer.drain().await
    ///         }
    ///     },
    ///     "127.0.0.1",
    ///     0,
    /// )
    /// .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    ///
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// writer.write(b"STARTTLS\n")?;
    /// assert_eq!(reader.readline().await?, "OK\n");
    /// let client_config = Arc::new(tls::client_config_with_roots(roots)?);
    /// writer.start_tls(&mut reader, client_config, Some("localhost")).await?;
    /// writer.write(b"now encrypted\n")?;
    /// assert_eq!(reader.readline().await?, "now encrypted\n");
    /// assert!(writer.transport().tls_info().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub async fn start_tls(
        &self,
        reader: &mut StreamReader,
        config: impl Into<TlsConfig>,
        server_hostname: Option<&str>,
    ) -> Result<(), Error> {
        self.start_tls_with_timeouts(reader, config, server_hostname, None, None)
            .await
    }

    /// [`start_tls`](Self::start_tls) with asyncio's `ssl_handshake_timeout` (default
    /// 60 s) and `ssl_shutdown_timeout` (default 30 s) keywords.
    ///
    /// # Errors
    ///
    /// As [`start_tls`](Self::start_tls), plus [`Error::InvalidArgument`] for a zero
    /// timeout (`"... should be a positive number"`).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe, as [`start_tls`](Self::start_tls).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # // A private CA and a certificate for localhost, as PEM files, and roots trusting the CA.
    /// # let ca_key = rcgen::KeyPair::generate()?;
    /// # let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    /// # ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    /// # let ca_cert = ca_params.self_signed(&ca_key)?;
    /// # let ca = rcgen::Issuer::new(ca_params, ca_key);
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])?.signed_by(&key, &ca)?;
    /// # let dir = tempfile::tempdir()?;
    /// # let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    /// # std::fs::write(&cert_pem, cert.pem())?;
    /// # std::fs::write(&key_pem, key.serialize_pem())?;
    /// # let mut roots = aiostreams::tls::rustls::RootCertStore::empty();
    /// # roots.add(ca_cert.der().clone())?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// use std::{sync::Arc, time::Duration};
    ///
    /// use aiostreams::{StreamReader, StreamWriter, open_connection, start_server, tls};
    ///
    /// let server_config = tls::server_config_from_pem(&cert_pem, &key_pem)?;
    /// let server = start_server(
    ///     move |mut reader: StreamReader, writer: StreamWriter| {
    ///         let config = server_config.clone();
    ///         async move { writer.start_tls(&mut reader, config, None).await }
    ///     },
    ///     "127.0.0.1",
    ///     0,
    /// )
    /// .await?;
    /// let port = server.sockets()[0].as_inet().unwrap().port();
    /// let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    /// let config = Arc::new(tls::client_config_with_roots(roots)?);
    /// writer
    ///     .start_tls_with_timeouts(
    ///         &mut reader,
    ///         config,
    ///         Some("localhost"),
    ///         Some(Duration::from_secs(10)), // the handshake
    ///         Some(Duration::from_secs(2)),  // close_notify on close()
    ///     )
    ///     .await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub async fn start_tls_with_timeouts(
        &self,
        reader: &mut StreamReader,
        config: impl Into<TlsConfig>,
        server_hostname: Option<&str>,
        ssl_handshake_timeout: Option<Duration>,
        ssl_shutdown_timeout: Option<Duration>,
    ) -> Result<(), Error> {
        let timeouts = TlsTimeouts {
            handshake: ssl_handshake_timeout,
            shutdown: ssl_shutdown_timeout,
        }
        .check(true)?;
        let side = match config.into() {
            TlsConfig::Client(config) => {
                let name = server_hostname
                    .filter(|n| !n.is_empty())
                    .and_then(|n| ServerName::try_from(n.to_owned()).ok())
                    .ok_or(Error::InvalidArgument(
                        "start_tls needs a valid server_hostname on the client side",
                    ))?;
                Side::Client(config, name)
            }
            TlsConfig::Server(config) => Side::Server(config),
        };
        self.drain().await?;
        let transport = self.transport();
        let mut waited = false;
        poll_fn(|cx| transport.poll_drain(cx, &mut waited, true)).await?;
        if transport.is_tls() {
            return Err(Error::InvalidState(
                "start_tls: the connection is already TLS",
            ));
        }
        let prefix = match side {
            Side::Server(_) => reader.take_buffered(),
            Side::Client(..) if !reader.buffer_is_empty() => {
                return Err(Error::InvalidState(
                    "start_tls: plaintext arrived before the TLS upgrade",
                ));
            }
            Side::Client(..) => bytes::BytesMut::new(),
        };
        transport.upgrade_tls(side, prefix, timeouts).await
    }
}
