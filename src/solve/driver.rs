//! The optimization loop shared by all optimizers: the run settings ([`SolveConfig`]),
//! the [`Solver`] that steps any registered optimizer, the stopping rules and the
//! per-iteration records. It knows the optimizers only through
//! [`Optimizer`]; free of printing: progress goes to a callback.

use super::line_search::LineSearchConfig;
use super::natural::first_non_finite_row;
use super::optimizer::{Optimizer, StepOutcome};
use super::registry::{OptimizerConfig, OptimizerKind};
use super::report::{IterationRecord, SolveError, SolveReport, StopReason};
use super::state::{SolveStart, SolverState};
use super::trust_region::TrustRegionConfig;
use super::LeastSquares;
use std::ops::ControlFlow;
use std::time::Instant;

/// The default stall window: a run stops as `stalled` when its best loss (and, in a
/// `.pde` run, its best held-out loss) has not fallen by the relative
/// [`DEFAULT_MIN_IMPROVEMENT`] over this many iterations. At that rate another decade
/// would take over 200,000 iterations; 100 iterations is long enough to cross the
/// plateaus the natural-gradient methods show on the examples (at most about 40
/// iterations), and short beside their iteration budgets (1,000–3,000).
pub const DEFAULT_PATIENCE: usize = 100;

/// The default stall window of a `.pde` run with residual-adaptive points (`sample
/// adaptive`). Its held-out loss decides, and it wanders by ±20–30 % between
/// evaluations while the iterate moves with every redraw, so one lucky low value held
/// a window of 100 shut on runs whose error was still falling (transport, seed 3 at
/// two threads: 1.5e-5 at the stop, 1.5e-6 by iteration 3,000; docs/PERFORMANCE.md).
pub const ADAPTIVE_PATIENCE: usize = 200;

/// The default relative decrease that counts as progress for the stall rule.
pub const DEFAULT_MIN_IMPROVEMENT: f64 = 1e-3;

/// Settings of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SolveConfig {
    /// The optimizer; default [`super::DEFAULT_OPTIMIZER`] (SNGD) with its defaults.
    pub optimizer: OptimizerConfig,
    /// Iteration limit; default 1,000.
    pub max_iterations: usize,
    /// Stop once the loss is `≤ loss_tol`; default `0` (never).
    pub loss_tol: f64,
    /// Stop once this many seconds have elapsed (checked before each step); default none.
    pub time_budget_s: Option<f64>,
    /// Stop (`stalled`) once the best loss has not fallen below `1 − min_improvement`
    /// times its value `patience` iterations earlier ([`made_no_progress`]); default
    /// [`DEFAULT_PATIENCE`]; `None`: never.
    pub patience: Option<usize>,
    /// The relative decrease of the best loss, in `[0, 1)`, that counts as progress for
    /// `patience`; default [`DEFAULT_MIN_IMPROVEMENT`] (with `0` any decrease counts).
    pub min_improvement: f64,
    /// Degree of parallelism of the dense kernels (`0`: the rayon pool's size, `1`:
    /// sequential); default 0. The kernels run on the global rayon pool; size it once
    /// with [`init_thread_pool`].
    pub threads: usize,
    /// Seed of the optimizer's own randomness (SNGD's sketches); default 0.
    pub seed: u64,
    /// The trust region that globalizes the natural-gradient methods' steps
    /// (ALGORITHMS.md §4.1; `line_search = off`); `None` (default): their line search
    /// does. The line search stays the default because it is measured to reach the
    /// examples' accuracy where the trust region stalls (docs/optimizers.md).
    pub trust_region: Option<TrustRegionConfig>,
    /// Line search of the natural-gradient methods (used when `trust_region` is `None`).
    pub line_search: LineSearchConfig,
    /// Stop after this many consecutive rejected steps; default 5.
    pub max_consecutive_rejections: usize,
    /// Causal weighting of a `.pde` run's rows by time slab with this ε
    /// ([`crate::compile::causal`]; applied by [`crate::run::run`], not by the
    /// driver); default `None` (off). Left out of the serialized form when off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causal: Option<f64>,
}

impl Default for SolveConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerKind::default().default_config(),
            max_iterations: 1000,
            loss_tol: 0.0,
            time_budget_s: None,
            patience: Some(DEFAULT_PATIENCE),
            min_improvement: DEFAULT_MIN_IMPROVEMENT,
            threads: 0,
            seed: 0,
            trust_region: None,
            line_search: LineSearchConfig::default(),
            max_consecutive_rejections: 5,
            causal: None,
        }
    }
}

/// Sizes the global rayon pool and makes the calling thread its first worker (call once,
/// before any solve, from the thread that will run it).
///
/// The tensor programs issue many small parallel operations per iteration. Called from
/// outside the pool, each one is handed to a worker and waited for, and on a busy
/// machine every hand-off waits for the scheduler; from a worker they run in place and
/// the other workers steal. With `threads = 1` no thread is spawned at all.
///
/// # Errors
/// When the global pool was already built.
pub fn init_thread_pool(threads: usize) -> Result<(), rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .use_current_thread()
        .build_global()
}

/// Lets a problem of any (possibly unsized) type be handed to the optimizers as
/// `&mut dyn LeastSquares`, forwarding every method (the batched `losses` included).
struct Forward<'a, P: ?Sized>(&'a mut P);

