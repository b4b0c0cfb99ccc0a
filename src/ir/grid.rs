//! Coefficients known on a grid (`data k from "k.csv" as grid`): the CSV checked
//! to be a full rectilinear grid, and each value column's tensor-product cubic
//! spline, evaluated with its derivatives.
//!
//! # The interpolant
//! Along each axis the spline is the not-a-knot cubic spline of the grid lines
//! (with 3 lines the parabola through them, with 2 the line); in several axes
//! it is their tensor product, the unique function that is such a spline along
//! every axis and matches every grid value. It is exact for cubic polynomials
//! (per axis) and its error is `O(h⁴)` for smooth data, its first derivatives
//! `O(h³)`, its second `O(h²)`. Value, first and second derivatives are
//! continuous; third derivatives are piecewise constant and jump at grid lines;
//! higher ones are zero. Beyond the outer grid lines the end polynomials
//! continue (the lowering makes sure the domain lies inside the grid).
//!
//! # Storage
//! The spline is stored per cell as the coefficients of
//! `Σ_k c_k Π_a (x_a − x_{a,i_a})^{k_a}` with `k_a ∈ 0..4`: for the cell
//! `(i_0, …)` and powers `(k_0, …)` the coefficient sits at
//! `Σ_a (4·i_a + k_a)·stride_a`, axis 0 slowest.

use crate::span::Span;
use serde::Serialize;
use std::path::PathBuf;

/// A grid data set: the coordinates of its axes, their grid lines and one
/// spline per value column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridData {
    /// Its name (`k` in `data k from ... as grid`).
    pub name: String,
    /// The resolved file path.
    pub path: PathBuf,
    /// The coordinate (index into [`crate::ir::Problem::coords`]) of each axis,
    /// in the file's column order.
    pub axes: Vec<usize>,
    /// The names of the value columns (every column that is not a coordinate).
    pub columns: Vec<String>,
    /// The grid lines of each axis, increasing.
    pub knots: Vec<Vec<f64>>,
    /// Per value column, its values in row-major grid order (axis 0 slowest).
    pub values: Vec<Vec<f64>>,
    /// One spline per value column (built from `knots` and `values`).
    #[serde(skip)]
    pub splines: Vec<TensorSpline>,
    /// The file's string literal in the source.
    pub span: Span,
}

impl GridData {
    /// The grid lines of each axis (shared by the value columns' splines).
    pub fn knots(&self) -> &[Vec<f64>] {
        &self.knots
    }
}

/// One use of a grid column in an expression: `D^α k`, with `α` over the
/// problem's coordinates (zero in every coordinate that is not an axis).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GridTerm {
    /// Index of the grid (into [`crate::ir::Problem::grids`]).
    pub grid: usize,
    /// Index of the value column (into [`GridData::columns`]).
    pub column: usize,
    /// The derivative, indexed like [`crate::ir::Problem::coords`].
    pub alpha: Vec<u8>,
}

/// A tensor-product cubic spline on a rectilinear grid (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpline {
    knots: Vec<Vec<f64>>,
    coefficients: Vec<f64>,
    strides: Vec<usize>,
}

impl TensorSpline {
    /// The spline through `values` (row-major over the axes, axis 0 slowest) on
    /// the grid lines `knots` (each strictly increasing, at least two lines).
    pub fn new(knots: Vec<Vec<f64>>, values: &[f64]) -> Self {
        let mut shape: Vec<usize> = knots.iter().map(Vec::len).collect();
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        let mut current = values.to_vec();
        for (axis, lines) in knots.iter().enumerate() {
            let n = shape[axis];
            let outer: usize = shape[..axis].iter().product();
            let inner: usize = shape[axis + 1..].iter().product();
            let width = 4 * (n - 1);
            let mut next = vec![0.0; outer * width * inner];
            let mut line = vec![0.0; n];
            for o in 0..outer {
                for j in 0..inner {
                    for (i, v) in line.iter_mut().enumerate() {
                        *v = current[(o * n + i) * inner + j];
                    }
                    for (i, piece) in cubic_pieces(lines, &line).iter().enumerate() {
                        for (k, &c) in piece.iter().enumerate() {
                            next[(o * width + 4 * i + k) * inner + j] = c;
                        }
                    }
                }
            }
            shape[axis] = width;
            current = next;
        }
        let mut strides = vec![1; shape.len()];
        for axis in (0..shape.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * shape[axis + 1];
        }
        Self {
            knots,
            coefficients: current,
            strides,
        }
    }

