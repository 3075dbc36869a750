//! Test certificates, generated with rcgen (never fetched): a private CA, server
//! certificates for every case the TLS tests need, and the matching rustls configurations.
//!
//! Used as `crate::support::certs`. PEM files go to a temporary
//! directory that is removed when the [`Pki`] is dropped.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use super::temp::TempDir;

/// The names every good server certificate is valid for (DNS and IP SANs).
pub(crate) const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// The name of the [`Kind::OtherName`] certificate.
pub(crate) const OTHER_NAME: &str = "other.example";

/// Which server certificate to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// From the CA, for `localhost` and `127.0.0.1`, valid now.
    Good,
    /// From the CA, for the right names, valid only in 2000.
    Expired,
    /// From the CA, for the right names, valid only from 2100 on.
    NotYetValid,
    /// From the CA, valid now, for [`OTHER_NAME`] only.
    OtherName,
    /// For the right names and valid now, but signed by itself, not by the CA.
    SelfSigned,
    /// As [`Kind::SelfSigned`], and a CA itself (basicConstraints CA:TRUE), as `openssl
    /// req -x509` makes by default: rustls clients refuse it as a server's own.
    SelfSignedCa,
}

/// A private CA and a temp dir for PEM files.
pub(crate) struct Pki {
    pub(crate) dir: TempDir,
    ca_cert: Certificate,
    ca: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").field("dir", &self.dir).finish()
    }
}

/// A server certificate with its key.
#[derive(Debug)]
pub(crate) struct ServerCert {
    pub(crate) cert: Certificate,
    pub(crate) key: KeyPair,
    /// The PEM chain a server presents: the leaf, then the CA when there is one.
    pub(crate) chain_pem: String,
}

impl Pki {
    /// A CA with a name of its own.
    pub(crate) fn new() -> Pki {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Pki::named(&format!("aiostreams test CA {} {n}", std::process::id()))
    }

    /// A CA whose subject is `common_name` (two CAs with one name differ only by key).
    pub(crate) fn named(common_name: &str) -> Pki {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = params.self_signed(&key).expect("CA certificate");
        Pki {
            dir: TempDir::new("tls"),
            ca_cert,
            ca: Issuer::new(params, key),
        }
    }

    /// The CA certificate, DER.
    pub(crate) fn ca_der(&self) -> &CertificateDer<'static> {
        self.ca_cert.der()
    }

    /// The CA certificate, PEM (for `SSL_CERT_FILE`).
    pub(crate) fn ca_pem(&self) -> String {
        self.ca_cert.pem()
    }

    /// Makes a server certificate of `kind`.
    pub(crate) fn server_cert(&self, kind: Kind) -> ServerCert {
        let names: Vec<String> = match kind {
            Kind::OtherName => vec![OTHER_NAME.to_owned()],
            _ => SERVER_NAMES.iter().map(|n| n.to_string()).collect(),
        };
        let mut params = CertificateParams::new(names).expect("server params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{kind:?}"));
        match kind {
            Kind::Expired => {
                params.not_before = date_time_ymd(2000, 1, 1);
                params.not_after = date_time_ymd(2001, 1, 1);
            }
            Kind::NotYetValid => {
                params.not_before = date_time_ymd(2100, 1, 1);
                params.not_after = date_time_ymd(2101, 1, 1);
            }
            Kind::SelfSignedCa => params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained),
            _ => {}
        }
        let key = KeyPair::generate().expect("server key");
        let (cert, chain_pem) = if matches!(kind, Kind::SelfSigned | Kind::SelfSignedCa) {
            let cert = params.self_signed(&key).expect("self-signed certificate");
            let pem = cert.pem();
            (cert, pem)
        } else {
            let cert = params
                .signed_by(&key, &self.ca)
                .expect("server certificate");
            let pem = format!("{}{}", cert.pem(), self.ca_cert.pem());
            (cert, pem)
        };
        ServerCert {
            cert,
            key,
            chain_pem,
        }
    }

    /// A server configuration for a certificate of `kind`, loaded through
    /// [`aiostreams::tls::server_config_from_pem`].
    pub(crate) fn server_config(&self, kind: Kind) -> Arc<ServerConfig> {
        self.server_cert(kind).server_config(&self.dir)
    }

    /// A verifying client configuration that trusts the CA only.
    pub(crate) fn client_config(&self) -> Arc<ClientConfig> {
        client_config_trusting(&[self.ca_der()])
    }
}

impl ServerCert {
    /// The leaf certificate, DER.
    pub(crate) fn der(&self) -> &CertificateDer<'static> {
        self.cert.der()
    }

    /// Writes the chain and the key as PEM files into `dir`: `(chain, key)`.
    pub(crate) fn write_pem(&self, dir: &TempDir) -> (PathBuf, PathBuf) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let chain = dir.write(&format!("chain{n}.pem"), &self.chain_pem);
        let key = dir.write(&format!("key{n}.pem"), self.key.serialize_pem());
        (chain, key)
    }

    /// A server configuration loaded from the PEM files.
    pub(crate) fn server_config(&self, dir: &TempDir) -> Arc<ServerConfig> {
        let (chain, key) = self.write_pem(dir);
        aiostreams::tls::server_config_from_pem(chain, key).expect("server config")
    }
}

/// A verifying client configuration that trusts exactly `roots`.
pub(crate) fn client_config_trusting(roots: &[&CertificateDer<'static>]) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add((*root).clone()).expect("a usable root");
    }
    Arc::new(aiostreams::tls::client_config_with_roots(store).expect("client config"))
}

/// A clock stopped at one instant, to verify certificates as if it were then.
#[derive(Debug)]
struct FixedClock(UnixTime);

impl TimeProvider for FixedClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(self.0)
    }
}

/// A client trusting `root` whose clock says 1 June of `year`: it accepts the expired
/// or not-yet-valid certificates, to show that the server that presents them is fine.
pub(crate) fn client_config_in_year(
    root: &CertificateDer<'static>,
    year: i32,
) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    store.add(root.clone()).expect("a usable root");
    let secs = date_time_ymd(year, 6, 1).unix_timestamp();
    let now = UnixTime::since_unix_epoch(Duration::from_secs(secs as u64));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_details(provider, Arc::new(FixedClock(now)))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    Arc::new(config)
}
