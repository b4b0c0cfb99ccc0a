//! L-BFGS (Nocedal & Wright, Alg. 7.4/7.5) with a strong-Wolfe line search
//! (Alg. 3.5 bracketing + Alg. 3.6 zoom with safeguarded cubic interpolation), on the
//! gradient-only path.

use super::driver::SolveConfig;
use super::linalg::{dot, norm};
use super::optimizer::{checked_loss_and_gradient, Method, Optimizer, StepOutcome};
use super::options::{self, ConfigScalar, OptionSpec};
use super::report::SolveError;
use super::state::{check_lengths, SolverState};
use super::LeastSquares;
use std::collections::VecDeque;

/// L-BFGS settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LbfgsConfig {
    /// History length `m`; default 10.
    pub history: usize,
    /// Sufficient-decrease constant `c₁`; default `1e-4`.
    pub c1: f64,
    /// Curvature constant `c₂`; default `0.9`.
    pub c2: f64,
    /// Function evaluations allowed per line search; default 25.
    pub max_evaluations: usize,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        Self {
            history: 10,
            c1: 1e-4,
            c2: 0.9,
            max_evaluations: 25,
        }
    }
}

/// A point of the 1-D function `φ(α) = L(θ + α p)`: value, slope, and the gradient
/// of `L` there (kept to avoid re-evaluation).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinePoint {
    /// Step `α`.
    pub alpha: f64,
    /// `φ(α)`.
    pub value: f64,
    /// `φ'(α) = ∇L(θ + αp)·p`.
    pub slope: f64,
    /// `∇L(θ + αp)`.
    pub gradient: Vec<f64>,
}

/// Whether `point` satisfies the strong Wolfe conditions relative to `φ(0)`, `φ'(0)`.
pub fn strong_wolfe_holds(point: &LinePoint, value0: f64, slope0: f64, c1: f64, c2: f64) -> bool {
    point.value <= value0 + c1 * point.alpha * slope0 && point.slope.abs() <= c2 * slope0.abs()
}

/// Minimizer of the cubic interpolating `(a, fa, da)`, `(b, fb, db)`, safeguarded into
/// the interior of the interval (bisection if the cubic is unusable).
fn cubic_minimizer(a: &LinePoint, b: &LinePoint) -> f64 {
    let (lo, hi) = if a.alpha < b.alpha {
        (a.alpha, b.alpha)
    } else {
        (b.alpha, a.alpha)
    };
    let d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.alpha - b.alpha);
    let disc = d1 * d1 - a.slope * b.slope;
    let mid = 0.5 * (lo + hi);
    if disc < 0.0 || !disc.is_finite() {
        return mid;
    }
    let d2 = (b.alpha - a.alpha).signum() * disc.sqrt();
    let t = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
    let margin = 0.1 * (hi - lo);
    if t.is_finite() && t > lo + margin && t < hi - margin {
        t
    } else {
        mid
    }
}

/// Strong-Wolfe line search on `φ(α)`; `evaluate(α)` returns `(φ(α), ∇L(θ+αp), φ'(α))`.
///
/// Returns the accepted point and the number of evaluations, or `None` when no point
/// satisfying the conditions was found within the budget.
pub fn strong_wolfe_search(
    mut evaluate: impl FnMut(f64) -> (f64, Vec<f64>, f64),
    value0: f64,
    slope0: f64,
    initial_step: f64,
    config: &LbfgsConfig,
) -> (Option<LinePoint>, usize) {
    let mut evaluations = 0;
    let mut probe = |alpha: f64, evaluations: &mut usize| {
        *evaluations += 1;
        let (value, gradient, slope) = evaluate(alpha);
        LinePoint {
            alpha,
            value,
            slope,
            gradient,
        }
    };
    if slope0 >= 0.0 || !slope0.is_finite() {
        return (None, 0);
    }
    let origin = LinePoint {
        alpha: 0.0,
        value: value0,
        slope: slope0,
        gradient: Vec::new(),
    };
    let mut previous = origin;
    let mut alpha = initial_step;
    let alpha_max = 1e10 * initial_step.max(1.0);
    let zoom = |mut lo: LinePoint,
                mut hi: LinePoint,
                evaluations: &mut usize,
                probe: &mut dyn FnMut(f64, &mut usize) -> LinePoint| {
        while *evaluations < config.max_evaluations {
            let alpha = cubic_minimizer(&lo, &hi);
            let point = probe(alpha, evaluations);
            if !point.value.is_finite()
                || point.value > value0 + config.c1 * alpha * slope0
                || point.value >= lo.value
            {
                hi = point;
            } else {
                if point.slope.abs() <= -config.c2 * slope0 {
                    return Some(point);
                }
                if point.slope * (hi.alpha - lo.alpha) >= 0.0 {
                    hi = lo;
                }
                lo = point;
            }
            if (hi.alpha - lo.alpha).abs() <= 1e-16 * lo.alpha.abs().max(1e-300) {
                break;
            }
        }
        None
    };
    let mut first = true;
    while evaluations < config.max_evaluations {
        let point = probe(alpha, &mut evaluations);
        if !point.value.is_finite()
            || point.value > value0 + config.c1 * alpha * slope0
            || (!first && point.value >= previous.value)
        {
            let result = zoom(previous, point, &mut evaluations, &mut probe);
            return (result, evaluations);
        }
        if point.slope.abs() <= -config.c2 * slope0 {
            return (Some(point), evaluations);
        }
        if point.slope >= 0.0 {
            let result = zoom(point, previous, &mut evaluations, &mut probe);
            return (result, evaluations);
        }
        first = false;
        previous = point;
        alpha = (2.0 * alpha).min(alpha_max);
    }
    (None, evaluations)
}

