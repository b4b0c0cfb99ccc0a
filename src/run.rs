//! Run: one whole solve of a checked problem — sampling, compilation,
//! optimization with optional resampling, and error evaluation against the
//! exact solutions. Returns data; the CLI reports progress and writes files.

use crate::compile::causal::CausalSlabs;
use crate::compile::causal::ScaledRows;
use crate::compile::points::PointSet;
use crate::compile::program::{CompileError, CompiledProblem, FieldError, PdeLeastSquares};
use crate::compile::sample::{
    candidate_points, heldout_points, rad_points, rar_points, sample_points, test_points,
    SampleError,
};
use crate::diagnostic::Diagnostic;
use crate::ir::{ConfigScalar, Problem};
use crate::solve::streamed::JacobianRows;
use crate::solve::{
    series_stalled, IterationRecord, LeastSquares, NonFiniteSource, OptimizerConfig, SolveConfig,
    SolveError, SolveReport, SolveStart, SolverState, StopReason, ADAPTIVE_PATIENCE,
    DEFAULT_PATIENCE,
};
use burn::tensor::backend::Backend;
use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;
use std::time::Instant;

/// Settings of a run: the optimizer's, and when to evaluate the errors.
///
/// Checkpoints written before the seed lived only in `solve.seed` also hold a
/// top-level `seed` of the same value; it is ignored when they are read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunConfig {
    /// The optimizer and its stopping rules; `solve.seed` is the run's one seed
    /// (initialisation, sampling and sketching).
    pub solve: SolveConfig,
    /// Evaluate the errors against the exact solutions every k iterations (0: only at the end).
    pub eval_every: usize,
}

impl RunConfig {
    /// The run's seed: initialisation, sampling and the optimizer's sketches.
    pub fn seed(&self) -> u64 {
        self.solve.seed
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The optimizer's report (history, stop reason, final loss).
    pub report: SolveReport,
    /// The parameters the run returns (network weights, then params): the last
    /// iterate's, or with `sample adaptive = rad`, those of the lowest held-out loss
    /// ([`RunState::best`]).
    pub theta: Vec<f64>,
    /// The iteration whose parameters [`Self::theta`] holds (the last one, or with
    /// `sample adaptive = rad` the one of the lowest held-out loss; 0: the initial ones).
    pub result_iteration: usize,
    /// Trainable scalars (network weights and params).
    pub n_params: usize,
    /// Residual rows of the (last) training point set.
    pub n_points: usize,
    /// Errors of [`Self::theta`] for the fields with an exact solution.
    pub errors: Vec<FieldError>,
    /// `(iteration, errors)` every `eval_every` iterations.
    pub error_history: Vec<(usize, Vec<FieldError>)>,
    /// `(iteration, held-out loss)` every `eval_every` iterations ([`HeldOut`]).
    pub heldout_history: Vec<(usize, f64)>,
    /// Final values of the trainable params, by name.
    pub params: Vec<(String, f64)>,
    /// Seconds for the whole run, compilation and sampling included (a continued run
    /// adds the optimization time before it was stopped).
    pub wall_s: f64,
    /// The training points of the last iteration (the spectrum figure is drawn on them).
    pub points: PointSet,
    /// The optimizer that ran, with its settings (the spectrum figure draws its cut-off).
    pub optimizer: OptimizerConfig,
    /// The loss on fresh points at the start and the end of the run (`None` when they
    /// cannot be drawn).
    pub heldout: Option<HeldOut>,
}

/// The loss `½‖r‖²` on a held-out set of collocation points
/// ([`crate::compile::sample::heldout_points`]), at the initial and at the final
/// parameters. Every residual row is scaled by `sqrt(w/N)` of its block, so the loss is
/// a weighted mean square and compares directly with the training loss although the
/// held-out set is larger.
///
/// The training loss measures the equations only at the training points. A network
/// that fits those and not the equations between them (a steep front passing between
/// the points, or fewer rows than the equations need) shows it here: its held-out loss
/// stays near where it started while the training loss falls.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct HeldOut {
    /// Residual rows of the held-out set.
    pub points: usize,
    /// Held-out loss at the initial parameters.
    pub initial_loss: f64,
    /// Held-out loss at the final parameters.
    pub loss: f64,
}

impl HeldOut {
    /// [`HeldOut::misses_the_equations`] holds when the held-out loss is above this
    /// many times the training loss ...
    pub const GAP: f64 = 100.0;
    /// ... and above this fraction of its initial value. The gap alone would flag runs
    /// that are accurate enough for anyone: poisson2d ends 700 times above its training
    /// loss at an error of 1.2e-8, but 7e-15 of its initial held-out loss; the runs whose
    /// error the optimizer, not the points, sets end at 1e-7…7e-15 of it (laplace5d
    /// 1e-7, allen_cahn 6e-7, docs/PERFORMANCE.md), the sample-limited ones at
    /// 1e-4…1 (Burgers' shock between the points: 0.75 at an error of 0.33).
    pub const PROGRESS: f64 = 1e-6;
    /// A run is also sample-limited when its held-out loss is more than this many times
    /// the training loss (a residual 100 times larger between the points than on
    /// them) ...
    pub const WIDE_GAP: f64 = 1e4;
    /// ... and above this fraction of its initial value. [`Self::PROGRESS`] alone
    /// missed runs whose initial loss is large: laplace5d_offset.pde on 1,000 fixed
    /// points ends at a training loss of 1e-28, a held-out loss of 2.1e-4 (9.8e-7 of
    /// its initial value) and an error of 2.3e-5; allen_cahn_periodic 1.7·10⁵ times
    /// above its training loss, at 5.4e-7, with an error of 4.6e-4. The accurate runs
    /// measured end below the wide gap (allen_cahn at most 5.7·10³ times its training
    /// loss) or far below this fraction (poisson2d 7e-15; docs/PERFORMANCE.md,
    /// "laplace5d with offset data").
    pub const WIDE_GAP_PROGRESS: f64 = 1e-9;

    /// The held-out loss of `theta`, and of the initial parameters of `seed`, on
    /// `points` (the held-out set of `seed`).
    pub fn measure<B: Backend>(
        program: &CompiledProblem<B>,
        points: &PointSet,
        seed: u64,
        theta: &[f64],
    ) -> Self {
        HeldOut {
            points: points.n_rows(),
            initial_loss: Self::loss(program, points, &program.init_params(seed)),
            loss: Self::loss(program, points, theta),
        }
    }

    /// `½‖r‖²` of `theta` on `points`.
    pub fn loss<B: Backend>(program: &CompiledProblem<B>, points: &PointSet, theta: &[f64]) -> f64 {
        let r = program.residual(theta, points);
        0.5 * r.iter().map(|v| v * v).sum::<f64>()
    }

    /// Whether the network fits its training points but not the equations between
    /// them, so that the points, not the optimizer, limit the error: the held-out loss
    /// is more than [`Self::GAP`] times `training_loss` and has not fallen to
    /// [`Self::PROGRESS`] of its initial value, or more than [`Self::WIDE_GAP`] times
    /// and not to [`Self::WIDE_GAP_PROGRESS`] (or it is not finite).
    pub fn misses_the_equations(&self, training_loss: f64) -> bool {
        let above = |gap: f64, progress: f64| {
            self.loss > gap * training_loss && self.loss > progress * self.initial_loss
        };
        !self.loss.is_finite()
            || above(Self::GAP, Self::PROGRESS)
            || above(Self::WIDE_GAP, Self::WIDE_GAP_PROGRESS)
    }
}

impl RunReport {
    /// Whether the run ended sample-limited ([`HeldOut::misses_the_equations`] at the
    /// final training loss); false without a held-out set.
    pub fn sample_limited(&self) -> bool {
        self.heldout
            .is_some_and(|h| h.misses_the_equations(self.report.final_loss))
    }

