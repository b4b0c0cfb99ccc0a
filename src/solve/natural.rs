//! The step shared by the natural-gradient methods (ENGD, SNGD, ANaGRAM): evaluate
//! `r` and `J`, reject the step on non-finite values, factor once, then try directions
//! — line search, accept a non-increasing step, else let the method make the next
//! attempt more conservative — up to `max_retries` times.
//!
//! A method supplies only its policy through [`NaturalMethod`]: what it factors once
//! per step, its direction, and how its damping (or cut-off) follows an accepted or a
//! rejected step. [`Natural`] turns such a method into an [`Optimizer`].

use super::driver::SolveConfig;
use super::linalg;
use super::line_search::{grid_line_search, grid_line_search_from, LineSearchConfig};
use super::optimizer::{checked_residual_and_jacobian, half_squared_norm, Optimizer, StepOutcome};
use super::report::{IterationRecord, NonFiniteSource, SolveError, NON_FINITE_LIMIT};
use super::state::SolverState;
use super::step_region::{step_gain_ratio, StepRegion, StepRegionConfig};
use super::trust_region::{gain_ratio, predicted_reduction, TrustRegion, TrustRegionConfig};
use super::LeastSquares;
use faer::{MatRef, Par};

/// One attempt at a direction within a step.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// A direction `d` (the step is `θ − η d`), with the rank kept and the damping used.
    Direction {
        /// `d` (length P); a non-finite entry makes the attempt count as failed.
        d: Vec<f64>,
        /// The rank kept by the solve, if the method has one.
        rank: Option<usize>,
        /// The damping used, if the method has one.
        damping: Option<f64>,
    },
    /// The linear solve failed: the attempt is rejected like a failed line search.
    Failed {
        /// The damping used, if the method has one.
        damping: Option<f64>,
    },
    /// The method already made itself more conservative (e.g. raised its damping after
    /// a failed Cholesky factorization): try again at once, counting a retry.
    Retry {
        /// The damping that failed.
        damping: Option<f64>,
    },
}

impl Attempt {
    /// Records the attempt's damping (and, for a direction, its rank) and returns its
    /// direction when finite: `Some(None)` for a failed solve or a non-finite direction,
    /// `None` when the method asks for an immediate retry.
    fn unpack(
        self,
        damping_used: &mut Option<f64>,
        rank: &mut Option<usize>,
    ) -> Option<Option<Vec<f64>>> {
        match self {
            Attempt::Direction {
                d,
                rank: r,
                damping,
            } => {
                *damping_used = damping.or(*damping_used);
                *rank = r;
                Some(Some(d).filter(|d| d.iter().all(|v| v.is_finite())))
            }
            Attempt::Failed { damping } => {
                *damping_used = damping.or(*damping_used);
                Some(None)
            }
            Attempt::Retry { damping } => {
                *damping_used = damping.or(*damping_used);
                None
            }
        }
    }
}

/// A natural-gradient method's policy within the shared step.
pub trait NaturalMethod: std::fmt::Debug {
    /// The method's short name.
    const NAME: &'static str;

    /// What the method computes once per step from `J` and `r` and reuses across the
    /// retries of the step (ENGD's Gram matrix, ANaGRAM's singular values).
    type Factor<'a>;

    /// Computes the per-step factor.
    ///
    /// # Errors
    /// `Err(())` when the factorization fails on finite input: the step is rejected as
    /// if its direction were not finite.
    #[allow(clippy::result_unit_err)] // the failure carries no information
    fn factor<'a>(
        &mut self,
        jacobian: MatRef<'a, f64>,
        residual: &[f64],
        par: Par,
    ) -> Result<Self::Factor<'a>, ()>;

    /// The next direction to try.
    fn direction(
        &mut self,
        factor: &Self::Factor<'_>,
        jacobian: MatRef<'_, f64>,
        residual: &[f64],
        par: Par,
    ) -> Attempt;

    /// The direction of the damped Gauss–Newton system `(JᵀJ + λI) d = Jᵀr` as the
    /// method solves it, for the trust region's damping `lambda` (ENGD: exactly; SNGD:
    /// `λ` inside the sketched solve; ANaGRAM: the cut-off raised to `σ ≥ √λ`).
    fn damped_direction(
        &mut self,
        factor: &Self::Factor<'_>,
        jacobian: MatRef<'_, f64>,
        residual: &[f64],
        lambda: f64,
        par: Par,
    ) -> Attempt;

    /// The trust region kept in the method's state (`None` before the first
    /// trust-region step, which sets `λ₀` from J).
    fn trust_region(&mut self) -> &mut Option<TrustRegion>;

    /// The radius of the step-length trust region kept in the method's state (`None`
    /// before the first such step, which starts at the largest radius).
    fn step_radius(&mut self) -> &mut Option<f64>;

    /// The line search accepted the step `θ − step·direction`.
    fn accepted(&mut self, step: f64, direction: Vec<f64>);

    /// The attempt was rejected (no non-increasing step, or a failed solve): make the
    /// next attempt more conservative.
    fn rejected(&mut self);

    /// `r` or `J` held a non-finite value at θ: make the next step more conservative
    /// where the method can. Returns the damping now in force, if it has one.
    fn raise_damping_after_fault(&mut self) -> Option<f64> {
        None
    }

    /// The state to save.
    fn state(&self) -> SolverState;

    /// The sketch size the next step will use (SNGD), else `None`.
    fn sketch_size(&self) -> Option<usize> {
        None
    }
}