/// The L-BFGS curvature pairs `(s, y, 1/yᵀs)`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LbfgsMemory {
    pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
}

impl LbfgsMemory {
    /// Empty memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether no pair is stored.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The lengths of the stored vectors (`s` and `y` of each pair), for consistency checks.
    pub fn pair_lengths(&self) -> impl Iterator<Item = usize> + '_ {
        self.pairs.iter().flat_map(|(s, y, _)| [s.len(), y.len()])
    }

    /// Forgets all pairs.
    pub fn clear(&mut self) {
        self.pairs.clear();
    }

    /// Adds a pair if `yᵀs > 0` (always true after a strong-Wolfe step); keeps at most `history`.
    pub fn push(&mut self, s: Vec<f64>, y: Vec<f64>, history: usize) {
        let ys = dot(&y, &s);
        if ys > 0.0 && ys.is_finite() {
            if self.pairs.len() == history.max(1) {
                self.pairs.pop_front();
            }
            self.pairs.push_back((s, y, 1.0 / ys));
        }
    }

    /// The search direction `p = −H g` (two-loop recursion, `H₀ = (sᵀy/yᵀy) I`).
    pub fn direction(&self, gradient: &[f64]) -> Vec<f64> {
        let mut q = gradient.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y, rho) in self.pairs.iter().rev() {
            let a = rho * dot(s, &q);
            for (qi, yi) in q.iter_mut().zip(y) {
                *qi -= a * yi;
            }
            alphas.push(a);
        }
        if let Some((s, y, _)) = self.pairs.back() {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, y, rho), a) in self.pairs.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            for (qi, si) in q.iter_mut().zip(s) {
                *qi += (a - b) * si;
            }
        }
        q.iter_mut().for_each(|v| *v = -*v);
        q
    }
}

/// L-BFGS's state between iterations.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LbfgsState {
    /// The curvature pairs.
    pub memory: LbfgsMemory,
    /// `(L, ∇L)` at the current iterate, from the last line search.
    pub current: Option<(f64, Vec<f64>)>,
    /// The last accepted line point with `φ(0)`, `φ'(0)` (checked by tests).
    pub last_search: Option<(LinePoint, f64, f64)>,
    /// The point-set generation `current` belongs to (not saved: a resumed run
    /// counts its point sets from 0 again, the cache belonging to the first).
    #[serde(skip)]
    pub generation: u64,
}

/// L-BFGS as an optimizer: two-loop direction, strong-Wolfe line search, and a restart
/// from steepest descent before a step is given up.
#[derive(Debug)]
pub struct Lbfgs {
    config: LbfgsConfig,
    state: LbfgsState,
}

impl Lbfgs {
    /// The last accepted line-search point with `(φ(0), φ'(0))`.
    pub fn last_search(&self) -> Option<&(LinePoint, f64, f64)> {
        self.state.last_search.as_ref()
    }
}

