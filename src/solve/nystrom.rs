//! Randomized Nyström preconditioning and the matrix-free Gauss–Newton step of
//! ALGORITHMS.md §4.2 (Frangella, Tropp & Udell 2023, "Randomized Nyström
//! preconditioning", SIAM J. Matrix Anal. Appl. 2023, Algorithm 2.1 and §5).
//!
//! - [`nystrom_approximation`]: a rank-s approximation `Â = U Λ̂ Uᵀ` of a PSD operator
//!   from one block product `Y = AΩ` with an orthonormalised Gaussian `Ω`, stabilised by
//!   the shift `ν = eps·‖Y‖₂`.
//! - [`NystromPreconditioner`]: `P⁻¹ = (λ̂_s + μ) U (Λ̂ + μI)⁻¹ Uᵀ + (I − UUᵀ)` for
//!   `A + μI`; with `s` above the effective dimension `tr(A (A + μI)⁻¹)` the
//!   preconditioned system has a condition number of a few units.
//! - [`GaussNewtonSystem`] (and [`gauss_newton_step`], one system solved once): `d`
//!   with `(JᵀJ + μI) d = Jᵀr`, by PCG on the primal (`P×P`) or the dual
//!   (`(JJᵀ + μI) y = r`, `d = Jᵀy`, `N×N`) side, one sketch for every damping.

use super::jacobian_ops::JacobianOperator;
use super::linalg::{self, LinalgError};
use super::pcg::{
    pcg, CgConfig, CgReport, GramOperator, IdentityPreconditioner, KernelOperator, Preconditioner,
    SymmetricOperator,
};
use faer::{Mat, MatRef, Par};
use rand::Rng;

/// How many times the Nyström shift is multiplied by 10 and the Cholesky of `ΩᵀY_ν`
/// retried when it meets a non-positive pivot (rounding in `ΩᵀAΩ`).
const SHIFT_RETRIES: usize = 6;

/// A rank-s Nyström approximation `Â = U diag(λ̂) Uᵀ` of a PSD operator.
#[derive(Debug, Clone)]
pub struct NystromApproximation {
    /// Orthonormal columns, `n×s`.
    pub u: Mat<f64>,
    /// Eigenvalues `λ̂ ≥ 0`, nonincreasing, length `s`.
    pub eigenvalues: Vec<f64>,
    /// The shift `ν` that was used (after any retries).
    pub shift: f64,
}

impl NystromApproximation {
    /// The rank `s`.
    pub fn rank(&self) -> usize {
        self.eigenvalues.len()
    }

    /// The smallest kept eigenvalue `λ̂_s` (0 for rank 0).
    pub fn smallest_eigenvalue(&self) -> f64 {
        self.eigenvalues.last().copied().unwrap_or(0.0)
    }
}

/// A Gaussian `rows × cols` matrix (Box–Muller on the given RNG).
pub fn gaussian_matrix<R: Rng + ?Sized>(rows: usize, cols: usize, rng: &mut R) -> Mat<f64> {
    let mut values = Vec::with_capacity(rows * cols + 1);
    while values.len() < rows * cols {
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        values.push(radius * angle.cos());
        values.push(radius * angle.sin());
    }
    Mat::from_fn(rows, cols, |i, j| values[j * rows + i])
}

