//! The Levenberg–Marquardt trust region of ALGORITHMS.md §4.1, as a small state machine
//! any Gauss–Newton method can drive, and [`lm_solve`], a dense reference driver.
//!
//! A step `d` solves `(JᵀJ + λD) d = Jᵀr` and the trial point is `θ⁺ = θ − d`. The
//! linear model predicts the reduction `pred = ½‖r‖² − ½‖r − Jd‖² = dᵀg − ½‖Jd‖²`
//! ([`predicted_reduction`]); the gain ratio `ρ = ared / pred` ([`gain_ratio`]) of the
//! actual reduction `ared = L(θ) − L(θ⁺)` decides acceptance (`ρ > ρ_min`) and the new
//! damping by Nielsen's rule ([`TrustRegion::update`]; H. B. Nielsen, "Damping parameter
//! in Marquardt's method", IMM-REP-1999-05, the rule of Ceres Solver's
//! `LevenbergMarquardtStrategy` and of `levmar`):
//! - accepted: `λ ← λ·max(1/3, 1 − (2ρ − 1)³)`, `ν ← 2`;
//! - rejected: `λ ← λ·ν`, `ν ← 2ν`.
//!
//! The initial damping is on the scale of the Gramian, `λ₀ = τ·max diag(JᵀJ)`, never 0.
//! Optional geodesic acceleration (Transtrum & Sethna 2012) corrects the step with the
//! directional second derivative of `r` estimated by one extra residual evaluation.

use super::linalg::{self, LinalgError};
use super::LeastSquares;
use faer::{Mat, Par};

/// Geodesic-acceleration settings (Transtrum & Sethna 2012, "Improvements to the
/// Levenberg–Marquardt algorithm for nonlinear least-squares minimization").
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GeodesicConfig {
    /// The largest accepted ratio `2‖a‖/‖d‖` of acceleration to velocity; steps above
    /// it are rejected like a failed gain ratio. Default `0.75`.
    pub alpha: f64,
    /// The finite-difference step `h` of `r_vv ≈ (2/h)((r(θ − h d) − r(θ))/h + J d)`;
    /// default `0.1`.
    pub h: f64,
}

impl Default for GeodesicConfig {
    fn default() -> Self {
        Self {
            alpha: 0.75,
            h: 0.1,
        }
    }
}

/// The damping matrix `D` of `(JᵀJ + λD) d = Jᵀr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DampingScale {
    /// `D = I` (Levenberg); `λ₀ = τ·max diag(JᵀJ)`.
    #[default]
    Identity,
    /// `D = diag(JᵀJ)`, each entry the largest seen so far and 1 where it is zero
    /// (Marquardt's scaling as MINPACK keeps it: invariant to the units of each
    /// parameter); `λ₀ = τ`.
    GramDiagonal,
}

/// Trust-region settings: plain data with documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrustRegionConfig {
    /// Initial damping factor: `λ₀ = τ·max diag(JᵀJ)` (with `D = I`). Default `1e-3`,
    /// the value Madsen, Nielsen & Tingleff ("Methods for non-linear least squares
    /// problems", 2004) advise when the start may be far from a minimum — a randomly
    /// initialised network is; `1e-6` suits a start believed good.
    pub tau: f64,
    /// Steps with gain ratio `ρ ≤ rho_min` are rejected; default `1e-4`.
    pub rho_min: f64,
    /// Lower bound of `λ` (absolute); default `1e-16`. Keeps `λ > 0`.
    pub lambda_min: f64,
    /// Upper bound of `λ` (absolute); default `1e32`. A rejection at the bound means
    /// no step along `−g` reduces the loss: the drivers stop there.
    pub lambda_max: f64,
    /// `D = I` or `D = diag(JᵀJ)`; default [`DampingScale::Identity`].
    pub scale: DampingScale,
    /// Geodesic acceleration; `None` (default) disables it.
    pub geodesic: Option<GeodesicConfig>,
}

impl Default for TrustRegionConfig {
    fn default() -> Self {
        Self {
            tau: 1e-3,
            rho_min: 1e-4,
            lambda_min: 1e-16,
            lambda_max: 1e32,
            scale: DampingScale::Identity,
            geodesic: None,
        }
    }
}

