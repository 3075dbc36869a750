//! `aiostreams bench`: aiostreams against raw tokio, CPython asyncio, uvloop, Redis.
//!
//! Every server runs in its own child process pinned to CPU 0; the load generator (this
//! process, a current-thread tokio runtime, or `redis-benchmark` for the RESP cells) is
//! pinned to CPU 1. For each repetition, each cell is run on each implementation in
//! turn, on a fresh server, in the opposite order every other repetition, so slow drifts
//! of the machine hit every implementation alike. The cells with a timed target get
//! more repetitions for the Rust and Redis servers. The report gives the median over
//! the repetitions with the spread, and every figure's ratio to tokio (= 1.00x): the
//! median of the ratios of runs paired by repetition. `--instructions` counts
//! instructions instead.

mod bulk;
mod cell;
mod chart;
mod client;
mod instructions;
mod load;
mod python_package;
mod report;
mod resp_load;
mod server;
mod system;
mod tls;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use cell::{Cell, Impl};
use load::{Stop, Target, Window};
use report::{JsonReport, Measurement, RunInfo, Summary};
use server::{Launcher, installed};
use tls::TlsFiles;

/// The CPU the servers run on.
const SERVER_CPU: usize = 0;
/// The CPU the load generator runs on.
const LOAD_CPU: usize = 1;

/// A 1-minute load average above this gets a note: the figures will be noisy.
const BUSY_LOAD: f64 = 1.0;

/// `bench` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A shorter run: every cell, 0.25 s warm-up + 0.75 s, 2 repetitions.
    #[arg(long)]
    quick: bool,
    /// Seconds measured per run, after the warm-up [default: 2, quick: 0.75].
    #[arg(long, value_name = "SECS", value_parser = crate::numbers::positive_secs)]
    duration: Option<Duration>,
    /// Runs per cell and implementation; the report gives the median [default: 3, quick: 2].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    repeat: Option<u32>,
    /// Runs of the non-Python implementations in the cells with a timed target (bulk,
    /// RESP, client, lines-x5-c10), where one slow run in three would decide
    /// [default: 3 x --repeat].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    target_repeat: Option<u32>,
    /// Cells to run, comma-separated [default: all].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "CELLS")]
    cells: Vec<Cell>,
    /// Implementations to compare, comma-separated [default: all that can run here].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "IMPLS")]
    impls: Vec<Impl>,
    /// Also write the results as JSON (schema version 2) to PATH.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Also write an SVG chart of the ratios to tokio to PATH (and a PNG beside it when
    /// rsvg-convert is installed).
    #[arg(long, value_name = "PATH")]
    chart: Option<PathBuf>,
    /// Count each server's user-space instructions per request under callgrind instead
    /// of timing it (a fixed number of requests per cell; deterministic).
    #[arg(long)]
    instructions: bool,
    /// Run `aiostreams serve` with read, write and idle timeouts set (60 s, 60 s, 300 s:
    /// they never fire), to measure what the timers cost.
    #[arg(long)]
    timeouts: bool,
    /// The RESP cells' load generator [default: redis-benchmark when installed].
    #[arg(long, value_enum, value_name = "LOAD")]
    resp_load: Option<RespLoad>,
}

/// Who loads the RESP servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum RespLoad {
    /// The real `redis-benchmark -t set,get`.
    #[value(name = "redis-benchmark")]
    RedisBenchmark,
    /// The bench's own RESP client, which checks every answer.
    Builtin,
}

/// `bench-client` flags: one client cell's client for a fixed number of requests (what
/// `bench --instructions` runs under callgrind to count the client's instructions).
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    /// The client cell.
    #[arg(long, value_enum)]
    cell: Cell,
    /// The client: aiostreams or tokio.
    #[arg(long = "impl", value_enum)]
    imp: Impl,
    /// The server's port on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// The server's process id.
    #[arg(long)]
    pid: u32,
    /// Requests per connection.
    #[arg(long)]
    count: u64,
}

/// Runs one client cell's client; fails when any answer was wrong or missing.
pub(crate) fn run_client(args: ClientArgs) -> Result<()> {
    if !args.cell.measures_client() {
        bail!("{} is not a client cell", args.cell.name());
    }
    let target = Target {
        port: args.port,
        pid: args.pid,
        tls: None,
        redis_benchmark: false,
    };
    let load = load::run(args.cell.load(), args.imp, &target, Stop::Count(args.count));
    let sample = crate::runtime::Runtime::Current.build()?.block_on(load)?;
    if let Some(e) = sample.first_error {
        bail!("{} error(s), the first: {e}", sample.errors);
    }
    Ok(())
}

