//! PNG plots of a run: training history, 1-D solutions, 2-D heatmaps and the spectrum of
//! the Gramian (or of the Jacobian) at the last step.
//!
//! Drawing uses plotters' bitmap backend into an in-memory RGB buffer; text is rendered
//! with ab_glyph from DejaVu Sans embedded in the binary (no system font library), and
//! the buffer is PNG-encoded and written atomically. Log-scale axes plot `log10(value)` on
//! a linear axis labelled in decades (`10⁻³`), which keeps ticks on powers of ten for any
//! range. Non-finite values (and non-positive ones on log axes) are left out: lines break
//! there, heatmap cells stay blank. When nothing at all is left to draw, the functions
//! still write a frame with the title and a one-line note, and return `Ok`.

use super::{write_atomic, OutputError};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::error::Error;
use std::path::Path;
use std::sync::OnceLock;

/// One named curve: `y[k]` at `x[k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend.
    pub name: String,
    /// Abscissae.
    pub x: Vec<f64>,
    /// Values, one per abscissa.
    pub y: Vec<f64>,
}

/// Size in pixels of [`plot_history`] and [`plot_spectrum`] images, and of
/// [`plot_line`] without an exact solution.
pub const PLOT_SIZE: (u32, u32) = (900, 600);
/// Size of [`plot_line`] with an exact solution (solution panel over error panel).
pub const LINE_WITH_ERROR_SIZE: (u32, u32) = (900, 800);
/// Size of one [`plot_heatmaps`] panel (heatmap and its colour bar); panels sit side by side.
pub const HEATMAP_PANEL_SIZE: (u32, u32) = (640, 600);

const FONT_FAMILY: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const TITLE_SIZE: u32 = 26;
const CAPTION_SIZE: u32 = 21;
const AXIS_DESC_SIZE: u32 = 19;
const TICK_SIZE: u32 = 16;
const COLOUR_BAR_WIDTH: u32 = 125;

/// Colour of the predicted solution `u_θ` in [`plot_line`].
pub const PREDICTED_COLOUR: RGBColor = RGBColor(31, 119, 180);
/// Colour of the exact solution in [`plot_line`].
pub const EXACT_COLOUR: RGBColor = RGBColor(255, 127, 14);
/// Colour of the loss curve in [`plot_history`].
pub const LOSS_COLOUR: RGBColor = RGBColor(30, 30, 30);
/// Colour of the kept part of the spectrum in [`plot_spectrum`].
pub const KEPT_COLOUR: RGBColor = RGBColor(31, 119, 180);
/// Colour of the cut part of the spectrum in [`plot_spectrum`].
pub const CUT_COLOUR: RGBColor = RGBColor(214, 39, 40);
/// Colours of the error curves in [`plot_history`], in series order (cycled).
pub const SERIES_COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

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

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn Error>>;

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

/// Loss and per-field relative L2 error against iteration on a log-scale y axis.
///
/// Points with a non-finite coordinate or a non-positive value are skipped (the curve
/// joins the remaining points, so errors evaluated every few iterations draw as one
/// line). The image is [`PLOT_SIZE`]. With nothing positive and finite at all it is a
/// frame with the title and a note.
///
/// # Errors
/// [`OutputError::InvalidData`] when a series' `x` and `y` differ in length;
/// [`OutputError::Draw`] / [`OutputError::Io`] when drawing or writing fails.
pub fn plot_history(path: &Path, loss: &Series, errors: &[Series]) -> Result<(), OutputError> {
    for series in std::iter::once(loss).chain(errors) {
        if series.x.len() != series.y.len() {
            return Err(OutputError::invalid(
                path,
                format!(
                    "series `{}` has {} x values and {} y values",
                    series.name,
                    series.x.len(),
                    series.y.len()
                ),
            ));
        }
    }
    render(path, PLOT_SIZE, |root| draw_history(root, loss, errors))
}

