//! The CLI's integration tests, linked as ONE test binary (`autotests = false` in
//! `Cargo.toml`), as the library's `tests/all.rs`.
//!
//! **Add a new test file here**: put it beside this one and add `mod my_topic;` below.
//! Shared helpers live in `tests/support/` (`crate::support::...`). Run one file's tests
//! with its module path as the filter: `cargo test -p aiostreams-cli --test all cli_usage::`.

mod support;

// Every `tests/*.rs` file is a module below (a forgotten one would never be compiled).
#[test]
fn every_test_file_is_declared_here() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let missing = support::layout::undeclared_test_files(&dir, include_str!("all.rs"), &[]);
    assert!(
        missing.is_empty(),
        "add `mod NAME;` to tests/all.rs for: {missing:?}"
    );
}

mod bench_json;
mod cli_usage;
mod client_limits;
mod headers_local;
mod resp_serve;
mod serve_connect;
mod serve_logs;
mod serve_timeouts;
mod tls_config_errors;
mod tls_serve_connect;
