//! TLS through rustls (ring provider): configurations, the TLS socket, handshakes,
//! and the typed extra info of a TLS connection.

mod config;
mod error;
mod handshake;
mod socket;
mod start_tls;

use std::sync::Arc;

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::CertificateDer;

pub use config::{client_config_with_roots, default_client_config, server_config_from_pem};
pub use error::TlsError;
pub use handshake::{DEFAULT_SSL_HANDSHAKE_TIMEOUT, DEFAULT_SSL_SHUTDOWN_TIMEOUT};
pub(crate) use handshake::{Side, handshake, wrap};
/// The rustls this crate is built with, so configurations are made with the same version
/// (`aiostreams::tls::rustls::ClientConfig`) without matching versions by hand.
pub use rustls;
/// rustls's certificate and key types (`CertificateDer`, `PrivateKeyDer`, `ServerName`,
/// PEM parsing), the version this crate uses.
pub use rustls_pki_types as pki_types;
pub(crate) use socket::TlsSocket;

/// The configuration a TLS connection was made with (asyncio's `'sslcontext'`).
#[derive(Clone, Debug)]
pub enum TlsConfig {
    /// We are the client.
    Client(Arc<ClientConfig>),
    /// We are the server.
    Server(Arc<ServerConfig>),
}

/// What the handshake negotiated (asyncio's `'peercert'`, `'cipher'`, ...).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TlsInfo {
    /// The configuration used (asyncio `'sslcontext'`).
    pub config: TlsConfig,
    /// The peer's certificate chain, DER, leaf first (asyncio `'peercert'`, binary form);
    /// empty when the peer sent none.
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// The cipher suite, e.g. `TLS13_AES_256_GCM_SHA384` (asyncio `'cipher'`).
    pub cipher: Option<String>,
    /// The protocol version, e.g. `TLSv1_3`.
    pub protocol: Option<String>,
    /// The negotiated ALPN protocol.
    pub alpn: Option<Vec<u8>>,
    /// The SNI name the client asked for (server side).
    pub server_name: Option<String>,
}

impl TlsSocket {
    pub(crate) fn info(&self) -> TlsInfo {
        let session = self.lock();
        let server_name = match &*session {
            rustls::Connection::Server(s) => s.server_name().map(str::to_owned),
            rustls::Connection::Client(_) => None,
        };
        TlsInfo {
            config: self.config.clone(),
            peer_certificates: session
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
                .unwrap_or_default(),
            cipher: session
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite())),
            protocol: session.protocol_version().map(|v| format!("{v:?}")),
            alpn: session.alpn_protocol().map(<[u8]>::to_vec),
            server_name,
        }
    }
}
