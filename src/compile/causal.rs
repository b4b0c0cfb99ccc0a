//! Causal weighting of a time-dependent problem's residual rows (ALGORITHMS.md §4.4;
//! Wang, Sankaran & Perdikaris 2024, "Respecting causality").
//!
//! The time interval is cut into [`SLABS`] equal slabs. The rows of the equations that
//! hold `on interior` are grouped by the slab of their point's time, and the rows of slab
//! `i` are scaled by `sqrt(w_i)`,
//!
//! ```text
//! w_i = exp(−ε Σ_{k<i} L_k),    L_k = Σ_b w_b · mean over the rows of block b in slab k of F²,
//! ```
//!
//! `F` the equation's value at the point and `w_b` the block's weight: `L_k` is the loss
//! of slab `k` on the scale of the whole loss (a residual of the same size everywhere
//! gives every slab the loss of the block). So a slab counts only once the slabs before
//! it are fitted: the network cannot lower the loss by fitting a late time to a wrong
//! early one. As the loss falls every weight tends to 1 and the weighted problem becomes
//! the plain one, so the weighting changes the path, not the solution. Rows of other
//! regions (initial, boundary, data) keep weight 1.
//!
//! The weights are constants of each step: they are computed from the residual at the
//! step's parameters and held while the step's trials are evaluated, so a step's gain
//! ratio compares one loss.

use super::points::PointSet;
use crate::ir::{Problem, Region};
use crate::solve::streamed::JacobianRows;

/// The number of time slabs (jaxpi's default).
pub const SLABS: usize = 32;

/// The slab of every residual row and its share of the slab's loss.
#[derive(Debug, Clone, PartialEq)]
pub struct CausalSlabs {
    epsilon: f64,
    /// Per row: its slab, `None` for rows that are not weighted.
    slab: Vec<Option<usize>>,
    /// Per row: the factor that turns `r_j²` into its part of its slab's loss,
    /// `n_b / |slab ∩ b|` (rows are `sqrt(w_b / n_b)·F`).
    share: Vec<f64>,
}

impl CausalSlabs {
    /// The slabs of `points`' rows (stacked block by block, as the residual is).
    pub fn new(problem: &Problem, points: &PointSet, epsilon: f64) -> Self {
        let n_coords = problem.coords.len();
        let time = problem.time_coord();
        let (t0, t1) = time.map_or((0.0, 1.0), |k| (problem.coords[k].lo, problem.coords[k].hi));
        let mut slab = Vec::with_capacity(points.n_rows());
        let mut share = Vec::with_capacity(points.n_rows());
        for (b, block) in points.blocks.iter().enumerate() {
            let weighted = time.filter(|_| {
                problem.blocks.get(b).map(|x| &x.region) == Some(&Region::Interior)
                    && block.points.len() == block.n * n_coords
            });
            let Some(k) = weighted else {
                slab.extend(std::iter::repeat_n(None, block.n));
                share.extend(std::iter::repeat_n(0.0, block.n));
                continue;
            };
            let slabs: Vec<usize> = (0..block.n)
                .map(|i| slab_of(block.points[i * n_coords + k], t0, t1))
                .collect();
            let mut count = [0usize; SLABS];
            for &s in &slabs {
                count[s] += 1;
            }
            share.extend(slabs.iter().map(|&s| block.n as f64 / count[s] as f64));
            slab.extend(slabs.into_iter().map(Some));
        }
        CausalSlabs {
            epsilon,
            slab,
            share,
        }
    }

    /// ε.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// The number of residual rows.
    pub fn n_rows(&self) -> usize {
        self.slab.len()
    }

    /// `L_k` of every slab for the (unweighted) residual `r`.
    pub fn slab_losses(&self, r: &[f64]) -> [f64; SLABS] {
        let mut losses = [0.0; SLABS];
        for ((s, share), v) in self.slab.iter().zip(&self.share).zip(r) {
            if let Some(s) = s {
                losses[*s] += share * v * v;
            }
        }
        losses
    }

