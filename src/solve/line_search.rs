//! The line search of the natural-gradient methods: the batched grid
//! `η ∈ {1, ½, …, 2^-k}` with early stopping and warm starts, optionally refined by
//! golden section.

use super::LeastSquares;

/// The line search of the natural-gradient methods (ENGD, SNGD, ANaGRAM).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LineSearchConfig {
    /// Grid `η ∈ {1, ½, …, 2^-k}` with `k = grid_levels`; default 30 (31 points, all
    /// evaluated in one batched `losses` call).
    pub grid_levels: u32,
    /// Golden-section refinement on `[η*/2, min(2η*, 1)]` around the best grid point,
    /// with this many further evaluations; `None` (default) disables it.
    pub golden_section: Option<usize>,
    /// Walk the grid in batches of `batch` points from a starting point and stop once
    /// the best point lies below `L(θ)` and both its neighbours were worse (exact for a
    /// loss unimodal along the grid; usually 3–6 evaluations instead of 32). `false`
    /// evaluates the whole grid in one batch. Default true.
    pub early_stop: bool,
    /// Start the early-stopping search at the previous accepted step size (its grid
    /// point and both neighbours are the first batch) instead of at `η = 1`. Accepted
    /// steps change little from one iteration to the next, so this takes about two
    /// rounds of evaluations where a search from the top took three to five. Default
    /// true.
    pub warm_start: bool,
    /// Points per further batch of the early-stopping search; default 2.
    pub batch: usize,
    /// How many times a step with no non-increasing grid point is retried (after raising
    /// the damping / redrawing the sketch / raising the cut-off); default 8.
    pub max_retries: usize,
    /// ENGD, SNGD and ANaGRAM: instead of searching the grid, try the step at the radius
    /// of a trust region on the step length ([`super::step_region`]; the default).
    /// `None`: the grid (`line_search = grid`). Gradient descent always searches the
    /// grid. Absent in settings saved before the region existed, which read as `None`:
    /// a resumed old run keeps the grid search it started with.
    #[serde(default)]
    pub region: Option<super::step_region::StepRegionConfig>,
}

impl Default for LineSearchConfig {
    fn default() -> Self {
        Self {
            grid_levels: 30,
            golden_section: None,
            early_stop: true,
            warm_start: true,
            batch: 2,
            max_retries: 8,
            region: Some(super::step_region::StepRegionConfig::default()),
        }
    }
}

/// Settings of a run.
/// The result of a grid line search.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSearchResult {
    /// Best step `η*`.
    pub step: f64,
    /// `L(θ − η* d)`.
    pub loss: f64,
    /// `L(θ)`, from the same batched call (the reference for acceptance).
    pub base_loss: f64,
    /// Loss evaluations spent.
    pub evaluations: usize,
}

fn trial_point(theta: &[f64], direction: &[f64], step: f64) -> Vec<f64> {
    theta
        .iter()
        .zip(direction)
        .map(|(t, d)| t - step * d)
        .collect()
}

/// The lowest grid level (`η = 2^-6`) a warm-started line search starts at.
///
/// Steps far below that come from hard stretches of a run where the loss along the line
/// can have several dips: on the nonlinear BVP (SNGD, seed 0) a search started at the
/// previous `η = 2^-25` stopped at a shallow dip there while the search from the top
/// found a deeper one at `2^-12`, and the run crawled up a level per iteration while its
/// damping grew (final error 6.8e-8 against 6.5e-11). Starting no lower than `2^-6`
/// walks down from there as the search from the top would.
pub const WARM_START_LOWEST_LEVEL: usize = 6;

