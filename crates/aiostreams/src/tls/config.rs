//! Building rustls configurations: the default verifying client, PEM server configs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;
use crate::Error;

/// The crypto provider, chosen explicitly: ring.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// asyncio's `ssl=True`: verify against the system trust store, with hostname checks.
///
/// The store comes from `rustls-native-certs`, which honours `SSL_CERT_FILE` and
/// `SSL_CERT_DIR`. It is loaded once per value of those variables and shared.
///
/// # Errors
///
/// [`TlsError::NoTrustRoots`] naming where certificates were looked for, when none
/// were found.
pub fn default_client_config() -> Result<Arc<ClientConfig>, Error> {
    type Key = (Option<String>, Option<String>);
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<ClientConfig>>>> = OnceLock::new();
    let key: Key = (
        std::env::var("SSL_CERT_FILE").ok(),
        std::env::var("SSL_CERT_DIR").ok(),
    );
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(config) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(config.clone());
    }
    let config = Arc::new(client_config_with_roots(load_roots(&key)?)?);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, config.clone());
    Ok(config)
}

/// A verifying client configuration trusting exactly `roots`.
///
/// # Errors
///
/// [`TlsError::Config`] if the protocol versions cannot be set (never with ring).
pub fn client_config_with_roots(roots: RootCertStore) -> Result<ClientConfig, Error> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(TlsError::Config(e.to_string())))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn load_roots(key: &(Option<String>, Option<String>)) -> Result<RootCertStore, Error> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        let file = key.0.as_deref().unwrap_or("(unset)");
        let dir = key.1.as_deref().unwrap_or("(unset)");
        let system = if reads_system_store(key) {
            " and the system store"
        } else {
            ""
        };
        let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        return Err(Error::Tls(TlsError::NoTrustRoots(format!(
            "looked in SSL_CERT_FILE={file}, SSL_CERT_DIR={dir}{system}{}{}",
            if errors.is_empty() { "" } else { "; errors: " },
            errors.join("; ")
        ))));
    }
    Ok(roots)
}

/// rustls-native-certs reads the system store only when neither variable names a place
/// to look (an empty `SSL_CERT_DIR` names none).
fn reads_system_store(key: &(Option<String>, Option<String>)) -> bool {
    let no_dir = |d: &str| std::env::split_paths(d).all(|p| p.as_os_str().is_empty());
    key.0.is_none() && key.1.as_deref().is_none_or(no_dir)
}

/// A server configuration from a PEM certificate chain file and a PEM private key file.
///
/// # Errors
///
/// [`TlsError::Config`] with a clear message for a missing or unreadable file, a file
/// with no certificate or no key, an encrypted key (decrypt it first), or a key that
/// does not match the certificate.
pub fn server_config_from_pem(
    cert_chain: impl AsRef<Path>,
    private_key: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, Error> {
    let (cert_path, key_path) = (cert_chain.as_ref(), private_key.as_ref());
    let certs = read_certs(cert_path)?;
    let key = read_key(key_path)?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            config_error(format!(
                "{} does not match the certificate in {}: {e}",
                key_path.display(),
                cert_path.display()
            ))
        })?;
    Ok(Arc::new(config))
}

fn config_error(msg: String) -> Error {
    Error::Tls(TlsError::Config(msg))
}

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|e| config_error(format!("cannot read {}: {e}", path.display())))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let text = read_text(path)?;
    let certs = CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error(format!("{}: bad PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(config_error(format!(
            "{}: no CERTIFICATE found",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let text = read_text(path)?;
    if text.contains("ENCRYPTED") {
        return Err(config_error(format!(
            "{}: the private key is encrypted; decrypt it first (e.g. openssl pkey -in KEY -out PLAIN)",
            path.display()
        )));
    }
    PrivateKeyDer::from_pem_slice(text.as_bytes())
        .map_err(|e| config_error(format!("{}: no usable private key: {e}", path.display())))
}
