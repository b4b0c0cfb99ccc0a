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
}

impl Spectrum {
    /// The spectrum of the row-major `jacobian`; `None` when it is empty, not finite,
    /// of the wrong length, or the eigensolver fails.
    ///
    /// # Shapes
    /// `jacobian: N×P` row-major; the Gramian is `min(N, P)` square.
    pub fn of_jacobian(jacobian: &[f64], n_rows: usize, n_params: usize) -> Option<Self> {
        if n_rows == 0 || n_params == 0 {
            return None;
        }
        if jacobian.len() != n_rows * n_params || jacobian.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let j = linalg::jacobian_view(jacobian, n_rows, n_params);
        let kernel = n_rows <= n_params;
        let par = linalg::parallelism(0);
        let gram = if kernel {
            linalg::gram_lower(j, par)
        } else {
            linalg::gram_lower(j.transpose(), par)
        };
        let (mut eigenvalues, _) = linalg::symmetric_eigen(gram.as_ref(), par).ok()?;
        eigenvalues.reverse();
        Some(Self {
            eigenvalues,
            kernel,
            n_rows,
            n_params,
        })
    }

    /// The largest eigenvalue (0 for an empty or negative spectrum).
    pub fn largest(&self) -> f64 {
        self.eigenvalues.first().copied().unwrap_or(0.0).max(0.0)
    }

    /// What the values are, for a plot: `eigenvalues of JJᵀ` or `eigenvalues of JᵀJ`.
    pub fn kind(&self) -> &'static str {
        if self.kernel {
            "eigenvalues of JJᵀ"
        } else {
            "eigenvalues of JᵀJ"
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
