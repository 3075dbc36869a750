//! `--chart`: every cell's ratios to tokio on one shared log axis, as SVG (and PNG).
//!
//! Two panels share the same log scale (1/16x to 16x, 1.0x = tokio marked): on the left
//! throughput (req/s; GB/s for bulk cells; higher is better), on the right cost (server
//! CPU per request; the client's CPU for client cells; CPU per GB for bulk cells; lower is
//! better). Each bar starts at 1.0x, so its length and side say how far from tokio and
//! which way. Below them, the idle-memory result in KiB per connection. The title names
//! the machine, the date and the load average. With `--instructions` the one panel is
//! instructions per request. The PNG is rendered from the SVG by `rsvg-convert`
//! (librsvg), when installed.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::cell::{Cell, Impl};
use super::report::{Measurement, Ratio, RunInfo, Summary, optional_ratio, ratio};

const LABEL_W: f64 = 190.0;
const PANEL_W: f64 = 470.0;
const GAP: f64 = 40.0;
const BAR_H: f64 = 9.0;
const GROUP_GAP: f64 = 9.0;
const TOP: f64 = 96.0;
/// The axis spans 2^-LOG_SPAN .. 2^LOG_SPAN.
const LOG_SPAN: f64 = 4.0;
const FONT: &str = "font-family=\"DejaVu Sans, Verdana, sans-serif\"";

/// One panel: its title and the ratio it draws for a summary.
struct Panel {
    title: &'static str,
    ratio: fn(&[Summary], &Summary) -> Option<Ratio>,
}

fn throughput(all: &[Summary], s: &Summary) -> Option<Ratio> {
    match s.cell {
        Cell::Idle1000 => None,
        c if c.bulk() => optional_ratio(all, s, |m| m.gb_per_s),
        _ => ratio(all, s, |m| m.req_per_s),
    }
}

fn cost(all: &[Summary], s: &Summary) -> Option<Ratio> {
    match s.cell {
        Cell::Idle1000 => None,
        c if c.bulk() => optional_ratio(all, s, |m| m.cpu_s_per_gb),
        c if c.measures_client() => optional_ratio(all, s, |m| m.client_cpu_us_per_req),
        _ => ratio(all, s, |m: &Measurement| m.cpu_us_per_req),
    }
}

fn instructions(all: &[Summary], s: &Summary) -> Option<Ratio> {
    optional_ratio(all, s, |m| m.instructions_per_req)
}

/// Writes the chart to `path` (SVG) and, when rsvg-convert is there, a PNG beside it.
pub(crate) fn write(
    path: &Path,
    summaries: &[Summary],
    info: &RunInfo,
    instructions_run: bool,
) -> Result<()> {
    let svg = draw(summaries, info, instructions_run);
    std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    let png = path.with_extension("png");
    let rendered = Command::new("rsvg-convert")
        .args(["--background-color", "white", "-o"])
        .arg(&png)
        .arg(path)
        .status();
    match rendered {
        Ok(status) if status.success() => {}
        _ => eprintln!(
            "note: no {}: rsvg-convert (apt-get install librsvg2-bin) failed or is missing",
            png.display()
        ),
    }
    Ok(())
}

fn panels(instructions_run: bool) -> Vec<Panel> {
    if instructions_run {
        return vec![Panel {
            title: "instructions per request vs tokio (lower is better)",
            ratio: instructions,
        }];
    }
    vec![
        Panel {
            title: "throughput vs tokio (higher is better)",
            ratio: throughput,
        },
        Panel {
            title: "CPU per request or per GB vs tokio (lower is better)",
            ratio: cost,
        },
    ]
}

