//! What every plot shares: the embedded font and text sizes, titles and notes,
//! tick and decade labels, axis ranges, curves broken at missing points, and
//! rendering into an RGB buffer written atomically as a PNG.

use crate::output::{write_atomic, OutputError};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::error::Error;
use std::path::Path;
use std::sync::OnceLock;

const FONT_FAMILY: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
pub(super) const TITLE_SIZE: u32 = 26;
pub(super) const CAPTION_SIZE: u32 = 21;
pub(super) const AXIS_DESC_SIZE: u32 = 19;
pub(super) const TICK_SIZE: u32 = 16;

/// Colour of the predicted solution `u_θ` in [`plot_line`](super::plot_line).
pub const PREDICTED_COLOUR: RGBColor = RGBColor(31, 119, 180);
/// Colour of the exact solution in [`plot_line`](super::plot_line).
pub const EXACT_COLOUR: RGBColor = RGBColor(255, 127, 14);
/// Colour of the loss curve in [`plot_history`](super::plot_history).
pub const LOSS_COLOUR: RGBColor = RGBColor(30, 30, 30);

/// Colour of the kept part of the spectrum in [`plot_spectrum`](super::plot_spectrum).
pub const KEPT_COLOUR: RGBColor = RGBColor(31, 119, 180);
/// Colour of the cut part of the spectrum in [`plot_spectrum`](super::plot_spectrum).
pub const CUT_COLOUR: RGBColor = RGBColor(214, 39, 40);
/// Colours of the error curves in [`plot_history`](super::plot_history), in series order (cycled).
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

pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
pub(super) type DrawResult = Result<(), Box<dyn Error>>;

pub(super) fn font(size: u32) -> TextStyle<'static> {
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

pub(super) fn render(
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
pub(super) fn titled<'a>(area: &Area<'a>, title: &str) -> Result<Area<'a>, Box<dyn Error>> {
    Ok(area.margin(10, 0, 0, 0).titled(title, font(TITLE_SIZE))?)
}

/// The frame drawn when there is nothing to plot.
pub(super) fn draw_note(area: &Area<'_>, title: &str, note: &str) -> DrawResult {
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
pub(super) fn tick_label(value: f64, span: f64) -> String {
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
pub(super) fn decade_label(log_value: f64) -> String {
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
pub(super) fn decade_range(log_values: impl Iterator<Item = f64>) -> Option<((f64, f64), usize)> {
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

pub(super) fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A linear axis range around the data with `pad` (fraction of the span) on each side;
/// a degenerate range is widened so plotters gets a non-empty interval.
pub(super) fn padded_range(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 0.0 {
        (lo - pad * span, hi + pad * span)
    } else {
        let half = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - half, hi + half)
    }
}

/// Splits a curve at points where `keep` fails, so lines break there.
pub(super) fn segments(points: impl Iterator<Item = Option<(f64, f64)>>) -> Vec<Vec<(f64, f64)>> {
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

pub(super) fn legend_line(
    colour: RGBColor,
    width: u32,
) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 26, y)], colour.stroke_width(width))
}
#[cfg(test)]
mod tests {
    use super::*;

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
}
