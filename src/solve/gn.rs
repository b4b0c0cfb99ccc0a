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
use super::jacobian_ops::{JacobianOperator, JacobianRef};
use super::linalg;
use super::natural::{first_non_finite_row, NonFiniteStreak};
use super::nystrom::{GaussNewtonConfig, GaussNewtonSystem, NystromApproximation};
use super::optimizer::{
    checked_residual_and_jacobian, half_squared_norm, Method, Optimizer, StepOutcome,
};
use super::options::{self, ConfigScalar, OptionSpec};
use super::pcg::CgStop;
use super::report::{NonFiniteSource, SolveError};
use super::state::SolverState;
use super::streamed::{default_memory_budget, StreamLayout, StreamedJacobian};
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
    /// Relative residual at which CG stops; default `1e-10`. With `cg_forcing` it is
    /// the floor of the forcing term.
    pub cg_tolerance: f64,
    /// The CG forcing term's ceiling `η_max` ([`cg_forcing_tolerance`]); `0` turns the
    /// forcing off (CG always solves to `cg_tolerance`). Default 0.
    pub cg_forcing: f64,
    /// CG iteration cap per solve; default 500.
    pub cg_max_iterations: usize,
    /// Trials per step before it counts as rejected; default 20.
    pub max_trials: usize,
    /// Most steps one Nyström sketch serves; default 1 (a fresh sketch every step: on
    /// Kovasznay a kept sketch needed more CG iterations than a new one costs).
    /// A sketch is also redrawn when its rank changes and when CG on it would cost more
    /// than a fresh one ([`stale_cap`]).
    pub sketch_reuse: usize,
    /// Memory budget of the Jacobian in MB (10⁶ bytes); `None` (the default): half of
    /// the machine's memory ([`default_memory_budget`]). A J of more than the budget
    /// is streamed: half the budget holds its first rows, the others are recomputed
    /// in blocks at every product ([`super::streamed`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_budget: Option<f64>,
}

impl GnConfig {
    /// The Jacobian's memory budget in bytes.
    pub fn memory_budget_bytes(&self) -> f64 {
        self.memory_budget
            .map_or_else(default_memory_budget, |mb| mb * 1e6)
    }
}