/// A 1-D solution: `u_θ` and the exact solution (if any) against `x` on one panel, the
/// pointwise `|u_θ − exact|` on a log scale on a second panel below.
///
/// Points are drawn in increasing `x` (the input need not be sorted); lines break at
/// non-finite values. The image is [`PLOT_SIZE`] without `exact`, [`LINE_WITH_ERROR_SIZE`]
/// with it.
///
/// # Errors
/// [`OutputError::InvalidData`] when `x`, `predicted` and `exact` differ in length;
/// [`OutputError::Draw`] / [`OutputError::Io`] when drawing or writing fails.
pub fn plot_line(
    path: &Path,
    x_label: &str,
    x: &[f64],
    predicted: &[f64],
    exact: Option<&[f64]>,
    title: &str,
) -> Result<(), OutputError> {
    if predicted.len() != x.len() || exact.is_some_and(|e| e.len() != x.len()) {
        return Err(OutputError::invalid(
            path,
            format!(
                "{} x values, {} predicted values{}",
                x.len(),
                predicted.len(),
                exact.map_or(String::new(), |e| format!(", {} exact values", e.len()))
            ),
        ));
    }
    let size = if exact.is_some() {
        LINE_WITH_ERROR_SIZE
    } else {
        PLOT_SIZE
    };
    render(path, size, |root| {
        draw_line(root, x_label, x, predicted, exact, title)
    })
}

/// 2-D heatmaps on a regular `nx × ny` grid: the prediction, and when `exact` is given
/// the exact solution and `|error|`, side by side, each with a colour bar.
///
/// `values[j * nx + i]` is the value at `(xs[i], ys[j])` (the order of
/// [`super::slice_grid`]). Prediction and exact solution share one colour scale so they
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

/// The spectrum at the last step, as Figure 1 of the SNGD paper: `values` sorted
/// descending against their index, log-scale y, a dashed horizontal line at `cutoff`,
/// values at or above the cut-off in [`KEPT_COLOUR`] and those below in [`CUT_COLOUR`].
///
/// `kind` names the values (`"eigenvalues of G"` or `"singular values of J"`); `cutoff`
/// is an absolute threshold in the same units. Non-finite values are dropped and
/// non-positive ones cannot be shown on the log axis: their count is noted in the title.
/// The image is [`PLOT_SIZE`].
///
/// # Errors
/// [`OutputError::Draw`] / [`OutputError::Io`] when drawing or writing fails.
pub fn plot_spectrum(
    path: &Path,
    values: &[f64],
    cutoff: Option<f64>,
    kind: &str,
) -> Result<(), OutputError> {
    render(path, PLOT_SIZE, |root| {
        draw_spectrum(root, values, cutoff, kind)
    })
}

fn font(size: u32) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&BLACK)
}

/// Registers the embedded font once per process.
fn ensure_font() -> Result<(), Box<dyn Error>> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok {
        Ok(())
    } else {
        Err("the embedded font could not be loaded".into())
    }
}

/// Draws with `draw` into a white RGB buffer of `size` pixels.
fn render_to_buffer(
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<Vec<u8>, Box<dyn Error>> {
    ensure_font()?;
    let mut buffer = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer_and_format(&mut buffer, size)?.into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(buffer)
}

fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(bytes)
}

fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<(), OutputError> {
    let draw_error = |message: String| OutputError::Draw {
        path: path.to_path_buf(),
        message,
    };
    let buffer = render_to_buffer(size, draw).map_err(|e| draw_error(e.to_string()))?;
    let bytes = encode_png(&buffer, size).map_err(|e| draw_error(e.to_string()))?;
    write_atomic(path, &bytes)
}

/// The area below a title centred at the top (with some air above it).
fn titled<'a>(area: &Area<'a>, title: &str) -> Result<Area<'a>, Box<dyn Error>> {
    Ok(area.margin(10, 0, 0, 0).titled(title, font(TITLE_SIZE))?)
}

/// The frame drawn when there is nothing to plot.
fn draw_note(area: &Area<'_>, title: &str, note: &str) -> DrawResult {
    let inner = titled(area, title)?;
    let (_, height) = inner.dim_in_pixel();
    inner.draw(&Text::new(
        note.to_string(),
        (60, height as i32 / 2 - 20),
        font(AXIS_DESC_SIZE),
    ))?;
    Ok(())
}

