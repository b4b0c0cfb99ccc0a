//! The optimization loop shared by all optimizers: configuration, the batched grid
//! line search, step acceptance and damping adaptation, stopping rules, per-iteration
//! records and the final report. Free of printing: progress goes to a callback.

use super::adam::{AdamConfig, AdamState};
use super::anagram::{self, AnagramConfig};
use super::engd::{self, EngdConfig};
use super::lbfgs::{self, LbfgsConfig, LbfgsMemory};
use super::linalg::{self, LinalgError};
use super::sngd::{self, SngdConfig};
use super::LeastSquares;
use faer::Par;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::ops::ControlFlow;
use std::time::Instant;

/// Which optimizer runs, with its settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// Energy natural gradient.
    Engd(EngdConfig),
    /// Sketchy natural gradient (Algorithm 1 of Best McKay et al.).
    Sngd(SngdConfig),
    /// Truncated-SVD natural gradient.
    Anagram(AnagramConfig),
    /// Adam.
    Adam(AdamConfig),
    /// L-BFGS with strong-Wolfe line search.
    Lbfgs(LbfgsConfig),
}

impl OptimizerConfig {
    /// The optimizer's short name (`engd`, `sngd`, `anagram`, `adam`, `lbfgs`).
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Engd(_) => "engd",
            OptimizerConfig::Sngd(_) => "sngd",
            OptimizerConfig::Anagram(_) => "anagram",
            OptimizerConfig::Adam(_) => "adam",
            OptimizerConfig::Lbfgs(_) => "lbfgs",
        }
    }
}

/// The line search of the natural-gradient methods (ENGD, SNGD, ANaGRAM).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LineSearchConfig {
    /// Grid `η ∈ {1, ½, …, 2^-k}` with `k = grid_levels`; default 30 (31 points, all
    /// evaluated in one batched `losses` call).
    pub grid_levels: u32,
    /// Golden-section refinement on `[η*/2, min(2η*, 1)]` around the best grid point,
    /// with this many further evaluations; `None` (default) disables it.
    pub golden_section: Option<usize>,
    /// Walk the grid in batches of `batch` points from a starting point and stop once
    /// the best point lies below `L(θ)` and both its neighbours were worse (exact for a
    /// loss unimodal along the grid; usually 3–6 evaluations instead of 32). `false`
    /// evaluates the whole grid in one batch. Default true.
    pub early_stop: bool,
    /// Start the early-stopping search at the previous accepted step size (its grid
    /// point and both neighbours are the first batch) instead of at `η = 1`. Accepted
    /// steps change little from one iteration to the next, so this takes about two
    /// rounds of evaluations where a search from the top took three to five. Default
    /// true.
    pub warm_start: bool,
    /// Points per further batch of the early-stopping search; default 2.
    pub batch: usize,
    /// How many times a step with no non-increasing grid point is retried (after raising
    /// the damping / redrawing the sketch / raising the cut-off); default 8.
    pub max_retries: usize,
}

impl Default for LineSearchConfig {
    fn default() -> Self {
        Self {
            grid_levels: 30,
            golden_section: None,
            early_stop: true,
            warm_start: true,
            batch: 2,
            max_retries: 8,
        }
    }
}

/// Settings of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SolveConfig {
    /// The optimizer; default ENGD with its defaults.
    pub optimizer: OptimizerConfig,
    /// Iteration limit; default 1,000.
    pub max_iterations: usize,
    /// Stop once the loss is `≤ loss_tol`; default `0` (never).
    pub loss_tol: f64,
    /// Stop once this many seconds have elapsed (checked before each step); default none.
    pub time_budget_s: Option<f64>,
    /// Stop once the best loss has not fallen below `1 − min_improvement` times its
    /// value `patience` iterations earlier ([`made_no_progress`]); default none (off).
    pub patience: Option<usize>,
    /// The relative decrease of the best loss, in `[0, 1)`, that counts as progress for
    /// `patience`; default `1e-2` (with `0` any decrease counts).
    pub min_improvement: f64,
    /// Degree of parallelism of the dense kernels (`0`: the rayon pool's size, `1`:
    /// sequential); default 0. The kernels run on the global rayon pool; size it once
    /// with [`init_thread_pool`].
    pub threads: usize,
    /// Seed of the sketching RNG; default 0.
    pub seed: u64,
    /// Line search of the natural-gradient methods.
    pub line_search: LineSearchConfig,
    /// Stop after this many consecutive rejected steps; default 5.
    pub max_consecutive_rejections: usize,
}

impl Default for SolveConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerConfig::Engd(EngdConfig::default()),
            max_iterations: 1000,
            loss_tol: 0.0,
            time_budget_s: None,
            patience: None,
            min_improvement: 1e-2,
            threads: 0,
            seed: 0,
            line_search: LineSearchConfig::default(),
            max_consecutive_rejections: 5,
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

/// What one iteration did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IterationRecord {
    /// 1-based iteration index.
    pub iteration: usize,
    /// Loss after the step (Adam: at the iterate where the gradient was taken).
    pub loss: f64,
    /// Step size `η` taken (0 if the step was rejected; Adam: the learning rate of the
    /// step, `lr · lr_decay^(t−1)`).
    pub step_size: f64,
    /// Damping `λ` used (ENGD), else `None`.
    pub damping: Option<f64>,
    /// Kept rank (ENGD eigen path, SNGD, ANaGRAM), else `None`.
    pub rank: Option<usize>,
    /// Retries of this step (rejected line searches or failed factorizations).
    pub retries: usize,
    /// Whether the step was accepted.
    pub accepted: bool,
    /// Seconds since the start of the run.
    pub wall_s: f64,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `max_iterations` reached.
    MaxIterations,
    /// Loss `≤ loss_tol`.
    LossTolerance,
    /// Time budget spent.
    TimeBudget,
    /// The callback asked to stop.
    Callback,
    /// `max_consecutive_rejections` steps in a row were rejected (no decrease found).
    Stalled,
    /// The best loss fell by less than `min_improvement` over `patience` iterations.
    NoProgress,
}

