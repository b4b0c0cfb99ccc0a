//! SNGD: sketchy natural gradient (Best McKay et al. 2025, Algorithm 1).
//!
//! Each step draws a fresh Gaussian `M ∈ R^{P×l}` (`l = r + p`), forms
//! `A = G M = Jᵀ(J M)` without ever forming `G = JᵀJ`, takes a thin QR `A = QR`, and
//! builds the small matrix `T` either single-pass (`T = QᵀA (QᵀM)^{-1} = R (QᵀM)^{-1}`,
//! symmetrized) or two-pass (`T = (JQ)ᵀ(JQ)`, an exact projection of G). From `T = S Λ Sᵀ` it keeps
//! the eigenvalues above the tolerance, sets `U = QS` and returns
//! `d = U Λ^{-1} Uᵀ g` with `g = Jᵀr`. The number of kept eigenvalues is the rank `r`
//! of the next step's sketch `l = r + p`.
//!
//! On top of Algorithm 1 the solve can be damped in Levenberg–Marquardt fashion,
//! `d = U (Λ + μI)^{-1} Uᵀ g`, with `μ` adapted from the accepted step sizes
//! ([`SngdDamping::Adaptive`], the default; [`adapt_damping`]). Undamped, the sketched
//! Newton direction is long along the smallest kept eigenvalues and the line search
//! settles on `η ≈ 1e-3`, which shortens the well-resolved components too; the damping
//! shortens only the badly resolved ones. On poisson2d this took the relative L2 error
//! from 2.1e-7 after 2,000 iterations to 2.5e-8 after 400 (docs/PERFORMANCE.md).

use super::driver::SolveConfig;
use super::linalg::{self, LinalgError};
use super::natural::{Attempt, Natural, NaturalMethod};
use super::optimizer::{Method, Optimizer};
use super::options::{self, ConfigScalar, OptionSpec};
use super::report::SolveError;
use super::spectrum::Spectrum;
use super::state::SolverState;
use super::trust_region::TrustRegion;
use faer::{Mat, MatRef, Par};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How `T ≈ QᵀGQ` is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SketchPass {
    /// `T = QᵀA (QᵀM)^{-1}`: no second product with J (cheaper, approximate).
    One,
    /// `T = (JQ)ᵀ(JQ)`: one more product with J, exact on span(Q). Default.
    #[default]
    Two,
}

/// What the eigenvalue tolerance is compared against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToleranceScale {
    /// Keep `λ_i > tol` (the paper's rule; G is quadrature-normalized since the
    /// residual rows carry `sqrt(w/N)`). Default.
    #[default]
    Absolute,
    /// Keep `λ_i > tol · λ_max(T)`.
    Relative,
}

/// Levenberg–Marquardt damping of the sketched solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SngdDamping {
    /// `μ = 0` throughout: Algorithm 1 as published.
    Off,
    /// `μ` starts at 0 and follows the accepted step sizes ([`adapt_damping`]). Default.
    #[default]
    Adaptive,
}

/// SNGD settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SngdConfig {
    /// Sketch size `l` of the first step; default 300 (clamped to `[1, min(N, P)]`).
    /// The paper picks it by hand and sets the initial rank from the first sketch.
    pub initial_sketch: usize,
    /// Oversampling `p` added to the kept rank; default 100 (with 10 the kept
    /// subspace was too loose on PDE Gramians; see docs/optimizers.md).
    pub oversampling: usize,
    /// Eigenvalue tolerance; default `1e-16` (the paper's `1e-13` with
    /// `damping = off`: undamped, the directions along eigenvalues below about 1e-13
    /// are too long to help; damped, they are what takes the loss from 1e-13 to 1e-16).
    pub tolerance: f64,
    /// Whether `tolerance` is absolute (default, as in the paper) or relative to `λ_max`.
    pub tolerance_scale: ToleranceScale,
    /// Single- or two-pass; default two-pass.
    pub pass: SketchPass,
    /// Levenberg–Marquardt damping `μ` of the solve; default adaptive.
    pub damping: SngdDamping,
    /// The factor by which `μ` is raised or lowered; default 2.
    pub damping_factor: f64,
    /// The smallest non-zero `μ`, on the scale of G's eigenvalues; default `1e-16`.
    /// Raising `μ = 0` gives this; lowering below it gives 0.
    pub damping_min: f64,
    /// An accepted step size `η* <` this raises `μ` (as does a rejected step); default
    /// `1/32`.
    pub raise_damping_below: f64,
    /// An accepted step size `η* ≥` this lowers `μ`; default `1/8`.
    pub lower_damping_from: f64,
}

impl Default for SngdConfig {
    fn default() -> Self {
        Self {
            initial_sketch: 300,
            oversampling: 100,
            tolerance: 1e-16,
            tolerance_scale: ToleranceScale::Absolute,
            pass: SketchPass::Two,
            damping: SngdDamping::Adaptive,
            damping_factor: 2.0,
            damping_min: 1e-16,
            raise_damping_below: 1.0 / 32.0,
            lower_damping_from: 1.0 / 8.0,
        }
    }
}

/// The damping `μ` for the next step, given the current `μ` and the accepted step size
/// `η*` of this one (`None`: the step was rejected).
///
/// With [`SngdDamping::Off`] it is always 0. Otherwise a rejected step or
/// `η* < raise_damping_below` multiplies `μ` by `damping_factor` (at least
/// `damping_min`), `η* ≥ lower_damping_from` divides it (0 once below `damping_min`),
/// and a step size in between keeps it. The grid line search takes `η ∈ {1, ½, ¼, …}`,
/// so with the defaults `η* ≤ 1/64` raises and `η* ≥ 1/8` lowers.
pub fn adapt_damping(config: &SngdConfig, mu: f64, step: Option<f64>) -> f64 {
    if config.damping == SngdDamping::Off {
        return 0.0;
    }
    match step {
        Some(eta) if eta >= config.lower_damping_from => {
            let lowered = mu / config.damping_factor;
            if lowered < config.damping_min {
                0.0
            } else {
                lowered
            }
        }
        Some(eta) if eta >= config.raise_damping_below => mu,
        _ => (mu * config.damping_factor).max(config.damping_min),
    }
}