/// Tick label for a linear axis spanning `span`: up to four significant digits, values
/// within rounding noise of zero shown as `0`.
fn tick_label(value: f64, span: f64) -> String {
    if value == 0.0 || value.abs() < span.abs() * 1e-9 {
        return "0".to_string();
    }
    let magnitude = value.abs();
    if (1e-3..1e5).contains(&magnitude) {
        let decimals = (3 - magnitude.log10().floor() as i32).clamp(0, 6) as usize;
        let text = format!("{value:.decimals$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    } else {
        format!("{value:.1e}")
    }
}

/// Label of a log10 tick: `10ᵏ` for whole decades, the plain value in between.
fn decade_label(log_value: f64) -> String {
    let rounded = log_value.round();
    if (log_value - rounded).abs() > 1e-9 {
        return format!("{:.1e}", 10f64.powf(log_value));
    }
    const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let exponent = rounded as i64;
    let mut label = String::from("10");
    if exponent < 0 {
        label.push('⁻');
    }
    for digit in exponent.unsigned_abs().to_string().bytes() {
        label.push(SUPERSCRIPTS[(digit - b'0') as usize]);
    }
    label
}

/// Whole-decade bounds around the log10 values (at least one decade wide) and the
/// number of y labels that keeps ticks on whole decades.
fn decade_range(log_values: impl Iterator<Item = f64>) -> Option<((f64, f64), usize)> {
    let (lo, hi) = min_max(log_values)?;
    // A little air so data on a decade boundary does not sit on the frame.
    let air = 0.02 * (hi - lo) + 0.05;
    let lo = (lo - air).floor();
    let mut hi = (hi + air).ceil();
    if hi <= lo {
        hi = lo + 1.0;
    }
    let decades = (hi - lo) as usize;
    Some(((lo, hi), (decades + 1).min(12)))
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A linear axis range around the data with `pad` (fraction of the span) on each side;
/// a degenerate range is widened so plotters gets a non-empty interval.
fn padded_range(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 0.0 {
        (lo - pad * span, hi + pad * span)
    } else {
        let half = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - half, hi + half)
    }
}

/// Splits a curve at points where `keep` fails, so lines break there.
fn segments(points: impl Iterator<Item = Option<(f64, f64)>>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for point in points {
        match point {
            Some(p) => out.last_mut().map_or((), |segment| segment.push(p)),
            None => {
                if out.last().is_some_and(|s| !s.is_empty()) {
                    out.push(Vec::new());
                }
            }
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn legend_line(colour: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 26, y)], colour.stroke_width(width))
}

fn draw_history(root: &Area<'_>, loss: &Series, errors: &[Series]) -> DrawResult {
    const TITLE: &str = "Training history";
    let log_points = |series: &Series| -> Vec<(f64, f64)> {
        series
            .x
            .iter()
            .zip(&series.y)
            .filter(|(x, y)| x.is_finite() && y.is_finite() && **y > 0.0)
            .map(|(&x, &y)| (x, y.log10()))
            .collect()
    };
    // (name, points, colour, stroke width)
    type Curve<'s> = (&'s str, Vec<(f64, f64)>, RGBColor, u32);
    let mut curves: Vec<Curve<'_>> = vec![(loss.name.as_str(), log_points(loss), LOSS_COLOUR, 3)];
    for (k, series) in errors.iter().enumerate() {
        let colour = SERIES_COLOURS[k % SERIES_COLOURS.len()];
        curves.push((series.name.as_str(), log_points(series), colour, 2));
    }
    let all = || curves.iter().flat_map(|c| c.1.iter().copied());
    let (Some((x_lo, x_hi)), Some(((y_lo, y_hi), n_y_labels))) = (
        min_max(all().map(|p| p.0)),
        decade_range(all().map(|p| p.1)),
    ) else {
        return draw_note(root, TITLE, "no positive finite values to plot");
    };
    let (x_lo, x_hi) = if x_hi > x_lo {
        (x_lo, x_hi)
    } else {
        padded_range(x_lo, x_hi, 0.0)
    };

    let mut chart = ChartBuilder::on(root)
        .caption(TITLE, font(TITLE_SIZE))
        .margin(18)
        .x_label_area_size(55)
        .y_label_area_size(90)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    let x_span = x_hi - x_lo;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("loss / relative L2 error")
        .y_labels(n_y_labels)
        .y_label_formatter(&|v| decade_label(*v))
        .x_label_formatter(&|v| tick_label(*v, x_span))
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(AXIS_DESC_SIZE))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    for (name, points, colour, width) in curves {
        if points.is_empty() {
            continue;
        }
        // Sparse curves (errors evaluated every few iterations) get markers too.
        let markers = points.len() <= 60;
        let style = colour.stroke_width(width);
        chart
            .draw_series(LineSeries::new(points.iter().copied(), style))?
            .label(name)
            .legend(legend_line(colour, width));
        if markers {
            chart.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 3 + width / 2, colour.filled())),
            )?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(font(TICK_SIZE))
        .draw()?;
    Ok(())
}