/// What to run, resolved from the flags.
#[derive(Debug)]
struct Plan {
    cells: Vec<Cell>,
    impls: Vec<Impl>,
    repeat: u32,
    /// Repetitions of the pairs [`Plan::repeats`] gives more of (at least `repeat`).
    target_repeat: u32,
    window: Window,
    redis_benchmark: bool,
    /// `--instructions` without `--cells`: Python counted on `PYTHON_COUNTED` only.
    python_subset: bool,
}

/// The cells `--instructions` counts the Python servers on by default: CPython under
/// valgrind takes seconds per start and ~100x longer per request, and all cells would
/// not fit the run's 10 minutes.
const PYTHON_COUNTED: [Cell; 2] = [Cell::Echo1kC10, Cell::LinesX1C10];

impl Plan {
    fn new(args: &Args, launcher: &Launcher, notes: &mut Vec<String>) -> Plan {
        let chosen = |all: &[Cell], picked: &[Cell]| -> Vec<Cell> {
            all.iter()
                .filter(|c| picked.is_empty() || picked.contains(c))
                .copied()
                .collect()
        };
        let impls = Impl::ALL
            .into_iter()
            .filter(|i| args.impls.is_empty() || args.impls.contains(i))
            .filter(|&i| match launcher.unavailable(i) {
                Some(why) => {
                    notes.push(why);
                    false
                }
                None => true,
            })
            .collect::<Vec<Impl>>();
        let (warmup, measure, repeat) = if args.quick {
            (0.25, 0.75, 2)
        } else {
            (0.5, 2.0, 3)
        };
        let window = Window {
            warmup: Duration::from_secs_f64(warmup),
            measure: args.duration.unwrap_or(Duration::from_secs_f64(measure)),
        };
        let repeat = args.repeat.unwrap_or(repeat);
        let target_repeat = args.target_repeat.unwrap_or(3 * repeat).max(repeat);
        let mut cells = chosen(&Cell::ALL, &args.cells);
        let python_subset =
            args.instructions && args.cells.is_empty() && impls.iter().any(|i| i.python());
        if python_subset {
            notes.push(
                "Python servers counted on echo-1k-c10 and lines-x1-c10 only (--cells for more)"
                    .into(),
            );
        }
        if args.instructions {
            let (counted, not): (Vec<Cell>, Vec<Cell>) =
                cells.iter().partition(|&&c| instructions::counts(c));
            if !not.is_empty() {
                let names: Vec<&str> = not.iter().map(|c| c.name()).collect();
                notes.push(format!("no instruction counts for {}", names.join(", ")));
            }
            cells = counted;
        }
        let redis_benchmark = match args.resp_load {
            Some(load) => load == RespLoad::RedisBenchmark,
            None => installed("redis-benchmark"),
        };
        if cells.iter().any(|c| c.resp()) && !args.instructions {
            notes.push(match redis_benchmark {
                true => "resp cells: load from redis-benchmark (answers not checked)".into(),
                false => "resp cells: load from the built-in RESP client \
                          (redis-benchmark not installed or not chosen)"
                    .into(),
            });
        }
        Plan {
            cells,
            impls,
            repeat,
            target_repeat,
            window,
            redis_benchmark,
            python_subset,
        }
    }

    /// The (cell, implementation) pairs measured, in report order.
    fn pairs(&self) -> Vec<(Cell, Impl)> {
        let mut pairs = Vec::new();
        for &cell in &self.cells {
            let counted =
                |i: Impl| !self.python_subset || !i.python() || PYTHON_COUNTED.contains(&cell);
            for &imp in self.impls.iter().filter(|&&i| cell.runs(i) && counted(i)) {
                pairs.push((cell, imp));
            }
        }
        pairs
    }

    /// How many timed runs `cell` gets on `imp`: `target_repeat` where the cell has a
    /// timed target and `imp` is one the targets compare (every non-Python one), else
    /// `repeat`.
    fn repeats(&self, cell: Cell, imp: Impl) -> u32 {
        if cell.timed_target() && !imp.python() {
            self.target_repeat
        } else {
            self.repeat
        }
    }

    fn describe(&self, instructions: bool) -> String {
        let names: Vec<&str> = self.impls.iter().map(|i| i.name()).collect();
        let what = if instructions {
            "instructions under callgrind, 2 fixed-count runs each".to_owned()
        } else {
            let more = if self.target_repeat > self.repeat {
                format!(
                    " ({} in the cells with a timed target, Python aside)",
                    self.target_repeat
                )
            } else {
                String::new()
            };
            format!(
                "{} run(s) each{more}: {:.2} s warm-up + {:.2} s measured",
                self.repeat,
                self.window.warmup.as_secs_f64(),
                self.window.measure.as_secs_f64(),
            )
        };
        format!(
            "bench: {} cells x {} ({}), {} pairs, {what}",
            self.cells.len(),
            names.len(),
            names.join(", "),
            self.pairs().len(),
        )
    }
}

