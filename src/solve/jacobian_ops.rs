//! Products with a stored row-major Jacobian: `J v`, `Jᵀ w`, and their multi-vector
//! forms `J V`, `Jᵀ W`, the building blocks of matrix-free Gauss–Newton
//! (`(JᵀJ + μI) x = b` applied as `Jᵀ(J x) + μx`, ALGORITHMS.md §4.2).
//!
//! A product with one vector reads each entry of `J` once and does two flops with it,
//! so it is bound by memory bandwidth; the kernels here stream `J` once, in row blocks,
//! in parallel on the current rayon pool:
//! - `J v`: each row is a dot product with `v`; rows are split into blocks, one task
//!   each, and `v` (P values) stays in cache while the rows stream past.
//! - `Jᵀ w = Σ_i w_i J[i, :]`: the rows are split into as many contiguous chunks as
//!   there are workers; each chunk accumulates its partial sum (P values, cache
//!   resident), and the partial sums are added in chunk order. The split and the order
//!   depend only on `N`, `P` and the worker count, so the result is bit-for-bit
//!   reproducible for a given thread count.
//!
//! Products with several vectors at once go through faer's matrix multiply, which
//! blocks for cache itself.

use super::linalg;
use faer::{Mat, MatRef, Par};
use rayon::prelude::*;

/// Target size in bytes of one row block of `J v` (a task's share of `J`); about
/// half of a typical per-core L2 cache, so that a block and `v` fit together.
pub const ROW_BLOCK_BYTES: usize = 256 * 1024;

/// A borrowed row-major `N×P` Jacobian.
#[derive(Debug, Clone, Copy)]
pub struct JacobianRef<'a> {
    data: &'a [f64],
    n_rows: usize,
    n_cols: usize,
}

impl<'a> JacobianRef<'a> {
    /// Wraps a row-major buffer of `n_rows × n_cols` values.
    ///
    /// # Panics
    /// When `data.len() != n_rows * n_cols`.
    pub fn new(data: &'a [f64], n_rows: usize, n_cols: usize) -> Self {
        assert_eq!(
            data.len(),
            n_rows * n_cols,
            "a {n_rows}×{n_cols} Jacobian needs {} values, got {}",
            n_rows * n_cols,
            data.len()
        );
        Self {
            data,
            n_rows,
            n_cols,
        }
    }

