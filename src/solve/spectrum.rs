//! The Gramian spectrum of a Jacobian and each method's cut-off on it (what
//! `spectrum.png` draws): the numerics live here, `output` only draws.

use super::linalg;
use super::registry::OptimizerConfig;

/// The eigenvalues of the Gramian of a Jacobian `J` (N×P): of `JJᵀ` when `N ≤ P`, else
/// of `JᵀJ` (the smaller matrix; both have the same nonzero eigenvalues, the squared
/// singular values of J).
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// The eigenvalues, largest first.
    pub eigenvalues: Vec<f64>,
    /// Whether they are of the sample-space kernel `JJᵀ`.
    pub kernel: bool,
    /// `N`.
    pub n_rows: usize,
    /// `P`.
    pub n_params: usize,
    /// `false` when the Gramian was too large for a dense eigensolver and only its
    /// leading eigenvalues were estimated ([`Spectrum::of_jacobian`]).
    pub complete: bool,
}

/// The largest Gramian (`min(N, P)`) whose spectrum [`Spectrum::of_jacobian`] computes
/// densely. Beyond it the dense route — forming the Gramian and reducing it to
/// tridiagonal form, `O(min(N, P)² max(N, P))` with a memory-bound reduction — took
/// minutes after a run of examples/kovasznay.pde (`min(N, P) = 7,953`), longer than many
/// iterations of the solve.
pub const DENSE_SPECTRUM_LIMIT: usize = 3_000;

/// How many leading eigenvalues are estimated beyond [`DENSE_SPECTRUM_LIMIT`].
pub const ESTIMATED_EIGENVALUES: usize = 600;

impl Spectrum {
    /// The spectrum of the row-major `jacobian`; `None` when it is empty, not finite,
    /// of the wrong length, or the eigensolver fails. Up to `min(N, P) =`
    /// [`DENSE_SPECTRUM_LIMIT`] every eigenvalue, by a dense eigensolver; beyond it the
    /// [`ESTIMATED_EIGENVALUES`] largest, by [`Spectrum::leading_of_jacobian`]
    /// (`complete = false`).
    ///
    /// # Shapes
    /// `jacobian: N×P` row-major; the Gramian is `min(N, P)` square.
    pub fn of_jacobian(jacobian: &[f64], n_rows: usize, n_params: usize) -> Option<Self> {
        if n_rows.min(n_params) > DENSE_SPECTRUM_LIMIT {
            Self::leading_of_jacobian(jacobian, n_rows, n_params, ESTIMATED_EIGENVALUES)
        } else {
            Self::dense_of_jacobian(jacobian, n_rows, n_params)
        }
    }

    /// Every eigenvalue of the smaller Gramian, by a dense symmetric eigensolver
    /// (eigenvalues only).
    pub fn dense_of_jacobian(jacobian: &[f64], n_rows: usize, n_params: usize) -> Option<Self> {
        let j = checked_view(jacobian, n_rows, n_params)?;
        let kernel = n_rows <= n_params;
        let par = linalg::parallelism(0);
        let gram = if kernel {
            linalg::gram_lower(j, par)
        } else {
            linalg::gram_lower(j.transpose(), par)
        };
        let mut eigenvalues = linalg::symmetric_eigenvalues(gram.as_ref(), par).ok()?;
        eigenvalues.reverse();
        Some(Self {
            eigenvalues,
            kernel,
            n_rows,
            n_params,
            complete: true,
        })
    }

    /// The `count` largest eigenvalues of the Gramian (at most `min(N, P)`), estimated by
    /// randomized subspace iteration (Halko, Martinsson & Tropp 2011, Algorithm 4.4):
    /// `Q = orth(J Ω)` for a Gaussian `Ω` with `count + 20` columns (a fixed seed, so
    /// the estimate is reproducible), two rounds of `Q = orth(J orth(Jᵀ Q))`, then the
    /// eigenvalues of `B Bᵀ` with `B = Qᵀ J`. Each is at most the true eigenvalue of the
    /// same index; with the fast spectral decay of PINN Jacobians the leading ones agree
    /// to many digits (tested against the dense solver). Cost: `6·N·P·(count + 20)`
    /// flops in matrix products, and QRs of `N×(count + 20)` and `P×(count + 20)`.
    pub fn leading_of_jacobian(
        jacobian: &[f64],
        n_rows: usize,
        n_params: usize,
        count: usize,
    ) -> Option<Self> {
        use rand::SeedableRng;
        let j = checked_view(jacobian, n_rows, n_params)?;
        let smaller = n_rows.min(n_params);
        let width = (count + 20).min(smaller);
        let par = linalg::parallelism(0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed_5bec);
        let omega = super::nystrom::gaussian_matrix(n_params, width, &mut rng);
        let mut q = linalg::thin_q(linalg::mat_mul(j, omega.as_ref(), par).as_ref(), par);
        for _ in 0..2 {
            let z = linalg::thin_q(
                linalg::mat_mul(j.transpose(), q.as_ref(), par).as_ref(),
                par,
            );
            q = linalg::thin_q(linalg::mat_mul(j, z.as_ref(), par).as_ref(), par);
        }
        let b = linalg::mat_mul(q.transpose(), j, par);
        let small = linalg::gram_lower(b.as_ref(), par);
        let mut eigenvalues = linalg::symmetric_eigenvalues(small.as_ref(), par).ok()?;
        eigenvalues.reverse();
        eigenvalues.truncate(count.min(smaller));
        let complete = eigenvalues.len() == smaller;
        Some(Self {
            eigenvalues,
            kernel: n_rows <= n_params,
            n_rows,
            n_params,
            complete,
        })
    }