/// The trust-region state: the damping `λ` and Nielsen's growth factor `ν`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrustRegion {
    /// The damping `λ` of the next solve.
    pub lambda: f64,
    /// The factor applied to `λ` at the next rejection (2 after an acceptance, doubled
    /// at each consecutive rejection).
    pub nu: f64,
    /// Settings.
    pub config: TrustRegionConfig,
}

/// The largest value `ν` reaches (about 2⁵⁰); `λ` has hit `lambda_max` long before.
const NU_MAX: f64 = 1.125_899_906_842_624e15;

impl TrustRegion {
    /// The initial state for a Gramian whose largest diagonal entry is
    /// `max_gram_diagonal`: `λ₀ = τ·max diag(JᵀJ)` with `D = I`, `λ₀ = τ` with
    /// `D = diag(JᵀJ)`; clamped to `[lambda_min, lambda_max]` (so never 0); `ν = 2`.
    pub fn new(config: TrustRegionConfig, max_gram_diagonal: f64) -> Self {
        let scale = match config.scale {
            DampingScale::Identity => max_gram_diagonal,
            DampingScale::GramDiagonal => 1.0,
        };
        let lambda = config.tau * scale;
        let lambda = if lambda.is_finite() {
            lambda.clamp(config.lambda_min, config.lambda_max)
        } else {
            config.lambda_max
        };
        Self {
            lambda,
            nu: 2.0,
            config,
        }
    }

    /// Whether a step with gain ratio `rho` is accepted: `ρ > ρ_min` (NaN is not).
    pub fn accepts(&self, rho: f64) -> bool {
        rho > self.config.rho_min
    }

    /// Nielsen's update after a trial step with gain ratio `rho`; returns whether the
    /// step is accepted.
    ///
    /// Accepted (`ρ > ρ_min`): `λ ← λ·max(1/3, 1 − (2ρ − 1)³)`, `ν ← 2`. Rejected:
    /// `λ ← λ·ν`, `ν ← 2ν`. `λ` stays in `[lambda_min, lambda_max]`.
    pub fn update(&mut self, rho: f64) -> bool {
        let accepted = self.accepts(rho);
        if accepted {
            // ρ = +∞ gives −∞ inside the max: the factor is then 1/3, as for ρ = 1.
            let factor = (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
            self.lambda *= factor;
            self.nu = 2.0;
        } else {
            self.lambda *= self.nu;
            self.nu = (2.0 * self.nu).min(NU_MAX);
        }
        self.lambda = self
            .lambda
            .clamp(self.config.lambda_min, self.config.lambda_max);
        accepted
    }

    /// A rejection for a reason other than the gain ratio (a failed factorization, a
    /// non-finite trial loss, too large a geodesic acceleration).
    pub fn reject(&mut self) {
        self.update(f64::NEG_INFINITY);
    }

    /// Whether `λ` sits at `lambda_max` (a further rejection cannot raise it).
    pub fn exhausted(&self) -> bool {
        self.lambda >= self.config.lambda_max
    }
}

/// The reduction of `L = ½‖r‖²` predicted by the linear model for the step
/// `θ⁺ = θ − d`: `½‖r‖² − ½‖r − Jd‖² = dᵀg − ½‖Jd‖²` with `g = Jᵀr`.
///
/// # Shapes
/// `gradient: P`, `step: P`, `jacobian_step: N` (`J d`).
pub fn predicted_reduction(gradient: &[f64], step: &[f64], jacobian_step: &[f64]) -> f64 {
    linalg::dot(step, gradient) - 0.5 * linalg::dot(jacobian_step, jacobian_step)
}

/// The gain ratio `ρ = actual / predicted`, made safe for the acceptance test:
///
/// - `−∞` (reject) when the prediction is not positive or not finite — for a
///   Levenberg–Marquardt step the model always predicts a decrease
///   (`pred ≥ ½ gᵀ(G + λD)⁻¹g > 0` for `g ≠ 0`), so `pred ≤ 0` means the solve was
///   swamped by rounding;
/// - `−∞` when the actual reduction is NaN or `−∞` (the trial loss is not finite);
/// - otherwise the quotient, which may be `+∞` for a tiny positive prediction
///   ([`TrustRegion::update`] treats that as `ρ = 1`).
pub fn gain_ratio(actual: f64, predicted: f64) -> f64 {
    if !(predicted > 0.0 && predicted.is_finite()) || actual.is_nan() {
        return f64::NEG_INFINITY;
    }
    let rho = actual / predicted;
    if rho.is_nan() {
        f64::NEG_INFINITY
    } else {
        rho
    }
}

/// Settings of [`lm_solve`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LmConfig {
    /// The trust region.
    pub trust_region: TrustRegionConfig,
    /// Stop when `‖g‖∞ ≤ gradient_tolerance`; default `1e-14`.
    pub gradient_tolerance: f64,
    /// Stop when the step is small: `‖d‖ ≤ step_tolerance·(‖θ‖ + step_tolerance)`;
    /// default `1e-14`.
    pub step_tolerance: f64,
    /// Stop (MINPACK's `ftol` test) when both the predicted and the actual reduction
    /// of an accepted step are at most `function_tolerance·L`; default `1e-15`, a few
    /// ulps of `L`: below it `ared` is rounding noise.
    pub function_tolerance: f64,
    /// Stop when `L ≤ loss_floor`; default `0` (never, unless the residual is exactly
    /// zero).
    pub loss_floor: f64,
}