impl Default for GnConfig {
    fn default() -> Self {
        Self {
            trust_region: TrustRegionConfig::default(),
            sketch: 100,
            max_sketch: 2000,
            cg_tolerance: 1e-10,
            cg_forcing: 0.0,
            cg_max_iterations: 500,
            max_trials: 20,
            sketch_reuse: 1,
            memory_budget: None,
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
    /// `‖Jᵀr‖` at the first step, the reference of the CG forcing term
    /// ([`cg_forcing_tolerance`]); `None` before it (and in older checkpoints, which then
    /// take the next step's).
    #[serde(default)]
    pub initial_gradient_norm: Option<f64>,
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

/// The relative CG tolerance of a step: `η = min(η_max, ‖g‖/‖g₀‖)`, at least `floor`,
/// with `g = Jᵀr` now and `g₀` at the first step (an inexact Newton forcing term in the
/// spirit of Eisenstat & Walker 1996: loose while far from a minimum, tightening as the
/// gradient falls). `η_max = 0` (or a non-finite ratio) gives `floor`. The trust region
/// judges the step actually taken (its predicted decrease uses the inexact `d`), so an
/// inexact solve can cost a rejected trial but never a wrong acceptance.
pub fn cg_forcing_tolerance(floor: f64, eta_max: f64, gradient: f64, initial: f64) -> f64 {
    let ratio = gradient / initial;
    if eta_max > 0.0 && ratio.is_finite() {
        ratio.min(eta_max).max(floor)
    } else {
        floor
    }
}

/// The CG iterations a solve on a kept sketch of rank `s` may take when the solve on it
/// while it was fresh took `k_fresh`: `k_fresh` plus the price of a new sketch, about
/// `s/16` iterations under the cost model of [`next_sketch_rank`] (at least one). A solve
/// that needs more is stopped and the step draws a fresh sketch: a kept sketch never
/// costs a step more than about one sketch, and saves one when it holds. (Early in a
/// run, when J turns from step to step, a sketch of the previous J needed 60–1,000 CG
/// iterations on Kovasznay where a fresh one needed 1–6.)
pub fn stale_cap(s: usize, k_fresh: usize) -> usize {
    k_fresh + (s / 16).max(1)
}

/// A Nyström sketch kept for the next steps (not part of the checkpoint: a resumed run
/// draws a fresh one, so checkpoints wait until it has served, [`Optimizer::state_is_whole`]).
#[derive(Debug)]
struct KeptSketch {
    approximation: NystromApproximation,
    /// The rank it was asked for.
    rank: usize,
    /// Steps it has served.
    age: usize,
    /// CG iterations of the last solve on it while it was fresh.
    fresh_cg: usize,
}

/// GN as an optimizer.
#[derive(Debug)]
pub struct Gn {
    config: GnConfig,
    state: GnState,
    par: Par,
    non_finite: NonFiniteStreak,
    sketch: Option<KeptSketch>,
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
        let budget = self.config.memory_budget_bytes();
        if n_rows as f64 * n_params as f64 * 8.0 > budget {
            if let Some((residual, rows)) = problem.residual_and_jacobian_rows(theta) {
                for (what, got, expected) in [
                    ("residual", residual.len(), n_rows),
                    ("jacobian rows", rows.n_rows(), n_rows),
                    ("jacobian columns", rows.n_cols(), n_params),
                ] {
                    if got != expected {
                        return Err(SolveError::ShapeMismatch {
                            what,
                            got,
                            expected,
                        });
                    }
                }
                let layout = StreamLayout::for_budget(n_rows, n_params, budget);
                let j = StreamedJacobian::new(rows, layout);
                let loss0 = half_squared_norm(&residual);
                // The streamed rows are not checked here: a non-finite entry there makes
                // the direction non-finite, which rejects the trial.
                if let Some((what, row)) = first_non_finite_row(&residual, j.stored(), n_params) {
                    let block = problem.locate_row(row);
                    return self.reject_non_finite(loss0, (what, Some(row), block));
                }
                return self.step_on(problem, theta, &residual, &j);
            }
        }
        let (residual, jacobian) = checked_residual_and_jacobian(problem, theta)?;
        let loss0 = half_squared_norm(&residual);
        if let Some((what, row)) = first_non_finite_row(&residual, &jacobian, n_params) {
            let block = problem.locate_row(row);
            return self.reject_non_finite(loss0, (what, Some(row), block));
        }
        let j = JacobianRef::new(&jacobian, n_rows, n_params);
        self.step_on(problem, theta, &residual, &j)
    }

    fn state(&self) -> SolverState {
        SolverState::new(GnConfig::NAME, &self.state)
    }

    fn state_is_whole(&self) -> bool {
        // A kept sketch that has served its steps is dropped by the next one, as a
        // resumed run, which has none, does.
        self.non_finite.is_clear()
            && self
                .sketch
                .as_ref()
                .is_none_or(|kept| kept.age >= self.config.sketch_reuse)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Gn {
    /// One step on the residual `residual` and Jacobian `j` at θ (stored or streamed).
    fn step_on(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
        residual: &[f64],
        j: &dyn JacobianOperator,
    ) -> Result<StepOutcome, SolveError> {
        let (n_rows, n_params) = (j.n_rows(), j.n_cols());
        let loss0 = half_squared_norm(residual);
        let par = self.par;
        let region = self.state.trust_region.get_or_insert_with(|| {
            let largest = j.gram_diagonal().into_iter().fold(0.0, f64::max);
            TrustRegion::new(self.config.trust_region, largest)
        });
        let gradient = j.apply_transpose(residual, par);
        let gradient_norm = linalg::dot(&gradient, &gradient).sqrt();
        let initial_gradient_norm = *self
            .state
            .initial_gradient_norm
            .get_or_insert(gradient_norm);
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
                relative_tolerance: cg_forcing_tolerance(
                    self.config.cg_tolerance,
                    self.config.cg_forcing,
                    gradient_norm,
                    initial_gradient_norm,
                ),
                max_iterations: self.config.cg_max_iterations,
            },
            ..GaussNewtonConfig::default()
        };
        // One sketch per step (the trials differ only in λ), kept for later steps while
        // solves on it stay cheap.
        // A sketch of another size of system (points added by `adaptive = rar` change
        // N, and with it the dual form's side) cannot serve.
        let kept = self.sketch.take().filter(|kept| {
            kept.rank == sketch_rank
                && kept.age < self.config.sketch_reuse
                && kept.approximation.u.nrows() == side_dim
        });
        let (reuse, age, kept_cg) = match kept {
            Some(kept) => (Some(kept.approximation), kept.age, Some(kept.fresh_cg)),
            None => (None, 0, None),
        };
        let rng = self.state.rng.as_mut();
        let mut system =
            GaussNewtonSystem::with_gradient(j, residual, Some(&gradient), &solve, reuse, rng, par)
                .ok();
        let mut retries = 0;
        let mut loss_here = loss0;
        let mut rank = None;
        let mut cg_iterations = 0;
        // CG iterations of the last solve on a fresh sketch (the rank rule's input).
        let mut fresh_cg = None;
        let mut accepted = None;
        for _ in 0..self.config.max_trials.max(1) {
            let lambda = region.lambda;
            let Some(current) = system.as_ref() else {
                region.reject();
                retries += 1;
                break;
            };
            let mut step = match kept_cg.filter(|_| !current.is_fresh()) {
                // A kept sketch gets the CG iterations of its fresh solve plus the price
                // of a new sketch; failing that, the step draws one at once.
                Some(k0) => current.solve_within(lambda, stale_cap(sketch_rank, k0)),
                None => current.solve(lambda),
            };
            cg_iterations += step.cg.iterations;
            if !current.is_fresh() && step.cg.stop != CgStop::Converged {
                system = GaussNewtonSystem::with_gradient(
                    j,
                    residual,
                    Some(&gradient),
                    &solve,
                    None,
                    rng,
                    par,
                )
                .ok();
                let Some(fresh) = system.as_ref() else {
                    region.reject();
                    retries += 1;
                    break;
                };
                step = fresh.solve(lambda);
                cg_iterations += step.cg.iterations;
            }
            if system.as_ref().is_some_and(GaussNewtonSystem::is_fresh) {
                fresh_cg = Some(step.cg.iterations);
            }
            rank = Some(step.sketch_rank);
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
                accepted = Some((trial_loss, lambda));
                break;
            }
            retries += 1;
            if region.exhausted() {
                break;
            }
        }
        let damping = region.lambda;
        self.non_finite.reset();
        // The rank adapts on the CG work of fresh sketches (a change draws a fresh one
        // next step).
        let min_rank = self.config.sketch;
        let used_rank = system.as_ref().map_or(0, GaussNewtonSystem::sketch_rank);
        if let Some(k) = fresh_cg.filter(|_| min_rank > 0 && used_rank > 0) {
            self.state.sketch_rank =
                Some(next_sketch_rank(used_rank, k, min_rank, max_rank.max(1)));
        }
        let fresh = system.as_ref().is_some_and(GaussNewtonSystem::is_fresh);
        self.sketch = system
            .and_then(GaussNewtonSystem::into_approximation)
            .map(|approximation| KeptSketch {
                approximation,
                rank: sketch_rank,
                age: if fresh { 1 } else { age + 1 },
                fresh_cg: if fresh {
                    fresh_cg.unwrap_or(0)
                } else {
                    kept_cg.unwrap_or(0)
                },
            });
        Ok(match accepted {
            Some((loss, lambda)) => StepOutcome {
                loss,
                step_size: 1.0,
                damping: Some(lambda),
                rank,
                retries,
                accepted: true,
                cg_iterations: Some(cg_iterations),
                jacobian_passes: j.passes(),
            },
            None => StepOutcome {
                loss: loss_here,
                step_size: 0.0,
                damping: Some(damping),
                rank,
                retries,
                accepted: false,
                cg_iterations: Some(cg_iterations),
                jacobian_passes: j.passes(),
            },
        })
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
            key: "preconditioner_reuse",
            value: "COUNT",
            default: "1",
            help: "most steps one Nyström sketch serves (1: a fresh sketch every step)",
        },
        OptionSpec {
            key: "cg_tolerance",
            value: "NUMBER",
            default: "1e-10",
            help: "relative residual at which CG stops (the floor under cg_forcing)",
        },
        OptionSpec {
            key: "cg_forcing",
            value: "NUMBER|off",
            default: "off",
            help: "ceiling of the CG forcing term min(cg_forcing, ‖Jᵀr‖/‖Jᵀr₀‖)",
        },
        OptionSpec {
            key: "memory_budget",
            value: "MB|auto",
            default: "auto",
            help: "memory for J in MB (auto: half the machine's); a larger J is streamed in row blocks",
        },
    ];
    const LINE_SEARCH: bool = false;