impl StopReason {
    /// Stable snake-case name (for output files).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::MaxIterations => "max_iterations",
            StopReason::LossTolerance => "loss_tolerance",
            StopReason::TimeBudget => "time_budget",
            StopReason::Callback => "callback",
            StopReason::Stalled => "stalled",
            StopReason::NoProgress => "no_progress",
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SolveReport {
    /// Loss at the returned parameters.
    pub final_loss: f64,
    /// Iterations performed.
    pub iterations: usize,
    /// Why it stopped.
    pub stopped_because: StopReason,
    /// One record per iteration.
    pub history: Vec<IterationRecord>,
    /// Last kept rank (natural-gradient methods that have one).
    pub rank: Option<usize>,
    /// Total rejected steps.
    pub rejected_steps: usize,
    /// Total retries (rejected line searches and failed factorizations).
    pub retries: usize,
    /// Seconds for the whole run.
    pub wall_s: f64,
}

/// A failure that ends a run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolveError {
    /// A dense kernel failed and could not be recovered by retrying.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
    /// The problem returned vectors of the wrong length.
    #[error("{what} has length {got}, expected {expected}")]
    ShapeMismatch {
        /// Which vector.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The expected length.
        expected: usize,
    },
    /// The problem has no parameters or no residual rows.
    #[error("nothing to optimize: {n_params} parameters, {n_residuals} residual rows")]
    EmptyProblem {
        /// `P`.
        n_params: usize,
        /// `N`.
        n_residuals: usize,
    },
    /// A setting of [`SolveConfig`] is out of its range.
    #[error("invalid solve setting: {reason}")]
    InvalidConfig {
        /// Which setting, and why.
        reason: String,
    },
    /// A saved optimizer state does not fit the configuration or the problem
    /// (another optimizer, or vectors of another length).
    #[error("the saved optimizer state does not fit: {reason}")]
    IncompatibleState {
        /// What does not fit.
        reason: String,
    },
    /// The loss at the current parameters is not finite.
    #[error("the loss is not finite ({loss}) at iteration {iteration}")]
    NonFiniteLoss {
        /// The loss.
        loss: f64,
        /// The iteration.
        iteration: usize,
    },
    /// [`NON_FINITE_LIMIT`] steps in a row were rejected because the residual, the
    /// Jacobian or the search direction held a NaN or an infinity.
    #[error("{}", non_finite_message(*.what, *.row, *.iteration))]
    NonFinite {
        /// Where the last non-finite value appeared.
        what: NonFiniteSource,
        /// The first residual row with a non-finite value (residual or Jacobian), if known.
        row: Option<usize>,
        /// The residual block of that row ([`LeastSquares::locate_row`]), if known.
        block: Option<usize>,
        /// The iteration at which the run gave up.
        iteration: usize,
    },
}

/// Where a non-finite value was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonFiniteSource {
    /// The residual `r(θ)` at the current parameters.
    Residual,
    /// The Jacobian `J(θ)` at the current parameters.
    Jacobian,
    /// Every search direction tried in the step (a failed or ill-posed linear solve).
    Direction,
}

impl NonFiniteSource {
    /// `"residual"`, `"Jacobian"` or `"search direction"`.
    pub fn as_str(self) -> &'static str {
        match self {
            NonFiniteSource::Residual => "residual",
            NonFiniteSource::Jacobian => "Jacobian",
            NonFiniteSource::Direction => "search direction",
        }
    }
}

fn non_finite_message(what: NonFiniteSource, row: Option<usize>, iteration: usize) -> String {
    let row = row.map(|r| format!(" (row {r})")).unwrap_or_default();
    format!(
        "the {}{row} is not finite (NaN or infinite) at iteration {iteration}, \
         after repeated rejected steps",
        what.as_str()
    )
}

/// How many consecutive steps may be rejected for non-finite values before the run
/// stops with [`SolveError::NonFinite`] (or `max_consecutive_rejections`, if smaller).
pub const NON_FINITE_LIMIT: usize = 5;

/// The largest damping ENGD raises `λ` to after non-finite values at the current
/// parameters (rejected line searches raise it without this cap, as before).
pub const NON_FINITE_DAMPING_CAP: f64 = 1e6;

/// The result of a grid line search.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSearchResult {
    /// Best step `η*`.
    pub step: f64,
    /// `L(θ − η* d)`.
    pub loss: f64,
    /// `L(θ)`, from the same batched call (the reference for acceptance).
    pub base_loss: f64,
    /// Loss evaluations spent.
    pub evaluations: usize,
}

fn trial_point(theta: &[f64], direction: &[f64], step: f64) -> Vec<f64> {
    theta
        .iter()
        .zip(direction)
        .map(|(t, d)| t - step * d)
        .collect()
}

/// The lowest grid level (`η = 2^-6`) a warm-started line search starts at.
///
/// Steps far below that come from hard stretches of a run where the loss along the line
/// can have several dips: on the nonlinear BVP (SNGD, seed 0) a search started at the
/// previous `η = 2^-25` stopped at a shallow dip there while the search from the top
/// found a deeper one at `2^-12`, and the run crawled up a level per iteration while its
/// damping grew (final error 6.8e-8 against 6.5e-11). Starting no lower than `2^-6`
/// walks down from there as the search from the top would.
pub const WARM_START_LOWEST_LEVEL: usize = 6;

