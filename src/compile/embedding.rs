//! The networks' input layer: a fixed map γ from the coordinates to the
//! features the first linear layer sees, and the jets of those features.
//!
//! γ passes some coordinates as they are and adds trigonometric features
//! `cos(ω_j·(x − c))`, `sin(ω_j·(x − c))` of fixed frequency vectors `ω_j`:
//! - a periodic coordinate `x ∈ [a, b]` under hard constraints gives
//!   `ω = 2πk/(b − a)·e_x`, `k = 1..K`, with `c_x = a`, so every function of the
//!   features is periodic in x with all its derivatives;
//! - `features = fourier(m, σ)` gives `ω_j = 2π B_j`, `B ∈ R^{m×d}` with entries
//!   `N(0, σ²)` over the coordinates that are not periodic, drawn from the
//!   file's `sample seed` (so B is fixed by the problem and re-derived, never
//!   stored).
//!
//! The argument is affine in x, so the jets are closed forms:
//! `D^α cos(ω·y) = ω^α cos^{(|α|)}(ω·y)` (likewise for sin, with
//! `cos^{(n)}` and `sin^{(n)}` cycling with period 4), and the Laplacian
//! channel is `−(Σ_{i spatial} ω_i²) cos(ω·y)`.

use crate::compile::jet::ChannelKind;
use crate::ir::Problem;
use burn::tensor::{backend::Backend, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::PI;

/// Mixed into the sample seed for the Fourier matrix B, so that its stream is
/// apart from the points' and the initialisation's.
const FOURIER_SEED_TAG: u64 = 0x4655_5249_4552_4246;

/// The fixed input map of the networks (the same for every network).
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    n_coords: usize,
    /// Coordinates passed as they are, in this order (first in the output).
    plain: Vec<usize>,
    /// Frequency vectors `ω_j` (each of length `n_coords`): the features
    /// `cos(ω_j·(x − c))` for every j, then `sin(ω_j·(x − c))` for every j.
    omegas: Vec<Vec<f64>>,
    /// The origin `c` the trigonometric features are measured from.
    origin: Vec<f64>,
}

impl Embedding {
    /// The coordinates as they are.
    pub fn identity(n_coords: usize) -> Self {
        Embedding {
            n_coords,
            plain: (0..n_coords).collect(),
            omegas: Vec::new(),
            origin: vec![0.0; n_coords],
        }
    }

    /// The map the problem's model asks for ([`Problem::plain_inputs`],
    /// [`Problem::embedded_periodic`] with `harmonics`, `features`).
    pub fn new(problem: &Problem) -> Self {
        let n_coords = problem.coords.len();
        let mut origin = vec![0.0; n_coords];
        let mut omegas = Vec::new();
        for &c in problem.embedded_periodic() {
            let coord = &problem.coords[c];
            origin[c] = coord.lo;
            for k in 1..=problem.model.harmonics {
                let mut omega = vec![0.0; n_coords];
                omega[c] = 2.0 * PI * k as f64 / (coord.hi - coord.lo);
                omegas.push(omega);
            }
        }
        if let Some(features) = problem.model.features {
            let over = problem.fourier_inputs();
            let mut rng = ChaCha8Rng::seed_from_u64(problem.sample.seed ^ FOURIER_SEED_TAG);
            for _ in 0..features.count {
                let mut omega = vec![0.0; n_coords];
                for &i in &over {
                    omega[i] = 2.0 * PI * features.sigma * standard_normal(&mut rng);
                }
                omegas.push(omega);
            }
        }
        Embedding {
            n_coords,
            plain: problem.plain_inputs(),
            omegas,
            origin,
        }
    }

    /// The same map for a network of the coordinates `coords` only (ascending
    /// indices): its plain inputs and the frequency vectors restricted to them,
    /// dropping features that would be constant. Its points have one column per
    /// entry of `coords`.
    pub fn restrict(&self, coords: &[usize]) -> Self {
        let plain: Vec<usize> = (0..coords.len())
            .filter(|&j| self.plain.contains(&coords[j]))
            .collect();
        let omegas: Vec<Vec<f64>> = self
            .omegas
            .iter()
            .map(|omega| coords.iter().map(|&i| omega[i]).collect::<Vec<f64>>())
            .filter(|omega| omega.iter().any(|&w| w != 0.0))
            .collect();
        let origin = coords.iter().map(|&i| self.origin[i]).collect();
        if plain.is_empty() && omegas.is_empty() {
            return Embedding::identity(coords.len());
        }
        Embedding {
            n_coords: coords.len(),
            plain,
            omegas,
            origin,
        }
    }

