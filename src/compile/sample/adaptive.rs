//! Residual-based adaptive distribution (RAD; Wu, Zhu, Tan, Kartha & Lu 2023,
//! "A comprehensive study of non-adaptive and residual-based adaptive sampling for
//! physics-informed neural networks"): `sample adaptive = rad(k, c) every m`.
//!
//! Every `m` iterations each sampled block draws a pool of [`POOL_FACTOR`] times its
//! point count uniformly from its region (the samplers of [`sample_points`], on a
//! stream of their own), the caller evaluates the block's residual there (one forward,
//! no Jacobian), and the block keeps its count of candidates, drawn without
//! replacement with probability `∝ |r|^k / mean(|r|^k) + c` ([`rad_select`]). Data
//! blocks keep their rows. Everything is seeded: the same problem, seed and residuals
//! give the same points.

use super::error::SampleError;
use super::regions::scaled_uniform_points;
use super::sequence::{mix, TAG_ADAPTIVE, TAG_ADAPTIVE_PICK};
use crate::compile::points::{BlockPoints, PointSet};
use crate::ir::{AdaptiveSampling, Problem, Region};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How many times its point count a block's candidate pool holds. Wu et al. draw from
/// a pool of 100,000 for a few thousand points; ten times the count keeps the pool's
/// forward pass a small part of an iteration (a residual forward costs a fraction of
/// a Jacobian's) while sampling without replacement stays close to the density (the
/// mean of a density `∝ x` on `[0, 1]` is biased by about `1/(12·POOL_FACTOR)` of
/// its value).
pub const POOL_FACTOR: usize = 10;

/// The candidate pools for an adaptive redraw with `seed`: every sampled region at
/// [`POOL_FACTOR`] times its count, drawn uniformly at random whatever the `sampler`
/// (a grid or Halton pool would repeat the training points' pattern); `data` blocks
/// keep their rows.
///
/// # Errors
/// As [`sample_points`](super::sample_points).
pub fn candidate_points(problem: &Problem, seed: u64) -> Result<PointSet, SampleError> {
    scaled_uniform_points(problem, POOL_FACTOR, mix(seed, TAG_ADAPTIVE))
}

/// The training points of an adaptive redraw: for every block of `problem` that is not
/// a data set, `counts[b]` rows of `pool` (from [`candidate_points`]) drawn by
/// [`rad_select`] from `residual`, the residual at the pool's rows stacked block by
/// block (any per-block scale, such as `sqrt(w/N)`, cancels). Data blocks are `pool`'s.
/// A block whose pool is not larger than its count keeps the whole pool.
///
/// # Panics
/// If `residual` does not have one value per row of `pool`, or `counts` one entry per
/// block.
pub fn rad_points(
    problem: &Problem,
    settings: &AdaptiveSampling,
    pool: &PointSet,
    residual: &[f64],
    counts: &[usize],
    seed: u64,
) -> PointSet {
    drawn_points(problem, settings, pool, residual, counts, seed, true)
}

/// The points a RAR-D refinement (`sample adaptive = rar`) adds: for every block of
/// `problem` that is not a data set, `added[b]` rows of `pool` drawn by [`rad_select`]
/// from `residual` as in [`rad_points`]; data blocks add none. The caller appends them
/// to the points it holds ([`PointSet::append`]).
///
/// # Panics
/// As [`rad_points`].
pub fn rar_points(
    problem: &Problem,
    settings: &AdaptiveSampling,
    pool: &PointSet,
    residual: &[f64],
    added: &[usize],
    seed: u64,
) -> PointSet {
    drawn_points(problem, settings, pool, residual, added, seed, false)
}

/// `counts[b]` rows of each block of `pool` by [`rad_select`]; data blocks are `pool`'s
/// with `keep_data`, empty without.
fn drawn_points(
    problem: &Problem,
    settings: &AdaptiveSampling,
    pool: &PointSet,
    residual: &[f64],
    counts: &[usize],
    seed: u64,
    keep_data: bool,
) -> PointSet {
    assert_eq!(residual.len(), pool.n_rows(), "one residual per candidate");
    assert_eq!(counts.len(), pool.blocks.len(), "one count per block");
    let n_coords = problem.coords.len();
    let mut offset = 0;
    let blocks = pool
        .blocks
        .iter()
        .zip(&problem.blocks)
        .zip(counts)
        .enumerate()
        .map(|(index, ((candidates, block), &count))| {
            let rows = &residual[offset..offset + candidates.n];
            offset += candidates.n;
            if matches!(block.region, Region::Data { .. }) {
                return if keep_data {
                    candidates.clone()
                } else {
                    select_rows(candidates, &[], n_coords)
                };
            }
            if candidates.n <= count {
                return candidates.clone();
            }
            let pick_seed = mix(mix(seed, TAG_ADAPTIVE_PICK), index as u64);
            let picked = rad_select(rows, count, settings.k, settings.c, pick_seed);
            select_rows(candidates, &picked, n_coords)
        })
        .collect();
    PointSet { blocks }
}