/// `η* = argmin L(θ − η d)` over `η ∈ {1, ½, …, 2^-k}` (batched `losses` calls, the
/// first of which also evaluates `L(θ)`), optionally refined by golden section.
/// Non-finite losses never win; ties go to the larger step. The result may be worse
/// than `L(θ)`: the caller decides acceptance.
///
/// With `early_stop`, the search starts at the grid point nearest `start` (the previous
/// accepted step; `1` starts at the top), or at [`WARM_START_LOWEST_LEVEL`] if that is
/// lower, and evaluates it and its two neighbours, then
/// walks up while the best point is the largest step evaluated, and down while it is
/// the smallest or nothing beats `L(θ)`, `batch` points at a time. It stops once the
/// best point beats `L(θ)` and both its neighbours were evaluated: exact for a loss
/// unimodal along the grid.
pub fn grid_line_search<P: LeastSquares + ?Sized>(
    problem: &mut P,
    theta: &[f64],
    direction: &[f64],
    config: &LineSearchConfig,
    start: f64,
) -> LineSearchResult {
    let levels = config.grid_levels as usize;
    let steps: Vec<f64> = (0..=levels).map(|k| 0.5f64.powi(k as i32)).collect();
    let mut losses: Vec<Option<f64>> = vec![None; steps.len()];
    // θ itself rides along in the first batch so that acceptance compares losses
    // computed by the same code path (a Jacobian pass may round differently from a
    // forward pass).
    let first: Vec<usize> = if config.early_stop {
        let level = if start > 0.0 && start.is_finite() {
            ((-start.log2()).round().max(0.0) as usize).min(WARM_START_LOWEST_LEVEL)
        } else {
            0
        }
        .min(levels);
        (level.saturating_sub(1)..=(level + 1).min(levels)).collect()
    } else {
        (0..=levels).collect()
    };
    let batch = config.batch.max(1);
    let mut base_loss = f64::NAN;
    let mut evaluations = 0;
    let mut pending = first;
    let mut with_base = true;
    while !pending.is_empty() {
        let mut thetas: Vec<Vec<f64>> = pending
            .iter()
            .map(|&k| trial_point(theta, direction, steps[k]))
            .collect();
        if with_base {
            thetas.push(theta.to_vec());
        }
        evaluations += thetas.len();
        let mut batch_losses = problem.losses(&thetas);
        if with_base {
            base_loss = batch_losses.pop().unwrap_or(f64::NAN);
            with_base = false;
        }
        for (&k, loss) in pending.iter().zip(batch_losses) {
            losses[k] = Some(if loss.is_finite() {
                loss
            } else {
                f64::INFINITY
            });
        }
        let evaluated: Vec<usize> = (0..steps.len()).filter(|&k| losses[k].is_some()).collect();
        let (Some(&top), Some(&bottom)) = (evaluated.first(), evaluated.last()) else {
            break;
        };
        // The best so far; ties go to the larger step (the smaller level).
        let best = evaluated
            .iter()
            .copied()
            .min_by(|&a, &b| {
                losses[a]
                    .unwrap()
                    .total_cmp(&losses[b].unwrap())
                    .then(a.cmp(&b))
            })
            .unwrap_or(top);
        let best_loss = losses[best].unwrap_or(f64::INFINITY);
        pending = if best_loss < base_loss && best == top && top > 0 {
            (top.saturating_sub(batch)..top).collect()
        } else if best_loss < base_loss && best < bottom {
            Vec::new()
        } else {
            (bottom + 1..(bottom + 1 + batch).min(steps.len())).collect()
        };
    }
    let mut best = LineSearchResult {
        step: 0.0,
        loss: f64::INFINITY,
        base_loss,
        evaluations,
    };
    for (&step, loss) in steps.iter().zip(&losses) {
        if let Some(loss) = *loss {
            if loss.is_finite() && loss < best.loss {
                best.step = step;
                best.loss = loss;
            }
        }
    }
    if let (Some(iterations), true) = (config.golden_section, best.loss.is_finite()) {
        let mut evaluate = |step: f64| -> f64 {
            let loss = problem.losses(&[trial_point(theta, direction, step)])[0];
            if loss.is_finite() {
                loss
            } else {
                f64::INFINITY
            }
        };
        let ratio = 0.5 * (5f64.sqrt() - 1.0);
        let (mut a, mut b) = (0.5 * best.step, (2.0 * best.step).min(1.0));
        let mut x1 = b - ratio * (b - a);
        let mut x2 = a + ratio * (b - a);
        let (mut f1, mut f2) = (evaluate(x1), evaluate(x2));
        best.evaluations += 2;
        for _ in 2..iterations.max(2) {
            if f1 <= f2 {
                b = x2;
                x2 = x1;
                f2 = f1;
                x1 = b - ratio * (b - a);
                f1 = evaluate(x1);
            } else {
                a = x1;
                x1 = x2;
                f1 = f2;
                x2 = a + ratio * (b - a);
                f2 = evaluate(x2);
            }
            best.evaluations += 1;
        }
        for (step, loss) in [(x1, f1), (x2, f2)] {
            if loss < best.loss {
                best.step = step;
                best.loss = loss;
            }
        }
    }
    best
}

/// What one [`Solver::step`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Loss after the step (Adam: before it).
    pub loss: f64,
    /// Step size taken (0 when rejected).
    pub step_size: f64,
    /// Damping used (ENGD).
    pub damping: Option<f64>,
    /// Kept rank.
    pub rank: Option<usize>,
    /// Retries within the step.
    pub retries: usize,
    /// Whether θ changed.
    pub accepted: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum State {
    Engd {
        damping: f64,
        momentum: Option<Vec<f64>>,
    },
    Sngd {
        sketch: Option<usize>,
        rng: Box<ChaCha8Rng>,
        /// Levenberg–Marquardt damping μ of the next solve (absent in older checkpoints).
        #[serde(default)]
        damping: f64,
    },
    Anagram,
    Adam(AdamState),
    Lbfgs {
        memory: LbfgsMemory,
        current: Option<(f64, Vec<f64>)>,
        /// The last accepted line point with `φ(0)`, `φ'(0)` (checked by tests).
        last_search: Option<(lbfgs::LinePoint, f64, f64)>,
    },
}

/// The state an optimizer carries between iterations (ENGD damping and momentum,
/// SNGD sketch size and sketch RNG, Adam moments, L-BFGS memory and cached point),
/// opaque but serializable: saved in checkpoints and restored with
/// [`Solver::with_state`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SolverState(State);

impl SolverState {
    /// The short name of the optimizer this state belongs to.
    pub fn optimizer_name(&self) -> &'static str {
        match &self.0 {
            State::Engd { .. } => "engd",
            State::Sngd { .. } => "sngd",
            State::Anagram => "anagram",
            State::Adam(_) => "adam",
            State::Lbfgs { .. } => "lbfgs",
        }
    }

    /// Checks that the state belongs to `config`'s optimizer and that its vectors have
    /// `n_params` entries.
    ///
    /// # Errors
    /// [`SolveError::IncompatibleState`] saying what does not fit.
    pub fn check(&self, config: &SolveConfig, n_params: usize) -> Result<(), SolveError> {
        let incompatible = |reason: String| Err(SolveError::IncompatibleState { reason });
        if self.optimizer_name() != config.optimizer.name() {
            return incompatible(format!(
                "it is a {} state, the run uses {}",
                self.optimizer_name(),
                config.optimizer.name()
            ));
        }
        let mut lengths: Vec<(&str, usize)> = Vec::new();
        match &self.0 {
            State::Engd { momentum, .. } => {
                lengths.extend(momentum.iter().map(|m| ("momentum", m.len())));
            }
            // A fresh Adam state has empty moments, sized at the first step.
            State::Adam(a) if a.t > 0 => {
                lengths.extend([("first moment", a.m.len()), ("second moment", a.v.len())]);
            }
            State::Lbfgs {
                memory,
                current,
                last_search,
            } => {
                lengths.extend(memory.pair_lengths().map(|n| ("memory pair", n)));
                lengths.extend(current.iter().map(|(_, g)| ("cached gradient", g.len())));
                lengths.extend(
                    last_search
                        .iter()
                        .map(|(p, _, _)| ("line point gradient", p.gradient.len())),
                );
            }
            _ => {}
        }
        for (what, len) in lengths {
            if len != n_params {
                return incompatible(format!("{what} has length {len}, expected {n_params}"));
            }
        }
        Ok(())
    }
}

/// Where [`solve_from`] starts: a saved optimizer state with the history that led to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveStart {
    /// The optimizer state after the last recorded iteration.
    pub state: SolverState,
    /// Every iteration done so far; the run continues at the next iteration number.
    pub history: Vec<IterationRecord>,
    /// Seconds already spent (added to the records' `wall_s` and to the time budget).
    pub elapsed_s: f64,
}

/// An optimizer with its state; [`Solver::step`] performs one iteration.
#[derive(Debug, Clone)]
pub struct Solver {
    config: SolveConfig,
    par: Par,
    state: State,
    /// Consecutive steps rejected for non-finite values.
    non_finite_streak: usize,
    /// The step size of the last accepted natural-gradient step, where the next line
    /// search starts ([`LineSearchConfig::warm_start`]); restored from the history on
    /// resume, so a resumed run searches as the uninterrupted one did.
    last_step: Option<f64>,
    /// SNGD: the next step's Gaussian sketch, drawn during this one (not part of the
    /// state: it is what the sketch RNG gives next, so a resumed run draws it afresh).
    sketch_ahead: sngd::SketchAhead,
}

