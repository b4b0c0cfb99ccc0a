//! Dense linear-algebra kernels shared by the optimizers, over faer 0.24.
//!
//! The Jacobian arrives as a row-major `N×P` buffer; [`jacobian_view`] wraps it as a
//! faer view without copying (faer is column-major, so the same buffer read
//! column-major is `Jᵀ`). Every kernel takes an explicit [`Par`] so that all the
//! work of one solve runs on the single rayon pool the driver installs.
//!
//! Gram matrices are computed lower-triangle only (faer's triangular matmul does
//! half the flops of a full product); factorizations read only that triangle.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::prelude::Solve;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// A numerical failure of a dense kernel.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinalgError {
    /// Cholesky met a non-positive pivot: the (damped) Gram matrix is not
    /// numerically positive definite.
    #[error("Cholesky factorization failed: non-positive pivot at index {index}")]
    NonPositivePivot {
        /// Index of the failing pivot.
        index: usize,
    },
    /// The symmetric eigensolver or the SVD did not converge.
    #[error("{what} did not converge")]
    NoConvergence {
        /// Which factorization.
        what: &'static str,
    },
    /// A small square system (single-pass sketch) was numerically singular.
    #[error("singular {size}×{size} system in {what}")]
    Singular {
        /// Which computation.
        what: &'static str,
        /// Dimension of the system.
        size: usize,
    },
}

/// The parallelism for `threads` workers (`0`: rayon's current pool size, `1`: sequential).
pub fn parallelism(threads: usize) -> Par {
    if threads == 1 {
        Par::Seq
    } else {
        Par::rayon(threads)
    }
}

/// Factorizations (QR, SVD, symmetric eigen) of matrices whose smaller side is below
/// this run on one thread: on 2 cores the thin SVD of a 1,000×315 matrix took 34 ms
/// sequentially against 50 ms split over two threads, and the thin QR of 1,341×315
/// 16 ms against 23 ms (`cargo bench --bench linalg`, docs/PERFORMANCE.md). At 1,000 the
/// split pays (SVD of 1,000×1,341: 540 ms against 620 ms).
pub const SEQUENTIAL_FACTORIZATION_BELOW: usize = 512;

/// `par`, or [`Par::Seq`] when the factorization's smaller side is below
/// [`SEQUENTIAL_FACTORIZATION_BELOW`].
pub fn factorization_par(par: Par, rows: usize, cols: usize) -> Par {
    if rows.min(cols) < SEQUENTIAL_FACTORIZATION_BELOW {
        Par::Seq
    } else {
        par
    }
}

/// A view of a row-major `N×P` Jacobian buffer as an `N×P` matrix (no copy).
///
/// # Shapes
/// `jacobian.len() == n_rows * n_cols`; the view is `n_rows × n_cols`.
pub fn jacobian_view(jacobian: &[f64], n_rows: usize, n_cols: usize) -> MatRef<'_, f64> {
    MatRef::from_row_major_slice(jacobian, n_rows, n_cols)
}

/// A slice viewed as a column vector.
pub fn col_view(values: &[f64]) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(values, values.len(), 1)
}

/// `A x`.
///
/// # Shapes
/// `a: m×k`, `x: k` → `m`.
pub fn mat_vec(a: MatRef<'_, f64>, x: &[f64], par: Par) -> Vec<f64> {
    let mut out = vec![0.0; a.nrows()];
    {
        let out_view = MatMut::from_column_major_slice_mut(&mut out, a.nrows(), 1);
        faer::linalg::matmul::matmul(out_view, Accum::Replace, a, col_view(x), 1.0, par);
    }
    out
}

/// `A B` as a new matrix.
///
/// # Shapes
/// `a: m×k`, `b: k×n` → `m×n`.
pub fn mat_mul(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    let mut out = Mat::zeros(a.nrows(), b.ncols());
    faer::linalg::matmul::matmul(out.as_mut(), Accum::Replace, a, b, 1.0, par);
    out
}

/// The lower triangle (diagonal included) of `A Aᵀ`; the strict upper triangle is zero.
///
/// Use `A = J` for the kernel `JJᵀ` (N×N) and `A = Jᵀ` for the Gramian `JᵀJ` (P×P).
///
/// # Shapes
/// `a: m×k` → `m×m`.
pub fn gram_lower(a: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    let m = a.nrows();
    let mut out = Mat::zeros(m, m);
    triangular::matmul(
        out.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        a,
        BlockStructure::Rectangular,
        a.transpose(),
        BlockStructure::Rectangular,
        1.0,
        par,
    );
    out
}