    /// `D^α s(x)`: `x` and `alpha` have one entry per axis.
    pub fn eval(&self, x: &[f64], alpha: &[u8]) -> f64 {
        // Per axis: the cell's offset and the derivatives of the powers s^k.
        let mut base = 0;
        let mut powers = Vec::with_capacity(self.knots.len());
        for (axis, lines) in self.knots.iter().enumerate() {
            let n = lines.len();
            let cell = lines.partition_point(|&l| l <= x[axis]).clamp(1, n - 1) - 1;
            let s = x[axis] - lines[cell];
            base += 4 * cell * self.strides[axis];
            powers.push(power_derivatives(s, alpha[axis]));
        }
        // Σ over the 4^D powers, odometer style.
        let dims = self.knots.len();
        let mut k = vec![0usize; dims];
        let mut sum = 0.0;
        loop {
            let mut term = 1.0;
            let mut index = base;
            for axis in 0..dims {
                term *= powers[axis][k[axis]];
                index += k[axis] * self.strides[axis];
            }
            if term != 0.0 {
                sum += term * self.coefficients[index];
            }
            let mut axis = dims;
            loop {
                if axis == 0 {
                    return sum;
                }
                axis -= 1;
                k[axis] += 1;
                if k[axis] < 4 {
                    break;
                }
                k[axis] = 0;
            }
        }
    }
}

/// `d^order/ds^order s^k` for `k = 0..4`.
fn power_derivatives(s: f64, order: u8) -> [f64; 4] {
    let mut out = [0.0; 4];
    for (k, value) in out.iter_mut().enumerate() {
        let order = order as usize;
        if order > k {
            continue;
        }
        let falling: f64 = ((k - order + 1)..=k).map(|m| m as f64).product();
        *value = falling * s.powi((k - order) as i32);
    }
    out
}

/// The 1-D spline through `(knots[i], values[i])` as one cubic per interval,
/// `[a, b, c, d]` for `a + b·s + c·s² + d·s³` with `s = x − knots[i]`:
/// not-a-knot with four or more lines, the parabola with three, the line with two.
fn cubic_pieces(knots: &[f64], values: &[f64]) -> Vec<[f64; 4]> {
    let n = knots.len();
    let h: Vec<f64> = knots.windows(2).map(|w| w[1] - w[0]).collect();
    let slope: Vec<f64> = (0..n - 1)
        .map(|i| (values[i + 1] - values[i]) / h[i])
        .collect();
    if n == 2 {
        return vec![[values[0], slope[0], 0.0, 0.0]];
    }
    if n == 3 {
        // p(x) = f0 + δ0 (x − x0) + c (x − x0)(x − x1), c = (δ1 − δ0)/(x2 − x0).
        let c = (slope[1] - slope[0]) / (knots[2] - knots[0]);
        return (0..2)
            .map(|i| {
                let derivative = slope[0] + c * (2.0 * knots[i] - knots[0] - knots[1]);
                [values[i], derivative, c, 0.0]
            })
            .collect();
    }
    // Second derivatives M: for i = 1..n−2,
    //   h_{i−1} M_{i−1} + 2 (h_{i−1} + h_i) M_i + h_i M_{i+1} = 6 (δ_i − δ_{i−1}),
    // with M_0 and M_{n−1} eliminated by the not-a-knot conditions (the third
    // derivative is continuous at the second and the second-to-last line):
    //   M_0 = (1 + r0) M_1 − r0 M_2,  r0 = h_0/h_1,
    //   M_{n−1} = (1 + r1) M_{n−2} − r1 M_{n−3},  r1 = h_{n−2}/h_{n−3}.
    let m = n - 2;
    let (mut sub, mut diag, mut sup, mut rhs) =
        (vec![0.0; m], vec![0.0; m], vec![0.0; m], vec![0.0; m]);
    for row in 0..m {
        let i = row + 1;
        sub[row] = h[i - 1];
        diag[row] = 2.0 * (h[i - 1] + h[i]);
        sup[row] = h[i];
        rhs[row] = 6.0 * (slope[i] - slope[i - 1]);
    }
    let r0 = h[0] / h[1];
    diag[0] += h[0] * (1.0 + r0);
    sup[0] -= h[0] * r0;
    let r1 = h[n - 2] / h[n - 3];
    diag[m - 1] += h[n - 2] * (1.0 + r1);
    sub[m - 1] -= h[n - 2] * r1;
    // Thomas algorithm (the rows are diagonally dominant).
    for row in 1..m {
        let factor = sub[row] / diag[row - 1];
        diag[row] -= factor * sup[row - 1];
        rhs[row] -= factor * rhs[row - 1];
    }
    let mut second = vec![0.0; n];
    second[m] = rhs[m - 1] / diag[m - 1];
    for row in (0..m - 1).rev() {
        second[row + 1] = (rhs[row] - sup[row] * second[row + 2]) / diag[row];
    }
    second[0] = (1.0 + r0) * second[1] - r0 * second[2];
    second[n - 1] = (1.0 + r1) * second[n - 2] - r1 * second[n - 3];
    (0..n - 1)
        .map(|i| {
            [
                values[i],
                slope[i] - h[i] * (2.0 * second[i] + second[i + 1]) / 6.0,
                second[i] / 2.0,
                (second[i + 1] - second[i]) / (6.0 * h[i]),
            ]
        })
        .collect()
}

