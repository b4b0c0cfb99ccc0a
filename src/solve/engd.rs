//! ENGD: energy natural gradient, `d = (JᵀJ + λI)^† Jᵀr` (Müller & Zeinhofer 2023).
//!
//! Two algebraically equal forms, chosen by shape unless overridden:
//! the parameter-space Gramian `JᵀJ` (P×P, when `P ≤ N`) and the sample-space
//! kernel `JJᵀ` (N×N, when `N < P`) with `d = Jᵀ(JJᵀ + λI)^{-1} r` (push-through
//! identity). Either is solved by damped Cholesky (default) or by an eigen
//! decomposition with a relative eigenvalue cut-off (a pseudo-inverse, valid at `λ = 0`).
//! Optional SPRING-style momentum: `φ_k = μφ_{k−1} + Jᵀ(JJᵀ+λI)^{-1}(r − μJφ_{k−1})`.

use super::driver::SolveConfig;
use super::linalg::{self, LinalgError};
use super::natural::{Attempt, Natural, NaturalMethod};
use super::optimizer::{Method, Optimizer};
use super::options::{self, ConfigScalar, OptionSpec};
use super::report::{SolveError, NON_FINITE_DAMPING_CAP};
use super::spectrum::Spectrum;
use super::state::{check_lengths, SolverState};
use super::trust_region::TrustRegion;
use faer::{Mat, MatMut, MatRef, Par};

/// Which Gram matrix ENGD factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GramForm {
    /// `JᵀJ` when `P ≤ N`, else the kernel `JJᵀ` (the smaller matrix).
    #[default]
    Auto,
    /// Always the P×P Gramian `JᵀJ`.
    Parameter,
    /// Always the N×N kernel `JJᵀ`.
    Sample,
}

/// How ENGD applies `(G + λI)^{-1}`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngdSolve {
    /// Cholesky of `G + λI` (needs `λ > 0` in practice). About 15× cheaper than an
    /// eigendecomposition at N = 1,000.
    Cholesky,
    /// Eigendecomposition of `G + λI`; eigenvalues `μ_i ≤ relative_cutoff · μ_max`
    /// are dropped (a pseudo-inverse, usable with `λ = 0`).
    Eigen {
        /// Relative eigenvalue cut-off (on eigenvalues of the Gram matrix, i.e. on σ²).
        relative_cutoff: f64,
    },
}

/// ENGD settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EngdConfig {
    /// Gram form; default [`GramForm::Auto`].
    pub form: GramForm,
    /// Solver; default [`EngdSolve::Cholesky`].
    pub solve: EngdSolve,
    /// Initial (and minimal) damping `λ`; default `1e-10`.
    pub damping: f64,
    /// Factor applied to `λ` when a step is rejected (or Cholesky fails); default `10`.
    pub damping_increase: f64,
    /// Factor dividing `λ` after a full step (`η = 1`), floored at `damping`; default `10`.
    pub damping_decrease: f64,
    /// SPRING momentum `μ ∈ [0, 1)`; `None` (default) disables it.
    pub momentum: Option<f64>,
}

impl Default for EngdConfig {
    fn default() -> Self {
        Self {
            form: GramForm::Auto,
            solve: EngdSolve::Cholesky,
            damping: 1e-10,
            damping_increase: 10.0,
            damping_decrease: 10.0,
            momentum: None,
        }
    }
}

impl GramForm {
    /// Whether the sample-space kernel `JJᵀ` is used for an `N×P` Jacobian.
    pub fn uses_kernel(self, n_rows: usize, n_params: usize) -> bool {
        match self {
            GramForm::Auto => n_rows < n_params,
            GramForm::Parameter => false,
            GramForm::Sample => true,
        }
    }
}

/// A search direction and the rank used to build it.
#[derive(Debug, Clone, PartialEq)]
pub struct Direction {
    /// The direction `d` (the step is `θ − η d`).
    pub d: Vec<f64>,
    /// Number of kept eigenvalues (eigen paths) or `None` (Cholesky).
    pub rank: Option<usize>,
}