/// The result of one sketched solve.
#[derive(Debug, Clone, PartialEq)]
pub struct SketchedDirection {
    /// `d = U Λ^{-1} Uᵀ g`.
    pub d: Vec<f64>,
    /// Number of kept eigenvalues (the new rank estimate `r`).
    pub rank: usize,
    /// The sketch size `l` used.
    pub sketch: usize,
}

/// The sketch size for the next step: `rank + oversampling`, clamped to `[1, min(N, P)]`.
pub fn next_sketch_size(rank: usize, oversampling: usize, n_rows: usize, n_params: usize) -> usize {
    clamp_sketch(rank + oversampling, n_rows, n_params)
}

/// A sketch size clamped to `[1, min(N, P)]` (rank(G) ≤ min(N, P)).
fn clamp_sketch(size: usize, n_rows: usize, n_params: usize) -> usize {
    size.clamp(1, n_rows.min(n_params).max(1))
}

/// A `rows × cols` matrix of independent standard normals.
///
/// One `u64` seed is drawn from `rng`; column `j` is then filled from its own ChaCha8
/// stream `j` of that seed (Marsaglia's polar method), in parallel over columns. The
/// result depends only on `rng`'s state, not on the number of threads.
pub fn gaussian_matrix<R: Rng>(rows: usize, cols: usize, rng: &mut R) -> Mat<f64> {
    gaussian_matrix_from_seed(rows, cols, rng.random())
}

/// The matrix [`gaussian_matrix`] draws after taking `seed` from its RNG. Column `j`
/// depends only on `seed` and `j`, so the first `k` columns of a wider matrix are the
/// `rows × k` matrix of the same seed.
pub fn gaussian_matrix_from_seed(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let mut m = Mat::zeros(rows, cols);
    fill_gaussian_columns(m.as_mut(), seed, 0);
    m
}

/// Fills the columns of `m` with columns `first, first + 1, …` of the Gaussian matrix of
/// `seed` ([`gaussian_matrix_from_seed`]).
fn fill_gaussian_columns(m: faer::MatMut<'_, f64>, seed: u64, first: usize) {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rayon::prelude::*;
    let rows = m.nrows();
    m.par_col_iter_mut().enumerate().for_each(|(j, mut col)| {
        let mut stream = ChaCha8Rng::seed_from_u64(seed);
        stream.set_stream((first + j) as u64);
        let mut i = 0;
        while i < rows {
            // Polar method: a uniform point of the unit disk gives two normals.
            let (u, v, s) = loop {
                let u = 2.0 * stream.random::<f64>() - 1.0;
                let v = 2.0 * stream.random::<f64>() - 1.0;
                let s = u * u + v * v;
                if s > 0.0 && s < 1.0 {
                    break (u, v, s);
                }
            };
            let factor = (-2.0 * s.ln() / s).sqrt();
            col[i] = u * factor;
            if i + 1 < rows {
                col[i + 1] = v * factor;
            }
            i += 2;
        }
    });
}

/// The Gaussian sketch of the next SNGD step, drawn while the current step's
/// factorizations keep one core busy and leave the other idle.
///
/// The next step's seed is the next `u64` of the sketch RNG, known in advance (the RNG
/// serves nothing else), but its width `rank + oversampling` is known only at the end of
/// the current step; the matrix is drawn at the current width and cut or widened when
/// it is used. The sketch used is the one [`gaussian_matrix`] would draw, bit for bit,
/// whatever was prefetched: a prefetched matrix of another seed or height is dropped.
#[derive(Debug, Clone, Default)]
pub struct SketchAhead {
    next: Option<(u64, Mat<f64>)>,
}

impl SketchAhead {
    /// The `rows × cols` sketch of the next `u64` of `rng` (which it draws), as
    /// [`gaussian_matrix`] gives it, from the prefetched matrix where that has the seed.
    pub fn take<R: Rng>(&mut self, rows: usize, cols: usize, rng: &mut R) -> Mat<f64> {
        let seed: u64 = rng.random();
        match self.next.take() {
            Some((ahead_seed, ahead)) if ahead_seed == seed && ahead.nrows() == rows => {
                if ahead.ncols() == cols {
                    ahead
                } else if ahead.ncols() > cols {
                    ahead.as_ref().subcols(0, cols).to_owned()
                } else {
                    let have = ahead.ncols();
                    let mut m = Mat::zeros(rows, cols);
                    m.as_mut().subcols_mut(0, have).copy_from(ahead.as_ref());
                    fill_gaussian_columns(m.as_mut().subcols_mut(have, cols - have), seed, have);
                    m
                }
            }
            _ => gaussian_matrix_from_seed(rows, cols, seed),
        }
    }

    /// Draws the `rows × cols` sketch of the `u64` that `rng` gives next, without
    /// advancing `rng`.
    pub fn prefetch<R: Rng + Clone>(&mut self, rows: usize, cols: usize, rng: &R) {
        let seed: u64 = rng.clone().random();
        self.next = Some((seed, gaussian_matrix_from_seed(rows, cols, seed)));
    }
}

