//! The TLS cells' certificates and the load generator's TLS client.
//!
//! When a TLS cell is selected the bench makes a throwaway CA and a server certificate
//! for `localhost` and `127.0.0.1` signed by it (rcgen, ECDSA P-256), writes them as PEM
//! into a temporary directory (removed at the end) for the servers' `--tls-cert` and
//! `--tls-key`, and its clients trust exactly that CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

/// The names the server certificate is valid for.
const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A throwaway CA and server certificate, as PEM files in a temporary directory.
#[derive(Debug)]
pub(crate) struct TlsFiles {
    dir: PathBuf,
    /// The server's certificate chain: the leaf, then the CA.
    pub(crate) cert: PathBuf,
    /// The server's private key (PKCS#8, unencrypted).
    pub(crate) key: PathBuf,
    /// The CA certificate, the only root the clients trust.
    ca: CertificateDer<'static>,
}

impl TlsFiles {
    /// Generates the CA and the server certificate and writes them out.
    pub(crate) fn generate() -> Result<TlsFiles> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "aiostreams bench CA (throwaway)");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let ca = Issuer::new(ca_params, ca_key);

        let names: Vec<String> = SERVER_NAMES.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "aiostreams bench server");
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &ca)?;

        let dir = std::env::temp_dir().join(format!("aiostreams-bench-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let files = TlsFiles {
            cert: dir.join("server-chain.pem"),
            key: dir.join("server-key.pem"),
            ca: ca_cert.der().clone(),
            dir,
        };
        write(&files.cert, format!("{}{}", cert.pem(), ca_cert.pem()))?;
        write(&files.key, key.serialize_pem())?;
        Ok(files)
    }

    /// The load generator's TLS client: trusts the CA only, verifies `127.0.0.1`, and
    /// never resumes a session, so every handshake is a full one.
    pub(crate) fn connector(&self) -> Result<TlsConnector> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.resumption = Resumption::disabled();
        Ok(TlsConnector::from(Arc::new(config)))
    }
}

impl Drop for TlsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The name the clients verify: the server listens on 127.0.0.1.
pub(crate) fn server_name() -> ServerName<'static> {
    ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into())
}

fn write(path: &Path, contents: String) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}
