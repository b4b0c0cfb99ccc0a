//! Moré–Garbow–Hillstrom test problems ("Testing unconstrained optimization software",
//! ACM TOMS 7, 1981) with analytic Jacobians, as [`LeastSquares`] problems: the set
//! MINPACK's `lmder` is tested on, for testing the Gauss–Newton globalizations.
//!
//! Conventions: MGH write `F(x) = Σ f_i(x)²`; here the residual is `r = f`, so the loss
//! `L = ½‖r‖²` is `F/2`. Each [`MghProblem`] records its standard starting point and
//! the minimum reached from it as published.

use super::LeastSquares;

/// A Moré–Garbow–Hillstrom problem: `m` residuals `f_i(x)` in `n` variables.
#[derive(Debug, Clone, Copy)]
pub struct MghProblem {
    /// The problem's name in MGH.
    pub name: &'static str,
    /// Number of variables `n`.
    pub n: usize,
    /// Number of residuals `m`.
    pub m: usize,
    /// The standard starting point (length n).
    pub start: &'static [f64],
    /// The published minimum of `F = Σ f_i²` reached from the standard start.
    pub minimum: f64,
    residuals: fn(&[f64]) -> Vec<f64>,
    jacobian: fn(&[f64]) -> Vec<f64>,
}

impl MghProblem {
    /// `f(x)` (length m).
    pub fn residuals(&self, x: &[f64]) -> Vec<f64> {
        (self.residuals)(x)
    }

    /// `∂f/∂x` (m×n, row-major).
    pub fn jacobian(&self, x: &[f64]) -> Vec<f64> {
        (self.jacobian)(x)
    }

    /// `F(x) = Σ f_i(x)²`.
    pub fn sum_of_squares(&self, x: &[f64]) -> f64 {
        self.residuals(x).iter().map(|v| v * v).sum()
    }
}

impl LeastSquares for MghProblem {
    fn n_params(&self) -> usize {
        self.n
    }
    fn n_residuals(&self) -> usize {
        self.m
    }
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        (self.residuals(theta), self.jacobian(theta))
    }
    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        self.residuals(theta)
    }
}

/// MGH 1, Rosenbrock: `f = (10(x₂ − x₁²), 1 − x₁)`; `F* = 0` at `(1, 1)`.
pub const ROSENBROCK: MghProblem = MghProblem {
    name: "Rosenbrock",
    n: 2,
    m: 2,
    start: &[-1.2, 1.0],
    minimum: 0.0,
    residuals: |x| vec![10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0]],
    jacobian: |x| vec![-20.0 * x[0], 10.0, -1.0, 0.0],
};

/// MGH 2, Freudenstein and Roth: `f₁ = −13 + x₁ + ((5 − x₂)x₂ − 2)x₂`,
/// `f₂ = −29 + x₁ + ((x₂ + 1)x₂ − 14)x₂`; `F = 0` at `(5, 4)`, and the local minimum
/// `F = 48.98425…` at `(11.41…, −0.8968…)` is the one MINPACK's `lmder` reaches from the
/// standard start (final ‖f‖ = 6.9988…); it is recorded here.
pub const FREUDENSTEIN_ROTH: MghProblem = MghProblem {
    name: "Freudenstein and Roth",
    n: 2,
    m: 2,
    start: &[0.5, -2.0],
    minimum: 48.984_253_679_24,
    residuals: |x| {
        vec![
            -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1],
            -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1],
        ]
    },
    jacobian: |x| {
        vec![
            1.0,
            x[1] * (10.0 - 3.0 * x[1]) - 2.0,
            1.0,
            x[1] * (2.0 + 3.0 * x[1]) - 14.0,
        ]
    },
};

/// MGH 4, Brown badly scaled: `f = (x₁ − 10⁶, x₂ − 2·10⁻⁶, x₁x₂ − 2)`; `F* = 0` at
/// `(10⁶, 2·10⁻⁶)`.
pub const BROWN_BADLY_SCALED: MghProblem = MghProblem {
    name: "Brown badly scaled",
    n: 2,
    m: 3,
    start: &[1.0, 1.0],
    minimum: 0.0,
    residuals: |x| vec![x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0],
    jacobian: |x| vec![1.0, 0.0, 0.0, 1.0, x[1], x[0]],
};

