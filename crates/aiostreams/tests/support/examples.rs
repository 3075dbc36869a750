//! Our examples as programs: built once per test run (one `cargo build` for all of them,
//! a no-op when `cargo test` already built them), found from cargo's JSON messages.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::OnceCell;

/// Building may wait for the build-directory lock while other builds run.
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// Every example a test runs.
const EXAMPLES: [&str; 8] = [
    "get_http_headers",
    "register_open_socket",
    "tcp_echo_client",
    "tcp_echo_server",
    "tls_echo_client",
    "tls_echo_server",
    "unix_echo_client",
    "unix_echo_server",
];

/// The path of example `name`'s executable, building all of [`EXAMPLES`] on first use.
pub(crate) async fn example(name: &str) -> PathBuf {
    static BUILT: OnceCell<HashMap<String, PathBuf>> = OnceCell::const_new();
    let built = BUILT.get_or_init(build_examples).await;
    built
        .get(name)
        .unwrap_or_else(|| panic!("cargo reported no executable for example {name}"))
        .clone()
}

/// `cargo build --example ...` (a no-op when `cargo test` already built them).
async fn build_examples() -> HashMap<String, PathBuf> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            "aiostreams",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for name in EXAMPLES {
        cargo.args(["--example", name]);
    }
    let out = tokio::time::timeout(BUILD_TIMEOUT, cargo.output())
        .await
        .expect("cargo build --example timed out")
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo build of the examples failed: {}",
        out.status
    );
    executables(&out.stdout)
}

/// Example name -> `executable`, from cargo's `compiler-artifact` messages.
fn executables(json_lines: &[u8]) -> HashMap<String, PathBuf> {
    let text = String::from_utf8_lossy(json_lines);
    text.lines()
        .filter_map(|line| {
            let msg: serde_json::Value = serde_json::from_str(line).ok()?;
            let target = &msg["target"];
            let is_example = target["kind"].as_array()?.iter().any(|k| k == "example");
            let exe = msg["executable"].as_str().filter(|_| is_example)?;
            Some((target["name"].as_str()?.to_owned(), PathBuf::from(exe)))
        })
        .collect()
}