    /// The largest eigenvalue (0 for an empty or negative spectrum).
    pub fn largest(&self) -> f64 {
        self.eigenvalues.first().copied().unwrap_or(0.0).max(0.0)
    }

    /// What the values are, for a plot: `eigenvalues of JJᵀ` or `eigenvalues of JᵀJ`,
    /// or `largest k eigenvalues of …, estimated` when the spectrum is not complete.
    pub fn kind(&self) -> String {
        let gramian = if self.kernel { "JJᵀ" } else { "JᵀJ" };
        if self.complete {
            format!("eigenvalues of {gramian}")
        } else {
            format!(
                "largest {} eigenvalues of {gramian}, estimated",
                self.eigenvalues.len()
            )
        }
    }

    /// The cut-off of `optimizer` on this spectrum, at the damping `damping` of its last
    /// step, when it is positive and finite ([`super::Method::spectrum_cutoff`]).
    pub fn cutoff(&self, optimizer: &OptimizerConfig, damping: Option<f64>) -> Option<f64> {
        optimizer
            .spectrum_cutoff(self, damping)
            .filter(|c| *c > 0.0 && c.is_finite())
    }
}

/// `jacobian` as an `N×P` view, or `None` when it is empty, of the wrong length or not
/// finite.
fn checked_view(jacobian: &[f64], n_rows: usize, n_params: usize) -> Option<faer::MatRef<'_, f64>> {
    if n_rows == 0 || n_params == 0 {
        return None;
    }
    if jacobian.len() != n_rows * n_params || jacobian.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(linalg::jacobian_view(jacobian, n_rows, n_params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;
    use rand::SeedableRng;

    /// A row-major `N×P` Jacobian `U diag(σ) Vᵀ` with orthonormal random `U`, `V` and the
    /// given singular values.
    fn jacobian_with_singular_values(n: usize, p: usize, sigma: &[f64], seed: u64) -> Vec<f64> {
        let k = sigma.len();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let par = linalg::parallelism(1);
        let u = linalg::thin_q(
            super::super::nystrom::gaussian_matrix(n, k, &mut rng).as_ref(),
            par,
        );
        let v = linalg::thin_q(
            super::super::nystrom::gaussian_matrix(p, k, &mut rng).as_ref(),
            par,
        );
        let us = Mat::from_fn(n, k, |i, c| u[(i, c)] * sigma[c]);
        let j = linalg::mat_mul(us.as_ref(), v.transpose(), par);
        (0..n * p).map(|e| j[(e / p, e % p)]).collect()
    }

    fn relative(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs()
    }

    #[test]
    fn the_estimated_leading_eigenvalues_agree_with_the_dense_solver_and_the_truth() {
        // A PINN-like geometric decay of the singular values.
        let (n, p) = (260, 180);
        let sigma: Vec<f64> = (0..180).map(|i| 3.0 * 0.85f64.powi(i)).collect();
        let j = jacobian_with_singular_values(n, p, &sigma, 7);
        let dense = Spectrum::dense_of_jacobian(&j, n, p).unwrap();
        assert!(dense.complete && !dense.kernel);
        assert_eq!(dense.eigenvalues.len(), p);
        let leading = Spectrum::leading_of_jacobian(&j, n, p, 30).unwrap();
        assert!(!leading.complete);
        assert_eq!(leading.eigenvalues.len(), 30);
        for (k, &estimate) in leading.eigenvalues.iter().enumerate() {
            let truth = sigma[k] * sigma[k];
            assert!(
                relative(estimate, truth) < 1e-9,
                "λ_{k}: {estimate} vs {truth}"
            );
            assert!(
                relative(estimate, dense.eigenvalues[k]) < 1e-9,
                "λ_{k}: {estimate} vs dense {}",
                dense.eigenvalues[k]
            );
        }
        // Asking for every eigenvalue gives the complete spectrum.
        let all = Spectrum::leading_of_jacobian(&j, n, p, 1000).unwrap();
        assert!(all.complete);
        assert_eq!(all.eigenvalues.len(), p);
    }

    #[test]
    fn beyond_the_dense_limit_only_the_leading_eigenvalues_are_estimated() {
        // Rank 4, one past the limit: the estimate finds the four and zeros after them.
        let n = DENSE_SPECTRUM_LIMIT + 1;
        let p = DENSE_SPECTRUM_LIMIT + 7;
        let sigma = [5.0, 2.0, 0.5, 1e-3];
        let j = jacobian_with_singular_values(n, p, &sigma, 11);
        let spectrum = Spectrum::of_jacobian(&j, n, p).unwrap();
        assert!(!spectrum.complete);
        assert!(spectrum.kernel);
        assert_eq!(spectrum.eigenvalues.len(), ESTIMATED_EIGENVALUES);
        for (k, s) in sigma.iter().enumerate() {
            assert!(relative(spectrum.eigenvalues[k], s * s) < 1e-9, "λ_{k}");
        }
        assert!(spectrum.eigenvalues[4..]
            .iter()
            .all(|v| v.abs() < 1e-12 * spectrum.largest()));
        assert!(spectrum
            .kind()
            .starts_with("largest 600 eigenvalues of JJᵀ"));
        // A small Gramian: dense and complete.
        let m = DENSE_SPECTRUM_LIMIT.min(400);
        let j = jacobian_with_singular_values(m, m + 3, &sigma, 12);
        let dense = Spectrum::of_jacobian(&j, m, m + 3).unwrap();
        assert!(dense.complete);
        assert_eq!(dense.eigenvalues.len(), m);
    }
}