/// The SVG text.
fn draw(summaries: &[Summary], info: &RunInfo, instructions_run: bool) -> String {
    let panels = panels(instructions_run);
    let impls = present(summaries, |s| s.imp);
    let cells: Vec<Cell> = present(summaries, |s| s.cell)
        .into_iter()
        .filter(|&c| c != Cell::Idle1000)
        .collect();
    let group_h = |cell: Cell| {
        let bars = summaries.iter().filter(|s| s.cell == cell).count() as f64;
        bars * (BAR_H + 2.0) + GROUP_GAP
    };
    let plot_h: f64 = cells.iter().map(|&c| group_h(c)).sum();
    let idle: Vec<&Summary> = summaries
        .iter()
        .filter(|s| s.median.rss_per_conn.is_some())
        .collect();
    let idle_h = if idle.is_empty() {
        0.0
    } else {
        60.0 + idle.len() as f64 * (BAR_H + 4.0)
    };
    let width = LABEL_W + panels.len() as f64 * (PANEL_W + GAP) + 20.0;
    let height = TOP + plot_h + 40.0 + idle_h;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" {FONT} font-size=\"11\">"
    );
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    title(&mut svg, info, instructions_run);
    legend(&mut svg, &impls);
    for (p, panel) in panels.iter().enumerate() {
        let x0 = LABEL_W + p as f64 * (PANEL_W + GAP);
        axis(&mut svg, panel.title, x0, TOP, plot_h);
        let mut y = TOP;
        for &cell in &cells {
            if p == 0 {
                let mid = y + (group_h(cell) - GROUP_GAP) / 2.0 + 4.0;
                text(&mut svg, 8.0, mid, "start", 12.0, cell.name());
            }
            for s in summaries.iter().filter(|s| s.cell == cell) {
                // tokio is the 1x line itself.
                let r = (panel.ratio)(summaries, s).filter(|_| s.imp != Impl::Tokio);
                if let Some(r) = r {
                    bar(&mut svg, x0, y, r, s.imp);
                }
                y += BAR_H + 2.0;
            }
            y += GROUP_GAP;
            let _ = writeln!(
                svg,
                "<line x1=\"{x0:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>",
                x0 + PANEL_W,
                y - GROUP_GAP / 2.0,
                y - GROUP_GAP / 2.0
            );
        }
    }
    if !idle.is_empty() {
        idle_memory(&mut svg, &idle, TOP + plot_h + 40.0);
    }
    svg.push_str("</svg>\n");
    svg
}

/// The distinct values of `key` over `summaries`, in first-seen order.
fn present<T: PartialEq + Copy>(summaries: &[Summary], key: fn(&Summary) -> T) -> Vec<T> {
    let mut seen = Vec::new();
    for s in summaries {
        if !seen.contains(&key(s)) {
            seen.push(key(s));
        }
    }
    seen
}

fn title(svg: &mut String, info: &RunInfo, instructions_run: bool) {
    let what = if instructions_run {
        "user-space instructions per request (callgrind)"
    } else {
        "each implementation relative to tokio (1.0x), log scale; bar: median of the \
         runs paired with tokio's, whisker: their range"
    };
    text(
        svg,
        8.0,
        22.0,
        "start",
        17.0,
        &format!("aiostreams bench: {what}"),
    );
    let load = info
        .load_average
        .map_or("unknown".to_owned(), |l| format!("{l:.1}"));
    let machine = format!(
        "{} ({} CPUs, {}), {} UTC, load average {load} at the start (a shared machine: \
         ratios, not absolute figures, are the result)",
        info.cpu_model,
        info.cpus,
        info.kernel,
        info.date.trim_end_matches('Z').replace('T', " ")
    );
    text(svg, 8.0, 40.0, "start", 11.0, &machine);
}

fn legend(svg: &mut String, impls: &[Impl]) {
    let mut x = 8.0;
    for &imp in impls {
        let _ = writeln!(
            svg,
            "<rect x=\"{x:.1}\" y=\"52\" width=\"12\" height=\"12\" fill=\"{}\"/>",
            color(imp)
        );
        text(svg, x + 16.0, 62.0, "start", 12.0, imp.name());
        x += 28.0 + 7.5 * imp.name().len() as f64;
    }
}

/// The x of ratio `r` in a panel starting at `x0`.
fn x_of(x0: f64, r: f64) -> f64 {
    let t = (r.max(1e-9).log2().clamp(-LOG_SPAN, LOG_SPAN) + LOG_SPAN) / (2.0 * LOG_SPAN);
    x0 + t * PANEL_W
}

