//! Plain gradient descent, `θ ← θ − η ∇L(θ)`, with the step size chosen by the
//! shared grid line search: the simplest baseline, and the smallest example of an
//! optimizer (see docs/extending.md).

use super::driver::SolveConfig;
use super::line_search::{grid_line_search, LineSearchConfig};
use super::optimizer::{checked_loss_and_gradient, Method, Optimizer, StepOutcome};
use super::options::{self, ConfigScalar, OptionSpec};
use super::report::SolveError;
use super::state::SolverState;
use super::LeastSquares;

/// Gradient-descent settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GdConfig {
    /// The largest step size of the line search's grid, `η ∈ {s, s/2, …, s·2^-30}`;
    /// default `1`.
    pub max_step: f64,
}

impl Default for GdConfig {
    fn default() -> Self {
        Self { max_step: 1.0 }
    }
}

/// Gradient descent as an optimizer; it keeps no state between iterations.
#[derive(Debug)]
pub struct Gd {
    config: GdConfig,
    line_search: LineSearchConfig,
}

impl Optimizer for Gd {
    fn name(&self) -> &'static str {
        GdConfig::NAME
    }

    fn step(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError> {
        let (loss, gradient) = checked_loss_and_gradient(problem, theta)?;
        // The search walks the grid η·max_step from the top (no warm start).
        let direction: Vec<f64> = gradient.iter().map(|g| g * self.config.max_step).collect();
        let search = grid_line_search(problem, theta, &direction, &self.line_search, 1.0);
        let reference = if search.base_loss.is_finite() {
            search.base_loss
        } else {
            loss
        };
        if search.loss.is_finite() && search.loss < reference {
            for (t, d) in theta.iter_mut().zip(&direction) {
                *t -= search.step * d;
            }
            return Ok(StepOutcome {
                loss: search.loss,
                step_size: search.step * self.config.max_step,
                damping: None,
                rank: None,
                retries: 0,
                accepted: true,
                cg_iterations: None,
                jacobian_passes: None,
            });
        }
        Ok(StepOutcome {
            loss: reference,
            step_size: 0.0,
            damping: None,
            rank: None,
            retries: 1,
            accepted: false,
            cg_iterations: None,
            jacobian_passes: None,
        })
    }

    fn state(&self) -> SolverState {
        SolverState::stateless(GdConfig::NAME)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Method for GdConfig {
    const NAME: &'static str = "gd";
    const OPTIONS: &'static [OptionSpec] = &[OptionSpec {
        key: "max_step",
        default: "1",
        value: "NUMBER",
        help: "largest step size of the line search",
    }];
    const LINE_SEARCH: bool = true;

    fn set_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String> {
        match key {
            "max_step" => self.max_step = options::positive(value)?,
            _ => return Err("unknown option".to_string()),
        }
        Ok(())
    }

    fn build(
        &self,
        config: &SolveConfig,
        state: Option<&SolverState>,
    ) -> Result<Box<dyn Optimizer>, SolveError> {
        if let Some(saved) = state {
            saved.decode::<()>(Self::NAME)?;
        }
        Ok(Box::new(Gd {
            config: self.clone(),
            line_search: LineSearchConfig {
                warm_start: false,
                ..config.line_search.clone()
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::test_problems::LinearLeastSquares;
    use crate::solve::LeastSquares;
    use crate::solve::{solve, OptimizerConfig};
    use std::ops::ControlFlow;

    #[test]
    fn gradient_descent_converges_on_a_linear_least_squares_problem() {
        // Steepest descent with an exact-enough line search converges linearly on a
        // well-posed linear problem; the minimum is the normal-equations solution.
        let mut problem = LinearLeastSquares::random(30, 5, 11);
        let mut theta = vec![0.0; 5];
        let config = SolveConfig {
            optimizer: OptimizerConfig::Gd(GdConfig::default()),
            max_iterations: 3000,
            threads: 1,
            ..SolveConfig::default()
        };
        let report = solve(&mut problem, &mut theta, &config, |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        // Every accepted step decreased the loss.
        let losses: Vec<f64> = report.history.iter().map(|r| r.loss).collect();
        assert!(losses.windows(2).all(|w| w[1] <= w[0]));
        // The minimum, independently: one undamped Gauss–Newton step from 0 (exact for a
        // linear residual), with a pseudo-inverse.
        let (r, j) = problem.residual_and_jacobian(&[0.0; 5]);
        let newton = crate::solve::engd::direction(
            crate::solve::linalg::jacobian_view(&j, 30, 5),
            &r,
            0.0,
            crate::solve::GramForm::Parameter,
            crate::solve::EngdSolve::Eigen {
                relative_cutoff: 0.0,
            },
            faer::Par::Seq,
        )
        .unwrap();
        let minimum: Vec<f64> = newton.d.iter().map(|d| -d).collect();
        let gap = theta
            .iter()
            .zip(&minimum)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            gap < 1e-6,
            "θ is {gap} from the minimum after {} steps",
            report.iterations
        );
    }
}
