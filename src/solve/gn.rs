//! GN: matrix-free Gauss–Newton, globalized by the Levenberg–Marquardt trust region.
//!
//! Each step solves `(JᵀJ + λI) d = Jᵀr` (primal, P×P) or `(JJᵀ + λI) y = r, d = Jᵀy`
//! (dual, N×N) — the smaller side by shape — by conjugate gradients preconditioned with a
//! randomized Nyström approximation of rank `sketch` ([`super::nystrom`]), using only
//! products with the stored J. The damping `λ` is the trust region's
//! ([`super::trust_region`]): `λ₀ = τ·max diag(JᵀJ)`, never 0; a trial `θ − d` is
//! accepted when the gain ratio of actual to predicted decrease exceeds `ρ_min`, and
//! Nielsen's rule moves `λ`. A rejected trial reuses J and r: only the solve is repeated.
//! One trial evaluation per attempt, no line search.

use super::driver::SolveConfig;
use super::jacobian_ops::JacobianRef;
use super::linalg;
use super::natural::{first_non_finite_row, NonFiniteStreak};
use super::nystrom::{GaussNewtonConfig, GaussNewtonSystem};
use super::optimizer::{
    checked_residual_and_jacobian, half_squared_norm, Method, Optimizer, StepOutcome,
};
use super::options::{self, ConfigScalar, OptionSpec};
use super::report::{NonFiniteSource, SolveError};
use super::state::SolverState;
use super::trust_region::{gain_ratio, predicted_reduction, TrustRegion, TrustRegionConfig};
use super::LeastSquares;
use faer::Par;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// GN settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GnConfig {
    /// The trust region (`tau`, `rho_min`, bounds of `λ`).
    pub trust_region: TrustRegionConfig,
    /// Initial (and smallest) rank of the Nyström preconditioner; default 100 (0: plain
    /// CG). The rank adapts from step to step ([`next_sketch_rank`]).
    pub sketch: usize,
    /// Largest rank the adaptive preconditioner grows to; default 2,000 (and never more
    /// than half the solved side's dimension).
    pub max_sketch: usize,
    /// Relative residual at which CG stops; default `1e-10`.
    pub cg_tolerance: f64,
    /// CG iteration cap per solve; default 500.
    pub cg_max_iterations: usize,
    /// Trials per step before it counts as rejected; default 20.
    pub max_trials: usize,
}

impl Default for GnConfig {
    fn default() -> Self {
        Self {
            trust_region: TrustRegionConfig::default(),
            sketch: 100,
            max_sketch: 2000,
            cg_tolerance: 1e-10,
            cg_max_iterations: 500,
            max_trials: 20,
        }
    }
}

/// GN's state between iterations.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GnState {
    /// The trust region (`λ`, `ν`); `None` before the first step, which sets `λ₀` from J.
    pub trust_region: Option<TrustRegion>,
    /// The sketch RNG of the Nyström preconditioner.
    pub rng: Box<ChaCha8Rng>,
    /// The preconditioner's rank for the next step; `None` before the first step (then
    /// `sketch`). Checkpoints written before the rank adapted read as `None`.
    #[serde(default)]
    pub sketch_rank: Option<usize>,
}

/// The preconditioner's rank for the next step, from the rank `s` of this one and the
/// CG iterations `k` of its last solve: doubled (up to `max`) when `k > s/8`, halved
/// (down to `min`) when `k < s/128`, else kept.
///
/// The rule balances the two costs of a step on the stored J. A product `J v` or `Jᵀw`
/// streams J from memory (bandwidth-bound), while the sketch `Jᵀ(JΩ)` multiplies s
/// columns at once (compute-bound): at ≈ 10 GB/s and ≈ 40 GFlop/s a rank-s sketch costs
/// about as much as s/16 CG iterations. `k > s/8` means CG costs at least twice the
/// sketch, so a richer preconditioner (fewer, cheaper iterations) pays; `k < s/128`
/// means the sketch costs eight times CG, so a smaller one does. The gap between the
/// two thresholds keeps the rank from flipping between neighbours: measured on
/// Kovasznay, halving at `k < s/64` alternated 200 and 400 (31 and 5 iterations).
pub fn next_sketch_rank(s: usize, k: usize, min: usize, max: usize) -> usize {
    let next = if k.saturating_mul(8) > s {
        s.saturating_mul(2)
    } else if k.saturating_mul(128) < s {
        s / 2
    } else {
        s
    };
    next.clamp(min.min(max), max)
}