impl<P: LeastSquares + ?Sized> LeastSquares for Forward<'_, P> {
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn n_residuals(&self) -> usize {
        self.0.n_residuals()
    }
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.0.residual_and_jacobian(theta)
    }
    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        self.0.residual(theta)
    }
    fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
        self.0.losses(thetas)
    }
    fn locate_row(&self, row: usize) -> Option<usize> {
        self.0.locate_row(row)
    }
    fn loss_and_gradient(&mut self, theta: &[f64]) -> (f64, Vec<f64>) {
        self.0.loss_and_gradient(theta)
    }
    fn residual_and_jacobian_rows(
        &mut self,
        theta: &[f64],
    ) -> Option<(Vec<f64>, Box<dyn super::streamed::JacobianRows>)> {
        self.0.residual_and_jacobian_rows(theta)
    }
    fn points_generation(&mut self) -> u64 {
        self.0.points_generation()
    }
}

/// An optimizer with its state; [`Solver::step`] performs one iteration.
#[derive(Debug)]
pub struct Solver {
    config: SolveConfig,
    optimizer: Box<dyn Optimizer>,
}

impl Solver {
    /// A fresh solver for `config`.
    pub fn new(config: SolveConfig) -> Self {
        let optimizer = match config.optimizer.build(&config, None) {
            Ok(optimizer) => optimizer,
            Err(_) => unreachable!("a fresh optimizer needs no saved state"),
        };
        Self { config, optimizer }
    }

    /// A solver for `config` that continues from `state` (see [`Solver::state`]).
    ///
    /// # Errors
    /// [`SolveError::IncompatibleState`] when `state` belongs to another optimizer.
    pub fn with_state(config: SolveConfig, state: SolverState) -> Result<Self, SolveError> {
        if state.optimizer_name() != config.optimizer.name() {
            return Err(SolveError::IncompatibleState {
                reason: format!(
                    "it is a {} state, the run uses {}",
                    state.optimizer_name(),
                    config.optimizer.name()
                ),
            });
        }
        let optimizer = config.optimizer.build(&config, Some(&state))?;
        Ok(Self { config, optimizer })
    }

    /// A copy of the optimizer state, to be saved and restored with [`Solver::with_state`].
    pub fn state(&self) -> SolverState {
        self.optimizer.state()
    }

    /// Whether [`Solver::state`] holds all the next step depends on
    /// ([`Optimizer::state_is_whole`]).
    pub fn state_is_whole(&self) -> bool {
        self.optimizer.state_is_whole()
    }

    /// The configuration.
    pub fn config(&self) -> &SolveConfig {
        &self.config
    }

    /// The optimizer (e.g. to inspect a method's own state through
    /// [`Optimizer::as_any`]).
    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer.as_ref()
    }

    /// The sketch size the next SNGD step will use (`None` before the first step or for
    /// other optimizers).
    pub fn sketch_size(&self) -> Option<usize> {
        self.optimizer.sketch_size()
    }

    /// Performs one iteration on `theta` in place.
    ///
    /// # Errors
    /// [`SolveError`] on wrong vector lengths, a non-finite loss at `theta`, or an
    /// unrecoverable factorization failure.
    pub fn step<P: LeastSquares + ?Sized>(
        &mut self,
        problem: &mut P,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError> {
        let n_params = problem.n_params();
        if n_params == 0 || problem.n_residuals() == 0 {
            return Err(SolveError::EmptyProblem {
                n_params,
                n_residuals: problem.n_residuals(),
            });
        }
        if theta.len() != n_params {
            return Err(SolveError::ShapeMismatch {
                what: "theta",
                got: theta.len(),
                expected: n_params,
            });
        }
        let mut problem = Forward(problem);
        match self.optimizer.step(&mut problem, theta) {
            // A method that cannot recover from a non-finite loss at θ ends the run,
            // naming the first non-finite row if there is one.
            Err(SolveError::NonFiniteLoss { loss, iteration }) => {
                let residual = problem.residual(theta);
                match first_non_finite_row(&residual, &[], n_params) {
                    Some((what, row)) => Err(SolveError::NonFinite {
                        what,
                        row: Some(row),
                        block: problem.locate_row(row),
                        iteration,
                    }),
                    None => Err(SolveError::NonFiniteLoss { loss, iteration }),
                }
            }
            other => other,
        }
    }
}

/// Whether the losses `series` (`(iteration, loss)`, by increasing iteration; not every
/// iteration need be present) have stalled by the last entry's iteration `k`: the best
/// loss up to `k` is not below `1 − min_improvement` times the best up to `k − window`.
/// `None` when no entry lies at or before `k − window` (too early to tell).
pub fn series_stalled(
    series: &[(usize, f64)],
    window: usize,
    min_improvement: f64,
) -> Option<bool> {
    let &(last, _) = series.last()?;
    let then = last.checked_sub(window)?;
    let best = |upto: usize| {
        series
            .iter()
            .take_while(|(it, _)| *it <= upto)
            .map(|&(_, loss)| loss)
            .fold(None, |low: Option<f64>, loss| {
                Some(low.map_or(loss, |l| l.min(loss)))
            })
    };
    let before = best(then)?;
    let now = best(last)?;
    Some(window > 0 && now >= (1.0 - min_improvement) * before)
}

/// Whether a run whose best losses so far are `best` (`best[i]`: the lowest loss of the
/// first `i + 1` iterations) has made no progress over the last `patience` iterations:
/// the best loss now is not below `(1 − min_improvement)` times the best loss
/// `patience` iterations ago. Never true before `patience + 1` iterations, nor for
/// `patience = 0`.
pub fn made_no_progress(best: &[f64], patience: usize, min_improvement: f64) -> bool {
    match best.len().checked_sub(patience + 1) {
        Some(then) if patience > 0 => best[best.len() - 1] >= (1.0 - min_improvement) * best[then],
        _ => false,
    }
}

