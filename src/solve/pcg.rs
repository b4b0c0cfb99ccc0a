//! Matrix-free symmetric operators and preconditioned conjugate gradients for the
//! damped Gauss–Newton systems of ALGORITHMS.md §4.2:
//! `(A + μI) x = b` with `A = JᵀJ` (P×P, primal) or `A = JJᵀ` (N×N, dual), applied as
//! `Jᵀ(J v)` or `J(Jᵀ w)` (4NP flops) without forming `A`.
//!
//! [`pcg`] is the textbook preconditioned CG (Hestenes–Stiefel recurrences) with a
//! relative-residual stopping rule; the preconditioner is any [`Preconditioner`]
//! (the randomized Nyström one lives in [`super::nystrom`]).

use super::jacobian_ops::JacobianOperator;
use super::linalg;
use faer::{Mat, MatRef, Par};

/// A symmetric positive semi-definite linear operator `A` of size `n×n`, known only
/// through products.
pub trait SymmetricOperator {
    /// The size `n`.
    fn dim(&self) -> usize;

    /// `out = A x`.
    ///
    /// # Shapes
    /// `x: n`, `out: n`.
    fn apply(&self, x: &[f64], out: &mut [f64]);

    /// `A X` for several vectors at once; the default applies [`Self::apply`] column by
    /// column.
    ///
    /// # Shapes
    /// `x: n×k` → `n×k`.
    fn apply_many(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        let (n, k) = x.shape();
        let mut out = Mat::zeros(n, k);
        let mut column = vec![0.0; n];
        let mut image = vec![0.0; n];
        for c in 0..k {
            for (i, v) in column.iter_mut().enumerate() {
                *v = x[(i, c)];
            }
            self.apply(&column, &mut image);
            for (i, v) in image.iter().enumerate() {
                out[(i, c)] = *v;
            }
        }
        out
    }
}

/// The Gramian `A = JᵀJ` (P×P) of a Jacobian, applied as `Jᵀ(J x)`.
#[derive(Debug, Clone, Copy)]
pub struct GramOperator<'a> {
    jacobian: &'a dyn JacobianOperator,
    par: Par,
}

impl<'a> GramOperator<'a> {
    /// `JᵀJ` of `jacobian`, products on `par`.
    pub fn new(jacobian: &'a dyn JacobianOperator, par: Par) -> Self {
        Self { jacobian, par }
    }
}

impl SymmetricOperator for GramOperator<'_> {
    fn dim(&self) -> usize {
        self.jacobian.n_cols()
    }

    fn apply(&self, x: &[f64], out: &mut [f64]) {
        self.jacobian.gram_apply_into(x, out, self.par);
    }

    fn apply_many(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        self.jacobian.gram_apply_many(x, self.par)
    }
}

/// The kernel `A = JJᵀ` (N×N) of a Jacobian, applied as `J(Jᵀ w)`.
#[derive(Debug, Clone, Copy)]
pub struct KernelOperator<'a> {
    jacobian: &'a dyn JacobianOperator,
    par: Par,
}

impl<'a> KernelOperator<'a> {
    /// `JJᵀ` of `jacobian`, products on `par`.
    pub fn new(jacobian: &'a dyn JacobianOperator, par: Par) -> Self {
        Self { jacobian, par }
    }
}

impl SymmetricOperator for KernelOperator<'_> {
    fn dim(&self) -> usize {
        self.jacobian.n_rows()
    }

    fn apply(&self, x: &[f64], out: &mut [f64]) {
        let jtx = self.jacobian.apply_transpose(x, self.par);
        self.jacobian.apply_into(&jtx, out, self.par);
    }

    fn apply_many(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        let jtx = self.jacobian.apply_transpose_many(x, self.par);
        self.jacobian.apply_many(jtx.as_ref(), self.par)
    }
}

/// A dense symmetric matrix as an operator (tests, small problems).
#[derive(Debug, Clone, Copy)]
pub struct DenseOperator<'a> {
    matrix: MatRef<'a, f64>,
}

impl<'a> DenseOperator<'a> {
    /// The operator `x ↦ M x` of a square matrix (assumed symmetric).
    ///
    /// # Panics
    /// When `matrix` is not square.
    pub fn new(matrix: MatRef<'a, f64>) -> Self {
        assert_eq!(matrix.nrows(), matrix.ncols(), "DenseOperator: not square");
        Self { matrix }
    }
}

impl SymmetricOperator for DenseOperator<'_> {
    fn dim(&self) -> usize {
        self.matrix.nrows()
    }

    fn apply(&self, x: &[f64], out: &mut [f64]) {
        out.copy_from_slice(&linalg::mat_vec(self.matrix, x, Par::Seq));
    }

    fn apply_many(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        linalg::mat_mul(self.matrix, x, Par::Seq)
    }
}

