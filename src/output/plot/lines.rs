//! Line plots: the training history (loss and errors on a log axis) and a 1-D
//! solution with its exact solution and pointwise error.

use super::canvas::{
    decade_label, decade_range, draw_note, font, legend_line, min_max, padded_range, render,
    segments, tick_label, titled, Area, DrawResult, AXIS_DESC_SIZE, CAPTION_SIZE, CUT_COLOUR,
    EXACT_COLOUR, LOSS_COLOUR, PREDICTED_COLOUR, SERIES_COLOURS, TICK_SIZE, TITLE_SIZE,
};
use crate::output::OutputError;
use plotters::prelude::*;
use std::path::Path;

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

/// Size in pixels of [`plot_history`] and [`plot_spectrum`](super::plot_spectrum) images, and of
/// [`plot_line`] without an exact solution.
pub const PLOT_SIZE: (u32, u32) = (900, 600);
/// Size of [`plot_line`] with an exact solution (solution panel over error panel).
pub const LINE_WITH_ERROR_SIZE: (u32, u32) = (900, 800);

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
    check_lengths(path, std::iter::once(loss).chain(errors))?;
    render(path, PLOT_SIZE, |root| draw_history(root, loss, errors))
}

/// [`OutputError::InvalidData`] for the first series whose `x` and `y` differ in length.
fn check_lengths<'s>(
    path: &Path,
    series: impl IntoIterator<Item = &'s Series>,
) -> Result<(), OutputError> {
    match series.into_iter().find(|s| s.x.len() != s.y.len()) {
        Some(s) => Err(OutputError::invalid(
            path,
            format!(
                "series `{}` has {} x values and {} y values",
                s.name,
                s.x.len(),
                s.y.len()
            ),
        )),
        None => Ok(()),
    }
}