    /// Rows of the training points on `interior` (all equations there together).
    pub fn interior_points(&self, problem: &Problem) -> usize {
        self.points
            .blocks
            .iter()
            .zip(&problem.blocks)
            .filter(|(_, block)| block.region == crate::ir::Region::Interior)
            .map(|(points, _)| points.n)
            .sum()
    }
}

/// What the callback sees after each iteration.
#[derive(Clone)]
pub struct Progress<'a> {
    /// The iteration just done.
    pub record: &'a IterationRecord,
    /// Errors against the exact solutions, when evaluated at this iteration.
    pub errors: Option<&'a [FieldError]>,
    snapshot: &'a dyn Fn() -> RunState,
    whole: bool,
}

impl Progress<'_> {
    /// The state of the run after this iteration, from which [`run_from`] continues
    /// (built on demand: it copies the history). The continued run repeats this one
    /// exactly when [`Progress::snapshot_is_whole`].
    pub fn snapshot(&self) -> RunState {
        (self.snapshot)()
    }

    /// Whether [`Progress::snapshot`] holds everything the next iteration depends on,
    /// so that a run continued from it repeats this one bit for bit. It does not while
    /// the optimizer keeps something it does not save
    /// ([`crate::solve::Solver::state_is_whole`]).
    pub fn snapshot_is_whole(&self) -> bool {
        self.whole
    }
}

impl std::fmt::Debug for Progress<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("record", self.record)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

/// Everything a run needs to continue exactly where it stopped: the parameters, the
/// optimizer state, the seed of the current training points and the histories.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunState {
    /// Parameters after the last recorded iteration.
    pub theta: Vec<f64>,
    /// The optimizer's state after the last recorded iteration.
    pub solver: SolverState,
    /// Seed of the training point set the next iteration uses (the run's seed until
    /// the first resampling).
    pub points_seed: u64,
    /// The parameters at which that point set was drawn by `sample adaptive = rad`
    /// ([`training_points`]); `None` while the points are the sampler's own (absent in
    /// checkpoints of runs without adaptive sampling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_adapted_at: Option<Vec<f64>>,
    /// With `sample adaptive = rar`: the points its refinements have added to the
    /// sampler's so far, block by block, those of a refinement asked for at the last
    /// iteration included ([`with_added`]); absent before the first and otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_added: Option<PointSet>,
    /// Every iteration so far.
    pub history: Vec<IterationRecord>,
    /// `(iteration, errors)` every `eval_every` iterations so far.
    pub error_history: Vec<(usize, Vec<FieldError>)>,
    /// `(iteration, held-out loss)` every `eval_every` iterations so far (empty in
    /// checkpoints written before it was recorded).
    #[serde(default)]
    pub heldout_history: Vec<(usize, f64)>,
    /// Seconds of optimization so far (the last record's `wall_s`).
    pub elapsed_s: f64,
    /// With `sample adaptive = rad`: the iterate of the lowest held-out loss among the
    /// iterations where it was evaluated so far; the run returns it unless the last
    /// iterate's is lower ([`returned_iterate`]). Absent otherwise, and in checkpoints
    /// written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<BestIterate>,
}

impl RunState {
    /// The last iteration done (0 before the first).
    pub fn iteration(&self) -> usize {
        self.history.last().map_or(0, |r| r.iteration)
    }

    /// Whether every parameter vector the state holds (the last iterate, the one the
    /// adaptive points were drawn at, the kept best) has `n_params` entries; else why not.
    ///
    /// # Errors
    /// The first vector that does not fit, as a sentence.
    pub fn check_fits(&self, n_params: usize) -> Result<(), String> {
        if self.theta.len() != n_params {
            return Err(format!(
                "the saved parameters have length {}, the problem has {n_params}",
                self.theta.len()
            ));
        }
        let fits = |theta: Option<&Vec<f64>>| theta.is_none_or(|t| t.len() == n_params);
        if !fits(self.points_adapted_at.as_ref()) {
            return Err(
                "the saved parameters of the adaptive points do not fit the problem".to_string(),
            );
        }
        if !fits(self.best.as_ref().map(|b| &b.theta)) {
            return Err(
                "the saved parameters of the lowest held-out loss do not fit the problem"
                    .to_string(),
            );
        }
        Ok(())
    }
}

/// The parameters a run in `state` returns, with their iteration and, where it differs
/// from the last iterate, their held-out loss: [`RunState::best`] when the last
/// iterate's held-out loss, `last_heldout` (computed by the caller: [`HeldOut::loss`]
/// at `state.theta` on the held-out set), is not lower; else the last iterate. Without
/// a kept iterate (runs on fixed points, or no held-out set), the last one.
///
/// The last iterate is weighed here and not kept in the state, so that a run stopped
/// and resumed returns what the uninterrupted run does.
pub fn returned_iterate(
    state: &RunState,
    last_heldout: impl FnOnce() -> f64,
) -> (&[f64], usize, Option<f64>) {
    match &state.best {
        Some(best) if best.iteration != state.iteration() => {
            // A non-finite held-out loss of the last iterate does not beat the kept one.
            let last = last_heldout();
            if last.is_finite() && last < best.heldout_loss {
                (&state.theta, state.iteration(), None)
            } else {
                (&best.theta, best.iteration, Some(best.heldout_loss))
            }
        }
        _ => (&state.theta, state.iteration(), None),
    }
}

/// The parameters a run saved in `state` returns ([`returned_iterate`]), the held-out
/// loss of its last iterate computed with `program` on the held-out set of `seed`.
///
/// # Panics
/// If `state.theta` does not fit `program`.
pub fn returned_parameters<'a, B: Backend>(
    problem: &Problem,
    program: &CompiledProblem<B>,
    seed: u64,
    state: &'a RunState,
) -> &'a [f64] {
    returned_iterate(state, || {
        heldout_points(problem, seed).map_or(f64::INFINITY, |points| {
            HeldOut::loss(program, &points, &state.theta)
        })
    })
    .0
}

/// An iterate kept for its held-out loss.
///
/// With residual-adaptive points the training points move every few iterations, and
/// the iterate moves with them: on Burgers the error of successive iterates wanders
/// by a factor of 2–5 once the loss has levelled off. The held-out set is drawn once
/// per run, so its loss compares every iterate on the same points, and a run with
/// `sample adaptive = rad` returns the iterate where that loss was lowest (among those
/// where it was evaluated, every `eval_every` iterations, and the last), as early
/// stopping on a validation set does. Runs on fixed points return their last iterate,
/// and so do runs with `adaptive = rar`, whose points only grow and settle after the
/// last refinement: on allen_cahn_periodic (seed 3) their held-out loss rose 13-fold
/// over 200 iterations while the error fell from 4.4e-4 to 2.7e-4.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BestIterate {
    /// The iteration after which the parameters were taken.
    pub iteration: usize,
    /// Their held-out loss ([`HeldOut::loss`]).
    pub heldout_loss: f64,
    /// The parameters.
    pub theta: Vec<f64>,
}

