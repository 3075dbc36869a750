//! Test certificates made with rcgen (never fetched): a private CA and a server
//! certificate for `localhost` and `127.0.0.1`, written as PEM files into a temporary
//! directory that is removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A CA, a server certificate it signed, and their PEM files.
pub(crate) struct Certs {
    dir: PathBuf,
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
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("aiostreams-cli-certs-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("aiostreams-cli test CA {n}"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();

        let certs = Certs {
            ca: dir.join("ca.pem"),
            chain: dir.join("chain.pem"),
            key: dir.join("key.pem"),
            dir,
        };
        std::fs::write(&certs.ca, ca_cert.pem()).unwrap();
        std::fs::write(&certs.chain, format!("{}{}", cert.pem(), ca_cert.pem())).unwrap();
        std::fs::write(&certs.key, key.serialize_pem()).unwrap();
        certs
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

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
