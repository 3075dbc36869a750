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

/// The crypto provider, chosen explicitly (never rustls's process default): aws-lc-rs
/// with the `aws-lc-rs` feature (its post-quantum hybrid `X25519MLKEM768` key exchange
/// preferred), ring otherwise.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    #[cfg(feature = "aws-lc-rs")]
    let make = rustls::crypto::aws_lc_rs::default_provider;
    #[cfg(not(feature = "aws-lc-rs"))]
    let make = rustls::crypto::ring::default_provider;
    PROVIDER.get_or_init(|| Arc::new(make())).clone()
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
///
/// # Examples
///
/// ```
/// # fn main() {
/// use aiostreams::{ConnectOptions, tls};
///
/// // What ConnectOptions::ssl() uses: the system's store (or SSL_CERT_FILE / SSL_CERT_DIR).
/// match tls::default_client_config() {
///     Ok(config) => drop(ConnectOptions::new().ssl_config(config)),
///     Err(e) => eprintln!("no trust store on this machine: {e}"),
/// }
/// # }
/// ```
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
/// // `roots`: a RootCertStore holding your private CA's certificate.
/// let config = tls::client_config_with_roots(roots)?;
/// let (_reader, writer) = ConnectOptions::new()
///     .ssl_config(Arc::new(config))
///     .server_hostname("localhost")
///     .connect("127.0.0.1", port)
///     .await?;
/// assert!(writer.transport().tls_info().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })
/// # }
/// ```
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
/// A leaf that is itself a CA certificate (basicConstraints CA:TRUE, as `openssl req
/// -x509` makes by default) is accepted, since OpenSSL clients that trust it directly
/// accept it, but logged as a warning: rustls clients (ours included) refuse it.
///
/// # Errors
///
/// [`TlsError::Config`] with a message that says what to fix: a missing or unreadable
/// file, a binary (DER) file where PEM is expected (with the `openssl` command that
/// converts it), a truncated or corrupt PEM block, a file with no certificate or no key,
/// an encrypted key (decrypt it first), a certificate that is not valid DER, or a key
/// that does not match the certificate.
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
/// use aiostreams::{ServerOptions, tls};
///
/// let config = tls::server_config_from_pem(&cert_pem, &key_pem)?;
/// let _server = ServerOptions::new()
///     .ssl(config)
///     .start_server(|_reader, _writer| async {}, "127.0.0.1", 0)
///     .await?;
///
/// // Errors say what to fix.
/// let err = tls::server_config_from_pem(dir.path().join("missing.pem"), &key_pem).unwrap_err();
/// assert!(err.to_string().contains("missing.pem"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })
/// # }
/// ```
pub fn server_config_from_pem(
    cert_chain: impl AsRef<Path>,
    private_key: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, Error> {
    let (cert_path, key_path) = (cert_chain.as_ref(), private_key.as_ref());
    let certs = read_certs(cert_path)?;
    let key = read_key(key_path)?;
    warn_if_ca(cert_path, &certs[0]);
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| pair_error(cert_path, key_path, e))?;
    Ok(Arc::new(config))
}

fn config_error(msg: String) -> Error {
    Error::Tls(TlsError::Config(msg))
}

/// What a PEM file should hold, for messages.
#[derive(Clone, Copy)]
enum Expected {
    Certificate,
    PrivateKey,
}

impl Expected {
    fn name(self) -> &'static str {
        match self {
            Expected::Certificate => "CERTIFICATE",
            Expected::PrivateKey => "PRIVATE KEY",
        }
    }

    /// The `openssl` subcommand that converts this kind of file from DER to PEM.
    fn openssl(self) -> &'static str {
        match self {
            Expected::Certificate => "x509",
            Expected::PrivateKey => "pkey",
        }
    }
}

/// The file's bytes, if it looks like PEM at all.
fn read_pem(path: &Path, expected: Expected) -> Result<Vec<u8>, Error> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| config_error(format!("cannot read {shown}: {e}")))?;
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Ok(bytes);
    }
    let binary = bytes
        .iter()
        .any(|b| !(b.is_ascii_graphic() || b.is_ascii_whitespace()));
    Err(config_error(if binary {
        format!(
            "{shown} is binary, not PEM (a DER file?); convert it with: openssl {} -inform DER -in {shown} -out {shown}.pem",
            expected.openssl()
        )
    } else {
        let name = expected.name();
        format!(
            "{shown}: no {name} found: the file is not PEM (no \"-----BEGIN {name}-----\" line)"
        )
    }))
}

