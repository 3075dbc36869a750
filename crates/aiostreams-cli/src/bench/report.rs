//! Turning samples into figures: per-run measurements, medians over runs, the terminal
//! table (ratios to tokio = 1.00x) and the JSON file.

use std::fmt::Write as _;

use serde::Serialize;

use super::cell::{Cell, Impl};
use super::load::Sample;
use super::python_package::PackageInfo;

/// The figures of one run of one cell on one implementation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Measurement {
    pub(crate) req_per_s: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) cpu_us_per_req: f64,
    pub(crate) rss_bytes: u64,
    pub(crate) rss_per_conn: Option<f64>,
    pub(crate) verified_bytes: u64,
    pub(crate) errors: u64,
    /// Client cells: the client's CPU per request.
    pub(crate) client_cpu_us_per_req: Option<f64>,
    /// Bulk cells: 10^9 bytes per second, and server CPU seconds per 10^9 bytes.
    pub(crate) gb_per_s: Option<f64>,
    pub(crate) cpu_s_per_gb: Option<f64>,
    /// `--instructions` runs: the server's user-space instructions per request.
    pub(crate) instructions_per_req: Option<f64>,
}

impl Measurement {
    /// The figures of `sample`; CPU ticks are converted with `ticks_per_sec`.
    pub(crate) fn of(sample: &Sample, ticks_per_sec: u64) -> Measurement {
        let requests = sample.requests.max(1) as f64;
        let cpu_us = sample.cpu.micros(ticks_per_sec);
        let gb = sample.bulk_bytes.map(|b| b as f64 / 1e9);
        Measurement {
            client_cpu_us_per_req: sample
                .client_cpu
                .map(|cpu| cpu.micros(ticks_per_sec) / requests),
            gb_per_s: gb.map(|gb| gb / sample.seconds.max(1e-9)),
            cpu_s_per_gb: gb.map(|gb| cpu_us / 1e6 / gb.max(1e-12)),
            instructions_per_req: None,
            req_per_s: sample.requests as f64 / sample.seconds.max(1e-9),
            p50_us: sample.latency.value_at_quantile(0.50) as f64,
            p99_us: sample.latency.value_at_quantile(0.99) as f64,
            cpu_us_per_req: cpu_us / requests,
            rss_bytes: sample.rss_bytes,
            rss_per_conn: sample.rss_per_conn,
            verified_bytes: sample.verified_bytes,
            errors: sample.errors,
        }
    }

    /// A run that could not happen (the server did not start, ...): one error.
    pub(crate) fn failed() -> Measurement {
        Measurement {
            errors: 1,
            ..Measurement::default()
        }
    }
}

/// The median over runs of one cell on one implementation, with the spread.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    pub(crate) cell: Cell,
    pub(crate) imp: Impl,
    /// Medians (rss_per_conn too); verified bytes and errors are totals.
    pub(crate) median: Measurement,
    /// Lowest and highest requests/s over the runs.
    pub(crate) req_range: (f64, f64),
    /// Every run, in repetition order: run `i` of every implementation of a cell is
    /// repetition `i`, where they ran back to back ([`ratio`] pairs them).
    pub(crate) runs: Vec<Measurement>,
}

