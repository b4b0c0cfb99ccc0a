//! Adam (Kingma & Ba 2015), the first-order baseline, on the gradient-only path.
//!
//! `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
//! `θ ← θ − lr_t · m̂ / (sqrt(v̂) + eps)` with bias corrections `m̂ = m/(1−β₁^t)`,
//! `v̂ = v/(1−β₂^t)` and the exponentially decaying learning rate
//! `lr_t = lr · lr_decay^(t−1)`.

use super::driver::SolveConfig;
use super::optimizer::{checked_loss_and_gradient, Method, Optimizer, StepOutcome};
use super::options::{self, ConfigScalar, OptionSpec};
use super::report::SolveError;
use super::state::{check_lengths, SolverState};
use super::LeastSquares;

/// Adam settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AdamConfig {
    /// Learning rate of the first step; default `1e-3`.
    pub learning_rate: f64,
    /// Factor applied to the learning rate after every step; default `1` (constant).
    /// `0.9998` takes it down by `e^{-4} ≈ 0.018` over 20,000 steps.
    pub lr_decay: f64,
    /// First-moment decay β₁; default `0.9`.
    pub beta1: f64,
    /// Second-moment decay β₂; default `0.999`.
    pub beta2: f64,
    /// Denominator offset; default `1e-8`.
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            lr_decay: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam's moment estimates.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamState {
    /// First moment `m`.
    pub m: Vec<f64>,
    /// Second moment `v`.
    pub v: Vec<f64>,
    /// Steps taken `t`.
    pub t: u32,
}

impl AdamState {
    /// Zero moments for `n_params` parameters.
    pub fn new(n_params: usize) -> Self {
        Self {
            m: vec![0.0; n_params],
            v: vec![0.0; n_params],
            t: 0,
        }
    }

    /// Applies one Adam update to `theta` given the gradient at `theta`; returns the
    /// learning rate of this step, `lr · lr_decay^(t−1)`.
    ///
    /// # Shapes
    /// `theta`, `gradient`: `P`.
    pub fn update(&mut self, theta: &mut [f64], gradient: &[f64], config: &AdamConfig) -> f64 {
        self.t += 1;
        let bias1 = 1.0 - config.beta1.powi(self.t as i32);
        let bias2 = 1.0 - config.beta2.powi(self.t as i32);
        let lr = config.learning_rate * config.lr_decay.powf(f64::from(self.t - 1));
        for (((th, g), m), v) in theta
            .iter_mut()
            .zip(gradient)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            *m = config.beta1 * *m + (1.0 - config.beta1) * g;
            *v = config.beta2 * *v + (1.0 - config.beta2) * g * g;
            let m_hat = *m / bias1;
            let v_hat = *v / bias2;
            *th -= lr * m_hat / (v_hat.sqrt() + config.eps);
        }
        lr
    }
}

