//! `bench --instructions`: user-space instructions per request, counted by callgrind.
//!
//! Deterministic where CPU time is noise: each server runs under `valgrind
//! --tool=callgrind` twice, once for a small and once for a large fixed number of
//! requests per connection, and stops on SIGINT (callgrind then writes its totals).
//! Instructions per request is the difference of the two totals over the difference of
//! the request counts, so start-up and shutdown cancel out. (`perf stat -e instructions:u`
//! would be cheaper, but these machines' kernels do not expose the counter.)
//!
//! In the client cells the client is what is counted: this executable's hidden
//! `bench-client` runs the cell's client (aiostreams or tokio) under callgrind against a
//! tokio server running natively. Left out: `idle-1000` (memory), and, as counts per
//! byte would take minutes under valgrind, the bulk cells and `echo-100k-c10`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::cell::{Cell, Impl, Load};
use super::load::{self, Stop, Target};
use super::report::{Measurement, Summary};
use super::server::{Launcher, Wrapper, installed};
use super::tls::TlsFiles;

/// Whether `cell` is counted by `--instructions`.
pub(crate) fn counts(cell: Cell) -> bool {
    match cell.load() {
        Load::RoundTrips { bytes, .. } => bytes <= MAX_BYTES,
        Load::Handshakes { .. } | Load::Resp { .. } | Load::Client { .. } => true,
        Load::Idle { .. } | Load::Bulk { .. } => false,
    }
}

/// The largest request counted.
const MAX_BYTES: usize = 16 * 1024;

/// Why instructions cannot be counted here, if they cannot.
pub(crate) fn unavailable() -> Option<String> {
    (!installed("valgrind")).then(|| "valgrind not found (apt-get install valgrind)".into())
}

/// The small and the large request counts per connection (loop) of a cell.
fn request_counts(cell: Cell, imp: Impl) -> (u64, u64) {
    let (small, large) = match cell.load() {
        Load::Handshakes { .. } => (3, 9),
        Load::RoundTrips { connections, .. } if connections > 10 => (20, 60),
        Load::Resp { pipeline, .. } if pipeline > 1 => (160, 480),
        Load::Resp { .. } => (40, 120),
        Load::Client { pipeline, .. } if pipeline > 1 => (320, 960),
        _ => (100, 300),
    };
    // CPython under valgrind is some 30 times slower again: fewer requests (its
    // ~50,000 instructions per request dwarf the start-up's noise anyway).
    if imp.python() {
        (small / 5 + 1, large / 5 + 2)
    } else {
        (small, large)
    }
}

/// Counts instructions per request of `cell` on `imp`.
pub(crate) fn measure(
    runtime: &tokio::runtime::Runtime,
    launcher: &Launcher,
    cell: Cell,
    imp: Impl,
    tls: Option<&TlsFiles>,
    dir: &Path,
) -> Result<Summary> {
    let (small, large) = request_counts(cell, imp);
    let run = Run {
        runtime,
        launcher,
        cell,
        imp,
        tls,
        dir,
    };
    let ((ir_small, errors_small), (ir_large, errors_large)) = if cell.measures_client() {
        (run.count_client(small)?, run.count_client(large)?)
    } else {
        (run.count(small)?, run.count(large)?)
    };
    let connections = match cell.load() {
        Load::RoundTrips { connections, .. }
        | Load::Resp { connections, .. }
        | Load::Client { connections, .. } => connections,
        Load::Handshakes { loops } => loops,
        _ => bail!("{} is not counted", cell.name()),
    };
    let requests = ((large - small) * connections as u64) as f64;
    let per_req = ir_large.saturating_sub(ir_small) as f64 / requests;
    let measurement = Measurement {
        instructions_per_req: Some(per_req),
        errors: errors_small + errors_large,
        ..Measurement::default()
    };
    Ok(Summary::of(cell, imp, &[measurement]))
}

/// What the callgrind runs of one cell on one implementation need.
struct Run<'a> {
    runtime: &'a tokio::runtime::Runtime,
    launcher: &'a Launcher,
    cell: Cell,
    imp: Impl,
    tls: Option<&'a TlsFiles>,
    dir: &'a Path,
}

