//! ParaView files: the solution on a regular grid as VTK XML ImageData (`.vti`), and a
//! `.pvd` collection over time for time-dependent problems.
//!
//! Data arrays are stored as `format="binary"`: base64 of a little-endian `UInt64` byte
//! count followed by the raw little-endian values, so every `f64` (NaN included) is kept
//! bit for bit. [`read_vti`] reads such a file back (used by tests and by anyone who wants
//! the values without VTK).

use super::{write_atomic, OutputError};
use std::fmt::Write;
use std::path::Path;

/// Value of the `vtkGhostType` point array that hides a point (VTK's `HIDDENPOINT`):
/// grid points outside a non-box domain carry it, and NaN values.
pub const HIDDEN_POINT: u8 = 2;

/// A regular grid of up to three axes: point `(i, j, k)` is
/// `origin + (i·spacing[0], j·spacing[1], k·spacing[2])`, `i` varying fastest.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageGrid {
    /// The first point.
    pub origin: [f64; 3],
    /// Distance between neighbouring points along each axis.
    pub spacing: [f64; 3],
    /// Points along each axis (1 for an axis the data does not extend along).
    pub counts: [usize; 3],
}

impl ImageGrid {
    /// Number of points.
    pub fn n_points(&self) -> usize {
        self.counts.iter().product()
    }
}

/// Values at the points of a grid, in its order (first axis fastest).
#[derive(Debug, Clone, PartialEq)]
pub struct PointArray {
    /// The array's name (a field, `exact_u`, `error_u`).
    pub name: String,
    /// One value per point.
    pub values: Vec<f64>,
}