/// Applies `(G + λI)^{-1}` (or its truncated pseudo-inverse) to the columns of `rhs`.
fn apply_inverse(
    gram_lower: MatRef<'_, f64>,
    damping: f64,
    solve: EngdSolve,
    mut rhs: MatMut<'_, f64>,
    par: Par,
) -> Result<Option<usize>, LinalgError> {
    match solve {
        EngdSolve::Cholesky => {
            linalg::cholesky_solve_damped(gram_lower, damping, rhs, par)?;
            Ok(None)
        }
        EngdSolve::Eigen { relative_cutoff } => {
            let n = gram_lower.nrows();
            let mut damped = gram_lower.to_owned();
            for i in 0..n {
                damped[(i, i)] += damping;
            }
            let (values, vectors) = linalg::symmetric_eigen(damped.as_ref(), par)?;
            let largest = values.last().copied().unwrap_or(0.0);
            let threshold = relative_cutoff.max(0.0) * largest;
            let kept: Vec<usize> = (0..n)
                .filter(|&i| values[i] > threshold && values[i] > 0.0)
                .collect();
            // rhs ← V_k Λ_k^{-1} V_kᵀ rhs
            let coeffs = vectors.transpose() * rhs.as_ref();
            let mut scaled = Mat::<f64>::zeros(n, rhs.ncols());
            for &i in &kept {
                for c in 0..rhs.ncols() {
                    scaled[(i, c)] = coeffs[(i, c)] / values[i];
                }
            }
            let out = linalg::mat_mul(vectors.as_ref(), scaled.as_ref(), par);
            rhs.copy_from(out.as_ref());
            Ok(Some(kept.len()))
        }
    }
}

/// The Gram matrix of one Jacobian in the form ENGD uses, computed once and reused
/// across damping values (a rejected step retries with a larger `λ` on the same J).
#[derive(Debug)]
pub struct GramSystem<'a> {
    jacobian: MatRef<'a, f64>,
    kernel: bool,
    gram_lower: Mat<f64>,
    par: Par,
}

impl<'a> GramSystem<'a> {
    /// Forms the lower triangle of `JJᵀ` (kernel form) or `JᵀJ` (Gramian form).
    ///
    /// # Shapes
    /// `jacobian: N×P`.
    pub fn new(jacobian: MatRef<'a, f64>, form: GramForm, par: Par) -> Self {
        let (n_rows, n_params) = jacobian.shape();
        let kernel = form.uses_kernel(n_rows, n_params);
        let gram_lower = if kernel {
            linalg::gram_lower(jacobian, par)
        } else {
            linalg::gram_lower(jacobian.transpose(), par)
        };
        Self {
            jacobian,
            kernel,
            gram_lower,
            par,
        }
    }

    /// Whether this is the N×N kernel form.
    pub fn is_kernel(&self) -> bool {
        self.kernel
    }

    /// `d = (JᵀJ + λI)^† Jᵀ rhs`.
    ///
    /// # Shapes
    /// `rhs: N` → `d: P`.
    ///
    /// # Errors
    /// A [`LinalgError`] from the factorization (e.g. Cholesky of an indefinite matrix
    /// when `λ` is too small).
    pub fn direction(
        &self,
        rhs: &[f64],
        damping: f64,
        solve: EngdSolve,
    ) -> Result<Direction, LinalgError> {
        let (n_rows, n_params) = self.jacobian.shape();
        let (jt, par) = (self.jacobian.transpose(), self.par);
        if self.kernel {
            // d = Jᵀ (JJᵀ + λI)^{-1} r
            let mut y = rhs.to_vec();
            let rank = apply_inverse(
                self.gram_lower.as_ref(),
                damping,
                solve,
                MatMut::from_column_major_slice_mut(&mut y, n_rows, 1),
                par,
            )?;
            Ok(Direction {
                d: linalg::mat_vec(jt, &y, par),
                rank,
            })
        } else {
            // d = (JᵀJ + λI)^{-1} Jᵀ r
            let mut d = linalg::mat_vec(jt, rhs, par);
            let rank = apply_inverse(
                self.gram_lower.as_ref(),
                damping,
                solve,
                MatMut::from_column_major_slice_mut(&mut d, n_params, 1),
                par,
            )?;
            Ok(Direction { d, rank })
        }
    }

    /// The SPRING momentum direction `φ_k = μφ_{k−1} + (JᵀJ+λI)^{-1}Jᵀ(r − μJφ_{k−1})`.
    ///
    /// # Shapes
    /// `residual: N`, `previous: P` → `φ_k: P`.
    ///
    /// # Errors
    /// As [`GramSystem::direction`].
    pub fn momentum_direction(
        &self,
        residual: &[f64],
        previous: &[f64],
        momentum: f64,
        damping: f64,
        solve: EngdSolve,
    ) -> Result<Direction, LinalgError> {
        let j_phi = linalg::mat_vec(self.jacobian, previous, self.par);
        let corrected: Vec<f64> = residual
            .iter()
            .zip(&j_phi)
            .map(|(r, jp)| r - momentum * jp)
            .collect();
        let mut dir = self.direction(&corrected, damping, solve)?;
        for (d, p) in dir.d.iter_mut().zip(previous) {
            *d += momentum * p;
        }
        Ok(dir)
    }
}

