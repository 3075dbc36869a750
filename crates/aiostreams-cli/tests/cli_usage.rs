//! Bad arguments: a clear message on stderr and exit code 2.

use crate::support::{aiostreams, run};

fn assert_usage_error(args: &[&str], mentions: &str) {
    let mut cmd = aiostreams();
    cmd.args(args);
    let output = run(cmd, b"");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(mentions),
        "{args:?}: {mentions:?} not in {stderr}"
    );
}

#[test]
fn serve_rejects_an_unknown_mode() {
    assert_usage_error(&["serve", "--mode", "bogus"], "invalid value 'bogus'");
}

#[test]
fn connect_needs_host_and_port() {
    assert_usage_error(&["connect"], "required arguments were not provided");
}

#[test]
fn connect_rejects_host_with_unix() {
    assert_usage_error(
        &["connect", "h", "1", "--unix", "/tmp/x"],
        "cannot be used with",
    );
}

#[test]
fn serve_tls_cert_and_key_go_together() {
    assert_usage_error(&["serve", "--tls-cert", "c.pem"], "--tls-key");
    assert_usage_error(&["serve", "--tls-key", "k.pem"], "--tls-cert");
}

#[test]
fn connect_ca_and_server_name_need_tls() {
    assert_usage_error(&["connect", "h", "1", "--ca", "ca.pem"], "--tls");
    assert_usage_error(&["connect", "h", "1", "--server-name", "h"], "--tls");
}

#[test]
fn connect_tls_over_unix_needs_a_server_name() {
    assert_usage_error(
        &["connect", "--unix", "/tmp/x", "--tls"],
        "--tls with --unix needs --server-name",
    );
}

#[test]
fn bench_rejects_an_unknown_cell() {
    assert_usage_error(&["bench", "--cells", "nope"], "invalid value 'nope'");
}

#[test]
fn bench_rejects_an_unknown_impl() {
    assert_usage_error(&["bench", "--impls", "node"], "invalid value 'node'");
}

#[test]
fn unknown_subcommand() {
    assert_usage_error(&["frobnicate"], "unrecognized subcommand");
}

/// A refused connection is an error (exit 1) with the reason, not a usage error.
#[test]
fn connect_refused_is_exit_1() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut cmd = aiostreams();
    cmd.args(["connect", "127.0.0.1", &port.to_string()]);
    let output = run(cmd, b"");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
}