impl Default for LmConfig {
    fn default() -> Self {
        Self {
            trust_region: TrustRegionConfig::default(),
            gradient_tolerance: 1e-14,
            step_tolerance: 1e-14,
            function_tolerance: 1e-15,
            loss_floor: 0.0,
        }
    }
}

/// Why [`lm_solve`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LmStop {
    /// `‖g‖∞ ≤ gradient_tolerance`.
    Gradient,
    /// The step fell below `step_tolerance`.
    Step,
    /// Predicted and actual reductions fell below `function_tolerance·L`.
    Function,
    /// `L ≤ loss_floor`.
    LossFloor,
    /// `λ` reached `lambda_max` and the step was still rejected.
    DampingLimit,
    /// The iteration cap.
    MaxIterations,
    /// The residual or Jacobian at an accepted point was not finite.
    NonFinite,
}

/// The outcome of [`lm_solve`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LmReport {
    /// The final (last accepted) parameters.
    pub theta: Vec<f64>,
    /// `L = ½‖r‖²` there.
    pub loss: f64,
    /// Trial steps taken (accepted + rejected; one solve each).
    pub iterations: usize,
    /// Accepted steps.
    pub accepted: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Residual evaluations (trial points and geodesic probes; the Jacobian
    /// evaluations, which also give r, are not counted here).
    pub residual_evaluations: usize,
    /// Residual-and-Jacobian evaluations (the start and each accepted point).
    pub jacobian_evaluations: usize,
    /// Steps on which geodesic acceleration was applied (when enabled).
    pub geodesic_steps: usize,
    /// Why it stopped.
    pub stop: LmStop,
    /// The final trust-region state.
    pub trust_region: TrustRegion,
}

/// `(G + λD)` factored and solved for one right-hand side: dense Cholesky of the lower
/// triangle of `G` with `λD` added to its diagonal (`scale` is D's diagonal; a zero
/// entry stands for 1).
fn damped_solve(
    gram_lower: &Mat<f64>,
    lambda: f64,
    scale: &[f64],
    rhs: &[f64],
) -> Result<Vec<f64>, LinalgError> {
    let n = rhs.len();
    let mut damped = gram_lower.clone();
    for (i, &s) in scale.iter().enumerate() {
        damped[(i, i)] += lambda * if s > 0.0 { s } else { 1.0 };
    }
    let mut x = Mat::from_fn(n, 1, |i, _| rhs[i]);
    linalg::cholesky_solve_damped(damped.as_ref(), 0.0, x.as_mut(), Par::Seq)?;
    Ok((0..n).map(|i| x[(i, 0)]).collect())
}

