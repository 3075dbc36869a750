//! A bad certificate or key for `serve --tls-cert/--tls-key`: a message that says what
//! to fix (exit 1), never a raw parser error; a CA certificate served as the server's
//! own is explained both when serving starts and on the client that refuses it.

use std::path::Path;

use rustls_pki_types::pem::PemObject;

use crate::support::certs::Certs;
use crate::support::{Served, aiostreams, assert_mentions, run};

/// `serve --tls-cert CERT --tls-key KEY`: exit 1, and its stderr.
fn serve_fails(cert: &Path, key: &Path) -> String {
    let mut cmd = aiostreams();
    cmd.args(["serve", "--port", "0", "--tls-cert"])
        .arg(cert)
        .arg("--tls-key")
        .arg(key);
    let output = run(cmd, b"");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_mentions(&stderr, &["cannot serve TLS"]);
    stderr
}

// A truncated PEM was reported as "missing section end marker: [67, 69, 82, ...]".
#[test]
fn a_truncated_certificate_says_truncated() {
    let certs = Certs::new();
    let pem = std::fs::read(&certs.chain).unwrap();
    let cut = certs.write("cut.pem", &pem[..pem.len() / 4]);
    let stderr = serve_fails(&cut, &certs.key);
    assert_mentions(
        &stderr,
        &["truncated PEM: no \"-----END CERTIFICATE-----\" line"],
    );
    assert!(!stderr.contains("[67, 69"), "{stderr}");
}

#[test]
fn a_truncated_key_says_truncated() {
    let certs = Certs::new();
    let pem = std::fs::read(&certs.key).unwrap();
    let cut = certs.write("cut-key.pem", &pem[..pem.len() / 2]);
    let stderr = serve_fails(&certs.chain, &cut);
    assert_mentions(
        &stderr,
        &["truncated PEM: no \"-----END PRIVATE KEY-----\" line"],
    );
}

/// A DER (binary) file where PEM is expected: the openssl command that converts it.
#[test]
fn a_binary_file_gets_the_conversion_command() {
    let certs = Certs::new();
    let der = rustls_pki_types::CertificateDer::from_pem_file(&certs.ca).unwrap();
    let der_cert = certs.write("cert.der", &der);
    let stderr = serve_fails(&der_cert, &certs.key);
    let shown = der_cert.display();
    assert_mentions(
        &stderr,
        &[&format!(
            "{shown} is binary, not PEM (a DER file?); convert it with: openssl x509 -inform DER -in {shown} -out {shown}.pem"
        )],
    );
    let der_key = certs.write("key.der", [0x30, 0x82, 0x01, 0x00, 0xff]);
    let stderr = serve_fails(&certs.chain, &der_key);
    assert_mentions(&stderr, &["openssl pkey -inform DER"]);
}

#[test]
fn a_text_file_without_pem_says_so() {
    let certs = Certs::new();
    let text = certs.write("notes.txt", b"just some notes\n");
    let stderr = serve_fails(&text, &certs.key);
    assert_mentions(
        &stderr,
        &["no CERTIFICATE found: the file is not PEM (no \"-----BEGIN CERTIFICATE-----\" line)"],
    );
}

#[test]
fn another_certificates_key_is_named_as_the_mismatch() {
    let (certs, other) = (Certs::new(), Certs::new());
    let stderr = serve_fails(&certs.chain, &other.key);
    assert_mentions(&stderr, &["does not match the certificate in"]);
}

/// A certificate that is a CA (basicConstraints CA:TRUE) served as the server's own: a
/// warning at start, and the client that refuses it (rustls: `CaUsedAsEndEntity`) says
/// why, even when it trusts that very certificate.
#[test]
fn a_ca_certificate_served_as_the_leaf_is_explained() {
    let certs = Certs::new();
    let (cert, key) = certs.self_signed_ca();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let mut served = Served::start(&["--port", "0", "--tls-cert", cert, "--tls-key", key]);
    let explanation = "this certificate is a CA (basicConstraints CA:TRUE); serve a leaf certificate signed by it";
    let warning = served.log().wait_for(explanation);
    assert!(
        warning.contains("WARN") && warning.contains(cert),
        "{warning}"
    );
    let mut cmd = aiostreams();
    cmd.args([
        "connect",
        "127.0.0.1",
        &served.port(),
        "--tls",
        "--ca",
        cert,
    ]);
    let output = run(cmd, b"");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_mentions(
        &stderr,
        &[&format!("certificate verify failed: {explanation}")],
    );
}