/// An approximation `M⁻¹ ≈ (A + μI)⁻¹`, symmetric positive definite, applied to vectors.
pub trait Preconditioner {
    /// `out = M⁻¹ x`.
    ///
    /// # Shapes
    /// `x: n`, `out: n`.
    fn apply_inverse(&self, x: &[f64], out: &mut [f64]);
}

/// No preconditioning: `M = I`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityPreconditioner;

impl Preconditioner for IdentityPreconditioner {
    fn apply_inverse(&self, x: &[f64], out: &mut [f64]) {
        out.copy_from_slice(x);
    }
}

/// CG settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CgConfig {
    /// Stop once `‖b − (A + μI) x‖ ≤ relative_tolerance · ‖b‖` (on the recursively
    /// updated residual); default `1e-10`.
    pub relative_tolerance: f64,
    /// Iteration cap; default `1000`.
    pub max_iterations: usize,
}

impl Default for CgConfig {
    fn default() -> Self {
        Self {
            relative_tolerance: 1e-10,
            max_iterations: 1000,
        }
    }
}

/// Why CG stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CgStop {
    /// The relative residual reached the tolerance.
    Converged,
    /// The iteration cap was reached first.
    MaxIterations,
    /// A curvature `pᵀ(A + μI)p` or `rᵀM⁻¹r` was not positive (or not finite): the
    /// operator or the preconditioner is not numerically positive definite.
    Breakdown,
}

/// What a CG solve did.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CgReport {
    /// Iterations (products with `A`) taken, not counting the final residual check.
    pub iterations: usize,
    /// The true relative residual `‖b − (A + μI) x‖ / ‖b‖` of the returned `x`,
    /// recomputed with one extra product at the end (0 when `b = 0`).
    pub relative_residual: f64,
    /// Why it stopped.
    pub stop: CgStop,
}

