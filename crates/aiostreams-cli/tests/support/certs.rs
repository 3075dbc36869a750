//! The CLI tests' certificates: a private CA and a server certificate for `localhost` and
//! `127.0.0.1`, as PEM files in a temporary directory removed on drop. Made by the
//! library's one generator (`crates/aiostreams/tests/support/certs.rs`, included by path
//! as `support::pki`).

use std::path::{Path, PathBuf};

use super::pki::{Kind, Pki};

/// A CA, a server certificate it signed, and their PEM files.
pub(crate) struct Certs {
    /// Owns the directory of the files.
    _pki: Pki,
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
            _pki: pki,
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

    /// The CA file as a `&str` argument.
    pub(crate) fn ca_arg(&self) -> &str {
        path(&self.ca)
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}