/// A natural-gradient method with the settings and state the shared step needs.
#[derive(Debug)]
pub struct Natural<M> {
    /// The method's policy and state.
    pub method: M,
    /// The trust region's settings; `None`: the line search globalizes the step.
    trust_region: Option<TrustRegionConfig>,
    line_search: LineSearchConfig,
    par: Par,
    /// Consecutive steps rejected for non-finite values.
    non_finite: NonFiniteStreak,
    /// The step size of the last accepted step, where the next line search starts
    /// ([`LineSearchConfig::warm_start`]); restored from the history on resume, so a
    /// resumed run searches as the uninterrupted one did.
    last_step: Option<f64>,
}

impl<M: NaturalMethod> Natural<M> {
    /// `method` in a run with `config`.
    pub fn new(method: M, config: &SolveConfig) -> Self {
        Self {
            method,
            trust_region: config.trust_region,
            line_search: config.line_search.clone(),
            par: linalg::parallelism(config.threads),
            non_finite: NonFiniteStreak::new(config),
            last_step: None,
        }
    }
}

/// Consecutive steps rejected for non-finite values, and how many end the run.
#[derive(Debug, Clone)]
pub(crate) struct NonFiniteStreak {
    limit: usize,
    count: usize,
}

impl NonFiniteStreak {
    /// [`NON_FINITE_LIMIT`], or `max_consecutive_rejections` if smaller (so that the run
    /// names the cause instead of stopping as stalled).
    pub(crate) fn new(config: &SolveConfig) -> Self {
        Self {
            limit: NON_FINITE_LIMIT.min(config.max_consecutive_rejections.max(1)),
            count: 0,
        }
    }

    /// A step that was not rejected for a non-finite value ends the streak.
    pub(crate) fn reset(&mut self) {
        self.count = 0;
    }

    /// Whether no streak is under way (the count is not part of the saved state).
    pub(crate) fn is_clear(&self) -> bool {
        self.count == 0
    }

    /// Records a step rejected for a non-finite value (θ untouched): a rejected outcome,
    /// or [`SolveError::NonFinite`] once the streak reaches its limit.
    ///
    /// # Errors
    /// [`SolveError::NonFinite`] with `iteration: 0` (the loop fills it in).
    pub(crate) fn reject(
        &mut self,
        loss: f64,
        damping: Option<f64>,
        fault: (NonFiniteSource, Option<usize>, Option<usize>),
    ) -> Result<StepOutcome, SolveError> {
        self.count += 1;
        if self.count >= self.limit {
            let (what, row, block) = fault;
            self.count = 0;
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
            cg_iterations: None,
            jacobian_passes: None,
        })
    }
}