/// The ENGD direction `d = (JᵀJ + λI)^† Jᵀ r` for a rhs `r` (a residual, or the
/// momentum-corrected residual `r − μJφ`); see [`GramSystem`] to reuse the Gram matrix.
///
/// # Shapes
/// `jacobian: N×P`, `rhs: N` → `d: P`.
///
/// # Errors
/// A [`LinalgError`] from the factorization (e.g. Cholesky of an indefinite matrix
/// when `λ` is too small).
pub fn direction(
    jacobian: MatRef<'_, f64>,
    rhs: &[f64],
    damping: f64,
    form: GramForm,
    solve: EngdSolve,
    par: Par,
) -> Result<Direction, LinalgError> {
    GramSystem::new(jacobian, form, par).direction(rhs, damping, solve)
}

/// The SPRING momentum direction `φ_k = μφ_{k−1} + (JᵀJ+λI)^{-1}Jᵀ(r − μJφ_{k−1})`
/// (equal to the kernel form of seed 000 by the push-through identity).
///
/// # Shapes
/// `jacobian: N×P`, `residual: N`, `previous: P` → `φ_k: P`.
///
/// # Errors
/// As [`direction`].
#[allow(clippy::too_many_arguments)] // the settings of `direction` plus (φ_{k−1}, μ)
pub fn momentum_direction(
    jacobian: MatRef<'_, f64>,
    residual: &[f64],
    previous: &[f64],
    momentum: f64,
    damping: f64,
    form: GramForm,
    solve: EngdSolve,
    par: Par,
) -> Result<Direction, LinalgError> {
    GramSystem::new(jacobian, form, par)
        .momentum_direction(residual, previous, momentum, damping, solve)
}

/// ENGD's state between iterations.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EngdState {
    /// The damping `λ` of the next step.
    pub damping: f64,
    /// The last accepted direction (with momentum).
    pub momentum: Option<Vec<f64>>,
    /// The trust region (absent with the line search and in older checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_region: Option<TrustRegion>,
    /// The radius of the step-length trust region for the next step (absent with the
    /// grid line search and in older checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_radius: Option<f64>,
}

/// ENGD as a natural-gradient method: the Gram matrix is formed once per step and
/// reused by the retries; a rejected step raises `λ`, a full step lowers it.
#[derive(Debug)]
pub struct Engd {
    config: EngdConfig,
    state: EngdState,
}

impl NaturalMethod for Engd {
    const NAME: &'static str = "engd";
    type Factor<'a> = GramSystem<'a>;

    fn factor<'a>(
        &mut self,
        jacobian: MatRef<'a, f64>,
        _residual: &[f64],
        par: Par,
    ) -> Result<GramSystem<'a>, ()> {
        Ok(GramSystem::new(jacobian, self.config.form, par))
    }

    fn direction(
        &mut self,
        system: &GramSystem<'_>,
        _jacobian: MatRef<'_, f64>,
        residual: &[f64],
        _par: Par,
    ) -> Attempt {
        let (c, damping) = (&self.config, self.state.damping);
        let result = match (c.momentum, self.state.momentum.as_ref()) {
            (Some(mu), Some(previous)) => {
                system.momentum_direction(residual, previous, mu, damping, c.solve)
            }
            _ => system.direction(residual, damping, c.solve),
        };
        match result {
            Ok(dir) => Attempt::Direction {
                d: dir.d,
                rank: dir.rank,
                damping: Some(damping),
            },
            Err(LinalgError::NonPositivePivot { .. }) => {
                // G + λI is numerically indefinite: more damping.
                self.state.damping = damping.max(f64::MIN_POSITIVE) * c.damping_increase;
                Attempt::Retry {
                    damping: Some(damping),
                }
            }
            Err(_) => Attempt::Failed {
                damping: Some(damping),
            },
        }
    }

    /// `(JᵀJ + λI) d = Jᵀr` with the trust region's `λ` (momentum, a line-search
    /// device, is not used); a failed Cholesky factorization fails the attempt, and the
    /// trust region raises `λ`.
    fn damped_direction(
        &mut self,
        system: &GramSystem<'_>,
        _jacobian: MatRef<'_, f64>,
        residual: &[f64],
        lambda: f64,
        _par: Par,
    ) -> Attempt {
        match system.direction(residual, lambda, self.config.solve) {
            Ok(dir) => Attempt::Direction {
                d: dir.d,
                rank: dir.rank,
                damping: Some(lambda),
            },
            Err(_) => Attempt::Failed {
                damping: Some(lambda),
            },
        }
    }

    fn trust_region(&mut self) -> &mut Option<TrustRegion> {
        &mut self.state.trust_region
    }

    fn step_radius(&mut self) -> &mut Option<f64> {
        &mut self.state.step_radius
    }

    fn accepted(&mut self, step: f64, direction: Vec<f64>) {
        let c = &self.config;
        if step == 1.0 {
            self.state.damping = (self.state.damping / c.damping_decrease).max(c.damping);
        }
        if c.momentum.is_some() {
            self.state.momentum = Some(direction);
        }
    }

    fn rejected(&mut self) {
        self.state.damping =
            self.state.damping.max(f64::MIN_POSITIVE) * self.config.damping_increase;
        self.state.momentum = None;
    }

    /// `λ ← min(λ·increase, cap)` (the cap is [`NON_FINITE_DAMPING_CAP`], or the
    /// initial damping if that is larger) and the momentum is dropped.
    fn raise_damping_after_fault(&mut self) -> Option<f64> {
        let c = &self.config;
        let cap = NON_FINITE_DAMPING_CAP.max(c.damping);
        self.state.damping =
            (self.state.damping.max(f64::MIN_POSITIVE) * c.damping_increase).min(cap);
        self.state.momentum = None;
        Some(self.state.damping)
    }

    fn state(&self) -> SolverState {
        SolverState::new(Self::NAME, &self.state)
    }
}

