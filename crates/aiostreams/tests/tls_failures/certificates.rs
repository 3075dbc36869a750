//! Certificate problems: bad server certificates refused with their reason (D5), a CA
//! served as a leaf, another CA, an impostor CA.

use super::*;

/// A server presenting a `kind` certificate: the client fails with the error `expected`
/// names, the server logs the failure at debug level only, and serves `good` next.
async fn certificate_failure(kind: Kind, expected: Expected, good: GoodClient) {
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let cert = pki.server_cert(kind);
        let server = tls_echo_server(cert.server_config(&pki.dir)).await;
        let port = port_of(&server);
        let err = tls_connect(port, pki.client_config(), "localhost")
            .await
            .expect_err("the handshake must fail");
        assert!(
            matches!(&err, Error::Tls(e) if expected(e)),
            "{kind:?}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("certificate verify failed"),
            "{err}"
        );
        assert_eq!(err.io_kind(), io::ErrorKind::InvalidData);
        // The server learns why from the client's alert (regression: the alert used to
        // be lost behind the client's other records, and the server saw a bare EOF).
        logs.wait_for("TLS handshake failed").await;
        let seen = logs.at_least(Level::DEBUG);
        assert_eq!(logs.count("the peer sent the TLS alert"), 1, "{seen:?}");
        let (config, name) = good(&pki, &cert);
        assert_failure_logged_and_serving(&logs, port, config, name).await;
        server.close();
        server.wait_closed().await;
    })
    .await;
}

/// Whether the handshake's TLS error is the one a case expects.
type Expected = fn(&TlsError) -> bool;

/// What a good client needs to be served after a certificate failure: its
/// configuration and the name it asks for.
type GoodClient = fn(&Pki, &certs::ServerCert) -> (Arc<ClientConfig>, &'static str);

// Server certificates a client must refuse, each with the error it names and a client
// that is then served:
// - D5: a self-signed server certificate does not lead to the CA;
// - a certificate for another name is a name mismatch (CPython: "... Hostname mismatch,
//   certificate is not valid for 'localhost'.");
// - an expired one is expired, and one valid only in the future is not yet valid (for a
//   client whose clock is within their validity, they are good).
#[tokio::test]
async fn bad_server_certificates_are_refused_with_their_reason() {
    let cases: [(Kind, Expected, GoodClient); 4] = [
        (
            Kind::SelfSigned,
            |e| matches!(e, TlsError::UntrustedIssuer),
            |_, cert| (certs::client_config_trusting(&[cert.der()]), "localhost"),
        ),
        (
            Kind::OtherName,
            |e| {
                matches!(e, TlsError::NameMismatch { name: Some(n) } if n == "localhost")
                    && e.to_string()
                        == "certificate verify failed: Hostname mismatch, certificate is not \
                            valid for 'localhost'."
            },
            |pki, _| (pki.client_config(), OTHER_NAME),
        ),
        (
            Kind::Expired,
            |e| matches!(e, TlsError::Expired),
            |pki, _| {
                (
                    certs::client_config_in_year(pki.ca_der(), 2000),
                    "localhost",
                )
            },
        ),
        (
            Kind::NotYetValid,
            |e| matches!(e, TlsError::NotYetValid),
            |pki, _| {
                (
                    certs::client_config_in_year(pki.ca_der(), 2100),
                    "localhost",
                )
            },
        ),
    ];
    for (kind, expected, good) in cases {
        certificate_failure(kind, expected, good).await;
    }
}

// A CA certificate served as the server's own (what `openssl req -x509` makes by
// default): the configuration warns, and a client refuses it even when it trusts it,
// saying what to serve instead.
#[tokio::test]
async fn ca_certificate_as_the_servers_own_says_serve_a_leaf() {
    let explanation = "this certificate is a CA (basicConstraints CA:TRUE); serve a leaf certificate signed by it";
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let cert = pki.server_cert(Kind::SelfSignedCa);
        let server = tls_echo_server(cert.server_config(&pki.dir)).await;
        assert_eq!(
            logs.count(explanation),
            1,
            "{:?}",
            logs.at_least(Level::WARN)
        );
        let trusting = certs::client_config_trusting(&[cert.der()]);
        let err = tls_connect(port_of(&server), trusting, "localhost")
            .await
            .expect_err("the handshake must fail");
        assert!(
            matches!(&err, Error::Tls(TlsError::BadCertificate(_))),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("certificate verify failed: {explanation}")
        );
        server.close();
        server.wait_closed().await;
    })
    .await;
}

// A client trusting another CA fails; the server goes on.
#[tokio::test]
async fn client_trusting_another_ca_fails_and_the_server_goes_on() {
    let (logs, _guard) = Logs::capture_thread();
    bounded(async {
        let pki = Pki::new();
        let other = Pki::new();
        let (_server, port) = good_echo_server(&pki).await;
        let err = tls_connect(port, other.client_config(), "localhost")
            .await
            .expect_err("another CA is not trusted");
        assert!(
            matches!(err, Error::Tls(TlsError::UntrustedIssuer)),
            "{err:?}"
        );
        assert_failure_logged_and_serving(&logs, port, pki.client_config(), "localhost").await;
    })
    .await;
}

// An impostor CA with the trusted CA's name: the chain reaches a trusted name, but the
// signature does not verify (OpenSSL: "certificate signature failure").
#[bounded_test]
async fn impostor_ca_with_the_trusted_name_is_a_bad_certificate() {
    let pki = Pki::named("aiostreams impostor test");
    let impostor = Pki::named("aiostreams impostor test");
    let server = tls_echo_server(impostor.server_config(Kind::Good)).await;
    let err = tls_connect(port_of(&server), pki.client_config(), "localhost")
        .await
        .expect_err("the impostor's signature does not verify");
    assert!(
        matches!(err, Error::Tls(TlsError::BadCertificate(_))),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("certificate verify failed"),
        "{err}"
    );
}