/// One SNGD direction for a given sketch matrix `M` (Algorithm 1, lines 3–11),
/// damped by `damping = μ ≥ 0`: `d = U (Λ + μI)^{-1} Uᵀ g` over the kept eigenpairs.
/// Eigenvalues are kept above the tolerance and above `l·ε·λ_max(T)`, the round-off
/// level of an explicitly formed `T`.
///
/// # Shapes
/// `jacobian: N×P`, `gradient: P`, `sketch: P×l` with `l ≤ P` → `d: P`.
///
/// # Errors
/// [`LinalgError`] from the eigensolver, or a singular `QᵀM` in single-pass mode.
pub fn direction_with_sketch(
    jacobian: MatRef<'_, f64>,
    gradient: &[f64],
    sketch: MatRef<'_, f64>,
    config: &SngdConfig,
    damping: f64,
    par: Par,
) -> Result<SketchedDirection, LinalgError> {
    let l = sketch.ncols();
    // A = Jᵀ (J M): G is never formed.
    let jm = linalg::mat_mul(jacobian, sketch, par);
    let a = linalg::mat_mul(jacobian.transpose(), jm.as_ref(), par);
    let (q, t_lower) = match config.pass {
        SketchPass::Two => {
            // T = (JQ)ᵀ(JQ), lower triangle only.
            let q = linalg::thin_q(a.as_ref(), par);
            let jq = linalg::mat_mul(jacobian, q.as_ref(), par);
            let t = linalg::gram_lower(jq.as_ref().transpose(), par);
            (q, t)
        }
        SketchPass::One => {
            // QᵀA is the triangle R of A = QR: no product needed for it.
            let (q, r) = linalg::thin_qr(a.as_ref(), par);
            let qtm = linalg::mat_mul(q.as_ref().transpose(), sketch, par);
            let mut t = linalg::right_divide(r.as_ref(), qtm.as_ref(), "single-pass sketch")?;
            // T is symmetric in exact arithmetic; use (T + Tᵀ)/2.
            for j in 0..l {
                for i in j..l {
                    let s = 0.5 * (t[(i, j)] + t[(j, i)]);
                    t[(i, j)] = s;
                    t[(j, i)] = s;
                }
            }
            (q, t)
        }
    };
    let (values, vectors) = linalg::symmetric_eigen(t_lower.as_ref(), par)?;
    let largest = values.last().copied().unwrap_or(0.0);
    let threshold = match config.tolerance_scale {
        ToleranceScale::Absolute => config.tolerance,
        ToleranceScale::Relative => config.tolerance * largest,
    };
    // The eigenvalues of an explicitly formed T carry absolute errors of order
    // ε·λ_max: below `l·ε·λ_max` they are round-off, whatever the tolerance.
    let threshold = threshold.max(l as f64 * f64::EPSILON * largest);
    // d = Q S Λ^{-1} Sᵀ Qᵀ g over kept eigenpairs.
    let qtg = linalg::mat_vec(q.as_ref().transpose(), gradient, par);
    let coeffs = linalg::mat_vec(vectors.as_ref().transpose(), &qtg, par);
    let mut scaled = vec![0.0; l];
    let mut rank = 0;
    for (i, &lambda) in values.iter().enumerate() {
        if lambda > threshold && lambda > 0.0 {
            scaled[i] = coeffs[i] / (lambda + damping);
            rank += 1;
        }
    }
    let w = linalg::mat_vec(vectors.as_ref(), &scaled, par);
    Ok(SketchedDirection {
        d: linalg::mat_vec(q.as_ref(), &w, par),
        rank,
        sketch: l,
    })
}

/// One SNGD direction with a fresh Gaussian sketch of `sketch_size` columns, damped by
/// `damping` as in [`direction_with_sketch`].
///
/// # Shapes
/// `jacobian: N×P`, `gradient: P` → `d: P`.
///
/// # Errors
/// As [`direction_with_sketch`].
pub fn direction<R: Rng>(
    jacobian: MatRef<'_, f64>,
    gradient: &[f64],
    sketch_size: usize,
    config: &SngdConfig,
    damping: f64,
    rng: &mut R,
    par: Par,
) -> Result<SketchedDirection, LinalgError> {
    let (n_rows, n_params) = jacobian.shape();
    let l = clamp_sketch(sketch_size, n_rows, n_params);
    let sketch = gaussian_matrix(n_params, l, rng);
    direction_with_sketch(jacobian, gradient, sketch.as_ref(), config, damping, par)
}

/// One SNGD direction from the residual `r` (rather than `g = Jᵀr`), with a fresh
/// Gaussian sketch. The two-pass variant takes the SVD of `JQ = U Σ Vᵀ` instead of
/// the eigendecomposition of `T = (JQ)ᵀ(JQ)`: the eigenpairs of T are `(σ², V)`
/// exactly, and the direction `d = Q V Σ^{-1} Uᵀ r` never squares the condition
/// number, so eigenvalues of G down to the tolerance (1e-16 by default, far below
/// `ε·λ_max`) are resolved instead of drowned in round-off. Damped by `damping = μ`,
/// each kept pair contributes `σ/(σ² + μ)` in place of `1/σ`, which is
/// `(T + μI)^{-1}` on span(Q). The SVD is taken as a Householder QR `JQ = Q_B R`
/// (reflectors applied to r, `Q_B` never formed) and the left vectors of the small
/// `R = U_R Σ Vᵀ`, with `d = Q Rᵀ U_R (Σ² + μI)^{-1} U_Rᵀ Q_Bᵀ r`: the same numbers
/// without forming the `N×l` and `l×l` factors that the direction does not need. The
/// single-pass variant is as in [`direction_with_sketch`].
///
/// # Shapes
/// `jacobian: N×P`, `residual: N` → `d: P`.
///
/// # Errors
/// A factorization that fails.
pub fn direction_from_residual<R: Rng>(
    jacobian: MatRef<'_, f64>,
    residual: &[f64],
    sketch_size: usize,
    config: &SngdConfig,
    damping: f64,
    rng: &mut R,
    par: Par,
) -> Result<SketchedDirection, LinalgError> {
    let (n_rows, n_params) = jacobian.shape();
    let l = clamp_sketch(sketch_size, n_rows, n_params);
    let sketch = gaussian_matrix(n_params, l, rng);
    residual_direction(
        jacobian,
        residual,
        sketch.as_ref(),
        config,
        damping,
        None,
        par,
    )
    .0
}