impl Method for EngdConfig {
    const NAME: &'static str = Engd::NAME;
    const OPTIONS: &'static [OptionSpec] = &[
        OptionSpec {
            key: "damping",
            default: "1e-10",
            value: "NUMBER",
            help: "initial (and smallest) damping λ",
        },
        OptionSpec {
            key: "momentum",
            default: "0 (off)",
            value: "NUMBER",
            help: "SPRING momentum μ in [0, 1)",
        },
        OptionSpec {
            key: "cutoff",
            default: "none (Cholesky)",
            value: "NUMBER",
            help: "relative eigenvalue cut-off (eigendecomposition instead of Cholesky)",
        },
    ];
    const LINE_SEARCH: bool = true;
    const TRUST_REGION: bool = true;
    const HAS_SPECTRUM: bool = true;

    fn set_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String> {
        match key {
            "damping" => self.damping = options::number(value)?.max(0.0),
            "momentum" => {
                let mu = options::number(value)?;
                if !(0.0..1.0).contains(&mu) {
                    return Err("expected a value in [0, 1)".to_string());
                }
                self.momentum = (mu > 0.0).then_some(mu);
            }
            "cutoff" => {
                self.solve = EngdSolve::Eigen {
                    relative_cutoff: options::positive(value)?,
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
            None => EngdState {
                damping: self.damping,
                momentum: None,
                trust_region: None,
                step_radius: None,
            },
        };
        let method = Engd {
            config: self.clone(),
            state,
        };
        Ok(Box::new(Natural::new(method, config)))
    }

    fn check_state(state: &SolverState, n_params: usize) -> Result<(), SolveError> {
        let state: EngdState = state.decode(Self::NAME)?;
        check_lengths(
            state.momentum.iter().map(|m| ("momentum", m.len())),
            n_params,
        )
    }

    /// The damping `λ` in force at the last step (Cholesky); with an eigenvalue
    /// cut-off, the relative cut-off on `G + λI` moved to `G`'s scale,
    /// `c·(μ_max + λ) − λ`.
    fn spectrum_cutoff(&self, spectrum: &Spectrum, damping: Option<f64>) -> Option<f64> {
        let lambda = damping.unwrap_or(self.damping).max(0.0);
        match self.solve {
            EngdSolve::Cholesky => Some(lambda),
            EngdSolve::Eigen { relative_cutoff } => {
                Some(relative_cutoff.max(0.0) * (spectrum.largest() + lambda) - lambda)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::test_problems::{matrix_with_singular_values, random_matrix, rel_diff};

    #[test]
    fn kernel_form_equals_gramian_form_with_cholesky() {
        for &(n, p) in &[(20, 45), (45, 20), (30, 30)] {
            let j = random_matrix(n, p, 11 + n as u64);
            let r = random_matrix(n, 1, 12);
            let jm = linalg::jacobian_view(&j, n, p);
            // One of the two forms is singular up to λ (rank min(N,P) < max(N,P)), so the
            // agreement is limited by ε·κ(G + λI) ≈ ε·‖J‖²/λ: λ ≥ 1e-2 keeps that below 1e-12.
            for damping in [1e-2, 1.0] {
                let a = direction(
                    jm,
                    &r,
                    damping,
                    GramForm::Sample,
                    EngdSolve::Cholesky,
                    Par::Seq,
                )
                .unwrap();
                let b = direction(
                    jm,
                    &r,
                    damping,
                    GramForm::Parameter,
                    EngdSolve::Cholesky,
                    Par::rayon(2),
                )
                .unwrap();
                assert!(
                    rel_diff(&a.d, &b.d) < 1e-10,
                    "{n}×{p} λ={damping}: {}",
                    rel_diff(&a.d, &b.d)
                );
            }
        }
    }

    #[test]
    fn kernel_form_equals_gramian_form_as_pseudo_inverse() {
        // Rank 6 < min(N, P): both forms must give the minimum-norm J^† r at λ = 0.
        let sigmas = [3.0, 2.0, 1.0, 0.5, 0.2, 0.1];
        let (n, p) = (25, 18);
        let j = matrix_with_singular_values(n, p, &sigmas, 21);
        let r = random_matrix(n, 1, 22);
        let jm = linalg::jacobian_view(&j, n, p);
        let solve = EngdSolve::Eigen {
            relative_cutoff: 1e-12,
        };
        let a = direction(jm, &r, 0.0, GramForm::Sample, solve, Par::Seq).unwrap();
        let b = direction(jm, &r, 0.0, GramForm::Parameter, solve, Par::Seq).unwrap();
        assert_eq!(a.rank, Some(6));
        assert_eq!(b.rank, Some(6));
        assert!(rel_diff(&a.d, &b.d) < 1e-10);
        let reference = crate::solve::anagram::pseudo_inverse_reference(jm, &r, 1e-10);
        assert!(rel_diff(&a.d, &reference) < 1e-10);
    }

    #[test]
    fn cholesky_equals_eigen_when_damped() {
        let (n, p) = (30, 50);
        let j = random_matrix(n, p, 31);
        let r = random_matrix(n, 1, 32);
        let jm = linalg::jacobian_view(&j, n, p);
        for form in [GramForm::Sample, GramForm::Parameter] {
            let a = direction(jm, &r, 1e-4, form, EngdSolve::Cholesky, Par::Seq).unwrap();
            let b = direction(
                jm,
                &r,
                1e-4,
                form,
                EngdSolve::Eigen {
                    relative_cutoff: 0.0,
                },
                Par::Seq,
            )
            .unwrap();
            assert!(rel_diff(&a.d, &b.d) < 1e-10, "{form:?}");
        }
    }

    #[test]
    fn damped_direction_solves_normal_equations() {
        // Independent check: (JᵀJ + λI) d = Jᵀ r with a dense product.
        let (n, p) = (12, 9);
        let j = random_matrix(n, p, 41);
        let r = random_matrix(n, 1, 42);
        let jm = linalg::jacobian_view(&j, n, p);
        let lambda = 0.3;
        let dir = direction(
            jm,
            &r,
            lambda,
            GramForm::Auto,
            EngdSolve::Cholesky,
            Par::Seq,
        )
        .unwrap();
        let g = jm.transpose() * jm;
        let lhs = &g * linalg::col_view(&dir.d);
        let rhs = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
        for i in 0..p {
            assert!((lhs[(i, 0)] + lambda * dir.d[i] - rhs[i]).abs() < 1e-12);
        }
    }

    #[test]
    fn momentum_matches_regularized_least_squares() {
        // φ_k = argmin ‖Jφ − r‖² + λ‖φ − μφ_{k−1}‖²  ⇔  (JᵀJ + λI)φ = Jᵀr + λμφ_{k−1}.
        let (n, p) = (10, 16);
        let j = random_matrix(n, p, 51);
        let r = random_matrix(n, 1, 52);
        let prev = random_matrix(p, 1, 53);
        let jm = linalg::jacobian_view(&j, n, p);
        let (mu, lambda) = (0.7, 0.05);
        let phi = momentum_direction(
            jm,
            &r,
            &prev,
            mu,
            lambda,
            GramForm::Auto,
            EngdSolve::Cholesky,
            Par::Seq,
        )
        .unwrap();
        let g = jm.transpose() * jm;
        let lhs = &g * linalg::col_view(&phi.d);
        let jtr = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
        for i in 0..p {
            let res = lhs[(i, 0)] + lambda * phi.d[i] - jtr[i] - lambda * mu * prev[i];
            assert!(res.abs() < 1e-11, "row {i}: {res}");
        }
    }
}
