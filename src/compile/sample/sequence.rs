//! The numbers in `[0, 1)` that every sampler turns into points: a ChaCha8
//! stream (uniform) or a shifted Halton sequence, and the seed mixing that
//! gives every block, the test set, the held-out set and the pilot draws a
//! stream of their own.

use crate::ir::Sampler;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Stream tags mixed into the seed, one per use, so the streams never coincide.
pub(super) const TAG_BLOCK: u64 = 0x626c_6f63_6b00_0001;
pub(super) const TAG_TEST: u64 = 0x7465_7374_0000_0002;
pub(super) const TAG_PILOT: u64 = 0x7069_6c6f_7400_0003;
pub(super) const TAG_HELDOUT: u64 = 0x6865_6c64_0000_0004;
pub(super) const TAG_ADAPTIVE: u64 = 0x6164_6170_7400_0005;
pub(super) const TAG_ADAPTIVE_PICK: u64 = 0x7069_636b_0000_0006;
/// The pilot draws that measure what a `where` condition keeps of each boundary part.
pub(super) const TAG_WHERE: u64 = 0x7768_6572_6500_0007;

/// The `i`-th element of the van der Corput sequence in `base` (`i` read
/// backwards in that base after the radix point), in `[0, 1)`.
pub fn radical_inverse(index: u64, base: u64) -> f64 {
    // Reversed digits as one integer over base^k: a single rounding, so the
    // first base^k points fall exactly one in each cell of width base^-k.
    let (mut rest, base) = (index as u128, base as u128);
    let (mut reversed, mut denominator) = (0u128, 1u128);
    while rest > 0 {
        reversed = reversed * base + rest % base;
        denominator *= base;
        rest /= base;
    }
    reversed as f64 / denominator as f64
}

/// The first `count` primes (the Halton bases).
pub(super) fn first_primes(count: usize) -> Vec<u64> {
    let mut primes: Vec<u64> = Vec::with_capacity(count);
    let mut candidate = 2u64;
    while primes.len() < count {
        if primes
            .iter()
            .take_while(|&&p| p * p <= candidate)
            .all(|&p| !candidate.is_multiple_of(p))
        {
            primes.push(candidate);
        }
        candidate += 1;
    }
    primes
}

/// SplitMix64 finalizer applied to `a ^ rotate(b)`: a cheap, well-mixed
/// combination of seeds.
pub(super) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.rotate_left(29).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Numbers in `[0, 1)`, one batch of fixed length per draw.
pub(super) enum UnitSource {
    Random(Box<ChaCha8Rng>),
    Halton {
        index: u64,
        bases: Vec<u64>,
        shift: Vec<f64>,
    },
}

impl UnitSource {
    /// `Grid` has no per-draw source; regions that cannot be gridded use Halton.
    pub(super) fn new(sampler: Sampler, dims: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        match sampler {
            Sampler::Uniform => UnitSource::Random(Box::new(rng)),
            Sampler::Halton | Sampler::Grid => UnitSource::Halton {
                index: 0,
                bases: first_primes(dims),
                shift: (0..dims).map(|_| rng.random::<f64>()).collect(),
            },
        }
    }

    pub(super) fn fill(&mut self, out: &mut [f64]) {
        match self {
            UnitSource::Random(rng) => out.iter_mut().for_each(|u| *u = rng.random::<f64>()),
            UnitSource::Halton {
                index,
                bases,
                shift,
            } => {
                for ((u, &base), &s) in out.iter_mut().zip(bases.iter()).zip(shift.iter()) {
                    let shifted = radical_inverse(*index, base) + s;
                    *u = if shifted >= 1.0 {
                        shifted - 1.0
                    } else {
                        shifted
                    };
                }
                *index += 1;
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Region, Sampler};

    #[test]
    fn radical_inverse_fills_dyadic_cells_once() {
        for k in 0..10 {
            let cells = 1usize << k;
            let mut hit = vec![0; cells];
            for i in 0..cells as u64 {
                hit[(radical_inverse(i, 2) * cells as f64) as usize] += 1;
            }
            assert!(hit.iter().all(|&h| h == 1), "k = {k}");
        }
        // Base 3: the first 9 points fill the 9 cells of width 1/9.
        let mut hit = [0; 9];
        for i in 0..9 {
            hit[(radical_inverse(i, 3) * 9.0) as usize] += 1;
        }
        assert_eq!(hit, [1; 9]);
        assert_eq!(first_primes(6), vec![2, 3, 5, 7, 11, 13]);
    }

    /// Largest deviation between the share of points in [0, a) × [0, b) and ab.
    fn local_discrepancy(points: &[f64]) -> f64 {
        let n = points.len() / 2;
        let mut worst: f64 = 0.0;
        for i in 1..=16 {
            for j in 1..=16 {
                let (a, b) = (i as f64 / 16.0, j as f64 / 16.0);
                let inside = rows(points, 2)
                    .iter()
                    .filter(|x| x[0] < a && x[1] < b)
                    .count();
                worst = worst.max((inside as f64 / n as f64 - a * b).abs());
            }
        }
        worst
    }

    #[test]
    fn halton_points_are_low_discrepancy() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 1.0),
            ("y", CoordKind::Space, 0.0, 1.0),
        ];
        let mut p = problem(&coords, Vec::new(), vec![Region::Interior], config(1024, 0));
        p.sample.sampler = Sampler::Halton;
        for seed in 0..3 {
            let halton = local_discrepancy(&sample_points(&p, seed).unwrap().blocks[0].points);
            // Random points deviate by ~1/sqrt(n) ≈ 0.03; Halton by ~log²n / n.
            assert!(halton < 0.008, "seed {seed}: {halton}");
        }
        p.sample.sampler = Sampler::Uniform;
        let random = local_discrepancy(&sample_points(&p, 0).unwrap().blocks[0].points);
        assert!(
            random > 0.008,
            "uniform sample unexpectedly regular: {random}"
        );
    }
}
