//! Small dense least-squares problems with analytic Jacobians, for testing and
//! benchmarking the optimizers without the PDE engine.
//!
//! [`LinearLeastSquares`] (`r = Aθ − b`), [`TanhNetwork`] (a 1-hidden-layer tanh
//! network fitted to samples of a function, realizable when the samples come from a
//! teacher network), and [`Rosenbrock`] as residuals `(10(y − x²), 1 − x)`.

use super::linalg;
use super::LeastSquares;
use faer::Par;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A row-major `rows × cols` matrix with entries uniform in `[−1, 1)`, seeded.
pub fn random_matrix(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..rows * cols)
        .map(|_| rng.random::<f64>() * 2.0 - 1.0)
        .collect()
}

/// `p` values spread evenly on a log scale from 1 down to `10^-decades`.
pub fn log_spaced(p: usize, decades: f64) -> Vec<f64> {
    let last = p.saturating_sub(1).max(1) as f64;
    (0..p)
        .map(|i| 10f64.powf(-decades * i as f64 / last))
        .collect()
}

/// A row-major `n × p` matrix `U diag(σ) Vᵀ` with random orthonormal `U`, `V` and the
/// given singular values (rank `σ.len() ≤ min(n, p)`).
pub fn matrix_with_singular_values(n: usize, p: usize, sigmas: &[f64], seed: u64) -> Vec<f64> {
    let k = sigmas.len();
    let u_raw = random_matrix(n, k, seed);
    let v_raw = random_matrix(p, k, seed.wrapping_add(1));
    let u = linalg::thin_q(linalg::jacobian_view(&u_raw, n, k), Par::Seq);
    let v = linalg::thin_q(linalg::jacobian_view(&v_raw, p, k), Par::Seq);
    let mut out = vec![0.0; n * p];
    for i in 0..n {
        for j in 0..p {
            out[i * p + j] = (0..k).map(|c| u[(i, c)] * sigmas[c] * v[(j, c)]).sum();
        }
    }
    out
}

/// `r(θ) = Aθ − b`.
#[derive(Debug, Clone)]
pub struct LinearLeastSquares {
    /// Row-major `N×P`.
    pub a: Vec<f64>,
    /// Length `N`.
    pub b: Vec<f64>,
    /// `N`.
    pub n_rows: usize,
    /// `P`.
    pub n_cols: usize,
}

impl LinearLeastSquares {
    /// A random instance (seeded).
    pub fn random(n_rows: usize, n_cols: usize, seed: u64) -> Self {
        Self {
            a: random_matrix(n_rows, n_cols, seed),
            b: random_matrix(n_rows, 1, seed.wrapping_add(7)),
            n_rows,
            n_cols,
        }
    }
}

impl LeastSquares for LinearLeastSquares {
    fn n_params(&self) -> usize {
        self.n_cols
    }
    fn n_residuals(&self) -> usize {
        self.n_rows
    }
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        (self.residual(theta), self.a.clone())
    }
    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        let p = self.n_cols;
        (0..self.n_rows)
            .map(|i| linalg::dot(&self.a[i * p..(i + 1) * p], theta) - self.b[i])
            .collect()
    }
}

/// A 1-hidden-layer network `u(x) = Σ_k w2_k tanh(w1_k x + b1_k) + b2` fitted to
/// samples `(x_i, y_i)`: `r_i = (u(x_i) − y_i) / sqrt(N)`.
///
/// Parameter layout: `[w1 (H), b1 (H), w2 (H), b2]`, so `P = 3H + 1`.
#[derive(Debug, Clone)]
pub struct TanhNetwork {
    /// Hidden width `H`.
    pub hidden: usize,
    /// Sample inputs.
    pub xs: Vec<f64>,
    /// Sample targets.
    pub ys: Vec<f64>,
}

impl TanhNetwork {
    /// Samples `N` equispaced points of `[−1, 1]` of a *teacher* network of width
    /// `teacher_hidden ≤ hidden` (so the fit is realizable with zero loss); returns the
    /// problem and a seeded random starting point.
    pub fn realizable(
        teacher_hidden: usize,
        hidden: usize,
        n_samples: usize,
        seed: u64,
    ) -> (Self, Vec<f64>) {
        let xs: Vec<f64> = (0..n_samples)
            .map(|i| -1.0 + 2.0 * i as f64 / (n_samples.max(2) - 1) as f64)
            .collect();
        let teacher_net = Self {
            hidden: teacher_hidden,
            xs: xs.clone(),
            ys: Vec::new(),
        };
        let teacher = teacher_net.random_parameters(seed);
        let ys = xs.iter().map(|&x| teacher_net.eval(&teacher, x)).collect();
        let problem = Self { hidden, xs, ys };
        let start = problem.random_parameters(seed.wrapping_add(1000));
        (problem, start)
    }

