//! [`PdeLeastSquares`]: a compiled problem on fixed points, as the
//! [`LeastSquares`] the optimizers see.

use super::compiled::CompiledProblem;
use super::error::CompileError;
use crate::compile::points::PointSet;
use crate::solve::streamed::JacobianRows;
use crate::solve::LeastSquares;
use burn::tensor::backend::Backend;
use rayon::prelude::*;

/// A compiled problem on fixed points: the [`LeastSquares`] the optimizers see.
#[derive(Debug, Clone)]
pub struct PdeLeastSquares<B: Backend> {
    /// The compiled problem.
    pub program: CompiledProblem<B>,
    /// The training points, one block per residual block.
    pub points: PointSet,
}

impl<B: Backend> PdeLeastSquares<B> {
    /// Bundles a program with its points.
    ///
    /// # Errors
    /// Points that do not fit the problem ([`CompiledProblem::check_points`]).
    pub fn new(program: CompiledProblem<B>, points: PointSet) -> Result<Self, CompileError> {
        program.check_points(&points)?;
        Ok(PdeLeastSquares { program, points })
    }

    /// Residual-only forwards (no reverse pass, no linearization), one per θ, run in
    /// parallel: the tensors of one small forward pass leave most of the cores idle,
    /// so independent θ fill them.
    pub fn residuals(&self, thetas: &[Vec<f64>]) -> Vec<Vec<f64>> {
        thetas
            .par_iter()
            .map(|t| self.program.residual(t, &self.points))
            .collect()
    }
}

/// The rows of J at one θ, for a Jacobian streamed in blocks.
struct PdeJacobianRows<B: Backend> {
    problem: PdeLeastSquares<B>,
    theta: Vec<f64>,
}

impl<B: Backend> JacobianRows for PdeJacobianRows<B> {
    fn n_rows(&self) -> usize {
        self.problem.points.n_rows()
    }

    fn n_cols(&self) -> usize {
        self.problem.program.n_params()
    }

    fn rows(&self, rows: std::ops::Range<usize>) -> Vec<f64> {
        self.problem
            .program
            .jacobian_rows(&self.theta, &self.problem.points, rows)
    }
}

impl<B: Backend> LeastSquares for PdeLeastSquares<B> {
    fn n_params(&self) -> usize {
        self.program.n_params()
    }

    fn n_residuals(&self) -> usize {
        self.points.n_rows()
    }

    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.program.residual_and_jacobian(theta, &self.points)
    }

    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        self.program.residual(theta, &self.points)
    }

    /// `½‖r‖²` of [`PdeLeastSquares::residuals`].
    fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
        self.residuals(thetas)
            .iter()
            .map(|r| 0.5 * r.iter().map(|v| v * v).sum::<f64>())
            .collect()
    }

    fn loss_and_gradient(&mut self, theta: &[f64]) -> (f64, Vec<f64>) {
        self.program.loss_and_gradient(theta, &self.points)
    }

    /// The rows are computed by [`CompiledProblem::jacobian_rows`] on a copy of the
    /// program and points (owned, so that the optimizer may evaluate losses meanwhile).
    fn residual_and_jacobian_rows(
        &mut self,
        theta: &[f64],
    ) -> Option<(Vec<f64>, Box<dyn JacobianRows>)> {
        let residual = self.program.residual(theta, &self.points);
        let rows = PdeJacobianRows {
            problem: self.clone(),
            theta: theta.to_vec(),
        };
        Some((residual, Box::new(rows)))
    }

    /// Rows are stacked block by block in `Problem::blocks` order.
    fn locate_row(&self, row: usize) -> Option<usize> {
        self.points.block_of_row(row)
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::testing::{self, compile, random_points};

    #[test]
    fn least_squares_trait_agrees_with_program() {
        let problem = testing::system(false);
        let program = compile(&problem);
        let points = random_points(&problem, 5, 7);
        let theta = program.init_params(3);
        let mut ls = PdeLeastSquares::new(program.clone(), points.clone()).unwrap();
        assert_eq!(ls.n_residuals(), 15);
        let r = ls.residual(&theta);
        let losses = ls.losses(&[theta.clone(), theta.iter().map(|t| t * 0.5).collect()]);
        assert!((losses[0] - 0.5 * r.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-15);
        let half: Vec<f64> = theta.iter().map(|t| t * 0.5).collect();
        let r_half = ls.residual(&half);
        assert!((losses[1] - 0.5 * r_half.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-15);
        assert!(losses[1] != losses[0]);
        let (loss, g) = ls.loss_and_gradient(&theta);
        assert!((loss - losses[0]).abs() < 1e-15);
        assert_eq!(g.len(), ls.n_params());
    }
}