/// Loss `½‖r‖²`, `+∞` when `r` is not finite (NaN included), so that a trial step
/// to a non-finite residual is rejected.
fn loss_or_infinity(r: &[f64]) -> f64 {
    let loss = super::optimizer::half_squared_norm(r);
    if loss.is_finite() {
        loss
    } else {
        f64::INFINITY
    }
}

/// A dense Levenberg–Marquardt solve of `min ½‖r(θ)‖²` from `theta`, the reference
/// behaviour of the trust region (§4.1): per trial a dense Cholesky of `JᵀJ + λD`,
/// one residual evaluation at `θ − d` (two with geodesic acceleration), and
/// Nielsen's update; a rejected step reuses `J`, `r` and `JᵀJ` and only re-solves.
/// At most `max_iterations` trial steps.
///
/// Meant for small problems (tests, the MGH set): the Gramian is formed densely.
pub fn lm_solve<P: LeastSquares + ?Sized>(
    problem: &mut P,
    theta: &[f64],
    config: &LmConfig,
    max_iterations: usize,
) -> LmReport {
    let p = problem.n_params();
    let n = problem.n_residuals();
    let mut theta = theta.to_vec();
    let (mut r, mut j) = problem.residual_and_jacobian(&theta);
    let mut report = LmReport {
        theta: Vec::new(),
        loss: loss_or_infinity(&r),
        iterations: 0,
        accepted: 0,
        rejected: 0,
        residual_evaluations: 0,
        jacobian_evaluations: 1,
        geodesic_steps: 0,
        stop: LmStop::MaxIterations,
        trust_region: TrustRegion::new(config.trust_region, 0.0),
    };
    let mut fresh = true;
    let mut gram = Mat::<f64>::zeros(p, p);
    let mut gradient = vec![0.0; p];
    // D's diagonal: ones, or the running maximum of diag(JᵀJ) (zeros read as 1).
    let mut scale = match config.trust_region.scale {
        DampingScale::Identity => vec![1.0; p],
        DampingScale::GramDiagonal => vec![0.0; p],
    };
    let mut initialized = false;
    let stop = 'outer: loop {
        if fresh {
            if !(report.loss.is_finite() && j.iter().all(|v| v.is_finite())) {
                break LmStop::NonFinite;
            }
            if report.loss <= config.loss_floor {
                break LmStop::LossFloor;
            }
            let jm = linalg::jacobian_view(&j, n, p);
            gram = linalg::gram_lower(jm.transpose(), Par::Seq);
            gradient = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
            let diagonal: Vec<f64> = (0..p).map(|i| gram[(i, i)]).collect();
            if !initialized {
                let max_diagonal = diagonal.iter().copied().fold(0.0, f64::max);
                report.trust_region = TrustRegion::new(config.trust_region, max_diagonal);
                initialized = true;
            }
            if config.trust_region.scale == DampingScale::GramDiagonal {
                for (s, d) in scale.iter_mut().zip(&diagonal) {
                    *s = f64::max(*s, *d);
                }
            }
            fresh = false;
            if gradient.iter().fold(0.0f64, |m, g| m.max(g.abs())) <= config.gradient_tolerance {
                break LmStop::Gradient;
            }
        }
        if report.iterations >= max_iterations {
            break LmStop::MaxIterations;
        }
        report.iterations += 1;
        let tr = &mut report.trust_region;
        let Ok(mut step) = damped_solve(&gram, tr.lambda, &scale, &gradient) else {
            report.rejected += 1;
            if tr.exhausted() {
                break LmStop::DampingLimit;
            }
            tr.reject();
            continue;
        };
        let jm = linalg::jacobian_view(&j, n, p);
        let mut jacobian_step = linalg::mat_vec(jm, &step, Par::Seq);
        if let Some(geodesic) = config.trust_region.geodesic {
            // r_vv ≈ (2/h)((r(θ − h d) − r)/h + J d); (G + λD) a = Jᵀ r_vv; step d + a/2.
            let h = geodesic.h;
            let probe: Vec<f64> = theta.iter().zip(&step).map(|(t, d)| t - h * d).collect();
            let r_probe = problem.residual(&probe);
            report.residual_evaluations += 1;
            let r_vv: Vec<f64> = r_probe
                .iter()
                .zip(&r)
                .zip(&jacobian_step)
                .map(|((rp, r0), jd)| (2.0 / h) * ((rp - r0) / h + jd))
                .collect();
            let rhs = linalg::mat_vec(jm.transpose(), &r_vv, Par::Seq);
            let accel = match damped_solve(&gram, tr.lambda, &scale, &rhs) {
                Ok(a) if a.iter().all(|v| v.is_finite()) => a,
                _ => vec![f64::INFINITY; p],
            };
            if 2.0 * linalg::norm(&accel) > geodesic.alpha * linalg::norm(&step) {
                report.rejected += 1;
                if tr.exhausted() {
                    break LmStop::DampingLimit;
                }
                tr.reject();
                continue;
            }
            report.geodesic_steps += 1;
            for (d, a) in step.iter_mut().zip(&accel) {
                *d += 0.5 * a;
            }
            jacobian_step = linalg::mat_vec(jm, &step, Par::Seq);
        }
        if linalg::norm(&step)
            <= config.step_tolerance * (linalg::norm(&theta) + config.step_tolerance)
        {
            break LmStop::Step;
        }
        let predicted = predicted_reduction(&gradient, &step, &jacobian_step);
        let trial: Vec<f64> = theta.iter().zip(&step).map(|(t, d)| t - d).collect();
        let r_trial = problem.residual(&trial);
        report.residual_evaluations += 1;
        let trial_loss = loss_or_infinity(&r_trial);
        let actual = report.loss - trial_loss;
        let rho = gain_ratio(actual, predicted);
        let small_change = predicted <= config.function_tolerance * report.loss
            && actual.abs() <= config.function_tolerance * report.loss;
        let at_limit = tr.exhausted();
        if tr.update(rho) {
            report.accepted += 1;
            theta = trial;
            (r, j) = problem.residual_and_jacobian(&theta);
            report.jacobian_evaluations += 1;
            report.loss = loss_or_infinity(&r);
            fresh = true;
            if small_change {
                break 'outer LmStop::Function;
            }
        } else {
            report.rejected += 1;
            if small_change {
                break LmStop::Function;
            }
            if at_limit {
                break LmStop::DampingLimit;
            }
        }
    };
    report.stop = stop;
    report.theta = theta;
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::mgh::{self, MghProblem};
    use crate::solve::test_problems::LinearLeastSquares;

    #[test]
    fn nielsen_update_follows_hand_computed_values() {
        let config = TrustRegionConfig {
            lambda_min: 1e-300,
            lambda_max: 1e300,
            ..TrustRegionConfig::default()
        };
        // λ₀ = τ·max diag = 1e-3 · 50.
        let mut tr = TrustRegion::new(config, 50.0);
        assert_eq!(tr.lambda, 0.05);
        assert_eq!(tr.nu, 2.0);
        // Rejected: λ·2, then ·4, then ·8; ν doubles each time.
        assert!(!tr.update(-0.5));
        assert_eq!((tr.lambda, tr.nu), (0.1, 4.0));
        assert!(!tr.update(1e-5)); // below ρ_min = 1e-4
        assert_eq!((tr.lambda, tr.nu), (0.4, 8.0));
        assert!(!tr.update(f64::NAN));
        assert_eq!((tr.lambda, tr.nu), (3.2, 16.0));
        // Accepted with ρ = 0.25: factor 1 − (−0.5)³ = 1.125; ν back to 2.
        assert!(tr.update(0.25));
        assert!((tr.lambda - 3.6).abs() < 1e-15);
        assert_eq!(tr.nu, 2.0);
        // ρ = 0.75: 1 − 0.5³ = 0.875.
        assert!(tr.update(0.75));
        assert!((tr.lambda - 3.15).abs() < 1e-15);
        // ρ = 0.9: 1 − 0.8³ = 0.488.
        assert!(tr.update(0.9));
        assert!((tr.lambda - 3.15 * 0.488).abs() < 1e-15);
        // ρ ≥ 1: the factor is capped at 1/3 (ρ = 1: 1 − 1 = 0; ρ = 3: 1 − 125).
        let before = tr.lambda;
        assert!(tr.update(1.0));
        assert!((tr.lambda - before / 3.0).abs() < 1e-15);
        let before = tr.lambda;
        assert!(tr.update(3.0));
        assert!((tr.lambda - before / 3.0).abs() < 1e-15);
        assert!(tr.update(f64::INFINITY));
        // ρ just above ρ_min: factor 1 − (2ρ − 1)³ ≈ 2.
        let before = tr.lambda;
        assert!(tr.update(2e-4));
        let expected = 1.0 - (2.0 * 2e-4 - 1.0f64).powi(3);
        assert!((tr.lambda - before * expected).abs() < 1e-15 * before);
    }

    #[test]
    fn damping_stays_in_its_bounds_and_is_never_zero() {
        let config = TrustRegionConfig::default();
        // A zero Gramian still gives a positive λ₀.
        assert_eq!(TrustRegion::new(config, 0.0).lambda, config.lambda_min);
        assert_eq!(TrustRegion::new(config, f64::NAN).lambda, config.lambda_max);
        let mut tr = TrustRegion::new(config, 1.0);
        for _ in 0..200 {
            tr.update(1.0);
        }
        assert_eq!(tr.lambda, config.lambda_min);
        for _ in 0..200 {
            tr.reject();
        }
        assert_eq!(tr.lambda, config.lambda_max);
        assert!(tr.exhausted());
        assert!(tr.nu.is_finite());
        // With D = diag(JᵀJ), λ₀ = τ whatever the Gramian's scale.
        let diag = TrustRegionConfig {
            scale: DampingScale::GramDiagonal,
            ..config
        };
        assert_eq!(TrustRegion::new(diag, 1e8).lambda, 1e-3);
    }

    #[test]
    fn gain_ratio_guards_degenerate_predictions() {
        assert_eq!(gain_ratio(0.5, 1.0), 0.5);
        assert_eq!(gain_ratio(-0.5, 1.0), -0.5);
        assert_eq!(gain_ratio(1.0, 0.0), f64::NEG_INFINITY);
        assert_eq!(gain_ratio(1.0, -1e-30), f64::NEG_INFINITY);
        assert_eq!(gain_ratio(1.0, f64::NAN), f64::NEG_INFINITY);
        assert_eq!(gain_ratio(1.0, f64::INFINITY), f64::NEG_INFINITY);
        assert_eq!(gain_ratio(f64::NAN, 1.0), f64::NEG_INFINITY);
        assert_eq!(gain_ratio(f64::NEG_INFINITY, 1.0), f64::NEG_INFINITY);
        assert_eq!(gain_ratio(1.0, 1e-320), f64::INFINITY);
        let tr = TrustRegion::new(TrustRegionConfig::default(), 1.0);
        assert!(!tr.accepts(gain_ratio(1.0, 0.0)));
        assert!(tr.accepts(gain_ratio(1.0, 1e-320)));
    }

    /// A linear residual makes the linear model exact: ρ = 1 up to rounding, so every
    /// step is accepted and λ drops by exactly 3 per step. The system is consistent
    /// (`b = Aθ*`), so `L → 0` and each step removes a large fraction of `L`: the
    /// rounding of `ared = L − L⁺`, ≈ eps·L, stays ≈ eps relative to `pred`. (With
    /// `L* > 0` the later steps have `pred ≪ L` and ρ is only as accurate as
    /// eps·L/pred.)
    #[test]
    fn linear_residual_gives_unit_gain_ratio_and_lambda_over_three() {
        let (n, p) = (40, 12);
        let mut problem = LinearLeastSquares::random(n, p, 3);
        let solution: Vec<f64> = (0..p).map(|k| (k as f64 * 0.7).sin()).collect();
        problem.b = (0..n)
            .map(|i| linalg::dot(&problem.a[i * p..(i + 1) * p], &solution))
            .collect();
        let mut theta = vec![0.5; p];
        let (r, j) = problem.residual_and_jacobian(&theta);
        let jm = linalg::jacobian_view(&j, n, p);
        let gram = linalg::gram_lower(jm.transpose(), Par::Seq);
        let max_diag = (0..p).map(|i| gram[(i, i)]).fold(0.0, f64::max);
        // τ = 1: each step removes part of L, not all of it (a full Gauss–Newton step
        // would leave a residual at rounding level, where ρ is noise).
        let config = TrustRegionConfig {
            tau: 1.0,
            ..TrustRegionConfig::default()
        };
        let mut tr = TrustRegion::new(config, max_diag);
        let mut r = r;
        for step_index in 0..4 {
            let g = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
            let d = damped_solve(&gram, tr.lambda, &vec![1.0; p], &g).unwrap();
            let jd = linalg::mat_vec(jm, &d, Par::Seq);
            let pred = predicted_reduction(&g, &d, &jd);
            let trial: Vec<f64> = theta.iter().zip(&d).map(|(t, d)| t - d).collect();
            let r_trial = problem.residual(&trial);
            let ared = loss_or_infinity(&r) - loss_or_infinity(&r_trial);
            let rho = gain_ratio(ared, pred);
            // ared and pred are the same quadratic, computed two ways: they agree to
            // rounding in L (≈1e-16·L / pred); pred is not small here.
            assert!((rho - 1.0).abs() < 1e-12, "step {step_index}: ρ = {rho}");
            let before = tr.lambda;
            assert!(tr.update(rho));
            let ratio = before / tr.lambda;
            assert!((ratio - 3.0).abs() < 1e-9, "λ ratio {ratio}");
            theta = trial;
            r = r_trial;
        }
    }

    /// On a linear residual `r_vv = 0`, so the accelerated solve follows the plain one
    /// (the acceleration is rounding noise, ≈1e-16 of the step) and every step counts
    /// as accelerated.
    #[test]
    fn geodesic_acceleration_vanishes_on_a_linear_residual() {
        let problem = LinearLeastSquares::random(30, 8, 5);
        let start = vec![1.0; 8];
        let plain = lm_solve(&mut problem.clone(), &start, &LmConfig::default(), 20);
        let accelerated_config = LmConfig {
            trust_region: TrustRegionConfig {
                geodesic: Some(GeodesicConfig::default()),
                ..TrustRegionConfig::default()
            },
            ..LmConfig::default()
        };
        let accelerated = lm_solve(&mut problem.clone(), &start, &accelerated_config, 20);
        assert_eq!(plain.accepted, accelerated.accepted);
        assert_eq!(accelerated.geodesic_steps, accelerated.iterations);
        assert!(max_abs_diff(&plain.theta, &accelerated.theta) < 1e-12);
        assert!((plain.loss - accelerated.loss).abs() <= 1e-12 * plain.loss);
        // One probe and one trial residual per step.
        assert_eq!(accelerated.residual_evaluations, 2 * accelerated.iterations);
    }

    /// The MGH problems from their standard starts, checked like MINPACK's tests:
    /// the final `F = Σ f²` against the published minimum, and the minimizer.
    fn solve_mgh(problem: MghProblem, config: &LmConfig) -> LmReport {
        let mut instance = problem;
        let report = lm_solve(&mut instance, problem.start, config, 500);
        let f = 2.0 * report.loss;
        eprintln!(
            "{:<24} F = {f:.10e} at {:?}: {} trials ({} accepted, {} rejected), {} J, {} r, stop {:?}, λ = {:e}",
            problem.name,
            report.theta,
            report.iterations,
            report.accepted,
            report.rejected,
            report.jacobian_evaluations,
            report.residual_evaluations,
            report.stop,
            report.trust_region.lambda
        );
        report
    }

    fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// What each MGH problem must reach: `F` within `f_tolerance` (absolute for zero
    /// minima, relative otherwise) and `x` within `x_tolerance` (max norm) of the
    /// minimizer.
    ///
    /// Tolerances: at a regular zero (Jacobian of full rank) LM converges
    /// quadratically and stops with F at rounding level, ≈1e-28 or below, so F ≤ 1e-24
    /// and x to 1e-10 leave four decades of margin. Brown badly scaled is limited by
    /// the spacing of doubles at x₁ = 10⁶ (1.2e-10): |f₁| ≲ 1e-8, so F ≤ 1e-15 and x₁
    /// to 1e-7 absolute (1e-13 relative). Powell singular has a rank-2 Jacobian at its
    /// zero, so convergence is linear and F is quartic in x there: F ≈ 1e-20 means
    /// |x| ≈ 1e-5, hence F ≤ 1e-18 and x to 1e-4. The nonzero minima are stationary
    /// points where F is flat to first order: F to 1e-10 relative, x to 1e-7.
    struct Expected {
        problem: MghProblem,
        minimizer: &'static [f64],
        f_tolerance: f64,
        x_tolerance: f64,
    }

    const EXPECTED: [Expected; 9] = [
        Expected {
            problem: mgh::ROSENBROCK,
            minimizer: &[1.0, 1.0],
            f_tolerance: 1e-24,
            x_tolerance: 1e-10,
        },
        Expected {
            problem: mgh::FREUDENSTEIN_ROTH,
            minimizer: &[11.412_778_986_902_1, -0.896_805_253_274_477],
            f_tolerance: 1e-10,
            x_tolerance: 1e-7,
        },
        Expected {
            problem: mgh::BROWN_BADLY_SCALED,
            minimizer: &[1e6, 2e-6],
            f_tolerance: 1e-15,
            x_tolerance: 1e-7,
        },
        Expected {
            problem: mgh::BEALE,
            minimizer: &[3.0, 0.5],
            f_tolerance: 1e-24,
            x_tolerance: 1e-10,
        },
        Expected {
            problem: mgh::JENNRICH_SAMPSON,
            minimizer: &[0.257_825_213_6, 0.257_825_213_6],
            f_tolerance: 1e-10,
            x_tolerance: 1e-7,
        },
        Expected {
            problem: mgh::HELICAL_VALLEY,
            minimizer: &[1.0, 0.0, 0.0],
            f_tolerance: 1e-24,
            x_tolerance: 1e-10,
        },
        Expected {
            problem: mgh::BOX_3D,
            minimizer: &[1.0, 10.0, 1.0],
            f_tolerance: 1e-24,
            x_tolerance: 1e-10,
        },
        Expected {
            problem: mgh::POWELL_SINGULAR,
            minimizer: &[0.0; 4],
            f_tolerance: 1e-18,
            x_tolerance: 1e-4,
        },
        Expected {
            problem: mgh::WOOD,
            minimizer: &[1.0; 4],
            f_tolerance: 1e-24,
            x_tolerance: 1e-10,
        },
    ];

    fn check_mgh(config: &LmConfig) {
        for expected in &EXPECTED {
            let problem = expected.problem;
            let report = solve_mgh(problem, config);
            let f = 2.0 * report.loss;
            assert!(
                matches!(
                    report.stop,
                    LmStop::Gradient | LmStop::Step | LmStop::Function | LmStop::LossFloor
                ),
                "{}: stopped by {:?}",
                problem.name,
                report.stop
            );
            let f_error = if problem.minimum == 0.0 {
                f
            } else {
                (f - problem.minimum).abs() / problem.minimum
            };
            assert!(
                f_error <= expected.f_tolerance,
                "{}: F = {f:e}",
                problem.name
            );
            let x_error = max_abs_diff(&report.theta, expected.minimizer);
            assert!(
                x_error <= expected.x_tolerance,
                "{}: x = {:?}",
                problem.name,
                report.theta
            );
            assert!(report.iterations <= 200, "{}", problem.name);
        }
    }

    #[test]
    fn mgh_problems_reach_their_published_minima_with_identity_damping() {
        check_mgh(&LmConfig::default());
    }

    #[test]
    fn mgh_problems_reach_their_published_minima_with_marquardt_scaling() {
        check_mgh(&LmConfig {
            trust_region: TrustRegionConfig {
                scale: DampingScale::GramDiagonal,
                ..TrustRegionConfig::default()
            },
            ..LmConfig::default()
        });
    }

    #[test]
    fn mgh_problems_reach_their_published_minima_with_geodesic_acceleration() {
        check_mgh(&LmConfig {
            trust_region: TrustRegionConfig {
                geodesic: Some(GeodesicConfig::default()),
                ..TrustRegionConfig::default()
            },
            ..LmConfig::default()
        });
    }
}