    /// Samples of `f` at `N` equispaced points of `[−1, 1]`, with a seeded start.
    pub fn fit(
        hidden: usize,
        n_samples: usize,
        f: impl Fn(f64) -> f64,
        seed: u64,
    ) -> (Self, Vec<f64>) {
        let xs: Vec<f64> = (0..n_samples)
            .map(|i| -1.0 + 2.0 * i as f64 / (n_samples.max(2) - 1) as f64)
            .collect();
        let ys = xs.iter().map(|&x| f(x)).collect();
        let problem = Self { hidden, xs, ys };
        let start = problem.random_parameters(seed);
        (problem, start)
    }

    /// Random parameters (weights ~ U[−2, 2), biases ~ U[−1, 1), output weights scaled by 1/sqrt(H)).
    pub fn random_parameters(&self, seed: u64) -> Vec<f64> {
        let h = self.hidden;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut theta = Vec::with_capacity(3 * h + 1);
        theta.extend((0..h).map(|_| 4.0 * rng.random::<f64>() - 2.0));
        theta.extend((0..h).map(|_| 2.0 * rng.random::<f64>() - 1.0));
        let scale = 1.0 / (h as f64).sqrt();
        theta.extend((0..h).map(|_| scale * (2.0 * rng.random::<f64>() - 1.0)));
        theta.push(0.0);
        theta
    }

    /// The network output `u(x)`.
    pub fn eval(&self, theta: &[f64], x: f64) -> f64 {
        let h = self.hidden;
        let (w1, rest) = theta.split_at(h);
        let (b1, rest) = rest.split_at(h);
        let (w2, b2) = rest.split_at(h);
        (0..h)
            .map(|k| w2[k] * (w1[k] * x + b1[k]).tanh())
            .sum::<f64>()
            + b2[0]
    }
}

impl LeastSquares for TanhNetwork {
    fn n_params(&self) -> usize {
        3 * self.hidden + 1
    }
    fn n_residuals(&self) -> usize {
        self.xs.len()
    }
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let h = self.hidden;
        let p = self.n_params();
        let n = self.xs.len();
        let scale = 1.0 / (n as f64).sqrt();
        let mut r = vec![0.0; n];
        let mut j = vec![0.0; n * p];
        for (i, (&x, &y)) in self.xs.iter().zip(&self.ys).enumerate() {
            let row = &mut j[i * p..(i + 1) * p];
            let mut u = theta[3 * h];
            for k in 0..h {
                let (w1, b1, w2) = (theta[k], theta[h + k], theta[2 * h + k]);
                let t = (w1 * x + b1).tanh();
                let dt = 1.0 - t * t;
                u += w2 * t;
                row[k] = scale * w2 * dt * x;
                row[h + k] = scale * w2 * dt;
                row[2 * h + k] = scale * t;
            }
            row[3 * h] = scale;
            r[i] = scale * (u - y);
        }
        (r, j)
    }
    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        let scale = 1.0 / (self.xs.len() as f64).sqrt();
        self.xs
            .iter()
            .zip(&self.ys)
            .map(|(&x, &y)| scale * (self.eval(theta, x) - y))
            .collect()
    }
}

/// A small PINN: `−u'' = π² sin(πx)` on `[0, 1]`, `u(0) = u(1) = 0` (exact `sin πx`),
/// with the [`TanhNetwork`] ansatz `u(x) = Σ_k w2_k tanh(w1_k x + b1_k) + b2` and a
/// hand-derived Jacobian of `u''`. Rows: `sqrt(1/N_in)(−u''(x_i) − f(x_i))` at
/// `N_in` interior midpoints, then `sqrt(1/2) u` at the two boundary points.
#[derive(Debug, Clone)]
pub struct Poisson1d {
    /// Hidden width `H` (`P = 3H + 1`).
    pub hidden: usize,
    /// Interior collocation points.
    pub interior: Vec<f64>,
}

