//! 2-D heatmaps on a regular grid (prediction, exact solution, error), each with
//! a viridis colour bar.

use super::canvas::{
    font, min_max, padded_range, render, tick_label, titled, Area, DrawResult, AXIS_DESC_SIZE,
    CAPTION_SIZE, TICK_SIZE,
};
use crate::output::OutputError;
use plotters::prelude::*;
use std::path::Path;

/// Size of one [`plot_heatmaps`] panel (heatmap and its colour bar); panels sit side by side.
pub const HEATMAP_PANEL_SIZE: (u32, u32) = (640, 600);

const COLOUR_BAR_WIDTH: u32 = 125;

/// Colour of the training points drawn over [`plot_residual_heatmap`]: red, which
/// viridis does not contain.
pub const OVERLAY_COLOUR: RGBColor = RGBColor(230, 20, 20);

/// Viridis sampled at ten equally spaced points (0, 1/9, …, 1); linear in between.
const VIRIDIS: [(u8, u8, u8); 10] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x28, 0x78),
    (0x3E, 0x4A, 0x89),
    (0x31, 0x68, 0x8E),
    (0x26, 0x82, 0x8E),
    (0x1F, 0x9E, 0x89),
    (0x35, 0xB7, 0x79),
    (0x6D, 0xCD, 0x59),
    (0xB4, 0xDE, 0x2C),
    (0xFD, 0xE7, 0x25),
];

