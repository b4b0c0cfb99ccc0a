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
//!
//! `canvas.rs` holds what every plot shares (the font, colours, titles, tick and
//! decade labels, ranges, rendering into a PNG); `lines.rs` the line plots (history, 1-D
//! solution), `spectrum.rs` the spectrum and `heatmap.rs` the 2-D heatmaps with
//! their viridis colour bars.

mod canvas;
mod heatmap;
mod lines;
mod spectrum;
#[cfg(test)]
mod test_support;

pub use canvas::{
    CUT_COLOUR, EXACT_COLOUR, KEPT_COLOUR, LOSS_COLOUR, PREDICTED_COLOUR, SERIES_COLOURS,
};
pub use heatmap::{
    plot_heatmaps, plot_residual_heatmap, viridis, HEATMAP_PANEL_SIZE, OVERLAY_COLOUR,
};
pub use lines::{
    plot_cost, plot_history, plot_line, plot_residual_line, Series, LINE_WITH_ERROR_SIZE, PLOT_SIZE,
};
pub use spectrum::plot_spectrum;
