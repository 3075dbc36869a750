//! The CLI tests' certificates: a private CA and a server certificate for `localhost` and
//! `127.0.0.1`, as PEM files in a temporary directory removed on drop. Made by the
//! library's one generator (`crates/aiostreams/tests/support/certs.rs`, included by path
//! as `support::pki`).

use std::path::{Path, PathBuf};

use super::pki::{Kind, Pki};

/// A CA, a server certificate it signed, and their PEM files.
pub(crate) struct Certs {
    /// Owns the directory of the files.
    pki: Pki,
    /// The CA certificate (the file for `--ca` and `SSL_CERT_FILE`).
    pub(crate) ca: PathBuf,
    /// The server's chain: its certificate, then the CA's (for `--tls-cert`).
    pub(crate) chain: PathBuf,
    /// The server's private key (for `--tls-key`).
    pub(crate) key: PathBuf,
}

impl Certs {
    /// A fresh CA and a server certificate valid for `localhost` and `127.0.0.1`.
    pub(crate) fn new() -> Certs {
        let pki = Pki::new();
        let ca = pki.dir.write("ca.pem", pki.ca_pem());
        let (chain, key) = pki.server_cert(Kind::Good).write_pem(&pki.dir);
        Certs {
            pki,
            ca,
            chain,
            key,
        }
    }

    /// `--tls-cert CHAIN --tls-key KEY`.
    pub(crate) fn serve_args(&self) -> [&str; 4] {
        [
            "--tls-cert",
            path(&self.chain),
            "--tls-key",
            path(&self.key),
        ]
    }

    /// A self-signed certificate for the same names that is a CA itself (basicConstraints
    /// CA:TRUE, as `openssl req -x509` makes by default), and its key: `(cert, key)`.
    pub(crate) fn self_signed_ca(&self) -> (PathBuf, PathBuf) {
        self.pki
            .server_cert(Kind::SelfSignedCa)
            .write_pem(&self.pki.dir)
    }

    /// A file named `name` holding `contents`, beside the certificates.
    pub(crate) fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        self.pki.dir.write(name, contents)
    }

    /// A rustls client configuration trusting the CA.
    pub(crate) fn client_config(&self) -> std::sync::Arc<rustls::ClientConfig> {
        self.pki.client_config()
    }

    /// The CA file as a `&str` argument.
    pub(crate) fn ca_arg(&self) -> &str {
        path(&self.ca)
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}