fn draw_line(
    root: &Area<'_>,
    x_label: &str,
    x: &[f64],
    predicted: &[f64],
    exact: Option<&[f64]>,
    title: &str,
) -> DrawResult {
    let mut order: Vec<usize> = (0..x.len()).filter(|&k| x[k].is_finite()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let value_points = |values: &[f64]| {
        segments(order.iter().map(|&k| {
            let v = values[k];
            v.is_finite().then_some((x[k], v))
        }))
    };
    let predicted_segments = value_points(predicted);
    let exact_segments = exact.map(value_points).unwrap_or_default();
    let x_range = min_max(order.iter().map(|&k| x[k]));
    let y_range = min_max(
        predicted_segments
            .iter()
            .chain(&exact_segments)
            .flatten()
            .map(|p| p.1),
    );
    let (Some((x_lo, x_hi)), Some((y_lo, y_hi))) = (x_range, y_range) else {
        return draw_note(root, title, "no finite values to plot");
    };
    let (x_lo, x_hi) = if x_hi > x_lo {
        (x_lo, x_hi)
    } else {
        padded_range(x_lo, x_hi, 0.0)
    };
    let (y_lo, y_hi) = padded_range(y_lo, y_hi, 0.06);

    let area = titled(root, title)?;
    let (top, bottom) = if exact.is_some() {
        let (_, height) = area.dim_in_pixel();
        let (top, bottom) = area.split_vertically(height * 57 / 100);
        (top, Some(bottom))
    } else {
        (area, None)
    };

    let x_span = x_hi - x_lo;
    let y_span = y_hi - y_lo;
    let mut chart = ChartBuilder::on(&top)
        .caption("solution", font(CAPTION_SIZE))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(85)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("value")
        .x_label_formatter(&|v| tick_label(*v, x_span))
        .y_label_formatter(&|v| tick_label(*v, y_span))
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(AXIS_DESC_SIZE))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    for (k, segment) in predicted_segments.iter().enumerate() {
        let drawn = chart.draw_series(LineSeries::new(
            segment.iter().copied(),
            PREDICTED_COLOUR.stroke_width(3),
        ))?;
        if k == 0 {
            drawn
                .label("u_θ (predicted)")
                .legend(legend_line(PREDICTED_COLOUR, 3));
        }
    }
    // Dashed and on top, so the prediction shows through where the two agree.
    for (k, segment) in exact_segments.iter().enumerate() {
        let drawn = chart.draw_series(DashedLineSeries::new(
            segment.iter().copied(),
            10,
            7,
            EXACT_COLOUR.stroke_width(2),
        ))?;
        if k == 0 {
            drawn.label("exact").legend(legend_line(EXACT_COLOUR, 2));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(font(TICK_SIZE))
        .draw()?;

    let (Some(bottom), Some(exact)) = (bottom, exact) else {
        return Ok(());
    };
    let error_segments = segments(order.iter().map(|&k| {
        let error = (predicted[k] - exact[k]).abs();
        (error.is_finite() && error > 0.0).then_some((x[k], error.log10()))
    }));
    let Some(((e_lo, e_hi), n_y_labels)) =
        decade_range(error_segments.iter().flatten().map(|p| p.1))
    else {
        bottom.draw(&Text::new(
            "pointwise error: no positive finite values".to_string(),
            (100, 60),
            font(AXIS_DESC_SIZE),
        ))?;
        return Ok(());
    };
    let mut chart = ChartBuilder::on(&bottom)
        .caption("pointwise error |u_θ − exact|", font(CAPTION_SIZE))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(85)
        .build_cartesian_2d(x_lo..x_hi, e_lo..e_hi)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("|error|")
        .y_labels(n_y_labels)
        .y_label_formatter(&|v| decade_label(*v))
        .x_label_formatter(&|v| tick_label(*v, x_span))
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(AXIS_DESC_SIZE))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    for segment in &error_segments {
        chart.draw_series(LineSeries::new(
            segment.iter().copied(),
            CUT_COLOUR.stroke_width(2),
        ))?;
    }
    Ok(())
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
        return draw_heatmap_panel(&area, labels, xs, ys, predicted, range, "u_θ (predicted)");
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
    )?;
    draw_heatmap_panel(&panels[1], labels, xs, ys, exact, shared, "exact")?;
    draw_heatmap_panel(
        &panels[2],
        labels,
        xs,
        ys,
        &errors,
        error_range,
        "|u_θ − exact|",
    )?;
    Ok(())
}

