//! What a run reports: one [`IterationRecord`] per iteration, the final
//! [`SolveReport`] with its [`StopReason`], and the failures that end a run
//! ([`SolveError`]).

use super::linalg::LinalgError;

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
    /// Conjugate-gradient iterations of the step, summed over its trials (`gn`), else
    /// `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cg_iterations: Option<usize>,
    /// Passes over the streamed rows of J in the step, each recomputing them (`gn`
    /// with J over its memory budget), else `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jacobian_passes: Option<usize>,
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
    /// No progress: the best loss (and held-out loss, where measured) fell by less
    /// than `min_improvement` over `patience` iterations, or
    /// `max_consecutive_rejections` steps in a row were rejected. (Earlier versions
    /// wrote the first case as `no_progress`.)
    #[serde(alias = "no_progress")]
    Stalled,
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
    /// A setting of [`SolveConfig`](super::SolveConfig) is out of its range.
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
        /// The residual block of that row ([`super::LeastSquares::locate_row`]), if known.
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
