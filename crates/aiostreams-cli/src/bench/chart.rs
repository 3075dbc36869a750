//! `--chart`: an SVG bar chart of each implementation's ratio to tokio, per cell.
//!
//! Top row: requests/s relative to tokio (higher is better). Bottom row: server CPU
//! time per request relative to tokio (lower is better). The line marks tokio's 1.0.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::cell::{Cell, Impl};
use super::report::{Measurement, Summary, ratio};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 660;
const FONT: &str = "sans-serif";

/// One chart row: a title and the figure it compares.
struct Row {
    title: &'static str,
    figure: fn(&Measurement) -> f64,
}

const ROWS: [Row; 2] = [
    Row {
        title: "req/s vs tokio (higher is better)",
        figure: |m| m.req_per_s,
    },
    Row {
        title: "CPU/req vs tokio (lower is better)",
        figure: |m| m.cpu_us_per_req,
    },
];

/// Writes the chart of `summaries` to `path`.
pub(crate) fn write(
    path: &Path,
    summaries: &[Summary],
    cells: &[Cell],
    impls: &[Impl],
) -> Result<()> {
    draw(path, summaries, cells, impls).map_err(|e| anyhow!("drawing {}: {e}", path.display()))
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(path: &Path, summaries: &[Summary], cells: &[Cell], impls: &[Impl]) -> DrawResult {
    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        "aiostreams bench: each implementation relative to tokio (1.0)",
        (FONT, 22),
    )?;
    let (legend, charts) = root.split_vertically(36);
    draw_legend(&legend, impls)?;
    let areas = charts.split_evenly((ROWS.len(), cells.len()));
    for (r, row) in ROWS.iter().enumerate() {
        for (c, &cell) in cells.iter().enumerate() {
            let values: Vec<(Impl, f64)> = impls
                .iter()
                .filter_map(|&imp| {
                    let s = summaries.iter().find(|s| s.cell == cell && s.imp == imp)?;
                    Some((imp, ratio(summaries, s, row.figure)?))
                })
                .collect();
            let title = if c == 0 { row.title } else { "" };
            draw_cell(
                &areas[r * cells.len() + c],
                cell,
                title,
                &values,
                impls.len(),
            )?;
        }
    }
    root.present()?;
    Ok(())
}

fn draw_cell<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    cell: Cell,
    y_title: &str,
    values: &[(Impl, f64)],
    slots: usize,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let top = values.iter().map(|v| v.1).fold(1.0, f64::max) * 1.25;
    let mut chart = ChartBuilder::on(area)
        .caption(cell.name(), (FONT, 15))
        .margin(6)
        .x_label_area_size(4)
        .y_label_area_size(if y_title.is_empty() { 34 } else { 54 })
        .build_cartesian_2d(0.0..slots as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(5)
        .y_desc(y_title)
        .label_style((FONT, 11))
        .draw()?;
    chart.draw_series(values.iter().map(|&(imp, v)| {
        let x = slot(imp, values);
        Rectangle::new([(x + 0.12, 0.0), (x + 0.88, v)], color(imp).filled())
    }))?;
    chart.draw_series(values.iter().map(|&(imp, v)| {
        let at = (slot(imp, values) + 0.1, v + top * 0.07);
        Text::new(format!("{v:.2}"), at, (FONT, 11))
    }))?;
    chart.draw_series(LineSeries::new(
        [(0.0, 1.0), (slots as f64, 1.0)],
        BLACK.stroke_width(1),
    ))?;
    Ok(())
}

/// The bar's slot: the implementation's place among those with a value.
fn slot(imp: Impl, values: &[(Impl, f64)]) -> f64 {
    values.iter().position(|v| v.0 == imp).unwrap_or(0) as f64
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    impls: &[Impl],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    for (i, &imp) in impls.iter().enumerate() {
        let x = 60 + 170 * i as i32;
        area.draw(&Rectangle::new(
            [(x, 10), (x + 16, 26)],
            color(imp).filled(),
        ))?;
        area.draw(&Text::new(imp.name(), (x + 22, 11), (FONT, 15)))?;
    }
    Ok(())
}

fn color(imp: Impl) -> RGBColor {
    match imp {
        Impl::Aiostreams => RGBColor(0x1f, 0x77, 0xb4),
        Impl::Tokio => RGBColor(0x7f, 0x7f, 0x7f),
        Impl::Asyncio => RGBColor(0xff, 0x7f, 0x0e),
        Impl::Uvloop => RGBColor(0x2c, 0xa0, 0x2c),
    }
}
