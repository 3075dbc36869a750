//! `server_config_from_pem`: every bad file gets a message saying what is wrong and where.

use super::*;

fn config_error(result: Result<Arc<ServerConfig>, Error>) -> String {
    match result {
        Err(err @ Error::Tls(TlsError::Config(_))) => {
            assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
            err.to_string()
        }
        Err(other) => panic!("expected TlsError::Config, got {other:?}"),
        Ok(_) => panic!("expected TlsError::Config, got a configuration"),
    }
}

// server_config_from_pem: every bad input gets a message saying what is wrong and where.
#[test]
fn server_config_from_pem_explains_bad_files() {
    let pki = Pki::new();
    let good = pki.server_cert(Kind::Good);
    let (chain, key) = good.write_pem(&pki.dir);
    assert!(server_config_from_pem(&chain, &key).is_ok());

    let missing = pki.dir.path().join("missing.pem");
    let msg = config_error(server_config_from_pem(&missing, &key));
    assert!(
        msg.contains("cannot read") && msg.contains("missing.pem"),
        "{msg}"
    );
    let msg = config_error(server_config_from_pem(&chain, &missing));
    assert!(
        msg.contains("cannot read") && msg.contains("missing.pem"),
        "{msg}"
    );

    let (_, other_key) = pki.server_cert(Kind::Good).write_pem(&pki.dir);
    let msg = config_error(server_config_from_pem(&chain, &other_key));
    assert!(msg.contains("does not match"), "{msg}");

    let encrypted = pki.dir.write(
        "encrypted.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n\
         MIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIc2VjcmV0c2VjcmV0\n\
         -----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let msg = config_error(server_config_from_pem(&chain, &encrypted));
    assert!(msg.contains("encrypted"), "{msg}");

    let msg = config_error(server_config_from_pem(&key, &key));
    assert!(msg.contains("no CERTIFICATE found"), "{msg}");
    let empty = pki.dir.write("empty.pem", "");
    let msg = config_error(server_config_from_pem(&empty, &key));
    assert!(msg.contains("no CERTIFICATE found"), "{msg}");

    let msg = config_error(server_config_from_pem(&chain, &chain));
    assert!(msg.contains("no usable private key"), "{msg}");

    let bad = pki.dir.write(
        "bad.pem",
        "-----BEGIN CERTIFICATE-----\n!!! not base64 !!!\n-----END CERTIFICATE-----\n",
    );
    let msg = config_error(server_config_from_pem(&bad, &key));
    assert!(msg.contains("bad.pem"), "{msg}");
}