    /// Number of rows `N`.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns `P`.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// The row-major buffer.
    pub fn data(&self) -> &'a [f64] {
        self.data
    }

    /// Row `i` (length P).
    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }

    /// The faer view of `J` (no copy).
    pub fn view(&self) -> MatRef<'a, f64> {
        linalg::jacobian_view(self.data, self.n_rows, self.n_cols)
    }

    /// `J v`.
    ///
    /// # Shapes
    /// `v: P` → `N`.
    pub fn apply(&self, v: &[f64], par: Par) -> Vec<f64> {
        let mut out = vec![0.0; self.n_rows];
        self.apply_into(v, &mut out, par);
        out
    }

    /// `out = J v`.
    ///
    /// # Shapes
    /// `v: P`, `out: N`.
    pub fn apply_into(&self, v: &[f64], out: &mut [f64], par: Par) {
        assert_eq!(v.len(), self.n_cols, "J v: v has the wrong length");
        assert_eq!(out.len(), self.n_rows, "J v: out has the wrong length");
        let p = self.n_cols;
        if p == 0 {
            out.fill(0.0);
            return;
        }
        let rows_per_block = (ROW_BLOCK_BYTES / (8 * p)).max(1);
        let block = |(out_block, j_block): (&mut [f64], &[f64])| {
            for (o, row) in out_block.iter_mut().zip(j_block.chunks_exact(p)) {
                *o = dot_lanes(row, v);
            }
        };
        if workers(par) <= 1 {
            out.chunks_mut(rows_per_block)
                .zip(self.data.chunks(rows_per_block * p))
                .for_each(block);
        } else {
            out.par_chunks_mut(rows_per_block)
                .zip(self.data.par_chunks(rows_per_block * p))
                .for_each(block);
        }
    }

    /// `Jᵀ w`.
    ///
    /// # Shapes
    /// `w: N` → `P`.
    pub fn apply_transpose(&self, w: &[f64], par: Par) -> Vec<f64> {
        let mut out = vec![0.0; self.n_cols];
        self.apply_transpose_into(w, &mut out, par);
        out
    }

    /// `out = Jᵀ w`, deterministic for a given worker count (see the module docs).
    ///
    /// # Shapes
    /// `w: N`, `out: P`.
    pub fn apply_transpose_into(&self, w: &[f64], out: &mut [f64], par: Par) {
        assert_eq!(w.len(), self.n_rows, "Jᵀ w: w has the wrong length");
        assert_eq!(out.len(), self.n_cols, "Jᵀ w: out has the wrong length");
        let (n, p) = (self.n_rows, self.n_cols);
        out.fill(0.0);
        if n == 0 || p == 0 {
            return;
        }
        // At least a few rows per chunk, so that tiny problems are not split.
        let n_chunks = workers(par).min(n.div_ceil(4)).max(1);
        if n_chunks == 1 {
            accumulate_rows(self.data, w, p, out);
            return;
        }
        let rows_per_chunk = n.div_ceil(n_chunks);
        let partials: Vec<Vec<f64>> = self
            .data
            .par_chunks(rows_per_chunk * p)
            .zip(w.par_chunks(rows_per_chunk))
            .map(|(j_chunk, w_chunk)| {
                let mut acc = vec![0.0; p];
                accumulate_rows(j_chunk, w_chunk, p, &mut acc);
                acc
            })
            .collect();
        // Fixed-order reduction: column blocks in parallel, chunks summed in order.
        let column_block = 1024;
        out.par_chunks_mut(column_block)
            .enumerate()
            .for_each(|(b, out_block)| {
                let start = b * column_block;
                for partial in &partials {
                    for (o, x) in out_block.iter_mut().zip(&partial[start..]) {
                        *o += x;
                    }
                }
            });
    }

    /// `J V` for several vectors at once (faer matrix multiply).
    ///
    /// # Shapes
    /// `v: P×k` → `N×k`.
    pub fn apply_many(&self, v: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        assert_eq!(v.nrows(), self.n_cols, "J V: V has the wrong row count");
        linalg::mat_mul(self.view(), v, par)
    }

    /// `Jᵀ W` for several vectors at once (faer matrix multiply).
    ///
    /// # Shapes
    /// `w: N×k` → `P×k`.
    pub fn apply_transpose_many(&self, w: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        assert_eq!(w.nrows(), self.n_rows, "Jᵀ W: W has the wrong row count");
        linalg::mat_mul(self.view().transpose(), w, par)
    }

    /// `diag(JᵀJ)`: the squared column norms of `J` (length P).
    pub fn gram_diagonal(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.n_cols];
        for i in 0..self.n_rows {
            for (o, x) in out.iter_mut().zip(self.row(i)) {
                *o += x * x;
            }
        }
        out
    }
}

/// Products with a Jacobian `J` (N×P), stored or not: what conjugate gradients and the
/// Nyström sketch of matrix-free Gauss–Newton need ([`super::pcg::GramOperator`],
/// [`super::nystrom::GaussNewtonSystem`]). [`JacobianRef`] is the stored J;
/// [`super::streamed::StreamedJacobian`] recomputes the rows that do not fit a memory
/// budget at every product.
pub trait JacobianOperator: std::fmt::Debug {
    /// Number of rows `N`.
    fn n_rows(&self) -> usize;

    /// Number of columns `P`.
    fn n_cols(&self) -> usize;

    /// `J v` (`v: P` → `N`).
    fn apply(&self, v: &[f64], par: Par) -> Vec<f64>;

    /// `Jᵀ w` (`w: N` → `P`).
    fn apply_transpose(&self, w: &[f64], par: Par) -> Vec<f64>;

