//! A trust region on the step length along a natural-gradient direction, judged by the
//! gain ratio of the actual to the predicted decrease (ALGORITHMS.md §4.1), with the
//! grid line search as its fallback.
//!
//! The direction `d` is the method's own (ENGD's, SNGD's or ANaGRAM's, with their light
//! damping), the step is `θ⁺ = θ − η d`, and the model is first order:
//! `pred = η gᵀd` with `g = Jᵀr`. The gain ratio `ρ = ared / pred` then says where the
//! minimum along the ray lies: if the loss is a parabola along it, `L(θ − t d) = L(θ) −
//! t gᵀd + c t²`, one trial at `t = η` gives `c = gᵀd (1 − ρ)/η` and the minimum at
//! `t* = η / (2(1 − ρ))` — `ρ = ½` at the minimum, `ρ → 1` far before it, `ρ < 0` past
//! the point where the loss is back at `L(θ)`. [`StepRegion::second_trial`] asks for a
//! second trial when `t*` is more than a factor two from `η`, and
//! [`StepRegion::accepted`] moves `η` to `t*` within bounds for the next step. A
//! rejected trial is handed to the grid line search (`solve::natural`): early in a run
//! the loss along the ray can have a narrow dip close to θ and a deeper one further
//! out, which no parabola through one trial sees.
//!
//! Why not the Levenberg–Marquardt region on these methods: it reaches its `ρ ≈ ½` by
//! raising `λ`, which suppresses the components of `d` along small singular values of
//! J — the ones a PINN needs — so it stops one to two orders short (docs/optimizers.md,
//! "Levenberg–Marquardt trust region"). Moving the length keeps every component of the
//! direction.

/// Settings of the step-length trust region.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct StepRegionConfig {
    /// The largest radius `η`; default 1 (the Gauss–Newton step).
    pub eta_max: f64,
    /// The smallest radius; default `2^-30` (the grid line search's last point).
    pub eta_min: f64,
    /// The most `η` grows after an accepted step; default 4.
    pub growth: f64,
    /// The smallest radius a step starts at; default `2^-6`, as the grid line search's
    /// warm start ([`super::line_search::WARM_START_LOWEST_LEVEL`]).
    pub eta_start_min: f64,
}

impl Default for StepRegionConfig {
    fn default() -> Self {
        Self {
            eta_max: 1.0,
            eta_min: 0.5f64.powi(30),
            growth: 4.0,
            eta_start_min: 0.5f64.powi(6),
        }
    }
}

/// The gain ratio `ρ = ared / pred` of the trial `θ − η d` with `pred = η gᵀd`
/// (`slope = gᵀd > 0`).
pub fn step_gain_ratio(actual: f64, eta: f64, slope: f64) -> f64 {
    actual / (eta * slope)
}

/// The minimizer `η / (2(1 − ρ))` of the parabola through `L(θ)`, its slope `−gᵀd` and
/// the trial at `η` with gain ratio `ρ`; `+∞` when `ρ ≥ 1` (the loss falls at least as
/// fast as the line: no curvature upward seen).
pub fn parabola_minimizer(eta: f64, rho: f64) -> f64 {
    if rho >= 1.0 {
        f64::INFINITY
    } else {
        eta / (2.0 * (1.0 - rho))
    }
}

/// The radius `η` and the rules that move it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRegion {
    /// The current radius.
    pub eta: f64,
    /// The settings.
    pub config: StepRegionConfig,
}

impl StepRegion {
    /// A region of radius `eta` (clamped to the configured bounds; 1 if not finite or
    /// not positive).
    pub fn new(config: StepRegionConfig, eta: Option<f64>) -> Self {
        let eta = eta
            .filter(|e| e.is_finite() && *e > 0.0)
            .unwrap_or(config.eta_max)
            .clamp(config.eta_start_min.max(config.eta_min), config.eta_max);
        Self { eta, config }
    }