/// Copies the lower triangle of a square matrix onto its upper triangle.
pub fn symmetrize_from_lower(a: &mut Mat<f64>) {
    let n = a.nrows();
    for j in 0..n {
        for i in 0..j {
            a[(i, j)] = a[(j, i)];
        }
    }
}

/// Solves `(G + λI) X = B` in place by Cholesky, reading only the lower triangle of `G`.
///
/// # Shapes
/// `gram_lower: n×n`, `rhs: n×k`.
///
/// # Errors
/// [`LinalgError::NonPositivePivot`] when `G + λI` is not numerically positive definite.
pub fn cholesky_solve_damped(
    gram_lower: MatRef<'_, f64>,
    damping: f64,
    rhs: MatMut<'_, f64>,
    par: Par,
) -> Result<(), LinalgError> {
    let n = gram_lower.nrows();
    let mut factor = Mat::zeros(n, n);
    factor.copy_from_triangular_lower(gram_lower);
    for i in 0..n {
        factor[(i, i)] += damping;
    }
    let mut mem = MemBuffer::new(
        faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
            n,
            par,
            Default::default(),
        )
        .or(faer::linalg::cholesky::llt::solve::solve_in_place_scratch::<f64>(n, rhs.ncols(), par)),
    );
    let stack = MemStack::new(&mut mem);
    faer::linalg::cholesky::llt::factor::cholesky_in_place(
        factor.as_mut(),
        Default::default(),
        par,
        stack,
        Default::default(),
    )
    .map_err(|e| match e {
        faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index } => {
            LinalgError::NonPositivePivot { index }
        }
    })?;
    faer::linalg::cholesky::llt::solve::solve_in_place(factor.as_ref(), rhs, par, stack);
    Ok(())
}

/// Eigendecomposition `A = V diag(λ) Vᵀ` of a symmetric matrix, reading only its lower
/// triangle. Eigenvalues are in nondecreasing order.
///
/// # Shapes
/// `a_lower: n×n` → `(λ: n, V: n×n)`.
///
/// # Errors
/// [`LinalgError::NoConvergence`] if the tridiagonal QR iteration fails.
pub fn symmetric_eigen(
    a_lower: MatRef<'_, f64>,
    par: Par,
) -> Result<(Vec<f64>, Mat<f64>), LinalgError> {
    let n = a_lower.nrows();
    let mut vectors = Mat::zeros(n, n);
    let values = self_adjoint_evd(a_lower, Some(vectors.as_mut()), par)?;
    Ok((values, vectors))
}

/// The eigenvalues (ascending) of a symmetric matrix given by its lower triangle, without
/// eigenvectors.
///
/// # Shapes
/// `a_lower: n×n` → `λ: n`.
///
/// # Errors
/// [`LinalgError::NoConvergence`] if the tridiagonal QR iteration fails.
pub fn symmetric_eigenvalues(a_lower: MatRef<'_, f64>, par: Par) -> Result<Vec<f64>, LinalgError> {
    self_adjoint_evd(a_lower, None, par)
}

/// faer's symmetric eigensolver: the eigenvalues (ascending), and the eigenvectors into
/// `vectors` when given.
fn self_adjoint_evd(
    a_lower: MatRef<'_, f64>,
    vectors: Option<faer::MatMut<'_, f64>>,
    par: Par,
) -> Result<Vec<f64>, LinalgError> {
    let n = a_lower.nrows();
    let par = factorization_par(par, n, n);
    let compute = if vectors.is_some() {
        faer::linalg::evd::ComputeEigenvectors::Yes
    } else {
        faer::linalg::evd::ComputeEigenvectors::No
    };
    let mut values = faer::diag::Diag::<f64>::zeros(n);
    let mut mem = MemBuffer::new(faer::linalg::evd::self_adjoint_evd_scratch::<f64>(
        n,
        compute,
        par,
        Default::default(),
    ));
    faer::linalg::evd::self_adjoint_evd(
        a_lower,
        values.as_mut(),
        vectors,
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|_| LinalgError::NoConvergence {
        what: "symmetric eigendecomposition",
    })?;
    Ok((0..n).map(|i| values[i]).collect())
}