/// `n` distinct indices into `residual`, drawn without replacement with probability
/// `p_i ∝ |r_i|^k / mean(|r|^k) + c` (successive sampling, by the exponential keys of
/// Efraimidis & Spirakis 2006: the `n` smallest `E_i / p_i`, `E_i ~ Exp(1)`), returned
/// in increasing order. A non-finite residual counts as zero (only `c` draws it); when
/// every `|r|^k` is zero, or `c = 0` and nothing else is left, the draw is uniform.
/// `n` is capped at `residual.len()`.
pub fn rad_select(residual: &[f64], n: usize, k: f64, c: f64, seed: u64) -> Vec<usize> {
    let n = n.min(residual.len());
    // |r|^k relative to the largest |r|: the same ratios as |r|^k, without overflow.
    let largest = residual
        .iter()
        .filter(|r| r.is_finite())
        .fold(0.0f64, |m, r| m.max(r.abs()));
    let powered: Vec<f64> = residual
        .iter()
        .map(|r| {
            if r.is_finite() && largest > 0.0 {
                (r.abs() / largest).powf(k)
            } else {
                0.0
            }
        })
        .collect();
    let mean = powered.iter().sum::<f64>() / powered.len().max(1) as f64;
    let density = |a: f64| if mean > 0.0 { a / mean + c } else { 1.0 };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut keys: Vec<(f64, usize)> = powered
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            // 1 − u lies in (0, 1], so the exponential draw is finite.
            let exponential = -(1.0 - rng.random::<f64>()).ln();
            let p = density(a);
            let key = if p > 0.0 {
                exponential / p
            } else {
                f64::INFINITY
            };
            (key, i)
        })
        .collect();
    if n < keys.len() {
        keys.select_nth_unstable_by(n, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    let mut picked: Vec<usize> = keys[..n].iter().map(|&(_, i)| i).collect();
    picked.sort_unstable();
    picked
}

/// The rows `indices` of `block` (points, normals and partners alike).
fn select_rows(block: &BlockPoints, indices: &[usize], n_coords: usize) -> BlockPoints {
    let rows = |values: &[f64]| -> Vec<f64> {
        indices
            .iter()
            .flat_map(|&i| values[i * n_coords..(i + 1) * n_coords].iter().copied())
            .collect()
    };
    BlockPoints {
        n: indices.len(),
        points: rows(&block.points),
        normals: block.normals.as_deref().map(rows),
        partner: block.partner.as_deref().map(rows),
        data_rows: block
            .data_rows
            .as_ref()
            .map(|d| indices.iter().map(|&i| d[i]).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::test_support::*;
    use crate::ir::CoordKind;

    /// The mean of the picked `x` when `|r| = x` on a pool of uniform `x` in [0, 1].
    fn picked_mean(pool: usize, n: usize, k: f64, c: f64, seed: u64) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        let x: Vec<f64> = (0..pool).map(|_| rng.random::<f64>()).collect();
        let picked = rad_select(&x, n, k, c, seed);
        assert_eq!(picked.len(), n);
        assert!(picked.windows(2).all(|w| w[0] < w[1]), "distinct, sorted");
        picked.iter().map(|&i| x[i]).sum::<f64>() / n as f64
    }

    #[test]
    fn rad_draws_follow_the_density() {
        // |r| = x, k = 1, c = 0: density 2x on [0, 1], mean 2/3, variance 1/18. With
        // n = 2,000 the sample mean's standard error is sqrt(1/18/2000) = 0.0053;
        // drawing without replacement from 100 times as many candidates shifts the
        // mean by about 2/3 · 0.01/12 = 0.0006. Four standard errors (0.021) cannot
        // be missed by a right sampler (probability 6e-5) and exclude the uniform
        // draw (mean 1/2) and the density of k = 2 (mean 3/4).
        for seed in 0..3 {
            let mean = picked_mean(200_000, 2_000, 1.0, 0.0, seed);
            assert!((mean - 2.0 / 3.0).abs() < 0.021, "seed {seed}: {mean}");
        }
        // c = 1: density (2x + 1)/2, mean 7/12, variance 11/144 (standard error 0.0062).
        let mean = picked_mean(200_000, 2_000, 1.0, 1.0, 7);
        assert!((mean - 7.0 / 12.0).abs() < 0.025, "{mean}");
        // k = 2, c = 0: density 3x², mean 3/4, variance 3/80 (standard error 0.0043).
        let mean = picked_mean(200_000, 2_000, 2.0, 0.0, 8);
        assert!((mean - 0.75).abs() < 0.018, "{mean}");
    }

    #[test]
    fn rad_selection_is_seeded_and_handles_degenerate_residuals() {
        let r: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin()).collect();
        assert_eq!(
            rad_select(&r, 100, 1.0, 1.0, 3),
            rad_select(&r, 100, 1.0, 1.0, 3)
        );
        assert_ne!(
            rad_select(&r, 100, 1.0, 1.0, 3),
            rad_select(&r, 100, 1.0, 1.0, 4)
        );
        // Zero residuals everywhere, or NaN: a uniform draw of distinct indices.
        for value in [0.0, f64::NAN] {
            let picked = rad_select(&[value; 50], 20, 1.0, 0.0, 1);
            assert_eq!(picked.len(), 20);
            assert!(picked.windows(2).all(|w| w[0] < w[1]));
        }
        // Asking for more than there is gives everything; huge residuals do not overflow.
        assert_eq!(rad_select(&[1e300, 2e300], 5, 10.0, 1.0, 0), vec![0, 1]);
        // With c = 0 the zero-residual candidates come last.
        let mut r = vec![0.0; 100];
        r[10] = 1.0;
        r[90] = 2.0;
        assert_eq!(rad_select(&r, 2, 1.0, 0.0, 5), vec![10, 90]);
    }

    /// x ∈ [0, 1], t ∈ [0, 1]: 40 interior, 10 boundary and 8 initial points.
    fn interval_in_time() -> Problem {
        let coords = [("x", CoordKind::Space, 0.0, 1.0), T];
        let mut sample = config(40, 10);
        sample.initial = 8;
        problem(
            &coords,
            Vec::new(),
            vec![Region::Interior, Region::Boundary, Region::Initial],
            sample,
        )
    }

    #[test]
    fn rad_points_keep_counts_regions_and_data_rows() {
        let p = interval_in_time();
        let train = sample_points(&p, 0).unwrap();
        let counts: Vec<usize> = train.blocks.iter().map(|b| b.n).collect();
        let pool = candidate_points(&p, 5).unwrap();
        let pool_counts: Vec<usize> = pool.blocks.iter().map(|b| b.n).collect();
        assert_eq!(pool_counts, vec![400, 100, 80]);
        // |r| = x: the interior keeps its count, with more points at large x.
        let residual: Vec<f64> = pool
            .blocks
            .iter()
            .flat_map(|b| rows(&b.points, 2).into_iter().map(|x| x[0]))
            .collect();
        let settings = AdaptiveSampling {
            k: 1.0,
            c: 0.0,
            every: 1,
            growth: None,
        };
        let adapted = rad_points(&p, &settings, &pool, &residual, &counts, 5);
        let adapted_counts: Vec<usize> = adapted.blocks.iter().map(|b| b.n).collect();
        assert_eq!(adapted_counts, counts);
        let boundary = &adapted.blocks[1];
        assert_eq!(
            boundary.normals.as_ref().unwrap().len(),
            boundary.points.len()
        );
        for (x, normal) in rows(&boundary.points, 2)
            .iter()
            .zip(rows(boundary.normals.as_ref().unwrap(), 2))
        {
            // Each normal stays with its point: outward, -1 at x = 0 and +1 at x = 1.
            assert_eq!(normal[0], if x[0] == 0.0 { -1.0 } else { 1.0 });
        }
        assert!(rows(&adapted.blocks[2].points, 2)
            .iter()
            .all(|x| x[1] == 0.0));
        assert_eq!(
            adapted,
            rad_points(&p, &settings, &pool, &residual, &counts, 5)
        );
    }

    #[test]
    fn rar_points_are_drawn_by_the_residual_and_join_the_held_ones() {
        let p = interval_in_time();
        let mut held = sample_points(&p, 0).unwrap();
        let pool = candidate_points(&p, 5).unwrap();
        // |r| = x² with k = 1, c = 0: the added interior points have the density 3x²
        // on [0, 1], mean 3/4 (uniform: 1/2).
        let residual: Vec<f64> = pool
            .blocks
            .iter()
            .flat_map(|b| rows(&b.points, 2).into_iter().map(|x| x[0] * x[0]))
            .collect();
        let settings = AdaptiveSampling {
            k: 1.0,
            c: 0.0,
            every: 1,
            growth: Some(crate::ir::Growth::default()),
        };
        let added = rar_points(&p, &settings, &pool, &residual, &[40, 6, 0], 5);
        let counts: Vec<usize> = added.blocks.iter().map(|b| b.n).collect();
        assert_eq!(counts, vec![40, 6, 0]);
        let xs: Vec<f64> = rows(&added.blocks[0].points, 2)
            .iter()
            .map(|x| x[0])
            .collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        // 40 of a pool of 400: the standard error of the mean is about 0.03.
        assert!(mean > 0.66 && mean < 0.84, "{mean}");
        held.append(&added);
        let counts: Vec<usize> = held.blocks.iter().map(|b| b.n).collect();
        assert_eq!(counts, vec![80, 16, 8]);
        let boundary = &held.blocks[1];
        assert_eq!(boundary.points.len(), 2 * 16);
        assert_eq!(boundary.normals.as_ref().unwrap().len(), 2 * 16);
        // The held points come first, unchanged.
        assert_eq!(
            held.blocks[0].points[..80],
            sample_points(&p, 0).unwrap().blocks[0].points[..]
        );
    }
}
