//! The MLP ansatz: network shapes, the flat parameter layout θ, Glorot
//! initialisation, and activation functions with closed-form derivatives up to
//! order 5 (order 4 jets plus one more for their reverse pass).
//!
//! # θ layout
//! Networks come first, in order (one per field, or one shared network with one
//! output per field). Inside a network, layer by layer from the input:
//! the weight `W` row-major with shape `[out, in]`, then the bias `b` (`[out]`).
//! After all networks, one scalar per trainable `param`, in
//! [`crate::ir::Problem::params`] order.

use crate::ir::Activation;
use burn::tensor::{backend::Backend, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Highest derivative order of an activation this module provides.
pub const MAX_ACTIVATION_ORDER: usize = 5;

/// One fully connected network `R^n_in → R^n_out` inside θ.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkLayout {
    /// Widths from input to output: `[n_in, hidden..., n_out]`.
    pub widths: Vec<usize>,
    /// Offset of the network's first parameter in θ.
    pub offset: usize,
}

impl NetworkLayout {
    /// Number of linear layers (hidden layers + the output layer).
    pub fn n_layers(&self) -> usize {
        self.widths.len() - 1
    }

    /// Offset in θ of layer `l`'s weight; its bias follows the weight.
    pub fn layer_offset(&self, layer: usize) -> usize {
        let mut offset = self.offset;
        for l in 0..layer {
            offset += self.widths[l + 1] * (self.widths[l] + 1);
        }
        offset
    }

    /// Number of parameters of the network.
    pub fn n_params(&self) -> usize {
        (0..self.n_layers())
            .map(|l| self.widths[l + 1] * (self.widths[l] + 1))
            .sum()
    }

    /// Writes Glorot-uniform weights (`U(±sqrt(6/(in+out)))`) and zero biases
    /// into `theta` at this network's place.
    pub fn init(&self, theta: &mut [f64], rng: &mut ChaCha8Rng) {
        for l in 0..self.n_layers() {
            let (n_in, n_out) = (self.widths[l], self.widths[l + 1]);
            let limit = (6.0 / (n_in + n_out) as f64).sqrt();
            let offset = self.layer_offset(l);
            for w in &mut theta[offset..offset + n_in * n_out] {
                *w = rng.random_range(-limit..limit);
            }
            for b in &mut theta[offset + n_in * n_out..offset + n_in * n_out + n_out] {
                *b = 0.0;
            }
        }
    }

    /// The network's layers as tensors cut out of θ.
    ///
    /// # Shapes
    /// - `theta`: `[P]`
    /// - returns per layer `(W [out, in], b [1, out])`
    pub fn unpack<B: Backend>(&self, theta: &Tensor<B, 1>) -> Vec<(Tensor<B, 2>, Tensor<B, 2>)> {
        (0..self.n_layers())
            .map(|l| {
                let (n_in, n_out) = (self.widths[l], self.widths[l + 1]);
                let offset = self.layer_offset(l);
                let weight = theta
                    .clone()
                    .slice(offset..offset + n_in * n_out)
                    .reshape([n_out, n_in]);
                let bias = theta
                    .clone()
                    .slice(offset + n_in * n_out..offset + n_in * n_out + n_out)
                    .reshape([1, n_out]);
                (weight, bias)
            })
            .collect()
    }
}

/// A fresh random generator for parameter initialisation.
pub fn init_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Polynomial with coefficients in increasing degree.
type Poly = Vec<f64>;

fn poly_derivative(p: &[f64]) -> Poly {
    if p.len() <= 1 {
        return vec![0.0];
    }
    p.iter()
        .enumerate()
        .skip(1)
        .map(|(k, c)| k as f64 * c)
        .collect()
}

fn poly_mul(p: &[f64], q: &[f64]) -> Poly {
    let mut out = vec![0.0; p.len() + q.len() - 1];
    for (i, a) in p.iter().enumerate() {
        for (j, b) in q.iter().enumerate() {
            out[i + j] += a * b;
        }
    }
    out
}