/// The first row of `r` (length N) or of row-major `J` (N×P) holding a NaN or an
/// infinity, with which of the two it was in; `None` when both are finite.
fn first_non_finite_row(
    residual: &[f64],
    jacobian: &[f64],
    n_params: usize,
) -> Option<(NonFiniteSource, usize)> {
    if let Some(row) = residual.iter().position(|v| !v.is_finite()) {
        return Some((NonFiniteSource::Residual, row));
    }
    let index = jacobian.iter().position(|v| !v.is_finite())?;
    Some((NonFiniteSource::Jacobian, index / n_params.max(1)))
}

fn half_squared_norm(r: &[f64]) -> f64 {
    0.5 * linalg::dot(r, r)
}

impl Solver {
    /// A fresh solver for `config`.
    pub fn new(config: SolveConfig) -> Self {
        let state = match &config.optimizer {
            OptimizerConfig::Engd(c) => State::Engd {
                damping: c.damping,
                momentum: None,
            },
            OptimizerConfig::Sngd(_) => State::Sngd {
                sketch: None,
                rng: Box::new(ChaCha8Rng::seed_from_u64(config.seed)),
                damping: 0.0,
            },
            OptimizerConfig::Anagram(_) => State::Anagram,
            OptimizerConfig::Adam(_) => State::Adam(AdamState::new(0)),
            OptimizerConfig::Lbfgs(_) => State::Lbfgs {
                memory: LbfgsMemory::new(),
                current: None,
                last_search: None,
            },
        };
        Self {
            par: linalg::parallelism(config.threads),
            config,
            state,
            non_finite_streak: 0,
            last_step: None,
            sketch_ahead: sngd::SketchAhead::default(),
        }
    }

    /// A solver for `config` that continues from `state` (see [`Solver::state`]).
    ///
    /// # Errors
    /// [`SolveError::IncompatibleState`] when `state` belongs to another optimizer.
    pub fn with_state(config: SolveConfig, state: SolverState) -> Result<Self, SolveError> {
        let fresh = Self::new(config);
        if state.optimizer_name() != fresh.config.optimizer.name() {
            return Err(SolveError::IncompatibleState {
                reason: format!(
                    "it is a {} state, the run uses {}",
                    state.optimizer_name(),
                    fresh.config.optimizer.name()
                ),
            });
        }
        Ok(Self {
            state: state.0,
            ..fresh
        })
    }

    /// A copy of the optimizer state, to be saved and restored with [`Solver::with_state`].
    pub fn state(&self) -> SolverState {
        SolverState(self.state.clone())
    }

    /// The configuration.
    pub fn config(&self) -> &SolveConfig {
        &self.config
    }

    /// The sketch size the next SNGD step will use (`None` before the first step or for
    /// other optimizers).
    pub fn sketch_size(&self) -> Option<usize> {
        match &self.state {
            State::Sngd { sketch, .. } => *sketch,
            _ => None,
        }
    }