impl BestIterate {
    /// `current` replaced by the iterate `(iteration, heldout_loss, theta)` when its
    /// held-out loss is finite and lower (the earlier iterate wins a tie).
    fn update(current: &mut Option<Self>, iteration: usize, heldout_loss: f64, theta: &[f64]) {
        let lower = current
            .as_ref()
            .is_none_or(|best| heldout_loss < best.heldout_loss);
        if heldout_loss.is_finite() && lower {
            *current = Some(BestIterate {
                iteration,
                heldout_loss,
                theta: theta.to_vec(),
            });
        }
    }
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot compile the problem: {0}")]
    /// The problem cannot be compiled.
    Compile(#[from] CompileError),
    #[error("cannot sample points: {0}")]
    /// Points cannot be sampled.
    Sample(#[from] SampleError),
    #[error("the solve failed: {0}")]
    /// The optimizer failed.
    Solve(#[from] SolveError),
    /// A `solve` option that does not fit the optimizer.
    #[error("solve option `{key}`: {message}")]
    Option {
        /// The option.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// An optimizer option set over the file's (a command-line flag, or
    /// [`crate::api::SolveOptions::options`]) that does not fit the optimizer.
    #[error("option `{key}`: {message}")]
    OptionOverride {
        /// The option.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A saved run state that does not fit the problem.
    #[error("cannot resume: {0}")]
    Resume(String),
}

impl RunError {
    /// The error as a diagnostic over the problem's source, when it points at an
    /// equation: a non-finite residual or Jacobian is reported (code `E0601`) at the
    /// span of the residual block its first bad row belongs to. `None` for other errors.
    pub fn diagnostic(&self, problem: &Problem) -> Option<Diagnostic> {
        let RunError::Solve(SolveError::NonFinite {
            what,
            row,
            block: Some(block),
            iteration,
        }) = self
        else {
            return None;
        };
        let block = problem.blocks.get(*block)?;
        let value = match what {
            NonFiniteSource::Jacobian => "its derivative with respect to the parameters",
            _ => "its residual",
        };
        let row = row.map(|r| format!(" (row {r})")).unwrap_or_default();
        Some(
            Diagnostic::error(
                "E0601",
                format!(
                    "the solve stopped at iteration {iteration}: this equation became \
                     non-finite (NaN or infinite) in several steps in a row"
                ),
            )
            .with_label(block.span, format!("{value} is not finite here{row}"))
            .with_help(
                "a function left its domain (log or sqrt of a negative value, division by \
                 zero) or a value overflowed; keep its argument positive (e.g. `log(1 + u^2)`) \
                 or change the initialisation seed",
            ),
        )
    }
}

/// The optimizer settings of a problem's `solve` block (defaults elsewhere).
///
/// # Errors
/// An option value of the wrong kind (`sketch = fast`).
pub fn solve_config(problem: &Problem) -> Result<SolveConfig, RunError> {
    let settings = &problem.solve;
    let mut config = SolveConfig {
        optimizer: file_optimizer(problem).default_config(),
        max_iterations: settings.iterations,
        loss_tol: settings.tol.unwrap_or(0.0),
        patience: Some(if problem.sample.adaptive.is_some() {
            ADAPTIVE_PATIENCE
        } else {
            DEFAULT_PATIENCE
        }),
        ..SolveConfig::default()
    };
    if let Some(patience) = settings.patience {
        config.patience = (patience > 0).then_some(patience);
    }
    if let Some(min_improvement) = settings.min_improvement {
        config.min_improvement = min_improvement;
    }
    config.causal = settings.causal;
    for (key, value) in &settings.options {
        apply_option(&mut config, key, value)?;
    }
    Ok(config)
}

/// The optimizer a problem's `solve` block gives: the one it names; else, when it
/// names no option either: GN when it samples with `adaptive` (residual-adaptive
/// points), else the one for the size of its Jacobian
/// ([`crate::solve::default_optimizer_for`], N counted on the points of seed 0, which
/// every seed shares); else [`crate::solve::DEFAULT_OPTIMIZER`], whose keys the
/// options are.
pub fn file_optimizer(problem: &Problem) -> crate::solve::OptimizerKind {
    if let Some(kind) = problem.solve.optimizer {
        return kind;
    }
    if !problem.solve.options.is_empty() {
        return crate::solve::DEFAULT_OPTIMIZER;
    }
    // Residual-adaptive points are redrawn every few iterations, and J with them:
    // GN's trust region carried Burgers and transport there, SNGD's line search and
    // sketch did not (docs/optimizers.md, "Default by size and sampling").
    if problem.sample.adaptive.is_some() {
        return crate::solve::OptimizerKind::Gn;
    }
    match sample_points(problem, 0) {
        Ok(points) => crate::solve::default_optimizer_for(
            points.n_rows(),
            crate::ir::describe::n_params(problem),
        ),
        // The run reports the sampling error itself.
        Err(_) => crate::solve::DEFAULT_OPTIMIZER,
    }
}

/// Sets one optimizer option (`damping`, `sketch`, ...) on `config`
/// ([`crate::solve::apply_option`]). Options that do not apply to the chosen optimizer
/// are errors, so that a misplaced knob is never silently ignored.
///
/// # Errors
/// [`RunError::Option`]: an unknown key, a value of the wrong kind, or a key of another
/// optimizer.
pub fn apply_option(
    config: &mut SolveConfig,
    key: &str,
    value: &ConfigScalar,
) -> Result<(), RunError> {
    crate::solve::apply_option(config, key, value).map_err(|message| RunError::Option {
        key: key.to_string(),
        message,
    })
}

/// The training points of a run: the sampler's points of `seed`
/// ([`sample_points`]), or, with `adapted_at`, the points `sample adaptive = rad`
/// draws at those parameters: every sampled block keeps its count of a uniform pool
/// ten times as large ([`candidate_points`]), drawn by the residual of `theta` there
/// ([`rad_points`]; one forward over the pool, no Jacobian). Deterministic for a given
/// thread count: a saved state gives back its points.
///
/// # Errors
/// As [`sample_points`].
pub fn training_points<B: Backend>(
    problem: &Problem,
    program: &CompiledProblem<B>,
    seed: u64,
    adapted_at: Option<&[f64]>,
) -> Result<PointSet, SampleError> {
    let uniform = sample_points(problem, seed)?;
    let (Some(theta), Some(settings)) = (adapted_at, problem.sample.adaptive.as_ref()) else {
        return Ok(uniform);
    };
    let counts: Vec<usize> = uniform.blocks.iter().map(|b| b.n).collect();
    let pool = candidate_points(problem, seed)?;
    let residual = program.residual(theta, &pool);
    Ok(rad_points(
        problem, settings, &pool, &residual, &counts, seed,
    ))
}

/// The sampler's points `points` with the points of `sample adaptive = rar`'s
/// refinements appended, block by block.
///
/// # Errors
/// [`RunError::Resume`] where `added` does not fit `points` (another number of blocks,
/// or rows of another kind), as in a checkpoint of another problem.
pub fn with_added(mut points: PointSet, added: Option<&PointSet>) -> Result<PointSet, RunError> {
    let Some(added) = added else {
        return Ok(points);
    };
    let fits = points.blocks.len() == added.blocks.len()
        && points
            .blocks
            .iter()
            .zip(&added.blocks)
            .all(|(mine, theirs)| {
                let kind = |a: bool, b: bool| a == b || theirs.n == 0;
                let per_row = mine.points.len().checked_div(mine.n).unwrap_or(0);
                kind(mine.normals.is_some(), theirs.normals.is_some())
                    && kind(mine.partner.is_some(), theirs.partner.is_some())
                    && kind(mine.data_rows.is_some(), theirs.data_rows.is_some())
                    && (mine.n == 0 || theirs.points.len() == theirs.n * per_row)
                    && theirs
                        .normals
                        .as_ref()
                        .is_none_or(|v| v.len() == theirs.points.len())
                    && theirs
                        .partner
                        .as_ref()
                        .is_none_or(|v| v.len() == theirs.points.len())
                    && theirs
                        .data_rows
                        .as_ref()
                        .is_none_or(|v| v.len() == theirs.n)
            });
    if !fits {
        return Err(RunError::Resume(
            "the saved points of `adaptive = rar` do not fit the problem".to_string(),
        ));
    }
    points.append(added);
    Ok(points)
}

/// One refinement of `sample adaptive = rar` at `theta`: the points each sampled block
/// adds ([`crate::ir::Growth::added`]: a share of its `initial` count, none past the
/// limit), drawn from a uniform pool ten times its initial count ([`candidate_points`])
/// by the residual there ([`rar_points`]); `None` when no block grows any more.
///
/// # Errors
/// As [`candidate_points`].
fn refinement<B: Backend>(
    problem: &Problem,
    program: &CompiledProblem<B>,
    initial: &[usize],
    added: Option<&PointSet>,
    seed: u64,
    theta: &[f64],
) -> Result<Option<PointSet>, SampleError> {
    let Some((settings, growth)) = problem
        .sample
        .adaptive
        .as_ref()
        .and_then(|a| a.growth.map(|g| (a, g)))
    else {
        return Ok(None);
    };
    let counts: Vec<usize> = initial
        .iter()
        .enumerate()
        .map(|(b, &n0)| {
            if matches!(problem.blocks[b].region, crate::ir::Region::Data { .. }) {
                return 0;
            }
            let held = n0 + added.map_or(0, |a| a.blocks[b].n);
            growth.added(n0, held)
        })
        .collect();
    if counts.iter().all(|&n| n == 0) {
        return Ok(None);
    }
    let pool = candidate_points(problem, seed)?;
    let residual = program.residual(theta, &pool);
    Ok(Some(rar_points(
        problem, settings, &pool, &residual, &counts, seed,
    )))
}

/// The iteration after which the training points of `problem` stop changing, where
/// `initial` are the sampler's counts per block: 0 on fixed points, that of the last
/// refinement with `adaptive = rar` (every block at its limit), and never (`None`) with
/// `adaptive = rad` or `resample`, which draw new points for as long as the run goes.
fn points_fixed_after(problem: &Problem, initial: &[usize]) -> Option<usize> {
    if problem.sample.resample.is_some() {
        return None;
    }
    let Some(adaptive) = &problem.sample.adaptive else {
        return Some(0);
    };
    let growth = adaptive.growth?;
    let refinements = initial
        .iter()
        .zip(&problem.blocks)
        .filter(|(_, block)| !matches!(block.region, crate::ir::Region::Data { .. }))
        .map(|(&n0, _)| growth.refinements(n0))
        .max()
        .unwrap_or(0);
    Some(refinements * adaptive.every)
}

/// A redraw of the training points, asked for by the run's callback after an iteration.
enum Redraw {
    /// `resample = every k`: the sampler's points of this seed.
    Fresh(u64),
    /// `adaptive = rad every m`: drawn by the residual at `theta` ([`training_points`]).
    Adaptive { seed: u64, theta: Vec<f64> },
    /// `adaptive = rar every m`: these points join the ones held ([`refinement`]).
    Append(PointSet),
}

/// A compiled problem on points that can be swapped between iterations.
struct Resampling<B: Backend> {
    inner: PdeLeastSquares<B>,
    problem: Problem,
    /// Set by the callback: draw new points before the next evaluation.
    pending: Rc<RefCell<Option<Redraw>>>,
    failure: Option<SampleError>,
    /// Point sets swapped in so far ([`LeastSquares::points_generation`]).
    generation: u64,
    /// `causal = ε`: the slabs of the current points ([`CausalSlabs`]).
    causal: Option<CausalSlabs>,
    /// The row scales of the current step: set from the residual at each
    /// `residual_and_jacobian` (and Adam's `loss_and_gradient`), held for the step's
    /// trials so that its gain ratio compares one loss.
    scales: Option<Vec<f64>>,
}

impl<B: Backend> Resampling<B> {
    /// Swaps in the points asked for, if any. The optimizers see only the new rows at
    /// their next evaluation: every method evaluates r (and J) afresh at each step.
    fn refresh(&mut self) {
        let Some(redraw) = self.pending.borrow_mut().take() else {
            return;
        };
        let points = match redraw {
            Redraw::Fresh(seed) => sample_points(&self.problem, seed),
            Redraw::Adaptive { seed, theta } => {
                training_points(&self.problem, &self.inner.program, seed, Some(&theta))
            }
            Redraw::Append(added) => {
                let mut points = self.inner.points.clone();
                points.append(&added);
                Ok(points)
            }
        };
        match points {
            Ok(points) => {
                self.inner.points = points;
                self.generation += 1;
                if let Some(slabs) = self.causal.as_mut() {
                    *slabs = CausalSlabs::new(&self.problem, &self.inner.points, slabs.epsilon());
                    self.scales = None;
                }
            }
            Err(e) => self.failure = Some(e),
        }
    }

    /// The current step's row scales, set from `r` (unweighted) when none are held.
    fn held_scales(&mut self, r: &[f64]) -> Option<&[f64]> {
        let slabs = self.causal.as_ref()?;
        Some(self.scales.get_or_insert_with(|| slabs.row_scales(r)))
    }
}

impl<B: Backend> LeastSquares for Resampling<B> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }

    /// The rows of the next evaluation: those of the points held, and of the points
    /// `adaptive = rar` has asked to add (swapped in at that evaluation).
    fn n_residuals(&self) -> usize {
        let pending = match &*self.pending.borrow() {
            Some(Redraw::Append(added)) => added.n_rows(),
            _ => 0,
        };
        self.inner.n_residuals() + pending
    }

    /// With causal weighting, every call starts a step: the weights are set from this
    /// residual.
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.refresh();
        let (mut r, mut j) = self.inner.residual_and_jacobian(theta);
        self.scales = None;
        let p = self.inner.n_params();
        if let Some(scales) = self.held_scales(&r) {
            crate::compile::causal::scale_rows(scales, &mut r, Some(&mut j), p);
        }
        (r, j)
    }

    /// As [`Self::residual_and_jacobian`]: the weights are set from this residual and
    /// scale the rows as they are computed.
    fn residual_and_jacobian_rows(
        &mut self,
        theta: &[f64],
    ) -> Option<(Vec<f64>, Box<dyn JacobianRows>)> {
        self.refresh();
        let (mut r, rows) = self.inner.residual_and_jacobian_rows(theta)?;
        self.scales = None;
        let Some(scales) = self.held_scales(&r).map(<[f64]>::to_vec) else {
            return Some((r, rows));
        };
        crate::compile::causal::scale_rows(&scales, &mut r, None, 0);
        Some((r, Box::new(ScaledRows::new(rows, scales))))
    }

    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        self.refresh();
        let mut r = self.inner.residual(theta);
        if let Some(scales) = self.held_scales(&r) {
            crate::compile::causal::scale_rows(scales, &mut r, None, 0);
        }
        r
    }

    fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
        self.refresh();
        if self.causal.is_none() {
            return self.inner.losses(thetas);
        }
        self.inner
            .residuals(thetas)
            .into_iter()
            .map(|mut r| {
                if let Some(scales) = self.held_scales(&r) {
                    crate::compile::causal::scale_rows(scales, &mut r, None, 0);
                }
                0.5 * r.iter().map(|v| v * v).sum::<f64>()
            })
            .collect()
    }

