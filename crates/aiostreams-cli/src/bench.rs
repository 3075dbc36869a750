//! `aiostreams bench`: aiostreams against raw tokio, CPython asyncio and uvloop.
//!
//! Every server runs in its own child process pinned to CPU 0; the load generator (this
//! process, a current-thread tokio runtime) is pinned to CPU 1. For each repetition,
//! each cell is run on each implementation in turn, on a fresh server, so slow drifts of
//! the machine hit every implementation alike. The report gives the median over the
//! repetitions with the spread, and every figure's ratio to tokio (= 1.00x).

mod cell;
mod chart;
mod load;
mod report;
mod server;
mod system;
mod tls;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use cell::{Cell, Impl};
use load::{Target, Window};
use report::{JsonReport, Measurement, Summary};
use server::Launcher;
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
    /// A short run (about a minute): short windows, 2 repetitions.
    #[arg(long)]
    quick: bool,
    /// Seconds measured per run, after the warm-up [default: 3, quick: 0.75].
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    duration: Option<f64>,
    /// Runs per cell and implementation; the report gives the median [default: 3, quick: 2].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    repeat: Option<u32>,
    /// Cells to run, comma-separated [default: all].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "CELLS")]
    cells: Vec<Cell>,
    /// Implementations to compare, comma-separated [default: all that can run here].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "IMPLS")]
    impls: Vec<Impl>,
    /// Also write the results as JSON (schema version 1) to PATH.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Also write an SVG bar chart of the ratios to tokio to PATH.
    #[arg(long, value_name = "PATH")]
    chart: Option<PathBuf>,
}

fn parse_duration(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a number of seconds > 0, got {s:?}")),
    }
}

/// What to run, resolved from the flags.
#[derive(Debug)]
struct Plan {
    cells: Vec<Cell>,
    impls: Vec<Impl>,
    repeat: u32,
    window: Window,
}

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
            .collect();
        let (warmup, measure, repeat) = if args.quick {
            (0.25, 0.75, 2)
        } else {
            (1.0, 3.0, 3)
        };
        let window = Window {
            warmup: Duration::from_secs_f64(warmup),
            measure: Duration::from_secs_f64(args.duration.unwrap_or(measure)),
        };
        let repeat = args.repeat.unwrap_or(repeat);
        Plan {
            cells: chosen(&Cell::ALL, &args.cells),
            impls,
            repeat,
            window,
        }
    }

    fn describe(&self) -> String {
        let names: Vec<&str> = self.impls.iter().map(|i| i.name()).collect();
        format!(
            "bench: {} cells x {} ({}), {} run(s) each: {:.2} s warm-up + {:.2} s measured",
            self.cells.len(),
            names.len(),
            names.join(", "),
            self.repeat,
            self.window.warmup.as_secs_f64(),
            self.window.measure.as_secs_f64(),
        )
    }
}

/// Runs the bench and prints the report.
pub(crate) fn run(args: Args) -> Result<()> {
    system::ensure_fd_limit()?;
    let mut notes = Vec::new();
    if let Some(load) = system::load_average().filter(|&l| l > BUSY_LOAD) {
        notes.push(format!(
            "load average {load:.1} before the run: other processes compete for the CPUs, \
             expect noisy figures"
        ));
    }
    let server_cpu = pin_load_generator(&mut notes);
    let launcher = Launcher::new(server_cpu)?;
    let plan = Plan::new(&args, &launcher, &mut notes);
    if plan.impls.is_empty() {
        bail!("no implementation can run: {}", notes.join("; "));
    }
    let mut out = std::io::stdout().lock();
    for note in &notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out, "{}", plan.describe())?;
    out.flush()?;
    drop(out);
    let tls = if plan.cells.iter().any(|c| c.tls()) {
        Some(TlsFiles::generate().context("making the TLS cells' certificates")?)
    } else {
        None
    };
    let summaries = measure_all(&plan, &launcher, tls.as_ref())?;
    print!("\n{}", report::table(&summaries));
    write_outputs(&args, &plan, &summaries)?;
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
    let total = plan.repeat as usize * plan.cells.len() * plan.impls.len();
    let progress = progress_bar(total as u64);
    let mut runs: Vec<Vec<Measurement>> = vec![Vec::new(); plan.cells.len() * plan.impls.len()];
    for rep in 1..=plan.repeat {
        for (c, &cell) in plan.cells.iter().enumerate() {
            for (i, &imp) in plan.impls.iter().enumerate() {
                let what = format!("{} on {}", cell.name(), imp.name());
                progress.set_message(format!("{what}, run {rep}/{}", plan.repeat));
                let measured = measure(&runtime, launcher, cell, imp, plan.window, tls);
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
                runs[c * plan.impls.len() + i].push(measurement);
                progress.inc(1);
            }
        }
    }
    progress.finish_and_clear();
    let mut summaries = Vec::new();
    for (c, &cell) in plan.cells.iter().enumerate() {
        for (i, &imp) in plan.impls.iter().enumerate() {
            summaries.push(Summary::of(cell, imp, &runs[c * plan.impls.len() + i]));
        }
    }
    Ok(summaries)
}

/// One run: a fresh server, the cell's load, the server killed.
fn measure(
    runtime: &tokio::runtime::Runtime,
    launcher: &Launcher,
    cell: Cell,
    imp: Impl,
    window: Window,
    tls: Option<&TlsFiles>,
) -> Result<load::Sample> {
    let tls = tls.filter(|_| cell.tls());
    let server = launcher.start(imp, cell.mode(), tls)?;
    let target = Target {
        port: server.port,
        pid: server.pid(),
        tls: tls.map(TlsFiles::connector).transpose()?,
    };
    runtime.block_on(load::run(cell.load(), &target, window))
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

fn write_outputs(args: &Args, plan: &Plan, summaries: &[Summary]) -> Result<()> {
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&JsonReport::new(args.quick, summaries))?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.chart {
        if plan.impls.contains(&Impl::Tokio) {
            chart::write(path, summaries, &plan.cells, &plan.impls)?;
        } else {
            eprintln!("note: no chart: the chart shows ratios to tokio, which was not run");
        }
    }
    Ok(())
}