    /// The last accepted L-BFGS line-search point with `(φ(0), φ'(0))`.
    pub fn last_wolfe_point(&self) -> Option<&(lbfgs::LinePoint, f64, f64)> {
        match &self.state {
            State::Lbfgs { last_search, .. } => last_search.as_ref(),
            _ => None,
        }
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
        match &self.config.optimizer {
            OptimizerConfig::Adam(_) | OptimizerConfig::Lbfgs(_) => {
                match self.first_order_step(problem, theta) {
                    // Adam and L-BFGS keep no regularisation to raise: a non-finite loss
                    // at θ ends the run at once, naming the first non-finite row if any.
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
            _ => self.natural_step(problem, theta),
        }
    }

    fn natural_step<P: LeastSquares + ?Sized>(
        &mut self,
        problem: &mut P,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError> {
        let (n_rows, n_params) = (problem.n_residuals(), problem.n_params());
        let (residual, jacobian) = problem.residual_and_jacobian(theta);
        if residual.len() != n_rows {
            return Err(SolveError::ShapeMismatch {
                what: "residual",
                got: residual.len(),
                expected: n_rows,
            });
        }
        if jacobian.len() != n_rows * n_params {
            return Err(SolveError::ShapeMismatch {
                what: "jacobian",
                got: jacobian.len(),
                expected: n_rows * n_params,
            });
        }
        let loss0 = half_squared_norm(&residual);
        // Finite entries can still overflow the loss: blame the largest residual.
        let fault = first_non_finite_row(&residual, &jacobian, n_params).or_else(|| {
            (!loss0.is_finite()).then(|| {
                let row = (0..n_rows)
                    .max_by(|&a, &b| residual[a].abs().total_cmp(&residual[b].abs()))
                    .unwrap_or(0);
                (NonFiniteSource::Residual, row)
            })
        });
        if let Some((what, row)) = fault {
            // Nothing computed at θ can be trusted: keep θ, and make the next step
            // more conservative (a redrawn point set or a transient fault may clear it).
            let damping = self.raise_damping_capped();
            let block = problem.locate_row(row);
            return self.reject_non_finite(loss0, damping, (what, Some(row), block));
        }
        let jm = linalg::jacobian_view(&jacobian, n_rows, n_params);
        let par = self.par;

        // ENGD: the Gram matrix is formed once per step and reused by the retries.
        let gram_system = match &self.config.optimizer {
            OptimizerConfig::Engd(c) => Some(engd::GramSystem::new(jm, c.form, par)),
            _ => None,
        };
        // ANaGRAM: factor once per step; retries only raise the cut-off.
        let spectrum = match &self.config.optimizer {
            OptimizerConfig::Anagram(c) => {
                let eps = c.cutoff.relative(n_rows, n_params);
                let factorization = c.factorization.resolve(eps, n_rows, n_params);
                match anagram::Spectrum::new(jm, &residual, factorization, par) {
                    Ok(spectrum) => Some(spectrum),
                    // A factorization that fails on finite input: reject the step.
                    Err(_) => {
                        return self.reject_non_finite(
                            loss0,
                            None,
                            (NonFiniteSource::Direction, None, None),
                        )
                    }
                }
            }
            _ => None,
        };
        let mut anagram_scale = 1.0;
        // L(θ) as the line search's batched evaluation reports it (used if rejected).
        let mut loss_here = loss0;
        let mut retries = 0;
        let mut rank = None;
        let mut damping_used = None;
        // Whether any attempt produced a finite direction (else the step failed on a
        // non-finite or failed linear solve rather than on the line search).
        let mut any_finite_direction = false;
        for _attempt in 0..=self.config.line_search.max_retries {
            // 1. Direction (`None`: the linear solve failed).
            let direction = match (&self.config.optimizer, &mut self.state) {
                (OptimizerConfig::Engd(c), State::Engd { damping, momentum }) => {
                    damping_used = Some(*damping);
                    let Some(system) = gram_system.as_ref() else {
                        unreachable!("the Gram system is built for ENGD above")
                    };
                    let result = match (c.momentum, momentum.as_ref()) {
                        (Some(mu), Some(previous)) => {
                            system.momentum_direction(&residual, previous, mu, *damping, c.solve)
                        }
                        _ => system.direction(&residual, *damping, c.solve),
                    };
                    match result {
                        Ok(dir) => {
                            rank = dir.rank;
                            Some(dir.d)
                        }
                        Err(LinalgError::NonPositivePivot { .. }) => {
                            // G + λI is numerically indefinite: more damping.
                            *damping = (*damping).max(f64::MIN_POSITIVE) * c.damping_increase;
                            retries += 1;
                            continue;
                        }
                        Err(_) => None,
                    }
                }
                (
                    OptimizerConfig::Sngd(c),
                    State::Sngd {
                        sketch,
                        rng,
                        damping,
                    },
                ) => {
                    let size = sketch.unwrap_or(c.initial_sketch);
                    let mu = if c.damping == sngd::SngdDamping::Off {
                        0.0
                    } else {
                        *damping
                    };
                    damping_used = Some(mu);
                    match sngd::direction_from_residual_ahead(
                        jm,
                        &residual,
                        size,
                        c,
                        mu,
                        rng.as_mut(),
                        &mut self.sketch_ahead,
                        par,
                    ) {
                        Ok(dir) => {
                            rank = Some(dir.rank);
                            *sketch = Some(sngd::next_sketch_size(
                                dir.rank,
                                c.oversampling,
                                n_rows,
                                n_params,
                            ));
                            Some(dir.d)
                        }
                        Err(_) => None,
                    }
                }
                (OptimizerConfig::Anagram(c), State::Anagram) => {
                    let eps = c.cutoff.relative(n_rows, n_params) * anagram_scale;
                    let Some(spectrum) = spectrum.as_ref() else {
                        unreachable!("the spectrum is computed for ANaGRAM above")
                    };
                    let (d, kept) = spectrum.direction(eps);
                    rank = Some(kept);
                    Some(d)
                }
                _ => unreachable!("natural_step is only called for natural-gradient optimizers"),
            };
            // A failed or non-finite solve is retried like a rejected line search.
            let direction = direction.filter(|d| d.iter().all(|v| v.is_finite()));
            if let Some(direction) = direction {
                any_finite_direction = true;
                // 2. Line search; accept only non-increasing steps.
                let start = match (self.config.line_search.warm_start, self.last_step) {
                    (true, Some(step)) => step,
                    _ => 1.0,
                };
                let search =
                    grid_line_search(problem, theta, &direction, &self.config.line_search, start);
                let reference = if search.base_loss.is_finite() {
                    search.base_loss
                } else {
                    loss0
                };
                loss_here = reference;
                if search.loss.is_finite() && search.loss <= reference {
                    self.last_step = Some(search.step);
                    for (t, d) in theta.iter_mut().zip(&direction) {
                        *t -= search.step * d;
                    }
                    match (&self.config.optimizer, &mut self.state) {
                        (OptimizerConfig::Engd(c), State::Engd { damping, momentum }) => {
                            if search.step == 1.0 {
                                *damping = (*damping / c.damping_decrease).max(c.damping);
                            }
                            if c.momentum.is_some() {
                                *momentum = Some(direction);
                            }
                        }
                        (OptimizerConfig::Sngd(c), State::Sngd { damping, .. }) => {
                            *damping = sngd::adapt_damping(c, *damping, Some(search.step));
                        }
                        _ => {}
                    }
                    self.non_finite_streak = 0;
                    return Ok(StepOutcome {
                        loss: search.loss,
                        step_size: search.step,
                        damping: damping_used,
                        rank,
                        retries,
                        accepted: true,
                    });
                }
            }
            // 3. Rejected: make the next attempt more conservative.
            retries += 1;
            match (&self.config.optimizer, &mut self.state) {
                (OptimizerConfig::Engd(c), State::Engd { damping, momentum }) => {
                    *damping = (*damping).max(f64::MIN_POSITIVE) * c.damping_increase;
                    *momentum = None;
                }
                (OptimizerConfig::Anagram(c), _) => anagram_scale *= c.cutoff_increase,
                // SNGD: the next attempt draws a fresh sketch, with more damping.
                (OptimizerConfig::Sngd(c), State::Sngd { damping, .. }) => {
                    *damping = sngd::adapt_damping(c, *damping, None);
                }
                _ => {}
            }
        }
        if !any_finite_direction {
            let mut outcome =
                self.reject_non_finite(loss_here, None, (NonFiniteSource::Direction, None, None))?;
            outcome.damping = damping_used;
            outcome.rank = rank;
            outcome.retries = retries;
            return Ok(outcome);
        }
        self.non_finite_streak = 0;
        Ok(StepOutcome {
            loss: loss_here,
            step_size: 0.0,
            damping: damping_used,
            rank,
            retries,
            accepted: false,
        })
    }

    /// ENGD after non-finite values at θ: `λ ← min(λ·increase, cap)` (the cap is
    /// [`NON_FINITE_DAMPING_CAP`], or the initial damping if that is larger) and the
    /// momentum is dropped. Returns the damping now in force (`None` for other optimizers,
    /// which keep no regularisation between steps).
    fn raise_damping_capped(&mut self) -> Option<f64> {
        match (&self.config.optimizer, &mut self.state) {
            (OptimizerConfig::Engd(c), State::Engd { damping, momentum }) => {
                let cap = NON_FINITE_DAMPING_CAP.max(c.damping);
                *damping = ((*damping).max(f64::MIN_POSITIVE) * c.damping_increase).min(cap);
                *momentum = None;
                Some(*damping)
            }
            _ => None,
        }
    }

    /// Records a step rejected for a non-finite value (θ untouched): a rejected outcome,
    /// or [`SolveError::NonFinite`] once this has happened [`NON_FINITE_LIMIT`] times in
    /// a row (or `max_consecutive_rejections` times, if smaller, so that the run names
    /// the cause instead of stopping as stalled).
    ///
    /// # Errors
    /// [`SolveError::NonFinite`] with `iteration: 0` (the driver fills it in).
    fn reject_non_finite(
        &mut self,
        loss: f64,
        damping: Option<f64>,
        fault: (NonFiniteSource, Option<usize>, Option<usize>),
    ) -> Result<StepOutcome, SolveError> {
        self.non_finite_streak += 1;
        let limit = NON_FINITE_LIMIT.min(self.config.max_consecutive_rejections.max(1));
        if self.non_finite_streak >= limit {
            let (what, row, block) = fault;
            self.non_finite_streak = 0;
            return Err(SolveError::NonFinite {
                what,
                row,
                block,
                iteration: 0,
            });
        }
        Ok(StepOutcome {
            loss,
            step_size: 0.0,
            damping,
            rank: None,
            retries: 1,
            accepted: false,
        })
    }

    fn first_order_step<P: LeastSquares + ?Sized>(
        &mut self,
        problem: &mut P,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError> {
        let n_params = theta.len();
        let check = |loss: f64, gradient: &[f64]| -> Result<(), SolveError> {
            if gradient.len() != n_params {
                return Err(SolveError::ShapeMismatch {
                    what: "gradient",
                    got: gradient.len(),
                    expected: n_params,
                });
            }
            if !loss.is_finite() {
                return Err(SolveError::NonFiniteLoss { loss, iteration: 0 });
            }
            Ok(())
        };
        match (&self.config.optimizer, &mut self.state) {
            (OptimizerConfig::Adam(c), State::Adam(state)) => {
                let (loss, gradient) = problem.loss_and_gradient(theta);
                check(loss, &gradient)?;
                if state.m.len() != n_params {
                    *state = AdamState::new(n_params);
                }
                let learning_rate = state.update(theta, &gradient, c);
                Ok(StepOutcome {
                    loss,
                    step_size: learning_rate,
                    damping: None,
                    rank: None,
                    retries: 0,
                    accepted: true,
                })
            }
            (
                OptimizerConfig::Lbfgs(c),
                State::Lbfgs {
                    memory,
                    current,
                    last_search,
                },
            ) => {
                let (value0, gradient0) = match current.take() {
                    Some(cached) => cached,
                    None => {
                        let (loss, gradient) = problem.loss_and_gradient(theta);
                        check(loss, &gradient)?;
                        (loss, gradient)
                    }
                };
                let mut retries = 0;
                loop {
                    let mut direction = memory.direction(&gradient0);
                    let mut slope0 = linalg::dot(&direction, &gradient0);
                    if slope0 >= 0.0 || !slope0.is_finite() {
                        memory.clear();
                        direction = gradient0.iter().map(|g| -g).collect();
                        slope0 = -linalg::dot(&gradient0, &gradient0);
                    }
                    let initial = if memory.is_empty() {
                        (1.0 / linalg::norm(&gradient0)).min(1.0)
                    } else {
                        1.0
                    };
                    let base = theta.to_vec();
                    let (point, _) = lbfgs::strong_wolfe_search(
                        |alpha| {
                            let trial: Vec<f64> = base
                                .iter()
                                .zip(&direction)
                                .map(|(t, d)| t + alpha * d)
                                .collect();
                            let (value, gradient) = problem.loss_and_gradient(&trial);
                            let slope = linalg::dot(&gradient, &direction);
                            (value, gradient, slope)
                        },
                        value0,
                        slope0,
                        initial,
                        c,
                    );
                    match point {
                        Some(point) if point.value <= value0 => {
                            let s: Vec<f64> = direction.iter().map(|d| point.alpha * d).collect();
                            let y: Vec<f64> = point
                                .gradient
                                .iter()
                                .zip(&gradient0)
                                .map(|(a, b)| a - b)
                                .collect();
                            for (t, si) in theta.iter_mut().zip(&s) {
                                *t += si;
                            }
                            memory.push(s, y, c.history);
                            *current = Some((point.value, point.gradient.clone()));
                            let outcome = StepOutcome {
                                loss: point.value,
                                step_size: point.alpha,
                                damping: None,
                                rank: None,
                                retries,
                                accepted: true,
                            };
                            *last_search = Some((point, value0, slope0));
                            return Ok(outcome);
                        }
                        _ if !memory.is_empty() => {
                            // Restart from steepest descent before giving up.
                            memory.clear();
                            retries += 1;
                        }
                        _ => {
                            *current = Some((value0, gradient0));
                            return Ok(StepOutcome {
                                loss: value0,
                                step_size: 0.0,
                                damping: None,
                                rank: None,
                                retries: retries + 1,
                                accepted: false,
                            });
                        }
                    }
                }
            }
            _ => unreachable!("first_order_step is only called for Adam and L-BFGS"),
        }
    }
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
            solver.last_step = start
                .history
                .iter()
                .rev()
                .find(|r| r.accepted && r.step_size > 0.0)
                .map(|r| r.step_size);
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
                stopped_because = StopReason::NoProgress;
                break;
            }
        }
    }
    // Adam records pre-step losses, and a run may stop before any step: evaluate.
    let final_loss = match last_loss {
        Some(loss) if !matches!(config.optimizer, OptimizerConfig::Adam(_)) => loss,
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
    use crate::solve::sngd::SketchPass;
    use crate::solve::test_problems::{LinearLeastSquares, Rosenbrock, TanhNetwork};

    /// Wraps a problem, counting `losses` calls and optionally negating J (so every
    /// natural-gradient direction becomes an ascent direction).
    struct Probe<P> {
        inner: P,
        losses_calls: usize,
        negate_jacobian: bool,
    }

    impl<P: LeastSquares> LeastSquares for Probe<P> {
        fn n_params(&self) -> usize {
            self.inner.n_params()
        }
        fn n_residuals(&self) -> usize {
            self.inner.n_residuals()
        }
        fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
            let (r, mut j) = self.inner.residual_and_jacobian(theta);
            if self.negate_jacobian {
                j.iter_mut().for_each(|v| *v = -*v);
            }
            (r, j)
        }
        fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
            self.inner.residual(theta)
        }
        fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
            self.losses_calls += 1;
            thetas
                .iter()
                .map(|t| half_squared_norm(&self.inner.residual(t)))
                .collect()
        }
    }

    fn loss_of(problem: &mut dyn LeastSquares, theta: &[f64]) -> f64 {
        half_squared_norm(&problem.residual(theta))
    }

    fn config(optimizer: OptimizerConfig, iterations: usize) -> SolveConfig {
        SolveConfig {
            optimizer,
            max_iterations: iterations,
            threads: 1,
            seed: 7,
            ..SolveConfig::default()
        }
    }

    /// A random 30×10 linear least-squares problem (seed `seed`) behind a call-counting
    /// probe, θ = (value, …, value), and the Gauss–Newton step at θ (which lands on
    /// the minimum: `L(θ − η·c·step)` is a parabola in η with its minimum at `η = 1/c`).
    fn linear_problem_and_newton_step(
        seed: u64,
        value: f64,
    ) -> (Probe<LinearLeastSquares>, Vec<f64>, Vec<f64>) {
        let mut problem = Probe {
            inner: LinearLeastSquares::random(30, 10, seed),
            losses_calls: 0,
            negate_jacobian: false,
        };
        let theta = vec![value; 10];
        let (r, j) = problem.residual_and_jacobian(&theta);
        let jm = linalg::jacobian_view(&j, 30, 10);
        let newton = engd::direction(
            jm,
            &r,
            0.0,
            engd::GramForm::Parameter,
            EngdSolve::Eigen {
                relative_cutoff: 0.0,
            },
            Par::Seq,
        )
        .unwrap();
        (problem, theta, newton.d)
    }

    #[test]
    fn line_search_picks_best_grid_point_in_one_batched_call() {
        // Linear least squares: L(θ − η d) is a parabola in η. With d = 3 × (Gauss-Newton
        // step) its minimizer is η = 1/3, between the grid points ¼ and ½.
        let (mut problem, theta, newton) = linear_problem_and_newton_step(3, 0.5);
        let direction: Vec<f64> = newton.iter().map(|v| 3.0 * v).collect();
        let ls = LineSearchConfig {
            early_stop: false,
            ..LineSearchConfig::default()
        };
        let result = grid_line_search(&mut problem, &theta, &direction, &ls, 1.0);
        assert_eq!(
            problem.losses_calls, 1,
            "the whole grid in one batched call"
        );
        assert_eq!(result.evaluations, 32);
        // The early-stopping search (the default) finds the same step on this unimodal
        // loss from two batches: {1, ½, θ} and {¼, ⅛}.
        problem.losses_calls = 0;
        let early = grid_line_search(
            &mut problem,
            &theta,
            &direction,
            &LineSearchConfig::default(),
            1.0,
        );
        assert_eq!(problem.losses_calls, 2);
        assert_eq!(early.evaluations, 5);
        assert_eq!(early.step, result.step);
        assert_eq!(early.loss, result.loss);
        assert_eq!(early.base_loss, result.base_loss);
        // Independent brute force over the grid.
        let mut best = (f64::INFINITY, 0.0);
        for k in 0..=30 {
            let step = 0.5f64.powi(k);
            let loss = loss_of(&mut problem.inner, &trial_point(&theta, &direction, step));
            if loss < best.0 {
                best = (loss, step);
            }
        }
        assert_eq!(result.step, best.1);
        assert_eq!(result.step, 0.25);
        assert_eq!(result.loss, best.0);
        // Golden section refines towards η = 1/3 and is never worse than the grid.
        let golden = grid_line_search(
            &mut problem,
            &theta,
            &direction,
            &LineSearchConfig {
                golden_section: Some(40),
                ..LineSearchConfig::default()
            },
            1.0,
        );
        assert!(golden.loss <= result.loss);
        assert!((golden.step - 1.0 / 3.0).abs() < 1e-6, "{}", golden.step);
    }

    #[test]
    fn the_warm_started_search_finds_the_grid_minimum_from_any_start() {
        // d = 100 × (Gauss-Newton step): L(θ − η d) is a parabola with its minimum at
        // η = 1/100, and the best grid point is 1/128 (1/64 overshoots further).
        let (mut problem, theta, newton) = linear_problem_and_newton_step(4, 0.3);
        let direction: Vec<f64> = newton.iter().map(|v| 100.0 * v).collect();
        let ls = LineSearchConfig::default();
        // (start, batched calls): from the top the walk down takes five; from 2^-6 one
        // batch of {2^-5, 2^-6, 2^-7} and θ, then one walk down to {2^-8, 2^-9}; starts
        // below 2^-6 begin there too.
        for (start, calls) in [
            (1.0, 5),
            (0.0, 5),
            (1.0 / 16.0, 3),
            (1.0 / 64.0, 2),
            (1.0 / 100.0, 2),
            (1.0 / 128.0, 2),
            (1.0 / 1024.0, 2),
            (1e-30, 2),
        ] {
            problem.losses_calls = 0;
            let search = grid_line_search(&mut problem, &theta, &direction, &ls, start);
            assert_eq!(search.step, 1.0 / 128.0, "start {start}");
            assert_eq!(problem.losses_calls, calls, "start {start}");
            assert_eq!(search.base_loss, loss_of(&mut problem.inner, &theta));
        }
        // d = 3 × (Gauss-Newton step): the minimum is at η = 1/3 and the best grid point
        // is ¼. From 2^-6 the search walks up: {2^-5, 2^-6, 2^-7} and θ, {⅛, 1/16},
        // {½, ¼}.
        let short: Vec<f64> = newton.iter().map(|v| 3.0 * v).collect();
        for (start, calls) in [(1.0 / 64.0, 3), (1.0 / 4.0, 1), (1.0, 2)] {
            problem.losses_calls = 0;
            let search = grid_line_search(&mut problem, &theta, &short, &ls, start);
            assert_eq!(search.step, 0.25, "start {start}");
            assert_eq!(problem.losses_calls, calls, "start {start}");
        }
        // The whole grid agrees.
        let full = grid_line_search(
            &mut problem,
            &theta,
            &direction,
            &LineSearchConfig {
                early_stop: false,
                ..ls
            },
            1.0,
        );
        assert_eq!(full.step, 1.0 / 128.0);
    }

    #[test]
    fn ascent_directions_are_rejected_and_damping_raised() {
        let (net, theta0) = TanhNetwork::realizable(3, 6, 40, 1);
        let mut problem = Probe {
            inner: net,
            losses_calls: 0,
            negate_jacobian: true,
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
            let (point, value0, slope0) = solver.last_wolfe_point().unwrap().clone();
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
        assert_eq!(report.stopped_because, StopReason::NoProgress);
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
        assert_eq!(resumed.stopped_because, StopReason::NoProgress);
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
        let engd = SolveConfig::default();
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

#[cfg(test)]
mod fault_tests {
    //! Non-finite values injected into a small problem: rejected steps, raised damping,
    //! recovery, and the error that names the row's block when faults persist.
    use super::*;
    use crate::solve::test_problems::TanhNetwork;

    /// Where a fault is injected.
    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Target {
        Residual,
        Jacobian,
        /// Every trial loss of the line search is NaN (the base point stays finite).
        TrialLosses,
    }

    /// Wraps a problem and poisons row `row` at the chosen `residual_and_jacobian` calls
    /// (1-based, one per natural-gradient step); rows map to blocks of `block_size` rows.
    struct Fault<P> {
        inner: P,
        calls: usize,
        faulty_calls: Vec<usize>,
        target: Target,
        row: usize,
        block_size: usize,
        /// θ of the last `residual_and_jacobian` call.
        base: Vec<f64>,
    }

    impl<P: LeastSquares> Fault<P> {
        fn faulty(&self) -> bool {
            self.faulty_calls.contains(&self.calls)
        }
    }

    impl<P: LeastSquares> LeastSquares for Fault<P> {
        fn n_params(&self) -> usize {
            self.inner.n_params()
        }
        fn n_residuals(&self) -> usize {
            self.inner.n_residuals()
        }
        fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
            self.calls += 1;
            self.base = theta.to_vec();
            let (mut r, mut j) = self.inner.residual_and_jacobian(theta);
            if self.faulty() {
                let p = self.n_params();
                match self.target {
                    Target::Residual => r[self.row] = f64::NAN,
                    Target::Jacobian => j[self.row * p + p / 2] = f64::INFINITY,
                    Target::TrialLosses => {}
                }
            }
            (r, j)
        }
        fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
            self.inner.residual(theta)
        }
        fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
            let mut losses = self.inner.losses(thetas);
            if self.faulty() && self.target == Target::TrialLosses {
                // θ itself rides along in the line search: poison only trial points.
                for (loss, t) in losses.iter_mut().zip(thetas) {
                    if *t != self.base {
                        *loss = f64::NAN;
                    }
                }
            }
            losses
        }
        fn locate_row(&self, row: usize) -> Option<usize> {
            Some(row / self.block_size)
        }
    }

    fn faulty(calls: Vec<usize>, target: Target) -> (Fault<TanhNetwork>, Vec<f64>) {
        let (net, theta) = TanhNetwork::realizable(3, 8, 60, 2);
        let fault = Fault {
            inner: net,
            calls: 0,
            faulty_calls: calls,
            target,
            row: 37,
            block_size: 20,
            base: vec![],
        };
        (fault, theta)
    }

    fn engd(iterations: usize) -> SolveConfig {
        SolveConfig {
            max_iterations: iterations,
            threads: 1,
            seed: 7,
            loss_tol: 1e-12,
            ..SolveConfig::default()
        }
    }

    #[test]
    fn a_non_finite_residual_or_jacobian_rejects_the_step_and_raises_damping() {
        for target in [Target::Residual, Target::Jacobian] {
            let (mut problem, mut theta) = faulty(vec![3], target);
            let mut solver = Solver::new(engd(10).clone());
            for _ in 0..2 {
                assert!(solver.step(&mut problem, &mut theta).unwrap().accepted);
            }
            let before = theta.clone();
            let damping_before = match &solver.state {
                State::Engd { damping, .. } => *damping,
                _ => unreachable!(),
            };
            let outcome = solver.step(&mut problem, &mut theta).unwrap();
            assert!(!outcome.accepted, "{target:?}");
            assert_eq!(outcome.step_size, 0.0);
            assert_eq!(theta, before, "{target:?}: θ must not move");
            let damping_after = outcome.damping.expect("ENGD reports its damping");
            assert_eq!(damping_after, damping_before * 10.0, "{target:?}");
            // The next (clean) step is accepted again.
            assert!(solver.step(&mut problem, &mut theta).unwrap().accepted);
        }
    }

    #[test]
    fn damping_raised_by_faults_stops_at_the_cap() {
        let (mut problem, mut theta) = faulty(vec![1, 2, 3, 4], Target::Residual);
        let mut config = engd(10);
        config.optimizer = OptimizerConfig::Engd(EngdConfig {
            damping: 1e4,
            ..EngdConfig::default()
        });
        let mut solver = Solver::new(config);
        let dampings: Vec<f64> = (0..4)
            .map(|_| {
                solver
                    .step(&mut problem, &mut theta)
                    .unwrap()
                    .damping
                    .unwrap()
            })
            .collect();
        assert_eq!(dampings, [1e5, NON_FINITE_DAMPING_CAP, 1e6, 1e6]);
    }

    #[test]
    fn isolated_faults_are_survived_by_every_natural_gradient_method() {
        for optimizer in [
            OptimizerConfig::Engd(EngdConfig::default()),
            OptimizerConfig::Sngd(SngdConfig::default()),
            OptimizerConfig::Anagram(AnagramConfig::default()),
        ] {
            for target in [Target::Residual, Target::Jacobian, Target::TrialLosses] {
                let name = format!("{} {target:?}", optimizer.name());
                // A step whose trial points are all NaN raises ENGD's damping by 10 per
                // retry (up to 10⁹ per step), which takes long to decay: one such step.
                let calls = if target == Target::TrialLosses {
                    vec![3]
                } else {
                    vec![2, 5, 6, 9]
                };
                let (mut problem, mut theta) = faulty(calls.clone(), target);
                let mut config = engd(1000);
                config.optimizer = optimizer.clone();
                let mut thetas = vec![];
                let report = solve(&mut problem, &mut theta, &config, |_, t| {
                    thetas.push(t.to_vec());
                    ControlFlow::Continue(())
                })
                .unwrap();
                for call in calls {
                    let record = &report.history[call - 1];
                    // A trial point that rounds to θ itself is not poisoned, so a
                    // heavily damped step may be "accepted" without moving θ.
                    if target != Target::TrialLosses {
                        assert!(!record.accepted, "{name}: iteration {call}");
                    }
                    assert_eq!(thetas[call - 1], thetas[call - 2], "{name}: θ moved");
                }
                assert!(
                    report.final_loss <= 1e-12,
                    "{name}: {} ({:?})",
                    report.final_loss,
                    report.stopped_because
                );
                assert!(report.final_loss.is_finite());
            }
        }
    }

    #[test]
    fn persistent_faults_stop_the_run_naming_the_rows_block() {
        for (optimizer, target, what) in [
            (
                OptimizerConfig::Engd(EngdConfig::default()),
                Target::Residual,
                NonFiniteSource::Residual,
            ),
            (
                OptimizerConfig::Sngd(SngdConfig::default()),
                Target::Jacobian,
                NonFiniteSource::Jacobian,
            ),
            (
                OptimizerConfig::Anagram(AnagramConfig::default()),
                Target::Residual,
                NonFiniteSource::Residual,
            ),
        ] {
            let (mut problem, mut theta) = faulty((4..100).collect(), target);
            let mut config = engd(100);
            config.optimizer = optimizer;
            let mut last_good = None;
            let err = solve(&mut problem, &mut theta, &config, |record, t| {
                if record.accepted {
                    last_good = Some(t.to_vec());
                }
                ControlFlow::Continue(())
            })
            .unwrap_err();
            // Faults from call 4 on: the 5th faulty step in a row (iteration 8) gives up.
            assert_eq!(
                err,
                SolveError::NonFinite {
                    what,
                    row: Some(37),
                    block: Some(1),
                    iteration: 8,
                }
            );
            assert_eq!(theta, last_good.unwrap(), "θ is the last good iterate");
            assert!(err.to_string().contains("row 37"), "{err}");
        }
    }

    #[test]
    fn a_non_finite_first_order_loss_names_the_row() {
        let (mut problem, mut theta) = faulty(vec![], Target::Residual);
        theta[0] = f64::NAN;
        let mut config = engd(10);
        config.optimizer = OptimizerConfig::Adam(AdamConfig::default());
        let err = solve(&mut problem, &mut theta, &config, |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                SolveError::NonFinite {
                    what: NonFiniteSource::Residual,
                    row: Some(0),
                    block: Some(0),
                    iteration: 1
                }
            ),
            "{err:?}"
        );
    }
}
