//! Numerical checks of a compiled program against independent references, shared by
//! the unit tests of [`super::program`] and the integration tests over the examples
//! (`tests/engine_examples.rs`). Test support, not part of the API.

use crate::compile::points::PointSet;
use crate::compile::program::CompiledProblem;
use crate::ir::Problem;
use burn::tensor::{backend::Backend, Tensor, TensorData};
use burn_autodiff::Autodiff;
use burn_ndarray::NdArray;

/// `max |v_i|` (0 for an empty slice).
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Column `k` of J by a central difference of r with step `h = 1e-6 (1 + |θ_k|)`:
/// truncation ~1e-12 and rounding ~1e-10 relative to J's entries.
pub fn central_difference_column<B: Backend>(
    program: &CompiledProblem<B>,
    points: &PointSet,
    theta: &[f64],
    k: usize,
) -> Vec<f64> {
    let h = 1e-6 * (1.0 + theta[k].abs());
    let mut plus = theta.to_vec();
    plus[k] += h;
    let mut minus = theta.to_vec();
    minus[k] -= h;
    let rp = program.residual(&plus, points);
    let rm = program.residual(&minus, points);
    rp.iter()
        .zip(&rm)
        .map(|(p, m)| (p - m) / (2.0 * h))
        .collect()
}

/// Asserts that the gradient path of `program` (`loss_and_gradient`) agrees with
/// burn-autodiff's gradient of ½‖r‖², where r is the same tensor program of `problem`
/// run on the autodiff backend (params as tensors): the loss to 1e-12 and the gradient
/// to 1e-10, both relative. Returns the gradient. `name` labels a failure.
///
/// # Panics
/// When they disagree, or `problem` does not compile.
pub fn assert_gradient_matches_autodiff<B: Backend>(
    name: &str,
    problem: &Problem,
    program: &CompiledProblem<B>,
    points: &PointSet,
    theta: &[f64],
) -> Vec<f64> {
    type Ad = Autodiff<NdArray<f64>>;
    let (loss, gradient) = program.loss_and_gradient(theta, points);
    let ad = CompiledProblem::<Ad>::new(problem, &Default::default()).expect("compiles");
    let theta_t = Tensor::<Ad, 1>::from_data(
        TensorData::new(theta.to_vec(), [theta.len()]),
        &Default::default(),
    )
    .require_grad();
    let r = ad.residual_tensor(theta_t.clone(), points);
    let ad_loss = r.powi_scalar(2).sum().mul_scalar(0.5);
    let grads = ad_loss.backward();
    let reference = theta_t
        .grad(&grads)
        .expect("gradient")
        .into_data()
        .to_vec::<f64>()
        .expect("f64 tensor");
    let ad_loss = ad_loss.into_data().to_vec::<f64>().expect("f64 tensor")[0];
    assert!(
        (loss - ad_loss).abs() <= 1e-12 * ad_loss.abs(),
        "{name}: loss"
    );
    let diff: Vec<f64> = gradient
        .iter()
        .zip(&reference)
        .map(|(a, b)| a - b)
        .collect();
    assert!(
        max_abs(&diff) <= 1e-10 * max_abs(&reference),
        "{name}: |g − g_autodiff| = {:e}, |g| = {:e}",
        max_abs(&diff),
        max_abs(&reference)
    );
    gradient
}