/// Runs the bench and prints the report.
pub(crate) fn run(args: Args) -> Result<()> {
    system::ensure_fd_limit()?;
    let mut notes = Vec::new();
    let load_average = system::load_average();
    if let Some(load) = load_average.filter(|&l| l > BUSY_LOAD) {
        notes.push(format!(
            "load average {load:.1} before the run: other processes compete for the CPUs, \
             expect noisy figures"
        ));
    }
    if args.instructions
        && let Some(why) = instructions::unavailable()
    {
        bail!("--instructions: {why}");
    }
    // Counted before pinning: afterwards this process sees one CPU.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server_cpu = pin_load_generator(&mut notes);
    let mut launcher = Launcher::new(server_cpu)?;
    launcher.timeouts = args.timeouts;
    let plan = Plan::new(&args, &launcher, &mut notes);
    let package = plan
        .impls
        .iter()
        .any(|&i| python_package::uses_package(i))
        .then(|| launcher.package().ok())
        .flatten();
    if let Some(package) = package {
        notes.push(package.note());
    }
    if plan.pairs().is_empty() {
        bail!("nothing can run: {}", notes.join("; "));
    }
    let mut out = std::io::stdout().lock();
    for note in &notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out, "{}", plan.describe(args.instructions))?;
    out.flush()?;
    drop(out);
    let info = RunInfo {
        date: system::utc_now(),
        load_average,
        cpus,
        kernel: system::kernel(),
        cpu_model: system::cpu_model(),
        notes,
        python_package: package.map(|p| p.info.clone()),
    };
    let tls = if plan.cells.iter().any(|c| c.tls()) {
        Some(TlsFiles::generate().context("making the TLS cells' certificates")?)
    } else {
        None
    };
    let summaries = if args.instructions {
        count_all(&plan, &launcher, tls.as_ref())?
    } else {
        measure_all(&plan, &launcher, tls.as_ref())?
    };
    print!("\n{}", report::table(&summaries));
    write_outputs(&args, &plan, &info, &summaries)?;
    let failed: u64 = summaries.iter().map(|s| s.median.errors).sum();
    if failed > 0 {
        bail!("{failed} error(s) during the bench (see above)");
    }
    Ok(())
}

/// Pins this process to `LOAD_CPU`; returns the CPU for servers, or `None` (with a
/// note) when pinning is not possible here.
fn pin_load_generator(notes: &mut Vec<String>) -> Option<usize> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 {
        notes.push(format!(
            "only {cpus} CPU: servers and load generator run unpinned"
        ));
        return None;
    }
    if !system::has_taskset() {
        notes.push("taskset (util-linux) not found: running unpinned".into());
        return None;
    }
    match system::pin_self(LOAD_CPU) {
        Ok(()) => Some(SERVER_CPU),
        Err(e) => {
            notes.push(format!(
                "cannot pin the load generator ({e:#}): running unpinned"
            ));
            None
        }
    }
}

fn measure_all(plan: &Plan, launcher: &Launcher, tls: Option<&TlsFiles>) -> Result<Vec<Summary>> {
    let runtime = crate::runtime::Runtime::Current.build()?;
    let ticks_per_sec = system::clock_ticks_per_sec();
    let pairs = plan.pairs();
    let repeats: Vec<u32> = pairs.iter().map(|&(c, i)| plan.repeats(c, i)).collect();
    let progress = progress_bar(repeats.iter().map(|&n| u64::from(n)).sum());
    let mut runs: Vec<Vec<Measurement>> = vec![Vec::new(); pairs.len()];
    for rep in 1..=plan.target_repeat {
        for p in run_order(&pairs, rep, |p| rep <= repeats[p]) {
            let (cell, imp) = pairs[p];
            let what = format!("{} on {}", cell.name(), imp.name());
            progress.set_message(format!("{what}, run {rep}/{}", repeats[p]));
            let measured = measure(&runtime, launcher, plan, cell, imp, tls);
            let (measurement, problem) = match measured {
                Ok(sample) => {
                    let problem = sample
                        .first_error
                        .clone()
                        .map(|e| format!("{} error(s), the first: {e}", sample.errors));
                    (Measurement::of(&sample, ticks_per_sec), problem)
                }
                Err(e) => (Measurement::failed(), Some(format!("{e:#}"))),
            };
            if let Some(problem) = problem {
                progress.suspend(|| eprintln!("{what}, run {rep}: {problem}"));
            }
            runs[p].push(measurement);
            progress.inc(1);
        }
    }
    progress.finish_and_clear();
    let summaries = pairs
        .iter()
        .zip(&runs)
        .map(|(&(cell, imp), runs)| Summary::of(cell, imp, runs))
        .collect();
    Ok(summaries)
}

