//! The CLI's integration tests, linked as ONE test binary (`autotests = false` in
//! `Cargo.toml`), as the library's `tests/all.rs`.
//!
//! **Add a new test file here**: put it beside this one and add `mod my_topic;` below.
//! Shared helpers live in `tests/support/` (`crate::support::...`). Run one file's tests
//! with its module path as the filter: `cargo test -p aiostreams-cli --test all cli_usage::`.

mod support;

mod bench_json;
mod cli_usage;
mod headers_local;
mod serve_connect;
mod tls_serve_connect;