fn draw_spectrum(root: &Area<'_>, values: &[f64], cutoff: Option<f64>, kind: &str) -> DrawResult {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let n_total = sorted.len();
    let cutoff = cutoff.filter(|c| c.is_finite() && *c > 0.0);
    let is_kept = |v: f64| cutoff.is_none_or(|c| v >= c);
    let n_kept = sorted.iter().filter(|&&v| is_kept(v)).count();
    let n_hidden = sorted.iter().filter(|&&v| v <= 0.0).count();
    // Index from 1, as "the k-th largest".
    let points: Vec<(f64, f64, bool)> = sorted
        .iter()
        .enumerate()
        .filter(|(_, &v)| v > 0.0)
        .map(|(k, &v)| ((k + 1) as f64, v.log10(), is_kept(v)))
        .collect();
    let mut title = format!("Spectrum at the last step: {kind}");
    if cutoff.is_some() {
        title.push_str(&format!(" ({n_kept} of {n_total} kept)"));
    }
    if n_hidden > 0 {
        let noun = if n_hidden == 1 { "value" } else { "values" };
        title.push_str(&format!("; {n_hidden} {noun} ≤ 0 not shown"));
    }
    let log_cutoff = cutoff.map(f64::log10);
    let Some(((y_lo, y_hi), n_y_labels)) =
        decade_range(points.iter().map(|p| p.1).chain(log_cutoff))
    else {
        return draw_note(root, &title, "no positive finite values to plot");
    };
    if points.is_empty() {
        return draw_note(root, &title, "no positive finite values to plot");
    }
    let x_hi = (n_total as f64 + 1.0).max(2.0);
    let mut chart = ChartBuilder::on(root)
        .caption(&title, font(CAPTION_SIZE + 1))
        .margin(18)
        .x_label_area_size(55)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..x_hi, y_lo..y_hi)?;
    chart
        .configure_mesh()
        .x_desc("index k (sorted descending)")
        .y_desc(kind)
        .y_labels(n_y_labels)
        .y_label_formatter(&|v| decade_label(*v))
        .x_label_formatter(&|v| tick_label(*v, x_hi))
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(AXIS_DESC_SIZE))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|p| (p.0, p.1)),
        BLACK.mix(0.25).stroke_width(1),
    ))?;
    // Markers shrink as the count grows so thousands of values stay legible.
    let radius = if points.len() > 400 { 2 } else { 3 };
    let kept_label = if cutoff.is_some() { "kept" } else { "values" };
    for (kept, colour, label) in [(true, KEPT_COLOUR, kept_label), (false, CUT_COLOUR, "cut")] {
        let part: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.2 == kept)
            .map(|p| (p.0, p.1))
            .collect();
        if part.is_empty() {
            continue;
        }
        chart
            .draw_series(
                part.iter()
                    .map(move |&p| Circle::new(p, radius, colour.filled())),
            )?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
    }
    if let (Some(cutoff), Some(log_cutoff)) = (cutoff, log_cutoff) {
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, log_cutoff), (x_hi, log_cutoff)],
                12,
                8,
                BLACK.stroke_width(2),
            ))?
            .label(format!("cut-off {cutoff:.1e}"))
            .legend(legend_line(BLACK, 2));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(font(TICK_SIZE))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::ScratchDir;
    use super::*;
    use std::collections::HashSet;
    use std::path::PathBuf;

    struct Decoded {
        width: u32,
        height: u32,
        rgb: Vec<u8>,
    }

    impl Decoded {
        fn pixel(&self, x: u32, y: u32) -> (u8, u8, u8) {
            let k = 3 * (y as usize * self.width as usize + x as usize);
            (self.rgb[k], self.rgb[k + 1], self.rgb[k + 2])
        }

        fn pixels_in_rows(&self, rows: std::ops::Range<u32>) -> Vec<(u8, u8, u8)> {
            rows.flat_map(|y| (0..self.width).map(move |x| (x, y)))
                .map(|(x, y)| self.pixel(x, y))
                .collect()
        }

        fn distinct_colours(&self) -> usize {
            self.pixels_in_rows(0..self.height)
                .into_iter()
                .collect::<HashSet<_>>()
                .len()
        }

        fn count(&self, rows: std::ops::Range<u32>, colour: RGBColor) -> usize {
            let target = (colour.0, colour.1, colour.2);
            self.pixels_in_rows(rows)
                .into_iter()
                .filter(|&p| p == target)
                .count()
        }

        /// Near-black pixels: rendered text (and axis lines).
        fn dark(&self, rows: std::ops::Range<u32>) -> usize {
            self.pixels_in_rows(rows)
                .into_iter()
                .filter(|p| p.0 < 90 && p.1 < 90 && p.2 < 90)
                .count()
        }

        fn white(&self) -> usize {
            self.pixels_in_rows(0..self.height)
                .into_iter()
                .filter(|&p| p == (255, 255, 255))
                .count()
        }
    }

    /// Decodes a PNG written by the plot functions; checks the signature on the way.
    /// With `PDEC_KEEP_PLOTS=DIR` set, a copy is kept there for looking at.
    fn decode(path: &Path) -> Decoded {
        let bytes = std::fs::read(path).expect("plot file exists");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        if let Some(dir) = std::env::var_os("PDEC_KEEP_PLOTS") {
            let name = path.file_name().expect("file name");
            std::fs::write(PathBuf::from(dir).join(name), &bytes).expect("keep copy");
        }
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("PNG header");
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).expect("PNG data");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        rgb.truncate(info.buffer_size());
        Decoded {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    fn series(name: &str, x: Vec<f64>, y: Vec<f64>) -> Series {
        Series {
            name: name.to_string(),
            x,
            y,
        }
    }

    #[test]
    fn labels_decades_and_ticks() {
        assert_eq!(decade_label(-16.0), "10⁻¹⁶");
        assert_eq!(decade_label(0.0), "10⁰");
        assert_eq!(decade_label(3.0), "10³");
        assert_eq!(decade_label(-0.5), "3.2e-1");
        assert_eq!(tick_label(0.30000000000000004, 1.0), "0.3");
        assert_eq!(tick_label(5.551115123125783e-17, 1.0), "0");
        assert_eq!(tick_label(1500.0, 3000.0), "1500");
        assert_eq!(tick_label(2.5e-5, 1e-4), "2.5e-5");
        assert_eq!(
            decade_range([-3.2, 0.4].into_iter()),
            Some(((-4.0, 1.0), 6))
        );
        // Data on a decade boundary gets air on both sides.
        assert_eq!(decade_range([-2.0].into_iter()), Some(((-3.0, -1.0), 3)));
        assert_eq!(
            decade_range([-16.0, 0.0].into_iter()),
            Some(((-17.0, 1.0), 12))
        );
        assert_eq!(decade_range([f64::NAN].into_iter()), None);
    }

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
    fn segments_break_at_missing_points() {
        let points = [
            Some((0.0, 1.0)),
            None,
            None,
            Some((2.0, 3.0)),
            Some((3.0, 4.0)),
            None,
        ];
        assert_eq!(
            segments(points.into_iter()),
            vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]
        );
        assert!(segments([None, None].into_iter()).is_empty());
    }

    #[test]
    fn history_png_has_curves_text_and_size() {
        let dir = ScratchDir::new("history");
        let path = dir.path().join("history.png");
        let iterations: Vec<f64> = (0..200).map(f64::from).collect();
        let loss: Vec<f64> = iterations.iter().map(|k| (-0.12 * k).exp() * 3.0).collect();
        // Errors evaluated every 10 iterations, with a NaN and a zero to skip.
        let eval: Vec<f64> = (0..20).map(|k| f64::from(k) * 10.0).collect();
        let mut error_u: Vec<f64> = eval.iter().map(|k| (-0.08 * k).exp()).collect();
        error_u[3] = f64::NAN;
        error_u[4] = 0.0;
        let error_v: Vec<f64> = eval.iter().map(|k| 0.5 * (-0.05 * k).exp()).collect();
        plot_history(
            &path,
            &series("loss", iterations, loss),
            &[
                series("rel L2 u", eval.clone(), error_u),
                series("rel L2 v", eval, error_v),
            ],
        )
        .unwrap();
        assert_eq!(dir.entries(), vec!["history.png".to_string()]);
        let image = decode(&path);
        assert_eq!((image.width, image.height), PLOT_SIZE);
        assert!(
            image.distinct_colours() > 20,
            "{}",
            image.distinct_colours()
        );
        assert!(image.count(0..image.height, LOSS_COLOUR) > 300);
        assert!(image.count(0..image.height, SERIES_COLOURS[0]) > 300);
        assert!(image.count(0..image.height, SERIES_COLOURS[1]) > 300);
        // The title is text in the top band: the embedded font renders.
        assert!(image.dark(0..45) > 150, "{}", image.dark(0..45));
    }

    #[test]
    fn history_of_all_nan_draws_a_note_frame() {
        let dir = ScratchDir::new("history-nan");
        let path = dir.path().join("history-nan.png");
        let nan = series("loss", vec![0.0, 1.0], vec![f64::NAN, -1.0]);
        plot_history(&path, &nan, &[]).unwrap();
        let image = decode(&path);
        assert_eq!((image.width, image.height), PLOT_SIZE);
        assert!(image.dark(0..image.height) > 150);
    }

    #[test]
    fn history_rejects_mismatched_series() {
        let dir = ScratchDir::new("history-bad");
        let path = dir.path().join("history.png");
        let bad = series("loss", vec![0.0, 1.0], vec![1.0]);
        let err = plot_history(&path, &bad, &[]).unwrap_err();
        assert!(matches!(err, OutputError::InvalidData { .. }), "{err:?}");
        assert!(dir.entries().is_empty());
    }

    #[test]
    fn line_png_with_exact_has_both_panels() {
        let dir = ScratchDir::new("line");
        let path = dir.path().join("solution.png");
        // Unsorted x: the plot sorts it.
        let x: Vec<f64> = (0..101)
            .map(|k| f64::from((k * 37) % 101) / 100.0)
            .collect();
        let exact: Vec<f64> = x.iter().map(|x| (std::f64::consts::PI * x).sin()).collect();
        let predicted: Vec<f64> = exact
            .iter()
            .zip(&x)
            .map(|(u, x)| u + 1e-3 * (7.0 * x).sin())
            .collect();
        plot_line(&path, "x", &x, &predicted, Some(&exact), "u on [0, 1]").unwrap();
        let image = decode(&path);
        assert_eq!((image.width, image.height), LINE_WITH_ERROR_SIZE);
        let split = image.height * 57 / 100;
        assert!(image.count(0..split, PREDICTED_COLOUR) > 300);
        assert!(image.count(0..split, EXACT_COLOUR) > 200);
        assert!(image.count(split..image.height, CUT_COLOUR) > 300);
        assert!(image.count(split..image.height, PREDICTED_COLOUR) == 0);
        assert!(image.dark(0..45) > 150);
    }

    #[test]
    fn line_png_without_exact_is_one_panel() {
        let dir = ScratchDir::new("line-single");
        let path = dir.path().join("solution-single.png");
        let x: Vec<f64> = (0..50).map(|k| f64::from(k) / 49.0).collect();
        let mut predicted: Vec<f64> = x.iter().map(|x| x * x).collect();
        predicted[20] = f64::NAN;
        plot_line(&path, "x", &x, &predicted, None, "u").unwrap();
        let image = decode(&path);
        assert_eq!((image.width, image.height), PLOT_SIZE);
        assert!(image.count(0..image.height, PREDICTED_COLOUR) > 300);
        assert_eq!(image.count(0..image.height, EXACT_COLOUR), 0);
        assert_eq!(image.count(0..image.height, CUT_COLOUR), 0);

        let all_nan = vec![f64::NAN; x.len()];
        let path = dir.path().join("solution-nan.png");
        plot_line(&path, "x", &x, &all_nan, Some(&all_nan), "u").unwrap();
        let image = decode(&path);
        assert_eq!((image.width, image.height), LINE_WITH_ERROR_SIZE);
        assert_eq!(image.count(0..image.height, PREDICTED_COLOUR), 0);

        let err = plot_line(&path, "x", &x, &predicted[1..], None, "u").unwrap_err();
        assert!(matches!(err, OutputError::InvalidData { .. }), "{err:?}");
    }

    /// Values of `f` on the grid, in `plot_heatmaps` order, NaN outside `inside`.
    fn grid_values(
        xs: &[f64],
        ys: &[f64],
        f: impl Fn(f64, f64) -> f64,
        inside: impl Fn(f64, f64) -> bool,
    ) -> Vec<f64> {
        ys.iter()
            .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
            .map(|(x, y)| if inside(x, y) { f(x, y) } else { f64::NAN })
            .collect()
    }

    #[test]
    fn heatmaps_png_three_panels_and_blank_outside_the_domain() {
        let dir = ScratchDir::new("heatmaps");
        let xs = super::super::grid_axis(-1.0, 1.0, 81);
        let ys = super::super::grid_axis(-1.0, 1.0, 81);
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

    #[test]
    fn spectrum_png_kept_and_cut_colours() {
        let dir = ScratchDir::new("spectrum");
        let path = dir.path().join("spectrum.png");
        // Exponential decay over 16 decades, shuffled, with a NaN and rounding noise < 0.
        let mut values: Vec<f64> = (0..300).map(|k| 10f64.powf(-f64::from(k) / 18.0)).collect();
        values.reverse();
        values.push(f64::NAN);
        values.push(-3e-18);
        plot_spectrum(&path, &values, Some(1e-13), "eigenvalues of G").unwrap();
        let image = decode(&path);
        assert_eq!((image.width, image.height), PLOT_SIZE);
        let kept = image.count(0..image.height, KEPT_COLOUR);
        let cut = image.count(0..image.height, CUT_COLOUR);
        assert!(kept > 500 && cut > 200, "kept {kept}, cut {cut}");
        assert!(image.dark(0..45) > 150);

        let path = dir.path().join("spectrum-nocut.png");
        plot_spectrum(&path, &values, None, "singular values of J").unwrap();
        let image = decode(&path);
        assert!(image.count(0..image.height, KEPT_COLOUR) > 500);
        assert_eq!(image.count(0..image.height, CUT_COLOUR), 0);

        let path = dir.path().join("spectrum-empty.png");
        plot_spectrum(&path, &[f64::NAN, 0.0], Some(1e-10), "eigenvalues of G").unwrap();
        let image = decode(&path);
        assert_eq!(image.count(0..image.height, KEPT_COLOUR), 0);
        assert_eq!(
            dir.entries(),
            vec![
                "spectrum-empty.png".to_string(),
                "spectrum-nocut.png".to_string(),
                "spectrum.png".to_string()
            ]
        );
    }

    #[test]
    fn plot_to_unwritable_path_names_it_and_leaves_nothing() {
        let dir = ScratchDir::new("plot-unwritable");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let path = blocker.join("spectrum.png");
        let err = plot_spectrum(&path, &[1.0, 0.1], Some(0.5), "eigenvalues of G").unwrap_err();
        assert!(matches!(err, OutputError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        assert_eq!(dir.entries(), vec!["file".to_string()]);
    }
}
