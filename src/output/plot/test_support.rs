//! Reading back the PNGs the plot tests write.

use super::lines::Series;
use plotters::style::RGBColor;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub(super) struct Decoded {
    pub(super) width: u32,
    pub(super) height: u32,
    rgb: Vec<u8>,
}

impl Decoded {
    pub(super) fn pixel(&self, x: u32, y: u32) -> (u8, u8, u8) {
        let k = 3 * (y as usize * self.width as usize + x as usize);
        (self.rgb[k], self.rgb[k + 1], self.rgb[k + 2])
    }

    pub(super) fn pixels_in_rows(&self, rows: std::ops::Range<u32>) -> Vec<(u8, u8, u8)> {
        rows.flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .map(|(x, y)| self.pixel(x, y))
            .collect()
    }

    pub(super) fn distinct_colours(&self) -> usize {
        self.pixels_in_rows(0..self.height)
            .into_iter()
            .collect::<HashSet<_>>()
            .len()
    }

    pub(super) fn count(&self, rows: std::ops::Range<u32>, colour: RGBColor) -> usize {
        let target = (colour.0, colour.1, colour.2);
        self.pixels_in_rows(rows)
            .into_iter()
            .filter(|&p| p == target)
            .count()
    }

    /// Near-black pixels: rendered text (and axis lines).
    pub(super) fn dark(&self, rows: std::ops::Range<u32>) -> usize {
        self.pixels_in_rows(rows)
            .into_iter()
            .filter(|p| p.0 < 90 && p.1 < 90 && p.2 < 90)
            .count()
    }

    pub(super) fn white(&self) -> usize {
        self.pixels_in_rows(0..self.height)
            .into_iter()
            .filter(|&p| p == (255, 255, 255))
            .count()
    }
}

/// Decodes a PNG written by the plot functions; checks the signature on the way.
/// With `PDEC_KEEP_PLOTS=DIR` set, a copy is kept there for looking at.
pub(super) fn decode(path: &Path) -> Decoded {
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

pub(super) fn series(name: &str, x: Vec<f64>, y: Vec<f64>) -> Series {
    Series {
        name: name.to_string(),
        x,
        y,
    }
}
/// Values of `f` on the grid, in `plot_heatmaps` order, NaN outside `inside`.
pub(super) fn grid_values(
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