/// Derivatives of `y(x)` when `y' = g(y)`: `p_0 = y`, `p_{k+1} = p_k'(y) g(y)`.
fn chain_polynomials(g: &[f64], count: usize) -> Vec<Poly> {
    let mut polys = vec![vec![0.0, 1.0]];
    while polys.len() < count {
        let last = polys.last().expect("non-empty");
        polys.push(poly_mul(&poly_derivative(last), g));
    }
    polys
}

/// `p(x)` elementwise, by Horner's rule.
fn eval_poly<B: Backend>(p: &[f64], x: &Tensor<B, 2>) -> Tensor<B, 2> {
    let mut degree = p.len() - 1;
    while degree > 0 && p[degree] == 0.0 {
        degree -= 1;
    }
    if degree == 0 {
        return x.zeros_like().add_scalar(p[0]);
    }
    let mut acc = x.clone().mul_scalar(p[degree]);
    for k in (0..degree).rev() {
        if p[k] != 0.0 {
            acc = acc.add_scalar(p[k]);
        }
        if k > 0 {
            acc = acc.mul(x.clone());
        }
    }
    acc
}

/// `1 / (1 + e^{-z})` in the tensor's precision (burn's own sigmoid computes in f32).
fn sigmoid<B: Backend>(z: &Tensor<B, 2>) -> Tensor<B, 2> {
    z.clone().neg().exp().add_scalar(1.0).recip()
}

