//! The problem as the optimizers see it: residuals, their Jacobian and losses.

use super::streamed::JacobianRows;

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

    /// How many times the point set has been swapped (resampling, adaptive redraws):
    /// a loss or gradient cached under another generation is stale. The default, for
    /// fixed points, is always 0.
    fn points_generation(&mut self) -> u64 {
        0
    }

    /// `r(θ)` and the rows of `J(θ)` on demand ([`JacobianRows`]), for a Jacobian too
    /// large to store: it starts a step as [`Self::residual_and_jacobian`] does. `None`
    /// (the default) when the problem only forms J whole.
    fn residual_and_jacobian_rows(
        &mut self,
        theta: &[f64],
    ) -> Option<(Vec<f64>, Box<dyn JacobianRows>)> {
        let _ = theta;
        None
    }

    /// Loss and gradient `Jᵀr` without forming J (Adam, L-BFGS). The default forms J.
    fn loss_and_gradient(&mut self, theta: &[f64]) -> (f64, Vec<f64>) {
        let (r, j) = self.residual_and_jacobian(theta);
        loss_and_gradient_of(&r, &j, self.n_params())
    }
}

/// `½‖r‖²` and `Jᵀr` for `r` and the row-major `J` (`n_params` wide).
pub fn loss_and_gradient_of(r: &[f64], j: &[f64], n_params: usize) -> (f64, Vec<f64>) {
    let p = n_params;
    let mut g = vec![0.0; p];
    for (i, ri) in r.iter().enumerate() {
        for (gk, jk) in g.iter_mut().zip(&j[i * p..(i + 1) * p]) {
            *gk += jk * ri;
        }
    }
    (0.5 * r.iter().map(|v| v * v).sum::<f64>(), g)
}