/// Why a table is not a full grid.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum GridShapeError {
    /// An axis with a single grid line.
    OneLine { axis: usize, value: f64 },
    /// The number of rows is not the product of the lines per axis.
    RowCount { lines: Vec<usize>, rows: usize },
    /// Two rows at the same grid point (0-based row indices).
    Repeated {
        point: Vec<f64>,
        rows: (usize, usize),
    },
}

/// A table read as a grid: the lines of each axis, and per value column its
/// values in row-major grid order (axis 0 slowest).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GridValues {
    pub knots: Vec<Vec<f64>>,
    pub values: Vec<Vec<f64>>,
}

/// Reads the columns `axes` of a table (`columns[column][row]`) as the axes of a
/// grid and the columns `values` as its values.
pub(super) fn grid_values(
    columns: &[Vec<f64>],
    axes: &[usize],
    values: &[usize],
) -> Result<GridValues, GridShapeError> {
    let rows = columns[0].len();
    let mut knots = Vec::with_capacity(axes.len());
    for (axis, &column) in axes.iter().enumerate() {
        let mut lines = columns[column].clone();
        lines.sort_by(f64::total_cmp);
        lines.dedup();
        if lines.len() < 2 {
            return Err(GridShapeError::OneLine {
                axis,
                value: lines[0],
            });
        }
        knots.push(lines);
    }
    let lines: Vec<usize> = knots.iter().map(Vec::len).collect();
    if lines.iter().product::<usize>() != rows {
        return Err(GridShapeError::RowCount { lines, rows });
    }
    // Each row's place in the grid; the counts match, so no place is left
    // empty once no place is taken twice.
    let places = (0..rows).map(|row| {
        axes.iter().enumerate().fold(0, |place, (axis, &column)| {
            let line = knots[axis]
                .binary_search_by(|l| l.total_cmp(&columns[column][row]))
                .expect("every value is one of its axis' lines");
            place * lines[axis] + line
        })
    });
    let mut owner: Vec<Option<usize>> = vec![None; rows];
    let mut out = vec![vec![0.0; rows]; values.len()];
    for (row, place) in places.enumerate() {
        if let Some(first) = owner[place] {
            let point = axes.iter().map(|&c| columns[c][row]).collect();
            return Err(GridShapeError::Repeated {
                point,
                rows: (first, row),
            });
        }
        owner[place] = Some(row);
        for (v, &column) in values.iter().enumerate() {
            out[v][place] = columns[column][row];
        }
    }
    Ok(GridValues { knots, values: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn lines(lo: f64, hi: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    }

    /// Irregular lines: uniform ones moved by up to a third of the spacing.
    fn uneven(lo: f64, hi: f64, n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let h = (hi - lo) / (n - 1) as f64;
        let mut out = lines(lo, hi, n);
        for x in &mut out[1..n - 1] {
            *x += rng.random_range(-h / 3.0..h / 3.0);
        }
        out
    }

    fn spline_of(knots: &[Vec<f64>], f: &dyn Fn(&[f64]) -> f64) -> TensorSpline {
        let dims = knots.len();
        let count: usize = knots.iter().map(Vec::len).product();
        let mut values = Vec::with_capacity(count);
        for flat in 0..count {
            let mut rest = flat;
            let mut x = vec![0.0; dims];
            for axis in (0..dims).rev() {
                let n = knots[axis].len();
                x[axis] = knots[axis][rest % n];
                rest /= n;
            }
            values.push(f(&x));
        }
        TensorSpline::new(knots.to_vec(), &values)
    }

    #[test]
    fn reproduces_tensor_cubics_and_their_derivatives_exactly() {
        // A not-a-knot spline reproduces cubics; the tensor product reproduces
        // products of cubics, so every derivative is exact too.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let px = |x: f64| 1.0 - 2.0 * x + 0.5 * x * x + 3.0 * x.powi(3);
        let dpx = [
            &(|x: f64| -2.0 + x + 9.0 * x * x) as &dyn Fn(f64) -> f64,
            &|x: f64| 1.0 + 18.0 * x,
            &|_: f64| 18.0,
        ];
        let py = |y: f64| 0.3 + y - 1.5 * y.powi(3);
        let dpy = [
            &(|y: f64| 1.0 - 4.5 * y * y) as &dyn Fn(f64) -> f64,
            &|y: f64| -9.0 * y,
            &|_: f64| -9.0,
        ];
        let knots = vec![
            uneven(-1.0, 2.0, 7, &mut rng),
            uneven(0.0, 1.0, 5, &mut rng),
        ];
        let s = spline_of(&knots, &|x| px(x[0]) * py(x[1]));
        for _ in 0..50 {
            let (x, y) = (rng.random_range(-1.0..2.0), rng.random_range(0.0..1.0));
            let fx = |o: u8| {
                if o == 0 {
                    px(x)
                } else {
                    dpx[o as usize - 1](x)
                }
            };
            let fy = |o: u8| {
                if o == 0 {
                    py(y)
                } else {
                    dpy[o as usize - 1](y)
                }
            };
            for (ox, oy) in [
                (0, 0),
                (1, 0),
                (0, 1),
                (1, 1),
                (2, 0),
                (0, 2),
                (2, 1),
                (3, 0),
            ] {
                let want = fx(ox) * fy(oy);
                let got = s.eval(&[x, y], &[ox, oy]);
                assert!(
                    (got - want).abs() <= 1e-9 * (1.0 + want.abs()),
                    "D({ox},{oy}) at ({x}, {y}): {got} vs {want}"
                );
            }
            assert_eq!(s.eval(&[x, y], &[4, 0]), 0.0);
        }
    }

    #[test]
    fn interpolates_the_grid_values() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let knots = vec![
            uneven(0.0, 1.0, 6, &mut rng),
            uneven(0.0, 2.0, 4, &mut rng),
            lines(-1.0, 1.0, 3),
        ];
        let f = |x: &[f64]| (3.0 * x[0]).sin() * (x[1] * x[2]).exp() + x[2];
        let s = spline_of(&knots, &f);
        for &a in &knots[0] {
            for &b in &knots[1] {
                for &c in &knots[2] {
                    let (got, want) = (s.eval(&[a, b, c], &[0, 0, 0]), f(&[a, b, c]));
                    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn converges_at_fourth_order_and_derivatives_match_differences() {
        // Error of a smooth function on grids of h and h/2: ratio ≈ 16 for the
        // value (O(h⁴)); the derivatives agree with central differences of the
        // spline itself (it is C² inside, so these are consistent everywhere).
        let f = |x: &[f64]| (2.0 * x[0]).sin() * (1.5 * x[1]).cos();
        let error = |n: usize| {
            let knots = vec![lines(0.0, 1.0, n), lines(0.0, 1.0, n)];
            let s = spline_of(&knots, &f);
            let mut worst: f64 = 0.0;
            for i in 0..=40 {
                for j in 0..=40 {
                    let p = [i as f64 / 40.0, j as f64 / 40.0];
                    worst = worst.max((s.eval(&p, &[0, 0]) - f(&p)).abs());
                }
            }
            (worst, s)
        };
        let (coarse, _) = error(9);
        let (fine, s) = error(17);
        assert!(coarse / fine > 12.0, "ratio {}", coarse / fine);
        let eps = 1e-5;
        let p = [0.431, 0.687];
        let d = |alpha: [u8; 2], q: [f64; 2]| s.eval(&q, &alpha);
        let dx = (d([0, 0], [p[0] + eps, p[1]]) - d([0, 0], [p[0] - eps, p[1]])) / (2.0 * eps);
        assert!((d([1, 0], p) - dx).abs() < 1e-8);
        let dyy = (d([0, 1], [p[0], p[1] + eps]) - d([0, 1], [p[0], p[1] - eps])) / (2.0 * eps);
        assert!((d([0, 2], p) - dyy).abs() < 1e-7);
        let dxy = (d([1, 0], [p[0], p[1] + eps]) - d([1, 0], [p[0], p[1] - eps])) / (2.0 * eps);
        assert!((d([1, 1], p) - dxy).abs() < 1e-7);
        // Second derivatives are continuous across a grid line (C²).
        let line = 0.5;
        let (left, right) = (
            d([2, 0], [line - 1e-12, 0.3]),
            d([2, 0], [line + 1e-12, 0.3]),
        );
        assert!((left - right).abs() < 1e-8, "{left} vs {right}");
    }

    #[test]
    fn few_lines_give_the_parabola_and_the_line() {
        let s = spline_of(&[vec![0.0, 1.0, 3.0]], &|x| 2.0 - x[0] + 0.25 * x[0] * x[0]);
        for x in [0.3, 1.7, 2.9] {
            assert!((s.eval(&[x], &[0]) - (2.0 - x + 0.25 * x * x)).abs() < 1e-13);
            assert!((s.eval(&[x], &[1]) - (-1.0 + 0.5 * x)).abs() < 1e-13);
        }
        let s = spline_of(&[vec![1.0, 2.0]], &|x| 3.0 * x[0]);
        assert!((s.eval(&[1.25], &[0]) - 3.75).abs() < 1e-14);
        assert_eq!(s.eval(&[1.25], &[2]), 0.0);
    }

    #[test]
    fn tables_that_are_not_grids_are_named() {
        // Columns: x, y, k.
        let grid = vec![
            vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0],
            vec![5.0, 6.0, 5.0, 6.0, 5.0, 6.0],
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        ];
        let read = grid_values(&grid, &[1, 0], &[2]).unwrap();
        assert_eq!(read.knots, vec![vec![5.0, 6.0], vec![0.0, 1.0, 2.0]]);
        // Axis y slowest: (y=5: x=0,1,2), (y=6: ...).
        assert_eq!(read.values, vec![vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]]);

        let mut missing = grid.clone();
        for c in &mut missing {
            c.pop();
        }
        assert_eq!(
            grid_values(&missing, &[0, 1], &[2]),
            Err(GridShapeError::RowCount {
                lines: vec![3, 2],
                rows: 5
            })
        );
        let mut repeated = grid.clone();
        repeated[1][5] = 5.0; // (2, 5) twice, (2, 6) missing
        assert_eq!(
            grid_values(&repeated, &[0, 1], &[2]),
            Err(GridShapeError::Repeated {
                point: vec![2.0, 5.0],
                rows: (4, 5)
            })
        );
        let flat = vec![vec![1.0, 1.0], vec![0.0, 1.0], vec![3.0, 4.0]];
        assert_eq!(
            grid_values(&flat, &[0, 1], &[2]),
            Err(GridShapeError::OneLine {
                axis: 0,
                value: 1.0
            })
        );
    }
}