impl Summary {
    /// Summarizes the runs (at least one).
    pub(crate) fn of(cell: Cell, imp: Impl, runs: &[Measurement]) -> Summary {
        let figure = |f: fn(&Measurement) -> f64| runs.iter().map(f).collect::<Vec<_>>();
        let reqs = figure(|m| m.req_per_s);
        let optional = |f: fn(&Measurement) -> Option<f64>| {
            let values: Vec<f64> = runs.iter().filter_map(f).collect();
            (!values.is_empty()).then(|| median(&values))
        };
        let median = Measurement {
            client_cpu_us_per_req: optional(|m| m.client_cpu_us_per_req),
            gb_per_s: optional(|m| m.gb_per_s),
            cpu_s_per_gb: optional(|m| m.cpu_s_per_gb),
            instructions_per_req: optional(|m| m.instructions_per_req),
            req_per_s: median(&reqs),
            p50_us: median(&figure(|m| m.p50_us)),
            p99_us: median(&figure(|m| m.p99_us)),
            cpu_us_per_req: median(&figure(|m| m.cpu_us_per_req)),
            rss_bytes: median(&figure(|m| m.rss_bytes as f64)) as u64,
            rss_per_conn: optional(|m| m.rss_per_conn),
            verified_bytes: runs.iter().map(|m| m.verified_bytes).sum(),
            errors: runs.iter().map(|m| m.errors).sum(),
        };
        Summary {
            cell,
            imp,
            median,
            req_range: range(&reqs),
            runs: runs.to_vec(),
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn range(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// A figure of one implementation over tokio's, repetition by repetition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Ratio {
    /// The median of the paired ratios.
    pub(crate) median: f64,
    /// The lowest and the highest of them.
    pub(crate) min: f64,
    pub(crate) max: f64,
    /// How many repetitions were paired.
    pub(crate) pairs: usize,
}

/// `of`'s figure over tokio's in the same cell, paired by repetition (both ran back to
/// back, so a slow moment of the machine hits both), over the repetitions where both
/// ran without an error; `None` when tokio was not measured or no pair is left.
///
/// The median of these ratios is what the report calls "vs tokio": on a shared machine
/// one run in a few is slow for any implementation, and pairing plus the median keeps
/// such a run from deciding (the CLI README, "Ratios").
pub(crate) fn ratio(
    summaries: &[Summary],
    of: &Summary,
    figure: fn(&Measurement) -> f64,
) -> Option<Ratio> {
    paired(summaries, of, |m| Some(figure(m)))
}

/// [`ratio`] of a figure only some cells have.
pub(crate) fn optional_ratio(
    summaries: &[Summary],
    of: &Summary,
    figure: fn(&Measurement) -> Option<f64>,
) -> Option<Ratio> {
    paired(summaries, of, figure)
}

fn paired(
    summaries: &[Summary],
    of: &Summary,
    figure: impl Fn(&Measurement) -> Option<f64>,
) -> Option<Ratio> {
    let tokio = summaries
        .iter()
        .find(|s| s.cell == of.cell && s.imp == Impl::Tokio)?;
    let ratios: Vec<f64> = of
        .runs
        .iter()
        .zip(&tokio.runs)
        .filter(|(run, base)| run.errors == 0 && base.errors == 0)
        .filter_map(|(run, base)| {
            let (value, base) = (figure(run)?, figure(base)?);
            (base > 0.0).then_some(value / base)
        })
        .collect();
    if ratios.is_empty() {
        return None;
    }
    let (min, max) = range(&ratios);
    Some(Ratio {
        median: median(&ratios),
        min,
        max,
        pairs: ratios.len(),
    })
}

/// The terminal table: one block per cell, ratios to tokio (= 1.00x). The last column
/// holds what only some cells have: client CPU, GB/s and CPU per GB, instructions.
pub(crate) fn table(summaries: &[Summary]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<23} {:<20} {:>10} {:>21} {:>7} {:>8} {:>8} {:>10} {:>7} {:>7} {:>9} {:>6} {:>6}  more",
        "cell",
        "impl",
        "req/s",
        "(min-max)",
        "vs tok",
        "p50 us",
        "p99 us",
        "cpu us/req",
        "vs tok",
        "rss MiB",
        "rss/conn",
        "vs tok",
        "errors",
    );
    let mut last_cell = None;
    for s in summaries {
        if last_cell.is_some() && last_cell != Some(s.cell) {
            out.push('\n');
        }
        last_cell = Some(s.cell);
        let m = &s.median;
        let per_conn = m
            .rss_per_conn
            .map_or("-".to_owned(), |b| format!("{:.1} KiB", b / 1024.0));
        let per_conn_ratio = optional_ratio(summaries, s, |m| m.rss_per_conn);
        let _ = writeln!(
            out,
            "{:<23} {:<20} {:>10.0} {:>21} {:>7} {:>8.0} {:>8.0} {:>10.2} {:>7} {:>7.1} {:>9} {:>6} {:>6}  {}",
            s.cell.name(),
            s.imp.name(),
            m.req_per_s,
            format!("({:.0}-{:.0})", s.req_range.0, s.req_range.1),
            times(ratio(summaries, s, |m| m.req_per_s)),
            m.p50_us,
            m.p99_us,
            m.cpu_us_per_req,
            times(ratio(summaries, s, |m| m.cpu_us_per_req)),
            m.rss_bytes as f64 / (1024.0 * 1024.0),
            per_conn,
            times(per_conn_ratio),
            m.errors,
            more(summaries, s),
        );
    }
    out
}

fn times(ratio: Option<Ratio>) -> String {
    ratio.map_or("-".to_owned(), |r| format!("{:.2}x", r.median))
}

/// The median with the range, when more than one repetition was paired.
fn spread(ratio: Option<Ratio>) -> String {
    match ratio {
        Some(r) if r.pairs > 1 => format!("{:.2}x ({:.2}-{:.2})", r.median, r.min, r.max),
        other => times(other),
    }
}

/// The figures only some cells have, each with its ratio to tokio; the cost ratio's
/// range over the paired repetitions.
fn more(summaries: &[Summary], s: &Summary) -> String {
    let m = &s.median;
    let mut parts = Vec::new();
    if let Some(us) = m.client_cpu_us_per_req {
        let r = spread(optional_ratio(summaries, s, |m| m.client_cpu_us_per_req));
        parts.push(format!("client cpu {us:.2} us/req {r}"));
    }
    if let (Some(rate), Some(cpu)) = (m.gb_per_s, m.cpu_s_per_gb) {
        let r_rate = spread(optional_ratio(summaries, s, |m| m.gb_per_s));
        let r_cpu = spread(optional_ratio(summaries, s, |m| m.cpu_s_per_gb));
        parts.push(format!(
            "{rate:.2} GB/s {r_rate}, cpu {cpu:.3} s/GB {r_cpu}"
        ));
    }
    if let Some(instructions) = m.instructions_per_req {
        let r = times(optional_ratio(summaries, s, |m| m.instructions_per_req));
        parts.push(format!("{instructions:.0} instr/req {r}"));
    }
    if parts.is_empty() && m.rss_per_conn.is_none() && s.imp != Impl::Tokio {
        let cpu = ratio(summaries, s, |m| m.cpu_us_per_req).filter(|r| r.pairs > 1);
        if let Some(r) = cpu {
            parts.push(format!(
                "cpu/req vs tok {} over {} runs",
                spread(Some(r)),
                r.pairs
            ));
        }
    }
    parts.join("; ")
}

/// The machine and the moment of a run, for the JSON file and the chart's title.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunInfo {
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) date: String,
    /// The 1-minute load average before the run.
    pub(crate) load_average: Option<f64>,
    /// CPUs the machine has.
    pub(crate) cpus: usize,
    /// `uname -sr`-like kernel name and release.
    pub(crate) kernel: String,
    /// The CPU model (`/proc/cpuinfo`).
    pub(crate) cpu_model: String,
    /// Notes printed before the run (skipped implementations, ...).
    pub(crate) notes: Vec<String>,
    /// The Python package build the `py-aiostreams*` rows measured (null without them).
    pub(crate) python_package: Option<PackageInfo>,
}

