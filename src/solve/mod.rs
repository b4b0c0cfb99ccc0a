//! Solve: optimizers (ENGD, SNGD, ANaGRAM, Adam, L-BFGS) over residuals and Jacobians.
//!
//! Optimizers see the problem only through [`LeastSquares`]: the loss is
//! `L(θ) = ½‖r(θ)‖²`, `J = ∂r/∂θ`, `g = Jᵀr`.
//!
//! - [`driver`]: configs, the batched grid line search, step acceptance, stopping,
//!   [`solve`] and [`Solver`];
//! - [`engd`], [`sngd`], [`anagram`]: natural-gradient directions;
//! - [`adam`], [`lbfgs`]: first-order baselines on `loss_and_gradient`;
//! - [`linalg`]: the dense faer kernels (Gram products, Cholesky, eigen, SVD, QR);
//! - [`test_problems`]: small dense problems with analytic Jacobians.
//!
//! `docs/optimizers.md` describes each method, its knobs and defaults.

/// A nonlinear least-squares problem `min ½‖r(θ)‖²`, as the optimizers see it.
///
/// The compiled PDE program implements it; tests implement it with small dense models.
pub trait LeastSquares {
    /// Number of parameters `P` (network weights and trainable params).
    fn n_params(&self) -> usize;

    /// Number of residual rows `N`.
    fn n_residuals(&self) -> usize;

    /// `r(θ)` (length N) and `J(θ)` (N×P, row-major, length N·P).
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>);

    /// `r(θ)` alone.
    fn residual(&mut self, theta: &[f64]) -> Vec<f64>;

    /// Losses `½‖r(θ_k)‖²` at several parameter vectors (line searches); an
    /// implementation may batch them into one pass.
    fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
        thetas
            .iter()
            .map(|t| {
                let r = self.residual(t);
                0.5 * r.iter().map(|v| v * v).sum::<f64>()
            })
            .collect()
    }

    /// The residual block (equation) that row `row` belongs to, for messages that name
    /// where a non-finite value appeared; `None` (the default) when the problem has no
    /// such structure.
    fn locate_row(&self, row: usize) -> Option<usize> {
        let _ = row;
        None
    }

    /// Loss and gradient `Jᵀr` without forming J (Adam, L-BFGS). The default forms J.
    fn loss_and_gradient(&mut self, theta: &[f64]) -> (f64, Vec<f64>) {
        let (r, j) = self.residual_and_jacobian(theta);
        let p = self.n_params();
        let mut g = vec![0.0; p];
        for (i, ri) in r.iter().enumerate() {
            for (gk, jk) in g.iter_mut().zip(&j[i * p..(i + 1) * p]) {
                *gk += jk * ri;
            }
        }
        (0.5 * r.iter().map(|v| v * v).sum::<f64>(), g)
    }
}

pub mod adam;
pub mod anagram;
pub mod driver;
pub mod engd;
pub mod lbfgs;
pub mod linalg;
pub mod sngd;
pub mod test_problems;

// Matrix-free and trust-region kernels (ALGORITHMS.md §4.1, §4.2).
pub mod jacobian_ops;
pub mod mgh;
pub mod nystrom;
pub mod pcg;
pub mod trust_region;

pub use adam::AdamConfig;
pub use anagram::{AnagramConfig, AnagramCutoff, AnagramFactorization};
pub use driver::{
    grid_line_search, init_thread_pool, solve, IterationRecord, LineSearchConfig, LineSearchResult,
    OptimizerConfig, SolveConfig, SolveError, SolveReport, Solver, StepOutcome, StopReason,
};
pub use engd::{EngdConfig, EngdSolve, GramForm};
pub use lbfgs::LbfgsConfig;
pub use sngd::{SketchPass, SngdConfig, SngdDamping, ToleranceScale};