/// The viridis colour at `t ∈ [0, 1]` (clamped).
pub fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let scaled = t * (VIRIDIS.len() - 1) as f64;
    let k = (scaled.floor() as usize).min(VIRIDIS.len() - 2);
    let frac = scaled - k as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * frac).round() as u8;
    let (a, b) = (VIRIDIS[k], VIRIDIS[k + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// 2-D heatmaps on a regular `nx × ny` grid: the prediction, and when `exact` is given
/// the exact solution and `|error|`, side by side, each with a colour bar.
///
/// `values[j * nx + i]` is the value at `(xs[i], ys[j])` (the order of
/// [`crate::output::slice_grid`]). Prediction and exact solution share one colour scale so they
/// compare by eye; the error has its own, from 0. NaN cells (outside a non-box domain)
/// stay blank. Each panel is [`HEATMAP_PANEL_SIZE`]; the axes fill it, so a domain that
/// is far from square is drawn stretched.
///
/// # Errors
/// [`OutputError::InvalidData`] when the grid is empty or the value counts are not
/// `nx·ny`; [`OutputError::Draw`] / [`OutputError::Io`] when drawing or writing fails.
pub fn plot_heatmaps(
    path: &Path,
    labels: (&str, &str),
    xs: &[f64],
    ys: &[f64],
    predicted: &[f64],
    exact: Option<&[f64]>,
    title: &str,
) -> Result<(), OutputError> {
    let n_cells = xs.len() * ys.len();
    if n_cells == 0 {
        return Err(OutputError::invalid(path, "empty grid"));
    }
    if predicted.len() != n_cells || exact.is_some_and(|e| e.len() != n_cells) {
        return Err(OutputError::invalid(
            path,
            format!(
                "a {}×{} grid needs {n_cells} values; got {} predicted{}",
                xs.len(),
                ys.len(),
                predicted.len(),
                exact.map_or(String::new(), |e| format!(" and {} exact", e.len()))
            ),
        ));
    }
    if xs.iter().chain(ys).any(|v| !v.is_finite()) {
        return Err(OutputError::invalid(path, "non-finite grid coordinate"));
    }
    let n_panels = if exact.is_some() { 3 } else { 1 };
    let size = (HEATMAP_PANEL_SIZE.0 * n_panels, HEATMAP_PANEL_SIZE.1);
    render(path, size, |root| {
        draw_heatmaps(root, labels, xs, ys, predicted, exact, title)
    })
}

/// `log10 |r|` on a regular `nx × ny` grid as one heatmap panel with its colour bar,
/// and `points` (the training points, projected on the two axes) drawn over it as small
/// red dots ([`OVERLAY_COLOUR`]; smaller beyond 1,000 points).
/// `log_abs_residual[j * nx + i]` is the value at `(xs[i], ys[j])`; NaN cells stay
/// blank. The image is one [`HEATMAP_PANEL_SIZE`]
/// panel; the cost grows with the cells and the points, so callers thin large point sets.
///
/// # Errors
/// As [`plot_heatmaps`].
pub fn plot_residual_heatmap(
    path: &Path,
    labels: (&str, &str),
    xs: &[f64],
    ys: &[f64],
    log_abs_residual: &[f64],
    points: &[(f64, f64)],
    title: &str,
) -> Result<(), OutputError> {
    let n_cells = xs.len() * ys.len();
    if n_cells == 0 || log_abs_residual.len() != n_cells {
        return Err(OutputError::invalid(
            path,
            format!(
                "a {}×{} grid needs {n_cells} values; got {}",
                xs.len(),
                ys.len(),
                log_abs_residual.len()
            ),
        ));
    }
    if xs.iter().chain(ys).any(|v| !v.is_finite()) {
        return Err(OutputError::invalid(path, "non-finite grid coordinate"));
    }
    render(path, HEATMAP_PANEL_SIZE, |root| {
        let area = titled(root, title)?;
        let range = colour_range(log_abs_residual.iter().copied());
        draw_heatmap_panel(
            &area,
            labels,
            xs,
            ys,
            log_abs_residual,
            range,
            "log₁₀ |r|, training points in red",
            points,
        )
    })
}

/// Cell edges along one axis: midpoints between neighbours, clamped to the end points.
fn cell_edges(axis: &[f64]) -> Vec<(f64, f64)> {
    let n = axis.len();
    (0..n)
        .map(|i| {
            let left = if i == 0 {
                axis[0]
            } else {
                0.5 * (axis[i - 1] + axis[i])
            };
            let right = if i + 1 == n {
                axis[n - 1]
            } else {
                0.5 * (axis[i] + axis[i + 1])
            };
            (left, right)
        })
        .collect()
}

fn axis_range(axis: &[f64]) -> (f64, f64) {
    let (lo, hi) = min_max(axis.iter().copied()).unwrap_or((0.0, 1.0));
    if hi > lo {
        (lo, hi)
    } else {
        padded_range(lo, hi, 0.0)
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_heatmap_panel(
    area: &Area<'_>,
    labels: (&str, &str),
    xs: &[f64],
    ys: &[f64],
    values: &[f64],
    range: Option<(f64, f64)>,
    caption: &str,
    overlay: &[(f64, f64)],
) -> DrawResult {
    let (panel_width, _) = area.dim_in_pixel();
    let (heat_area, bar_area) = area.split_horizontally(panel_width - COLOUR_BAR_WIDTH);
    let (x_lo, x_hi) = axis_range(xs);
    let (y_lo, y_hi) = axis_range(ys);
    let mut chart = ChartBuilder::on(&heat_area)
        .caption(caption, font(CAPTION_SIZE))
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(78)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    let (x_span, y_span) = (x_hi - x_lo, y_hi - y_lo);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(labels.0)
        .y_desc(labels.1)
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| tick_label(*v, x_span))
        .y_label_formatter(&|v| tick_label(*v, y_span))
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(AXIS_DESC_SIZE))
        .draw()?;
    let Some((v_lo, v_hi)) = range else {
        chart.draw_series(std::iter::once(Text::new(
            "no finite values".to_string(),
            (x_lo + 0.25 * x_span, y_lo + 0.5 * y_span),
            font(AXIS_DESC_SIZE),
        )))?;
        return Ok(());
    };
    let scale = |v: f64| (v - v_lo) / (v_hi - v_lo);
    let x_edges = cell_edges(xs);
    let y_edges = cell_edges(ys);
    let nx = xs.len();
    chart.draw_series(y_edges.iter().enumerate().flat_map(|(j, &(y0, y1))| {
        x_edges
            .iter()
            .enumerate()
            .filter_map(move |(i, &(x0, x1))| {
                let v = values[j * nx + i];
                v.is_finite()
                    .then(|| Rectangle::new([(x0, y0), (x1, y1)], viridis(scale(v)).filled()))
            })
    }))?;
    // Smaller dots for many points, so that the heatmap stays visible between them.
    let radius = if overlay.len() > 1_000 { 1 } else { 2 };
    chart.draw_series(
        overlay
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&p| Circle::new(p, radius, OVERLAY_COLOUR.filled())),
    )?;

    // Colour bar: the same caption and bottom label area as the heatmap keep it aligned.
    let mut bar = ChartBuilder::on(&bar_area)
        .caption(" ", font(CAPTION_SIZE))
        .margin_top(14)
        .margin_bottom(14)
        .margin_left(6)
        .margin_right(4)
        .x_label_area_size(52)
        .right_y_label_area_size(88)
        .build_cartesian_2d(0.0..1.0, v_lo..v_hi)?;
    let v_span = v_hi - v_lo;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .x_labels(0)
        .y_labels(7)
        .set_all_tick_mark_size(6)
        .y_label_formatter(&|v| tick_label(*v, v_span))
        .label_style(font(TICK_SIZE))
        .draw()?;
    const STEPS: usize = 200;
    bar.draw_series((0..STEPS).map(|k| {
        let t0 = k as f64 / STEPS as f64;
        let t1 = (k + 1) as f64 / STEPS as f64;
        Rectangle::new(
            [(0.0, v_lo + t0 * v_span), (1.0, v_lo + t1 * v_span)],
            viridis(0.5 * (t0 + t1)).filled(),
        )
    }))?;
    Ok(())
}

/// A value range for a colour scale; a constant field gets a small non-empty interval.
fn colour_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = min_max(values)?;
    Some(if hi > lo {
        (lo, hi)
    } else {
        let half = if lo == 0.0 { 1e-12 } else { 1e-6 * lo.abs() };
        (lo - half, hi + half)
    })
}