    /// `J V` (`v: P×k` → `N×k`).
    fn apply_many(&self, v: MatRef<'_, f64>, par: Par) -> Mat<f64>;

    /// `Jᵀ W` (`w: N×k` → `P×k`).
    fn apply_transpose_many(&self, w: MatRef<'_, f64>, par: Par) -> Mat<f64>;

    /// `Jᵀ(J x)` (`x: P` → `P`). The default takes the two products in turn; a streamed
    /// J fuses them, so that each row block is computed once.
    fn gram_apply(&self, x: &[f64], par: Par) -> Vec<f64> {
        self.apply_transpose(&self.apply(x, par), par)
    }

    /// `out = J v`. The default copies [`Self::apply`]; a stored J writes in place.
    fn apply_into(&self, v: &[f64], out: &mut [f64], par: Par) {
        out.copy_from_slice(&self.apply(v, par));
    }

    /// `out = Jᵀ(J x)`, the product each CG iteration takes. The default copies
    /// [`Self::gram_apply`]; a stored J writes in place.
    fn gram_apply_into(&self, x: &[f64], out: &mut [f64], par: Par) {
        out.copy_from_slice(&self.gram_apply(x, par));
    }

    /// `Jᵀ(J X)` (`x: P×k` → `P×k`), fused like [`Self::gram_apply`].
    fn gram_apply_many(&self, x: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        self.apply_transpose_many(self.apply_many(x, par).as_ref(), par)
    }

    /// `diag(JᵀJ)`: the squared column norms (length P).
    fn gram_diagonal(&self) -> Vec<f64>;

    /// Whether products recompute rows of J (then a primal `JᵀJ` system, one pass over
    /// the rows per product, is cheaper than a dual `JJᵀ` one, which needs two).
    fn is_streamed(&self) -> bool {
        false
    }

    /// Passes over recomputed rows so far (`None` for a stored J).
    fn passes(&self) -> Option<usize> {
        None
    }
}

impl JacobianOperator for JacobianRef<'_> {
    fn n_rows(&self) -> usize {
        self.n_rows
    }

    fn n_cols(&self) -> usize {
        self.n_cols
    }

    fn apply(&self, v: &[f64], par: Par) -> Vec<f64> {
        JacobianRef::apply(self, v, par)
    }

    fn apply_transpose(&self, w: &[f64], par: Par) -> Vec<f64> {
        JacobianRef::apply_transpose(self, w, par)
    }

    fn apply_into(&self, v: &[f64], out: &mut [f64], par: Par) {
        JacobianRef::apply_into(self, v, out, par);
    }

    fn gram_apply_into(&self, x: &[f64], out: &mut [f64], par: Par) {
        let jx = JacobianRef::apply(self, x, par);
        self.apply_transpose_into(&jx, out, par);
    }

    fn apply_many(&self, v: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        JacobianRef::apply_many(self, v, par)
    }

    fn apply_transpose_many(&self, w: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        JacobianRef::apply_transpose_many(self, w, par)
    }

    fn gram_diagonal(&self) -> Vec<f64> {
        JacobianRef::gram_diagonal(self)
    }
}

/// The number of parallel workers `par` stands for (1 for [`Par::Seq`]).
pub fn workers(par: Par) -> usize {
    match par {
        Par::Seq => 1,
        Par::Rayon(n) => n.get(),
    }
}

/// `acc += Σ_i w_i J[i, :]` over the rows of a row-major block, four rows per sweep of
/// `acc` (a quarter of the accumulator traffic of one row at a time).
fn accumulate_rows(block: &[f64], w: &[f64], p: usize, acc: &mut [f64]) {
    let mut rows = block.chunks_exact(4 * p);
    let mut weights = w.chunks_exact(4);
    for (four, w4) in (&mut rows).zip(&mut weights) {
        let (r0, rest) = four.split_at(p);
        let (r1, rest) = rest.split_at(p);
        let (r2, r3) = rest.split_at(p);
        let (w0, w1, w2, w3) = (w4[0], w4[1], w4[2], w4[3]);
        for k in 0..p {
            acc[k] += w0 * r0[k] + w1 * r1[k] + w2 * r2[k] + w3 * r3[k];
        }
    }
    for (row, &wi) in rows.remainder().chunks_exact(p).zip(weights.remainder()) {
        for (a, x) in acc.iter_mut().zip(row) {
            *a += wi * x;
        }
    }
}

/// Dot product with eight independent partial sums (lets the compiler vectorize).
fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    let mut acc = [0.0f64; LANES];
    let (a_main, a_tail) = a.split_at(a.len() - a.len() % LANES);
    let (b_main, b_tail) = b.split_at(a_main.len());
    for (x, y) in a_main.chunks_exact(LANES).zip(b_main.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in a_tail.iter().zip(b_tail) {
        sum += x * y;
    }
    sum
}

/// `J v` by the plain row-by-row loop, for benchmarks and tests.
///
/// # Shapes
/// `j: N×P` row-major, `v: P` → `N`.
pub fn naive_apply(j: &[f64], n_rows: usize, n_cols: usize, v: &[f64]) -> Vec<f64> {
    (0..n_rows)
        .map(|i| {
            j[i * n_cols..(i + 1) * n_cols]
                .iter()
                .zip(v)
                .map(|(x, y)| x * y)
                .sum()
        })
        .collect()
}

/// `Jᵀ w` by the plain row-by-row loop, for benchmarks and tests.
///
/// # Shapes
/// `j: N×P` row-major, `w: N` → `P`.
pub fn naive_apply_transpose(j: &[f64], n_rows: usize, n_cols: usize, w: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; n_cols];
    for i in 0..n_rows {
        for (o, x) in out.iter_mut().zip(&j[i * n_cols..(i + 1) * n_cols]) {
            *o += w[i] * x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::test_problems::random_matrix;

    /// Relative error `‖a − b‖∞ / ‖b‖∞`.
    fn relative_error(a: &[f64], b: &[f64]) -> f64 {
        let diff = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        diff / b.iter().map(|x| x.abs()).fold(0.0, f64::max)
    }

    /// Shapes that exercise the remainders: rows not a multiple of 4 or of the chunk
    /// count, columns not a multiple of 8, a single row and a single column, and row
    /// blocks of several rows (P = 3 gives 10,922 rows per block, so N = 25,000 spans
    /// three blocks).
    const SHAPES: &[(usize, usize)] = &[
        (1, 1),
        (1, 17),
        (19, 1),
        (7, 13),
        (130, 257),
        (1003, 61),
        (25_000, 3),
        (300, 5000),
    ];

    #[test]
    fn products_match_naive_loops() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for &(n, p) in SHAPES {
            let j = random_matrix(n, p, (n * 31 + p) as u64);
            let v = random_matrix(p, 1, 5);
            let w = random_matrix(n, 1, 6);
            let jr = JacobianRef::new(&j, n, p);
            let jv = naive_apply(&j, n, p, &v);
            let jtw = naive_apply_transpose(&j, n, p, &w);
            for par in [Par::Seq, Par::rayon(2), Par::rayon(3)] {
                pool.install(|| {
                    // Sums of p (resp. n) terms of size ≤ 1: rounding ≤ n·eps relative
                    // to the largest term; the bound 1e-12 holds for every shape here
                    // as long as the sums do not cancel badly, which random signs make
                    // unlikely at these sizes (the measured errors are ≈1e-15).
                    let e1 = relative_error(&jr.apply(&v, par), &jv);
                    let e2 = relative_error(&jr.apply_transpose(&w, par), &jtw);
                    assert!(e1 < 1e-12, "J v {n}×{p} {par:?}: {e1:e}");
                    assert!(e2 < 1e-12, "Jᵀ w {n}×{p} {par:?}: {e2:e}");
                });
            }
        }
    }

    #[test]
    fn transpose_product_is_reproducible_for_a_thread_count() {
        let (n, p) = (4099, 333);
        let j = random_matrix(n, p, 1);
        let w = random_matrix(n, 1, 2);
        let jr = JacobianRef::new(&j, n, p);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let first = pool.install(|| jr.apply_transpose(&w, Par::rayon(4)));
        for _ in 0..5 {
            let again = pool.install(|| jr.apply_transpose(&w, Par::rayon(4)));
            assert_eq!(first, again, "Jᵀw must not depend on scheduling");
        }
        let jv_first = pool.install(|| jr.apply(&w[..p], Par::rayon(4)));
        assert_eq!(jv_first, jr.apply(&w[..p], Par::Seq), "J v is per-row");
    }

    #[test]
    fn multi_vector_products_match_single_products() {
        for &(n, p, k) in &[(50, 70, 1), (200, 90, 7), (33, 400, 12)] {
            let j = random_matrix(n, p, 3);
            let v = random_matrix(p, k, 4);
            let w = random_matrix(n, k, 5);
            let jr = JacobianRef::new(&j, n, p);
            let vm = Mat::from_fn(p, k, |i, c| v[i * k + c]);
            let wm = Mat::from_fn(n, k, |i, c| w[i * k + c]);
            let jv = jr.apply_many(vm.as_ref(), Par::rayon(2));
            let jtw = jr.apply_transpose_many(wm.as_ref(), Par::Seq);
            assert_eq!(jv.shape(), (n, k));
            assert_eq!(jtw.shape(), (p, k));
            for c in 0..k {
                let vc: Vec<f64> = (0..p).map(|i| vm[(i, c)]).collect();
                let wc: Vec<f64> = (0..n).map(|i| wm[(i, c)]).collect();
                let got_v: Vec<f64> = (0..n).map(|i| jv[(i, c)]).collect();
                let got_w: Vec<f64> = (0..p).map(|i| jtw[(i, c)]).collect();
                let e1 = relative_error(&got_v, &naive_apply(&j, n, p, &vc));
                let e2 = relative_error(&got_w, &naive_apply_transpose(&j, n, p, &wc));
                assert!(e1 < 1e-12 && e2 < 1e-12, "{n}×{p}×{k}: {e1:e} {e2:e}");
            }
        }
    }

    #[test]
    fn gram_diagonal_is_the_squared_column_norms() {
        let j = vec![1.0, 2.0, -3.0, 4.0, 0.5, 0.0];
        let jr = JacobianRef::new(&j, 2, 3);
        assert_eq!(jr.gram_diagonal(), vec![17.0, 4.25, 9.0]);
    }
}
