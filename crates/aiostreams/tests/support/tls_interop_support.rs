//! Helpers of `tests/tls_interop/`: certificates as strict verifiers (Python 3.13) want
//! them, the `tls_peers.py` script.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

use super::temp::TempDir;

/// Bounds one test once the examples are built (debug builds, a shared CI machine).
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs a test body under [`TEST_TIMEOUT`].
pub(crate) async fn bounded<F: Future<Output = ()>>(body: F) {
    super::bounded_for(TEST_TIMEOUT, body).await;
}

// ---------------------------------------------------------------------------------------
// Certificates.

/// A private CA, a server certificate from it for `localhost` and `127.0.0.1`, and a
/// second, unrelated CA; all as PEM files in a temp dir removed on drop.
pub(crate) struct Certs {
    pub(crate) dir: TempDir,
    ca_der: CertificateDer<'static>,
    /// The server's certificate, DER.
    pub(crate) leaf_der: CertificateDer<'static>,
}

/// A CA certificate with the extensions strict verifiers (Python 3.13's
/// `VERIFY_X509_STRICT`) insist on; returns it and the issuer that signs with it.
fn make_ca(name: &str) -> (rcgen::Certificate, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert, Issuer::new(params, key))
}

impl Certs {
    pub(crate) fn new() -> Certs {
        let dir = TempDir::new("tls-interop");
        let (ca, issuer) = make_ca("aiostreams interop CA");
        let (other_ca, _) = make_ca("an unrelated CA");
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let mut params = CertificateParams::new(names).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        dir.write("ca.pem", ca.pem());
        dir.write("other-ca.pem", other_ca.pem());
        dir.write("chain.pem", cert.pem());
        dir.write("key.pem", key.serialize_pem());
        Certs {
            dir,
            ca_der: ca.der().clone(),
            leaf_der: cert.der().clone(),
        }
    }

    fn arg(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        path.to_str().expect("a UTF-8 temp path").to_owned()
    }

    /// The CA certificate's PEM file.
    pub(crate) fn ca_arg(&self) -> String {
        self.arg("ca.pem")
    }

    /// A CA that signed nothing here: trusting only it, no server verifies.
    pub(crate) fn other_ca_arg(&self) -> String {
        self.arg("other-ca.pem")
    }

    /// The server's certificate chain (the leaf).
    pub(crate) fn chain_arg(&self) -> String {
        self.arg("chain.pem")
    }

    /// The server's private key (PKCS#8, unencrypted).
    pub(crate) fn key_arg(&self) -> String {
        self.arg("key.pem")
    }

    /// Our server configuration, loaded from the PEM files.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        aiostreams::tls::server_config_from_pem(self.chain_arg(), self.key_arg())
            .expect("server config from PEM")
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("a usable root");
        roots
    }

    /// A verifying client configuration trusting the CA only.
    pub(crate) fn client_config(&self) -> Arc<ClientConfig> {
        Arc::new(aiostreams::tls::client_config_with_roots(self.roots()).expect("client config"))
    }

    /// As [`client_config`](Self::client_config), limited to one protocol version.
    pub(crate) fn client_config_for(
        &self,
        version: &'static SupportedProtocolVersion,
    ) -> Arc<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .expect("protocol version")
            .with_root_certificates(self.roots())
            .with_no_client_auth();
        Arc::new(config)
    }
}

/// `tests/support/tls_peers.py`.
pub(crate) fn tls_peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tls_peers.py")
}