/// Writes an ImageData file: `arrays` as Float64 point data, and, when `hidden` is
/// given, a `vtkGhostType` array marking those points hidden.
///
/// # Errors
/// [`OutputError::InvalidData`] when an array or the mask does not have one value per
/// point; [`OutputError::Io`] when the file cannot be written.
pub fn write_vti(
    path: &Path,
    grid: &ImageGrid,
    arrays: &[PointArray],
    hidden: Option<&[bool]>,
) -> Result<(), OutputError> {
    let n = grid.n_points();
    if grid.counts.contains(&0) {
        return Err(OutputError::invalid(path, "a grid axis has no points"));
    }
    for array in arrays {
        if array.values.len() != n {
            return Err(OutputError::invalid(
                path,
                format!(
                    "`{}` has {} values for {n} points",
                    array.name,
                    array.values.len()
                ),
            ));
        }
    }
    if hidden.is_some_and(|mask| mask.len() != n) {
        return Err(OutputError::invalid(
            path,
            "the mask does not have one entry per point",
        ));
    }
    let extent: Vec<String> = grid
        .counts
        .iter()
        .map(|&c| format!("0 {}", c - 1))
        .collect();
    let extent = extent.join(" ");
    let numbers = |v: &[f64; 3]| {
        v.iter()
            .map(|x| format!("{x:?}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut xml = String::new();
    let _ = writeln!(xml, "<?xml version=\"1.0\"?>");
    let _ = writeln!(
        xml,
        "<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">"
    );
    let _ = writeln!(
        xml,
        "  <ImageData WholeExtent=\"{extent}\" Origin=\"{}\" Spacing=\"{}\">",
        numbers(&grid.origin),
        numbers(&grid.spacing)
    );
    let _ = writeln!(xml, "    <Piece Extent=\"{extent}\">");
    let first = arrays.first().map_or(String::new(), |a| {
        format!(" Scalars=\"{}\"", escape(&a.name))
    });
    let _ = writeln!(xml, "      <PointData{first}>");
    for array in arrays {
        let bytes: Vec<u8> = array.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let _ = writeln!(
            xml,
            "        <DataArray type=\"Float64\" Name=\"{}\" NumberOfComponents=\"1\" format=\"binary\">{}</DataArray>",
            escape(&array.name),
            encode(&bytes)
        );
    }
    if let Some(mask) = hidden {
        let bytes: Vec<u8> = mask
            .iter()
            .map(|&h| if h { HIDDEN_POINT } else { 0 })
            .collect();
        let _ = writeln!(
            xml,
            "        <DataArray type=\"UInt8\" Name=\"vtkGhostType\" NumberOfComponents=\"1\" format=\"binary\">{}</DataArray>",
            encode(&bytes)
        );
    }
    let _ = writeln!(xml, "      </PointData>");
    let _ = writeln!(xml, "      <CellData>\n      </CellData>");
    let _ = writeln!(xml, "    </Piece>");
    let _ = writeln!(xml, "  </ImageData>");
    let _ = writeln!(xml, "</VTKFile>");
    write_atomic(path, xml.as_bytes())
}

/// Writes a ParaView collection: one `(time, file)` per step, files relative to the
/// `.pvd`'s folder.
///
/// # Errors
/// [`OutputError::Io`] when the file cannot be written.
pub fn write_pvd(path: &Path, steps: &[(f64, String)]) -> Result<(), OutputError> {
    let mut xml = String::new();
    let _ = writeln!(xml, "<?xml version=\"1.0\"?>");
    let _ = writeln!(
        xml,
        "<VTKFile type=\"Collection\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">"
    );
    let _ = writeln!(xml, "  <Collection>");
    for (time, file) in steps {
        let _ = writeln!(
            xml,
            "    <DataSet timestep=\"{time:?}\" group=\"\" part=\"0\" file=\"{}\"/>",
            escape(file)
        );
    }
    let _ = writeln!(xml, "  </Collection>");
    let _ = writeln!(xml, "</VTKFile>");
    write_atomic(path, xml.as_bytes())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// VTK's binary encoding: base64 of the UInt64 byte count, then of the bytes (one block).
fn encode(data: &[u8]) -> String {
    let mut bytes = (data.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(data);
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    for chunk in symbols.chunks(4) {
        let mut n = 0u32;
        let mut valid = 0;
        for (k, &c) in chunk.iter().enumerate() {
            let value = match c {
                b'=' => 0,
                _ => {
                    valid = k + 1;
                    BASE64.iter().position(|&s| s == c)? as u32
                }
            };
            n |= value << (18 - 6 * k);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..valid.saturating_sub(1)]);
    }
    Some(out)
}

/// An ImageData file read back by [`read_vti`].
#[derive(Debug, Clone, PartialEq)]
pub struct VtiFile {
    /// The grid.
    pub grid: ImageGrid,
    /// Every point array, Float64 or UInt8 (converted to `f64`), in file order.
    pub arrays: Vec<PointArray>,
}

/// Reads an ImageData file written by [`write_vti`] (binary, `UInt64` headers).
///
/// # Errors
/// A message saying what is missing or malformed.
pub fn read_vti(text: &str) -> Result<VtiFile, String> {
    let image = element(text, "ImageData").ok_or("no <ImageData> element")?;
    let numbers = |name: &str| -> Result<Vec<f64>, String> {
        attribute(image, name)
            .ok_or(format!("no {name}"))?
            .split_whitespace()
            .map(|v| v.parse::<f64>().map_err(|e| format!("{name}: {e}")))
            .collect()
    };
    let extent = numbers("WholeExtent")?;
    let origin = numbers("Origin")?;
    let spacing = numbers("Spacing")?;
    if extent.len() != 6 || origin.len() != 3 || spacing.len() != 3 {
        return Err("WholeExtent, Origin or Spacing has the wrong length".to_string());
    }
    let count = |axis: usize| (extent[2 * axis + 1] - extent[2 * axis]) as usize + 1;
    let grid = ImageGrid {
        origin: [origin[0], origin[1], origin[2]],
        spacing: [spacing[0], spacing[1], spacing[2]],
        counts: [count(0), count(1), count(2)],
    };
    let mut arrays = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<DataArray") {
        rest = &rest[start..];
        let open_end = rest.find('>').ok_or("unterminated <DataArray")?;
        let tag = &rest[..open_end];
        let close = rest.find("</DataArray>").ok_or("no </DataArray>")?;
        let body = &rest[open_end + 1..close];
        let name = unescape(attribute(tag, "Name").ok_or("a DataArray without Name")?);
        if attribute(tag, "format") != Some("binary") {
            return Err(format!("`{name}` is not in binary format"));
        }
        let bytes = decode(body).ok_or(format!("`{name}`: invalid base64"))?;
        if bytes.len() < 8 {
            return Err(format!("`{name}`: no header"));
        }
        let (header, data) = bytes.split_at(8);
        let declared = u64::from_le_bytes(header.try_into().map_err(|_| "header")?) as usize;
        if declared != data.len() {
            return Err(format!(
                "`{name}`: header says {declared} bytes, found {}",
                data.len()
            ));
        }
        let values: Vec<f64> = match attribute(tag, "type") {
            Some("Float64") => data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect(),
            Some("UInt8") => data.iter().map(|&b| f64::from(b)).collect(),
            other => return Err(format!("`{name}`: unsupported type {other:?}")),
        };
        arrays.push(PointArray { name, values });
        rest = &rest[close + "</DataArray>".len()..];
    }
    Ok(VtiFile { grid, arrays })
}

/// The `(time, file)` entries of a `.pvd` collection.
///
/// # Errors
/// A message when an entry lacks its time or file.
pub fn read_pvd(text: &str) -> Result<Vec<(f64, String)>, String> {
    let mut steps = Vec::new();
    for piece in text.split("<DataSet").skip(1) {
        let tag = &piece[..piece.find('>').ok_or("unterminated <DataSet")?];
        let time = attribute(tag, "timestep")
            .ok_or("no timestep")?
            .parse::<f64>()
            .map_err(|e| e.to_string())?;
        let file = unescape(attribute(tag, "file").ok_or("no file")?);
        steps.push((time, file));
    }
    Ok(steps)
}

/// The opening tag of the first element `name`.
fn element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let start = text.find(&format!("<{name} "))?;
    let end = text[start..].find('>')? + start;
    Some(&text[start..end])
}

/// The value of attribute `name` in an opening tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

#[cfg(test)]
mod tests {
    use super::super::test_util::ScratchDir;
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for len in 0..20 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = encode(&data);
            assert_eq!(text.len() % 4, 0);
            let back = decode(&text).unwrap();
            assert_eq!(&back[..8], &(len as u64).to_le_bytes());
            assert_eq!(&back[8..], &data[..]);
        }
        // A known vector: header 3 (8 bytes) then "Man".
        let text = encode(b"Man");
        assert_eq!(text, "AwAAAAAAAABNYW4=");
    }

    #[test]
    fn vti_round_trips_grid_values_and_mask() {
        let dir = ScratchDir::new("vti");
        let path = dir.path().join("u.vti");
        let grid = ImageGrid {
            origin: [0.0, -1.0, 0.5],
            spacing: [0.25, 0.5, 0.0],
            counts: [5, 3, 1],
        };
        let u: Vec<f64> = (0..15).map(|k| (k as f64 * 0.7).sin()).collect();
        let mut v = u.iter().map(|x| x * 1e-300).collect::<Vec<_>>();
        v[3] = f64::NAN;
        v[4] = -0.0;
        let hidden: Vec<bool> = (0..15).map(|k| k % 4 == 3).collect();
        let arrays = vec![
            PointArray {
                name: "u".into(),
                values: u.clone(),
            },
            PointArray {
                name: "error_\"v\"".into(),
                values: v.clone(),
            },
        ];
        write_vti(&path, &grid, &arrays, Some(&hidden)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("WholeExtent=\"0 4 0 2 0 0\""), "{text}");
        let file = read_vti(&text).unwrap();
        assert_eq!(file.grid, grid);
        assert_eq!(file.arrays.len(), 3);
        assert_eq!(file.arrays[0], arrays[0]);
        assert_eq!(file.arrays[1].name, "error_\"v\"");
        for (a, b) in file.arrays[1].values.iter().zip(&v) {
            assert!(a.to_bits() == b.to_bits(), "{a} vs {b}");
        }
        assert_eq!(file.arrays[2].name, "vtkGhostType");
        let mask: Vec<bool> = file.arrays[2]
            .values
            .iter()
            .map(|&g| g == f64::from(HIDDEN_POINT))
            .collect();
        assert_eq!(mask, hidden);
        // Wrong lengths are refused and leave nothing behind.
        let short = vec![PointArray {
            name: "u".into(),
            values: vec![1.0],
        }];
        let bad = dir.path().join("bad.vti");
        assert!(matches!(
            write_vti(&bad, &grid, &short, None),
            Err(OutputError::InvalidData { .. })
        ));
        assert!(!bad.exists());
    }

    #[test]
    fn pvd_lists_times_and_files() {
        let dir = ScratchDir::new("pvd");
        let path = dir.path().join("solution.pvd");
        let steps = vec![
            (0.0, "vtk/solution_000.vti".to_string()),
            (0.05, "vtk/solution_001.vti".to_string()),
        ];
        write_pvd(&path, &steps).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("type=\"Collection\""));
        assert_eq!(read_pvd(&text).unwrap(), steps);
    }
}
