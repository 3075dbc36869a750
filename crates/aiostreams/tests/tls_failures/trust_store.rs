//! The trust store from `SSL_CERT_FILE` / `SSL_CERT_DIR`, each test in a child process
//! with only those variables.

use super::*;

/// Set in the child processes that run the `child_*` tests.
const CHILD: &str = "AIOSTREAMS_TLS_TEST_CHILD";

/// Runs the ignored test `name` in a child process of this test binary, with only
/// `env` as the trust store variables.
fn run_child(name: &str, env: &[(&str, &std::ffi::OsStr)]) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            &test_name(module_path!(), name),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env(CHILD, "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} failed:\n{stdout}\n{stderr}"
    );
}

// With SSL_CERT_FILE and SSL_CERT_DIR pointing nowhere, the system store (present on
// this machine or not) is not consulted: NoTrustRoots, naming where it looked.
#[test]
fn empty_trust_store_is_no_trust_roots() {
    run_child(
        "child_empty_trust_store",
        &[
            ("SSL_CERT_FILE", "/nonexistent".as_ref()),
            ("SSL_CERT_DIR", "/nonexistent-dir".as_ref()),
        ],
    );
}

// SSL_CERT_FILE alone is the whole trust store for `ssl()`; a missing SSL_CERT_DIR next
// to it does not spoil it.
#[test]
fn ssl_cert_file_is_the_trust_store() {
    let pki = Pki::new();
    let ca = pki.dir.write("ca.pem", pki.ca_pem());
    let (chain, key) = pki.server_cert(Kind::Good).write_pem(&pki.dir);
    run_child(
        "child_ssl_cert_file",
        &[
            ("SSL_CERT_FILE", ca.as_os_str()),
            ("SSL_CERT_DIR", "/nonexistent-dir".as_ref()),
            ("AIOSTREAMS_TEST_CHAIN", chain.as_os_str()),
            ("AIOSTREAMS_TEST_KEY", key.as_os_str()),
        ],
    );
}

#[tokio::test]
#[ignore = "run in a child process by empty_trust_store_is_no_trust_roots"]
async fn child_empty_trust_store() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let err = aiostreams::tls::default_client_config().unwrap_err();
    let Error::Tls(TlsError::NoTrustRoots(place)) = &err else {
        panic!("expected NoTrustRoots, got {err:?}");
    };
    eprintln!("{err}");
    assert!(
        place.contains("/nonexistent") && place.contains("/nonexistent-dir"),
        "{err}"
    );
    assert!(
        !place.contains("system"),
        "the system store was not consulted: {err}"
    );
    assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
    // `ssl()` fails the same way, before connecting (nothing listens on port 1).
    let err = ConnectOptions::new()
        .ssl()
        .connect("127.0.0.1", 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(TlsError::NoTrustRoots(_))),
        "{err:?}"
    );
}

#[tokio::test]
#[ignore = "run in a child process by ssl_cert_file_is_the_trust_store"]
async fn child_ssl_cert_file() {
    let (Some(chain), Some(key)) = (
        std::env::var_os("AIOSTREAMS_TEST_CHAIN"),
        std::env::var_os("AIOSTREAMS_TEST_KEY"),
    ) else {
        return;
    };
    bounded(async {
        let server = tls_echo_server(server_config_from_pem(chain, key).unwrap()).await;
        // The CA from SSL_CERT_FILE is trusted.
        let options = ConnectOptions::new().ssl().server_hostname("localhost");
        assert_echoes_with(options, port_of(&server)).await;
    })
    .await;
}