impl Poisson1d {
    /// `n_interior` midpoints of a uniform grid; a seeded random start.
    pub fn new(hidden: usize, n_interior: usize, seed: u64) -> (Self, Vec<f64>) {
        let interior = (0..n_interior)
            .map(|i| (i as f64 + 0.5) / n_interior as f64)
            .collect();
        let problem = Self { hidden, interior };
        let start = TanhNetwork {
            hidden,
            xs: Vec::new(),
            ys: Vec::new(),
        }
        .random_parameters(seed);
        (problem, start)
    }

    /// `u(x)`.
    pub fn eval(&self, theta: &[f64], x: f64) -> f64 {
        TanhNetwork {
            hidden: self.hidden,
            xs: Vec::new(),
            ys: Vec::new(),
        }
        .eval(theta, x)
    }

    /// Relative L2 error against `sin πx` on `n` uniform points.
    pub fn relative_l2_error(&self, theta: &[f64], n: usize) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..n {
            let x = i as f64 / (n - 1) as f64;
            let exact = (std::f64::consts::PI * x).sin();
            num += (self.eval(theta, x) - exact).powi(2);
            den += exact * exact;
        }
        (num / den).sqrt()
    }

    fn rows(&self, theta: &[f64], with_jacobian: bool) -> (Vec<f64>, Vec<f64>) {
        use std::f64::consts::PI;
        let h = self.hidden;
        let p = 3 * h + 1;
        let n_in = self.interior.len();
        let n = n_in + 2;
        let mut r = vec![0.0; n];
        let mut j = if with_jacobian {
            vec![0.0; n * p]
        } else {
            Vec::new()
        };
        let scale_in = 1.0 / (n_in as f64).sqrt();
        for (i, &x) in self.interior.iter().enumerate() {
            let mut upp = 0.0;
            for k in 0..h {
                let (w1, b1, w2) = (theta[k], theta[h + k], theta[2 * h + k]);
                let t = (w1 * x + b1).tanh();
                let t1 = 1.0 - t * t;
                let t2 = -2.0 * t * t1;
                let t3 = -2.0 * t1 * t1 - 2.0 * t * t2;
                upp += w2 * w1 * w1 * t2;
                if with_jacobian {
                    // Row of −u'': ∂/∂w2 = −w1² t'', ∂/∂w1 = −w2(2w1 t'' + w1² t''' x),
                    // ∂/∂b1 = −w2 w1² t'''.
                    let row = &mut j[i * p..(i + 1) * p];
                    row[k] = -scale_in * w2 * (2.0 * w1 * t2 + w1 * w1 * t3 * x);
                    row[h + k] = -scale_in * w2 * w1 * w1 * t3;
                    row[2 * h + k] = -scale_in * w1 * w1 * t2;
                }
            }
            let f = PI * PI * (PI * x).sin();
            r[i] = scale_in * (-upp - f);
        }
        let scale_b = 0.5f64.sqrt();
        for (b, x) in [0.0f64, 1.0].into_iter().enumerate() {
            let row_index = n_in + b;
            r[row_index] = scale_b * self.eval(theta, x);
            if with_jacobian {
                let row = &mut j[row_index * p..(row_index + 1) * p];
                for k in 0..h {
                    let (w1, b1, w2) = (theta[k], theta[h + k], theta[2 * h + k]);
                    let t = (w1 * x + b1).tanh();
                    let t1 = 1.0 - t * t;
                    row[k] = scale_b * w2 * t1 * x;
                    row[h + k] = scale_b * w2 * t1;
                    row[2 * h + k] = scale_b * t;
                }
                row[3 * h] = scale_b;
            }
        }
        (r, j)
    }
}

impl LeastSquares for Poisson1d {
    fn n_params(&self) -> usize {
        3 * self.hidden + 1
    }
    fn n_residuals(&self) -> usize {
        self.interior.len() + 2
    }
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.rows(theta, true)
    }
    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        self.rows(theta, false).0
    }
}

/// Rosenbrock as residuals: `r = (10(θ₁ − θ₀²), 1 − θ₀)`, minimum 0 at `(1, 1)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rosenbrock;

impl LeastSquares for Rosenbrock {
    fn n_params(&self) -> usize {
        2
    }
    fn n_residuals(&self) -> usize {
        2
    }
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        (
            self.residual(theta),
            vec![-20.0 * theta[0], 10.0, -1.0, 0.0],
        )
    }
    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        vec![10.0 * (theta[1] - theta[0] * theta[0]), 1.0 - theta[0]]
    }
}

/// `‖a − b‖ / ‖b‖` (the denominator floored at 1e-300).
pub fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>();
    num.sqrt() / super::linalg::norm(b).max(1e-300)
}

