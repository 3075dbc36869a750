//! A tiny `bench` run writes the JSON report (schema version 2) with zero errors.
//! No timing is asserted.

use crate::support::{aiostreams, run, temp::TempDir};
use serde_json::Value;

#[test]
fn quick_bench_writes_valid_json() {
    quick_bench_of("echo-1k-c10");
}

/// A client cell: the aiostreams client and the expert tokio client against the tokio
/// server, each answer verified; the client's CPU is reported.
#[test]
fn quick_client_bench_reports_client_cpu() {
    quick_bench_of("client-pipeline-x16-c10");
}

/// A RESP cell with the built-in RESP client (it checks every answer): the resp_server
/// example against its raw tokio twin.
#[test]
fn quick_resp_bench_checks_every_answer() {
    quick_bench_of("resp-p16-c50");
}

/// The TLS echo cell: the bench makes its own certificates, both servers serve TLS, the
/// load generator verifies them and every echoed byte.
#[test]
fn quick_tls_bench_writes_valid_json() {
    quick_bench_of("tls-echo-1k-c10");
}

/// `bench --quick --cells CELL --impls aiostreams,tokio --duration 1 --json PATH`.
fn quick_bench_of(cell: &str) {
    let dir = TempDir::new("bench-test");
    let json = dir.path().join("bench.json");
    let mut cmd = aiostreams();
    cmd.args([
        "bench",
        "--quick",
        "--cells",
        cell,
        "--impls",
        "aiostreams,tokio",
    ])
    .args([
        "--duration",
        "0.5",
        "--repeat",
        "1",
        "--target-repeat",
        "1",
        "--resp-load",
        "builtin",
    ])
    .arg("--json")
    .arg(&json)
    .env("CI", "true");
    let output = run(cmd, b"");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bench failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(cell), "no table: {stdout}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["version"], 2);
    assert_eq!(report["quick"], true);
    assert_eq!(report["instructions"], false);
    assert!(
        report["run"]["date"].as_str().unwrap().ends_with('Z'),
        "{report}"
    );
    assert!(report["run"]["cpus"].as_u64().unwrap() >= 1, "{report}");
    let results = report["results"].as_array().unwrap();
    let impls: Vec<&str> = results
        .iter()
        .map(|r| r["impl"].as_str().unwrap())
        .collect();
    assert_eq!(impls, ["aiostreams", "tokio"]);
    for row in results {
        assert_row_schema(row, cell);
    }
}

fn assert_row_schema(row: &Value, cell: &str) {
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "cell",
        "impl",
        "req_per_s",
        "p50_us",
        "p99_us",
        "server_cpu_us_per_req",
        "server_rss_bytes",
        "rss_bytes_per_conn",
        "verified_bytes",
        "errors",
        "server",
        "client_cpu_us_per_req",
        "gb_per_s",
        "cpu_s_per_gb",
        "instructions_per_req",
        "runs",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(row["cell"], cell);
    for figure in ["req_per_s", "p50_us", "p99_us", "server_cpu_us_per_req"] {
        assert!(row[figure].as_f64().unwrap() >= 0.0, "{figure} in {row}");
    }
    assert!(row["req_per_s"].as_f64().unwrap() > 0.0, "{row}");
    assert!(row["server_rss_bytes"].as_u64().unwrap() > 0, "{row}");
    assert!(row["rss_bytes_per_conn"].is_null(), "{row}");
    let client_cell = cell.starts_with("client-");
    assert_eq!(
        row["client_cpu_us_per_req"].is_number(),
        client_cell,
        "{row}"
    );
    let server = if client_cell {
        "tokio-buffered"
    } else {
        row["impl"].as_str().unwrap()
    };
    assert_eq!(row["server"], server, "{row}");
    for absent in ["gb_per_s", "cpu_s_per_gb", "instructions_per_req"] {
        assert!(row[absent].is_null(), "{absent} in {row}");
    }
    assert!(row["verified_bytes"].as_u64().unwrap() > 0, "{row}");
    assert_eq!(row["errors"], 0, "{row}");
    // One run (--repeat 1): its own figures are the medians.
    let runs = row["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{row}");
    for figure in [
        "req_per_s",
        "server_cpu_us_per_req",
        "client_cpu_us_per_req",
    ] {
        assert_eq!(runs[0][figure], row[figure], "{figure} in {row}");
    }
}

/// `--instructions` (only where valgrind is installed; CI machines have none): both
/// servers counted on one cell, a positive count each. Ignored by default: two debug
/// builds under valgrind take minutes on a busy machine (`-- --ignored` runs it).
#[test]
#[ignore = "valgrind, minutes on a busy machine: cargo test -p aiostreams-cli -- --ignored"]
fn instructions_run_counts_both_servers() {
    let valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !valgrind {
        eprintln!("valgrind not installed: skipped");
        return;
    }
    let dir = TempDir::new("bench-instructions");
    let json = dir.path().join("bench.json");
    let mut cmd = aiostreams();
    cmd.args(["bench", "--instructions", "--cells", "lines-x1-c10"])
        .args(["--impls", "aiostreams,tokio", "--json"])
        .arg(&json)
        .env("CI", "true");
    let output = run(cmd, b"");
    assert!(
        output.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["instructions"], true);
    for row in report["results"].as_array().unwrap() {
        let count = row["instructions_per_req"].as_f64().unwrap();
        assert!(count > 100.0, "{row}");
        assert_eq!(row["errors"], 0, "{row}");
    }
}