fn draw_heatmaps(
    root: &Area<'_>,
    labels: (&str, &str),
    xs: &[f64],
    ys: &[f64],
    predicted: &[f64],
    exact: Option<&[f64]>,
    title: &str,
) -> DrawResult {
    let area = titled(root, title)?;
    let Some(exact) = exact else {
        let range = colour_range(predicted.iter().copied());
        return draw_heatmap_panel(
            &area,
            labels,
            xs,
            ys,
            predicted,
            range,
            "u_θ (predicted)",
            &[],
        );
    };
    let errors: Vec<f64> = predicted
        .iter()
        .zip(exact)
        .map(|(p, e)| (p - e).abs())
        .collect();
    let shared = colour_range(predicted.iter().chain(exact).copied());
    let error_range =
        min_max(errors.iter().copied()).map(
            |(_, hi)| {
                if hi > 0.0 {
                    (0.0, hi)
                } else {
                    (0.0, 1e-12)
                }
            },
        );
    let panels = area.split_evenly((1, 3));
    draw_heatmap_panel(
        &panels[0],
        labels,
        xs,
        ys,
        predicted,
        shared,
        "u_θ (predicted)",
        &[],
    )?;
    draw_heatmap_panel(&panels[1], labels, xs, ys, exact, shared, "exact", &[])?;
    draw_heatmap_panel(
        &panels[2],
        labels,
        xs,
        ys,
        &errors,
        error_range,
        "|u_θ − exact|",
        &[],
    )?;
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::plot::test_support::{decode, grid_values};
    use crate::output::test_util::ScratchDir;

    #[test]
    fn viridis_ends_and_middle() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        // Halfway between the 5th and 6th samples.
        assert_eq!(viridis(0.5), RGBColor(0x23, 0x90, 0x8C));
    }

    #[test]
    fn heatmaps_png_three_panels_and_blank_outside_the_domain() {
        let dir = ScratchDir::new("heatmaps");
        let xs = crate::output::grid_axis(-1.0, 1.0, 81);
        let ys = crate::output::grid_axis(-1.0, 1.0, 81);
        let exact_fn = |x: f64, y: f64| (2.0 * x).sin() * (3.0 * y).cos();
        let predicted_fn = |x: f64, y: f64| exact_fn(x, y) + 0.01 * x * y;
        let everywhere = |_: f64, _: f64| true;
        let disk = |x: f64, y: f64| x * x + y * y <= 1.0;

        let box_path = dir.path().join("box.png");
        let predicted = grid_values(&xs, &ys, predicted_fn, everywhere);
        let exact = grid_values(&xs, &ys, exact_fn, everywhere);
        plot_heatmaps(
            &box_path,
            ("x", "y"),
            &xs,
            &ys,
            &predicted,
            Some(&exact),
            "box",
        )
        .unwrap();
        let boxed = decode(&box_path);
        assert_eq!(
            (boxed.width, boxed.height),
            (3 * HEATMAP_PANEL_SIZE.0, HEATMAP_PANEL_SIZE.1)
        );
        assert!(
            boxed.distinct_colours() > 150,
            "{}",
            boxed.distinct_colours()
        );
        // The smallest value of the shared scale and zero error are the low end of viridis.
        assert!(boxed.count(0..boxed.height, viridis(0.0)) > 10);
        assert!(boxed.dark(0..45) > 150);

        let disk_path = dir.path().join("disk.png");
        let predicted = grid_values(&xs, &ys, predicted_fn, disk);
        let exact = grid_values(&xs, &ys, exact_fn, disk);
        plot_heatmaps(
            &disk_path,
            ("x", "y"),
            &xs,
            &ys,
            &predicted,
            Some(&exact),
            "disk",
        )
        .unwrap();
        let disked = decode(&disk_path);
        // Three square-ish plot areas of ~400² px lose 1 − π/4 ≈ 21% each to blank cells.
        let extra_white = disked.white() as i64 - boxed.white() as i64;
        assert!(extra_white > 3 * 25_000, "{extra_white}");

        let single_path = dir.path().join("single.png");
        plot_heatmaps(&single_path, ("x", "y"), &xs, &ys, &predicted, None, "one").unwrap();
        let single = decode(&single_path);
        assert_eq!((single.width, single.height), HEATMAP_PANEL_SIZE);
        assert!(single.distinct_colours() > 100);
    }

    #[test]
    fn heatmaps_of_all_nan_and_bad_shapes() {
        let dir = ScratchDir::new("heatmaps-nan");
        let path = dir.path().join("heat-nan.png");
        let xs = [0.0, 0.5, 1.0];
        let ys = [0.0, 1.0];
        let nan = [f64::NAN; 6];
        plot_heatmaps(&path, ("x", "y"), &xs, &ys, &nan, Some(&nan), "nothing").unwrap();
        let image = decode(&path);
        assert_eq!(image.width, 3 * HEATMAP_PANEL_SIZE.0);
        assert_eq!(image.count(0..image.height, viridis(0.0)), 0);

        let err = plot_heatmaps(&path, ("x", "y"), &xs, &ys, &nan[1..], None, "t").unwrap_err();
        assert!(matches!(err, OutputError::InvalidData { .. }), "{err:?}");
        let err = plot_heatmaps(&path, ("x", "y"), &[], &ys, &[], None, "t").unwrap_err();
        assert!(matches!(err, OutputError::InvalidData { .. }), "{err:?}");
    }
}