/// The pairs (indices into `pairs`, grouped by cell) that repetition `rep` (from 1) runs,
/// those `runs` says, in order: within each cell, the implementations in report order,
/// reversed in every other repetition, so that none always runs first or after the
/// same neighbour.
fn run_order(pairs: &[(Cell, Impl)], rep: u32, runs: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut order = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let cell = pairs[start].0;
        let end = start + pairs[start..].iter().take_while(|p| p.0 == cell).count();
        let mut group: Vec<usize> = (start..end).filter(|&p| runs(p)).collect();
        if rep.is_multiple_of(2) {
            group.reverse();
        }
        order.extend(group);
        start = end;
    }
    order
}

/// `--instructions`: each pair counted once (two callgrind runs).
fn count_all(plan: &Plan, launcher: &Launcher, tls: Option<&TlsFiles>) -> Result<Vec<Summary>> {
    let runtime = crate::runtime::Runtime::Current.build()?;
    let dir = instructions::OutDir::new()?;
    let pairs = plan.pairs();
    let progress = progress_bar(pairs.len() as u64);
    let mut summaries = Vec::new();
    for (cell, imp) in pairs {
        let what = format!("{} on {}", cell.name(), imp.name());
        progress.set_message(what.clone());
        let tls = tls.filter(|_| cell.tls());
        let counted = instructions::measure(&runtime, launcher, cell, imp, tls, &dir.0);
        summaries.push(counted.unwrap_or_else(|e| {
            progress.suspend(|| eprintln!("{what}: {e:#}"));
            Summary::of(cell, imp, &[Measurement::failed()])
        }));
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(summaries)
}

/// One run: a fresh server, the cell's load, the server killed.
fn measure(
    runtime: &tokio::runtime::Runtime,
    launcher: &Launcher,
    plan: &Plan,
    cell: Cell,
    imp: Impl,
    tls: Option<&TlsFiles>,
) -> Result<load::Sample> {
    let tls = tls.filter(|_| cell.tls());
    let server = launcher.start(imp, cell, tls, None)?;
    let target = Target {
        port: server.port,
        pid: server.pid(),
        tls: tls.map(TlsFiles::connector).transpose()?,
        redis_benchmark: plan.redis_benchmark,
    };
    let mut sample = runtime.block_on(load::run(
        cell.load(),
        imp,
        &target,
        Stop::Window(plan.window),
    ))?;
    if !cell.measures_client() {
        sample.client_cpu = None;
    }
    Ok(sample)
}

/// A progress bar on stderr, hidden in CI and when stdout or stderr is not a terminal.
fn progress_bar(total: u64) -> ProgressBar {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if ci || !std::io::stderr().is_terminal() || !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
        .expect("valid progress template");
    ProgressBar::new(total).with_style(style)
}

fn write_outputs(args: &Args, plan: &Plan, info: &RunInfo, summaries: &[Summary]) -> Result<()> {
    if let Some(path) = &args.json {
        let report = JsonReport::new(args.quick, args.instructions, info.clone(), summaries);
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.chart {
        if plan.impls.contains(&Impl::Tokio) {
            chart::write(path, summaries, info, args.instructions)?;
        } else {
            eprintln!("note: no chart: the chart shows ratios to tokio, which was not run");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::run_order;
    use crate::bench::cell::{Cell, Impl};

    #[test]
    fn every_other_repetition_runs_each_cell_backwards() {
        let pairs = [
            (Cell::Echo1kC10, Impl::Aiostreams),
            (Cell::Echo1kC10, Impl::Tokio),
            (Cell::Bulk1g, Impl::Aiostreams),
            (Cell::Bulk1g, Impl::Tokio),
            (Cell::Bulk1g, Impl::Asyncio),
        ];
        assert_eq!(run_order(&pairs, 1, |_| true), [0, 1, 2, 3, 4]);
        assert_eq!(run_order(&pairs, 2, |_| true), [1, 0, 4, 3, 2]);
        assert_eq!(run_order(&pairs, 4, |p| p >= 2 && p != 4), [3, 2]);
    }
}
