//! The solution on a regular grid: grid builders and `solution.csv`.
//!
//! [`regular_grid`] covers a whole box (last coordinate fastest, the order of
//! `solution.csv`); [`slice_grid`] gives a 2-D slice through a d-dimensional box at fixed
//! values of the other coordinates, in the order [`super::plot_heatmaps`] reads
//! (first free coordinate fastest), so evaluated fields go straight into a heatmap.

use super::{write_atomic, OutputError};
use std::path::Path;

/// `n` equally spaced values from `lo` to `hi`, both ends exact.
///
/// `n == 1` gives the midpoint; `n == 0` an empty vector.
pub fn grid_axis(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![0.5 * (lo + hi)],
        _ => {
            let last = (n - 1) as f64;
            (0..n)
                .map(|i| {
                    if i == n - 1 {
                        // lo + (hi - lo) can differ from hi in the last bit.
                        hi
                    } else {
                        lo + (hi - lo) * (i as f64 / last)
                    }
                })
                .collect()
        }
    }
}

/// A regular grid over the box `[lo, hi]` with `per_axis` points per axis (ends included).
///
/// # Shapes
/// Returns `[per_axis^d, d]` row-major (`d = lo.len()`), the LAST coordinate varying
/// fastest: for `d = 2`, point `i * per_axis + j` is `(x_i, y_j)`.
///
/// # Panics
/// If `lo` and `hi` have different lengths (a caller bug, not user input).
pub fn regular_grid(lo: &[f64], hi: &[f64], per_axis: usize) -> Vec<f64> {
    assert_eq!(
        lo.len(),
        hi.len(),
        "regular_grid: lo and hi differ in length"
    );
    let dim = lo.len();
    let axes: Vec<Vec<f64>> = lo
        .iter()
        .zip(hi)
        .map(|(&a, &b)| grid_axis(a, b, per_axis))
        .collect();
    let n_points = if dim == 0 {
        0
    } else {
        per_axis.pow(dim as u32)
    };
    let mut points = Vec::with_capacity(n_points * dim);
    let mut index = vec![0usize; dim];
    for _ in 0..n_points {
        points.extend(index.iter().zip(&axes).map(|(&k, axis)| axis[k]));
        // Odometer increment, last coordinate fastest.
        for digit in (0..dim).rev() {
            index[digit] += 1;
            if index[digit] < per_axis {
                break;
            }
            index[digit] = 0;
        }
    }
    points
}

/// A 2-D slice through the box `[lo, hi]`: coordinates `free.0` and `free.1` run over
/// `n` points each (ends included), coordinates listed in `fixed` take the given values,
/// and any other coordinate sits at the middle of its interval.
///
/// # Shapes
/// Returns `[n * n, d]` row-major (`d = lo.len()`) with the FIRST free coordinate
/// varying fastest: point `j * n + i` has `free.0 = a_i`, `free.1 = b_j`, where
/// `a = grid_axis(lo[free.0], hi[free.0], n)` and likewise `b`. Values of a field at
/// these points are laid out as [`super::plot_heatmaps`] expects (`values[j*nx + i]`).
///
/// # Panics
/// If `lo` and `hi` differ in length, a free index is out of range, or both free
/// indices are equal (caller bugs, not user input).
pub fn slice_grid(
    lo: &[f64],
    hi: &[f64],
    free: (usize, usize),
    fixed: &[(usize, f64)],
    n: usize,
) -> Vec<f64> {
    assert_eq!(lo.len(), hi.len(), "slice_grid: lo and hi differ in length");
    let dim = lo.len();
    assert!(
        free.0 < dim && free.1 < dim && free.0 != free.1,
        "slice_grid: free coordinates {free:?} invalid for dimension {dim}"
    );
    let mut base: Vec<f64> = lo.iter().zip(hi).map(|(a, b)| 0.5 * (a + b)).collect();
    for &(coord, value) in fixed {
        if coord < dim && coord != free.0 && coord != free.1 {
            base[coord] = value;
        }
    }
    let first = grid_axis(lo[free.0], hi[free.0], n);
    let second = grid_axis(lo[free.1], hi[free.1], n);
    let mut points = Vec::with_capacity(n * n * dim);
    for &b in &second {
        for &a in &first {
            let start = points.len();
            points.extend_from_slice(&base);
            points[start + free.0] = a;
            points[start + free.1] = b;
        }
    }
    points
}

/// One field for [`write_solution_csv`]: its name, its values at the points, and its
/// exact values there when known.
pub type FieldColumns = (String, Vec<f64>, Option<Vec<f64>>);