/// The randomized Nyström approximation of rank `s = min(rank, n)` of a PSD operator
/// (Frangella–Tropp–Udell Algorithm 2.1):
/// `Ω = qr(randn(n, s))`, `Y = AΩ`, `ν = eps·‖Y‖₂`, `Y_ν = Y + νΩ`,
/// `C = chol(ΩᵀY_ν)`, `B = Y_ν C⁻¹`, `B = UΣVᵀ`, `λ̂ = max(0, σ² − ν)`.
///
/// Costs one block product with `A` (s columns), a thin QR and a thin SVD of `n×s`
/// matrices, and an `s×s` Cholesky.
///
/// # Shapes
/// `a: n×n` → `U: n×s`, `λ̂: s`.
///
/// # Errors
/// [`LinalgError::NonPositivePivot`] when `ΩᵀY_ν` stays indefinite after raising the
/// shift `SHIFT_RETRIES` times (the operator is not PSD);
/// [`LinalgError::NoConvergence`] from the eigen or SVD steps.
pub fn nystrom_approximation<R: Rng + ?Sized>(
    a: &(impl SymmetricOperator + ?Sized),
    rank: usize,
    rng: &mut R,
    par: Par,
) -> Result<NystromApproximation, LinalgError> {
    let n = a.dim();
    let s = rank.min(n);
    if s == 0 {
        return Ok(NystromApproximation {
            u: Mat::zeros(n, 0),
            eigenvalues: Vec::new(),
            shift: 0.0,
        });
    }
    let omega = linalg::thin_q(gaussian_matrix(n, s, rng).as_ref(), par);
    let y = a.apply_many(omega.as_ref());
    // ‖Y‖₂ = sqrt(λ_max(YᵀY)), from an s×s eigenproblem.
    let yty = linalg::gram_lower(y.transpose(), par);
    let (values, _) = linalg::symmetric_eigen(yty.as_ref(), par)?;
    let y_norm = values.last().copied().unwrap_or(0.0).max(0.0).sqrt();
    if y_norm == 0.0 {
        // A Ω = 0: the best rank-s approximation from this sketch is zero.
        return Ok(NystromApproximation {
            u: omega,
            eigenvalues: vec![0.0; s],
            shift: 0.0,
        });
    }
    let mut shift = f64::EPSILON * y_norm;
    let mut last_error = None;
    for _ in 0..=SHIFT_RETRIES {
        match shifted_nystrom(omega.as_ref(), y.as_ref(), shift, par) {
            Ok((u, sigma)) => {
                let eigenvalues = sigma.iter().map(|v| (v * v - shift).max(0.0)).collect();
                return Ok(NystromApproximation {
                    u,
                    eigenvalues,
                    shift,
                });
            }
            Err(error @ LinalgError::NonPositivePivot { .. }) => {
                last_error = Some(error);
                shift *= 10.0;
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error.expect("at least one attempt"))
}

/// `Y_ν = Y + νΩ`, `ΩᵀY_ν = LLᵀ`, `B = Y_ν L⁻ᵀ`, and the thin SVD of `B`: returns `U`
/// and `σ`.
fn shifted_nystrom(
    omega: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    shift: f64,
    par: Par,
) -> Result<(Mat<f64>, Vec<f64>), LinalgError> {
    let (n, s) = y.shape();
    let y_shifted = Mat::from_fn(n, s, |i, j| y[(i, j)] + shift * omega[(i, j)]);
    let core = linalg::mat_mul(omega.transpose(), y_shifted.as_ref(), par);
    // ΩᵀY_ν is symmetric in exact arithmetic; factor its symmetric part.
    let core = Mat::from_fn(s, s, |i, j| 0.5 * (core[(i, j)] + core[(j, i)]));
    let llt = core
        .as_ref()
        .llt(faer::Side::Lower)
        .map_err(|error| match error {
            faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index } => {
                LinalgError::NonPositivePivot { index }
            }
        })?;
    // B Lᵀ = Y_ν  ⇔  L Bᵀ = Y_νᵀ.
    let mut bt = y_shifted.transpose().to_owned();
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(llt.L(), bt.as_mut(), par);
    let svd = linalg::thin_svd(bt.transpose(), par)?;
    Ok((svd.u, svd.s))
}

/// The Nyström preconditioner of `A + μI`:
/// `P⁻¹ = (λ̂_s + μ) U (Λ̂ + μI)⁻¹ Uᵀ + (I − UUᵀ)` (Frangella–Tropp–Udell §5).
///
/// The approximation does not depend on `μ`, so one approximation serves several
/// dampings ([`Self::set_damping`]).
#[derive(Debug, Clone)]
pub struct NystromPreconditioner {
    approximation: NystromApproximation,
    damping: f64,
}

impl NystromPreconditioner {
    /// The preconditioner of `A + μI` from an approximation of `A`.
    pub fn new(approximation: NystromApproximation, damping: f64) -> Self {
        Self {
            approximation,
            damping,
        }
    }

    /// The approximation it is built on.
    pub fn approximation(&self) -> &NystromApproximation {
        &self.approximation
    }

    /// The damping `μ`.
    pub fn damping(&self) -> f64 {
        self.damping
    }

    /// Changes `μ` (the approximation is reused as it is).
    pub fn set_damping(&mut self, damping: f64) {
        self.damping = damping;
    }
}

impl Preconditioner for NystromPreconditioner {
    fn apply_inverse(&self, x: &[f64], out: &mut [f64]) {
        apply_nystrom_inverse(&self.approximation, self.damping, x, out);
    }
}

/// [`NystromPreconditioner`] on a borrowed approximation (the trials of one
/// [`GaussNewtonSystem`] share it).
struct SharedNystrom<'a> {
    approximation: &'a NystromApproximation,
    damping: f64,
}

impl Preconditioner for SharedNystrom<'_> {
    fn apply_inverse(&self, x: &[f64], out: &mut [f64]) {
        apply_nystrom_inverse(self.approximation, self.damping, x, out);
    }
}