impl Optimizer for Lbfgs {
    fn name(&self) -> &'static str {
        LbfgsConfig::NAME
    }

    fn step(
        &mut self,
        problem: &mut dyn LeastSquares,
        theta: &mut [f64],
    ) -> Result<StepOutcome, SolveError> {
        let (c, state) = (&self.config, &mut self.state);
        let (memory, current, last_search) = (
            &mut state.memory,
            &mut state.current,
            &mut state.last_search,
        );
        // New points (a redraw) make the cached loss and gradient stale.
        let generation = problem.points_generation();
        if generation != state.generation {
            *current = None;
            state.generation = generation;
        }
        let (value0, gradient0) = match current.take() {
            Some(cached) => cached,
            None => checked_loss_and_gradient(problem, theta)?,
        };
        let mut retries = 0;
        loop {
            let mut direction = memory.direction(&gradient0);
            let mut slope0 = dot(&direction, &gradient0);
            if slope0 >= 0.0 || !slope0.is_finite() {
                memory.clear();
                direction = gradient0.iter().map(|g| -g).collect();
                slope0 = -dot(&gradient0, &gradient0);
            }
            let initial = if memory.is_empty() {
                (1.0 / norm(&gradient0)).min(1.0)
            } else {
                1.0
            };
            let base = theta.to_vec();
            let (point, _) = strong_wolfe_search(
                |alpha| {
                    let trial: Vec<f64> = base
                        .iter()
                        .zip(&direction)
                        .map(|(t, d)| t + alpha * d)
                        .collect();
                    let (value, gradient) = problem.loss_and_gradient(&trial);
                    let slope = dot(&gradient, &direction);
                    (value, gradient, slope)
                },
                value0,
                slope0,
                initial,
                c,
            );
            match point {
                Some(point) if point.value <= value0 => {
                    let s: Vec<f64> = direction.iter().map(|d| point.alpha * d).collect();
                    let y: Vec<f64> = point
                        .gradient
                        .iter()
                        .zip(&gradient0)
                        .map(|(a, b)| a - b)
                        .collect();
                    for (t, si) in theta.iter_mut().zip(&s) {
                        *t += si;
                    }
                    memory.push(s, y, c.history);
                    *current = Some((point.value, point.gradient.clone()));
                    let outcome = StepOutcome {
                        loss: point.value,
                        step_size: point.alpha,
                        damping: None,
                        rank: None,
                        retries,
                        accepted: true,
                        cg_iterations: None,
                        jacobian_passes: None,
                    };
                    *last_search = Some((point, value0, slope0));
                    return Ok(outcome);
                }
                _ if !memory.is_empty() => {
                    // Restart from steepest descent before giving up.
                    memory.clear();
                    retries += 1;
                }
                _ => {
                    *current = Some((value0, gradient0));
                    return Ok(StepOutcome {
                        loss: value0,
                        step_size: 0.0,
                        damping: None,
                        rank: None,
                        retries: retries + 1,
                        accepted: false,
                        cg_iterations: None,
                        jacobian_passes: None,
                    });
                }
            }
        }
    }

    fn state(&self) -> SolverState {
        SolverState::new(LbfgsConfig::NAME, &self.state)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Method for LbfgsConfig {
    const NAME: &'static str = "lbfgs";
    const OPTIONS: &'static [OptionSpec] = &[OptionSpec {
        key: "history",
        default: "10",
        value: "COUNT",
        help: "number of curvature pairs kept",
    }];
    const LINE_SEARCH: bool = false;

    fn set_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String> {
        match key {
            "history" => self.history = options::count(value)?,
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
            None => LbfgsState {
                memory: LbfgsMemory::new(),
                current: None,
                last_search: None,
                generation: 0,
            },
        };
        Ok(Box::new(Lbfgs {
            config: self.clone(),
            state,
        }))
    }

    fn check_state(state: &SolverState, n_params: usize) -> Result<(), SolveError> {
        let state: LbfgsState = state.decode(Self::NAME)?;
        let memory = state.memory.pair_lengths().map(|n| ("memory pair", n));
        let current = state
            .current
            .iter()
            .map(|(_, g)| ("cached gradient", g.len()));
        let search = state
            .last_search
            .iter()
            .map(|(p, _, _)| ("line point gradient", p.gradient.len()));
        check_lengths(memory.chain(current).chain(search), n_params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::test_problems::Rosenbrock;
    use crate::solve::LeastSquares;

    /// `r(θ) = θ − target`, whose target moves when the points are "redrawn".
    struct MovingTarget {
        target: Vec<f64>,
        generation: u64,
    }

    impl LeastSquares for MovingTarget {
        fn n_params(&self) -> usize {
            self.target.len()
        }
        fn n_residuals(&self) -> usize {
            self.target.len()
        }
        fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
            let n = theta.len();
            let mut j = vec![0.0; n * n];
            for i in 0..n {
                j[i * n + i] = 1.0;
            }
            (self.residual(theta), j)
        }
        fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
            theta.iter().zip(&self.target).map(|(t, c)| t - c).collect()
        }
        fn points_generation(&mut self) -> u64 {
            self.generation
        }
    }

    #[test]
    fn a_redraw_drops_the_cached_loss_and_gradient() {
        let mut problem = MovingTarget {
            target: vec![1.0, -2.0],
            generation: 0,
        };
        let mut solver = LbfgsConfig::default()
            .build(&SolveConfig::default(), None)
            .unwrap();
        let mut theta = vec![0.0, 0.0];
        solver.step(&mut problem, &mut theta).unwrap();
        // New points: the loss at the current θ is now that of the new target, and
        // the next step must start from it, not from the cached value.
        problem.target = vec![3.0, 5.0];
        problem.generation = 1;
        let loss_now = 0.5 * problem.residual(&theta).iter().map(|r| r * r).sum::<f64>();
        solver.step(&mut problem, &mut theta).unwrap();
        let lbfgs = solver.as_any().downcast_ref::<Lbfgs>().unwrap();
        let (_, value0, slope0) = lbfgs.last_search().unwrap();
        assert_eq!(*value0, loss_now);
        assert!(*slope0 < 0.0);
    }

    /// Through `solve` (which hands the optimizer a forwarding wrapper), L-BFGS still
    /// sees the problem's point generation: a redraw between iterations drops its cache.
    #[test]
    fn solve_passes_the_point_generation_through_to_lbfgs() {
        let mut problem = crate::solve::test_problems::Probe::new(MovingTarget {
            target: vec![1.0, -2.0],
            generation: 0,
        });
        let config = SolveConfig {
            optimizer: crate::solve::OptimizerConfig::Lbfgs(LbfgsConfig::default()),
            max_iterations: 3,
            ..SolveConfig::default()
        };
        let mut theta = vec![0.0, 0.0];
        crate::solve::solve(&mut problem, &mut theta, &config, |_, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        let asked = problem.generation_queries;
        assert!(asked >= 3, "asked {asked} times");
    }

    #[test]
    fn accepted_steps_satisfy_strong_wolfe_on_rosenbrock() {
        let config = LbfgsConfig::default();
        let mut problem = Rosenbrock;
        let mut theta = vec![-1.2, 1.0];
        let (mut value, mut gradient) = problem.loss_and_gradient(&theta);
        let mut memory = LbfgsMemory::new();
        let mut accepted = 0;
        for iteration in 0..200 {
            let p = memory.direction(&gradient);
            let slope0 = dot(&p, &gradient);
            assert!(slope0 < 0.0, "descent direction at iteration {iteration}");
            let initial = if memory.is_empty() {
                1.0 / crate::solve::linalg::norm(&gradient)
            } else {
                1.0
            };
            let base = theta.clone();
            let (point, _) = strong_wolfe_search(
                |alpha| {
                    let trial: Vec<f64> = base.iter().zip(&p).map(|(t, d)| t + alpha * d).collect();
                    let (v, g) = problem.loss_and_gradient(&trial);
                    let s = dot(&g, &p);
                    (v, g, s)
                },
                value,
                slope0,
                initial,
                &config,
            );
            let Some(point) = point else { break };
            // Recompute independently at the accepted step and check both conditions.
            let trial: Vec<f64> = base
                .iter()
                .zip(&p)
                .map(|(t, d)| t + point.alpha * d)
                .collect();
            let (v, g) = problem.loss_and_gradient(&trial);
            let check = LinePoint {
                alpha: point.alpha,
                value: v,
                slope: dot(&g, &p),
                gradient: g.clone(),
            };
            assert!(
                strong_wolfe_holds(&check, value, slope0, config.c1, config.c2),
                "iteration {iteration}"
            );
            accepted += 1;
            let s: Vec<f64> = p.iter().map(|d| point.alpha * d).collect();
            let y: Vec<f64> = g.iter().zip(&gradient).map(|(a, b)| a - b).collect();
            memory.push(s, y, config.history);
            theta = trial;
            value = v;
            gradient = g;
            if value < 1e-20 {
                break;
            }
        }
        assert!(accepted > 10);
        assert!(
            value < 1e-16,
            "Rosenbrock loss {value} after {accepted} steps"
        );
        assert!((theta[0] - 1.0).abs() < 1e-7 && (theta[1] - 1.0).abs() < 1e-7);
    }

    #[test]
    fn two_loop_recursion_matches_secant_condition() {
        // With one pair, H y = s must hold (secant equation of BFGS).
        let mut memory = LbfgsMemory::new();
        let s = vec![0.3, -0.2, 0.5];
        let y = vec![0.9, -0.1, 0.4];
        memory.push(s.clone(), y.clone(), 10);
        let hy = memory.direction(&y);
        for (a, b) in hy.iter().zip(&s) {
            assert!((-a - b).abs() < 1e-14);
        }
    }
}