    /// With causal weighting, every call starts a step (Adam and GD call it once per
    /// step, then `losses`) and forms J, whose rows the weights scale.
    fn loss_and_gradient(&mut self, theta: &[f64]) -> (f64, Vec<f64>) {
        if self.causal.is_none() {
            self.refresh();
            return self.inner.loss_and_gradient(theta);
        }
        let (r, j) = self.residual_and_jacobian(theta);
        crate::solve::loss_and_gradient_of(&r, &j, self.inner.n_params())
    }

    fn locate_row(&self, row: usize) -> Option<usize> {
        self.inner.locate_row(row)
    }

    fn points_generation(&mut self) -> u64 {
        self.refresh();
        self.generation
    }
}

/// Solves `problem` on `device`: samples points, initialises the network from
/// `config.seed()`, runs the optimizer, and evaluates the errors on the held-out
/// test set. `callback` sees every iteration and may stop the run.
///
/// # Errors
/// Compilation, sampling or an unrecoverable solver failure.
pub fn run<B: Backend>(
    problem: &Problem,
    device: &B::Device,
    config: &RunConfig,
    callback: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<RunReport, RunError> {
    run_from::<B>(problem, device, config, None, callback).map(|(report, _)| report)
}

/// [`run`], optionally continuing from a saved [`RunState`] of the same problem and
/// settings (the checked problem is the caller's duty: see
/// [`crate::output::checkpoint`]). A run continued from the state after iteration
/// `k` takes the same steps and records the same history as the uninterrupted run.
/// Returns the report and the final state.
///
/// # Errors
/// Compilation, sampling, an unrecoverable solver failure, or a `start` whose
/// vectors do not fit the problem ([`RunError::Resume`]).
pub fn run_from<B: Backend>(
    problem: &Problem,
    device: &B::Device,
    config: &RunConfig,
    start: Option<RunState>,
    mut callback: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<(RunReport, RunState), RunError> {
    let clock = Instant::now();
    let program = CompiledProblem::<B>::new(problem, device)?;
    let points_seed = start.as_ref().map_or(config.seed(), |s| s.points_seed);
    let points_adapted_at = start.as_ref().and_then(|s| s.points_adapted_at.clone());
    let earlier_s = start.as_ref().map_or(0.0, |s| s.elapsed_s);
    if let Some(state) = &start {
        state
            .check_fits(program.n_params())
            .map_err(RunError::Resume)?;
    }
    let points = training_points(problem, &program, points_seed, points_adapted_at.as_deref())?;
    // `adaptive = rar`: the sampler's counts, which the refinements add shares of.
    let initial_counts: Vec<usize> = points.blocks.iter().map(|b| b.n).collect();
    let points_added = start.as_ref().and_then(|s| s.points_added.clone());
    let points = with_added(points, points_added.as_ref())?;
    let fixed_after = points_fixed_after(problem, &initial_counts);
    // While the points move (`adaptive = rad`), an iterate is kept for its held-out loss
    // ([`BestIterate`]); runs whose points settle return their last iterate.
    let keeps_best = problem.sample.adaptive.is_some() && fixed_after.is_none();
    // The test set is drawn from its own stream, independent of training points.
    let test = test_points(problem, config.seed())?;
    // Drawn once; a problem whose held-out set cannot be drawn is reported without it.
    let heldout_set = heldout_points(problem, config.seed()).ok();
    let (mut theta, mut error_history, mut heldout_history, mut best, solve_start) = match start {
        Some(state) => {
            state
                .solver
                .check(&config.solve, program.n_params())
                .map_err(|e| RunError::Resume(e.to_string()))?;
            let start = SolveStart {
                state: state.solver,
                history: state.history,
                elapsed_s: state.elapsed_s,
            };
            (
                state.theta,
                state.error_history,
                state.heldout_history,
                state.best.filter(|_| keeps_best),
                Some(start),
            )
        }
        None => (
            program.init_params(config.seed()),
            Vec::new(),
            Vec::new(),
            None,
            None,
        ),
    };
    let evaluator = program.clone();
    let pending = Rc::new(RefCell::new(None));
    let next_points_seed = Cell::new(points_seed);
    let next_adapted_at = RefCell::new(points_adapted_at);
    let added_so_far = RefCell::new(points_added);
    let mut refine_failure = None;
    if config.solve.causal.is_some() && problem.time_coord().is_none() {
        return Err(RunError::Option {
            key: "causal".to_string(),
            message: "causal weighting needs a time coordinate".to_string(),
        });
    }
    if config.solve.causal.is_some()
        && config.solve.optimizer.kind() == crate::solve::OptimizerKind::Lbfgs
    {
        return Err(RunError::Option {
            key: "causal".to_string(),
            message: "causal weighting changes the loss at every step, and L-BFGS's \
                      curvature pairs need one loss: use another optimizer, or no \
                      causal weighting"
                .to_string(),
        });
    }
    let causal = config
        .solve
        .causal
        .map(|epsilon| CausalSlabs::new(problem, &points, epsilon));
    let mut least_squares = Resampling {
        inner: PdeLeastSquares::new(program, points)?,
        problem: problem.clone(),
        pending: Rc::clone(&pending),
        failure: None,
        generation: 0,
        causal,
        scales: None,
    };
    let resample = problem.sample.resample;
    let adaptive = problem.sample.adaptive;
    let mut eval_failure = None;
    // The stall rule watches the held-out loss too, so it runs here, not in the driver.
    let stall_rule = config
        .solve
        .patience
        .map(|window| (window, config.solve.min_improvement));
    let driver_config = SolveConfig {
        patience: None,
        ..config.solve.clone()
    };
    let mut stalled = false;
    let (mut report, solver_state) = crate::solve::driver::solve_from(
        &mut least_squares,
        &mut theta,
        &driver_config,
        solve_start,
        |history, theta, solver| {
            let Some(record) = history.last() else {
                return ControlFlow::Continue(());
            };
            let due = config.eval_every > 0
                && record.iteration % config.eval_every == 0
                && !problem.exact.is_empty();
            let errors = if due {
                match evaluator.exact_errors(problem, theta, &test) {
                    Ok(errors) => Some(errors),
                    Err(e) => {
                        eval_failure = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            } else {
                None
            };
            // A new, reproducible point set: the seed mixes in the iteration.
            let redraw_seed = config.seed() ^ (record.iteration as u64).rotate_left(32);
            if resample.is_some_and(|k| record.iteration % k == 0) {
                *pending.borrow_mut() = Some(Redraw::Fresh(redraw_seed));
                next_points_seed.set(redraw_seed);
            }
            let due = adaptive.filter(|a| record.iteration % a.every == 0);
            if due.is_some_and(|a| a.growth.is_some()) {
                // Drawn now, so that the state saved below holds them.
                let drawn = refinement(
                    problem,
                    &evaluator,
                    &initial_counts,
                    added_so_far.borrow().as_ref(),
                    redraw_seed,
                    theta,
                );
                match drawn {
                    Ok(Some(new)) => {
                        let mut so_far = added_so_far.borrow_mut();
                        match so_far.as_mut() {
                            Some(all) => all.append(&new),
                            None => *so_far = Some(new.clone()),
                        }
                        *pending.borrow_mut() = Some(Redraw::Append(new));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        refine_failure = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            } else if due.is_some() {
                *pending.borrow_mut() = Some(Redraw::Adaptive {
                    seed: redraw_seed,
                    theta: theta.to_vec(),
                });
                next_points_seed.set(redraw_seed);
                *next_adapted_at.borrow_mut() = Some(theta.to_vec());
            }
            if let Some(errors) = errors {
                error_history.push((record.iteration, errors));
            }
            if let Some(points) = heldout_set
                .as_ref()
                .filter(|_| config.eval_every > 0 && record.iteration % config.eval_every == 0)
            {
                let loss = HeldOut::loss(&evaluator, points, theta);
                heldout_history.push((record.iteration, loss));
                if keeps_best {
                    BestIterate::update(&mut best, record.iteration, loss, theta);
                }
            }
            let evaluated = error_history
                .last()
                .filter(|(it, _)| *it == record.iteration)
                .map(|(_, errors)| errors.as_slice());
            let snapshot = || RunState {
                theta: theta.to_vec(),
                solver: solver.state(),
                points_seed: next_points_seed.get(),
                points_adapted_at: next_adapted_at.borrow().clone(),
                points_added: added_so_far.borrow().clone(),
                history: history.to_vec(),
                error_history: error_history.clone(),
                heldout_history: heldout_history.clone(),
                elapsed_s: record.wall_s,
                best: best.clone(),
            };
            let flow = callback(&Progress {
                record,
                errors: evaluated,
                snapshot: &snapshot,
                whole: solver.state_is_whole(),
            });
            if let (ControlFlow::Continue(()), Some((window, min_improvement))) = (flow, stall_rule)
            {
                // Adaptive points gather where the residual is large, so the training
                // loss jumps at every redraw or addition: it is compared only over the
                // iterations on the current points (those after iteration `since`).
                let since = adaptive.map_or(0, |a| {
                    let drawn = record.iteration.saturating_sub(1) / a.every * a.every;
                    fixed_after.map_or(drawn, |fixed| drawn.min(fixed))
                });
                let losses: Vec<(usize, f64)> = history
                    .iter()
                    .filter(|r| r.iteration > since)
                    .map(|r| (r.iteration, r.loss))
                    .collect();
                let training = series_stalled(&losses, window, min_improvement);
                let heldout = series_stalled(&heldout_history, window, min_improvement);
                let stalled_now = match training {
                    // No held-out loss old enough to compare: the training loss decides.
                    Some(true) => heldout != Some(false),
                    // Too few iterations on the current adaptive points to judge the
                    // training loss: the held-out loss decides.
                    None => adaptive.is_some() && heldout == Some(true),
                    Some(false) => false,
                };
                if stalled_now {
                    stalled = true;
                    return ControlFlow::Break(());
                }
            }
            flow
        },
    )
    .map_err(|e| match e {
        SolveError::IncompatibleState { reason } => RunError::Resume(reason),
        other => RunError::Solve(other),
    })?;
    if let Some(e) = eval_failure {
        return Err(e.into());
    }
    if let Some(e) = refine_failure {
        return Err(e.into());
    }
    if stalled {
        report.stopped_because = StopReason::Stalled;
    }
    if let Some(e) = least_squares.failure.take() {
        return Err(e.into());
    }
    let mut heldout = heldout_set
        .as_ref()
        .map(|points| HeldOut::measure(&evaluator, points, config.seed(), &theta));
    let state = RunState {
        theta,
        solver: solver_state,
        points_seed: next_points_seed.get(),
        points_adapted_at: next_adapted_at.borrow().clone(),
        points_added: added_so_far.borrow().clone(),
        history: report.history.clone(),
        error_history: error_history.clone(),
        heldout_history: heldout_history.clone(),
        elapsed_s: report.wall_s,
        best,
    };
    let last_heldout = heldout.map_or(f64::INFINITY, |h| h.loss);
    let (theta, result_iteration, returned_heldout) = returned_iterate(&state, || last_heldout);
    let theta = theta.to_vec();
    if let (Some(h), Some(loss)) = (heldout.as_mut(), returned_heldout) {
        // An earlier iterate: its losses on the last training points and the held-out set.
        report.final_loss = least_squares.inner.losses(std::slice::from_ref(&theta))[0];
        h.loss = loss;
    }
    let errors = evaluator.exact_errors(problem, &theta, &test)?;
    let params = named_params(problem, &theta);
    Ok((
        RunReport {
            n_params: evaluator.n_params(),
            n_points: least_squares.inner.points.n_rows(),
            report,
            theta,
            result_iteration,
            errors,
            error_history,
            heldout_history,
            params,
            wall_s: earlier_s + clock.elapsed().as_secs_f64(),
            points: least_squares.inner.points.clone(),
            optimizer: config.solve.optimizer.clone(),
            heldout,
        },
        state,
    ))
}

/// The trainable params by name: they are the last entries of θ, in declaration order.
fn named_params(problem: &Problem, theta: &[f64]) -> Vec<(String, f64)> {
    let first = theta.len() - problem.params.len();
    problem
        .params
        .iter()
        .zip(&theta[first..])
        .map(|(p, &v)| (p.name.clone(), v))
        .collect()
}

/// The [`RunReport`] of a saved state, as [`run_from`] would return it had the run
/// stopped there: errors on the test set and the loss on the current training points
/// are evaluated again; `stopped_because` is [`StopReason::MaxIterations`] when the
/// iteration limit was reached, else [`StopReason::Callback`]. Used to redraw a run's
/// figures from its checkpoint.
///
/// # Errors
/// Compilation or sampling fails, or the state does not fit the problem.
pub fn report_of_state<B: Backend>(
    problem: &Problem,
    device: &B::Device,
    config: &RunConfig,
    state: &RunState,
) -> Result<RunReport, RunError> {
    let program = CompiledProblem::<B>::new(problem, device)?;
    state
        .check_fits(program.n_params())
        .map_err(RunError::Resume)?;
    let heldout_set = heldout_points(problem, config.seed()).ok();
    let (theta, result_iteration, _) = returned_iterate(state, || {
        heldout_set.as_ref().map_or(f64::INFINITY, |points| {
            HeldOut::loss(&program, points, &state.theta)
        })
    });
    let test = test_points(problem, config.seed())?;
    let errors = program.exact_errors(problem, theta, &test)?;
    let points = training_points(
        problem,
        &program,
        state.points_seed,
        state.points_adapted_at.as_deref(),
    )?;
    let points = with_added(points, state.points_added.as_ref())?;
    let n_points = points.n_rows();
    let mut least_squares = PdeLeastSquares::new(program.clone(), points)?;
    let final_loss = least_squares.losses(&[theta.to_vec()])[0];
    let history = &state.history;
    let report = SolveReport {
        final_loss,
        iterations: history.len(),
        stopped_because: if state.iteration() >= config.solve.max_iterations {
            StopReason::MaxIterations
        } else {
            StopReason::Callback
        },
        history: history.clone(),
        rank: history.iter().rev().find_map(|r| r.rank),
        rejected_steps: history.iter().filter(|r| !r.accepted).count(),
        retries: history.iter().map(|r| r.retries).sum(),
        wall_s: state.elapsed_s,
    };
    let heldout = heldout_set
        .as_ref()
        .map(|points| HeldOut::measure(&program, points, config.seed(), theta));
    Ok(RunReport {
        report,
        theta: theta.to_vec(),
        result_iteration,
        n_params: program.n_params(),
        n_points,
        errors,
        error_history: state.error_history.clone(),
        heldout_history: state.heldout_history.clone(),
        params: named_params(problem, theta),
        wall_s: state.elapsed_s,
        points: least_squares.points,
        optimizer: config.solve.optimizer.clone(),
        heldout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_added_points_must_fit_the_sampled_ones() {
        use crate::compile::BlockPoints;
        let block = |n: usize, normals: bool| BlockPoints {
            n,
            points: vec![0.5; 2 * n],
            normals: normals.then(|| vec![1.0; 2 * n]),
            ..BlockPoints::default()
        };
        let sampled = PointSet {
            blocks: vec![block(4, false), block(3, true)],
        };
        let added = PointSet {
            blocks: vec![block(2, false), block(1, true)],
        };
        let joined = with_added(sampled.clone(), Some(&added)).unwrap();
        assert_eq!(joined.blocks[0].n, 6);
        assert_eq!(joined.blocks[1].normals.as_ref().unwrap().len(), 8);
        assert_eq!(with_added(sampled.clone(), None).unwrap(), sampled);
        // An empty block may lack what the sampled one has.
        let empty = PointSet {
            blocks: vec![block(2, false), block(0, false)],
        };
        assert_eq!(
            with_added(sampled.clone(), Some(&empty)).unwrap().blocks[1].n,
            3
        );
        let refused = [
            // Another number of blocks.
            PointSet {
                blocks: vec![block(2, false)],
            },
            // Boundary points without their normals.
            PointSet {
                blocks: vec![block(2, false), block(1, false)],
            },
            // Normals where the block has none.
            PointSet {
                blocks: vec![block(2, true), block(1, true)],
            },
            // Rows of another width.
            PointSet {
                blocks: vec![
                    BlockPoints {
                        n: 2,
                        points: vec![0.5; 6],
                        ..BlockPoints::default()
                    },
                    block(0, true),
                ],
            },
        ];
        for added in refused {
            assert!(
                matches!(
                    with_added(sampled.clone(), Some(&added)),
                    Err(RunError::Resume(_))
                ),
                "{added:?}"
            );
        }
    }
    use crate::solve::{AnagramCutoff, AnagramFactorization, SngdDamping};

    fn anagram() -> SolveConfig {
        SolveConfig {
            optimizer: crate::solve::OptimizerKind::Anagram.default_config(),
            ..SolveConfig::default()
        }
    }

    /// The sample-limited rule on the losses of measured runs (docs/PERFORMANCE.md,
    /// "laplace5d with offset data"): (training loss, held-out loss, its initial value,
    /// sample-limited).
    #[test]
    fn the_heldout_rule_separates_measured_runs_by_their_gap_and_progress() {
        let runs = [
            // Burgers' shock between 2,000 uniform points: error 0.33.
            ("burgers, uniform points", 1.2e-10, 0.34, 0.45, true),
            // Fits 1,000 points to round-off, error 2.3e-5: only the wide gap sees it.
            ("laplace5d, offset data", 1.3e-28, 2.13e-4, 218.1, true),
            // The seam's kink between 4,000 points, error 4.6e-4: the wide gap.
            ("allen_cahn_periodic", 4.5e-12, 7.8e-7, 1.443, true),
            // Accurate runs: error 1.2e-8, 2.5e-5 (the largest allen_cahn gap), 1.6e-11.
            ("poisson2d", 4.8e-16, 3.3e-13, 50.0, false),
            ("allen_cahn", 1.8e-11, 1.0e-7, 0.435, false),
            ("laplace5d", 3.0e-17, 1.27e-16, 1.35, false),
            // Adaptive points with a held-out loss below the training loss.
            ("laplace5d, rad", 1.25e-6, 7.5e-7, 218.1, false),
        ];
        for (name, training, loss, initial_loss, limited) in runs {
            let heldout = HeldOut {
                points: 4_000,
                initial_loss,
                loss,
            };
            assert_eq!(heldout.misses_the_equations(training), limited, "{name}");
        }
        // The wide gap needs both of its conditions, and the narrow one stays as it was.
        let at = |loss: f64| HeldOut {
            points: 1,
            initial_loss: 1.0,
            loss,
        };
        assert!(at(2e-9).misses_the_equations(1e-13));
        assert!(!at(5e-10).misses_the_equations(1e-15));
        assert!(!at(2e-9).misses_the_equations(1e-12));
        assert!(at(2e-6).misses_the_equations(1e-8));
        assert!(!at(2e-6).misses_the_equations(1e-7));
        assert!(at(f64::NAN).misses_the_equations(1.0));
    }

    /// A file with residual-adaptive points gets the longer stall window, unless its
    /// `solve` block names one.
    #[test]
    fn adaptive_points_lengthen_the_default_stall_window() {
        let base = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                    dt(u) - dxx(u) = 0 on interior\nu = sin(pi*x) on initial\n\
                    u = 0 on boundary\nmodel mlp(layers = [6], activation = tanh)\n";
        let patience = |tail: &str| {
            let problem = crate::Problem::from_str(&format!("{base}{tail}")).unwrap();
            solve_config(problem.ir()).unwrap().patience
        };
        // The documented defaults (docs/language.md).
        assert_eq!(patience("sample interior = 300\n"), Some(100));
        assert_eq!(
            patience("sample interior = 300, adaptive = rad\n"),
            Some(200)
        );
        assert_eq!(
            patience("sample interior = 300, adaptive = rad\nsolve patience = 50\n"),
            Some(50)
        );
        assert_eq!(
            patience("sample interior = 300, adaptive = rad\nsolve patience = 0\n"),
            None
        );
    }

    /// The optimizers see each step's rows scaled by the causal weights of the residual
    /// at the step's θ; the step's trials are weighed with the same weights.
    #[test]
    fn causal_weights_are_set_at_each_step_and_held_for_its_trials() {
        let source = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                      dt(u) - dxx(u) = 0 on interior\nu = sin(pi*x) on initial\n\
                      u = 0 on boundary\n\
                      model mlp(layers = [6], activation = tanh, constraints = soft)\n\
                      sample interior = 300, initial = 20, boundary = 20\nsolve causal = 3\n";
        let problem = crate::Problem::from_str(source).unwrap().ir().clone();
        assert_eq!(solve_config(&problem).unwrap().causal, Some(3.0));
        let program =
            CompiledProblem::<burn_ndarray::NdArray<f64>>::new(&problem, &Default::default())
                .unwrap();
        let points = sample_points(&problem, 0).unwrap();
        let slabs = CausalSlabs::new(&problem, &points, 3.0);
        let mut plain = PdeLeastSquares::new(program.clone(), points).unwrap();
        let mut weighted = Resampling {
            inner: plain.clone(),
            problem: problem.clone(),
            pending: Rc::new(RefCell::new(None)),
            failure: None,
            generation: 0,
            causal: Some(slabs.clone()),
            scales: None,
        };
        let p = program.n_params();
        let theta = program.init_params(1);
        let other: Vec<f64> = theta.iter().map(|v| 1.5 * v + 0.1).collect();
        let (r, j) = plain.residual_and_jacobian(&theta);
        let (rw, jw) = weighted.residual_and_jacobian(&theta);
        let scales = slabs.row_scales(&r);
        assert!(
            scales.iter().any(|s| *s < 0.5),
            "late slabs are weighted down"
        );
        assert!(
            scales.iter().filter(|s| **s == 1.0).count() >= 40,
            "initial, boundary"
        );
        for (i, s) in scales.iter().enumerate() {
            assert_eq!(rw[i], s * r[i]);
            for k in 0..p {
                assert_eq!(jw[i * p + k], s * j[i * p + k]);
            }
        }
        // A trial at another θ is weighed with this step's weights, not its own.
        let r_other = plain.residual(&other);
        let loss_with = |scales: &[f64]| {
            0.5 * r_other
                .iter()
                .zip(scales)
                .map(|(v, s)| (v * s).powi(2))
                .sum::<f64>()
        };
        let (held, own) = (loss_with(&scales), loss_with(&slabs.row_scales(&r_other)));
        assert!((held - own).abs() > 1e-3 * held, "{held} vs {own}");
        let losses = weighted.losses(&[other.clone(), theta.clone()]);
        assert!((losses[0] - held).abs() <= 1e-12 * held);
        let here = 0.5 * rw.iter().map(|v| v * v).sum::<f64>();
        assert!((losses[1] - here).abs() <= 1e-12 * here);
        let residual = weighted.residual(&other);
        assert!((0.5 * residual.iter().map(|v| v * v).sum::<f64>() - held).abs() <= 1e-12 * held);
        // The next step's weights come from its own residual.
        let (next, _) = weighted.residual_and_jacobian(&other);
        assert!((0.5 * next.iter().map(|v| v * v).sum::<f64>() - own).abs() <= 1e-12 * own);
        // Adam's gradient is Jᵀr of the weighted rows.
        let (loss, g) = weighted.loss_and_gradient(&theta);
        assert!((loss - here).abs() <= 1e-12 * here);
        for (k, gk) in g.iter().enumerate() {
            let expected: f64 = (0..rw.len()).map(|i| jw[i * p + k] * rw[i]).sum();
            assert!((gk - expected).abs() <= 1e-10 * (1.0 + expected.abs()));
        }
    }

    #[test]
    fn every_optimizer_option_is_accepted_in_a_solve_block() {
        // Each option of `apply_option` must also pass the front end's key check.
        let cases = [
            ("anagram", "factorization = svd"),
            ("anagram", "cutoff = 1e-8"),
            ("sngd", "damping = off"),
            ("adam", "lr_decay = 0.999"),
        ];
        for (optimizer, option) in cases {
            let source = format!(
                "space x in [0, 1]\nfield u\n-dxx(u) = 1 on interior\nu = 0 on boundary\n\
                 solve optimizer = {optimizer}, {option}\n"
            );
            let problem = crate::Problem::from_str(&source)
                .unwrap_or_else(|e| panic!("`{option}` refused: {e:?}"));
            let config = solve_config(problem.ir()).unwrap();
            match (&config.optimizer, option) {
                (OptimizerConfig::Anagram(c), "factorization = svd") => {
                    assert_eq!(c.factorization, AnagramFactorization::Svd)
                }
                (OptimizerConfig::Anagram(c), _) => {
                    assert_eq!(c.cutoff, AnagramCutoff::Relative(1e-8))
                }
                (OptimizerConfig::Sngd(c), _) => assert_eq!(c.damping, SngdDamping::Off),
                (OptimizerConfig::Adam(c), _) => assert_eq!(c.lr_decay, 0.999),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn factorization_option_selects_the_anagram_path_and_is_refused_elsewhere() {
        let mut config = anagram();
        let word = |w: &str| ConfigScalar::Word(w.to_string());
        apply_option(&mut config, "factorization", &word("svd")).unwrap();
        let OptimizerConfig::Anagram(c) = &config.optimizer else {
            panic!("not anagram")
        };
        assert_eq!(c.factorization, AnagramFactorization::Svd);
        apply_option(&mut config, "factorization", &word("gram")).unwrap();
        let OptimizerConfig::Anagram(c) = &config.optimizer else {
            panic!("not anagram")
        };
        assert_eq!(c.factorization, AnagramFactorization::Gram);
        apply_option(&mut config, "factorization", &word("auto")).unwrap();
        let OptimizerConfig::Anagram(c) = &config.optimizer else {
            panic!("not anagram")
        };
        assert_eq!(c.factorization, AnagramFactorization::Auto);

        let err = apply_option(&mut config, "factorization", &word("qr")).unwrap_err();
        assert!(err.to_string().contains("`auto`, `gram` or `svd`"), "{err}");
        let mut engd = SolveConfig {
            optimizer: crate::solve::OptimizerKind::Engd.default_config(),
            ..SolveConfig::default()
        };
        let err = apply_option(&mut engd, "factorization", &word("svd")).unwrap_err();
        assert!(err.to_string().contains("does not apply to engd"), "{err}");
    }

    /// A run on adaptive points returns the iterate of its lowest held-out loss; the
    /// same run on fixed points returns its last iterate. The saved state keeps the last
    /// iterate (a resumed run goes on from it) beside the returned one.
    #[test]
    fn an_adaptive_run_returns_the_iterate_of_its_lowest_heldout_loss() {
        let base = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                    dt(u) - 0.25*dxx(u) = 0 on interior\nu = sin(pi*x) on initial\n\
                    u = 0 on boundary\nexact u = exp(-pi^2*t/4)*sin(pi*x)\n\
                    model mlp(layers = [8], activation = tanh)\n";
        let run_with = |sample: &str, iterations: usize, patience: Option<usize>| {
            let source =
                format!("{base}sample interior = 12, initial = 6, boundary = 6, {sample}\n");
            let problem = crate::Problem::from_str(&source).unwrap().ir().clone();
            let config = RunConfig {
                solve: SolveConfig {
                    optimizer: crate::solve::OptimizerKind::Engd.default_config(),
                    max_iterations: iterations,
                    patience,
                    seed: 1,
                    ..SolveConfig::default()
                },
                eval_every: 1,
            };
            let device = Default::default();
            let (report, state) =
                run_from::<burn_ndarray::NdArray<f64>>(&problem, &device, &config, None, |_| {
                    ControlFlow::Continue(())
                })
                .unwrap();
            let program =
                CompiledProblem::<burn_ndarray::NdArray<f64>>::new(&problem, &device).unwrap();
            (problem, program, report, state)
        };
        let run = |sample: &str, iterations: usize| run_with(sample, iterations, None);

        let (problem, program, report, state) = run("adaptive = rad(2, 0.5) every 2", 40);
        let last = state.iteration();
        assert_eq!(last, 40);
        let &(lowest_at, lowest) = report
            .heldout_history
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!(
            lowest_at < last,
            "the held-out loss was lowest at the end: {:?}",
            report.heldout_history
        );
        assert_eq!(report.result_iteration, lowest_at);
        assert_eq!(state.best.as_ref().unwrap().iteration, lowest_at);
        let heldout = heldout_points(&problem, 1).unwrap();
        assert_eq!(HeldOut::loss(&program, &heldout, &report.theta), lowest);
        assert!(HeldOut::loss(&program, &heldout, &state.theta) > lowest);
        assert_eq!(report.heldout.unwrap().loss, lowest);
        let test = test_points(&problem, 1).unwrap();
        let errors = program
            .exact_errors(&problem, &report.theta, &test)
            .unwrap();
        assert_eq!(report.errors, errors);
        let last_errors = program.exact_errors(&problem, &state.theta, &test).unwrap();
        assert_ne!(report.errors, last_errors);
        // The figures drawn again from the saved state show the same parameters.
        let config = RunConfig {
            solve: SolveConfig::default(),
            eval_every: 1,
        };
        let again = report_of_state::<burn_ndarray::NdArray<f64>>(
            &problem,
            &Default::default(),
            &config,
            &state,
        )
        .unwrap();
        assert_eq!(again.theta, report.theta);
        assert_eq!(again.result_iteration, lowest_at);
        // `pdec eval` evaluates them too.
        assert_eq!(
            returned_parameters(&problem, &program, 1, &state),
            report.theta
        );

        let (_, _, report, state) = run("resample = every 2", 40);
        assert!(state.best.is_none());
        assert_eq!(report.result_iteration, 40);
        assert_eq!(report.theta, state.theta);

        // `rar` keeps its points and stops adding after iteration 24 (twelve refinements
        // of one point to the interior's 12): its training loss compares the iterates
        // from there, so it returns the last one, as on fixed points, even where the
        // held-out loss was lower earlier.
        let (_, _, report, state) = run("adaptive = rar every 2", 60);
        let &(lowest_at, _) = report
            .heldout_history
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!(lowest_at < 60, "{:?}", report.heldout_history);
        assert!(state.best.is_none());
        assert_eq!(report.result_iteration, 60);
        assert_eq!(report.theta, state.theta);
        // Nor does the held-out loss stop it while the training loss falls on the
        // settled points: a window of 10 would have stopped it by the held-out loss.
        assert!(lowest_at + 10 < 60);
        let (_, _, windowed, _) = run_with("adaptive = rar every 2", 60, Some(10));
        assert_eq!(windowed.report.stopped_because, StopReason::MaxIterations);
        let losses = |r: &RunReport| r.report.history.iter().map(|h| h.loss).collect::<Vec<_>>();
        assert_eq!(losses(&windowed), losses(&report));
    }

    /// The points of a run stop changing after the last refinement of `rar`, at once on
    /// fixed points, and never with `rad`.
    #[test]
    fn the_points_settle_after_the_last_refinement() {
        let growth = crate::ir::Growth::default();
        // Ten tenths double the count; a block of 3 adds one point at a time up to 6.
        assert_eq!(growth.refinements(4000), 10);
        assert_eq!(growth.refinements(200), 10);
        assert_eq!(growth.refinements(3), 3);
        assert_eq!(growth.refinements(0), 0);
        let wide = crate::ir::Growth {
            add: 0.3,
            limit: 2.0,
        };
        // 0.3, 0.6, 0.9 and the last 0.1 of 10 points.
        assert_eq!(wide.refinements(10), 4);

        let settled = |sample: &str| {
            let source = format!(
                "space x in [0, 1]\nfield u\n-dxx(u) = 1 on interior\nu = 0 on boundary\n\
                 sample interior = 40, boundary = 2{sample}\n"
            );
            let problem = crate::Problem::from_str(&source).unwrap().ir().clone();
            let program =
                CompiledProblem::<burn_ndarray::NdArray<f64>>::new(&problem, &Default::default())
                    .unwrap();
            let points = sample_points(&problem, 0).unwrap();
            program.check_points(&points).unwrap();
            let counts: Vec<usize> = points.blocks.iter().map(|b| b.n).collect();
            points_fixed_after(&problem, &counts)
        };
        assert_eq!(settled(""), Some(0));
        assert_eq!(settled(", adaptive = rad"), None);
        assert_eq!(settled(", resample = every 10"), None);
        // The interior's ten refinements of 4 outlast the boundary's two of 1 point.
        assert_eq!(settled(", adaptive = rar"), Some(250));
        assert_eq!(settled(", adaptive = rar(limit = 1.5) every 10"), Some(50));
    }
}