    /// The radius of a second trial within the step after the trial at `η` was accepted
    /// with gain ratio `rho`, when the parabola puts the minimum well away from `η`:
    /// - `ρ > ¾`: beyond `2η` (the loss still falls about linearly), so
    ///   `min(growth·η, eta_max)` is tried (`None` at `eta_max`);
    /// - `ρ < ¼`: below `⅔η` (the trial went most of the way up the far side), so the
    ///   minimizer `η/(2(1 − ρ))` itself is tried.
    ///
    /// The caller keeps the better of the two trials. `None` for `ρ` in `[¼, ¾]`, where
    /// the trial is within a factor of two of the minimum.
    pub fn second_trial(&self, rho: f64) -> Option<f64> {
        let c = self.config;
        if rho > 0.75 {
            (self.eta < c.eta_max).then(|| (self.eta * c.growth).min(c.eta_max))
        } else if rho < 0.25 {
            Some(parabola_minimizer(self.eta, rho.max(0.0)).max(c.eta_min))
        } else {
            None
        }
    }

    /// The trial at the current `η` was accepted with gain ratio `rho ≥ 0`: the next
    /// radius is the parabola's minimizer, at most `growth` times larger and at most
    /// `eta_max` (it is at least `η/2` since `ρ ≥ 0`).
    pub fn accepted(&mut self, rho: f64) {
        let c = self.config;
        let next = parabola_minimizer(self.eta, rho.max(0.0));
        self.eta = next.min(self.eta * c.growth).min(c.eta_max).max(c.eta_min);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `L(t) = L0 − s t + c t²` along the ray: the actual reduction at `t`.
    fn parabola(s: f64, c: f64) -> impl Fn(f64) -> f64 {
        move |t| s * t - c * t * t
    }

    #[test]
    fn one_trial_on_a_parabola_finds_its_minimum() {
        // Minimum at t* = s/(2c) = 0.15625; any trial within the bounds lands on it.
        let (s, c) = (2.5, 8.0);
        let ared = parabola(s, c);
        for eta in [0.1, 0.15625, 0.2, 0.3] {
            let rho = step_gain_ratio(ared(eta), eta, s);
            assert!(
                (parabola_minimizer(eta, rho) - 0.15625).abs() < 1e-15,
                "{eta}"
            );
        }
        // At the minimum the gain ratio is ½.
        assert!((step_gain_ratio(ared(0.15625), 0.15625, s) - 0.5).abs() < 1e-15);
        let mut region = StepRegion::new(StepRegionConfig::default(), Some(0.1));
        region.accepted(step_gain_ratio(ared(0.1), 0.1, s));
        assert!((region.eta - 0.15625).abs() < 1e-15);
        // Close to the zero crossing (t = 2 t*) the second trial is the minimum itself.
        let region = StepRegion::new(StepRegionConfig::default(), Some(0.3));
        let rho = step_gain_ratio(ared(0.3), 0.3, s);
        assert!(rho < 0.25);
        assert!((region.second_trial(rho).unwrap() - 0.15625).abs() < 1e-15);
    }

    #[test]
    fn the_radius_moves_within_its_bounds() {
        let config = StepRegionConfig::default();
        // A linear loss (ρ = 1): grow by `growth`, never past η_max.
        let mut region = StepRegion::new(config, Some(0.02));
        region.accepted(1.0);
        assert_eq!(region.eta, 0.08);
        // A step starts no lower than `eta_start_min`.
        assert_eq!(StepRegion::new(config, Some(1e-9)).eta, 1.0 / 64.0);
        let mut region = StepRegion::new(config, Some(0.5));
        region.accepted(1.0);
        assert_eq!(region.eta, 1.0);
        // ρ = 0 accepted: the minimum is at η/2.
        let mut region = StepRegion::new(config, Some(0.5));
        region.accepted(0.0);
        assert_eq!(region.eta, 0.25);
        // A second trial only when the minimum is more than a factor 2 away.
        let region = StepRegion::new(config, Some(0.25));
        assert_eq!(region.second_trial(0.5), None);
        assert_eq!(region.second_trial(0.9), Some(1.0));
        assert_eq!(region.second_trial(0.1), Some(0.25 / 1.8));
        assert_eq!(region.second_trial(0.0), Some(0.125));
        assert_eq!(StepRegion::new(config, Some(1.0)).second_trial(0.9), None);
        // Bad radii fall back to η_max.
        assert_eq!(StepRegion::new(config, Some(f64::NAN)).eta, 1.0);
        assert_eq!(StepRegion::new(config, None).eta, 1.0);
    }
}