/// [`direction_from_residual`] with the sketch taken from `ahead` and the next step's
/// sketch drawn into it while the thin QR of `A` runs (two-pass only). The directions
/// are bit for bit those of [`direction_from_residual`] with the same `rng`.
///
/// # Errors
/// As [`direction_from_residual`].
#[allow(clippy::too_many_arguments)]
pub fn direction_from_residual_ahead<R: Rng + Clone>(
    jacobian: MatRef<'_, f64>,
    residual: &[f64],
    sketch_size: usize,
    config: &SngdConfig,
    damping: f64,
    rng: &mut R,
    ahead: &mut SketchAhead,
    par: Par,
) -> Result<SketchedDirection, LinalgError> {
    let (n_rows, n_params) = jacobian.shape();
    let l = clamp_sketch(sketch_size, n_rows, n_params);
    let sketch = ahead.take(n_params, l, rng);
    let next_seed: u64 = rng.clone().random();
    let (direction, next) = residual_direction(
        jacobian,
        residual,
        sketch.as_ref(),
        config,
        damping,
        Some(next_seed),
        par,
    );
    ahead.next = next.map(|m| (next_seed, m));
    direction
}

/// The body of [`direction_from_residual`] for a given sketch. With `prefetch_seed`, the
/// two-pass variant also returns the Gaussian matrix of that seed at the sketch's size,
/// drawn beside the thin QR of `A`, which runs on one thread.
fn residual_direction(
    jacobian: MatRef<'_, f64>,
    residual: &[f64],
    sketch: MatRef<'_, f64>,
    config: &SngdConfig,
    damping: f64,
    prefetch_seed: Option<u64>,
    par: Par,
) -> (Result<SketchedDirection, LinalgError>, Option<Mat<f64>>) {
    let (n_params, l) = sketch.shape();
    if config.pass == SketchPass::One {
        let gradient = linalg::mat_vec(jacobian.transpose(), residual, par);
        let direction = direction_with_sketch(jacobian, &gradient, sketch, config, damping, par);
        return (direction, None);
    }
    // A = Jᵀ (J M) spans the sketched range of G; Q is its orthonormal basis.
    let jm = linalg::mat_mul(jacobian, sketch, par);
    let a = linalg::mat_mul(jacobian.transpose(), jm.as_ref(), par);
    let (q, next) = match prefetch_seed {
        Some(seed) => {
            let (q, next) = rayon::join(
                || linalg::thin_q(a.as_ref(), par),
                || gaussian_matrix_from_seed(n_params, l, seed),
            );
            (q, Some(next))
        }
        None => (linalg::thin_q(a.as_ref(), par), None),
    };
    (
        two_pass_solve(jacobian, residual, q, config, damping, par),
        next,
    )
}

/// The rest of the two-pass direction once Q is known.
fn two_pass_solve(
    jacobian: MatRef<'_, f64>,
    residual: &[f64],
    q: Mat<f64>,
    config: &SngdConfig,
    damping: f64,
    par: Par,
) -> Result<SketchedDirection, LinalgError> {
    let l = q.ncols();
    let jq = linalg::mat_mul(jacobian, q.as_ref(), par);
    // JQ = Q_B R (Householder, Q_B never formed) and R = U Σ Vᵀ (U only): the singular
    // values of JQ are those of R, and u_iᵀ(Q_Bᵀ r) = (U_JQ)ᵀ r.
    let (triangle, projected) = linalg::qr_triangle_and_project(jq.as_ref(), residual, par);
    let (sigmas, u) = linalg::svd_left(triangle.as_ref(), par)?;
    let largest = sigmas.first().map_or(0.0, |s| s * s);
    let threshold = match config.tolerance_scale {
        ToleranceScale::Absolute => config.tolerance,
        ToleranceScale::Relative => config.tolerance * largest,
    };
    // y_i = (u_iᵀ Q_Bᵀ r) / (σ_i² + μ) over kept eigenvalues λ_i = σ_i² of T, and
    // w = Rᵀ y = V diag(σ/(σ² + μ)) Uᵀ Q_Bᵀ r since Rᵀ U = V Σ. Going through Rᵀ rather
    // than V keeps the error of w below ε·σ_max/σ_min relative to ‖w‖ whatever the
    // residual (with V and y = Vᵀ(JQ)ᵀr / σ² it would be squared).
    let utr = linalg::mat_vec(u.as_ref().transpose(), &projected, par);
    let mut coeffs = vec![0.0; sigmas.len()];
    let mut rank = 0;
    for (i, &sigma) in sigmas.iter().enumerate() {
        if sigma * sigma > threshold && sigma > 0.0 {
            coeffs[i] = utr[i] / (sigma * sigma + damping);
            rank += 1;
        }
    }
    let y = linalg::mat_vec(u.as_ref(), &coeffs, par);
    let w = linalg::mat_vec(triangle.as_ref().transpose(), &y, par);
    Ok(SketchedDirection {
        d: linalg::mat_vec(q.as_ref(), &w, par),
        rank,
        sketch: l,
    })
}

/// SNGD's state between iterations.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SngdState {
    /// The sketch size of the next step (`None` before the first).
    pub sketch: Option<usize>,
    /// The sketch RNG.
    pub rng: Box<ChaCha8Rng>,
    /// Levenberg–Marquardt damping μ of the next solve (absent in older checkpoints).
    #[serde(default)]
    pub damping: f64,
    /// The trust region (absent with the line search and in older checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_region: Option<TrustRegion>,
    /// The radius of the step-length trust region for the next step (absent with the
    /// grid line search and in older checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_radius: Option<f64>,
}

/// SNGD as a natural-gradient method: a fresh sketch per attempt, the sketch size
/// following the kept rank, and `μ` following the accepted step sizes.
#[derive(Debug)]
pub struct Sngd {
    config: SngdConfig,
    state: SngdState,
    /// The next step's Gaussian sketch, drawn during this one (not part of the state:
    /// it is what the sketch RNG gives next, so a resumed run draws it afresh).
    ahead: SketchAhead,
}