    /// The weights `w_i` of the slabs for the residual `r`: non-increasing, `w_0 = 1`.
    pub fn weights(&self, r: &[f64]) -> [f64; SLABS] {
        let losses = self.slab_losses(r);
        let mut weights = [1.0; SLABS];
        let mut before = 0.0;
        for (w, l) in weights.iter_mut().zip(losses) {
            // A non-finite loss makes every later weight NaN: the step's non-finite
            // handling then names the row, as for the plain residual.
            *w = (-self.epsilon * before).exp();
            before += l;
        }
        weights
    }

    /// Per row, `sqrt(w)` of its slab for the residual `r` (1 for rows not weighted).
    pub fn row_scales(&self, r: &[f64]) -> Vec<f64> {
        let weights = self.weights(r);
        self.slab
            .iter()
            .map(|s| s.map_or(1.0, |s| weights[s].sqrt()))
            .collect()
    }
}

/// The slab of time `t` in `[t0, t1]` (the last slab holds `t1`).
fn slab_of(t: f64, t0: f64, t1: f64) -> usize {
    let x = (t - t0) / (t1 - t0) * SLABS as f64;
    if x.is_finite() {
        (x.max(0.0) as usize).min(SLABS - 1)
    } else {
        0
    }
}

/// Scales the rows of `r` (and of `j`, `n_params` wide) by `scales`.
pub fn scale_rows(scales: &[f64], r: &mut [f64], j: Option<&mut [f64]>, n_params: usize) {
    for (v, s) in r.iter_mut().zip(scales) {
        *v *= s;
    }
    if let Some(j) = j {
        for (row, s) in j.chunks_mut(n_params.max(1)).zip(scales) {
            if *s != 1.0 {
                row.iter_mut().for_each(|v| *v *= s);
            }
        }
    }
}

/// J's rows from another [`JacobianRows`], row `i` times `scales[i]`: the causal weights
/// on a Jacobian streamed in blocks ([`crate::solve::streamed`]).
pub struct ScaledRows {
    inner: Box<dyn JacobianRows>,
    scales: Vec<f64>,
}

impl ScaledRows {
    /// Rows of `inner`, row `i` times `scales[i]`.
    ///
    /// # Panics
    /// When `scales` does not have one entry per row.
    pub fn new(inner: Box<dyn JacobianRows>, scales: Vec<f64>) -> Self {
        assert_eq!(
            scales.len(),
            inner.n_rows(),
            "ScaledRows: one scale per row"
        );
        Self { inner, scales }
    }
}

impl JacobianRows for ScaledRows {
    fn n_rows(&self) -> usize {
        self.inner.n_rows()
    }

    fn n_cols(&self) -> usize {
        self.inner.n_cols()
    }