/// Solves `(A + μI) x = b` by preconditioned conjugate gradients, starting from the
/// `x` passed in (zero it for the usual start).
///
/// `μ ≥ 0` is the damping; with `μ = 0` the operator must be positive definite on the
/// Krylov space of `b`.
///
/// # Shapes
/// `a: n×n`, `b: n`, `x: n` (in: the start, out: the solution).
pub fn pcg(
    a: &(impl SymmetricOperator + ?Sized),
    mu: f64,
    b: &[f64],
    x: &mut [f64],
    preconditioner: &(impl Preconditioner + ?Sized),
    config: &CgConfig,
) -> CgReport {
    let n = a.dim();
    assert_eq!(b.len(), n, "pcg: b has the wrong length");
    assert_eq!(x.len(), n, "pcg: x has the wrong length");
    let b_norm = linalg::norm(b);
    if b_norm == 0.0 {
        x.fill(0.0);
        return CgReport {
            iterations: 0,
            relative_residual: 0.0,
            stop: CgStop::Converged,
        };
    }
    let target = config.relative_tolerance * b_norm;
    let shifted = |v: &[f64], out: &mut [f64]| {
        a.apply(v, out);
        for (o, vi) in out.iter_mut().zip(v) {
            *o += mu * vi;
        }
    };

    // r = b − (A + μI) x; from x = 0 that is b, without a product with A (a pass over
    // J, which a streamed J recomputes).
    let mut residual = vec![0.0; n];
    if x.iter().all(|v| *v == 0.0) {
        residual.copy_from_slice(b);
    } else {
        shifted(x, &mut residual);
        for (ri, bi) in residual.iter_mut().zip(b) {
            *ri = bi - *ri;
        }
    }
    let mut z = vec![0.0; n];
    let mut q = vec![0.0; n];
    let mut stop = CgStop::MaxIterations;
    let mut iterations = 0;
    if linalg::norm(&residual) <= target {
        stop = CgStop::Converged;
    } else {
        preconditioner.apply_inverse(&residual, &mut z);
        let mut direction = z.clone();
        let mut rz = linalg::dot(&residual, &z);
        while iterations < config.max_iterations {
            if !(rz > 0.0 && rz.is_finite()) {
                stop = CgStop::Breakdown;
                break;
            }
            shifted(&direction, &mut q);
            let curvature = linalg::dot(&direction, &q);
            if !(curvature > 0.0 && curvature.is_finite()) {
                stop = CgStop::Breakdown;
                break;
            }
            iterations += 1;
            let alpha = rz / curvature;
            for ((xi, ri), (pi, qi)) in x
                .iter_mut()
                .zip(residual.iter_mut())
                .zip(direction.iter().zip(&q))
            {
                *xi += alpha * pi;
                *ri -= alpha * qi;
            }
            if linalg::norm(&residual) <= target {
                stop = CgStop::Converged;
                break;
            }
            preconditioner.apply_inverse(&residual, &mut z);
            let rz_next = linalg::dot(&residual, &z);
            let beta = rz_next / rz;
            rz = rz_next;
            for (pi, zi) in direction.iter_mut().zip(&z) {
                *pi = zi + beta * *pi;
            }
        }
    }
    // The recursive residual drifts from the true one; report the true one.
    shifted(x, &mut q);
    let true_residual = q
        .iter()
        .zip(b)
        .map(|(qi, bi)| (bi - qi) * (bi - qi))
        .sum::<f64>()
        .sqrt();
    CgReport {
        iterations,
        relative_residual: true_residual / b_norm,
        stop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::jacobian_ops::JacobianRef;
    use crate::solve::test_problems::random_matrix;

    /// A random SPD matrix `QᵀQ + μI` solved densely and by CG.
    #[test]
    fn cg_solves_a_small_spd_system_exactly_in_n_steps() {
        let n = 12;
        let q = random_matrix(n, n, 1);
        let qm = linalg::jacobian_view(&q, n, n);
        let a = qm.transpose() * qm;
        let b = random_matrix(n, 1, 2);
        let mut x = vec![0.0; n];
        let config = CgConfig {
            relative_tolerance: 1e-13,
            max_iterations: 200,
        };
        let report = pcg(
            &DenseOperator::new(a.as_ref()),
            0.5,
            &b,
            &mut x,
            &IdentityPreconditioner,
            &config,
        );
        assert_eq!(report.stop, CgStop::Converged);
        assert!(report.relative_residual < 1e-12, "{report:?}");
        // n distinct eigenvalues: CG is exact after n steps in exact arithmetic; allow
        // a few more for rounding.
        assert!(report.iterations <= n + 5, "{report:?}");
    }

    #[test]
    fn cg_with_zero_right_hand_side_returns_zero() {
        let a = Mat::<f64>::identity(3, 3);
        let mut x = vec![1.0, 2.0, 3.0];
        let report = pcg(
            &DenseOperator::new(a.as_ref()),
            0.0,
            &[0.0; 3],
            &mut x,
            &IdentityPreconditioner,
            &CgConfig::default(),
        );
        assert_eq!(x, vec![0.0; 3]);
        assert_eq!(report.iterations, 0);
    }

    #[test]
    fn cg_reports_breakdown_on_an_indefinite_operator() {
        let mut a = Mat::<f64>::identity(2, 2);
        a[(1, 1)] = -1.0;
        let mut x = vec![0.0; 2];
        let report = pcg(
            &DenseOperator::new(a.as_ref()),
            0.0,
            &[0.0, 1.0],
            &mut x,
            &IdentityPreconditioner,
            &CgConfig::default(),
        );
        assert_eq!(report.stop, CgStop::Breakdown);
    }

    #[test]
    fn gram_and_kernel_operators_match_dense_products() {
        let (n, p) = (37, 23);
        let j = random_matrix(n, p, 3);
        let jr = JacobianRef::new(&j, n, p);
        let jm = jr.view();
        let gram = jm.transpose() * jm;
        let kernel = jm * jm.transpose();
        let x = random_matrix(p, 3, 4);
        let xm = Mat::from_fn(p, 3, |i, c| x[i * 3 + c]);
        let w = random_matrix(n, 1, 5);
        let go = GramOperator::new(&jr, Par::Seq);
        let ko = KernelOperator::new(&jr, Par::rayon(2));
        assert_eq!((go.dim(), ko.dim()), (p, n));
        let many = go.apply_many(xm.as_ref());
        let dense = &gram * &xm;
        let one_by_one = DenseOperator::new(gram.as_ref());
        let mut out = vec![0.0; p];
        for c in 0..3 {
            let col: Vec<f64> = (0..p).map(|i| xm[(i, c)]).collect();
            go.apply(&col, &mut out);
            let reference = one_by_one.apply_many(xm.as_ref());
            for i in 0..p {
                assert!((out[i] - dense[(i, c)]).abs() < 1e-12);
                assert!((many[(i, c)] - dense[(i, c)]).abs() < 1e-12);
                assert!((reference[(i, c)] - dense[(i, c)]).abs() < 1e-12);
            }
        }
        let mut kw = vec![0.0; n];
        ko.apply(&w, &mut kw);
        let dense_kw = linalg::mat_vec(kernel.as_ref(), &w, Par::Seq);
        for i in 0..n {
            assert!((kw[i] - dense_kw[i]).abs() < 1e-12);
        }
    }
}