/// The `--json` file (schema version 2, documented in the CLI README).
#[derive(Debug, Serialize)]
pub(crate) struct JsonReport {
    version: u32,
    quick: bool,
    instructions: bool,
    run: RunInfo,
    results: Vec<JsonRow>,
}

#[derive(Debug, Serialize)]
struct JsonRow {
    cell: &'static str,
    #[serde(rename = "impl")]
    imp: &'static str,
    server: &'static str,
    req_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    server_cpu_us_per_req: f64,
    server_rss_bytes: u64,
    rss_bytes_per_conn: Option<f64>,
    client_cpu_us_per_req: Option<f64>,
    gb_per_s: Option<f64>,
    cpu_s_per_gb: Option<f64>,
    instructions_per_req: Option<f64>,
    verified_bytes: u64,
    errors: u64,
    /// Every run's own figures, in repetition order (run `i` of each row of a cell ran
    /// in repetition `i`, back to back with the others): what the ratios pair.
    runs: Vec<JsonRun>,
}

/// One run's figures in the JSON file (`null` where the cell has no such figure).
#[derive(Debug, Serialize)]
struct JsonRun {
    req_per_s: f64,
    server_cpu_us_per_req: f64,
    client_cpu_us_per_req: Option<f64>,
    gb_per_s: Option<f64>,
    cpu_s_per_gb: Option<f64>,
    instructions_per_req: Option<f64>,
    errors: u64,
}