impl Sngd {
    /// The sketched direction with damping `damping` (`0` under `damping = off`), the
    /// next sketch size following the kept rank.
    fn sketched_direction(
        &mut self,
        jacobian: MatRef<'_, f64>,
        residual: &[f64],
        damping: f64,
        par: Par,
    ) -> Attempt {
        let (c, state) = (&self.config, &mut self.state);
        let (n_rows, n_params) = jacobian.shape();
        let size = state.sketch.unwrap_or(c.initial_sketch);
        let mu = if c.damping == SngdDamping::Off {
            0.0
        } else {
            damping
        };
        match direction_from_residual_ahead(
            jacobian,
            residual,
            size,
            c,
            mu,
            state.rng.as_mut(),
            &mut self.ahead,
            par,
        ) {
            Ok(dir) => {
                state.sketch = Some(next_sketch_size(dir.rank, c.oversampling, n_rows, n_params));
                Attempt::Direction {
                    d: dir.d,
                    rank: Some(dir.rank),
                    damping: Some(mu),
                }
            }
            Err(_) => Attempt::Failed { damping: Some(mu) },
        }
    }
}

impl NaturalMethod for Sngd {
    const NAME: &'static str = "sngd";
    type Factor<'a> = ();

    fn factor(
        &mut self,
        _jacobian: MatRef<'_, f64>,
        _residual: &[f64],
        _par: Par,
    ) -> Result<(), ()> {
        Ok(())
    }

    fn direction(
        &mut self,
        _factor: &(),
        jacobian: MatRef<'_, f64>,
        residual: &[f64],
        par: Par,
    ) -> Attempt {
        let mu = self.state.damping;
        self.sketched_direction(jacobian, residual, mu, par)
    }

    /// The sketched solve with `μ = λ` (`damping = off`: `μ = 0`, the trust region then
    /// only accepts or rejects); a fresh sketch per attempt.
    fn damped_direction(
        &mut self,
        _factor: &(),
        jacobian: MatRef<'_, f64>,
        residual: &[f64],
        lambda: f64,
        par: Par,
    ) -> Attempt {
        self.sketched_direction(jacobian, residual, lambda, par)
    }

    fn trust_region(&mut self) -> &mut Option<TrustRegion> {
        &mut self.state.trust_region
    }

    fn step_radius(&mut self) -> &mut Option<f64> {
        &mut self.state.step_radius
    }

    fn accepted(&mut self, step: f64, _direction: Vec<f64>) {
        self.state.damping = adapt_damping(&self.config, self.state.damping, Some(step));
    }

    /// The next attempt draws a fresh sketch, with more damping.
    fn rejected(&mut self) {
        self.state.damping = adapt_damping(&self.config, self.state.damping, None);
    }

    fn state(&self) -> SolverState {
        SolverState::new(Self::NAME, &self.state)
    }

    fn sketch_size(&self) -> Option<usize> {
        self.state.sketch
    }
}