/// `out = P⁻¹x = x + U diag((λ̂_s + μ)/(λ̂_i + μ) − 1) Uᵀx`.
fn apply_nystrom_inverse(
    approximation: &NystromApproximation,
    mu: f64,
    x: &[f64],
    out: &mut [f64],
) {
    let u = approximation.u.as_ref();
    let floor = approximation.smallest_eigenvalue() + mu;
    let mut coefficients = linalg::mat_vec(u.transpose(), x, Par::Seq);
    for (c, lambda) in coefficients.iter_mut().zip(&approximation.eigenvalues) {
        *c *= floor / (lambda + mu) - 1.0;
    }
    let correction = linalg::mat_vec(u, &coefficients, Par::Seq);
    for ((o, xi), ci) in out.iter_mut().zip(x).zip(&correction) {
        *o = xi + ci;
    }
}

/// Which side of the Gauss–Newton system PCG runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GaussNewtonSide {
    /// The smaller one: primal when `P ≤ N`, else dual.
    #[default]
    Auto,
    /// `(JᵀJ + μI) d = Jᵀr`, P×P.
    Primal,
    /// `(JJᵀ + μI) y = r`, `d = Jᵀy`, N×N.
    Dual,
}

impl GaussNewtonSide {
    /// Whether the dual (N×N) system is used for an `N×P` Jacobian.
    pub fn uses_dual(self, n_rows: usize, n_params: usize) -> bool {
        match self {
            GaussNewtonSide::Auto => n_rows < n_params,
            GaussNewtonSide::Primal => false,
            GaussNewtonSide::Dual => true,
        }
    }
}

/// Settings of [`gauss_newton_step`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GaussNewtonConfig {
    /// Primal, dual or by shape; default [`GaussNewtonSide::Auto`].
    pub side: GaussNewtonSide,
    /// Nyström sketch size `s`; `0` runs plain CG. Default `100`.
    pub sketch_rank: usize,
    /// CG stopping rule; default [`CgConfig::default`].
    pub cg: CgConfig,
}

impl Default for GaussNewtonConfig {
    fn default() -> Self {
        Self {
            side: GaussNewtonSide::Auto,
            sketch_rank: 100,
            cg: CgConfig::default(),
        }
    }
}

/// A Gauss–Newton direction and how it was obtained.
#[derive(Debug, Clone)]
pub struct GaussNewtonStep {
    /// `d` (length P); the step is `θ⁺ = θ − d`.
    pub direction: Vec<f64>,
    /// Whether the dual (N×N) system was solved.
    pub dual: bool,
    /// The CG solve (its residual is relative to the side's right-hand side: `Jᵀr`
    /// primal, `r` dual).
    pub cg: CgReport,
    /// The rank of the Nyström preconditioner (0: none).
    pub sketch_rank: usize,
}

/// `d` with `(JᵀJ + μI) d = Jᵀr`, by (Nyström-preconditioned) CG on the side chosen by
/// `config.side`, never forming `JᵀJ` or `JJᵀ`: one [`GaussNewtonSystem`], solved once.
///
/// # Shapes
/// `jacobian: N×P`, `residual: N` → `d: P`.
///
/// # Errors
/// As [`nystrom_approximation`], when a sketch is asked for.
pub fn gauss_newton_step<R: Rng + ?Sized>(
    jacobian: &dyn JacobianOperator,
    residual: &[f64],
    damping: f64,
    config: &GaussNewtonConfig,
    rng: &mut R,
    par: Par,
) -> Result<GaussNewtonStep, LinalgError> {
    Ok(GaussNewtonSystem::new(jacobian, residual, config, rng, par)?.solve(damping))
}

/// The Gauss–Newton system of one Jacobian and residual on the side chosen by
/// `config.side`, with its Nyström approximation drawn once: [`Self::solve`] then
/// solves it for any damping `μ` (the approximation does not depend on `μ`), so the
/// trials of a trust-region step share one sketch.
#[derive(Debug)]
pub struct GaussNewtonSystem<'a> {
    jacobian: &'a dyn JacobianOperator,
    dual: bool,
    /// `Jᵀr` (primal) or `r` (dual).
    rhs: Vec<f64>,
    /// `None` for plain CG (`sketch_rank = 0`).
    approximation: Option<NystromApproximation>,
    /// Whether `approximation` was drawn from this system's Jacobian.
    fresh: bool,
    cg: CgConfig,
    par: Par,
}

impl<'a> GaussNewtonSystem<'a> {
    /// The system of `jacobian` and `residual`; draws the rank-`config.sketch_rank`
    /// Nyström approximation of `JᵀJ` (primal) or `JJᵀ` (dual).
    ///
    /// # Errors
    /// As [`nystrom_approximation`].
    pub fn new<R: Rng + ?Sized>(
        jacobian: &'a dyn JacobianOperator,
        residual: &[f64],
        config: &GaussNewtonConfig,
        rng: &mut R,
        par: Par,
    ) -> Result<Self, LinalgError> {
        Self::with_approximation(jacobian, residual, config, None, rng, par)
    }