    /// Number of features the first layer sees.
    pub fn width(&self) -> usize {
        self.plain.len() + 2 * self.omegas.len()
    }

    /// True when the features are the coordinates themselves.
    pub fn is_identity(&self) -> bool {
        self.omegas.is_empty() && self.plain.len() == self.n_coords
    }

    /// The frequency vectors `ω_j` of the trigonometric features.
    pub fn frequencies(&self) -> &[Vec<f64>] {
        &self.omegas
    }

    /// γ(x) of one point (length [`Self::width`]), on the host.
    pub fn apply(&self, point: &[f64]) -> Vec<f64> {
        let args: Vec<f64> = self
            .omegas
            .iter()
            .map(|omega| {
                (0..self.n_coords)
                    .map(|i| omega[i] * (point[i] - self.origin[i]))
                    .sum()
            })
            .collect();
        self.plain
            .iter()
            .map(|&i| point[i])
            .chain(args.iter().map(|a| a.cos()))
            .chain(args.iter().map(|a| a.sin()))
            .collect()
    }

    /// The jets of the features for every channel of a plan: `γ(x)` for the
    /// value, `D^α γ(x)` for a partial, `Δγ(x)` over `spatial` for the Laplacian.
    ///
    /// # Shapes
    /// - `x`: `[M, n_coords]`; each channel `[M, width]`
    pub fn channels<B: Backend>(
        &self,
        kinds: &[ChannelKind],
        spatial: &[usize],
        x: &Tensor<B, 2>,
    ) -> Vec<Tensor<B, 2>> {
        let [m, d] = x.dims();
        let device = x.device();
        // From f64 data: `from_floats` would round through f32.
        let row = |values: Vec<f64>| {
            let n = values.len();
            Tensor::<B, 2>::from_data(TensorData::new(values, [1, n]), &device)
        };
        let n_trig = self.omegas.len();
        // cos and sin of the arguments (x − c) Ωᵀ, [M, n_trig] each.
        let trig = (n_trig > 0).then(|| {
            let centred = x.clone().sub(row(self.origin.clone()));
            let omega_t: Tensor<B, 2> =
                Tensor::from_data(TensorData::new(self.omegas.concat(), [n_trig, d]), &device)
                    .transpose();
            let args = centred.matmul(omega_t);
            (args.clone().cos(), args.sin())
        });
        let plain_value = || -> Option<Tensor<B, 2>> {
            if self.plain.is_empty() {
                return None;
            }
            if self.plain.len() == d {
                return Some(x.clone());
            }
            Some(Tensor::cat(
                self.plain
                    .iter()
                    .map(|&i| x.clone().slice([0..m, i..i + 1]))
                    .collect(),
                1,
            ))
        };
        kinds
            .iter()
            .map(|kind| {
                let mut pieces: Vec<Tensor<B, 2>> = Vec::with_capacity(3);
                // The plain coordinates: x, e_i, or zero.
                let order = match kind {
                    ChannelKind::Partial(alpha) => alpha.iter().map(|&a| a as usize).sum(),
                    ChannelKind::Laplacian => 2,
                };
                if !self.plain.is_empty() {
                    pieces.push(match (kind, order) {
                        (_, 0) => plain_value().expect("plain inputs"),
                        (ChannelKind::Partial(alpha), 1) => {
                            let i = alpha.iter().position(|&a| a == 1).unwrap_or(0);
                            let unit: Vec<f64> = self
                                .plain
                                .iter()
                                .map(|&p| if p == i { 1.0 } else { 0.0 })
                                .collect();
                            row(unit).expand([m, self.plain.len()])
                        }
                        _ => Tensor::zeros([m, self.plain.len()], &device),
                    });
                }
                if let Some((cos, sin)) = &trig {
                    // Per feature the factor ω^α (or −Σ ω_i² for the Laplacian)
                    // and the derivative of cos / sin it multiplies.
                    let (factor, n): (Vec<f64>, usize) = match kind {
                        ChannelKind::Partial(alpha) => (
                            self.omegas
                                .iter()
                                .map(|omega| {
                                    alpha
                                        .iter()
                                        .zip(omega)
                                        .map(|(&a, &w)| w.powi(i32::from(a)))
                                        .product()
                                })
                                .collect(),
                            order,
                        ),
                        ChannelKind::Laplacian => (
                            self.omegas
                                .iter()
                                .map(|omega| spatial.iter().map(|&i| omega[i] * omega[i]).sum())
                                .collect(),
                            2,
                        ),
                    };
                    let factor = row(factor);
                    // cos^{(n)} = cos, −sin, −cos, sin; sin^{(n)} = sin, cos, −sin, −cos.
                    let (dcos, dsin) = match n % 4 {
                        0 => (cos.clone(), sin.clone()),
                        1 => (sin.clone().neg(), cos.clone()),
                        2 => (cos.clone().neg(), sin.clone().neg()),
                        _ => (sin.clone(), cos.clone().neg()),
                    };
                    pieces.push(dcos.mul(factor.clone()));
                    pieces.push(dsin.mul(factor));
                }
                if pieces.len() == 1 {
                    pieces.pop().expect("one piece")
                } else {
                    Tensor::cat(pieces, 1)
                }
            })
            .collect()
    }
}