/// MGH 5, Beale: `f_i = y_i − x₁(1 − x₂^i)`, `y = (1.5, 2.25, 2.625)`; `F* = 0` at
/// `(3, 0.5)`.
pub const BEALE: MghProblem = MghProblem {
    name: "Beale",
    n: 2,
    m: 3,
    start: &[1.0, 1.0],
    minimum: 0.0,
    residuals: |x| {
        [1.5, 2.25, 2.625]
            .iter()
            .enumerate()
            .map(|(k, y)| y - x[0] * (1.0 - x[1].powi(k as i32 + 1)))
            .collect()
    },
    jacobian: |x| {
        (1..=3)
            .flat_map(|i| {
                [
                    -(1.0 - x[1].powi(i)),
                    x[0] * f64::from(i) * x[1].powi(i - 1),
                ]
            })
            .collect()
    },
};

/// MGH 6, Jennrich and Sampson with `m = 10`: `f_i = 2 + 2i − (e^{i x₁} + e^{i x₂})`;
/// `F* = 124.362…` at `x₁ = x₂ = 0.2578…`.
pub const JENNRICH_SAMPSON: MghProblem = MghProblem {
    name: "Jennrich and Sampson",
    n: 2,
    m: 10,
    start: &[0.3, 0.4],
    minimum: 124.362_182_355_6,
    residuals: |x| {
        (1..=10)
            .map(|i| {
                let t = f64::from(i);
                2.0 + 2.0 * t - ((t * x[0]).exp() + (t * x[1]).exp())
            })
            .collect()
    },
    jacobian: |x| {
        (1..=10)
            .flat_map(|i| {
                let t = f64::from(i);
                [-t * (t * x[0]).exp(), -t * (t * x[1]).exp()]
            })
            .collect()
    },
};

/// `θ(x₁, x₂)` of the helical valley: `atan(x₂/x₁)/2π`, plus ½ when `x₁ < 0`,
/// `±¼` on `x₁ = 0`.
fn helical_angle(x1: f64, x2: f64) -> f64 {
    let turn = std::f64::consts::TAU;
    if x1 > 0.0 {
        (x2 / x1).atan() / turn
    } else if x1 < 0.0 {
        (x2 / x1).atan() / turn + 0.5
    } else {
        0.25 * x2.signum()
    }
}

/// MGH 7, helical valley: `f = (10(x₃ − 10θ(x₁, x₂)), 10(√(x₁² + x₂²) − 1), x₃)`;
/// `F* = 0` at `(1, 0, 0)`.
pub const HELICAL_VALLEY: MghProblem = MghProblem {
    name: "Helical valley",
    n: 3,
    m: 3,
    start: &[-1.0, 0.0, 0.0],
    minimum: 0.0,
    residuals: |x| {
        vec![
            10.0 * (x[2] - 10.0 * helical_angle(x[0], x[1])),
            10.0 * ((x[0] * x[0] + x[1] * x[1]).sqrt() - 1.0),
            x[2],
        ]
    },
    jacobian: |x| {
        let radius2 = x[0] * x[0] + x[1] * x[1];
        let turn = std::f64::consts::TAU;
        let radius = radius2.sqrt();
        vec![
            100.0 * x[1] / (turn * radius2),
            -100.0 * x[0] / (turn * radius2),
            10.0,
            10.0 * x[0] / radius,
            10.0 * x[1] / radius,
            0.0,
            0.0,
            0.0,
            1.0,
        ]
    },
};

/// MGH 12, Box three-dimensional with `m = 10`:
/// `f_i = e^{−t_i x₁} − e^{−t_i x₂} − x₃(e^{−t_i} − e^{−10 t_i})`, `t_i = i/10`;
/// `F* = 0` at `(1, 10, 1)`, `(10, 1, −1)` and on the line `x₁ = x₂, x₃ = 0`.
pub const BOX_3D: MghProblem = MghProblem {
    name: "Box three-dimensional",
    n: 3,
    m: 10,
    start: &[0.0, 10.0, 20.0],
    minimum: 0.0,
    residuals: |x| {
        (1..=10)
            .map(|i| {
                let t = 0.1 * f64::from(i);
                (-t * x[0]).exp() - (-t * x[1]).exp() - x[2] * ((-t).exp() - (-10.0 * t).exp())
            })
            .collect()
    },
    jacobian: |x| {
        (1..=10)
            .flat_map(|i| {
                let t = 0.1 * f64::from(i);
                [
                    -t * (-t * x[0]).exp(),
                    t * (-t * x[1]).exp(),
                    (-10.0 * t).exp() - (-t).exp(),
                ]
            })
            .collect()
    },
};