/// Adam as an optimizer: one gradient per step, no line search.
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    state: AdamState,
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        AdamConfig::NAME
    }

    fn step(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError> {
        let (loss, gradient) = checked_loss_and_gradient(problem, theta)?;
        if self.state.m.len() != theta.len() {
            self.state = AdamState::new(theta.len());
        }
        let learning_rate = self.state.update(theta, &gradient, &self.config);
        Ok(StepOutcome {
            loss,
            step_size: learning_rate,
            damping: None,
            rank: None,
            retries: 0,
            accepted: true,
            cg_iterations: None,
            jacobian_passes: None,
        })
    }

    fn state(&self) -> SolverState {
        SolverState::new(AdamConfig::NAME, &self.state)
    }

    fn reports_loss_before_step(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Method for AdamConfig {
    const NAME: &'static str = "adam";
    const OPTIONS: &'static [OptionSpec] = &[
        OptionSpec {
            key: "lr",
            default: "1e-3",
            value: "NUMBER",
            help: "learning rate",
        },
        OptionSpec {
            key: "lr_decay",
            default: "1",
            value: "NUMBER",
            help: "factor in (0, 1] applied to the learning rate after every step",
        },
    ];
    const LINE_SEARCH: bool = false;

    fn set_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String> {
        match key {
            "lr" => self.learning_rate = options::positive(value)?,
            "lr_decay" => {
                let decay = options::positive(value)?;
                if decay > 1.0 {
                    return Err("expected a factor in (0, 1]".to_string());
                }
                self.lr_decay = decay;
            }
            _ => return Err("unknown option".to_string()),
        }
        Ok(())
    }

    fn build(
        &self,
        _config: &SolveConfig,
        state: Option<&SolverState>,
    ) -> Result<Box<dyn Optimizer>, SolveError> {
        let state = match state {
            Some(saved) => saved.decode(Self::NAME)?,
            None => AdamState::new(0),
        };
        Ok(Box::new(Adam {
            config: self.clone(),
            state,
        }))
    }

    /// A fresh state has empty moments, sized at the first step.
    fn check_state(state: &SolverState, n_params: usize) -> Result<(), SolveError> {
        let state: AdamState = state.decode(Self::NAME)?;
        if state.t == 0 {
            return Ok(());
        }
        check_lengths(
            [
                ("first moment", state.m.len()),
                ("second moment", state.v.len()),
            ],
            n_params,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_two_steps_match_hand_computation() {
        // θ₀ = (1, −2), g₁ = (0.5, −4), g₂ = (0.1, 3); lr = 0.01, β = (0.9, 0.999), eps = 1e-8.
        let config = AdamConfig {
            learning_rate: 0.01,
            ..AdamConfig::default()
        };
        let mut theta = vec![1.0, -2.0];
        let mut state = AdamState::new(2);
        state.update(&mut theta, &[0.5, -4.0], &config);
        // Step 1: m̂ = g, v̂ = g², so θ moves by lr·sign(g)·|g|/(|g| + eps).
        let step1 = [0.01 * 0.5 / (0.5 + 1e-8), -0.01 * 4.0 / (4.0 + 1e-8)];
        assert!((theta[0] - (1.0 - step1[0])).abs() < 1e-15);
        assert!((theta[1] - (-2.0 - step1[1])).abs() < 1e-15);
        state.update(&mut theta, &[0.1, 3.0], &config);
        // Step 2, component 0: m = 0.9·0.05 + 0.1·0.1 = 0.055, m̂ = 0.055/0.19;
        // v = 0.999·0.00025 + 0.001·0.01 = 0.00025975, v̂ = v/(1 − 0.999²) = v/0.001999.
        let m_hat0 = 0.055 / 0.19;
        let v_hat0: f64 = 0.000_259_75 / 0.001_999;
        // Component 1: m = 0.9·(−0.4) + 0.1·3 = −0.06; v = 0.999·0.016 + 0.001·9 = 0.024984.
        let m_hat1 = -0.06 / 0.19;
        let v_hat1: f64 = 0.024_984 / 0.001_999;
        let want0 = 1.0 - step1[0] - 0.01 * m_hat0 / (v_hat0.sqrt() + 1e-8);
        let want1 = -2.0 - step1[1] - 0.01 * m_hat1 / (v_hat1.sqrt() + 1e-8);
        assert!((theta[0] - want0).abs() < 1e-14, "{} vs {want0}", theta[0]);
        assert!((theta[1] - want1).abs() < 1e-14, "{} vs {want1}", theta[1]);
        assert_eq!(state.t, 2);

        // With lr_decay, step 1 is unchanged and step 2 moves by exactly `decay` times
        // as much, step 3 by `decay²` times (same moments, so same m̂/(sqrt(v̂)+eps)).
        let decay = 0.5;
        let decayed = AdamConfig {
            lr_decay: decay,
            ..config.clone()
        };
        let grads = [[0.5, -4.0], [0.1, 3.0], [-0.2, 1.0]];
        let (mut a, mut b) = (vec![1.0, -2.0], vec![1.0, -2.0]);
        let (mut sa, mut sb) = (AdamState::new(2), AdamState::new(2));
        for (step, g) in grads.iter().enumerate() {
            let (a0, b0) = (a.clone(), b.clone());
            assert_eq!(sa.update(&mut a, g, &config), 0.01);
            let rate = sb.update(&mut b, g, &decayed);
            assert_eq!(rate, 0.01 * decay.powi(step as i32), "step {step}");
            for k in 0..2 {
                let want = (a[k] - a0[k]) * decay.powi(step as i32);
                assert!(((b[k] - b0[k]) - want).abs() < 1e-15, "step {step}");
            }
            // Keep both at the same iterate so the moments stay equal.
            b.copy_from_slice(&a);
        }
    }
}
