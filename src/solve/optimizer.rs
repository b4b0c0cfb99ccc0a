//! What every optimizer is to the loop: the [`Optimizer`] trait (one iteration on θ,
//! its state), the [`Method`] trait of its settings (name, `solve` options, how it is
//! built), and the [`StepOutcome`] one iteration reports.
//!
//! The loop ([`super::driver`]) knows only these traits; each method lives in one file
//! and is listed once in [`super::registry`].

use super::driver::SolveConfig;
use super::options::{ConfigScalar, OptionSpec};
use super::report::{IterationRecord, SolveError};
use super::spectrum::Spectrum;
use super::state::SolverState;
use super::LeastSquares;

/// What one [`Optimizer::step`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Loss after the step (Adam: before it).
    pub loss: f64,
    /// Step size taken (0 when rejected).
    pub step_size: f64,
    /// Damping used (ENGD, SNGD).
    pub damping: Option<f64>,
    /// Kept rank.
    pub rank: Option<usize>,
    /// Retries within the step.
    pub retries: usize,
    /// Whether θ changed.
    pub accepted: bool,
    /// Conjugate-gradient iterations of the step's linear solves, summed over its trials
    /// (`gn`); `None` for methods that factorize.
    pub cg_iterations: Option<usize>,
    /// Passes over the streamed rows of J in the step (`gn` with J over its memory
    /// budget, [`super::streamed`]); `None` when J is stored.
    pub jacobian_passes: Option<usize>,
}

/// One optimization method with its state between iterations.
///
/// Implementations never print and never stop the run themselves: they report what a
/// step did, and the loop ([`super::driver::solve_from`]) applies the stopping rules.
pub trait Optimizer: std::fmt::Debug {
    /// The method's short name (`engd`, `sngd`, …), as in [`Method::NAME`].
    fn name(&self) -> &'static str;

    /// Performs one iteration on `theta` in place. The problem has at least one
    /// parameter and one residual row, and `theta` has `problem.n_params()` entries
    /// (the loop checks both).
    ///
    /// # Errors
    /// [`SolveError`] on vectors of the wrong length returned by the problem, a
    /// non-finite loss the method cannot recover from (`NonFiniteLoss`, which the loop
    /// turns into a located `NonFinite`), repeated non-finite values, or an
    /// unrecoverable factorization failure. Iteration numbers in errors are 0; the loop
    /// fills them in.
    fn step(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError>;

    /// The state to save (checkpoints) and restore with [`Method::build`].
    fn state(&self) -> SolverState;

    /// Whether [`Optimizer::state`] holds everything the next step depends on, so that a
    /// run continued from it repeats this one exactly. False while the method keeps
    /// something it does not save (a Nyström sketch `gn` will reuse, a streak of steps
    /// rejected for non-finite values); periodic checkpoints wait for a whole state.
    fn state_is_whole(&self) -> bool {
        true
    }

    /// Called once when a run continues from a saved state, with the history so far
    /// (e.g. the line search restarts at the last accepted step size).
    fn resume(&mut self, history: &[IterationRecord]) {
        let _ = history;
    }

    /// Whether [`StepOutcome::loss`] is the loss before the step (Adam), so that the
    /// final loss must be evaluated after the last step.
    fn reports_loss_before_step(&self) -> bool {
        false
    }

    /// The sketch size the next step will use (SNGD), else `None`.
    fn sketch_size(&self) -> Option<usize> {
        None
    }

    /// The optimizer as [`std::any::Any`], for tests that inspect a method's own state.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// The settings of one method: its name, its `solve` options and how it is built.
///
/// Implemented by each method's config type (`EngdConfig`, …); the registry lists the
/// types once and derives the option catalogue, the run configuration and the CLI
/// flags from them.
pub trait Method:
    Default
    + Clone
    + PartialEq
    + std::fmt::Debug
    + serde::Serialize
    + serde::de::DeserializeOwned
    + 'static
{
    /// The short name used in `.pde` files, on the command line and in output files.
    const NAME: &'static str;
    /// The method's `solve` options, beyond the ones every method shares.
    const OPTIONS: &'static [OptionSpec];
    /// Whether the method uses the shared grid line search (and so takes the
    /// `line_search` option).
    const LINE_SEARCH: bool;
    /// Whether the step can instead be globalized by the shared trust region
    /// (`line_search = off`, the default for such methods).
    const TRUST_REGION: bool = false;

    /// Sets the option `key` (one of [`Method::OPTIONS`]).
    ///
    /// # Errors
    /// What is wrong with `value`, as a message (`expected a positive number`).
    fn set_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String>;

    /// The optimizer for a run with `config` (whose `optimizer` holds `self`), fresh or
    /// continuing from `state`.
    ///
    /// # Errors
    /// [`SolveError::IncompatibleState`] when `state` is not a state of this method.
    fn build(
        &self,
        config: &SolveConfig,
        state: Option<&SolverState>,
    ) -> Result<Box<dyn Optimizer>, SolveError>;

    /// Checks that a saved state of this method fits a problem with `n_params`
    /// parameters (vector lengths).
    ///
    /// # Errors
    /// [`SolveError::IncompatibleState`] saying what does not fit.
    fn check_state(state: &SolverState, n_params: usize) -> Result<(), SolveError> {
        let _ = (state, n_params);
        Ok(())
    }

    /// Whether the method works on the Gramian, so that its spectrum is worth drawing.
    const HAS_SPECTRUM: bool = false;

    /// The threshold below which the method drops (or damps away) an eigenvalue of the
    /// Gramian `spectrum` (eigenvalues of `JJᵀ` or `JᵀJ`, largest first), at the
    /// damping `damping` in force at the last step; `None` when it has none.
    fn spectrum_cutoff(&self, spectrum: &Spectrum, damping: Option<f64>) -> Option<f64> {
        let _ = (spectrum, damping);
        None
    }
}

/// `½‖r‖²`.
pub(crate) fn half_squared_norm(r: &[f64]) -> f64 {
    0.5 * super::linalg::dot(r, r)
}

/// `(r(θ), J(θ))` from [`LeastSquares::residual_and_jacobian`], with their lengths
/// checked (N and N·P).
///
/// # Errors
/// [`SolveError::ShapeMismatch`] naming the vector of the wrong length.
pub(crate) fn checked_residual_and_jacobian(
    problem: &mut dyn LeastSquares,
    theta: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), SolveError> {
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
    Ok((residual, jacobian))
}

/// `(L(θ), ∇L(θ))` from [`LeastSquares::loss_and_gradient`], checked: the first-order
/// methods keep no regularisation to raise, so a non-finite loss ends the run (the
/// loop names the first non-finite row).
///
/// # Errors
/// [`SolveError::ShapeMismatch`] for a gradient of the wrong length,
/// [`SolveError::NonFiniteLoss`] for a non-finite loss.
pub(crate) fn checked_loss_and_gradient(
    problem: &mut dyn LeastSquares,
    theta: &[f64],
) -> Result<(f64, Vec<f64>), SolveError> {
    let (loss, gradient) = problem.loss_and_gradient(theta);
    if gradient.len() != theta.len() {
        return Err(SolveError::ShapeMismatch {
            what: "gradient",
            got: gradient.len(),
            expected: theta.len(),
        });
    }
    if !loss.is_finite() {
        return Err(SolveError::NonFiniteLoss { loss, iteration: 0 });
    }
    Ok((loss, gradient))
}