/// MGH 13, Powell singular: `f = (x₁ + 10x₂, √5(x₃ − x₄), (x₂ − 2x₃)², √10(x₁ − x₄)²)`;
/// `F* = 0` at the origin, where the Jacobian is singular (rank 2), so Gauss–Newton
/// converges only linearly there.
pub const POWELL_SINGULAR: MghProblem = MghProblem {
    name: "Powell singular",
    n: 4,
    m: 4,
    start: &[3.0, -1.0, 0.0, 1.0],
    minimum: 0.0,
    residuals: |x| {
        vec![
            x[0] + 10.0 * x[1],
            5f64.sqrt() * (x[2] - x[3]),
            (x[1] - 2.0 * x[2]).powi(2),
            10f64.sqrt() * (x[0] - x[3]).powi(2),
        ]
    },
    jacobian: |x| {
        let a = 2.0 * (x[1] - 2.0 * x[2]);
        let b = 2.0 * 10f64.sqrt() * (x[0] - x[3]);
        let s5 = 5f64.sqrt();
        vec![
            1.0,
            10.0,
            0.0,
            0.0, //
            0.0,
            0.0,
            s5,
            -s5, //
            0.0,
            a,
            -2.0 * a,
            0.0, //
            b,
            0.0,
            0.0,
            -b,
        ]
    },
};

/// MGH 14, Wood: `f = (10(x₂ − x₁²), 1 − x₁, √90(x₄ − x₃²), 1 − x₃, √10(x₂ + x₄ − 2),
/// (x₂ − x₄)/√10)`; `F* = 0` at `(1, 1, 1, 1)`.
pub const WOOD: MghProblem = MghProblem {
    name: "Wood",
    n: 4,
    m: 6,
    start: &[-3.0, -1.0, -3.0, -1.0],
    minimum: 0.0,
    residuals: |x| {
        vec![
            10.0 * (x[1] - x[0] * x[0]),
            1.0 - x[0],
            90f64.sqrt() * (x[3] - x[2] * x[2]),
            1.0 - x[2],
            10f64.sqrt() * (x[1] + x[3] - 2.0),
            (x[1] - x[3]) / 10f64.sqrt(),
        ]
    },
    jacobian: |x| {
        let s90 = 90f64.sqrt();
        let s10 = 10f64.sqrt();
        vec![
            -20.0 * x[0],
            10.0,
            0.0,
            0.0, //
            -1.0,
            0.0,
            0.0,
            0.0, //
            0.0,
            0.0,
            -2.0 * s90 * x[2],
            s90, //
            0.0,
            0.0,
            -1.0,
            0.0, //
            0.0,
            s10,
            0.0,
            s10, //
            0.0,
            1.0 / s10,
            0.0,
            -1.0 / s10,
        ]
    },
};