/// One draw of N(0, 1) (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // u1 in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{FourierFeatures, Problem};
    use burn_ndarray::NdArray;

    type Be = NdArray<f64>;

    fn problem(source: &str) -> Problem {
        let (problem, diags) = crate::check_source(source, std::path::Path::new("."));
        problem.unwrap_or_else(|| panic!("{diags:?}"))
    }

    const PERIODIC: &str = "time t in [0, 1]\nspace x in [-1, 2]\nfield u\nperiodic x\n\
                            dt(u) + dx(u) = 0 on interior\n";

    #[test]
    fn periodic_harmonics_and_their_values() {
        let p = problem(&format!("{PERIODIC}model mlp(harmonics = 2)\n"));
        let e = Embedding::new(&p);
        assert_eq!(e.width(), 1 + 4);
        assert_eq!(e.width(), p.n_network_inputs());
        let w = 2.0 * PI / 3.0;
        let got = e.apply(&[0.25, 0.5]);
        let y = 0.5 + 1.0;
        let want = [
            0.25,
            (w * y).cos(),
            (2.0 * w * y).cos(),
            (w * y).sin(),
            (2.0 * w * y).sin(),
        ];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-15, "{got:?} vs {want:?}");
        }
        // x = a and x = b give the same features.
        let (lo, hi) = (e.apply(&[0.3, -1.0]), e.apply(&[0.3, 2.0]));
        for (a, b) in lo.iter().zip(&hi) {
            assert!((a - b).abs() < 1e-14);
        }
        let soft = problem(&format!("{PERIODIC}model mlp(constraints = soft)\n"));
        assert!(Embedding::new(&soft).is_identity());
    }

    /// B is seeded by the file's sample seed, has N(0, σ²) entries over the
    /// coordinates that are not periodic, and is zero on the periodic one.
    #[test]
    fn fourier_matrix_is_seeded_and_scaled() {
        let source = |seed: u64| {
            format!("{PERIODIC}model mlp(features = fourier(2000, 0.5))\nsample seed = {seed}\n")
        };
        let (a, b, c) = (
            Embedding::new(&problem(&source(0))),
            Embedding::new(&problem(&source(0))),
            Embedding::new(&problem(&source(1))),
        );
        assert_eq!(a, b);
        assert_ne!(a.frequencies(), c.frequencies());
        let fourier = &a.frequencies()[1..];
        assert_eq!(fourier.len(), 2000);
        assert!(fourier.iter().all(|w| w[1] == 0.0));
        let entries: Vec<f64> = fourier.iter().map(|w| w[0] / (2.0 * PI)).collect();
        let n = entries.len() as f64;
        let mean = entries.iter().sum::<f64>() / n;
        let std = (entries.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        // Standard errors: 0.5/sqrt(2000) ≈ 0.011 for the mean, ≈ 0.008 for the std.
        assert!(mean.abs() < 0.05, "{mean}");
        assert!((std - 0.5).abs() < 0.04, "{std}");
        assert_eq!(
            problem(&source(0)).model.features,
            Some(FourierFeatures {
                count: 2000,
                sigma: 0.5
            })
        );
    }

    /// The value channel on the device agrees with the host map.
    #[test]
    fn device_value_matches_host() {
        let p = problem(&format!(
            "{PERIODIC}model mlp(harmonics = 3, features = fourier(4, 1.5))\n"
        ));
        let e = Embedding::new(&p);
        let pts = [0.1, -0.4, 0.7, 1.9, 0.5, 0.0];
        let x =
            Tensor::<Be, 2>::from_data(TensorData::new(pts.to_vec(), [3, 2]), &Default::default());
        let value = e.channels(&[ChannelKind::Partial(vec![0, 0])], &[1], &x);
        let got = value[0].clone().into_data().to_vec::<f64>().unwrap();
        for i in 0..3 {
            let want = e.apply(&pts[2 * i..2 * i + 2]);
            for (g, w) in got[i * e.width()..(i + 1) * e.width()].iter().zip(&want) {
                assert!((g - w).abs() < 1e-14);
            }
        }
    }
}