    /// As [`Self::new`], with `reuse` as the preconditioner's approximation when it is
    /// given and fits this system's side (same dimension): a preconditioner built on an
    /// earlier Jacobian still gives the exact solution of this one, CG only needs more
    /// iterations as J moves away from it. A `reuse` that does not fit is dropped and a
    /// fresh approximation drawn (see [`Self::is_fresh`]).
    ///
    /// # Errors
    /// As [`nystrom_approximation`].
    pub fn with_approximation<R: Rng + ?Sized>(
        jacobian: &'a dyn JacobianOperator,
        residual: &[f64],
        config: &GaussNewtonConfig,
        reuse: Option<NystromApproximation>,
        rng: &mut R,
        par: Par,
    ) -> Result<Self, LinalgError> {
        Self::with_gradient(jacobian, residual, None, config, reuse, rng, par)
    }

    /// As [`Self::with_approximation`], given `Jᵀr` where the caller has it (the primal
    /// right-hand side; a streamed J would recompute its rows for it).
    ///
    /// # Errors
    /// As [`nystrom_approximation`].
    pub fn with_gradient<R: Rng + ?Sized>(
        jacobian: &'a dyn JacobianOperator,
        residual: &[f64],
        gradient: Option<&[f64]>,
        config: &GaussNewtonConfig,
        reuse: Option<NystromApproximation>,
        rng: &mut R,
        par: Par,
    ) -> Result<Self, LinalgError> {
        let gradient = || match gradient {
            Some(g) => g.to_vec(),
            None => jacobian.apply_transpose(residual, par),
        };
        let (n, p) = (jacobian.n_rows(), jacobian.n_cols());
        assert_eq!(residual.len(), n, "GaussNewtonSystem: residual length");
        // A streamed J would recompute its rows twice per product of `J(Jᵀw)`: `Auto`
        // takes the primal side there (one pass per `Jᵀ(Jx)`).
        let dual = match config.side {
            GaussNewtonSide::Auto if jacobian.is_streamed() => false,
            side => side.uses_dual(n, p),
        };
        let side_dim = if dual { n } else { p };
        if let Some(approximation) = reuse.filter(|a| a.u.nrows() == side_dim && a.rank() > 0) {
            let rhs = if dual { residual.to_vec() } else { gradient() };
            return Ok(Self {
                jacobian,
                dual,
                rhs,
                approximation: Some(approximation),
                fresh: false,
                cg: config.cg,
                par,
            });
        }
        let (rhs, approximation) = if dual {
            let approximation = (config.sketch_rank > 0)
                .then(|| {
                    nystrom_approximation(
                        &KernelOperator::new(jacobian, par),
                        config.sketch_rank,
                        rng,
                        par,
                    )
                })
                .transpose()?;
            (residual.to_vec(), approximation)
        } else {
            let approximation = (config.sketch_rank > 0)
                .then(|| {
                    nystrom_approximation(
                        &GramOperator::new(jacobian, par),
                        config.sketch_rank,
                        rng,
                        par,
                    )
                })
                .transpose()?;
            (gradient(), approximation)
        };
        Ok(Self {
            jacobian,
            dual,
            rhs,
            approximation,
            fresh: true,
            cg: config.cg,
            par,
        })
    }

    /// Whether the approximation was drawn for this system (not reused).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// The Nyström approximation, for reuse by a later system
    /// ([`Self::with_approximation`]).
    pub fn into_approximation(self) -> Option<NystromApproximation> {
        self.approximation
    }

    /// Whether the dual (N×N) system is solved.
    pub fn is_dual(&self) -> bool {
        self.dual
    }

    /// The rank of the Nyström approximation (0: plain CG).
    pub fn sketch_rank(&self) -> usize {
        self.approximation.as_ref().map_or(0, |a| a.rank())
    }

    /// The Nyström approximation's eigenvalues, largest first (empty for plain CG).
    pub fn sketch_eigenvalues(&self) -> &[f64] {
        self.approximation
            .as_ref()
            .map_or(&[], |a| a.eigenvalues.as_slice())
    }

    /// `d` with `(JᵀJ + μI) d = Jᵀr` by PCG from `0` on this system's side.
    pub fn solve(&self, damping: f64) -> GaussNewtonStep {
        self.solve_within(damping, self.cg.max_iterations)
    }

