//! [`TlsError`]: what can go wrong in TLS, as variants a caller can match on.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::{CertificateError, Error as RustlsError};

/// A TLS failure (asyncio's `ssl.SSLError` family).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// The peer's certificate chain does not lead to a trusted root
    /// (`ssl.SSLCertVerificationError`: unable to get local issuer certificate).
    UntrustedIssuer,
    /// The certificate is valid, but not for the name we connected to (`name`, when
    /// the verifier reports it).
    NameMismatch {
        /// The name (or IP address) the certificate was checked against.
        name: Option<String>,
    },
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// Any other certificate problem (revoked, bad signature, wrong usage...).
    BadCertificate(Arc<RustlsError>),
    /// The peer sent this alert and ended the handshake or the session.
    PeerAlert(String),
    /// The handshake did not finish in time (asyncio's `ssl_handshake_timeout`).
    HandshakeTimeout(Duration),
    /// The trust store is empty: no certificates were found where we looked.
    NoTrustRoots(String),
    /// A TLS configuration problem (a certificate or key file).
    Config(String),
    /// Any other TLS protocol error (corrupt records, unexpected messages...).
    Protocol(Arc<RustlsError>),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::UntrustedIssuer => {
                f.write_str("certificate verify failed: unable to get local issuer certificate")
            }
            // CPython's text, without OpenSSL's "[SSL: ...]" and "(_ssl.c:N)" decorations.
            TlsError::NameMismatch { name: Some(name) } => {
                let what = match name.parse::<std::net::IpAddr>() {
                    Ok(_) => "IP address",
                    Err(_) => "Hostname",
                };
                write!(
                    f,
                    "certificate verify failed: {what} mismatch, certificate is not valid \
                     for '{name}'."
                )
            }
            TlsError::NameMismatch { name: None } => {
                f.write_str("certificate verify failed: Hostname mismatch")
            }
            TlsError::Expired => f.write_str("certificate verify failed: certificate has expired"),
            TlsError::NotYetValid => {
                f.write_str("certificate verify failed: certificate is not yet valid")
            }
            TlsError::BadCertificate(e) if is_ca_used_as_end_entity(e) => {
                write!(
                    f,
                    "certificate verify failed: {}",
                    super::config::CA_AS_LEAF
                )
            }
            TlsError::BadCertificate(e) => write!(f, "certificate verify failed: {e}"),
            TlsError::PeerAlert(alert) => write!(f, "the peer sent the TLS alert {alert}"),
            TlsError::HandshakeTimeout(t) => write!(
                f,
                "SSL handshake is taking longer than {:?} seconds: aborting the connection",
                t.as_secs_f64()
            ),
            TlsError::NoTrustRoots(where_) => {
                write!(f, "no trusted root certificates found ({where_})")
            }
            TlsError::Config(msg) => f.write_str(msg),
            TlsError::Protocol(e) => write!(f, "TLS error: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

/// The peer's own certificate is a CA certificate (webpki's `CaUsedAsEndEntity`, which
/// rustls passes on as an "other" certificate error).
fn is_ca_used_as_end_entity(e: &RustlsError) -> bool {
    let RustlsError::InvalidCertificate(CertificateError::Other(other)) = e else {
        return false;
    };
    matches!(
        other.0.downcast_ref::<webpki::Error>(),
        Some(webpki::Error::CaUsedAsEndEntity)
    )
}

impl From<RustlsError> for TlsError {
    fn from(e: RustlsError) -> Self {
        match e {
            RustlsError::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => TlsError::UntrustedIssuer,
                CertificateError::NotValidForName => TlsError::NameMismatch { name: None },
                CertificateError::NotValidForNameContext { expected, .. } => {
                    TlsError::NameMismatch {
                        name: Some(expected.to_str().into_owned()),
                    }
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    TlsError::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsError::NotYetValid
                }
                other => TlsError::BadCertificate(Arc::new(RustlsError::InvalidCertificate(other))),
            },
            RustlsError::AlertReceived(alert) => TlsError::PeerAlert(format!("{alert:?}")),
            other => TlsError::Protocol(Arc::new(other)),
        }
    }
}

impl TlsError {
    pub(crate) fn io_kind(&self) -> io::ErrorKind {
        match self {
            TlsError::HandshakeTimeout(_) => io::ErrorKind::ConnectionAborted,
            TlsError::NoTrustRoots(_) | TlsError::Config(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        }
    }
}

/// A rustls error as an `io::Error` carrying our [`Error::Tls`](crate::Error::Tls).
pub(crate) fn tls_io_error(e: RustlsError) -> io::Error {
    crate::Error::Tls(e.into()).into()
}

/// Maps a handshake's `io::Error` (tokio-rustls wraps rustls errors) to ours.
pub(crate) fn handshake_error(e: io::Error) -> crate::Error {
    let e = match e.downcast::<RustlsError>() {
        Ok(rustls) => return crate::Error::Tls(rustls.into()),
        Err(e) => e,
    };
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection lost during the TLS handshake",
        )
        .into();
    }
    e.into()
}