/// A thin SVD `A = U diag(σ) Vᵀ`.
#[derive(Debug, Clone)]
pub struct ThinSvd {
    /// Left singular vectors, `m×k`.
    pub u: Mat<f64>,
    /// Singular values, nonincreasing, length `k`.
    pub s: Vec<f64>,
    /// Right singular vectors, `n×k`.
    pub v: Mat<f64>,
}

/// Thin SVD `A = U diag(σ) Vᵀ`, singular values in nonincreasing order.
///
/// # Shapes
/// `a: m×n`, `k = min(m, n)` → `(U: m×k, σ: k, V: n×k)`.
///
/// # Errors
/// [`LinalgError::NoConvergence`] if the SVD iteration fails.
pub fn thin_svd(a: MatRef<'_, f64>, par: Par) -> Result<ThinSvd, LinalgError> {
    let (m, n) = a.shape();
    let k = m.min(n);
    let mut u = Mat::zeros(m, k);
    let mut v = Mat::zeros(n, k);
    let s = svd_into(a, Some(u.as_mut()), Some(v.as_mut()), par)?;
    Ok(ThinSvd { u, s, v })
}

/// faer's SVD of `a` with the thin factors asked for, on `factorization_par`; returns
/// the singular values (nonincreasing).
fn svd_into(
    a: MatRef<'_, f64>,
    u: Option<MatMut<'_, f64>>,
    v: Option<MatMut<'_, f64>>,
    par: Par,
) -> Result<Vec<f64>, LinalgError> {
    use faer::linalg::svd::{svd, svd_scratch, ComputeSvdVectors};
    let (m, n) = a.shape();
    let par = factorization_par(par, m, n);
    let wanted = |factor: bool| {
        if factor {
            ComputeSvdVectors::Thin
        } else {
            ComputeSvdVectors::No
        }
    };
    let mut s = faer::diag::Diag::<f64>::zeros(m.min(n));
    let mut mem = MemBuffer::new(svd_scratch::<f64>(
        m,
        n,
        wanted(u.is_some()),
        wanted(v.is_some()),
        par,
        Default::default(),
    ));
    svd(
        a,
        s.as_mut(),
        u,
        v,
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|_| LinalgError::NoConvergence { what: "SVD" })?;
    Ok((0..m.min(n)).map(|i| s[i]).collect())
}

/// A blocked Householder QR `A = QR` in faer's compact form: `factored` holds R in its
/// upper triangle and the reflectors below it, `coeff` the block coefficients.
struct HouseholderQr {
    factored: Mat<f64>,
    coeff: Mat<f64>,
    block_size: usize,
}

impl HouseholderQr {
    fn new(a: MatRef<'_, f64>, par: Par) -> Self {
        use faer::linalg::qr::no_pivoting::factor;
        let (m, n) = a.shape();
        let block_size = factor::recommended_block_size::<f64>(m, n);
        let mut factored = a.to_owned();
        let mut coeff = Mat::zeros(block_size, m.min(n));
        let mut mem = MemBuffer::new(factor::qr_in_place_scratch::<f64>(
            m,
            n,
            block_size,
            par,
            Default::default(),
        ));
        factor::qr_in_place(
            factored.as_mut(),
            coeff.as_mut(),
            par,
            MemStack::new(&mut mem),
            Default::default(),
        );
        Self {
            factored,
            coeff,
            block_size,
        }
    }

    /// The upper triangle R (`min(m, n) × n`).
    fn r(&self) -> Mat<f64> {
        let (m, n) = self.factored.shape();
        Mat::from_fn(m.min(n), n, |i, j| {
            if i <= j {
                self.factored[(i, j)]
            } else {
                0.0
            }
        })
    }

    /// The Householder basis, the unit lower trapezoid of the factored matrix
    /// (consumes it: R is gone afterwards).
    fn into_basis(self) -> (Mat<f64>, Mat<f64>, usize) {
        let mut basis = self.factored;
        let (m, n) = basis.shape();
        for j in 0..m.min(n) {
            for i in 0..j {
                basis[(i, j)] = 0.0;
            }
            basis[(j, j)] = 1.0;
        }
        (basis, self.coeff, self.block_size)
    }
}

/// The orthonormal factor `Q` of a thin Householder QR `A = QR`.
///
/// # Shapes
/// `a: m×n` with `m ≥ n` → `Q: m×n`.
pub fn thin_q(a: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    let par = factorization_par(par, a.nrows(), a.ncols());
    form_q(HouseholderQr::new(a, par), par)
}