/// A PEM parse error as a sentence (rustls-pki-types prints the marker as a byte list).
fn pem_error(path: &Path, e: rustls_pki_types::pem::Error) -> Error {
    use rustls_pki_types::pem::Error as Pem;
    let shown = path.display();
    config_error(match e {
        Pem::MissingSectionEnd { end_marker } => format!(
            "{shown}: truncated PEM: no \"-----END {}-----\" line after its BEGIN line (was the file cut short?)",
            String::from_utf8_lossy(&end_marker)
        ),
        Pem::IllegalSectionStart { line } => format!(
            "{shown}: malformed PEM: bad BEGIN line {:?}",
            String::from_utf8_lossy(&line)
        ),
        Pem::Base64Decode(why) => format!(
            "{shown}: corrupt PEM: the text between BEGIN and END is not valid base64 ({why}); was the file edited or cut?"
        ),
        other => format!("{shown}: bad PEM: {other}"),
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = read_pem(path, Expected::Certificate)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(config_error(format!(
            "{}: no CERTIFICATE found",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let bytes = read_pem(path, Expected::PrivateKey)?;
    if bytes.windows(9).any(|w| w == b"ENCRYPTED") {
        return Err(config_error(format!(
            "{}: the private key is encrypted; decrypt it first (e.g. openssl pkey -in KEY -out PLAIN)",
            path.display()
        )));
    }
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => config_error(format!(
            "{}: no usable private key: no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block",
            path.display()
        )),
        e => pem_error(path, e),
    })
}

/// `with_single_cert`'s refusal, naming the file to fix.
fn pair_error(cert_path: &Path, key_path: &Path, e: rustls::Error) -> Error {
    use rustls::{Error as Rustls, InconsistentKeys};
    let (cert, key) = (cert_path.display(), key_path.display());
    config_error(match e {
        Rustls::InconsistentKeys(InconsistentKeys::KeyMismatch) => {
            format!(
                "{key} does not match the certificate in {cert}: it is another certificate's key"
            )
        }
        Rustls::InvalidCertificate(why) => format!(
            "{cert}: the first certificate is not a valid X.509 certificate ({why:?}); was the file edited or cut?"
        ),
        other => format!("{key} cannot be used with the certificate in {cert}: {other}"),
    })
}

/// Warns when the leaf is a CA certificate, which rustls clients refuse
/// (`CaUsedAsEndEntity`) when they connect.
fn warn_if_ca(path: &Path, leaf: &CertificateDer<'_>) {
    if is_ca_certificate(leaf) {
        tracing::warn!(
            "{}: {CA_AS_LEAF}; rustls clients will refuse it",
            path.display()
        );
    }
}

/// The explanation shared by the server's warning and the client's error.
pub(crate) const CA_AS_LEAF: &str =
    "this certificate is a CA (basicConstraints CA:TRUE); serve a leaf certificate signed by it";

/// True when `cert` says it is a CA: webpki's check of a server's own certificate, run
/// against no trust anchor (that check comes first; any other outcome means "not a CA").
fn is_ca_certificate(cert: &CertificateDer<'_>) -> bool {
    let Ok(end_entity) = webpki::EndEntityCert::try_from(cert) else {
        return false;
    };
    let checked = end_entity.verify_for_usage(
        provider().signature_verification_algorithms.all,
        &[],
        &[],
        rustls_pki_types::UnixTime::now(),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    );
    matches!(checked, Err(webpki::Error::CaUsedAsEndEntity))
}

#[cfg(test)]
mod tests {
    use rustls::NamedGroup;

    use super::provider;

    /// The first key exchange offered: ML-KEM hybrid with aws-lc-rs, X25519 with ring.
    #[test]
    fn the_provider_is_the_one_the_features_name() {
        let first = provider().kx_groups[0].name();
        if cfg!(feature = "aws-lc-rs") {
            assert_eq!(first, NamedGroup::X25519MLKEM768);
        } else {
            assert_eq!(first, NamedGroup::X25519);
        }
    }
}