/// `σ^{(k)}(z)` for `k = 0..=max_order` (`max_order ≤ 5`).
///
/// # Shapes
/// - `z`: `[M, width]`; each output has the same shape.
pub fn activation_derivatives<B: Backend>(
    activation: Activation,
    z: &Tensor<B, 2>,
    max_order: usize,
) -> Vec<Tensor<B, 2>> {
    let count = max_order + 1;
    match activation {
        Activation::Tanh => {
            // Closed forms in t = tanh z and s = 1 − t² (fewer passes than
            // Horner): σ' = s, σ'' = −2ts, σ''' = s(6t² − 2),
            // σ'''' = ts(16 − 24t²), σ⁽⁵⁾ = s(16 − 120t² + 120t⁴).
            let t = z.clone().tanh();
            let mut out = vec![t.clone()];
            if count > 1 {
                let t2 = t.clone().mul(t.clone());
                let s = t2.clone().neg().add_scalar(1.0);
                out.push(s.clone());
                if count > 2 {
                    let ts = t.clone().mul(s.clone());
                    for k in 2..count {
                        out.push(match k {
                            2 => ts.clone().mul_scalar(-2.0),
                            3 => t2.clone().mul_scalar(6.0).add_scalar(-2.0).mul(s.clone()),
                            4 => t2
                                .clone()
                                .mul_scalar(-24.0)
                                .add_scalar(16.0)
                                .mul(ts.clone()),
                            _ => t2
                                .clone()
                                .mul_scalar(120.0)
                                .add_scalar(-120.0)
                                .mul(t2.clone())
                                .add_scalar(16.0)
                                .mul(s.clone()),
                        });
                    }
                }
            }
            out
        }
        Activation::Sigmoid => {
            let s = sigmoid(z);
            let polys = chain_polynomials(&[0.0, 1.0, -1.0], count);
            let mut out = vec![s.clone()];
            out.extend(polys[1..].iter().map(|p| eval_poly(p, &s)));
            out
        }
        Activation::Softplus => {
            // softplus' = sigmoid, so σ^{(k)} = sigmoid^{(k-1)}.
            let s = sigmoid(z);
            let polys = chain_polynomials(&[0.0, 1.0, -1.0], count);
            // Stable form: max(z, 0) + log(1 + exp(-|z|)).
            let value = z
                .clone()
                .clamp_min(0.0)
                .add(z.clone().abs().neg().exp().log1p());
            let mut out = vec![value, s.clone()];
            out.extend(polys[1..count - 1].iter().map(|p| eval_poly(p, &s)));
            out.truncate(count);
            out
        }
        Activation::Silu => {
            // σ = z s(z): σ^{(k)} = z s^{(k)} + k s^{(k-1)}.
            let s = sigmoid(z);
            let polys = chain_polynomials(&[0.0, 1.0, -1.0], count);
            let sig: Vec<Tensor<B, 2>> = std::iter::once(s.clone())
                .chain(polys[1..].iter().map(|p| eval_poly(p, &s)))
                .collect();
            (0..count)
                .map(|k| {
                    let base = z.clone().mul(sig[k].clone());
                    if k == 0 {
                        base
                    } else {
                        base.add(sig[k - 1].clone().mul_scalar(k as f64))
                    }
                })
                .collect()
        }
        Activation::Sin => {
            let (sin, cos) = (z.clone().sin(), z.clone().cos());
            (0..count)
                .map(|k| match k % 4 {
                    0 => sin.clone(),
                    1 => cos.clone(),
                    2 => sin.clone().neg(),
                    _ => cos.clone().neg(),
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use burn_ndarray::NdArray;

    type Be = NdArray<f64>;

    fn scalar_derivs(activation: Activation, x: f64) -> Vec<f64> {
        let device = Default::default();
        let z = Tensor::<Be, 2>::from_data(TensorData::new(vec![x], [1, 1]), &device);
        activation_derivatives(activation, &z, 5)
            .into_iter()
            .map(|t| t.into_data().to_vec::<f64>().unwrap()[0])
            .collect()
    }

    fn reference(activation: Activation, x: f64) -> f64 {
        let s = 1.0 / (1.0 + (-x).exp());
        match activation {
            Activation::Tanh => x.tanh(),
            Activation::Sin => x.sin(),
            Activation::Sigmoid => s,
            Activation::Softplus => (1.0 + x.exp()).ln(),
            Activation::Silu => x * s,
        }
    }

    /// Each derivative k+1 matches a central difference of derivative k
    /// (h = 1e-5, truncation ~h² ≈ 1e-10), and order 0 matches the scalar formula.
    #[test]
    fn activation_derivatives_match_finite_differences() {
        let all = [
            Activation::Tanh,
            Activation::Sin,
            Activation::Sigmoid,
            Activation::Softplus,
            Activation::Silu,
        ];
        for activation in all {
            for &x in &[-1.3, -0.2, 0.4, 1.7] {
                let d = scalar_derivs(activation, x);
                assert!((d[0] - reference(activation, x)).abs() < 1e-14);
                let h = 1e-5;
                let plus = scalar_derivs(activation, x + h);
                let minus = scalar_derivs(activation, x - h);
                for k in 0..5 {
                    let fd = (plus[k] - minus[k]) / (2.0 * h);
                    assert!(
                        (fd - d[k + 1]).abs() < 1e-8 * (1.0 + d[k + 1].abs()),
                        "{activation:?} order {} at {x}: {} vs {fd}",
                        k + 1,
                        d[k + 1]
                    );
                }
            }
        }
    }

    #[test]
    fn layout_counts_and_offsets() {
        let net = NetworkLayout {
            widths: vec![2, 20, 20, 20, 20, 1],
            offset: 7,
        };
        assert_eq!(net.n_params(), 1341);
        assert_eq!(net.layer_offset(0), 7);
        assert_eq!(net.layer_offset(1), 7 + 60);
        let mut theta = vec![1.0; 1348];
        net.init(&mut theta, &mut init_rng(3));
        assert!(theta[..7].iter().all(|&v| v == 1.0));
        // Biases of layer 0 are zero, weights within the Glorot bound.
        assert!(theta[7 + 40..7 + 60].iter().all(|&v| v == 0.0));
        let limit = (6.0f64 / 22.0).sqrt();
        assert!(theta[7..47].iter().all(|v| v.abs() <= limit && *v != 0.0));
    }
}