/// GN as an optimizer.
#[derive(Debug)]
pub struct Gn {
    config: GnConfig,
    state: GnState,
    par: Par,
    non_finite: NonFiniteStreak,
}

impl Gn {
    /// A step rejected for a non-finite value at θ (θ untouched; the trust region
    /// shrinks), or the error once the streak reaches its limit.
    fn reject_non_finite(
        &mut self,
        loss: f64,
        fault: (NonFiniteSource, Option<usize>, Option<usize>),
    ) -> Result<StepOutcome, SolveError> {
        if let Some(region) = self.state.trust_region.as_mut() {
            region.reject();
        }
        let damping = self.state.trust_region.map(|r| r.lambda);
        self.non_finite.reject(loss, damping, fault)
    }
}

impl Optimizer for Gn {
    fn name(&self) -> &'static str {
        GnConfig::NAME
    }

    fn step(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError> {
        let (n_rows, n_params) = (problem.n_residuals(), problem.n_params());
        let (residual, jacobian) = checked_residual_and_jacobian(problem, theta)?;
        let loss0 = half_squared_norm(&residual);
        if let Some((what, row)) = first_non_finite_row(&residual, &jacobian, n_params) {
            let block = problem.locate_row(row);
            return self.reject_non_finite(loss0, (what, Some(row), block));
        }
        let j = JacobianRef::new(&jacobian, n_rows, n_params);
        let par = self.par;
        let region = self.state.trust_region.get_or_insert_with(|| {
            let largest = j.gram_diagonal().into_iter().fold(0.0, f64::max);
            TrustRegion::new(self.config.trust_region, largest)
        });
        let gradient = j.apply_transpose(&residual, par);
        let side_dim = n_rows.min(n_params);
        let max_rank = self.config.max_sketch.min(side_dim / 2);
        let sketch_rank = self
            .state
            .sketch_rank
            .unwrap_or(self.config.sketch)
            .min(max_rank);
        let solve = GaussNewtonConfig {
            sketch_rank,
            cg: super::pcg::CgConfig {
                relative_tolerance: self.config.cg_tolerance,
                max_iterations: self.config.cg_max_iterations,
            },
            ..GaussNewtonConfig::default()
        };
        // One sketch per step: the trials differ only in λ.
        let system =
            GaussNewtonSystem::new(j, &residual, &solve, self.state.rng.as_mut(), par).ok();
        let mut retries = 0;
        let mut loss_here = loss0;
        let mut rank = None;
        let mut cg_iterations = 0;
        let mut last_cg = 0;
        let used_rank = system.as_ref().map_or(0, GaussNewtonSystem::sketch_rank);
        let min_rank = self.config.sketch;
        let next_rank = move |last_cg: usize| {
            (min_rank > 0 && used_rank > 0)
                .then(|| next_sketch_rank(used_rank, last_cg, min_rank, max_rank.max(1)))
        };
        for _ in 0..self.config.max_trials.max(1) {
            let lambda = region.lambda;
            let Some(system) = system.as_ref() else {
                region.reject();
                retries += 1;
                break;
            };
            let step = system.solve(lambda);
            rank = Some(step.sketch_rank);
            cg_iterations += step.cg.iterations;
            last_cg = step.cg.iterations;
            let d = step.direction;
            if d.iter().any(|v| !v.is_finite()) {
                region.reject();
                retries += 1;
                continue;
            }
            let jd = j.apply(&d, par);
            let predicted = predicted_reduction(&gradient, &d, &jd);
            let trial: Vec<f64> = theta.iter().zip(&d).map(|(t, di)| t - di).collect();
            // θ rides along so both losses come from the same code path.
            let losses = problem.losses(&[trial, theta.to_vec()]);
            let (trial_loss, base_loss) = (losses[0], losses[1]);
            if base_loss.is_finite() {
                loss_here = base_loss;
            }
            let rho = gain_ratio(loss_here - trial_loss, predicted);
            if region.update(rho) && trial_loss.is_finite() {
                for (t, di) in theta.iter_mut().zip(&d) {
                    *t -= di;
                }
                self.non_finite.reset();
                if let Some(next) = next_rank(last_cg) {
                    self.state.sketch_rank = Some(next);
                }
                return Ok(StepOutcome {
                    loss: trial_loss,
                    step_size: 1.0,
                    damping: Some(lambda),
                    rank,
                    retries,
                    accepted: true,
                    cg_iterations: Some(cg_iterations),
                });
            }
            retries += 1;
            if region.exhausted() {
                break;
            }
        }
        self.non_finite.reset();
        if let Some(next) = next_rank(last_cg) {
            self.state.sketch_rank = Some(next);
        }
        Ok(StepOutcome {
            loss: loss_here,
            step_size: 0.0,
            damping: Some(region.lambda),
            rank,
            retries,
            accepted: false,
            cg_iterations: Some(cg_iterations),
        })
    }

    fn state(&self) -> SolverState {
        SolverState::new(GnConfig::NAME, &self.state)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Method for GnConfig {
    const NAME: &'static str = "gn";
    const OPTIONS: &'static [OptionSpec] = &[
        OptionSpec {
            key: "tau",
            value: "NUMBER",
            default: "1e-3",
            help: "initial damping λ₀ = τ·max diag(JᵀJ) of the trust region",
        },
        OptionSpec {
            key: "preconditioner_rank",
            value: "COUNT",
            default: "100",
            help: "initial and smallest rank of the adaptive Nyström preconditioner",
        },
        OptionSpec {
            key: "max_preconditioner_rank",
            value: "COUNT",
            default: "2000",
            help: "largest rank the Nyström preconditioner grows to",
        },
        OptionSpec {
            key: "cg_tolerance",
            value: "NUMBER",
            default: "1e-10",
            help: "relative residual at which CG stops",
        },
    ];
    const LINE_SEARCH: bool = false;

    fn set_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String> {
        match key {
            "tau" => self.trust_region.tau = options::positive(value)?,
            "preconditioner_rank" => self.sketch = options::count(value)?,
            "max_preconditioner_rank" => self.max_sketch = options::count(value)?,
            "cg_tolerance" => self.cg_tolerance = options::positive(value)?,
            _ => return Err("unknown option".to_string()),
        }
        Ok(())
    }

    fn build(
        &self,
        config: &SolveConfig,
        state: Option<&SolverState>,
    ) -> Result<Box<dyn Optimizer>, SolveError> {
        let state = match state {
            Some(saved) => saved.decode(Self::NAME)?,
            None => GnState {
                trust_region: None,
                rng: Box::new(ChaCha8Rng::seed_from_u64(config.seed)),
                sketch_rank: None,
            },
        };
        Ok(Box::new(Gn {
            config: self.clone(),
            state,
            par: linalg::parallelism(config.threads),
            non_finite: NonFiniteStreak::new(config),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::mgh;
    use crate::solve::test_problems::TanhNetwork;
    use crate::solve::{solve, OptimizerConfig};
    use std::ops::ControlFlow;

    fn config(iterations: usize) -> SolveConfig {
        SolveConfig {
            optimizer: OptimizerConfig::Gn(GnConfig::default()),
            max_iterations: iterations,
            threads: 1,
            max_consecutive_rejections: 10,
            ..SolveConfig::default()
        }
    }

    #[test]
    fn gn_solves_classic_least_squares_problems_to_their_minima() {
        for problem in [
            mgh::ROSENBROCK,
            mgh::HELICAL_VALLEY,
            mgh::BOX_3D,
            mgh::BEALE,
        ] {
            let mut p = problem;
            let mut theta = p.start.to_vec();
            let report = solve(&mut p, &mut theta, &config(200), |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap();
            assert!(
                report.final_loss < 1e-20,
                "{}: loss {} after {} iterations",
                p.name,
                report.final_loss,
                report.iterations
            );
        }
    }

    #[test]
    fn gn_fits_a_realizable_network_and_never_increases_the_loss() {
        // Every accepted step decreases the loss (the gain ratio is positive), and the
        // loss falls by orders of magnitude on this zero-residual problem. (ENGD, SNGD
        // and ANaGRAM reach 1e-12 within 300 iterations here; GN's damping falls more
        // slowly under Nielsen's rule: 1.3e-12 after 300, see docs/optimizers.md.)
        let (mut net, theta0) = TanhNetwork::realizable(3, 8, 60, 2);
        let initial = crate::solve::test_problems::loss_of(&mut net, &theta0);
        let mut theta = theta0.clone();
        let report = solve(&mut net, &mut theta, &config(300), |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let losses: Vec<f64> = report.history.iter().map(|r| r.loss).collect();
        assert!(losses.windows(2).all(|w| w[1] <= w[0]), "{losses:?}");
        assert!(losses[0] < initial);
        assert!(
            report.final_loss < 1e-6 * initial,
            "loss {} from {initial}",
            report.final_loss
        );
        // The damping never was 0: the trust region starts on the scale of JᵀJ.
        assert!(report.history.iter().all(|r| r.damping.unwrap() > 0.0));
    }

    #[test]
    fn the_sketch_rank_doubles_when_cg_dominates_and_halves_when_the_sketch_does() {
        // s = 100: doubled above 12 iterations (k/s > 1/8), halved below 1 (k/s < 1/128).
        assert_eq!(next_sketch_rank(100, 13, 50, 1000), 200);
        assert_eq!(next_sketch_rank(100, 12, 50, 1000), 100);
        assert_eq!(next_sketch_rank(100, 1, 50, 1000), 100);
        assert_eq!(next_sketch_rank(400, 3, 50, 1000), 200);
        assert_eq!(next_sketch_rank(400, 4, 50, 1000), 400);
        // Clamped to [min, max]; min above max gives max.
        assert_eq!(next_sketch_rank(800, 500, 50, 1000), 1000);
        assert_eq!(next_sketch_rank(100, 0, 100, 1000), 100);
        assert_eq!(next_sketch_rank(100, 0, 500, 60), 60);
    }

    #[test]
    fn the_adaptive_preconditioner_grows_and_cuts_the_cg_work() {
        // A weak initial preconditioner (rank 4 for P = 121): held fixed, CG does real
        // work every step; adaptive, the rank grows and the total CG work falls, with
        // the same final loss to within the trust region's path differences.
        let run = |max_sketch: usize| {
            let (mut net, mut theta) = TanhNetwork::realizable(3, 40, 200, 5);
            let config = SolveConfig {
                optimizer: OptimizerConfig::Gn(GnConfig {
                    sketch: 4,
                    max_sketch,
                    ..GnConfig::default()
                }),
                ..config(40)
            };
            solve(&mut net, &mut theta, &config, |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap()
        };
        let fixed = run(4);
        let adaptive = run(1000);
        let total = |r: &crate::solve::SolveReport| -> usize {
            r.history.iter().map(|h| h.cg_iterations.unwrap()).sum()
        };
        assert!(fixed.history.iter().all(|h| h.rank == Some(4)));
        let largest = adaptive
            .history
            .iter()
            .filter_map(|h| h.rank)
            .max()
            .unwrap();
        // Half of the solved side (P = 121) caps the rank.
        assert!(largest > 4 && largest <= 60, "largest rank {largest}");
        assert!(
            2 * total(&adaptive) < total(&fixed),
            "CG iterations: adaptive {} against fixed {}",
            total(&adaptive),
            total(&fixed)
        );
        assert!(adaptive.final_loss < 1e-3 * fixed.history[0].loss);
    }

    #[test]
    fn every_record_counts_the_cg_iterations_of_all_its_trials() {
        // A weak preconditioner (rank 4 for P = 121) leaves CG real work to do.
        let run = |cg_max_iterations: usize| {
            let (mut net, mut theta) = TanhNetwork::realizable(3, 40, 200, 5);
            let config = SolveConfig {
                optimizer: OptimizerConfig::Gn(GnConfig {
                    sketch: 4,
                    max_sketch: 4,
                    cg_max_iterations,
                    ..GnConfig::default()
                }),
                ..config(40)
            };
            solve(&mut net, &mut theta, &config, |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap()
            .history
        };
        // Capped at one iteration, each trial (the first and every retry) counts one.
        let capped = run(1);
        for r in &capped {
            assert_eq!(r.cg_iterations, Some(r.retries + 1), "{r:?}");
        }
        // Uncapped, a trial takes between 1 and the cap; the counts vary, and some step
        // needs many (a count of trials, or of the first iteration only, fails this).
        let cap = GnConfig::default().cg_max_iterations;
        let full = run(cap);
        for r in &full {
            let k = r.cg_iterations.unwrap();
            assert!(k > r.retries && k <= (r.retries + 1) * cap, "{r:?}");
        }
        let most = full.iter().map(|r| r.cg_iterations.unwrap()).max().unwrap();
        assert!(most >= 10, "at most {most} CG iterations in a step");
    }
}