fn axis(svg: &mut String, title: &str, x0: f64, y0: f64, h: f64) {
    text(svg, x0 + PANEL_W / 2.0, y0 - 14.0, "middle", 12.0, title);
    for tick in [1.0 / 16.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0] {
        let x = x_of(x0, tick);
        let (stroke, wide) = if tick == 1.0 {
            ("#000", 1.5)
        } else {
            ("#ccc", 0.8)
        };
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{stroke}\" \
             stroke-width=\"{wide}\"/>",
            y0 - 4.0,
            y0 + h
        );
        let label = if tick == 1.0 {
            "1x = tokio".to_owned()
        } else if tick < 1.0 {
            format!("1/{:.0}", 1.0 / tick)
        } else {
            format!("{tick:.0}x")
        };
        text(svg, x, y0 + h + 14.0, "middle", 10.0, &label);
    }
}

/// The median's bar from 1x, and across it a whisker from the lowest to the highest
/// paired ratio when more than one repetition was paired.
fn bar(svg: &mut String, x0: f64, y: f64, ratio: Ratio, imp: Impl) {
    let r = ratio.median;
    let (one, at) = (x_of(x0, 1.0), x_of(x0, r));
    let (left, w) = (one.min(at), (at - one).abs().max(1.0));
    let _ = writeln!(
        svg,
        "<rect x=\"{left:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\" fill=\"{}\"/>",
        color(imp)
    );
    let (low, high) = if ratio.pairs > 1 {
        let (low, high) = (x_of(x0, ratio.min), x_of(x0, ratio.max));
        let mid = y + BAR_H / 2.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{low:.1}\" x2=\"{high:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\" \
             stroke=\"#333\" stroke-width=\"1\"/>"
        );
        (low, high)
    } else {
        (at, at)
    };
    let (tx, anchor) = if r >= 1.0 {
        (high.max(at) + 3.0, "start")
    } else {
        (low.min(at) - 3.0, "end")
    };
    text(svg, tx, y + BAR_H - 1.0, anchor, 9.0, &format!("{r:.2}"));
}

fn idle_memory(svg: &mut String, idle: &[&Summary], y0: f64) {
    let title = "idle-1000: server memory per idle connection, KiB (lower is better)";
    text(svg, 8.0, y0, "start", 12.0, title);
    let most = idle
        .iter()
        .filter_map(|s| s.median.rss_per_conn)
        .fold(1.0, f64::max);
    let mut y = y0 + 12.0;
    for s in idle {
        let kib = s.median.rss_per_conn.unwrap_or(0.0) / 1024.0;
        let w = (kib * 1024.0 / most * (PANEL_W * 1.5)).max(1.0);
        text(
            svg,
            LABEL_W - 6.0,
            y + BAR_H - 1.0,
            "end",
            10.0,
            s.imp.name(),
        );
        let _ = writeln!(
            svg,
            "<rect x=\"{LABEL_W}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\" fill=\"{}\"/>",
            color(s.imp)
        );
        let label = format!("{kib:.1} KiB");
        text(
            svg,
            LABEL_W + w + 4.0,
            y + BAR_H - 1.0,
            "start",
            10.0,
            &label,
        );
        y += BAR_H + 4.0;
    }
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, size: f64, content: &str) {
    let escaped = content
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let _ = writeln!(
        svg,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-size=\"{size}\">{escaped}</text>"
    );
}

fn color(imp: Impl) -> &'static str {
    match imp {
        Impl::Aiostreams => "#1f77b4",
        Impl::Tokio => "#7f7f7f",
        Impl::TokioBuffered => "#17becf",
        Impl::Floor => "#8c564b",
        Impl::RedisServer => "#d62728",
        Impl::Asyncio => "#ff7f0e",
        Impl::Uvloop => "#2ca02c",
        Impl::PyAiostreams => "#9467bd",
        Impl::PyAiostreamsUvloop => "#e377c2",
    }
}
