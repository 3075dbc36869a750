//! The library's integration tests, linked as ONE test binary (`autotests = false` in
//! `Cargo.toml`): one link of tokio, rustls and the library instead of one per file.
//!
//! **Add a new test file here**: put it beside this one (`tests/my_topic.rs`) and add
//! `mod my_topic;` below, in order. Shared helpers live in `tests/support/` and are used
//! as `crate::support::...`. A file grown past a few hundred lines becomes a directory
//! module (`tests/my_topic/mod.rs`: its docs and the helpers its tests share, then one
//! file per concept; `tls_failures/`, `tls_interop/`, `reader_chunking/`).
//!
//! Run one file's tests with its module path as the filter:
//! `cargo test -p aiostreams --test all reader_parity::` (or one test:
//! `cargo test -p aiostreams --test all reader_parity::some_test -- --exact`).
//!
//! `server_scale.rs` and `soak.rs` are not here: they count this process's descriptors
//! (and memory), so each is a binary of its own (`[[test]] name = "server_scale"`, `"soak"`).

mod support;

// Every `tests/*.rs` file is a module below (a forgotten one would never be compiled).
#[test]
fn every_test_file_is_declared_here() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let missing = support::layout::undeclared_test_files(
        &dir,
        include_str!("all.rs"),
        &["server_scale", "soak"],
    );
    assert!(
        missing.is_empty(),
        "add `mod NAME;` to tests/all.rs for: {missing:?}"
    );
}

mod codec_decode;
#[cfg(feature = "tls")]
mod connect_options;
mod connection_timeouts;
mod examples_client;
mod examples_server;
mod frame_read_write;
mod idle_watchdog;
mod interop_asyncio;
mod metrics_counters;
mod protocol_layer;
#[cfg(unix)]
mod protocol_server;
mod protocol_timeouts;
mod reader_bulk;
mod reader_cancel;
mod reader_chunking;
mod reader_cpython_read;
mod reader_cpython_readline;
mod reader_cpython_readuntil;
mod reader_cpython_state;
mod reader_fast_path;
mod reader_limits;
mod reader_overlong_line;
mod reader_parity;
mod reader_peek;
mod reader_record_limit;
mod reader_wakeups;
mod server_cpython;
mod server_faults;
mod server_interop;
mod server_lifecycle;
mod server_limits;
mod server_linger;
mod server_proxy_protocol;
#[cfg(unix)]
mod socket_parity;
#[cfg(target_os = "linux")]
mod socket_tuning;
#[cfg(unix)]
mod subprocess;
#[cfg(feature = "tls")]
mod tls_behaviour;
#[cfg(feature = "tls")]
mod tls_failures;
#[cfg(feature = "tls")]
mod tls_interop;
#[cfg(feature = "tls")]
mod tls_start_tls;
mod write_timeout_slow_reader;
#[cfg(unix)]
mod writer_any_io;
mod writer_asyncwrite;
mod writer_cpython;
mod writer_detach;
mod writer_faults;
mod writer_flow;
mod writer_many;
mod writer_pipelined;
#[cfg(unix)]
mod writer_sendfile;