/// The first row of `r` (length N) or of row-major `J` (N×P) holding a NaN or an
/// infinity, with which of the two it was in; `None` when both are finite.
pub(crate) fn first_non_finite_row(
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

impl<M: NaturalMethod> Natural<M> {
    /// The outcome of a step whose every trial was rejected (θ unchanged): a non-finite
    /// rejection when no trial produced a finite direction, else a plain one.
    fn rejected_step(
        &mut self,
        loss_here: f64,
        damping: Option<f64>,
        rank: Option<usize>,
        retries: usize,
        any_finite_direction: bool,
    ) -> Result<StepOutcome, SolveError> {
        if !any_finite_direction {
            let mut outcome = self.non_finite.reject(
                loss_here,
                None,
                (NonFiniteSource::Direction, None, None),
            )?;
            outcome.damping = damping;
            outcome.rank = rank;
            outcome.retries = retries;
            return Ok(outcome);
        }
        self.non_finite.reset();
        Ok(StepOutcome {
            loss: loss_here,
            step_size: 0.0,
            damping,
            rank,
            retries,
            accepted: false,
            cg_iterations: None,
            jacobian_passes: None,
        })
    }

    /// Takes the accepted step `θ ← θ − step·d` and reports it; `taken` is
    /// `(step, loss there, damping, rank, retries)`.
    fn take_step(
        &mut self,
        theta: &mut [f64],
        d: Vec<f64>,
        taken: (f64, f64, Option<f64>, Option<usize>, usize),
    ) -> StepOutcome {
        let (step, loss, damping, rank, retries) = taken;
        for (t, di) in theta.iter_mut().zip(&d) {
            *t -= step * di;
        }
        self.method.accepted(step, d);
        self.non_finite.reset();
        StepOutcome {
            loss,
            step_size: step,
            damping,
            rank,
            retries,
            accepted: true,
            cg_iterations: None,
            jacobian_passes: None,
        }
    }

    /// One trust-region step (ALGORITHMS.md §4.1): solve with the trust region's `λ`,
    /// evaluate the one trial point `θ − d`, accept it when the gain ratio of actual to
    /// predicted decrease exceeds `ρ_min`, and move `λ` by Nielsen's rule. A rejected
    /// trial reuses J, r and the factor; up to `max_retries + 1` trials, or until `λ`
    /// reaches its upper bound.
    fn trust_region_step(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
        factor: &M::Factor<'_>,
        jm: MatRef<'_, f64>,
        residual: &[f64],
        config: TrustRegionConfig,
    ) -> Result<StepOutcome, SolveError> {
        let par = self.par;
        let gradient = linalg::mat_vec(jm.transpose(), residual, par);
        let mut region = *self
            .method
            .trust_region()
            .get_or_insert_with(|| TrustRegion::new(config, largest_gram_diagonal(jm)));
        let mut base_loss: Option<f64> = None;
        let (mut retries, mut rank) = (0, None);
        let mut any_finite_direction = false;
        for _ in 0..=self.line_search.max_retries {
            let lambda = region.lambda;
            let d = match self
                .method
                .damped_direction(factor, jm, residual, lambda, par)
            {
                Attempt::Direction { d, rank: r, .. } => {
                    rank = r.or(rank);
                    Some(d).filter(|d| d.iter().all(|v| v.is_finite()))
                }
                Attempt::Failed { .. } | Attempt::Retry { .. } => None,
            };
            let accepted = match d {
                None => {
                    // A failed or non-finite solve: no gain ratio, so the region shrinks.
                    region.reject();
                    None
                }
                Some(d) => {
                    any_finite_direction = true;
                    let jd = linalg::mat_vec(jm, &d, par);
                    let predicted = predicted_reduction(&gradient, &d, &jd);
                    let trial: Vec<f64> = theta.iter().zip(&d).map(|(t, di)| t - di).collect();
                    let (trial_loss, reference) =
                        trial_loss(problem, theta, trial, &mut base_loss, residual);
                    let rho = gain_ratio(reference - trial_loss, predicted);
                    (region.update(rho) && trial_loss.is_finite()).then_some((d, trial_loss))
                }
            };
            if let Some((d, trial_loss)) = accepted {
                *self.method.trust_region() = Some(region);
                let taken = (1.0, trial_loss, Some(lambda), rank, retries);
                return Ok(self.take_step(theta, d, taken));
            }
            retries += 1;
            if region.exhausted() {
                break;
            }
        }
        *self.method.trust_region() = Some(region);
        let loss_here = base_loss.unwrap_or_else(|| half_squared_norm(residual));
        self.rejected_step(
            loss_here,
            Some(region.lambda),
            rank,
            retries,
            any_finite_direction,
        )
    }
}

impl<M: NaturalMethod> Natural<M> {
    /// One step of the trust region on the step length ([`super::step_region`]): the
    /// method's direction `d`, one trial `θ − η d` at the radius `η` carried from the
    /// previous step, accepted when the loss does not increase, with a second trial when
    /// the gain ratio against `pred = η gᵀd` puts the minimum along the ray more than a
    /// factor two away; the ratio moves `η`. A rejected trial hands `d` to the grid line
    /// search started at `η` (same J, r and `d`), which also finds dips further out
    /// that one trial cannot see; when that fails too, or `d` is not a descent
    /// direction, the method makes its next direction more conservative (`rejected`).
    /// Up to `max_retries + 1` directions.
    fn step_region_step(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
        factor: &M::Factor<'_>,
        jm: MatRef<'_, f64>,
        residual: &[f64],
        config: StepRegionConfig,
    ) -> Result<StepOutcome, SolveError> {
        let par = self.par;
        let gradient = linalg::mat_vec(jm.transpose(), residual, par);
        let mut region = StepRegion::new(config, *self.method.step_radius());
        let mut base_loss: Option<f64> = None;
        let (mut retries, mut rank, mut damping_used) = (0, None, None);
        let mut any_finite_direction = false;
        for _attempt in 0..=self.line_search.max_retries {
            let attempt = self.method.direction(factor, jm, residual, par);
            let Some(d) = attempt.unpack(&mut damping_used, &mut rank) else {
                retries += 1;
                continue;
            };
            any_finite_direction |= d.is_some();
            let slope = d.as_ref().map_or(f64::NAN, |d| linalg::dot(&gradient, d));
            let Some(d) = d.filter(|_| slope > 0.0 && slope.is_finite()) else {
                retries += 1;
                self.method.rejected();
                continue;
            };
            let at = |eta: f64| -> Vec<f64> {
                theta.iter().zip(&d).map(|(t, di)| t - eta * di).collect()
            };
            let mut eta = region.eta;
            let (mut trial_loss, reference) =
                trial_loss(problem, theta, at(eta), &mut base_loss, residual);
            let accepted = trial_loss.is_finite() && trial_loss <= reference;
            if accepted {
                let rho = step_gain_ratio(reference - trial_loss, eta, slope);
                if let Some(second) = region.second_trial(rho) {
                    // The minimum along the ray is more than a factor 2 away from η.
                    let second_loss = problem.losses(&[at(second)])[0];
                    if second_loss.is_finite() && second_loss < trial_loss {
                        (eta, trial_loss) = (second, second_loss);
                    }
                }
            } else {
                let search =
                    grid_line_search_from(problem, theta, &d, &self.line_search, eta, base_loss);
                if !(search.loss.is_finite() && search.loss <= reference) {
                    retries += 1;
                    self.method.rejected();
                    continue;
                }
                (eta, trial_loss) = (search.step, search.loss);
            }
            region.eta = eta;
            region.accepted(step_gain_ratio(reference - trial_loss, eta, slope));
            *self.method.step_radius() = Some(region.eta);
            let taken = (eta, trial_loss, damping_used, rank, retries);
            return Ok(self.take_step(theta, d, taken));
        }
        let loss_here = base_loss.unwrap_or_else(|| half_squared_norm(residual));
        self.rejected_step(loss_here, damping_used, rank, retries, any_finite_direction)
    }
}

/// `L(trial)` and the reference it is judged against: `L(θ)`, evaluated in the same
/// batch as the step's first trial (θ rides along once per step, so both losses come
/// from one code path) and kept in `base_loss` when finite, else `½‖r‖²`.
fn trial_loss(
    problem: &mut dyn LeastSquares,
    theta: &[f64],
    trial: Vec<f64>,
    base_loss: &mut Option<f64>,
    residual: &[f64],
) -> (f64, f64) {
    let loss = match base_loss {
        Some(_) => problem.losses(&[trial])[0],
        None => {
            let losses = problem.losses(&[trial, theta.to_vec()]);
            *base_loss = Some(losses[1]).filter(|b| b.is_finite());
            losses[0]
        }
    };
    let reference = base_loss.unwrap_or_else(|| half_squared_norm(residual));
    (loss, reference)
}

/// `max_j (JᵀJ)_jj`, the largest squared column norm of J: the scale of `λ₀`.
pub(crate) fn largest_gram_diagonal(jacobian: MatRef<'_, f64>) -> f64 {
    let mut diagonal = vec![0.0; jacobian.ncols()];
    for i in 0..jacobian.nrows() {
        for (j, g) in diagonal.iter_mut().enumerate() {
            let v = jacobian[(i, j)];
            *g += v * v;
        }
    }
    diagonal.into_iter().fold(0.0, f64::max)
}

impl<M: NaturalMethod + 'static> Optimizer for Natural<M> {
    fn name(&self) -> &'static str {
        M::NAME
    }

    fn step(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError> {
        let (n_rows, n_params) = (problem.n_residuals(), problem.n_params());
        let (residual, jacobian) = checked_residual_and_jacobian(problem, theta)?;
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
            let damping = match (self.trust_region, self.method.trust_region().as_mut()) {
                (Some(_), Some(region)) => {
                    region.reject();
                    Some(region.lambda)
                }
                (Some(_), None) => None,
                (None, _) => self.method.raise_damping_after_fault(),
            };
            let block = problem.locate_row(row);
            return self
                .non_finite
                .reject(loss0, damping, (what, Some(row), block));
        }
        let jm = linalg::jacobian_view(&jacobian, n_rows, n_params);
        let par = self.par;
        // Factored once per step; the retries reuse it.
        let Ok(factor) = self.method.factor(jm, &residual, par) else {
            if let Some(region) = self.method.trust_region().as_mut() {
                region.reject();
            }
            return self
                .non_finite
                .reject(loss0, None, (NonFiniteSource::Direction, None, None));
        };
        if let Some(config) = self.trust_region {
            return self.trust_region_step(problem, theta, &factor, jm, &residual, config);
        }
        if let Some(config) = self.line_search.region {
            return self.step_region_step(problem, theta, &factor, jm, &residual, config);
        }
        // L(θ) as the line search's batched evaluation reports it (used if rejected).
        let mut loss_here = loss0;
        let mut retries = 0;
        let mut rank = None;
        let mut damping_used = None;
        // Whether any attempt produced a finite direction (else the step failed on a
        // non-finite or failed linear solve rather than on the line search).
        let mut any_finite_direction = false;
        for _attempt in 0..=self.line_search.max_retries {
            // 1. Direction (`None`: the linear solve failed).
            let attempt = self.method.direction(&factor, jm, &residual, par);
            let Some(direction) = attempt.unpack(&mut damping_used, &mut rank) else {
                retries += 1;
                continue;
            };
            // A failed or non-finite solve is retried like a rejected line search.
            if let Some(direction) = direction {
                any_finite_direction = true;
                // 2. Line search; accept only non-increasing steps.
                let start = match (self.line_search.warm_start, self.last_step) {
                    (true, Some(step)) => step,
                    _ => 1.0,
                };
                let search = grid_line_search(problem, theta, &direction, &self.line_search, start);
                let reference = if search.base_loss.is_finite() {
                    search.base_loss
                } else {
                    loss0
                };
                loss_here = reference;
                if search.loss.is_finite() && search.loss <= reference {
                    self.last_step = Some(search.step);
                    let taken = (search.step, search.loss, damping_used, rank, retries);
                    return Ok(self.take_step(theta, direction, taken));
                }
            }
            // 3. Rejected: make the next attempt more conservative.
            retries += 1;
            self.method.rejected();
        }
        self.rejected_step(loss_here, damping_used, rank, retries, any_finite_direction)
    }

    fn state(&self) -> SolverState {
        self.method.state()
    }

    fn state_is_whole(&self) -> bool {
        self.non_finite.is_clear()
    }

    fn resume(&mut self, history: &[IterationRecord]) {
        self.last_step = history
            .iter()
            .rev()
            .find(|r| r.accepted && r.step_size > 0.0)
            .map(|r| r.step_size);
    }

    fn sketch_size(&self) -> Option<usize> {
        self.method.sketch_size()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod fault_tests {
    //! Non-finite values injected into a small problem: rejected steps, raised damping,
    //! recovery, and the error that names the row's block when faults persist.
    use super::*;
    use crate::solve::engd::EngdState;
    use crate::solve::report::NON_FINITE_DAMPING_CAP;
    use crate::solve::test_problems::TanhNetwork;
    use crate::solve::{
        solve, AdamConfig, AnagramConfig, EngdConfig, OptimizerConfig, SngdConfig, Solver,
    };
    use std::ops::ControlFlow;

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
            optimizer: OptimizerConfig::Engd(EngdConfig::default()),
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
            let damping_before = solver.state().decode::<EngdState>("engd").unwrap().damping;
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

#[cfg(test)]
mod trust_region_tests {
    //! The trust-region globalization of the natural-gradient step, checked against a
    //! dense Levenberg–Marquardt step computed here and on problems with known minima.
    use super::*;
    use crate::solve::test_problems::TanhNetwork;
    use crate::solve::{
        solve, AnagramConfig, EngdConfig, OptimizerConfig, SngdConfig, Solver, StopReason,
    };
    use faer::prelude::Solve;
    use faer::{Mat, Side};
    use std::ops::ControlFlow;

    fn trust_region_config(optimizer: OptimizerConfig, iterations: usize) -> SolveConfig {
        SolveConfig {
            optimizer,
            max_iterations: iterations,
            threads: 1,
            seed: 3,
            loss_tol: 1e-20,
            patience: None,
            trust_region: Some(TrustRegionConfig::default()),
            ..SolveConfig::default()
        }
    }

    /// `(JᵀJ + λI)⁻¹ Jᵀ r` by a dense Cholesky factorization, and `max diag(JᵀJ)`.
    pub(super) fn dense_lm_step(j: &[f64], r: &[f64], n: usize, p: usize, lambda: f64) -> Vec<f64> {
        let jm = Mat::from_fn(n, p, |i, k| j[i * p + k]);
        let mut gram = jm.transpose() * &jm;
        for k in 0..p {
            gram[(k, k)] += lambda;
        }
        let rhs = Mat::from_fn(p, 1, |k, _| (0..n).map(|i| j[i * p + k] * r[i]).sum());
        let chol = gram.llt(Side::Lower).expect("SPD");
        let d = chol.solve(&rhs);
        (0..p).map(|k| d[(k, 0)]).collect()
    }

    #[test]
    fn the_first_engd_step_is_the_dense_levenberg_marquardt_step_with_lambda_on_the_gram_scale() {
        let (mut net, theta0) = TanhNetwork::realizable(3, 6, 40, 11);
        let (n, p) = (net.n_residuals(), net.n_params());
        let (r, j) = net.residual_and_jacobian(&theta0);
        let largest = (0..p)
            .map(|k| (0..n).map(|i| j[i * p + k].powi(2)).sum::<f64>())
            .fold(0.0, f64::max);
        let lambda0 = TrustRegionConfig::default().tau * largest;
        assert!(lambda0 > 0.0);
        let expected = dense_lm_step(&j, &r, n, p, lambda0);
        let config = trust_region_config(OptimizerConfig::Engd(EngdConfig::default()), 1);
        let mut solver = Solver::new(config);
        let mut theta = theta0.clone();
        let outcome = solver.step(&mut net, &mut theta).unwrap();
        assert!(outcome.accepted, "a good first step from a random start");
        assert_eq!(outcome.step_size, 1.0, "no line search: the full step");
        assert_eq!(outcome.damping, Some(lambda0));
        let taken: Vec<f64> = theta0.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let scale = expected.iter().map(|v| v.abs()).fold(0.0, f64::max);
        for (a, b) in taken.iter().zip(&expected) {
            assert!((a - b).abs() <= 1e-9 * scale, "{a} vs {b}");
        }
        // The loss fell, and the damping moved by Nielsen's rule (it shrinks after a
        // step the model predicted well).
        assert!(outcome.loss < 0.5 * r.iter().map(|v| v * v).sum::<f64>());
    }

    #[test]
    fn every_natural_gradient_method_converges_on_a_realizable_fit_under_the_trust_region() {
        for optimizer in natural_methods() {
            let report = converged_realizable_fit(&trust_region_config(optimizer, 300));
            // Every record reports the trust region's damping; rejected steps move nothing.
            assert!(report
                .history
                .iter()
                .all(|r| r.damping.is_some_and(|d| d > 0.0)));
            assert!(report
                .history
                .iter()
                .all(|r| r.accepted == (r.step_size == 1.0)));
        }
    }

    /// A 300-iteration run of `config` on a realizable fit: asserts it reaches a loss of
    /// 1e-10 and that the loss never increases from one iteration to the next.
    pub(super) fn converged_realizable_fit(config: &SolveConfig) -> crate::solve::SolveReport {
        let name = config.optimizer.name();
        let (mut net, mut theta) = TanhNetwork::realizable(3, 8, 60, 2);
        let report = solve(&mut net, &mut theta, config, |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        assert!(
            report.final_loss <= 1e-10,
            "{name}: {} after {} iterations ({:?})",
            report.final_loss,
            report.iterations,
            report.stopped_because
        );
        for pair in report.history.windows(2) {
            assert!(pair[1].loss <= pair[0].loss, "{name}: {pair:?}");
        }
        report
    }

    /// ENGD, SNGD and ANaGRAM with their default settings.
    pub(super) fn natural_methods() -> [OptimizerConfig; 3] {
        [
            OptimizerConfig::Engd(EngdConfig::default()),
            OptimizerConfig::Sngd(SngdConfig::default()),
            OptimizerConfig::Anagram(AnagramConfig::default()),
        ]
    }

    /// A run of `config` stopped after 7 iterations, saved (its state holding `key`)
    /// and resumed repeats the uninterrupted run: losses, step sizes, dampings and θ.
    pub(super) fn assert_resumed_run_repeats(config: &SolveConfig, key: &str) {
        let name = config.optimizer.name();
        let (mut net, theta0) = TanhNetwork::realizable(3, 8, 60, 5);
        let mut theta = theta0.clone();
        let (full, _) = crate::solve::solve_from(&mut net, &mut theta, config, None, |_, _, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let mut theta_half = theta0.clone();
        let (first, state) =
            crate::solve::solve_from(&mut net, &mut theta_half, config, None, |h, _, _| {
                if h.len() == 7 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert_eq!(first.stopped_because, StopReason::Callback);
        let json = serde_json::to_string(&state).unwrap();
        assert!(json.contains(key), "{name}: {json}");
        let start = crate::solve::SolveStart {
            state: serde_json::from_str(&json).unwrap(),
            history: first.history.clone(),
            elapsed_s: 0.0,
        };
        let (resumed, _) =
            crate::solve::solve_from(&mut net, &mut theta_half, config, Some(start), |_, _, _| {
                ControlFlow::Continue(())
            })
            .unwrap();
        let steps = |h: &[IterationRecord]| {
            h.iter()
                .map(|r| (r.loss, r.step_size, r.damping))
                .collect::<Vec<_>>()
        };
        assert_eq!(steps(&resumed.history), steps(&full.history), "{name}");
        assert_eq!(theta_half, theta, "{name}");
    }

    #[test]
    fn a_resumed_trust_region_run_repeats_the_uninterrupted_one() {
        for optimizer in natural_methods() {
            assert_resumed_run_repeats(&trust_region_config(optimizer, 30), "trust_region");
        }
    }

    #[test]
    fn the_anagram_effective_rank_falls_as_the_damping_rises() {
        let (mut net, theta) = TanhNetwork::realizable(3, 8, 60, 2);
        let (n, p) = (net.n_residuals(), net.n_params());
        let (r, j) = net.residual_and_jacobian(&theta);
        let jm = linalg::jacobian_view(&j, n, p);
        let mut method = crate::solve::anagram::tests_support::method(AnagramConfig::default());
        let spectrum = method.factor(jm, &r, Par::Seq).unwrap();
        let sigma_max = spectrum.sigma_max();
        let kept = |method: &mut crate::solve::anagram::Anagram, lambda: f64| match method
            .damped_direction(&spectrum, jm, &r, lambda, Par::Seq)
        {
            Attempt::Direction { rank, .. } => rank.unwrap(),
            other => panic!("{other:?}"),
        };
        let all = kept(&mut method, 0.0);
        // √λ = σ_max/10 counts only singular values ≥ σ_max/10, fewer than all.
        let some = kept(&mut method, (0.1 * sigma_max).powi(2));
        let one = kept(&mut method, sigma_max.powi(2));
        assert!(all > some && some >= 1 && one == 1, "{all} {some} {one}");
        // With no cut-off floor the filtered direction is the dense LM step.
        let lambda = 1e-2 * sigma_max.powi(2);
        let (d, _) = spectrum.damped_direction(0.0, lambda);
        let expected = dense_lm_step(&j, &r, n, p, lambda);
        let scale = expected.iter().map(|v| v.abs()).fold(0.0, f64::max);
        for (a, b) in d.iter().zip(&expected) {
            assert!((a - b).abs() <= 1e-8 * scale, "{a} vs {b}");
        }
    }
}

#[cfg(test)]
mod step_region_tests {
    //! The step-length trust region, the default globalization of the natural-gradient
    //! methods: the direction is the method's, the step its multiple by the radius, the
    //! grid search after a rejected trial, and the radius carried in the method's state.
    use super::trust_region_tests::{
        assert_resumed_run_repeats, converged_realizable_fit, dense_lm_step, natural_methods,
    };
    use super::*;
    use crate::solve::options::ConfigScalar;
    use crate::solve::registry::apply_option;
    use crate::solve::test_problems::{loss_of, LinearLeastSquares, Probe, TanhNetwork};
    use crate::solve::{EngdConfig, OptimizerConfig, Solver};

    fn config(optimizer: OptimizerConfig, iterations: usize) -> SolveConfig {
        SolveConfig {
            optimizer,
            max_iterations: iterations,
            threads: 1,
            seed: 3,
            loss_tol: 1e-20,
            patience: None,
            ..SolveConfig::default()
        }
    }

    #[test]
    fn the_region_is_the_default_and_the_option_switches_it() {
        let mut c = SolveConfig::default();
        assert!(c.line_search.region.is_some());
        assert!(c.trust_region.is_none());
        let word = |w: &str| ConfigScalar::Word(w.to_string());
        apply_option(&mut c, "line_search", &word("grid")).unwrap();
        assert!(c.line_search.region.is_none() && c.trust_region.is_none());
        apply_option(&mut c, "line_search", &word("off")).unwrap();
        assert!(c.line_search.region.is_none() && c.trust_region.is_some());
        apply_option(&mut c, "line_search", &word("region")).unwrap();
        assert!(c.line_search.region.is_some() && c.trust_region.is_none());
        let mut gd = SolveConfig {
            optimizer: crate::solve::OptimizerKind::Gd.default_config(),
            ..SolveConfig::default()
        };
        let err = apply_option(&mut gd, "line_search", &word("region")).unwrap_err();
        assert!(err.contains("always searches the grid"), "{err}");
    }

    #[test]
    fn on_a_linear_problem_the_first_trial_is_the_full_step_onto_the_minimum() {
        // The loss is a parabola along the Gauss–Newton direction with its minimum at
        // η = 1: the trial there has ρ = ½, is accepted, and no second trial is needed.
        let mut problem = Probe::new(LinearLeastSquares::random(40, 12, 5));
        let (n, p) = (40, 12);
        let theta0 = vec![0.0; p];
        let (r, j) = problem.inner.residual_and_jacobian(&theta0);
        let exact = dense_lm_step(&j, &r, n, p, 0.0);
        let minimum = loss_of(
            &mut problem.inner,
            &exact.iter().map(|v| -v).collect::<Vec<_>>(),
        );
        let mut solver = Solver::new(config(OptimizerConfig::Engd(EngdConfig::default()), 1));
        let mut theta = theta0.clone();
        let outcome = solver.step(&mut problem, &mut theta).unwrap();
        assert!(outcome.accepted);
        assert_eq!(outcome.step_size, 1.0);
        assert_eq!(outcome.retries, 0);
        assert_eq!(problem.losses_calls, 1, "one batched call: the trial and θ");
        assert!(
            (outcome.loss - minimum).abs() <= 1e-12 * minimum,
            "{} {minimum}",
            outcome.loss
        );
    }

    #[test]
    fn a_step_is_the_methods_direction_times_the_reported_radius() {
        // ENGD's direction is the dense damped step at its damping (well-conditioned
        // here, so that two Cholesky factorizations agree); the region only scales it,
        // whatever the radius the trials settled on.
        let (mut net, theta0) = TanhNetwork::realizable(3, 6, 40, 11);
        let (n, p) = (net.n_residuals(), net.n_params());
        let engd = EngdConfig {
            damping: 1e-3,
            ..EngdConfig::default()
        };
        let mut solver = Solver::new(config(OptimizerConfig::Engd(engd), 5));
        let mut theta = theta0;
        let mut radii = vec![];
        for _ in 0..5 {
            let damping = solver
                .state()
                .decode::<crate::solve::engd::EngdState>("engd")
                .unwrap()
                .damping;
            let (r, j) = net.residual_and_jacobian(&theta);
            let d = dense_lm_step(&j, &r, n, p, damping);
            let before = theta.clone();
            let outcome = solver.step(&mut net, &mut theta).unwrap();
            assert!(outcome.accepted);
            let eta = outcome.step_size;
            assert!(eta > 0.0 && eta <= 1.0);
            radii.push(eta);
            let scale = d.iter().map(|v| v.abs()).fold(0.0, f64::max) * eta;
            for ((a, b), di) in before.iter().zip(&theta).zip(&d) {
                assert!(((a - b) - eta * di).abs() <= 1e-8 * scale, "{eta}");
            }
        }
        // The radius moved: it is not a fixed step.
        assert!(radii.windows(2).any(|w| w[0] != w[1]), "{radii:?}");
    }

    #[test]
    fn a_rejected_trial_hands_the_direction_to_the_grid_search() {
        // From a start where the full step (the first radius) overshoots, the step then
        // taken is the grid search's along the same direction, started at that radius.
        let engd = EngdConfig {
            damping: 1e-6,
            ..EngdConfig::default()
        };
        let (mut net, theta0, d) = (0..50)
            .find_map(|seed| {
                let (mut net, theta0) = TanhNetwork::realizable(3, 8, 60, seed);
                let (n, p) = (net.n_residuals(), net.n_params());
                let (r, j) = net.residual_and_jacobian(&theta0);
                let d = dense_lm_step(&j, &r, n, p, engd.damping);
                let full: Vec<f64> = theta0.iter().zip(&d).map(|(t, di)| t - di).collect();
                (loss_of(&mut net, &full) > loss_of(&mut net, &theta0)).then_some((net, theta0, d))
            })
            .expect("a start where η = 1 fails");
        let expected = grid_line_search(&mut net, &theta0, &d, &LineSearchConfig::default(), 1.0);
        let mut solver = Solver::new(config(OptimizerConfig::Engd(engd), 1));
        let mut theta = theta0.clone();
        let outcome = solver.step(&mut net, &mut theta).unwrap();
        assert!(outcome.accepted);
        assert_eq!(outcome.retries, 0, "the direction itself was not rejected");
        assert_eq!(outcome.step_size, expected.step);
        // The same step size, and the loss there up to the difference between ENGD's and
        // the dense Cholesky factorization of a Gramian damped by only 1e-6.
        assert!(
            (outcome.loss - expected.loss).abs() <= 1e-9 * expected.loss,
            "{outcome:?} {expected:?}"
        );
    }

    #[test]
    fn a_direction_without_descent_is_rejected_before_any_trial() {
        // At the teacher's own parameters every residual is exactly zero, so Jᵀr = 0 and
        // each method's direction has slope gᵀd = 0: no trial is taken, θ stays, the
        // step is reported rejected after every retry, and no radius is set.
        for optimizer in natural_methods() {
            let (mut net, _) = TanhNetwork::realizable(3, 3, 30, 5);
            let teacher = net.random_parameters(5);
            assert_eq!(loss_of(&mut net, &teacher), 0.0);
            let name = format!("{optimizer:?}");
            let mut solver = Solver::new(config(optimizer, 1));
            let mut theta = teacher.clone();
            let before = serde_json::to_string(&solver.state()).unwrap();
            let outcome = solver.step(&mut net, &mut theta).unwrap();
            assert!(!outcome.accepted, "{name}: {outcome:?}");
            assert_eq!(outcome.step_size, 0.0, "{name}");
            assert_eq!(outcome.loss, 0.0, "{name}");
            assert_eq!(
                outcome.retries,
                LineSearchConfig::default().max_retries + 1,
                "{name}"
            );
            assert_eq!(theta, teacher, "{name}");
            // ENGD's and SNGD's damping rose (ANaGRAM raises its cut-off within the
            // step only), and no radius was set.
            let saved = serde_json::to_string(&solver.state()).unwrap();
            assert!(
                name.starts_with("Anagram") || saved != before,
                "{name}: {saved}"
            );
            assert!(!saved.contains("step_radius"), "{name}: {saved}");
        }
    }

    #[test]
    fn every_natural_gradient_method_converges_on_a_realizable_fit_with_the_region() {
        for optimizer in natural_methods() {
            let report = converged_realizable_fit(&config(optimizer, 300));
            assert!(report
                .history
                .iter()
                .all(|r| !r.accepted || (r.step_size > 0.0 && r.step_size <= 1.0)));
        }
    }

    #[test]
    fn a_resumed_run_continues_from_the_saved_radius() {
        for optimizer in natural_methods() {
            assert_resumed_run_repeats(&config(optimizer, 30), "step_radius");
        }
    }
}