impl Run<'_> {
    /// One callgrind run of `per_conn` requests per connection: the server's total
    /// instructions, and the errors the load saw.
    fn count(&self, per_conn: u64) -> Result<(u64, u64)> {
        let (cell, imp, tls) = (self.cell, self.imp, self.tls);
        let out = out_file(self.dir, cell, imp, per_conn);
        let wrapper = Wrapper {
            command: callgrind(&out),
        };
        let server = self.launcher.start(imp, cell, tls, Some(&wrapper))?;
        let target = Target {
            port: server.port,
            pid: server.pid(),
            tls: tls.map(TlsFiles::connector).transpose()?,
            redis_benchmark: false,
        };
        let load = load::run(cell.load(), imp, &target, Stop::Count(per_conn));
        let sample = self.runtime.block_on(load)?;
        server.stop()?;
        Ok((take_totals(&out)?, sample.errors))
    }

    /// One callgrind run of the client cell's client (`bench-client`, a child process)
    /// for `per_conn` requests per connection, against a native tokio server.
    fn count_client(&self, per_conn: u64) -> Result<(u64, u64)> {
        let (cell, imp) = (self.cell, self.imp);
        let out = out_file(self.dir, cell, imp, per_conn);
        let server = self.launcher.start(imp, cell, None, None)?;
        let argv = callgrind(&out);
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .arg(std::env::current_exe()?)
            .arg("bench-client")
            .args(["--cell", cell.name(), "--impl", imp.name()])
            .args([
                "--port",
                &server.port.to_string(),
                "--pid",
                &server.pid().to_string(),
            ])
            .args(["--count", &per_conn.to_string()])
            .status()
            .context("running the client under valgrind")?;
        if !status.success() {
            bail!("the {} client under callgrind failed: {status}", imp.name());
        }
        Ok((take_totals(&out)?, 0))
    }
}

fn callgrind(out: &Path) -> Vec<OsString> {
    let mut file = OsString::from("--callgrind-out-file=");
    file.push(out);
    let mut argv: Vec<OsString> = vec!["valgrind".into(), "--tool=callgrind".into(), "-q".into()];
    if std::env::var_os(KEEP_ENV).is_some() {
        // Kept files are for callgrind_annotate: per instruction, not only per line.
        argv.push("--dump-instr=yes".into());
    }
    argv.push(file);
    argv
}

/// Where callgrind writes the counts of one run.
fn out_file(dir: &Path, cell: Cell, imp: Impl, per_conn: u64) -> PathBuf {
    dir.join(format!(
        "{}-{}-{per_conn}.callgrind",
        cell.name(),
        imp.name()
    ))
}

/// Set to a directory, callgrind's files are moved there instead of removed (to read
/// with `callgrind_annotate`: the difference of a cell's two files per function is where
/// the instructions per request go).
const KEEP_ENV: &str = "AIOSTREAMS_BENCH_KEEP_CALLGRIND";

/// The `totals:` (or `summary:`) line of a callgrind output file, which is then removed
/// (or kept, see [`KEEP_ENV`]).
fn take_totals(path: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading callgrind's {}", path.display()))?;
    match (std::env::var_os(KEEP_ENV), path.file_name()) {
        (Some(dir), Some(name)) => std::fs::rename(path, Path::new(&dir).join(name))
            .with_context(|| format!("moving {} into {KEEP_ENV}", path.display()))?,
        _ => {
            let _ = std::fs::remove_file(path);
        }
    }
    parse_totals(&text).with_context(|| format!("no totals in {}", path.display()))
}

fn parse_totals(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("totals:") || l.starts_with("summary:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A temporary directory for callgrind's files, removed when dropped.
#[derive(Debug)]
pub(crate) struct OutDir(pub(crate) PathBuf);

impl OutDir {
    /// Creates it.
    pub(crate) fn new() -> Result<OutDir> {
        let dir = std::env::temp_dir().join(format!("aiostreams-callgrind-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(OutDir(dir))
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_totals;

    #[test]
    fn totals_line_of_callgrind_output() {
        let out = "events: Ir\nfn=main\n1 5\nsummary: 1234\ntotals: 98765\n";
        assert_eq!(parse_totals(out), Some(98765));
        assert_eq!(parse_totals("events: Ir\n"), None);
    }
}