impl Method for SngdConfig {
    const NAME: &'static str = Sngd::NAME;
    const OPTIONS: &'static [OptionSpec] = &[
        OptionSpec {
            key: "damping",
            default: "adaptive",
            value: "adaptive|off",
            help: "Levenberg–Marquardt damping of the sketched solve",
        },
        OptionSpec {
            key: "sketch",
            default: "300",
            value: "COUNT",
            help: "sketch size of the first step",
        },
        OptionSpec {
            key: "oversample",
            default: "100",
            value: "COUNT",
            help: "oversampling added to the kept rank",
        },
        OptionSpec {
            key: "sketch_pass",
            default: "2",
            value: "1|2",
            help: "single- (1) or two-pass (2) sketch",
        },
        OptionSpec {
            key: "tolerance",
            default: "1e-16",
            value: "NUMBER",
            help: "eigenvalue tolerance",
        },
    ];
    const LINE_SEARCH: bool = true;
    const TRUST_REGION: bool = true;
    const HAS_SPECTRUM: bool = true;

    fn set_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String> {
        match key {
            "damping" => {
                self.damping = match options::word(value, &["adaptive", "off"])? {
                    "off" => SngdDamping::Off,
                    _ => SngdDamping::Adaptive,
                }
            }
            "sketch" => self.initial_sketch = options::count(value)?,
            "oversample" => self.oversampling = options::number(value)? as usize,
            "tolerance" => self.tolerance = options::positive(value)?,
            "sketch_pass" => {
                let pass = options::number(value)?;
                self.pass = if pass == 1.0 {
                    SketchPass::One
                } else if pass == 2.0 {
                    SketchPass::Two
                } else {
                    return Err("expected 1 or 2".to_string());
                }
            }
            _ => return Err("unknown option".to_string()),
        }
        Ok(())
    }

    fn build(
        &self,
        config: &SolveConfig,
        state: Option<&SolverState>,
    ) -> Result<Box<dyn Optimizer>, SolveError> {
        let state = match state {
            Some(saved) => saved.decode(Self::NAME)?,
            None => SngdState {
                sketch: None,
                rng: Box::new(ChaCha8Rng::seed_from_u64(config.seed)),
                damping: 0.0,
                trust_region: None,
                step_radius: None,
            },
        };
        let method = Sngd {
            config: self.clone(),
            state,
            ahead: SketchAhead::default(),
        };
        Ok(Box::new(Natural::new(method, config)))
    }

    fn check_state(state: &SolverState, _n_params: usize) -> Result<(), SolveError> {
        state.decode::<SngdState>(Self::NAME).map(|_| ())
    }

    /// The tolerance (times `μ_max` when relative); SNGD applies it to the sketched
    /// Gramian.
    fn spectrum_cutoff(&self, spectrum: &Spectrum, _damping: Option<f64>) -> Option<f64> {
        Some(match self.tolerance_scale {
            ToleranceScale::Absolute => self.tolerance,
            ToleranceScale::Relative => self.tolerance * spectrum.largest(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::anagram::pseudo_inverse_reference;
    use crate::solve::engd::{self, EngdSolve, GramForm};
    use crate::solve::test_problems::{
        log_spaced, matrix_with_singular_values, random_matrix, rel_diff,
    };
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn two_pass() -> SngdConfig {
        SngdConfig {
            pass: SketchPass::Two,
            tolerance: 1e-13,
            ..SngdConfig::default()
        }
    }

    #[test]
    fn residual_form_equals_gradient_form_on_well_conditioned_jacobians() {
        for &(n, p, l) in &[(40, 25, 25), (25, 40, 25), (60, 50, 20)] {
            let j = random_matrix(n, p, 91 + n as u64);
            let r = random_matrix(n, 1, 92);
            let jm = linalg::jacobian_view(&j, n, p);
            let g = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
            // The same sketch for both: equal seeds draw equal matrices.
            let mut rng_a = ChaCha8Rng::seed_from_u64(93);
            let mut rng_b = ChaCha8Rng::seed_from_u64(93);
            let from_g = direction(jm, &g, l, &two_pass(), 0.0, &mut rng_a, Par::Seq).unwrap();
            let from_r =
                direction_from_residual(jm, &r, l, &two_pass(), 0.0, &mut rng_b, Par::Seq).unwrap();
            assert_eq!(from_g.rank, from_r.rank);
            assert!(rel_diff(&from_r.d, &from_g.d) < 1e-10, "{n}×{p}, l = {l}");
        }
    }

    #[test]
    fn residual_form_stays_accurate_when_the_residual_lies_along_large_singular_values() {
        // σ from 1 down to 1e-7 (all kept at the default tolerance 1e-16). The residual
        // is u_1 + 1e-10 u_p, so the exact direction is v_1 + 1e-3 v_p. Any route that
        // recovers the small components from (JQ)ᵀr = Jᵀr and σ² carries an error of
        // about ε·σ_max/σ_p² ≈ 2e-2 in them; the QR/SVD route must be accurate to ≈ ε·κ.
        let (n, p) = (40, 24);
        let sigmas = log_spaced(p, 7.0);
        let j = matrix_with_singular_values(n, p, &sigmas, 97);
        let jm = linalg::jacobian_view(&j, n, p);
        let svd = linalg::thin_svd(jm, Par::Seq).unwrap();
        let r: Vec<f64> = (0..n)
            .map(|row| svd.u[(row, 0)] + 1e-10 * svd.u[(row, p - 1)])
            .collect();
        let expected: Vec<f64> = (0..p)
            .map(|k| svd.v[(k, 0)] / svd.s[0] + 1e-10 * svd.v[(k, p - 1)] / svd.s[p - 1])
            .collect();
        let config = SngdConfig {
            damping: SngdDamping::Off,
            ..SngdConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(98);
        let dir = direction_from_residual(jm, &r, p, &config, 0.0, &mut rng, Par::Seq).unwrap();
        assert_eq!(dir.rank, p);
        let error = rel_diff(&dir.d, &expected);
        assert!(error < 1e-6, "relative error {error:e}");
        // The small component itself (1e-3 of the direction) to 1e-4 relative.
        let along_last: f64 = (0..p).map(|k| dir.d[k] * svd.v[(k, p - 1)]).sum();
        let exact_last = 1e-10 / svd.s[p - 1];
        assert!(
            (along_last - exact_last).abs() < 1e-4 * exact_last.abs(),
            "{along_last:e} vs {exact_last:e}"
        );
    }

    #[test]
    fn residual_form_with_full_sketch_is_the_truncated_pseudo_inverse() {
        // σ from 1 down to 1e-9: eigenvalues of G = σ² reach 1e-18, below the 1e-13
        // tolerance, so the direction must be J's pseudo-inverse truncated at σ² > 1e-13,
        // computed here independently from a thin SVD of J.
        let (n, p) = (30, 20);
        let sigmas = log_spaced(p, 9.0);
        let j = matrix_with_singular_values(n, p, &sigmas, 94);
        let r = random_matrix(n, 1, 95);
        let jm = linalg::jacobian_view(&j, n, p);
        let mut rng = ChaCha8Rng::seed_from_u64(96);
        let dir = direction_from_residual(jm, &r, p, &two_pass(), 0.0, &mut rng, Par::Seq).unwrap();
        let kept = sigmas
            .iter()
            .filter(|s| *s * *s > two_pass().tolerance)
            .count();
        assert_eq!(dir.rank, kept);
        let svd = linalg::thin_svd(jm, Par::Seq).unwrap();
        let mut reference = vec![0.0; p];
        for i in 0..kept {
            let c: f64 = (0..n).map(|row| svd.u[(row, i)] * r[row]).sum::<f64>() / svd.s[i];
            for (k, value) in reference.iter_mut().enumerate() {
                *value += c * svd.v[(k, i)];
            }
        }
        assert!(
            rel_diff(&dir.d, &reference) < 1e-6,
            "{}",
            rel_diff(&dir.d, &reference)
        );
    }

    #[test]
    fn full_two_pass_sketch_equals_engd_pseudo_inverse() {
        let mut rng = ChaCha8Rng::seed_from_u64(81);
        for &(n, p) in &[(40, 25), (25, 40), (30, 30)] {
            let j = random_matrix(n, p, 82 + n as u64);
            let r = random_matrix(n, 1, 83);
            let jm = linalg::jacobian_view(&j, n, p);
            let g = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
            let sngd = direction(jm, &g, n.min(p), &two_pass(), 0.0, &mut rng, Par::Seq).unwrap();
            let engd = engd::direction(
                jm,
                &r,
                0.0,
                GramForm::Parameter,
                EngdSolve::Eigen {
                    relative_cutoff: 1e-13,
                },
                Par::Seq,
            )
            .unwrap();
            assert_eq!(sngd.rank, n.min(p), "{n}×{p}");
            assert!(
                rel_diff(&sngd.d, &engd.d) < 1e-10,
                "{n}×{p}: {}",
                rel_diff(&sngd.d, &engd.d)
            );
        }
    }

    #[test]
    fn damped_full_sketch_equals_damped_engd() {
        // With l = P ≤ N and J of full column rank, span(Q) = R^P, so the damped
        // direction is (JᵀJ + μI)^{-1} Jᵀr: ENGD's Gramian-form Cholesky solve at λ = μ.
        // Singular values down to 1e-4 make μ change every component noticeably.
        let (n, p) = (40, 25);
        let sigmas = log_spaced(p, 4.0);
        let j = matrix_with_singular_values(n, p, &sigmas, 121);
        let r = random_matrix(n, 1, 122);
        let jm = linalg::jacobian_view(&j, n, p);
        let g = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
        for mu in [1e-8, 1e-5, 1e-2] {
            let engd = engd::direction(
                jm,
                &r,
                mu,
                GramForm::Parameter,
                EngdSolve::Cholesky,
                Par::Seq,
            )
            .unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(123);
            let from_r =
                direction_from_residual(jm, &r, p, &two_pass(), mu, &mut rng, Par::Seq).unwrap();
            let from_g = direction(jm, &g, p, &two_pass(), mu, &mut rng, Par::Seq).unwrap();
            assert_eq!(from_r.rank, p);
            assert!(rel_diff(&from_r.d, &engd.d) < 1e-9, "μ = {mu}");
            assert!(rel_diff(&from_g.d, &engd.d) < 1e-9, "μ = {mu}");
            // And the damping matters at this μ: the undamped direction is far away.
            let undamped =
                direction_from_residual(jm, &r, p, &two_pass(), 0.0, &mut rng, Par::Seq).unwrap();
            assert!(rel_diff(&undamped.d, &engd.d) > 1e-3, "μ = {mu}");
        }
    }

    #[test]
    fn damping_follows_the_accepted_step_sizes() {
        let c = SngdConfig::default();
        // From 0, a short step or a rejection raises μ to the minimum, then doubles it.
        assert_eq!(adapt_damping(&c, 0.0, Some(1.0 / 64.0)), c.damping_min);
        assert_eq!(adapt_damping(&c, 0.0, None), c.damping_min);
        assert_eq!(adapt_damping(&c, 1e-10, None), 2e-10);
        assert_eq!(adapt_damping(&c, 1e-10, Some(1.0 / 64.0)), 2e-10);
        // In-between steps keep it; long steps halve it, down to exactly 0.
        assert_eq!(adapt_damping(&c, 1e-10, Some(1.0 / 32.0)), 1e-10);
        assert_eq!(adapt_damping(&c, 1e-10, Some(1.0 / 16.0)), 1e-10);
        assert_eq!(adapt_damping(&c, 1e-10, Some(1.0 / 8.0)), 5e-11);
        assert_eq!(adapt_damping(&c, 1e-10, Some(1.0)), 5e-11);
        assert_eq!(adapt_damping(&c, 1.5e-16, Some(1.0)), 0.0);
        assert_eq!(adapt_damping(&c, 0.0, Some(1.0)), 0.0);
        // Off: always 0.
        let off = SngdConfig {
            damping: SngdDamping::Off,
            ..c
        };
        assert_eq!(adapt_damping(&off, 1e-3, None), 0.0);
    }

    #[test]
    fn full_two_pass_sketch_equals_pseudo_inverse_on_rank_deficient_j() {
        // Rank 7 of 24×30; sketch min(N,P) = 24 ≥ rank. G's zero eigenvalues must be cut.
        let sigmas = [4.0, 2.0, 1.5, 1.0, 0.5, 0.3, 0.1];
        let (n, p) = (24, 30);
        let j = matrix_with_singular_values(n, p, &sigmas, 91);
        let r = random_matrix(n, 1, 92);
        let jm = linalg::jacobian_view(&j, n, p);
        let g = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
        let reference = pseudo_inverse_reference(jm, &r, 1e-10);
        let mut rng = ChaCha8Rng::seed_from_u64(93);
        let sngd = direction(jm, &g, 24, &two_pass(), 0.0, &mut rng, Par::Seq).unwrap();
        assert_eq!(sngd.rank, 7);
        assert!(rel_diff(&sngd.d, &reference) < 1e-10);
        // A sketch of rank + oversampling (< min(N,P)) also recovers it exactly.
        let sngd = direction(jm, &g, 7 + 3, &two_pass(), 0.0, &mut rng, Par::Seq).unwrap();
        assert_eq!(sngd.rank, 7);
        assert!(rel_diff(&sngd.d, &reference) < 1e-10);
        let engd = engd::direction(
            jm,
            &r,
            0.0,
            GramForm::Sample,
            EngdSolve::Eigen {
                relative_cutoff: 1e-12,
            },
            Par::Seq,
        )
        .unwrap();
        assert!(rel_diff(&sngd.d, &engd.d) < 1e-10);
    }

    #[test]
    fn single_pass_approximates_on_well_conditioned_j() {
        // Well conditioned (σ ∈ [1, 2]) full-column-rank J: with l = P the single-pass T
        // equals QᵀGQ in exact arithmetic, so the direction matches to round-off level.
        let (n, p) = (50, 20);
        let sigmas: Vec<f64> = (0..p).map(|i| 2.0 - i as f64 / p as f64).collect();
        let j = matrix_with_singular_values(n, p, &sigmas, 101);
        let r = random_matrix(n, 1, 102);
        let jm = linalg::jacobian_view(&j, n, p);
        let g = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
        let reference = pseudo_inverse_reference(jm, &r, 0.0);
        let config = SngdConfig {
            pass: SketchPass::One,
            ..SngdConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(103);
        let sngd = direction(jm, &g, p, &config, 0.0, &mut rng, Par::Seq).unwrap();
        assert_eq!(sngd.rank, p);
        assert!(
            rel_diff(&sngd.d, &reference) < 1e-8,
            "{}",
            rel_diff(&sngd.d, &reference)
        );
    }

    #[test]
    fn partial_sketches_recover_an_exactly_low_rank_gramian() {
        // rank(J) = 8 with P = 40: a sketch of l = 12 < P spans range(G), so both passes
        // give the exact pseudo-inverse direction; the 4 spare columns of Q see only
        // round-off and must be truncated.
        let sigmas = [3.0, 2.5, 2.0, 1.5, 1.2, 1.0, 0.8, 0.6];
        let (n, p) = (50, 40);
        let j = matrix_with_singular_values(n, p, &sigmas, 111);
        let r = random_matrix(n, 1, 112);
        let jm = linalg::jacobian_view(&j, n, p);
        let g = linalg::mat_vec(jm.transpose(), &r, Par::Seq);
        let reference = pseudo_inverse_reference(jm, &r, 1e-10);
        let mut rng = ChaCha8Rng::seed_from_u64(113);
        for pass in [SketchPass::One, SketchPass::Two] {
            let config = SngdConfig {
                pass,
                ..SngdConfig::default()
            };
            let sngd = direction(jm, &g, 12, &config, 0.0, &mut rng, Par::Seq).unwrap();
            assert_eq!((sngd.rank, sngd.sketch), (8, 12), "{pass:?}");
            let err = rel_diff(&sngd.d, &reference);
            assert!(err < 1e-9, "{pass:?}: {err}");
        }
        // A sketch smaller than the rank cannot: it misses part of range(G).
        let small = direction(jm, &g, 4, &two_pass(), 0.0, &mut rng, Par::Seq).unwrap();
        assert!(rel_diff(&small.d, &reference) > 1e-3);
    }

    #[test]
    fn rank_adapts_and_sketch_is_clamped() {
        assert_eq!(next_sketch_size(7, 10, 100, 200), 17);
        assert_eq!(next_sketch_size(195, 10, 300, 200), 200);
        assert_eq!(next_sketch_size(0, 0, 5, 5), 1);
    }

    #[test]
    fn gaussian_sketch_has_unit_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let m = gaussian_matrix(200, 100, &mut rng);
        let values: Vec<f64> = (0..100)
            .flat_map(|j| (0..200).map(move |i| (i, j)))
            .map(|(i, j)| m[(i, j)])
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        // 20,000 samples: standard errors ≈ 0.007 (mean) and 0.01 (variance).
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.04, "{var}");
        // Fourth moment of a standard normal is 3 (a uniform would give 1.8).
        let kurt = values.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / values.len() as f64;
        assert!((kurt / (var * var) - 3.0).abs() < 0.15, "{kurt}");
        // Columns are distinct streams, and the draw is reproducible from the seed.
        assert!((0..200).any(|i| m[(i, 0)] != m[(i, 1)]));
        let again = gaussian_matrix(200, 100, &mut ChaCha8Rng::seed_from_u64(5));
        assert_eq!(m, again);
    }

    #[test]
    fn sketches_taken_ahead_are_the_ones_gaussian_matrix_draws() {
        let rows = 37;
        let mut plain = ChaCha8Rng::seed_from_u64(11);
        let mut rng = plain.clone();
        let mut ahead = SketchAhead::default();
        // (width used, width prefetched for the next step): equal, narrower, wider.
        for (cols, next_cols) in [(9, 9), (9, 5), (5, 12), (12, 12), (12, 1)] {
            let expected = gaussian_matrix(rows, cols, &mut plain);
            let taken = ahead.take(rows, cols, &mut rng);
            assert_eq!(taken, expected, "{cols} columns");
            ahead.prefetch(rows, next_cols, &rng);
        }
        // A prefetched matrix of another seed or height is not used.
        ahead.prefetch(rows, 4, &rng);
        let _ = gaussian_matrix(rows, 4, &mut plain);
        let _: u64 = rng.random();
        assert_eq!(
            ahead.take(rows, 4, &mut rng),
            gaussian_matrix(rows, 4, &mut plain)
        );
        ahead.prefetch(rows + 1, 4, &rng);
        assert_eq!(
            ahead.take(rows, 4, &mut rng),
            gaussian_matrix(rows, 4, &mut plain)
        );
        // The prefix property the widening relies on, against the matrix it extends.
        let seed = 99;
        let wide = gaussian_matrix_from_seed(rows, 10, seed);
        assert_eq!(
            wide.as_ref().subcols(0, 3).to_owned(),
            gaussian_matrix_from_seed(rows, 3, seed)
        );
    }

    #[test]
    fn directions_with_sketches_drawn_ahead_equal_the_plain_ones_bit_for_bit() {
        let (n, p) = (45, 30);
        let j = random_matrix(n, p, 12);
        let r = random_matrix(n, 1, 13);
        let jm = linalg::jacobian_view(&j, n, p);
        for pass in [SketchPass::Two, SketchPass::One] {
            let config = SngdConfig {
                pass,
                ..SngdConfig::default()
            };
            let mut plain = ChaCha8Rng::seed_from_u64(14);
            let mut rng = plain.clone();
            let mut ahead = SketchAhead::default();
            // Sizes that grow and shrink between steps, as the kept rank does.
            for (step, size) in [12, 12, 7, 15, 30, 10].into_iter().enumerate() {
                let par = if step % 2 == 0 {
                    Par::Seq
                } else {
                    Par::rayon(2)
                };
                let expected =
                    direction_from_residual(jm, &r, size, &config, 1e-6, &mut plain, par).unwrap();
                let got = direction_from_residual_ahead(
                    jm, &r, size, &config, 1e-6, &mut rng, &mut ahead, par,
                )
                .unwrap();
                assert_eq!(got, expected, "{pass:?}, step {step}");
            }
            assert_eq!(rng, plain, "both draw one seed per step");
        }
    }
}
