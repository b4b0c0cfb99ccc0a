//! The spectrum of the Gramian (or of the Jacobian) at the last step, with the
//! optimizer's cut-off.

use super::canvas::{
    decade_label, decade_range, draw_note, font, legend_line, render, tick_label, Area, DrawResult,
    AXIS_DESC_SIZE, CAPTION_SIZE, CUT_COLOUR, KEPT_COLOUR, TICK_SIZE,
};
use super::lines::PLOT_SIZE;
use crate::output::OutputError;
use plotters::prelude::*;
use std::path::Path;

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
    use super::*;
    use crate::output::plot::test_support::decode;
    use crate::output::test_util::ScratchDir;

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