/// Cost against size on log–log axes: one curve per series, `y` (seconds per iteration)
/// against `x` (Jacobian entries N·P), as `pdec bench` draws it for a scaling series.
///
/// Points with a non-positive or non-finite coordinate are skipped. The image is
/// [`PLOT_SIZE`].
///
/// # Errors
/// As [`plot_history`].
pub fn plot_cost(path: &Path, series: &[Series]) -> Result<(), OutputError> {
    check_lengths(path, series)?;
    let curves: Vec<(&Series, RGBColor, u32)> = series
        .iter()
        .enumerate()
        .map(|(k, s)| (s, SERIES_COLOURS[k % SERIES_COLOURS.len()], 2))
        .collect();
    let axes = LogAxes {
        title: "Cost per iteration",
        x_desc: "Jacobian entries N·P",
        y_desc: "seconds per iteration",
        log_x: true,
    };
    render(path, PLOT_SIZE, |root| {
        draw_log_curves(root, &axes, &curves)
    })
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

/// `|r|` against `x` on a log scale (a 1-D problem's residual over its domain), with the
/// training points as red dots at `(x_i, |r(x_i)|)`. Non-finite and zero values are
/// left out of the curve; a training point whose `|r|` is zero or not finite sits on the
/// bottom edge. The image is [`PLOT_SIZE`].
///
/// # Errors
/// [`OutputError::InvalidData`] when `x` and `abs_residual` differ in length;
/// [`OutputError::Draw`] / [`OutputError::Io`] when drawing or writing fails.
pub fn plot_residual_line(
    path: &Path,
    x_label: &str,
    x: &[f64],
    abs_residual: &[f64],
    points: &[(f64, f64)],
    title: &str,
) -> Result<(), OutputError> {
    if x.len() != abs_residual.len() {
        return Err(OutputError::invalid(
            path,
            format!(
                "{} x values, {} residual values",
                x.len(),
                abs_residual.len()
            ),
        ));
    }
    render(path, PLOT_SIZE, |root| {
        draw_residual_line(root, x_label, x, abs_residual, points, title)
    })
}

fn draw_residual_line(
    root: &Area<'_>,
    x_label: &str,
    x: &[f64],
    abs_residual: &[f64],
    points: &[(f64, f64)],
    title: &str,
) -> DrawResult {
    let mut order: Vec<usize> = (0..x.len()).filter(|&k| x[k].is_finite()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let log = |v: f64| (v.is_finite() && v > 0.0).then(|| v.abs().log10());
    let curve = segments(
        order
            .iter()
            .map(|&k| log(abs_residual[k]).map(|v| (x[k], v))),
    );
    let logs = curve
        .iter()
        .flatten()
        .map(|p| p.1)
        .chain(points.iter().filter_map(|p| log(p.1)));
    let xs = order
        .iter()
        .map(|&k| x[k])
        .chain(points.iter().map(|p| p.0).filter(|v| v.is_finite()));
    let (Some((x_lo, x_hi)), Some(((y_lo, y_hi), n_y_labels))) = (min_max(xs), decade_range(logs))
    else {
        return draw_note(root, title, "no positive finite residual to plot");
    };
    let (x_lo, x_hi) = if x_hi > x_lo {
        (x_lo, x_hi)
    } else {
        padded_range(x_lo, x_hi, 0.0)
    };
    let x_span = x_hi - x_lo;
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(TITLE_SIZE))
        .margin(18)
        .x_label_area_size(55)
        .y_label_area_size(90)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("|r|")
        .y_labels(n_y_labels)
        .y_label_formatter(&|v| decade_label(*v))
        .x_label_formatter(&|v| tick_label(*v, x_span))
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(AXIS_DESC_SIZE))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    for (k, segment) in curve.iter().enumerate() {
        let drawn = chart.draw_series(LineSeries::new(
            segment.iter().copied(),
            PREDICTED_COLOUR.stroke_width(2),
        ))?;
        if k == 0 {
            drawn
                .label("|r| over the domain")
                .legend(legend_line(PREDICTED_COLOUR, 2));
        }
    }
    let dot = RGBColor(230, 20, 20);
    chart
        .draw_series(
            points
                .iter()
                .filter(|p| p.0.is_finite())
                .map(|&(px, r)| Circle::new((px, log(r).unwrap_or(y_lo)), 3, dot.filled())),
        )?
        .label("training points")
        .legend(move |(x, y)| Circle::new((x + 10, y), 4, dot.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(font(TICK_SIZE))
        .draw()?;
    Ok(())
}

fn draw_history(root: &Area<'_>, loss: &Series, errors: &[Series]) -> DrawResult {
    let mut curves = vec![(loss, LOSS_COLOUR, 3)];
    for (k, series) in errors.iter().enumerate() {
        curves.push((series, SERIES_COLOURS[k % SERIES_COLOURS.len()], 2));
    }
    let axes = LogAxes {
        title: "Training history",
        x_desc: "iteration",
        y_desc: "loss / relative L2 error",
        log_x: false,
    };
    draw_log_curves(root, &axes, &curves)
}

/// Titles of a chart with a log10 y axis (and optionally a log10 x axis).
struct LogAxes<'a> {
    title: &'a str,
    x_desc: &'a str,
    y_desc: &'a str,
    log_x: bool,
}

/// Curves on a log10 y axis (and a log10 x axis with `log_x`), each with its colour and
/// stroke width; points with a non-finite coordinate or a non-positive logged value
/// are skipped.
fn draw_log_curves(
    root: &Area<'_>,
    axes: &LogAxes<'_>,
    curves: &[(&Series, RGBColor, u32)],
) -> DrawResult {
    let log_points = |series: &Series| -> Vec<(f64, f64)> {
        series
            .x
            .iter()
            .zip(&series.y)
            .filter(|(x, y)| {
                x.is_finite() && y.is_finite() && **y > 0.0 && (!axes.log_x || **x > 0.0)
            })
            .map(|(&x, &y)| (if axes.log_x { x.log10() } else { x }, y.log10()))
            .collect()
    };
    // (name, points, colour, stroke width)
    type Curve<'s> = (&'s str, Vec<(f64, f64)>, RGBColor, u32);
    let curves: Vec<Curve<'_>> = curves
        .iter()
        .map(|&(series, colour, width)| (series.name.as_str(), log_points(series), colour, width))
        .collect();
    let all = || curves.iter().flat_map(|c| c.1.iter().copied());
    let (Some((x_lo, x_hi)), Some(((y_lo, y_hi), n_y_labels))) = (
        min_max(all().map(|p| p.0)),
        decade_range(all().map(|p| p.1)),
    ) else {
        return draw_note(root, axes.title, "no positive finite values to plot");
    };
    let ((x_lo, x_hi), n_x_labels) = if axes.log_x {
        decade_range(all().map(|p| p.0)).unwrap_or(((x_lo, x_hi), 10))
    } else if x_hi > x_lo {
        ((x_lo, x_hi), 10)
    } else {
        (padded_range(x_lo, x_hi, 0.0), 10)
    };

    let mut chart = ChartBuilder::on(root)
        .caption(axes.title, font(TITLE_SIZE))
        .margin(18)
        .x_label_area_size(55)
        .y_label_area_size(90)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    let x_span = x_hi - x_lo;
    let log_x = axes.log_x;
    chart
        .configure_mesh()
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .x_labels(n_x_labels)
        .y_labels(n_y_labels)
        .y_label_formatter(&|v| decade_label(*v))
        .x_label_formatter(&|v| {
            if log_x {
                decade_label(*v)
            } else {
                tick_label(*v, x_span)
            }
        })
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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::plot::test_support::{decode, series};
    use crate::output::test_util::ScratchDir;

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
    fn cost_png_draws_every_series_on_log_log_axes() {
        let dir = ScratchDir::new("cost");
        let path = dir.path().join("cost.png");
        // Two methods over three decades of N·P, one with a point to skip (x = 0).
        let sizes = vec![1.3e6, 1.3e7, 1.3e8, 1.3e9];
        let dense = series("engd", sizes.clone(), vec![0.05, 1.2, 30.0, 900.0]);
        let free = series(
            "gn",
            vec![0.0, 1.3e7, 1.3e8, 1.3e9],
            vec![1.0, 0.1, 0.9, 8.0],
        );
        plot_cost(&path, &[dense, free]).unwrap();
        let image = decode(&path);
        assert_eq!((image.width, image.height), PLOT_SIZE);
        // Each curve spans most of the width: on a linear x axis the three smaller sizes
        // would crowd into the leftmost tenth and these counts fall below half.
        assert!(image.count(0..image.height, SERIES_COLOURS[0]) > 600);
        assert!(image.count(0..image.height, SERIES_COLOURS[1]) > 400);
        assert!(image.dark(0..45) > 150, "{}", image.dark(0..45));
        let mismatched = series("gn", vec![1.0, 2.0], vec![1.0]);
        assert!(matches!(
            plot_cost(&path, &[mismatched]),
            Err(OutputError::InvalidData { .. })
        ));
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
}
