//! The TLS keywords of `open_connection`: `ssl`, `server_hostname`,
//! `ssl_handshake_timeout`, `ssl_shutdown_timeout`.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls_pki_types::ServerName;

use super::ConnectOptions;
use crate::net::TlsTimeouts;
use crate::tls::{Side, default_client_config, wrap};
use crate::transport::io::Socket;
use crate::transport::{Builder, Timeouts};
use crate::{Error, StreamReader, StreamWriter, Transport};

/// asyncio's `ssl=` keyword: no TLS, `ssl=True`, or `ssl=context`.
#[derive(Clone, Debug, Default)]
enum Ssl {
    /// Plain TCP or Unix (`ssl=None`).
    #[default]
    Off,
    /// Verify with the system trust store (`ssl=True`).
    SystemRoots,
    /// This rustls configuration (`ssl=context`).
    Config(Arc<ClientConfig>),
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ClientTlsOptions {
    ssl: Ssl,
    server_hostname: Option<String>,
    timeouts: TlsTimeouts,
}

/// What a TLS connect needs once the socket is up.
pub(crate) struct Prepared {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    handshake_timeout: Duration,
    shutdown_timeout: Duration,
}

impl ClientTlsOptions {
    /// Validates asyncio's rules before connecting; `None` without TLS.
    pub(crate) fn prepare(&self, host: Option<&str>) -> Result<Option<Prepared>, Error> {
        let config = match &self.ssl {
            Ssl::Off => {
                if self.server_hostname.is_some() {
                    return Err(Error::InvalidArgument(
                        "server_hostname is only meaningful with ssl",
                    ));
                }
                self.timeouts.check(false)?;
                return Ok(None);
            }
            Ssl::SystemRoots => None,
            Ssl::Config(config) => Some(config.clone()),
        };
        let name = match (self.server_hostname.as_deref(), host) {
            (Some(name), _) | (None, Some(name)) if !name.is_empty() => name,
            _ => {
                return Err(Error::InvalidArgument(
                    "You must set server_hostname when using ssl without a host",
                ));
            }
        };
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(name.to_owned()).map_err(|_| {
            Error::InvalidArgument("server_hostname is not a valid DNS name or IP address")
        })?;
        let config = match config {
            Some(config) => config,
            None => default_client_config()?,
        };
        let timeouts = self.timeouts.check(true)?;
        Ok(Some(Prepared {
            config,
            name,
            handshake_timeout: timeouts.handshake,
            shutdown_timeout: timeouts.shutdown,
        }))
    }
}

/// Runs the client handshake (if any) and builds the stream pair.
pub(crate) async fn finish(
    socket: Socket,
    tls: Option<Prepared>,
    timeouts: Timeouts,
    limit: usize,
) -> Result<(StreamReader, StreamWriter), Error> {
    Ok(handshake(socket, tls)
        .await?
        .timeouts(timeouts)
        .streams(limit))
}

/// Runs the client handshake, if any: the connection to build over its socket, with its
/// `ssl_shutdown_timeout`.
pub(crate) async fn handshake(socket: Socket, tls: Option<Prepared>) -> Result<Builder, Error> {
    let Some(tls) = tls else {
        return Ok(Transport::builder(socket));
    };
    let side = Side::Client(tls.config, tls.name);
    let socket = wrap(socket, side, tls.handshake_timeout).await?;
    Ok(Transport::builder(socket).ssl_shutdown_timeout(tls.shutdown_timeout))
}

impl ConnectOptions {
    /// TLS, verifying the server against the system trust store with hostname checks
    /// (asyncio `ssl=True`). The store honours `SSL_CERT_FILE` and `SSL_CERT_DIR`.
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
    /// # let server = aiostreams::ServerOptions::new()
    /// #     .ssl(aiostreams::tls::server_config_from_pem(&cert_pem, &key_pem)?)
    /// #     .start_server(
    /// #         |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
    /// #             while let Ok(line) = r.readline().await {
    /// #                 if line.is_empty() || w.write(&line).is_err() { break; }
    /// #             }
    /// #         },
    /// #         "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// use aiostreams::{ConnectOptions, Error};
    ///
    /// // asyncio's ssl=True: the system's trust store. Our test CA is not in it, so the
    /// // server's certificate is refused (or the machine has no store at all).
    /// let refused = ConnectOptions::new()
    ///     .ssl()
    ///     .server_hostname("localhost")
    ///     .connect("127.0.0.1", port)
    ///     .await;
    /// assert!(matches!(refused, Err(Error::Tls(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub fn ssl(mut self) -> Self {
        self.tls.ssl = Ssl::SystemRoots;
        self
    }

