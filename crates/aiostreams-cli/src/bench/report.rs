//! Turning samples into figures: per-run measurements, medians over runs, the terminal
//! table (ratios to tokio = 1.00x) and the JSON file.

use std::fmt::Write as _;

use serde::Serialize;

use super::cell::{Cell, Impl};
use super::load::Sample;

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
}

impl Measurement {
    /// The figures of `sample`; CPU ticks are converted with `ticks_per_sec`.
    pub(crate) fn of(sample: &Sample, ticks_per_sec: u64) -> Measurement {
        let requests = sample.requests.max(1) as f64;
        let cpu_us = sample.cpu_ticks as f64 * 1e6 / ticks_per_sec as f64;
        Measurement {
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
}

impl Summary {
    /// Summarizes the runs (at least one).
    pub(crate) fn of(cell: Cell, imp: Impl, runs: &[Measurement]) -> Summary {
        let figure = |f: fn(&Measurement) -> f64| runs.iter().map(f).collect::<Vec<_>>();
        let reqs = figure(|m| m.req_per_s);
        let per_conn: Vec<f64> = runs.iter().filter_map(|m| m.rss_per_conn).collect();
        let median = Measurement {
            req_per_s: median(&reqs),
            p50_us: median(&figure(|m| m.p50_us)),
            p99_us: median(&figure(|m| m.p99_us)),
            cpu_us_per_req: median(&figure(|m| m.cpu_us_per_req)),
            rss_bytes: median(&figure(|m| m.rss_bytes as f64)) as u64,
            rss_per_conn: (!per_conn.is_empty()).then(|| median(&per_conn)),
            verified_bytes: runs.iter().map(|m| m.verified_bytes).sum(),
            errors: runs.iter().map(|m| m.errors).sum(),
        };
        Summary {
            cell,
            imp,
            median,
            req_range: range(&reqs),
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

/// `value / tokio's value` for the same cell, when tokio was measured.
pub(crate) fn ratio(
    summaries: &[Summary],
    of: &Summary,
    figure: fn(&Measurement) -> f64,
) -> Option<f64> {
    let tokio = summaries
        .iter()
        .find(|s| s.cell == of.cell && s.imp == Impl::Tokio)?;
    let base = figure(&tokio.median);
    (base > 0.0 && tokio.median.errors == 0).then(|| figure(&of.median) / base)
}

/// The terminal table: one block per cell, ratios to tokio (= 1.00x).
pub(crate) fn table(summaries: &[Summary]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<17} {:<10} {:>10} {:>19} {:>7} {:>9} {:>9} {:>10} {:>7} {:>8} {:>10} {:>7} {:>6}",
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
        "errors"
    );
    let mut last_cell = None;
    for s in summaries {
        if last_cell.is_some() && last_cell != Some(s.cell) {
            out.push('\n');
        }
        last_cell = Some(s.cell);
        let m = &s.median;
        let times = |r: Option<f64>| r.map_or("-".to_owned(), |r| format!("{r:.2}x"));
        let per_conn = m
            .rss_per_conn
            .map_or("-".to_owned(), |b| format!("{:.1} KiB", b / 1024.0));
        let per_conn_ratio = ratio(summaries, s, |m| m.rss_per_conn.unwrap_or(0.0));
        let _ = writeln!(
            out,
            "{:<17} {:<10} {:>10.0} {:>19} {:>7} {:>9.0} {:>9.0} {:>10.1} {:>7} {:>8.1} {:>10} {:>7} {:>6}",
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
            if m.rss_per_conn.is_some() {
                times(per_conn_ratio)
            } else {
                "-".to_owned()
            },
            m.errors,
        );
    }
    out
}

/// The `--json` file (schema version 1).
#[derive(Debug, Serialize)]
pub(crate) struct JsonReport {
    version: u32,
    quick: bool,
    results: Vec<JsonRow>,
}

#[derive(Debug, Serialize)]
struct JsonRow {
    cell: &'static str,
    #[serde(rename = "impl")]
    imp: &'static str,
    req_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    server_cpu_us_per_req: f64,
    server_rss_bytes: u64,
    rss_bytes_per_conn: Option<f64>,
    verified_bytes: u64,
    errors: u64,
}

impl JsonReport {
    /// The report of `summaries`.
    pub(crate) fn new(quick: bool, summaries: &[Summary]) -> JsonReport {
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        let results = summaries
            .iter()
            .map(|s| JsonRow {
                cell: s.cell.name(),
                imp: s.imp.name(),
                req_per_s: finite(s.median.req_per_s),
                p50_us: finite(s.median.p50_us),
                p99_us: finite(s.median.p99_us),
                server_cpu_us_per_req: finite(s.median.cpu_us_per_req),
                server_rss_bytes: s.median.rss_bytes,
                rss_bytes_per_conn: s.median.rss_per_conn.map(finite),
                verified_bytes: s.median.verified_bytes,
                errors: s.median.errors,
            })
            .collect();
        JsonReport {
            version: 1,
            quick,
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Measurement, Summary, median};
    use crate::bench::cell::{Cell, Impl};

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn summary_sums_errors_and_keeps_the_spread() {
        let run = |req_per_s, errors| Measurement {
            req_per_s,
            errors,
            ..Measurement::default()
        };
        let runs = [run(10.0, 0), run(30.0, 1), run(20.0, 0)];
        let s = Summary::of(Cell::Echo1kC10, Impl::Tokio, &runs);
        assert_eq!(s.median.req_per_s, 20.0);
        assert_eq!(s.req_range, (10.0, 30.0));
        assert_eq!(s.median.errors, 1);
    }
}