/// All the problems of this module.
pub const ALL: [MghProblem; 9] = [
    ROSENBROCK,
    FREUDENSTEIN_ROTH,
    BROWN_BADLY_SCALED,
    BEALE,
    JENNRICH_SAMPSON,
    HELICAL_VALLEY,
    BOX_3D,
    POWELL_SINGULAR,
    WOOD,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every analytic Jacobian agrees with central differences at the standard start
    /// and at a second point, to 1e-6 relative to the largest entry (the truncation
    /// error is O(h²) with h = 1e-6·max(1, |x|)) plus the rounding error of the
    /// difference quotient.
    #[test]
    fn jacobians_match_central_differences() {
        for problem in ALL {
            let shifted: Vec<f64> = problem
                .start
                .iter()
                .enumerate()
                .map(|(k, v)| v * 0.9 + 0.05 * (k as f64 + 1.0))
                .collect();
            for x in [problem.start.to_vec(), shifted] {
                let jac = problem.jacobian(&x);
                assert_eq!(jac.len(), problem.m * problem.n, "{}", problem.name);
                let scale = jac.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                for k in 0..problem.n {
                    let h = 1e-6 * x[k].abs().max(1.0);
                    let mut plus = x.clone();
                    let mut minus = x.clone();
                    plus[k] += h;
                    minus[k] -= h;
                    let fp = problem.residuals(&plus);
                    let fm = problem.residuals(&minus);
                    for i in 0..problem.m {
                        let fd = (fp[i] - fm[i]) / (2.0 * h);
                        let err = (fd - jac[i * problem.n + k]).abs() / scale;
                        // Truncation O(h²) plus the rounding of f, eps·|f|/h (which
                        // dominates for Brown's f₁ = x₁ − 10⁶ at x₁ = 1).
                        let rounding = 4.0 * f64::EPSILON * fp[i].abs().max(fm[i].abs()) / h;
                        let tol = 1e-6 + rounding / scale;
                        assert!(err < tol, "{} ∂f{i}/∂x{k} at {x:?}: {err:e}", problem.name);
                    }
                }
            }
        }
    }

    /// The recorded minima are attained where MGH say they are.
    #[test]
    fn recorded_minima_hold_at_the_published_minimizers() {
        assert_eq!(ROSENBROCK.sum_of_squares(&[1.0, 1.0]), 0.0);
        assert_eq!(FREUDENSTEIN_ROTH.sum_of_squares(&[5.0, 4.0]), 0.0);
        assert_eq!(BROWN_BADLY_SCALED.sum_of_squares(&[1e6, 2e-6]), 0.0);
        assert_eq!(BEALE.sum_of_squares(&[3.0, 0.5]), 0.0);
        assert_eq!(HELICAL_VALLEY.sum_of_squares(&[1.0, 0.0, 0.0]), 0.0);
        assert!(BOX_3D.sum_of_squares(&[1.0, 10.0, 1.0]) < 1e-30);
        assert_eq!(POWELL_SINGULAR.sum_of_squares(&[0.0; 4]), 0.0);
        assert_eq!(WOOD.sum_of_squares(&[1.0; 4]), 0.0);
        // Jennrich–Sampson: on x₁ = x₂ = a, F(a) = Σ (2 + 2i − 2e^{ia})²; its minimum
        // by Newton's method on F'(a) = 0 must be the recorded one.
        let mut a: f64 = 0.25;
        for _ in 0..50 {
            let (mut d1, mut d2) = (0.0, 0.0);
            for i in 1..=10 {
                let t = f64::from(i);
                let e = (t * a).exp();
                let f = 2.0 + 2.0 * t - 2.0 * e;
                // F = Σ f², F' = Σ 2 f f', f' = −2t e, f'' = −2t² e.
                d1 += 2.0 * f * (-2.0 * t * e);
                d2 += 2.0 * ((-2.0 * t * e).powi(2) + f * (-2.0 * t * t * e));
            }
            a -= d1 / d2;
        }
        let f_min = JENNRICH_SAMPSON.sum_of_squares(&[a, a]);
        assert!((a - 0.2578).abs() < 1e-4, "{a}");
        assert!(
            (f_min - JENNRICH_SAMPSON.minimum).abs() < 1e-9 * f_min,
            "{f_min}"
        );
        // Freudenstein–Roth's local minimum: a stationary point with F = 48.98…
        let x = [11.412_778_986_902_1, -0.896_805_253_274_477];
        let f = FREUDENSTEIN_ROTH.residuals(&x);
        let j = FREUDENSTEIN_ROTH.jacobian(&x);
        let gradient = [f[0] * j[0] + f[1] * j[2], f[0] * j[1] + f[1] * j[3]];
        assert!(gradient.iter().all(|g| g.abs() < 1e-9), "{gradient:?}");
        let value = FREUDENSTEIN_ROTH.sum_of_squares(&x);
        assert!(
            (value - FREUDENSTEIN_ROTH.minimum).abs() < 1e-10 * value,
            "{value}"
        );
    }
}