    /// TLS with this rustls client configuration (asyncio `ssl=context`).
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
    /// # let server = aiostreams::ServerOptions::new()
    /// #     .ssl(aiostreams::tls::server_config_from_pem(&cert_pem, &key_pem)?)
    /// #     .start_server(
    /// #         |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
    /// #             while let Ok(line) = r.readline().await {
    /// #                 if line.is_empty() || w.write(&line).is_err() { break; }
    /// #             }
    /// #         },
    /// #         "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// use std::sync::Arc;
    ///
    /// use aiostreams::{ConnectOptions, tls};
    ///
    /// let config = Arc::new(tls::client_config_with_roots(roots)?);
    /// let (mut reader, writer) = ConnectOptions::new()
    ///     .ssl_config(config)
    ///     .server_hostname("localhost") // the certificate's name; we dial an address
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// writer.write(b"secret\n")?;
    /// assert_eq!(reader.readline().await?, "secret\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub fn ssl_config(mut self, config: Arc<ClientConfig>) -> Self {
        self.tls.ssl = Ssl::Config(config);
        self
    }

    /// The name to verify and send as SNI instead of the host (asyncio
    /// `server_hostname=`); required with `connect_sock` and Unix sockets.
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
    /// # let server = aiostreams::ServerOptions::new()
    /// #     .ssl(aiostreams::tls::server_config_from_pem(&cert_pem, &key_pem)?)
    /// #     .start_server(
    /// #         |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
    /// #             while let Ok(line) = r.readline().await {
    /// #                 if line.is_empty() || w.write(&line).is_err() { break; }
    /// #             }
    /// #         },
    /// #         "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// use std::sync::Arc;
    ///
    /// use aiostreams::{ConnectOptions, Error, tls::TlsError};
    ///
    /// let config = Arc::new(aiostreams::tls::client_config_with_roots(roots)?);
    /// let wrong = ConnectOptions::new()
    ///     .ssl_config(config)
    ///     .server_hostname("example.com") // not the certificate's name
    ///     .connect("127.0.0.1", port)
    ///     .await;
    /// assert!(matches!(wrong, Err(Error::Tls(TlsError::NameMismatch { .. }))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub fn server_hostname(mut self, name: impl Into<String>) -> Self {
        self.tls.server_hostname = Some(name.into());
        self
    }

    /// How long the TLS handshake may take (asyncio `ssl_handshake_timeout=`, 60 s).
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
    /// # let server = aiostreams::ServerOptions::new()
    /// #     .ssl(aiostreams::tls::server_config_from_pem(&cert_pem, &key_pem)?)
    /// #     .start_server(
    /// #         |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
    /// #             while let Ok(line) = r.readline().await {
    /// #                 if line.is_empty() || w.write(&line).is_err() { break; }
    /// #             }
    /// #         },
    /// #         "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// use std::{sync::Arc, time::Duration};
    ///
    /// use aiostreams::{ConnectOptions, tls};
    ///
    /// let (_reader, _writer) = ConnectOptions::new()
    ///     .ssl_config(Arc::new(tls::client_config_with_roots(roots)?))
    ///     .server_hostname("localhost")
    ///     .ssl_handshake_timeout(Duration::from_secs(10))
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub fn ssl_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.tls.timeouts.handshake = Some(timeout);
        self
    }

    /// How long a TLS close may take to send close_notify (asyncio
    /// `ssl_shutdown_timeout=`, 30 s).
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
    /// # let server = aiostreams::ServerOptions::new()
    /// #     .ssl(aiostreams::tls::server_config_from_pem(&cert_pem, &key_pem)?)
    /// #     .start_server(
    /// #         |mut r: aiostreams::StreamReader, w: aiostreams::StreamWriter| async move {
    /// #             while let Ok(line) = r.readline().await {
    /// #                 if line.is_empty() || w.write(&line).is_err() { break; }
    /// #             }
    /// #         },
    /// #         "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// use std::{sync::Arc, time::Duration};
    ///
    /// use aiostreams::{ConnectOptions, tls};
    ///
    /// let (_reader, writer) = ConnectOptions::new()
    ///     .ssl_config(Arc::new(tls::client_config_with_roots(roots)?))
    ///     .server_hostname("localhost")
    ///     .ssl_shutdown_timeout(Duration::from_secs(2)) // bounds close()'s close_notify
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// writer.close();
    /// writer.wait_closed().await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub fn ssl_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.tls.timeouts.shutdown = Some(timeout);
        self
    }
}
