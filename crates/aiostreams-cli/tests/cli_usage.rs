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

/// Each row: the arguments, and what the message must mention.
const USAGE_ERRORS: &[(&[&str], &str)] = &[
    // serve rejects an unknown mode
    (&["serve", "--mode", "bogus"], "invalid value 'bogus'"),
    // connect needs a host and a port, not both a host and --unix
    (&["connect"], "required arguments were not provided"),
    (
        &["connect", "h", "1", "--unix", "/tmp/x"],
        "cannot be used with",
    ),
    // serve's --tls-cert and --tls-key go together
    (&["serve", "--tls-cert", "c.pem"], "--tls-key"),
    (&["serve", "--tls-key", "k.pem"], "--tls-cert"),
    // connect's --ca and --server-name need --tls; TLS over Unix needs a server name
    (&["connect", "h", "1", "--ca", "ca.pem"], "--tls"),
    (&["connect", "h", "1", "--server-name", "h"], "--tls"),
    (
        &["connect", "--unix", "/tmp/x", "--tls"],
        "--tls with --unix needs --server-name",
    ),
    // bench rejects an unknown cell or implementation
    (&["bench", "--cells", "nope"], "invalid value 'nope'"),
    (&["bench", "--impls", "node"], "invalid value 'node'"),
    (&["frobnicate"], "unrecognized subcommand"),
];

#[test]
fn bad_arguments_are_usage_errors_that_name_the_problem() {
    for (args, mentions) in USAGE_ERRORS {
        assert_usage_error(args, mentions);
    }
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

/// Every numeric option is checked when the command line is parsed: exit 2 and a
/// message with the accepted range, never a panic (`1e20` seconds overflowed a
/// `Duration`) nor a silent clamp (`--max-connections 0` became 1).
#[test]
fn numeric_options_are_checked_at_parse_time() {
    let secs = "expected a number of seconds from 0 up to 1e6";
    let positive = "expected a number of seconds above 0 up to 1e6";
    let bytes = "expected a whole number from 1 to 1073741824";
    let cases: &[(&[&str], &str)] = &[
        (&["serve", "--shutdown-deadline", "1e20"], secs),
        (&["serve", "--shutdown-deadline=-1"], secs),
        (&["serve", "--shutdown-deadline", "nan"], secs),
        (&["serve", "--shutdown-deadline", "inf"], secs),
        (
            &["serve", "--max-connections", "0"],
            "expected a whole number from 1 to 10000000",
        ),
        (
            &["serve", "--max-connections=-3"],
            "expected a whole number from 1 to 10000000",
        ),
        (
            &["serve", "--max-connections", "99999999999"],
            "from 1 to 10000000",
        ),
        (
            &["serve", "--backlog", "0"],
            "expected a whole number from 1 to 65535",
        ),
        (
            &["serve", "--backlog", "65536"],
            "expected a whole number from 1 to 65535",
        ),
        (&["serve", "--limit", "0"], bytes),
        (&["serve", "--limit", "2000000000"], bytes),
        (&["serve", "--limit", "64k"], bytes),
        (&["serve", "--port", "65536"], "65536 is not in 0..=65535"),
        (&["serve", "--read-timeout", "0"], positive),
        (&["serve", "--write-timeout", "1e30"], positive),
        (&["serve", "--idle-timeout=-1"], positive),
        (&["serve", "--idle-timeout", "nan"], positive),
        (
            &[
                "serve",
                "--tls-cert",
                "c",
                "--tls-key",
                "k",
                "--handshake-timeout",
                "0",
            ],
            positive,
        ),
        (&["connect", "h", "1", "--timeout", "0"], positive),
        (&["connect", "h", "1", "--timeout", "1e30"], positive),
        (&["connect", "h", "1", "--connect-timeout=-0.5"], positive),
        (&["connect", "h", "70000"], "70000 is not in 0..=65535"),
        (&["headers", "--timeout", "0"], positive),
        (&["headers", "--connect-timeout", "1e400"], positive),
        (&["headers", "--max-header-bytes", "0"], bytes),
        (&["bench", "--duration", "1e30"], positive),
        (&["bench", "--duration", "0"], positive),
        (&["bench", "--repeat", "0"], "0 is not in 1.."),
    ];
    for (args, mentions) in cases {
        assert_usage_error(args, mentions);
        // The message names the option it is about.
        let option = args.iter().rev().find(|a| a.starts_with("--"));
        if let Some(option) = option.map(|o| o.split('=').next().unwrap()) {
            assert_usage_error(args, &format!("for '{option} <"));
        }
    }
}

/// `--handshake-timeout` is about TLS: without `--tls-cert` it is a usage error.
#[test]
fn serve_handshake_timeout_needs_tls() {
    assert_usage_error(&["serve", "--handshake-timeout", "5"], "--tls-cert");
}

#[test]
fn serve_rejects_an_unknown_overlong_policy() {
    assert_usage_error(
        &["serve", "--on-overlong", "truncate"],
        "invalid value 'truncate'",
    );
}

#[test]
fn log_level_rejects_an_unknown_level() {
    assert_usage_error(&["--log-level", "loud", "serve"], "invalid value 'loud'");
}