/// Writes `solution.csv`: one row per point with its coordinates, each field, and for
/// fields with known exact values the exact value and the error `field − exact`.
///
/// The header is `coord..., field..., exact_<field>..., error_<field>...` (exact and
/// error columns only for fields whose third element is `Some`, in field order). Values
/// are written with Rust's shortest round-trip formatting, so parsing a cell back as
/// `f64` gives the same bits (`NaN`, `inf` and `-inf` included).
///
/// # Shapes
/// `points` is `[n, d]` row-major with `d = coord_names.len()`; every field's values and
/// exact values have length `n`.
///
/// # Errors
/// [`OutputError::InvalidData`] when the lengths do not fit together; [`OutputError::Io`]
/// when the file cannot be written (nothing is left behind then).
pub fn write_solution_csv(
    path: &Path,
    coord_names: &[String],
    points: &[f64],
    fields: &[FieldColumns],
) -> Result<(), OutputError> {
    let dim = coord_names.len();
    if dim == 0 {
        return Err(OutputError::invalid(path, "no coordinates"));
    }
    if !points.len().is_multiple_of(dim) {
        return Err(OutputError::invalid(
            path,
            format!(
                "{} point values are not a multiple of the dimension {dim}",
                points.len()
            ),
        ));
    }
    let n_points = points.len() / dim;
    for (name, values, exact) in fields {
        if values.len() != n_points {
            return Err(OutputError::invalid(
                path,
                format!(
                    "field `{name}` has {} values for {n_points} points",
                    values.len()
                ),
            ));
        }
        if let Some(exact) = exact {
            if exact.len() != n_points {
                return Err(OutputError::invalid(
                    path,
                    format!(
                        "exact values of `{name}` have {} values for {n_points} points",
                        exact.len()
                    ),
                ));
            }
        }
    }

    let mut header: Vec<String> = coord_names.to_vec();
    header.extend(fields.iter().map(|(name, _, _)| name.clone()));
    let with_exact: Vec<(&String, &Vec<f64>, &Vec<f64>)> = fields
        .iter()
        .filter_map(|(name, values, exact)| exact.as_ref().map(|e| (name, values, e)))
        .collect();
    header.extend(
        with_exact
            .iter()
            .map(|(name, _, _)| format!("exact_{name}")),
    );
    header.extend(
        with_exact
            .iter()
            .map(|(name, _, _)| format!("error_{name}")),
    );

    let csv_error = |e: csv::Error| OutputError::invalid(path, format!("CSV encoding: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).map_err(csv_error)?;
    let mut record: Vec<String> = Vec::with_capacity(header.len());
    for (row, point) in points.chunks_exact(dim).enumerate() {
        record.clear();
        // `{}` on f64 is the shortest string that parses back to the same value.
        record.extend(point.iter().map(|v| format!("{v}")));
        record.extend(
            fields
                .iter()
                .map(|(_, values, _)| format!("{}", values[row])),
        );
        record.extend(
            with_exact
                .iter()
                .map(|(_, _, exact)| format!("{}", exact[row])),
        );
        record.extend(
            with_exact
                .iter()
                .map(|(_, values, exact)| format!("{}", values[row] - exact[row])),
        );
        writer.write_record(&record).map_err(csv_error)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| OutputError::invalid(path, format!("CSV encoding: {}", e.error())))?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::ScratchDir;
    use super::*;

    #[test]
    fn grid_axis_includes_both_ends_exactly() {
        let axis = grid_axis(0.1, 0.7, 7);
        assert_eq!(axis.len(), 7);
        assert_eq!(axis[0], 0.1);
        assert_eq!(axis[6], 0.7);
        for w in axis.windows(2) {
            assert!((w[1] - w[0] - 0.1).abs() < 1e-15, "{axis:?}");
        }
        assert_eq!(grid_axis(-1.0, 3.0, 1), vec![1.0]);
        assert!(grid_axis(0.0, 1.0, 0).is_empty());
    }

    #[test]
    fn regular_grid_counts_ends_and_last_coordinate_fastest() {
        let lo = [0.0, -1.0, 2.0];
        let hi = [1.0, 1.0, 4.0];
        let points = regular_grid(&lo, &hi, 3);
        assert_eq!(points.len(), 27 * 3);
        let point = |k: usize| &points[3 * k..3 * k + 3];
        assert_eq!(point(0), &[0.0, -1.0, 2.0]);
        // The last coordinate changes first, the first coordinate last.
        assert_eq!(point(1), &[0.0, -1.0, 3.0]);
        assert_eq!(point(2), &[0.0, -1.0, 4.0]);
        assert_eq!(point(3), &[0.0, 0.0, 2.0]);
        assert_eq!(point(9), &[0.5, -1.0, 2.0]);
        assert_eq!(point(26), &[1.0, 1.0, 4.0]);
        // Every point distinct and inside the box.
        let mut seen: Vec<[u64; 3]> = points
            .chunks_exact(3)
            .map(|p| [p[0].to_bits(), p[1].to_bits(), p[2].to_bits()])
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 27);
        assert!(regular_grid(&[], &[], 5).is_empty());
        assert_eq!(regular_grid(&[0.0], &[2.0], 3), vec![0.0, 1.0, 2.0]);
    }

    #[test]
    fn slice_grid_first_free_fastest_and_fixed_values() {
        // (t, x, y) box; slice over (x, y) at t = 0.25.
        let lo = [0.0, 0.0, -2.0];
        let hi = [1.0, 1.0, 2.0];
        let points = slice_grid(&lo, &hi, (1, 2), &[(0, 0.25)], 5);
        assert_eq!(points.len(), 25 * 3);
        let point = |k: usize| &points[3 * k..3 * k + 3];
        assert_eq!(point(0), &[0.25, 0.0, -2.0]);
        assert_eq!(point(1), &[0.25, 0.25, -2.0]);
        assert_eq!(point(4), &[0.25, 1.0, -2.0]);
        assert_eq!(point(5), &[0.25, 0.0, -1.0]);
        assert_eq!(point(24), &[0.25, 1.0, 2.0]);
        assert!(points.chunks_exact(3).all(|p| p[0] == 0.25));
        // Unfixed non-free coordinates sit at the middle; free order may be reversed.
        let points = slice_grid(&lo, &hi, (2, 0), &[], 2);
        assert_eq!(
            points,
            vec![0.0, 0.5, -2.0, 0.0, 0.5, 2.0, 1.0, 0.5, -2.0, 1.0, 0.5, 2.0]
        );
    }

    fn read_back(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
        let mut reader = csv::Reader::from_path(path).unwrap();
        let header = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| {
                r.unwrap()
                    .iter()
                    .map(|c| c.parse::<f64>().unwrap())
                    .collect()
            })
            .collect();
        (header, rows)
    }

    #[test]
    fn solution_csv_round_trips_bit_exactly() {
        let dir = ScratchDir::new("csv");
        let path = dir.path().join("solution.csv");
        let coords = vec!["x".to_string(), "y".to_string()];
        let points = regular_grid(&[0.0, 0.0], &[1.0, std::f64::consts::PI], 4);
        let n = points.len() / 2;
        // Values with long expansions, tiny and huge magnitudes, a negative zero and NaN.
        let u: Vec<f64> = (0..n)
            .map(|k| match k {
                0 => -0.0,
                1 => 1e-300,
                2 => f64::NAN,
                3 => 6.02214076e23,
                _ => (k as f64).sqrt() / 3.0,
            })
            .collect();
        let u_exact: Vec<f64> = (0..n).map(|k| (k as f64 * 0.1).sin()).collect();
        let v: Vec<f64> = (0..n).map(|k| 1.0 / (k as f64 + 7.0)).collect();
        let fields = vec![
            ("u".to_string(), u.clone(), Some(u_exact.clone())),
            ("v".to_string(), v.clone(), None),
        ];
        write_solution_csv(&path, &coords, &points, &fields).unwrap();
        assert_eq!(dir.entries(), vec!["solution.csv".to_string()]);

        let (header, rows) = read_back(&path);
        assert_eq!(header, vec!["x", "y", "u", "v", "exact_u", "error_u"]);
        assert_eq!(rows.len(), n);
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        for (k, row) in rows.iter().enumerate() {
            let expected = [
                points[2 * k],
                points[2 * k + 1],
                u[k],
                v[k],
                u_exact[k],
                u[k] - u_exact[k],
            ];
            for (got, want) in row.iter().zip(expected) {
                assert!(same(*got, want), "row {k}: {got:e} vs {want:e}");
            }
        }
        assert!(rows[0][2].is_sign_negative(), "-0 must keep its sign");
    }

    #[test]
    fn solution_csv_rejects_mismatched_lengths() {
        let dir = ScratchDir::new("csv-bad");
        let path = dir.path().join("solution.csv");
        let coords = vec!["x".to_string()];
        let fields = vec![("u".to_string(), vec![1.0, 2.0], Some(vec![1.0]))];
        let err = write_solution_csv(&path, &coords, &[0.0, 1.0], &fields).unwrap_err();
        assert!(matches!(err, OutputError::InvalidData { .. }), "{err:?}");
        assert!(err.to_string().contains("solution.csv"), "{err}");
        let err = write_solution_csv(&path, &[], &[0.0], &[]).unwrap_err();
        assert!(matches!(err, OutputError::InvalidData { .. }));
        assert!(dir.entries().is_empty());
    }

    #[test]
    fn solution_csv_unwritable_path_names_it() {
        let dir = ScratchDir::new("csv-unwritable");
        let path = dir.path().join("missing").join("solution.csv");
        let coords = vec!["x".to_string()];
        let fields = vec![("u".to_string(), vec![1.0], None)];
        let err = write_solution_csv(&path, &coords, &[0.5], &fields).unwrap_err();
        assert!(matches!(err, OutputError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
    }
}