/// `η* = argmin L(θ − η d)` over `η ∈ {1, ½, …, 2^-k}` (batched `losses` calls, the
/// first of which also evaluates `L(θ)`), optionally refined by golden section.
/// Non-finite losses never win; ties go to the larger step. The result may be worse
/// than `L(θ)`: the caller decides acceptance.
///
/// With `early_stop`, the search starts at the grid point nearest `start` (the previous
/// accepted step; `1` starts at the top), or at [`WARM_START_LOWEST_LEVEL`] if that is
/// lower, and evaluates it and its two neighbours, then
/// walks up while the best point is the largest step evaluated, and down while it is
/// the smallest or nothing beats `L(θ)`, `batch` points at a time. It stops once the
/// best point beats `L(θ)` and both its neighbours were evaluated: exact for a loss
/// unimodal along the grid.
pub fn grid_line_search<P: LeastSquares + ?Sized>(
    problem: &mut P,
    theta: &[f64],
    direction: &[f64],
    config: &LineSearchConfig,
    start: f64,
) -> LineSearchResult {
    grid_line_search_from(problem, theta, direction, config, start, None)
}

/// [`grid_line_search`] with `L(θ)` already known (`base_loss`, evaluated by the
/// same batched `losses` path), which its first batch then leaves out.
pub(crate) fn grid_line_search_from<P: LeastSquares + ?Sized>(
    problem: &mut P,
    theta: &[f64],
    direction: &[f64],
    config: &LineSearchConfig,
    start: f64,
    base_loss: Option<f64>,
) -> LineSearchResult {
    let levels = config.grid_levels as usize;
    let steps: Vec<f64> = (0..=levels).map(|k| 0.5f64.powi(k as i32)).collect();
    let mut losses: Vec<Option<f64>> = vec![None; steps.len()];
    // θ itself rides along in the first batch so that acceptance compares losses
    // computed by the same code path (a Jacobian pass may round differently from a
    // forward pass).
    let first: Vec<usize> = if config.early_stop {
        let level = if start > 0.0 && start.is_finite() {
            ((-start.log2()).round().max(0.0) as usize).min(WARM_START_LOWEST_LEVEL)
        } else {
            0
        }
        .min(levels);
        (level.saturating_sub(1)..=(level + 1).min(levels)).collect()
    } else {
        (0..=levels).collect()
    };
    let batch = config.batch.max(1);
    let mut with_base = base_loss.is_none();
    let mut base_loss = base_loss.unwrap_or(f64::NAN);
    let mut evaluations = 0;
    let mut pending = first;
    while !pending.is_empty() {
        let mut thetas: Vec<Vec<f64>> = pending
            .iter()
            .map(|&k| trial_point(theta, direction, steps[k]))
            .collect();
        if with_base {
            thetas.push(theta.to_vec());
        }
        evaluations += thetas.len();
        let mut batch_losses = problem.losses(&thetas);
        if with_base {
            base_loss = batch_losses.pop().unwrap_or(f64::NAN);
            with_base = false;
        }
        for (&k, loss) in pending.iter().zip(batch_losses) {
            losses[k] = Some(if loss.is_finite() {
                loss
            } else {
                f64::INFINITY
            });
        }
        let evaluated: Vec<usize> = (0..steps.len()).filter(|&k| losses[k].is_some()).collect();
        let (Some(&top), Some(&bottom)) = (evaluated.first(), evaluated.last()) else {
            break;
        };
        // The best so far; ties go to the larger step (the smaller level).
        let best = evaluated
            .iter()
            .copied()
            .min_by(|&a, &b| {
                losses[a]
                    .unwrap()
                    .total_cmp(&losses[b].unwrap())
                    .then(a.cmp(&b))
            })
            .unwrap_or(top);
        let best_loss = losses[best].unwrap_or(f64::INFINITY);
        pending = if best_loss < base_loss && best == top && top > 0 {
            (top.saturating_sub(batch)..top).collect()
        } else if best_loss < base_loss && best < bottom {
            Vec::new()
        } else {
            (bottom + 1..(bottom + 1 + batch).min(steps.len())).collect()
        };
    }
    let mut best = LineSearchResult {
        step: 0.0,
        loss: f64::INFINITY,
        base_loss,
        evaluations,
    };
    for (&step, loss) in steps.iter().zip(&losses) {
        if let Some(loss) = *loss {
            if loss.is_finite() && loss < best.loss {
                best.step = step;
                best.loss = loss;
            }
        }
    }
    if let (Some(iterations), true) = (config.golden_section, best.loss.is_finite()) {
        let mut evaluate = |step: f64| -> f64 {
            let loss = problem.losses(&[trial_point(theta, direction, step)])[0];
            if loss.is_finite() {
                loss
            } else {
                f64::INFINITY
            }
        };
        let ratio = 0.5 * (5f64.sqrt() - 1.0);
        let (mut a, mut b) = (0.5 * best.step, (2.0 * best.step).min(1.0));
        let mut x1 = b - ratio * (b - a);
        let mut x2 = a + ratio * (b - a);
        let (mut f1, mut f2) = (evaluate(x1), evaluate(x2));
        best.evaluations += 2;
        for _ in 2..iterations.max(2) {
            if f1 <= f2 {
                b = x2;
                x2 = x1;
                f2 = f1;
                x1 = b - ratio * (b - a);
                f1 = evaluate(x1);
            } else {
                a = x1;
                x1 = x2;
                f1 = f2;
                x2 = a + ratio * (b - a);
                f2 = evaluate(x2);
            }
            best.evaluations += 1;
        }
        for (step, loss) in [(x1, f1), (x2, f2)] {
            if loss < best.loss {
                best.step = step;
                best.loss = loss;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::engd::{self, EngdSolve};
    use crate::solve::linalg;
    use crate::solve::test_problems::{loss_of, LinearLeastSquares, Probe};
    use faer::Par;

    #[test]
    fn settings_saved_before_the_step_region_read_as_the_grid_search() {
        let old = r#"{"grid_levels":30,"golden_section":null,"early_stop":true,"warm_start":true,"batch":2,"max_retries":8}"#;
        let read: LineSearchConfig = serde_json::from_str(old).unwrap();
        assert_eq!(read.region, None);
        assert_eq!(read.grid_levels, 30);
        // The default has the region, and it survives a round trip.
        let default = LineSearchConfig::default();
        assert!(default.region.is_some());
        let json = serde_json::to_string(&default).unwrap();
        assert_eq!(
            serde_json::from_str::<LineSearchConfig>(&json).unwrap(),
            default
        );
    }

    /// A random 30×10 linear least-squares problem (seed `seed`) behind a call-counting
    /// probe, θ = (value, …, value), and the Gauss–Newton step at θ (which lands on
    /// the minimum: `L(θ − η·c·step)` is a parabola in η with its minimum at `η = 1/c`).
    fn linear_problem_and_newton_step(
        seed: u64,
        value: f64,
    ) -> (Probe<LinearLeastSquares>, Vec<f64>, Vec<f64>) {
        let mut problem = Probe::new(LinearLeastSquares::random(30, 10, seed));
        let theta = vec![value; 10];
        let (r, j) = problem.residual_and_jacobian(&theta);
        let jm = linalg::jacobian_view(&j, 30, 10);
        let newton = engd::direction(
            jm,
            &r,
            0.0,
            engd::GramForm::Parameter,
            EngdSolve::Eigen {
                relative_cutoff: 0.0,
            },
            Par::Seq,
        )
        .unwrap();
        (problem, theta, newton.d)
    }

    #[test]
    fn line_search_picks_best_grid_point_in_one_batched_call() {
        // Linear least squares: L(θ − η d) is a parabola in η. With d = 3 × (Gauss-Newton
        // step) its minimizer is η = 1/3, between the grid points ¼ and ½.
        let (mut problem, theta, newton) = linear_problem_and_newton_step(3, 0.5);
        let direction: Vec<f64> = newton.iter().map(|v| 3.0 * v).collect();
        let ls = LineSearchConfig {
            early_stop: false,
            ..LineSearchConfig::default()
        };
        let result = grid_line_search(&mut problem, &theta, &direction, &ls, 1.0);
        assert_eq!(
            problem.losses_calls, 1,
            "the whole grid in one batched call"
        );
        assert_eq!(result.evaluations, 32);
        // The early-stopping search (the default) finds the same step on this unimodal
        // loss from two batches: {1, ½, θ} and {¼, ⅛}.
        problem.losses_calls = 0;
        let early = grid_line_search(
            &mut problem,
            &theta,
            &direction,
            &LineSearchConfig::default(),
            1.0,
        );
        assert_eq!(problem.losses_calls, 2);
        assert_eq!(early.evaluations, 5);
        assert_eq!(early.step, result.step);
        assert_eq!(early.loss, result.loss);
        assert_eq!(early.base_loss, result.base_loss);
        // Independent brute force over the grid.
        let mut best = (f64::INFINITY, 0.0);
        for k in 0..=30 {
            let step = 0.5f64.powi(k);
            let loss = loss_of(&mut problem.inner, &trial_point(&theta, &direction, step));
            if loss < best.0 {
                best = (loss, step);
            }
        }
        assert_eq!(result.step, best.1);
        assert_eq!(result.step, 0.25);
        assert_eq!(result.loss, best.0);
        // Golden section refines towards η = 1/3 and is never worse than the grid.
        let golden = grid_line_search(
            &mut problem,
            &theta,
            &direction,
            &LineSearchConfig {
                golden_section: Some(40),
                ..LineSearchConfig::default()
            },
            1.0,
        );
        assert!(golden.loss <= result.loss);
        assert!((golden.step - 1.0 / 3.0).abs() < 1e-6, "{}", golden.step);
    }

    #[test]
    fn the_warm_started_search_finds_the_grid_minimum_from_any_start() {
        // d = 100 × (Gauss-Newton step): L(θ − η d) is a parabola with its minimum at
        // η = 1/100, and the best grid point is 1/128 (1/64 overshoots further).
        let (mut problem, theta, newton) = linear_problem_and_newton_step(4, 0.3);
        let direction: Vec<f64> = newton.iter().map(|v| 100.0 * v).collect();
        let ls = LineSearchConfig::default();
        // (start, batched calls): from the top the walk down takes five; from 2^-6 one
        // batch of {2^-5, 2^-6, 2^-7} and θ, then one walk down to {2^-8, 2^-9}; starts
        // below 2^-6 begin there too.
        for (start, calls) in [
            (1.0, 5),
            (0.0, 5),
            (1.0 / 16.0, 3),
            (1.0 / 64.0, 2),
            (1.0 / 100.0, 2),
            (1.0 / 128.0, 2),
            (1.0 / 1024.0, 2),
            (1e-30, 2),
        ] {
            problem.losses_calls = 0;
            let search = grid_line_search(&mut problem, &theta, &direction, &ls, start);
            assert_eq!(search.step, 1.0 / 128.0, "start {start}");
            assert_eq!(problem.losses_calls, calls, "start {start}");
            assert_eq!(search.base_loss, loss_of(&mut problem.inner, &theta));
        }
        // d = 3 × (Gauss-Newton step): the minimum is at η = 1/3 and the best grid point
        // is ¼. From 2^-6 the search walks up: {2^-5, 2^-6, 2^-7} and θ, {⅛, 1/16},
        // {½, ¼}.
        let short: Vec<f64> = newton.iter().map(|v| 3.0 * v).collect();
        for (start, calls) in [(1.0 / 64.0, 3), (1.0 / 4.0, 1), (1.0, 2)] {
            problem.losses_calls = 0;
            let search = grid_line_search(&mut problem, &theta, &short, &ls, start);
            assert_eq!(search.step, 0.25, "start {start}");
            assert_eq!(problem.losses_calls, calls, "start {start}");
        }
        // The whole grid agrees.
        let full = grid_line_search(
            &mut problem,
            &theta,
            &direction,
            &LineSearchConfig {
                early_stop: false,
                ..ls
            },
            1.0,
        );
        assert_eq!(full.step, 1.0 / 128.0);
    }
}