/// Runs `config.optimizer` on `problem` from `theta` (updated in place) until a
/// stopping rule fires. `callback` sees every [`IterationRecord`] with the parameters
/// after that iteration, and may stop the run
/// with `ControlFlow::Break(())`.
///
/// # Errors
/// As [`Solver::step`].
pub fn solve<P: LeastSquares + ?Sized>(
    problem: &mut P,
    theta: &mut [f64],
    config: &SolveConfig,
    mut callback: impl FnMut(&IterationRecord, &[f64]) -> ControlFlow<()>,
) -> Result<SolveReport, SolveError> {
    solve_from(
        problem,
        theta,
        config,
        None,
        |history, theta, _| match history.last() {
            Some(record) => callback(record, theta),
            None => ControlFlow::Continue(()),
        },
    )
    .map(|(report, _)| report)
}

/// [`solve`], optionally continuing from `start` (a saved optimizer state and the
/// history so far; `theta` must then be the parameters saved with them): the
/// iterations are numbered on from the last record, the counters of the report
/// include the earlier iterations, and a run continued this way takes exactly the
/// steps the uninterrupted run would have taken. `callback` sees the whole history
/// (its last record is the iteration just done), the parameters and the solver (whose
/// [`Solver::state`] is what a checkpoint saves). Returns the report and the final
/// optimizer state.
///
/// # Errors
/// As [`Solver::step`]; [`SolveError::IncompatibleState`] when `start` belongs to
/// another optimizer.
pub fn solve_from<P: LeastSquares + ?Sized>(
    problem: &mut P,
    theta: &mut [f64],
    config: &SolveConfig,
    start: Option<SolveStart>,
    mut callback: impl FnMut(&[IterationRecord], &[f64], &Solver) -> ControlFlow<()>,
) -> Result<(SolveReport, SolverState), SolveError> {
    let clock = Instant::now();
    if config.patience.is_some() && !(0.0..1.0).contains(&config.min_improvement) {
        return Err(SolveError::InvalidConfig {
            reason: format!(
                "min_improvement must be in [0, 1), found {}",
                config.min_improvement
            ),
        });
    }
    let (mut solver, mut history, offset) = match start {
        Some(start) => {
            let mut solver = Solver::with_state(config.clone(), start.state)?;
            solver.optimizer.resume(&start.history);
            (solver, start.history, start.elapsed_s)
        }
        None => (Solver::new(config.clone()), Vec::new(), 0.0),
    };
    let elapsed = || offset + clock.elapsed().as_secs_f64();
    // The counters as the uninterrupted run would have them.
    let mut consecutive_rejections = history.iter().rev().take_while(|r| !r.accepted).count();
    let mut rejected_steps = history.iter().filter(|r| !r.accepted).count();
    let mut retries: usize = history.iter().map(|r| r.retries).sum();
    let mut last_loss = history.last().map(|r| r.loss);
    let mut last_rank = history.iter().rev().find_map(|r| r.rank);
    // best[i]: the lowest loss of records 0..=i (for `patience`).
    let mut best: Vec<f64> = history
        .iter()
        .scan(f64::INFINITY, |low, r| {
            *low = low.min(r.loss);
            Some(*low)
        })
        .collect();
    let first = history.last().map_or(1, |r| r.iteration + 1);
    let mut stopped_because = StopReason::MaxIterations;
    for iteration in first..=config.max_iterations {
        if let Some(budget) = config.time_budget_s {
            if elapsed() >= budget {
                stopped_because = StopReason::TimeBudget;
                break;
            }
        }
        let outcome = solver.step(problem, theta).map_err(|e| match e {
            SolveError::NonFiniteLoss { loss, .. } => SolveError::NonFiniteLoss { loss, iteration },
            SolveError::NonFinite {
                what, row, block, ..
            } => SolveError::NonFinite {
                what,
                row,
                block,
                iteration,
            },
            other => other,
        })?;
        retries += outcome.retries;
        if outcome.accepted {
            consecutive_rejections = 0;
        } else {
            consecutive_rejections += 1;
            rejected_steps += 1;
        }
        if outcome.rank.is_some() {
            last_rank = outcome.rank;
        }
        let record = IterationRecord {
            iteration,
            loss: outcome.loss,
            step_size: outcome.step_size,
            damping: outcome.damping,
            rank: outcome.rank,
            retries: outcome.retries,
            accepted: outcome.accepted,
            cg_iterations: outcome.cg_iterations,
            jacobian_passes: outcome.jacobian_passes,
            wall_s: elapsed(),
        };
        last_loss = Some(outcome.loss);
        best.push(
            best.last()
                .map_or(outcome.loss, |low| low.min(outcome.loss)),
        );
        history.push(record);
        let flow = callback(&history, theta, &solver);
        if flow.is_break() {
            stopped_because = StopReason::Callback;
            break;
        }
        if outcome.loss <= config.loss_tol {
            stopped_because = StopReason::LossTolerance;
            break;
        }
        if consecutive_rejections >= config.max_consecutive_rejections.max(1) {
            stopped_because = StopReason::Stalled;
            break;
        }
        if let Some(patience) = config.patience {
            if made_no_progress(&best, patience, config.min_improvement) {
                stopped_because = StopReason::Stalled;
                break;
            }
        }
    }
    // Adam records pre-step losses, and a run may stop before any step: evaluate.
    let final_loss = match last_loss {
        Some(loss) if !solver.optimizer.reports_loss_before_step() => loss,
        _ => problem.losses(&[theta.to_vec()])[0],
    };
    let report = SolveReport {
        final_loss,
        iterations: history.len(),
        stopped_because,
        history,
        rank: last_rank,
        rejected_steps,
        retries,
        wall_s: elapsed(),
    };
    Ok((report, solver.state()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::anagram::AnagramCutoff;
    use crate::solve::engd::EngdSolve;
    use crate::solve::lbfgs::{self, Lbfgs};
    use crate::solve::sngd::SketchPass;
    use crate::solve::test_problems::{loss_of, Probe, Rosenbrock, TanhNetwork};
    use crate::solve::{engd, linalg};
    use crate::solve::{
        AdamConfig, AnagramConfig, EngdConfig, LbfgsConfig, LineSearchConfig, SngdConfig,
    };

    fn config(optimizer: OptimizerConfig, iterations: usize) -> SolveConfig {
        SolveConfig {
            optimizer,
            max_iterations: iterations,
            threads: 1,
            seed: 7,
            ..SolveConfig::default()
        }
    }

    #[test]
    fn ascent_directions_are_rejected_and_damping_raised() {
        let (net, theta0) = TanhNetwork::realizable(3, 6, 40, 1);
        let mut problem = Probe {
            negate_jacobian: true,
            ..Probe::new(net)
        };
        let loss0 = loss_of(&mut problem.inner, &theta0);
        let mut theta = theta0.clone();
        let engd_config = EngdConfig::default();
        let mut solver = Solver::new(config(OptimizerConfig::Engd(engd_config.clone()), 1));
        let outcome = solver.step(&mut problem, &mut theta).unwrap();
        assert!(!outcome.accepted);
        assert_eq!(outcome.step_size, 0.0);
        assert_eq!(outcome.loss, loss0);
        assert_eq!(theta, theta0, "a rejected step leaves θ unchanged");
        assert_eq!(outcome.retries, LineSearchConfig::default().max_retries + 1);
        // Damping grew by 10× per rejection.
        let used = outcome.damping.unwrap();
        assert!(
            (used / engd_config.damping - 1e8).abs() < 1e-3 * 1e8,
            "{used}"
        );
        // A run stalls after the configured number of consecutive rejected steps.
        let mut run = config(OptimizerConfig::Engd(engd_config.clone()), 50);
        run.max_consecutive_rejections = 1;
        let report = solve(&mut problem, &mut theta, &run, |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(report.stopped_because, StopReason::Stalled);
        assert_eq!((report.iterations, report.rejected_steps), (1, 1));
        assert_eq!(report.final_loss, loss0);
        // Over a longer run the damping keeps growing until the steps are too small to
        // change the loss; such steps are accepted (non-increasing), but none increases it.
        let report = solve(
            &mut problem,
            &mut theta,
            &config(OptimizerConfig::Engd(engd_config), 20),
            |_, _| ControlFlow::Continue(()),
        )
        .unwrap();
        assert!(report.rejected_steps >= 1);
        assert!(report.history.iter().all(|r| r.loss <= loss0));
        assert!(loss_of(&mut problem.inner, &theta) <= loss0);
    }

    fn all_optimizers() -> Vec<OptimizerConfig> {
        vec![
            OptimizerConfig::Engd(EngdConfig::default()),
            OptimizerConfig::Engd(EngdConfig {
                momentum: Some(0.5),
                ..EngdConfig::default()
            }),
            OptimizerConfig::Engd(EngdConfig {
                solve: EngdSolve::Eigen {
                    relative_cutoff: 1e-12,
                },
                damping: 0.0,
                ..EngdConfig::default()
            }),
            OptimizerConfig::Sngd(SngdConfig::default()),
            OptimizerConfig::Sngd(SngdConfig {
                pass: SketchPass::One,
                ..SngdConfig::default()
            }),
            OptimizerConfig::Anagram(AnagramConfig::default()),
            OptimizerConfig::Anagram(AnagramConfig {
                cutoff: AnagramCutoff::Adaptive,
                ..AnagramConfig::default()
            }),
            OptimizerConfig::Adam(AdamConfig {
                learning_rate: 1e-2,
                ..AdamConfig::default()
            }),
            OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        ]
    }

    #[test]
    fn every_optimizer_decreases_the_loss_on_a_small_network() {
        // Non-realizable fit of sin(3x) + x² with 20 hidden units (P = 61, N = 80).
        for optimizer in all_optimizers() {
            let name = format!("{optimizer:?}");
            let (mut net, mut theta) = TanhNetwork::fit(20, 80, |x| (3.0 * x).sin() + x * x, 5);
            let loss0 = loss_of(&mut net, &theta);
            let report = solve(
                &mut net,
                &mut theta,
                &config(optimizer.clone(), 30),
                |_, _| ControlFlow::Continue(()),
            )
            .unwrap();
            assert!(
                report.final_loss < 0.5 * loss0,
                "{name}: {loss0} → {}",
                report.final_loss
            );
            assert!((loss_of(&mut net, &theta) - report.final_loss).abs() <= 1e-12 * loss0);
            if !matches!(optimizer, OptimizerConfig::Adam(_)) {
                // Line-searched methods never increase the loss.
                let mut previous = loss0;
                for record in &report.history {
                    assert!(
                        record.loss <= previous,
                        "{name} iteration {}",
                        record.iteration
                    );
                    previous = record.loss;
                }
            }
        }
    }

    #[test]
    fn natural_gradients_fit_a_realizable_network_to_round_off() {
        // Teacher width 3, student width 8 (P = 25), N = 60 samples.
        for optimizer in [
            OptimizerConfig::Engd(EngdConfig::default()),
            OptimizerConfig::Engd(EngdConfig {
                form: engd::GramForm::Sample,
                ..EngdConfig::default()
            }),
            OptimizerConfig::Sngd(SngdConfig::default()),
            OptimizerConfig::Sngd(SngdConfig {
                pass: SketchPass::One,
                ..SngdConfig::default()
            }),
            OptimizerConfig::Anagram(AnagramConfig::default()),
            OptimizerConfig::Anagram(AnagramConfig {
                cutoff: AnagramCutoff::Adaptive,
                factorization: crate::solve::anagram::AnagramFactorization::Svd,
                ..AnagramConfig::default()
            }),
        ] {
            let name = format!("{optimizer:?}");
            let (mut net, mut theta) = TanhNetwork::realizable(3, 8, 60, 2);
            let mut run = config(optimizer, 300);
            run.loss_tol = 1e-12;
            let report =
                solve(&mut net, &mut theta, &run, |_, _| ControlFlow::Continue(())).unwrap();
            assert!(
                report.final_loss <= 1e-12,
                "{name}: {} after {} ({:?})",
                report.final_loss,
                report.iterations,
                report.stopped_because
            );
            assert_eq!(report.stopped_because, StopReason::LossTolerance, "{name}");
        }
    }

    #[test]
    fn natural_gradients_reach_high_accuracy_on_a_1d_poisson_pinn() {
        // −u'' = π² sin πx, tanh network of width 20 (P = 61), 60 interior points.
        // Observed over seeds 1–3 at 300 iterations: SNGD 5e-11…1.3e-10, ANaGRAM
        // (adaptive) 6e-11…3.3e-10, ENGD (Cholesky, λ = 1e-10) 3e-8…1.5e-7; Adam
        // (5,000 iterations) stays near 1e-3. The bounds sit 30–100× above the observations.
        use crate::solve::test_problems::Poisson1d;
        for (optimizer, bound) in [
            (OptimizerConfig::Sngd(SngdConfig::default()), 1e-8),
            (
                OptimizerConfig::Anagram(AnagramConfig {
                    cutoff: AnagramCutoff::Adaptive,
                    ..AnagramConfig::default()
                }),
                1e-8,
            ),
            (OptimizerConfig::Engd(EngdConfig::default()), 1e-5),
        ] {
            let name = format!("{optimizer:?}");
            let (mut pinn, mut theta) = Poisson1d::new(20, 60, 1);
            let report = solve(&mut pinn, &mut theta, &config(optimizer, 300), |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap();
            let error = pinn.relative_l2_error(&theta, 201);
            assert!(
                error <= bound,
                "{name}: relative L2 {error:e} after {}",
                report.iterations
            );
        }
    }

    #[test]
    fn natural_gradients_solve_rosenbrock() {
        for optimizer in [
            OptimizerConfig::Engd(EngdConfig::default()),
            OptimizerConfig::Sngd(SngdConfig::default()),
            OptimizerConfig::Anagram(AnagramConfig::default()),
            OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        ] {
            let name = format!("{optimizer:?}");
            let mut theta = vec![-1.2, 1.0];
            let mut run = config(optimizer, 500);
            run.loss_tol = 1e-20;
            let report = solve(&mut Rosenbrock, &mut theta, &run, |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap();
            assert!(report.final_loss <= 1e-20, "{name}: {}", report.final_loss);
            assert!(
                (theta[0] - 1.0).abs() < 1e-9 && (theta[1] - 1.0).abs() < 1e-9,
                "{name}: {theta:?}"
            );
        }
    }

    #[test]
    fn lbfgs_accepted_steps_satisfy_strong_wolfe_in_the_driver() {
        let (mut net, mut theta) = TanhNetwork::fit(10, 50, |x| x.sin(), 9);
        let c = LbfgsConfig::default();
        let mut solver = Solver::new(config(OptimizerConfig::Lbfgs(c.clone()), 0));
        let mut accepted = 0;
        for _ in 0..40 {
            let before = theta.clone();
            let outcome = solver.step(&mut net, &mut theta).unwrap();
            if !outcome.accepted {
                continue;
            }
            accepted += 1;
            let (point, value0, slope0) = solver
                .optimizer()
                .as_any()
                .downcast_ref::<Lbfgs>()
                .and_then(Lbfgs::last_search)
                .unwrap()
                .clone();
            // Recompute φ(α), φ'(α) at the new iterate independently.
            let (value, gradient) = net.loss_and_gradient(&theta);
            let step: Vec<f64> = theta.iter().zip(&before).map(|(a, b)| a - b).collect();
            let direction: Vec<f64> = step.iter().map(|s| s / point.alpha).collect();
            let check = lbfgs::LinePoint {
                alpha: point.alpha,
                value,
                slope: linalg::dot(&gradient, &direction),
                gradient,
            };
            assert!(lbfgs::strong_wolfe_holds(
                &check, value0, slope0, c.c1, c.c2
            ));
        }
        assert!(accepted >= 35);
    }

    #[test]
    fn sngd_rank_adapts_to_kept_rank_plus_oversampling() {
        let (mut net, mut theta) = TanhNetwork::realizable(3, 20, 100, 4);
        let c = SngdConfig {
            initial_sketch: 50,
            oversampling: 5,
            ..SngdConfig::default()
        };
        let mut solver = Solver::new(config(OptimizerConfig::Sngd(c), 0));
        assert_eq!(solver.sketch_size(), None);
        for _ in 0..3 {
            let outcome = solver.step(&mut net, &mut theta).unwrap();
            let rank = outcome.rank.unwrap();
            assert!(rank <= 50);
            assert_eq!(solver.sketch_size(), Some((rank + 5).min(61)));
        }
    }

    #[test]
    fn stopping_rules() {
        let run = |c: SolveConfig, stop_at: Option<usize>| {
            let (mut net, mut theta) = TanhNetwork::realizable(2, 5, 30, 6);
            solve(&mut net, &mut theta, &c, |record, _| {
                if Some(record.iteration) == stop_at {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap()
        };
        let base = config(OptimizerConfig::Engd(EngdConfig::default()), 4);
        let report = run(base.clone(), None);
        assert_eq!(
            (report.iterations, report.stopped_because),
            (4, StopReason::MaxIterations)
        );
        assert_eq!(
            report
                .history
                .iter()
                .map(|r| r.iteration)
                .collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        let report = run(
            SolveConfig {
                max_iterations: 100,
                ..base.clone()
            },
            Some(2),
        );
        assert_eq!(
            (report.iterations, report.stopped_because),
            (2, StopReason::Callback)
        );
        let report = run(
            SolveConfig {
                time_budget_s: Some(0.0),
                ..base.clone()
            },
            None,
        );
        assert_eq!(
            (report.iterations, report.stopped_because),
            (0, StopReason::TimeBudget)
        );
        let report = run(
            SolveConfig {
                loss_tol: f64::INFINITY,
                ..base.clone()
            },
            None,
        );
        assert_eq!(
            (report.iterations, report.stopped_because),
            (1, StopReason::LossTolerance)
        );
    }

    /// A problem whose Jacobian has one entry too few.
    struct ShortJacobian(Rosenbrock);

    impl LeastSquares for ShortJacobian {
        fn n_params(&self) -> usize {
            self.0.n_params()
        }
        fn n_residuals(&self) -> usize {
            self.0.n_residuals()
        }
        fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
            let (r, mut j) = self.0.residual_and_jacobian(theta);
            j.pop();
            (r, j)
        }
        fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
            self.0.residual(theta)
        }
    }

    #[test]
    fn a_jacobian_of_the_wrong_length_is_an_error_not_a_panic() {
        for optimizer in [
            OptimizerConfig::Engd(EngdConfig::default()),
            OptimizerConfig::Sngd(SngdConfig::default()),
            OptimizerConfig::Anagram(AnagramConfig::default()),
        ] {
            let mut theta = vec![-1.2, 1.0];
            let err = solve(
                &mut ShortJacobian(Rosenbrock),
                &mut theta,
                &config(optimizer, 3),
                |_, _| ControlFlow::Continue(()),
            )
            .unwrap_err();
            assert_eq!(
                err,
                SolveError::ShapeMismatch {
                    what: "jacobian",
                    got: 3,
                    expected: 4
                }
            );
        }
    }

    #[test]
    fn wrong_theta_length_is_an_error_not_a_panic() {
        let mut theta = vec![0.0; 3];
        let err = solve(
            &mut Rosenbrock,
            &mut theta,
            &SolveConfig::default(),
            |_, _| ControlFlow::Continue(()),
        )
        .unwrap_err();
        assert_eq!(
            err,
            SolveError::ShapeMismatch {
                what: "theta",
                got: 3,
                expected: 2
            }
        );
    }
}

#[cfg(test)]
mod serde_tests {
    use super::*;
    use crate::solve::sngd::SketchPass;
    use crate::solve::SngdConfig;

    #[test]
    fn configs_round_trip_and_partial_json_takes_defaults() {
        let config = SolveConfig::default();
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<SolveConfig>(&json).unwrap(), config);
        let partial: SolveConfig = serde_json::from_str(
            r#"{"optimizer": {"sngd": {"pass": "one", "tolerance": 1e-12}}, "max_iterations": 10}"#,
        )
        .unwrap();
        assert_eq!(partial.max_iterations, 10);
        assert_eq!(partial.line_search, LineSearchConfig::default());
        let OptimizerConfig::Sngd(sngd) = partial.optimizer else {
            panic!("expected sngd")
        };
        assert_eq!(sngd.pass, SketchPass::One);
        assert_eq!(sngd.tolerance, 1e-12);
        assert_eq!(sngd.oversampling, SngdConfig::default().oversampling);
        for reason in [
            StopReason::MaxIterations,
            StopReason::LossTolerance,
            StopReason::TimeBudget,
            StopReason::Callback,
            StopReason::Stalled,
        ] {
            assert_eq!(
                serde_json::to_string(&reason).unwrap(),
                format!("\"{}\"", reason.as_str())
            );
        }
    }
}

#[cfg(test)]
mod resume_tests {
    //! Continuing a solve from a saved optimizer state.
    use super::*;
    use crate::solve::test_problems::TanhNetwork;
    use crate::solve::{AdamConfig, AnagramConfig, EngdConfig, LbfgsConfig, SngdConfig};

    /// The records with their wall-clock times zeroed (the only field two runs of the same
    /// steps may differ in).
    fn without_wall_time(history: &[IterationRecord]) -> Vec<IterationRecord> {
        history
            .iter()
            .map(|x| IterationRecord {
                wall_s: 0.0,
                ..x.clone()
            })
            .collect()
    }

    /// The first iteration `k` at which the best loss of iterations `1..=k` is not below
    /// `1 − min_improvement` times that of iterations `1..=k − patience`, by brute force.
    fn first_without_progress(
        losses: &[f64],
        patience: usize,
        min_improvement: f64,
    ) -> Option<usize> {
        let lowest = |n: usize| losses[..n].iter().copied().fold(f64::INFINITY, f64::min);
        (patience + 1..=losses.len())
            .find(|&k| lowest(k) >= (1.0 - min_improvement) * lowest(k - patience))
    }

    #[test]
    fn adam_records_the_decayed_learning_rate_of_each_step() {
        let config = SolveConfig {
            optimizer: OptimizerConfig::Adam(AdamConfig {
                learning_rate: 0.01,
                lr_decay: 0.9,
                ..AdamConfig::default()
            }),
            max_iterations: 5,
            ..SolveConfig::default()
        };
        let (mut net, mut theta) = TanhNetwork::realizable(3, 6, 40, 1);
        let report = solve(&mut net, &mut theta, &config, |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let rates: Vec<f64> = report.history.iter().map(|r| r.step_size).collect();
        let want: Vec<f64> = (0..5).map(|t| 0.01 * 0.9f64.powi(t)).collect();
        assert_eq!(rates.len(), 5);
        for (rate, want) in rates.iter().zip(&want) {
            assert!((rate - want).abs() <= 1e-15 * want, "{rates:?} vs {want:?}");
        }
    }

    #[test]
    fn patience_stops_where_the_best_loss_stops_improving_also_after_a_resume() {
        let (patience, min_improvement) = (10, 0.05);
        let base = SolveConfig {
            optimizer: OptimizerConfig::Adam(AdamConfig {
                learning_rate: 0.01,
                ..AdamConfig::default()
            }),
            max_iterations: 400,
            ..SolveConfig::default()
        };
        let (mut net, theta0) = TanhNetwork::realizable(3, 6, 40, 1);
        let mut theta = theta0.clone();
        let reference = solve(
            &mut net,
            &mut theta,
            &base,
            |_, _| ControlFlow::Continue(()),
        )
        .unwrap();
        let losses: Vec<f64> = reference.history.iter().map(|r| r.loss).collect();
        let stop = first_without_progress(&losses, patience, min_improvement)
            .expect("the reference run slows down within 400 iterations");
        // The rule must look at the best loss, not the latest one, and over the window.
        assert!(
            stop > 3 * patience,
            "stops too early to tell rules apart: {stop}"
        );

        let config = SolveConfig {
            patience: Some(patience),
            min_improvement,
            ..base
        };
        let mut theta = theta0.clone();
        let report = solve(&mut net, &mut theta, &config, |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(report.stopped_because, StopReason::Stalled);
        assert_eq!(report.iterations, stop);
        assert_eq!(
            without_wall_time(&report.history),
            without_wall_time(&reference.history[..stop])
        );

        // Interrupted a few iterations before and resumed: the window spans both parts.
        let mut part = theta0.clone();
        let mut saved = None;
        let (first, _) = solve_from(&mut net, &mut part, &config, None, |h, _, solver| {
            if h.len() == stop - 3 {
                saved = Some(solver.state());
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        let start = SolveStart {
            state: saved.expect("state before the stop"),
            history: first.history,
            elapsed_s: 0.0,
        };
        let (resumed, _) = solve_from(&mut net, &mut part, &config, Some(start), |_, _, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(resumed.stopped_because, StopReason::Stalled);
        assert_eq!(resumed.iterations, stop);
        assert_eq!(part, theta);

        // Out of [0, 1) (1 would stop every run at once, NaN none): refused.
        for bad in [1.0, -0.1, f64::NAN] {
            let config = SolveConfig {
                min_improvement: bad,
                ..config.clone()
            };
            let mut theta = theta0.clone();
            let result = solve(&mut net, &mut theta, &config, |_, _| {
                ControlFlow::Continue(())
            });
            assert!(
                matches!(result, Err(SolveError::InvalidConfig { .. })),
                "{bad}: {result:?}"
            );
        }
    }

    #[test]
    fn a_sparse_series_stalls_when_its_best_loss_stops_falling_over_the_window() {
        let series = [(10, 1.0), (20, 0.5), (30, 0.5), (40, 0.4999)];
        // Nothing measured at or before 10 − 10 = 0: too early to tell.
        assert_eq!(series_stalled(&series[..1], 10, 1e-3), None);
        assert_eq!(series_stalled(&series[..2], 10, 1e-3), Some(false));
        assert_eq!(series_stalled(&series[..3], 10, 1e-3), Some(true));
        // 0.4999 is not below (1 − 1e-3)·0.5 = 0.4995, but is below (1 − 1e-5)·0.5.
        assert_eq!(series_stalled(&series, 20, 1e-3), Some(true));
        assert_eq!(series_stalled(&series, 20, 1e-5), Some(false));
        // On a dense series it is `made_no_progress` of the running minimum.
        let losses = [5.0, 4.0, 4.5, 3.9, 3.9, 3.8, 3.8, 3.8, 3.8];
        let dense: Vec<(usize, f64)> = losses
            .iter()
            .enumerate()
            .map(|(i, &l)| (i + 1, l))
            .collect();
        let best: Vec<f64> = losses
            .iter()
            .scan(f64::INFINITY, |low, &l| {
                *low = f64::min(*low, l);
                Some(*low)
            })
            .collect();
        for k in 1..=losses.len() {
            assert_eq!(
                series_stalled(&dense[..k], 3, 0.02).unwrap_or(false),
                made_no_progress(&best[..k], 3, 0.02),
                "k = {k}"
            );
        }
    }

    #[test]
    fn the_progress_rule_compares_best_losses_a_window_apart() {
        // Too short a history, or no window: never.
        assert!(!made_no_progress(&[1.0, 1.0], 2, 0.5));
        assert!(!made_no_progress(&[1.0, 1.0, 1.0], 0, 0.5));
        // 1.0 → 0.6 over two iterations: progress at 30 %, none at 50 %.
        assert!(!made_no_progress(&[1.0, 0.8, 0.6], 2, 0.3));
        assert!(made_no_progress(&[1.0, 0.8, 0.6], 2, 0.5));
        // Only the last window counts: 0.6 → 0.59 is no progress at 10 %.
        assert!(made_no_progress(&[1.0, 0.6, 0.6, 0.59], 2, 0.1));
        // With min_improvement 0 only an exactly flat best loss stops, a zero loss too.
        assert!(!made_no_progress(&[1.0, 1.0, 0.999_999], 2, 0.0));
        assert!(made_no_progress(&[1.0, 1.0, 1.0], 2, 0.0));
        assert!(made_no_progress(&[0.0, 0.0, 0.0], 2, 0.0));
    }

    #[test]
    fn solve_from_a_saved_state_repeats_the_uninterrupted_run() {
        let optimizers = [
            OptimizerConfig::Engd(EngdConfig {
                momentum: Some(0.5),
                ..EngdConfig::default()
            }),
            OptimizerConfig::Sngd(SngdConfig {
                initial_sketch: 10,
                ..SngdConfig::default()
            }),
            OptimizerConfig::Anagram(AnagramConfig::default()),
            OptimizerConfig::Adam(AdamConfig {
                learning_rate: 0.01,
                ..AdamConfig::default()
            }),
            OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        ];
        for optimizer in optimizers {
            let name = optimizer.name();
            let config = SolveConfig {
                optimizer,
                max_iterations: 8,
                seed: 5,
                ..SolveConfig::default()
            };
            let (mut net, theta0) = TanhNetwork::realizable(3, 6, 40, 1);
            let mut whole = theta0.clone();
            let (full, full_state) = solve_from(&mut net, &mut whole, &config, None, |_, _, _| {
                ControlFlow::Continue(())
            })
            .unwrap();

            // Stop after 3 iterations, keeping the state the callback saw then.
            let mut part = theta0.clone();
            let mut saved = None;
            let (first, _) = solve_from(&mut net, &mut part, &config, None, |h, _, solver| {
                if h.len() == 3 {
                    saved = Some(solver.state());
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
            assert_eq!(first.iterations, 3, "{name}");
            let start = SolveStart {
                state: saved.expect("state after iteration 3"),
                history: first.history.clone(),
                elapsed_s: 100.0,
            };
            let (resumed, resumed_state) =
                solve_from(&mut net, &mut part, &config, Some(start), |h, _, _| {
                    assert!(h.last().is_some_and(|r| r.iteration > 3));
                    ControlFlow::Continue(())
                })
                .unwrap();
            assert_eq!(
                without_wall_time(&resumed.history),
                without_wall_time(&full.history),
                "{name}"
            );
            assert_eq!(part, whole, "{name}: θ");
            assert_eq!(resumed_state, full_state, "{name}: optimizer state");
            assert_eq!(resumed.final_loss.to_bits(), full.final_loss.to_bits());
            assert_eq!(
                (resumed.iterations, resumed.rejected_steps, resumed.retries),
                (full.iterations, full.rejected_steps, full.retries),
                "{name}"
            );
            // The earlier records are kept as they were; the new ones count the
            // elapsed time of the first part.
            assert_eq!(resumed.history[..3], first.history[..]);
            assert!(resumed.history[3].wall_s >= 100.0);
        }
    }

    #[test]
    fn a_state_of_another_optimizer_or_size_is_refused() {
        let engd = SolveConfig {
            optimizer: OptimizerConfig::Engd(EngdConfig::default()),
            ..SolveConfig::default()
        };
        let adam = SolveConfig {
            optimizer: OptimizerConfig::Adam(AdamConfig::default()),
            ..SolveConfig::default()
        };
        let state = Solver::new(engd.clone()).state();
        assert!(matches!(
            Solver::with_state(adam.clone(), state.clone()),
            Err(SolveError::IncompatibleState { .. })
        ));
        assert!(state.check(&engd, 7).is_ok());
        assert!(state.check(&adam, 7).is_err());
        let (mut problem, _) = TanhNetwork::realizable(1, 1, 5, 0);
        let mut theta_net = vec![0.1; problem.n_params()];
        let mut solver = Solver::new(adam.clone());
        solver.step(&mut problem, &mut theta_net).unwrap();
        let adam_state = solver.state();
        assert!(adam_state.check(&adam, problem.n_params()).is_ok());
        let err = adam_state.check(&adam, problem.n_params() + 1).unwrap_err();
        assert!(err.to_string().contains("moment"), "{err}");
    }
}