    fn rows(&self, rows: std::ops::Range<usize>) -> Vec<f64> {
        let p = self.inner.n_cols();
        let mut block = self.inner.rows(rows.clone());
        scale_rows(&self.scales[rows], &mut [], Some(&mut block), p);
        block
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::testing::random_points;

    fn lower_ok(source: &str) -> Problem {
        let (problem, diagnostics) = crate::check::check_source(source, std::path::Path::new("."));
        problem.unwrap_or_else(|| panic!("{diagnostics:?}"))
    }

    const HEAT: &str = "time t in [0, 2]\nspace x in [0, 1]\nfield u\n\
        dt(u) - dxx(u) = 0 on interior weight 3\nu = sin(pi*x) on initial\n\
        u = 0 on boundary\nmodel mlp(layers = [4], activation = tanh, constraints = soft)\n";

    #[test]
    fn slabs_follow_the_time_of_interior_rows_only() {
        let problem = lower_ok(HEAT);
        let points = random_points(&problem, 200, 3);
        let slabs = CausalSlabs::new(&problem, &points, 1.0);
        assert_eq!(slabs.n_rows(), points.n_rows());
        let k = problem.time_coord().unwrap();
        let n_coords = problem.coords.len();
        let mut row = 0;
        for (b, block) in points.blocks.iter().enumerate() {
            for i in 0..block.n {
                let t = block.points[i * n_coords + k];
                if problem.blocks[b].region == Region::Interior {
                    // t in [0, 2] in 32 slabs of 1/16.
                    let s = slabs.slab[row].unwrap();
                    assert!(
                        s as f64 / 16.0 <= t && t <= (s + 1) as f64 / 16.0,
                        "{t} in {s}"
                    );
                } else {
                    assert_eq!(slabs.slab[row], None);
                }
                row += 1;
            }
        }
    }

    #[test]
    fn a_uniform_residual_gives_every_slab_the_blocks_loss() {
        let problem = lower_ok(HEAT);
        let points = random_points(&problem, 300, 5);
        let slabs = CausalSlabs::new(&problem, &points, 1.0);
        // Every row of the interior block (weight 3, n rows) is sqrt(3/n)·F with F = 2:
        // each slab's mean of F² is 4, weighted 3.
        let n = points.blocks[0].n as f64;
        let r: Vec<f64> = (0..slabs.n_rows())
            .map(|row| match slabs.slab[row] {
                Some(_) => (3.0 / n).sqrt() * 2.0,
                None => 1e3,
            })
            .collect();
        for (k, l) in slabs.slab_losses(&r).iter().enumerate() {
            let occupied = slabs.slab.contains(&Some(k));
            let expected = if occupied { 12.0 } else { 0.0 };
            assert!((l - expected).abs() < 1e-12, "slab {k}: {l}");
        }
    }

    #[test]
    fn weights_are_exponentials_of_the_losses_before() {
        let problem = lower_ok(HEAT);
        let points = random_points(&problem, 400, 7);
        let epsilon = 0.3;
        let slabs = CausalSlabs::new(&problem, &points, epsilon);
        // A residual that grows with time, as an untrained network's does.
        let r: Vec<f64> = (0..slabs.n_rows())
            .map(|row| slabs.slab[row].map_or(5.0, |s| 0.01 * (1.0 + s as f64)))
            .collect();
        let losses = slabs.slab_losses(&r);
        let weights = slabs.weights(&r);
        let scales = slabs.row_scales(&r);
        assert_eq!(weights[0], 1.0);
        for i in 0..SLABS {
            let before: f64 = losses[..i].iter().sum();
            assert!((weights[i] - (-epsilon * before).exp()).abs() < 1e-15);
            if i > 0 {
                assert!(weights[i] < weights[i - 1] || losses[i - 1] == 0.0);
            }
        }
        for (row, s) in scales.iter().enumerate() {
            match slabs.slab[row] {
                Some(k) => assert_eq!(*s, weights[k].sqrt()),
                None => assert_eq!(*s, 1.0),
            }
        }
        // A residual that vanishes leaves every weight at 1: the plain problem.
        let zero = vec![0.0; slabs.n_rows()];
        assert!(slabs.weights(&zero).iter().all(|w| *w == 1.0));
    }

    #[test]
    fn scaling_rows_scales_r_and_j_alike() {
        let scales = [1.0, 0.5, 2.0];
        let mut r = vec![1.0, 2.0, 3.0];
        let mut j = vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
        scale_rows(&scales, &mut r, Some(&mut j), 2);
        assert_eq!(r, [1.0, 1.0, 6.0]);
        assert_eq!(j, [1.0, 1.0, 1.0, 1.0, 6.0, 6.0]);
    }

    #[test]
    fn scaled_rows_scale_each_row() {
        let (n, p) = (6, 3);
        let j = crate::solve::test_problems::random_matrix(n, p, 31);
        let scales: Vec<f64> = (0..n).map(|i| 0.5 + i as f64).collect();
        let scaled = ScaledRows::new(
            Box::new(crate::solve::streamed::StoredRows::new(j.clone(), n, p)),
            scales.clone(),
        );
        let rows = scaled.rows(2..5);
        for (r, i) in (2..5).enumerate() {
            for c in 0..p {
                assert_eq!(rows[r * p + c], j[i * p + c] * scales[i]);
            }
        }
    }
}