impl JsonReport {
    /// The report of `summaries`.
    pub(crate) fn new(
        quick: bool,
        instructions: bool,
        run: RunInfo,
        summaries: &[Summary],
    ) -> JsonReport {
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        let results = summaries
            .iter()
            .map(|s| JsonRow {
                cell: s.cell.name(),
                imp: s.imp.name(),
                server: s.cell.server(s.imp).name(),
                req_per_s: finite(s.median.req_per_s),
                p50_us: finite(s.median.p50_us),
                p99_us: finite(s.median.p99_us),
                server_cpu_us_per_req: finite(s.median.cpu_us_per_req),
                server_rss_bytes: s.median.rss_bytes,
                rss_bytes_per_conn: s.median.rss_per_conn.map(finite),
                client_cpu_us_per_req: s.median.client_cpu_us_per_req.map(finite),
                gb_per_s: s.median.gb_per_s.map(finite),
                cpu_s_per_gb: s.median.cpu_s_per_gb.map(finite),
                instructions_per_req: s.median.instructions_per_req.map(finite),
                verified_bytes: s.median.verified_bytes,
                errors: s.median.errors,
                runs: s
                    .runs
                    .iter()
                    .map(|m| JsonRun {
                        req_per_s: finite(m.req_per_s),
                        server_cpu_us_per_req: finite(m.cpu_us_per_req),
                        client_cpu_us_per_req: m.client_cpu_us_per_req.map(finite),
                        gb_per_s: m.gb_per_s.map(finite),
                        cpu_s_per_gb: m.cpu_s_per_gb.map(finite),
                        instructions_per_req: m.instructions_per_req.map(finite),
                        errors: m.errors,
                    })
                    .collect(),
            })
            .collect();
        JsonReport {
            version: 2,
            quick,
            instructions,
            run,
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Measurement, Summary, median, ratio};
    use crate::bench::cell::{Cell, Impl};

    fn run(req_per_s: f64, errors: u64) -> Measurement {
        Measurement {
            req_per_s,
            errors,
            ..Measurement::default()
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn ratios_pair_runs_by_repetition_and_skip_failed_ones() {
        // Repetition 2 was slow for both: paired, it is a ratio like the others.
        let tokio = [run(100.0, 0), run(50.0, 0), run(100.0, 0), run(100.0, 0)];
        let ours = [run(110.0, 0), run(60.0, 0), run(90.0, 0), run(999.0, 1)];
        let all = [
            Summary::of(Cell::Echo1kC10, Impl::Aiostreams, &ours),
            Summary::of(Cell::Echo1kC10, Impl::Tokio, &tokio),
        ];
        let r = ratio(&all, &all[0], |m| m.req_per_s).unwrap();
        assert_eq!((r.pairs, r.min, r.max), (3, 0.9, 1.2));
        assert!((r.median - 1.1).abs() < 1e-9, "{r:?}");
        assert_eq!(ratio(&all, &all[1], |m| m.req_per_s).unwrap().median, 1.0);
        assert!(ratio(&all[..1], &all[0], |m| m.req_per_s).is_none());
    }

    #[test]
    fn summary_sums_errors_and_keeps_the_spread() {
        let runs = [run(10.0, 0), run(30.0, 1), run(20.0, 0)];
        let s = Summary::of(Cell::Echo1kC10, Impl::Tokio, &runs);
        assert_eq!(s.median.req_per_s, 20.0);
        assert_eq!(s.req_range, (10.0, 30.0));
        assert_eq!(s.median.errors, 1);
    }
}