    fn set_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String> {
        match key {
            "tau" => self.trust_region.tau = options::positive(value)?,
            "preconditioner_rank" => self.sketch = options::count(value)?,
            "max_preconditioner_rank" => self.max_sketch = options::count(value)?,
            "preconditioner_reuse" => self.sketch_reuse = options::count(value)?,
            "cg_tolerance" => self.cg_tolerance = options::positive(value)?,
            "cg_forcing" => {
                self.cg_forcing = match value {
                    ConfigScalar::Word(_) => {
                        options::word(value, &["off"])?;
                        0.0
                    }
                    ConfigScalar::Number(_) => {
                        let eta = options::positive(value)?;
                        if eta >= 1.0 {
                            return Err("expected `off` or a number below 1".to_string());
                        }
                        eta
                    }
                }
            }
            "memory_budget" => {
                self.memory_budget = match value {
                    ConfigScalar::Word(_) => {
                        options::word(value, &["auto"])?;
                        None
                    }
                    ConfigScalar::Number(_) => Some(options::positive(value)?),
                }
            }
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
                initial_gradient_norm: None,
            },
        };
        Ok(Box::new(Gn {
            config: self.clone(),
            state,
            par: linalg::parallelism(config.threads),
            non_finite: NonFiniteStreak::new(config),
            sketch: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::mgh;
    use crate::solve::test_problems::{
        matrix_with_singular_values, random_matrix, LinearLeastSquares, Probe, TanhNetwork,
    };
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

    /// Under a memory budget smaller than J, GN streams J's rows and takes the steps it
    /// takes with J stored: the same losses to round-off (the sums run in another
    /// order), the same CG work, and the problem asked for rows at every step.
    #[test]
    fn gn_on_a_streamed_jacobian_takes_the_stored_jacobians_steps() {
        let (net, theta0) = TanhNetwork::realizable(3, 8, 60, 2);
        let (n, p) = (net.n_residuals(), net.n_params());
        let run = |budget: Option<f64>| {
            let mut problem = Probe {
                serve_rows: true,
                ..Probe::new(net.clone())
            };
            let mut config = config(25);
            config.optimizer = OptimizerConfig::Gn(GnConfig {
                memory_budget: budget,
                ..GnConfig::default()
            });
            let mut theta = theta0.clone();
            let report = solve(&mut problem, &mut theta, &config, |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap();
            (report, problem.rows_served)
        };
        let (stored, stored_served) = run(None);
        // A third of J's bytes: a sixth stored, blocks of a twenty-fourth.
        let budget_mb = (n * p * 8) as f64 / 3.0 / 1e6;
        let (streamed, streamed_served) = run(Some(budget_mb));
        assert_eq!(stored_served, 0);
        assert_eq!(streamed_served, streamed.history.len());
        assert_eq!(stored.history.len(), streamed.history.len());
        for (a, b) in stored.history.iter().zip(&streamed.history) {
            assert!(
                (a.loss - b.loss).abs() <= 1e-8 * a.loss,
                "iteration {}: {} vs {}",
                a.iteration,
                a.loss,
                b.loss
            );
            assert_eq!(
                a.cg_iterations, b.cg_iterations,
                "iteration {}",
                a.iteration
            );
            assert_eq!(a.jacobian_passes, None);
            assert!(b.jacobian_passes.unwrap() > b.cg_iterations.unwrap());
        }
        assert!(streamed.final_loss < 1e-3 * stored.history[0].loss);
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
                    // The rank rule alone: a fresh sketch every step.
                    sketch_reuse: 1,
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
    fn the_cg_forcing_term_follows_the_gradient_between_its_floor_and_ceiling() {
        // Off: the floor, whatever the gradient.
        assert_eq!(cg_forcing_tolerance(1e-10, 0.0, 1.0, 1.0), 1e-10);
        // Far from a minimum: the ceiling.
        assert_eq!(cg_forcing_tolerance(1e-10, 0.1, 2.0, 1.0), 0.1);
        // The gradient fell by 1e4: η = 1e-4.
        assert_eq!(cg_forcing_tolerance(1e-10, 0.1, 1e-4, 1.0), 1e-4);
        // Near a minimum: the floor.
        assert_eq!(cg_forcing_tolerance(1e-10, 0.1, 1e-14, 1.0), 1e-10);
        // A zero first gradient (ratio ∞ or NaN): the floor.
        assert_eq!(cg_forcing_tolerance(1e-10, 0.1, 1.0, 0.0), 1e-10);
        assert_eq!(cg_forcing_tolerance(1e-10, 0.1, 0.0, 0.0), 1e-10);
    }

    #[test]
    fn with_cg_forcing_gn_reaches_the_same_minimum_with_less_cg_work() {
        let run = |cg_forcing: f64| {
            let (mut net, mut theta) = TanhNetwork::realizable(3, 40, 200, 5);
            let config = SolveConfig {
                optimizer: OptimizerConfig::Gn(GnConfig {
                    sketch: 4,
                    max_sketch: 4,
                    cg_forcing,
                    ..GnConfig::default()
                }),
                ..config(60)
            };
            solve(&mut net, &mut theta, &config, |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap()
        };
        let exact = run(0.0);
        let forced = run(0.1);
        let cg = |r: &crate::solve::SolveReport| -> usize {
            r.history.iter().map(|h| h.cg_iterations.unwrap()).sum()
        };
        assert!(
            cg(&forced) < cg(&exact),
            "CG iterations: forced {} exact {}",
            cg(&forced),
            cg(&exact)
        );
        // Both fit the realizable data far below the loss after the first step, and the
        // inexact solves cost no accuracy: within a factor 10 of the exact ones.
        let start = exact.history[0].loss;
        for r in [&exact, &forced] {
            assert!(
                r.final_loss < 1e-6 * start,
                "{:e} from {start:e}",
                r.final_loss
            );
        }
        assert!(forced.final_loss < 10.0 * exact.final_loss);
    }

    #[test]
    fn a_kept_sketch_may_cost_its_fresh_solve_plus_the_price_of_a_sketch() {
        // Rank 400: a fresh sketch costs about 25 CG iterations.
        assert_eq!(stale_cap(400, 10), 35);
        assert_eq!(stale_cap(400, 0), 25);
        // Small ranks: one iteration more than the fresh solve.
        assert_eq!(stale_cap(4, 5), 6);
        assert_eq!(stale_cap(16, 5), 6);
        assert_eq!(stale_cap(32, 5), 7);
    }

    #[test]
    fn a_kept_sketch_serves_while_j_holds_still_and_takes_the_same_path() {
        // A linear least-squares problem: J never changes, so a kept sketch is as good
        // as a fresh one and serves `sketch_reuse` steps; CG solves to 1e-10 on either,
        // so the trust region takes the same steps and the losses agree closely, while
        // the RNG shows how many sketches were drawn.
        // Twelve singular values between 1 and 0.1 over a floor of 1e-6: the rank-16
        // preconditioner captures all that matters, whatever λ.
        let (n, p) = (120, 80);
        let sigmas: Vec<f64> = (0..p)
            .map(|i| {
                if i < 12 {
                    10f64.powf(-(i as f64) / 11.0)
                } else {
                    1e-6
                }
            })
            .collect();
        let run = |sketch_reuse: usize| {
            let mut problem = LinearLeastSquares {
                a: matrix_with_singular_values(n, p, &sigmas, 31),
                b: random_matrix(n, 1, 32),
                n_rows: n,
                n_cols: p,
            };
            let mut theta = vec![0.0; p];
            let config = SolveConfig {
                optimizer: OptimizerConfig::Gn(GnConfig {
                    sketch: 16,
                    max_sketch: 16,
                    sketch_reuse,
                    ..GnConfig::default()
                }),
                ..config(12)
            };
            let mut optimizer = config.optimizer.build(&config, None).unwrap();
            let mut losses = Vec::new();
            for _ in 0..12 {
                losses.push(optimizer.step(&mut problem, &mut theta).unwrap().loss);
            }
            let gn = optimizer.as_any().downcast_ref::<Gn>().unwrap();
            (losses, gn.state.rng.get_word_pos())
        };
        let (every_step, drawn_every_step) = run(1);
        let (kept, drawn_kept) = run(5);
        // 12 sketches against 3 (steps 1, 6 and 11).
        assert_eq!(4 * drawn_kept, drawn_every_step);
        for (i, (a, b)) in every_step.iter().zip(&kept).enumerate() {
            assert!(
                (a - b).abs() <= 1e-8 * a.abs(),
                "iteration {i}: {a:e} vs {b:e}"
            );
        }
        // Every step was accepted and lowered the loss.
        assert!(kept.windows(2).all(|w| w[1] < w[0]), "{kept:?}");
    }

    #[test]
    fn a_run_resumed_from_a_whole_state_repeats_the_uninterrupted_one() {
        // A sketch serves three steps on the linear problem above (J holds still), and it
        // is not saved: the state is whole only once it has served. Resumed from a whole
        // state, the run repeats the uninterrupted one bit for bit; resumed where a sketch
        // was kept, it draws one the uninterrupted run did not (the RNG shows it).
        let (n, p) = (120, 80);
        let sigmas: Vec<f64> = (0..p)
            .map(|i| if i < 12 { 0.8f64.powi(i as i32) } else { 1e-6 })
            .collect();
        let problem = || LinearLeastSquares {
            a: matrix_with_singular_values(n, p, &sigmas, 41),
            b: random_matrix(n, 1, 42),
            n_rows: n,
            n_cols: p,
        };
        let config = SolveConfig {
            optimizer: OptimizerConfig::Gn(GnConfig {
                sketch: 16,
                max_sketch: 16,
                sketch_reuse: 3,
                ..GnConfig::default()
            }),
            ..config(12)
        };
        let steps = |h: &[crate::solve::IterationRecord]| {
            h.iter()
                .map(|r| (r.loss.to_bits(), r.damping.map(f64::to_bits), r.accepted))
                .collect::<Vec<_>>()
        };
        let mut whole = Vec::new();
        let mut theta = vec![0.0; p];
        let (full, full_state) =
            crate::solve::solve_from(&mut problem(), &mut theta, &config, None, |_, _, s| {
                whole.push(s.state_is_whole());
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(full.history.len(), 12);
        // Fresh sketches at steps 1, 4, 7 and 10, each kept for the next two.
        let expected: Vec<bool> = (1..=12).map(|i| i % 3 == 0).collect();
        assert_eq!(whole, expected);
        let resumed_after = |stop: usize| {
            let mut theta = vec![0.0; p];
            let (first, state) =
                crate::solve::solve_from(&mut problem(), &mut theta, &config, None, |h, _, _| {
                    if h.len() == stop {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .unwrap();
            let start = crate::solve::SolveStart {
                state: serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap(),
                history: first.history,
                elapsed_s: 0.0,
            };
            let (resumed, state) = crate::solve::solve_from(
                &mut problem(),
                &mut theta,
                &config,
                Some(start),
                |_, _, _| ControlFlow::Continue(()),
            )
            .unwrap();
            (resumed, state, theta)
        };
        let (resumed, state, resumed_theta) = resumed_after(6);
        assert_eq!(steps(&resumed.history), steps(&full.history));
        assert_eq!(state, full_state);
        assert_eq!(resumed_theta, theta);
        let (_, state, _) = resumed_after(5);
        assert_ne!(state, full_state, "a kept sketch is lost by a resume");
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
                    // One sketch per step: a kept one's capped attempt would add to the
                    // counts.
                    sketch_reuse: 1,
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