/// Wraps a problem, counting `losses` calls and point-generation queries, optionally
/// negating J (so every natural-gradient direction becomes an ascent direction) or
/// serving J's rows on demand (from the stored J, as a streamed Jacobian asks for them).
pub struct Probe<P> {
    /// The wrapped problem.
    pub inner: P,
    /// `losses` calls so far.
    pub losses_calls: usize,
    /// Whether J is negated.
    pub negate_jacobian: bool,
    /// Whether `residual_and_jacobian_rows` serves rows (else `None`, as by default).
    pub serve_rows: bool,
    /// `residual_and_jacobian_rows` calls served so far.
    pub rows_served: usize,
    /// `points_generation` calls so far.
    pub generation_queries: usize,
}

impl<P> Probe<P> {
    /// `inner`, counted, not otherwise changed.
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            losses_calls: 0,
            negate_jacobian: false,
            serve_rows: false,
            rows_served: 0,
            generation_queries: 0,
        }
    }
}

impl<P: LeastSquares> LeastSquares for Probe<P> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }
    fn n_residuals(&self) -> usize {
        self.inner.n_residuals()
    }
    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (r, mut j) = self.inner.residual_and_jacobian(theta);
        if self.negate_jacobian {
            j.iter_mut().for_each(|v| *v = -*v);
        }
        (r, j)
    }
    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        self.inner.residual(theta)
    }
    fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
        self.losses_calls += 1;
        thetas
            .iter()
            .map(|t| crate::solve::optimizer::half_squared_norm(&self.inner.residual(t)))
            .collect()
    }
    fn residual_and_jacobian_rows(
        &mut self,
        theta: &[f64],
    ) -> Option<(Vec<f64>, Box<dyn super::streamed::JacobianRows>)> {
        if !self.serve_rows {
            return None;
        }
        self.rows_served += 1;
        let (n, p) = (self.n_residuals(), self.n_params());
        let (r, j) = self.residual_and_jacobian(theta);
        Some((r, Box::new(super::streamed::StoredRows::new(j, n, p))))
    }
    fn points_generation(&mut self) -> u64 {
        self.generation_queries += 1;
        self.inner.points_generation()
    }
}

/// `½‖r(θ)‖²`.
pub fn loss_of(problem: &mut dyn LeastSquares, theta: &[f64]) -> f64 {
    crate::solve::optimizer::half_squared_norm(&problem.residual(theta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_jacobian(problem: &mut dyn LeastSquares, theta: &[f64]) {
        let (r, j) = problem.residual_and_jacobian(theta);
        let p = problem.n_params();
        let n = problem.n_residuals();
        assert_eq!(r.len(), n);
        assert_eq!(j.len(), n * p);
        let h = 1e-6;
        for c in 0..p {
            let mut plus = theta.to_vec();
            let mut minus = theta.to_vec();
            plus[c] += h;
            minus[c] -= h;
            let (rp, rm) = (problem.residual(&plus), problem.residual(&minus));
            for i in 0..n {
                let fd = (rp[i] - rm[i]) / (2.0 * h);
                assert!(
                    (fd - j[i * p + c]).abs() < 1e-7 * (1.0 + fd.abs()),
                    "row {i} col {c}"
                );
            }
        }
    }

    #[test]
    fn analytic_jacobians_match_central_differences() {
        let (mut net, theta) = TanhNetwork::realizable(3, 6, 15, 3);
        check_jacobian(&mut net, &theta);
        check_jacobian(&mut Rosenbrock, &[-1.2, 1.0]);
        let (mut pinn, theta) = Poisson1d::new(5, 12, 8);
        check_jacobian(&mut pinn, &theta);
        let mut lin = LinearLeastSquares::random(7, 4, 9);
        check_jacobian(&mut lin, &[0.1, 0.2, -0.3, 0.4]);
    }

    #[test]
    fn prescribed_singular_values_are_reproduced() {
        let sigmas = [5.0, 1.0, 0.01];
        let a = matrix_with_singular_values(9, 6, &sigmas, 4);
        let s = linalg::thin_svd(linalg::jacobian_view(&a, 9, 6), Par::Seq)
            .unwrap()
            .s;
        for (got, want) in s.iter().zip(sigmas) {
            assert!((got - want).abs() < 1e-13);
        }
        assert!(s[3..].iter().all(|v| v.abs() < 1e-13));
    }
}