/// Both factors of a thin Householder QR `A = QR`.
///
/// # Shapes
/// `a: m×n` with `m ≥ n` → `(Q: m×n, R: n×n upper triangular)`.
pub fn thin_qr(a: MatRef<'_, f64>, par: Par) -> (Mat<f64>, Mat<f64>) {
    let par = factorization_par(par, a.nrows(), a.ncols());
    let qr = HouseholderQr::new(a, par);
    let r = qr.r();
    (form_q(qr, par), r)
}

/// The thin `Q` of a factored QR, formed by applying its reflectors to `I`.
fn form_q(qr: HouseholderQr, par: Par) -> Mat<f64> {
    use faer::linalg::householder;
    let (m, n) = qr.factored.shape();
    let size = m.min(n);
    let (basis, coeff, block_size) = qr.into_basis();
    let mut mem = MemBuffer::new(
        householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<f64>(
            m, block_size, size,
        ),
    );
    let mut q = Mat::identity(m, size);
    householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        basis.as_ref().get(.., ..size),
        coeff.as_ref(),
        faer::Conj::No,
        q.as_mut(),
        par,
        MemStack::new(&mut mem),
    );
    q
}

/// A Householder QR `B = Q_B R` of a tall matrix that never forms `Q_B`: returns `R`
/// and the first `n` entries of `Q_Bᵀ x` (the reflectors are applied to `x` alone).
/// `Q_B R = B` is backward stable, so the pair carries everything a least-squares
/// solve `min ‖B w − x‖` needs, at about half the cost of a thin SVD of `B`.
///
/// # Shapes
/// `b: m×n` with `m ≥ n`, `x: m` → `(R: n×n upper triangular, Q_Bᵀx: n)`.
pub fn qr_triangle_and_project(b: MatRef<'_, f64>, x: &[f64], par: Par) -> (Mat<f64>, Vec<f64>) {
    use faer::linalg::householder;
    let (m, n) = b.shape();
    assert!(
        m >= n,
        "qr_triangle_and_project needs a tall matrix, got {m}×{n}"
    );
    assert_eq!(
        x.len(),
        m,
        "qr_triangle_and_project: x has the wrong length"
    );
    let par = factorization_par(par, m, n);
    let qr = HouseholderQr::new(b, par);
    let r = qr.r();
    let (basis, coeff, block_size) = qr.into_basis();
    let mut mem = MemBuffer::new(
        householder::apply_block_householder_sequence_transpose_on_the_left_in_place_scratch::<f64>(
            m, block_size, 1,
        ),
    );
    let mut projected = Mat::from_fn(m, 1, |i, _| x[i]);
    householder::apply_block_householder_sequence_transpose_on_the_left_in_place_with_conj(
        basis.as_ref(),
        coeff.as_ref(),
        faer::Conj::No,
        projected.as_mut(),
        par,
        MemStack::new(&mut mem),
    );
    (r, (0..n).map(|i| projected[(i, 0)]).collect())
}

/// The singular values (nonincreasing) and left singular vectors of a square matrix,
/// `A = U diag(σ) Vᵀ` with `V` not formed (a quarter cheaper than both sets).
///
/// # Shapes
/// `a: n×n` → `(σ: n, U: n×n)`.
///
/// # Errors
/// [`LinalgError::NoConvergence`] if the SVD iteration fails.
pub fn svd_left(a: MatRef<'_, f64>, par: Par) -> Result<(Vec<f64>, Mat<f64>), LinalgError> {
    let (m, n) = a.shape();
    assert_eq!(m, n, "svd_left takes a square matrix, got {m}×{n}");
    let mut u = Mat::zeros(n, n);
    let s = svd_into(a, Some(u.as_mut()), None, par)?;
    Ok((s, u))
}

/// Solves `X B = C` for `X` (a right division), by LU with partial pivoting.
///
/// # Shapes
/// `b: n×n`, `c: m×n` → `m×n`.
///
/// # Errors
/// [`LinalgError::Singular`] when the result is not finite.
pub fn right_divide(
    c: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    what: &'static str,
) -> Result<Mat<f64>, LinalgError> {
    // X B = C  ⇔  Bᵀ Xᵀ = Cᵀ.
    let lu = b.partial_piv_lu();
    let mut xt = c.transpose().to_owned();
    lu.solve_transpose_in_place(xt.as_mut());
    let x = xt.transpose().to_owned();
    if x.col_iter().all(|col| col.iter().all(|v| v.is_finite())) {
        Ok(x)
    } else {
        Err(LinalgError::Singular {
            what,
            size: b.nrows(),
        })
    }
}

/// Dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Euclidean norm.
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..rows * cols)
            .map(|_| rng.random::<f64>() * 2.0 - 1.0)
            .collect()
    }

    fn max_abs_diff(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
        let mut m: f64 = 0.0;
        for j in 0..a.ncols() {
            for i in 0..a.nrows() {
                m = m.max((a[(i, j)] - b[(i, j)]).abs());
            }
        }
        m
    }

    #[test]
    fn gram_lower_matches_full_product_in_both_orientations() {
        for &(n, p) in &[(7, 13), (40, 25), (64, 64), (150, 90)] {
            let j = random(n, p, (n * 1000 + p) as u64);
            let jm = jacobian_view(&j, n, p);
            for (a, label) in [(jm, "JJᵀ"), (jm.transpose(), "JᵀJ")] {
                let lower = gram_lower(a, Par::Seq);
                let full = a * a.transpose();
                let m = a.nrows();
                let tol = 1e-14 * (a.ncols() as f64);
                for c in 0..m {
                    for r in 0..m {
                        if r >= c {
                            assert!(
                                (lower[(r, c)] - full[(r, c)]).abs() <= tol,
                                "{label} {n}×{p} entry ({r},{c})"
                            );
                        } else {
                            assert_eq!(lower[(r, c)], 0.0, "upper triangle must stay zero");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn jacobian_view_is_row_major_without_copy() {
        let j = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let v = jacobian_view(&j, 2, 3);
        assert_eq!(v[(0, 2)], 3.0);
        assert_eq!(v[(1, 0)], 4.0);
        assert!(std::ptr::eq(v.as_ptr(), j.as_ptr()));
    }

    #[test]
    fn cholesky_solve_matches_dense_residual() {
        let n = 30;
        let a = random(n, 50, 3);
        let am = jacobian_view(&a, n, 50);
        let g = gram_lower(am, Par::Seq);
        let mut full = am * am.transpose();
        for i in 0..n {
            full[(i, i)] += 1e-3;
        }
        let b = random(n, 2, 4);
        let mut x = Mat::from_fn(n, 2, |i, j| b[i * 2 + j]);
        cholesky_solve_damped(g.as_ref(), 1e-3, x.as_mut(), Par::rayon(2)).unwrap();
        let back = &full * &x;
        let bm = Mat::from_fn(n, 2, |i, j| b[i * 2 + j]);
        assert!(max_abs_diff(back.as_ref(), bm.as_ref()) < 1e-10);
    }

    #[test]
    fn cholesky_reports_indefinite_matrix() {
        let mut g = Mat::<f64>::zeros(2, 2);
        g[(0, 0)] = 1.0;
        g[(1, 0)] = 2.0;
        g[(1, 1)] = 1.0;
        let mut x = Mat::<f64>::zeros(2, 1);
        let err = cholesky_solve_damped(g.as_ref(), 0.0, x.as_mut(), Par::Seq).unwrap_err();
        assert_eq!(err, LinalgError::NonPositivePivot { index: 1 });
    }

    #[test]
    fn eigen_reconstructs_and_sorts() {
        let n = 20;
        let a = random(n, n, 5);
        let am = jacobian_view(&a, n, n);
        let g = gram_lower(am, Par::Seq);
        let (values, vectors) = symmetric_eigen(g.as_ref(), Par::Seq).unwrap();
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
        let d = Mat::from_fn(n, n, |i, j| if i == j { values[i] } else { 0.0 });
        let back = &vectors * &d * vectors.transpose();
        let full = am * am.transpose();
        assert!(max_abs_diff(back.as_ref(), full.as_ref()) < 1e-12);
    }

    #[test]
    fn thin_q_is_orthonormal_and_spans_a() {
        let (m, n) = (60, 12);
        let a = random(m, n, 6);
        let am = jacobian_view(&a, m, n);
        let q = thin_q(am, Par::rayon(2));
        let qtq = q.transpose() * &q;
        assert!(max_abs_diff(qtq.as_ref(), Mat::<f64>::identity(n, n).as_ref()) < 1e-13);
        // Projecting A onto span(Q) must give A back.
        let proj = &q * (q.transpose() * am);
        assert!(max_abs_diff(proj.as_ref(), am) < 1e-13);
    }

    #[test]
    fn thin_qr_factors_a_with_the_q_of_thin_q() {
        let (m, n) = (60, 12);
        let a = random(m, n, 16);
        let am = jacobian_view(&a, m, n);
        let (q, r) = thin_qr(am, Par::Seq);
        assert_eq!(r.shape(), (n, n));
        for j in 0..n {
            for i in j + 1..n {
                assert_eq!(r[(i, j)], 0.0, "R is not upper triangular at ({i}, {j})");
            }
        }
        assert!(max_abs_diff((&q * &r).as_ref(), am) < 1e-13);
        // Qᵀ A = R, the identity the single-pass SNGD sketch relies on.
        assert!(max_abs_diff((q.transpose() * am).as_ref(), r.as_ref()) < 1e-13);
        assert_eq!(q, thin_q(am, Par::Seq));
    }

    #[test]
    fn thin_svd_reconstructs() {
        let (m, n) = (15, 40);
        let a = random(m, n, 7);
        let am = jacobian_view(&a, m, n);
        let ThinSvd { u, s, v } = thin_svd(am, Par::Seq).unwrap();
        assert!(s.windows(2).all(|w| w[0] >= w[1]));
        let d = Mat::from_fn(m, m, |i, j| if i == j { s[i] } else { 0.0 });
        let back = &u * &d * v.transpose();
        assert!(max_abs_diff(back.as_ref(), am) < 1e-13);
    }

    #[test]
    fn qr_triangle_and_project_matches_an_explicit_qr() {
        let (m, n) = (70, 23);
        let b = random(m, n, 11);
        let x = random(m, 1, 12);
        let bm = jacobian_view(&b, m, n);
        let (r, projected) = qr_triangle_and_project(bm, &x, Par::Seq);
        let q = thin_q(bm, Par::Seq);
        // R is upper triangular and Q R = B, with Q from an independent thin QR
        // (the factorizations agree up to the signs of the columns of Q / rows of R).
        for j in 0..n {
            for i in j + 1..n {
                assert_eq!(r[(i, j)], 0.0);
            }
        }
        let qtb = q.transpose() * bm;
        let qtx = mat_vec(q.transpose(), &x, Par::Seq);
        for i in 0..n {
            let sign = if (qtb[(i, i)] > 0.0) == (r[(i, i)] > 0.0) {
                1.0
            } else {
                -1.0
            };
            for j in 0..n {
                assert!((sign * qtb[(i, j)] - r[(i, j)]).abs() < 1e-12, "R[{i},{j}]");
            }
            assert!((sign * qtx[i] - projected[i]).abs() < 1e-12, "Qᵀx[{i}]");
        }
    }

    #[test]
    fn svd_left_matches_the_thin_svd() {
        let n = 31;
        let a = random(n, n, 13);
        let am = jacobian_view(&a, n, n);
        let (s, u) = svd_left(am, Par::Seq).unwrap();
        let full = thin_svd(am, Par::Seq).unwrap();
        for (left, both) in s.iter().zip(&full.s) {
            assert!((left - both).abs() < 1e-12);
        }
        // U diag(σ)² Uᵀ = A Aᵀ determines U up to column signs.
        let d = Mat::from_fn(n, n, |i, j| if i == j { s[i] * s[i] } else { 0.0 });
        let back = &u * &d * u.transpose();
        assert!(max_abs_diff(back.as_ref(), (am * am.transpose()).as_ref()) < 1e-11);
        let utu = u.transpose() * &u;
        assert!(max_abs_diff(utu.as_ref(), Mat::<f64>::identity(n, n).as_ref()) < 1e-13);
    }

    #[test]
    fn right_divide_solves_xb_equals_c() {
        let n = 8;
        let b = Mat::from_fn(n, n, |i, j| {
            if i == j {
                3.0
            } else {
                0.1 * (i + 2 * j) as f64
            }
        });
        let c = Mat::from_fn(5, n, |i, j| (i * n + j) as f64 * 0.01 - 0.2);
        let x = right_divide(c.as_ref(), b.as_ref(), "test").unwrap();
        assert!(max_abs_diff((&x * &b).as_ref(), c.as_ref()) < 1e-13);
        let zero = Mat::<f64>::zeros(n, n);
        assert!(right_divide(c.as_ref(), zero.as_ref(), "test").is_err());
    }
}