    /// As [`Self::solve`] with at most `max_iterations` CG iterations (a cap below the
    /// configured one; the report's `stop` says whether it converged).
    pub fn solve_within(&self, damping: f64, max_iterations: usize) -> GaussNewtonStep {
        let config = CgConfig {
            max_iterations: max_iterations.min(self.cg.max_iterations),
            ..self.cg
        };
        let (j, par) = (self.jacobian, self.par);
        let mut x = vec![0.0; self.rhs.len()];
        let cg = match (&self.approximation, self.dual) {
            (None, false) => pcg(
                &GramOperator::new(j, par),
                damping,
                &self.rhs,
                &mut x,
                &IdentityPreconditioner,
                &config,
            ),
            (None, true) => pcg(
                &KernelOperator::new(j, par),
                damping,
                &self.rhs,
                &mut x,
                &IdentityPreconditioner,
                &config,
            ),
            (Some(approximation), dual) => {
                let preconditioner = SharedNystrom {
                    approximation,
                    damping,
                };
                if dual {
                    pcg(
                        &KernelOperator::new(j, par),
                        damping,
                        &self.rhs,
                        &mut x,
                        &preconditioner,
                        &config,
                    )
                } else {
                    pcg(
                        &GramOperator::new(j, par),
                        damping,
                        &self.rhs,
                        &mut x,
                        &preconditioner,
                        &config,
                    )
                }
            }
        };
        let direction = if self.dual {
            j.apply_transpose(&x, par)
        } else {
            x
        };
        GaussNewtonStep {
            direction,
            dual: self.dual,
            cg,
            sketch_rank: self.sketch_rank(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::jacobian_ops::JacobianRef;
    use crate::solve::pcg::{CgStop, DenseOperator};
    use crate::solve::test_problems::rel_diff;
    use crate::solve::test_problems::{log_spaced, matrix_with_singular_values, random_matrix};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// `x` with `(A + μI) x = b` by dense Cholesky, `A` given in full.
    fn dense_solve(a: MatRef<'_, f64>, mu: f64, b: &[f64]) -> Vec<f64> {
        let n = a.nrows();
        let mut x = Mat::from_fn(n, 1, |i, _| b[i]);
        linalg::cholesky_solve_damped(a, mu, x.as_mut(), Par::Seq).unwrap();
        (0..n).map(|i| x[(i, 0)]).collect()
    }

    /// The Gram matrix `JᵀJ` (or `JJᵀ`) in full.
    fn dense_gram(j: JacobianRef<'_>, dual: bool) -> Mat<f64> {
        let jm = j.view();
        if dual {
            jm * jm.transpose()
        } else {
            jm.transpose() * jm
        }
    }

    /// poisson2d (examples/poisson2d.pde, P = 1,341) at its initial parameters (seed 0)
    /// on `interior` + `boundary` points: `(r, J, N, P)`.
    fn poisson2d_jacobian(interior: usize, boundary: usize) -> (Vec<f64>, Vec<f64>, usize, usize) {
        use burn_ndarray::{NdArray, NdArrayDevice};
        // The example with its boundary block (`constraints = soft`), as measured.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/poisson2d.pde");
        let source = std::fs::read_to_string(path)
            .expect("poisson2d.pde")
            .replace(
                "activation = tanh)",
                "activation = tanh, constraints = soft)",
            );
        let (problem, diagnostics) = crate::check_source(&source, std::path::Path::new("."));
        let mut ir = problem.unwrap_or_else(|| panic!("poisson2d checks: {diagnostics:?}"));
        ir.sample.interior = interior;
        ir.sample.boundary = boundary;
        let points = crate::compile::sample_points(&ir, 0).expect("points");
        let program =
            crate::compile::CompiledProblem::<NdArray<f64>>::new(&ir, &NdArrayDevice::Cpu)
                .expect("compiles");
        let theta = program.init_params(0);
        let (r, j) = program.residual_and_jacobian(&theta, &points);
        let (n, p) = (r.len(), theta.len());
        assert_eq!(j.len(), n * p);
        (r, j, n, p)
    }

    #[test]
    fn gaussian_matrix_has_unit_variance_and_is_seeded() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let g = gaussian_matrix(400, 50, &mut rng);
        let values: Vec<f64> = (0..50)
            .flat_map(|j| (0..400).map(move |i| (i, j)))
            .map(|(i, j)| g[(i, j)])
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        // 20,000 samples: standard errors 0.007 (mean) and 0.01 (variance).
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        let mut again = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(g, gaussian_matrix(400, 50, &mut again));
    }

    /// An operator of exact rank k ≤ s is recovered exactly (up to rounding and the
    /// ν-shift), and `P⁻¹(A + μI)` acts on range(U) as `(λ̂_s + μ)·I`.
    #[test]
    fn nystrom_recovers_a_low_rank_operator() {
        let (n, k, s) = (120, 15, 25);
        let sigmas = log_spaced(k, 3.0);
        let j = matrix_with_singular_values(n, n, &sigmas, 3);
        let jr = JacobianRef::new(&j, n, n);
        let a = dense_gram(jr, false);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let approx =
            nystrom_approximation(&DenseOperator::new(a.as_ref()), s, &mut rng, Par::Seq).unwrap();
        assert_eq!(approx.rank(), s);
        assert!(approx.eigenvalues.windows(2).all(|w| w[0] >= w[1]));
        // The top k eigenvalues are σ², the rest (numerically) zero.
        for (i, sigma) in sigmas.iter().enumerate() {
            let err = (approx.eigenvalues[i] - sigma * sigma).abs();
            assert!(err < 1e-12, "λ̂_{i}: {err:e}");
        }
        assert!(approx.eigenvalues[k..].iter().all(|&l| l < 1e-13));
        let lambda = Mat::from_fn(
            s,
            s,
            |i, j| {
                if i == j {
                    approx.eigenvalues[i]
                } else {
                    0.0
                }
            },
        );
        let back = &approx.u * &lambda * approx.u.transpose();
        let mut max_err: f64 = 0.0;
        for c in 0..n {
            for r in 0..n {
                max_err = max_err.max((back[(r, c)] - a[(r, c)]).abs());
            }
        }
        assert!(max_err < 1e-12, "‖Â − A‖max = {max_err:e}");
    }

    /// The preconditioner applied to vectors equals the formula evaluated densely.
    #[test]
    fn preconditioner_matches_the_dense_formula() {
        let (n, s, mu) = (90, 20, 1e-3);
        let j = matrix_with_singular_values(n, n, &log_spaced(n, 6.0), 4);
        let a = dense_gram(JacobianRef::new(&j, n, n), false);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let approx =
            nystrom_approximation(&DenseOperator::new(a.as_ref()), s, &mut rng, Par::Seq).unwrap();
        let u = approx.u.clone();
        let floor = approx.smallest_eigenvalue() + mu;
        let middle = Mat::from_fn(s, s, |i, j| {
            if i == j {
                floor / (approx.eigenvalues[i] + mu)
            } else {
                0.0
            }
        });
        let dense = &u * &middle * u.transpose() + Mat::<f64>::identity(n, n) - &u * u.transpose();
        let preconditioner = NystromPreconditioner::new(approx, mu);
        let x = random_matrix(n, 3, 6);
        for c in 0..3 {
            let xc: Vec<f64> = (0..n).map(|i| x[i * 3 + c]).collect();
            let mut got = vec![0.0; n];
            preconditioner.apply_inverse(&xc, &mut got);
            let want = linalg::mat_vec(dense.as_ref(), &xc, Par::Seq);
            let err = rel_diff(&got, &want);
            assert!(err < 1e-14, "column {c}: {err:e}");
        }
        // P⁻¹ is SPD: its eigenvalues are floor/(λ̂_i + μ) ∈ (0, 1] and 1.
        let sym = Mat::from_fn(n, n, |i, j| 0.5 * (dense[(i, j)] + dense[(j, i)]));
        let lower = Mat::from_fn(n, n, |i, j| if i >= j { sym[(i, j)] } else { 0.0 });
        let (values, _) = linalg::symmetric_eigen(lower.as_ref(), Par::Seq).unwrap();
        assert!(
            values[0] > 0.0 && values[n - 1] <= 1.0 + 1e-12,
            "{values:?}"
        );
    }

    /// PCG (plain and preconditioned, primal and dual) equals a dense Cholesky solve of
    /// `A + μI` on random Jacobians, well conditioned and with decaying spectra.
    #[test]
    fn pcg_matches_dense_solves_on_random_jacobians() {
        let config = CgConfig {
            relative_tolerance: 1e-14,
            max_iterations: 5000,
        };
        let cases: Vec<(&str, usize, usize, Vec<f64>)> = vec![
            ("uniform 200×80", 200, 80, random_matrix(200, 80, 7)),
            ("uniform 60×150", 60, 150, random_matrix(60, 150, 8)),
            (
                "decaying 150×120",
                150,
                120,
                matrix_with_singular_values(150, 120, &log_spaced(120, 4.0), 9),
            ),
        ];
        for (name, n, p, j) in &cases {
            let jr = JacobianRef::new(j, *n, *p);
            for dual in [false, true] {
                let a = dense_gram(jr, dual);
                let dim = a.nrows();
                // μ at 1e-4 of the largest diagonal entry: κ(A + μI) ≤ about 1e4·dim.
                let max_diag = (0..dim).map(|i| a[(i, i)]).fold(0.0, f64::max);
                let mu = 1e-4 * max_diag;
                let b = random_matrix(dim, 1, 10);
                let want = dense_solve(a.as_ref(), mu, &b);
                let operator: Box<dyn SymmetricOperator + '_> = if dual {
                    Box::new(KernelOperator::new(&jr, Par::rayon(2)))
                } else {
                    Box::new(GramOperator::new(&jr, Par::rayon(2)))
                };
                let mut rng = ChaCha8Rng::seed_from_u64(11);
                let approx =
                    nystrom_approximation(operator.as_ref(), 30, &mut rng, Par::Seq).unwrap();
                let nystrom = NystromPreconditioner::new(approx, mu);
                let mut plain = vec![0.0; dim];
                let r1 = pcg(
                    operator.as_ref(),
                    mu,
                    &b,
                    &mut plain,
                    &IdentityPreconditioner,
                    &config,
                );
                let mut preconditioned = vec![0.0; dim];
                let r2 = pcg(
                    operator.as_ref(),
                    mu,
                    &b,
                    &mut preconditioned,
                    &nystrom,
                    &config,
                );
                for (label, x, report) in [("plain", &plain, r1), ("nyström", &preconditioned, r2)]
                {
                    let err = rel_diff(x, &want);
                    assert_eq!(report.stop, CgStop::Converged, "{name} {label} {report:?}");
                    assert!(
                        err < 1e-10,
                        "{name} dual={dual} {label}: {err:e} {report:?}"
                    );
                }
            }
        }
    }

    /// A named test Jacobian: `(name, N, P, J, r)`.
    type Case = (String, usize, usize, Vec<f64>, Vec<f64>);

    /// The primal and the dual Gauss–Newton steps agree with each other and with the
    /// dense `(JᵀJ + μI)⁻¹Jᵀr`, on random Jacobians of both shapes and on poisson2d's.
    #[test]
    fn a_system_on_a_reused_approximation_still_solves_its_own_jacobian() {
        // The approximation of an earlier J0 preconditions the system of a J nearby: the
        // step is J's exact damped Gauss–Newton step (dense reference), not J0's.
        let (n, p) = (150, 120);
        let j0 = matrix_with_singular_values(n, p, &log_spaced(p, 4.0), 21);
        let j: Vec<f64> = j0
            .iter()
            .zip(random_matrix(n, p, 22))
            .map(|(a, b)| a + 1e-2 * b)
            .collect();
        let residual = random_matrix(n, 1, 23);
        let config = GaussNewtonConfig {
            sketch_rank: 30,
            cg: CgConfig {
                relative_tolerance: 1e-14,
                max_iterations: 5000,
            },
            ..GaussNewtonConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(24);
        let (j0r, jr) = (JacobianRef::new(&j0, n, p), JacobianRef::new(&j, n, p));
        let earlier = GaussNewtonSystem::new(&j0r, &residual, &config, &mut rng, Par::Seq).unwrap();
        assert!(earlier.is_fresh());
        let kept = earlier.into_approximation().unwrap();
        let a = dense_gram(jr, false);
        let mu = 1e-4 * (0..p).map(|i| a[(i, i)]).fold(0.0, f64::max);
        let want = dense_solve(a.as_ref(), mu, &jr.apply_transpose(&residual, Par::Seq));
        let reused = GaussNewtonSystem::with_approximation(
            &jr,
            &residual,
            &config,
            Some(kept.clone()),
            &mut rng,
            Par::Seq,
        )
        .unwrap();
        assert!(!reused.is_fresh());
        assert_eq!(reused.sketch_eigenvalues(), kept.eigenvalues.as_slice());
        let step = reused.solve(mu);
        assert_eq!(step.cg.stop, CgStop::Converged);
        let err = rel_diff(&step.direction, &want);
        assert!(err < 1e-10, "reused: {err:e}");
        // An approximation of the wrong side (P = 120 rows, the dual side has N = 150) is
        // not used: a fresh one is drawn.
        let dual = GaussNewtonConfig {
            side: GaussNewtonSide::Dual,
            ..config
        };
        let redrawn = GaussNewtonSystem::with_approximation(
            &jr,
            &residual,
            &dual,
            Some(kept),
            &mut rng,
            Par::Seq,
        )
        .unwrap();
        assert!(redrawn.is_fresh());
        let err = rel_diff(&redrawn.solve(mu).direction, &want);
        assert!(err < 1e-10, "dual after a misfit: {err:e}");
    }

    #[test]
    fn primal_and_dual_steps_agree() {
        let (r_pinn, j_pinn, n_pinn, p_pinn) = poisson2d_jacobian(100, 40);
        let mut cases: Vec<Case> = vec![
            (
                "random 200×80".into(),
                200,
                80,
                random_matrix(200, 80, 21),
                random_matrix(200, 1, 22),
            ),
            (
                "decaying 90×250".into(),
                90,
                250,
                matrix_with_singular_values(90, 250, &log_spaced(90, 5.0), 23),
                random_matrix(90, 1, 24),
            ),
        ];
        cases.push((
            format!("poisson2d {n_pinn}×{p_pinn}"),
            n_pinn,
            p_pinn,
            j_pinn,
            r_pinn,
        ));
        for (name, n, p, j, r) in &cases {
            let jr = JacobianRef::new(j, *n, *p);
            let gram = dense_gram(jr, false);
            let max_diag = (0..*p).map(|i| gram[(i, i)]).fold(0.0, f64::max);
            let mu = 1e-4 * max_diag;
            let g = jr.apply_transpose(r, Par::Seq);
            let want = dense_solve(gram.as_ref(), mu, &g);
            let mut steps = Vec::new();
            for side in [GaussNewtonSide::Primal, GaussNewtonSide::Dual] {
                let config = GaussNewtonConfig {
                    side,
                    sketch_rank: 40,
                    cg: CgConfig {
                        relative_tolerance: 1e-13,
                        max_iterations: 2000,
                    },
                };
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                let step = gauss_newton_step(&jr, r, mu, &config, &mut rng, Par::rayon(2)).unwrap();
                assert_eq!(step.dual, side == GaussNewtonSide::Dual);
                assert_eq!(
                    step.cg.stop,
                    CgStop::Converged,
                    "{name} {side:?} {:?}",
                    step.cg
                );
                let err = rel_diff(&step.direction, &want);
                assert!(err < 1e-9, "{name} {side:?} against dense: {err:e}");
                steps.push(step.direction);
            }
            let err = rel_diff(&steps[0], &steps[1]);
            assert!(err < 1e-9, "{name}: primal against dual {err:e}");
        }
        // Auto picks the smaller side.
        assert!(GaussNewtonSide::Auto.uses_dual(10, 20));
        assert!(!GaussNewtonSide::Auto.uses_dual(20, 20));
    }

    /// PCG against dense Cholesky on poisson2d's Jacobian at its initial parameters
    /// (examples/poisson2d.pde's 900 + 120 points, N = 1,020 < P = 1,341, so the dual
    /// N×N kernel), at the trust region's dampings `μ = τ·max diag(JJᵀ)`, and the
    /// Nyström preconditioner's effect on the iteration count.
    ///
    /// At τ = 1e-6, κ(A + μI) ≈ 1e7 and the dense Cholesky solve itself is only
    /// accurate to ≈ κ·eps ≈ 1e-9, so the 1e-10 comparison is made at τ = 1e-3, 1e-4.
    #[test]
    fn pcg_on_a_poisson2d_gramian() {
        let (r, j, n, p) = poisson2d_jacobian(900, 120);
        assert_eq!((n, p), (1020, 1341));
        let jr = JacobianRef::new(&j, n, p);
        let kernel = KernelOperator::new(&jr, Par::rayon(2));
        let a = dense_gram(jr, true);
        let max_diag = (0..n).map(|i| a[(i, i)]).fold(0.0, f64::max);
        let config = CgConfig {
            relative_tolerance: 1e-12,
            max_iterations: 20 * n,
        };
        for tau in [1e-3, 1e-4, 1e-6] {
            let mu = tau * max_diag;
            let want = dense_solve(a.as_ref(), mu, &r);
            let mut plain = vec![0.0; n];
            let report_plain = pcg(
                &kernel,
                mu,
                &r,
                &mut plain,
                &IdentityPreconditioner,
                &config,
            );
            let plain_error = rel_diff(&plain, &want);
            eprintln!(
                "poisson2d N={n} P={p} τ={tau:e} μ={mu:.3e}: plain CG {} iterations, residual {:.1e}, error against dense {plain_error:.1e}",
                report_plain.iterations, report_plain.relative_residual
            );
            assert_eq!(report_plain.stop, CgStop::Converged);
            if tau >= 1e-4 {
                assert!(plain_error < 1e-10, "τ = {tau}: {plain_error:e}");
            }
            for s in [10, 25, 50, 100] {
                let mut rng = ChaCha8Rng::seed_from_u64(1);
                let approx = nystrom_approximation(&kernel, s, &mut rng, Par::rayon(2)).unwrap();
                let preconditioner = NystromPreconditioner::new(approx, mu);
                let mut pre = vec![0.0; n];
                let report = pcg(&kernel, mu, &r, &mut pre, &preconditioner, &config);
                let error = rel_diff(&pre, &want);
                let factor = report_plain.iterations as f64 / report.iterations.max(1) as f64;
                eprintln!(
                    "    nyström s={s}: {} iterations ({factor:.1}× fewer), residual {:.1e}, error against dense {error:.1e}",
                    report.iterations, report.relative_residual
                );
                assert_eq!(report.stop, CgStop::Converged, "s = {s}");
                if tau >= 1e-4 {
                    assert!(error < 1e-10, "τ = {tau}, s = {s}: {error:e}");
                }
                if s == 50 {
                    assert!(
                        factor >= 5.0,
                        "τ = {tau}: only {factor:.1}× fewer iterations"
                    );
                }
            }
        }
    }
}
