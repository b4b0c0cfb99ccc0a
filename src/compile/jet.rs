//! Taylor-mode jets through an MLP, and their per-sample reverse pass.
//!
//! A *channel* is one derivative `D^α h` (or the summed Laplacian `Δh`) of
//! every layer's activations, held as its own tensor `[M, width]` over the M
//! evaluation points (channel 0 is the value). A linear layer maps each channel
//! with one product, `z_c = h_c Wᵀ` (the bias enters only the value channel);
//! an activation maps channels by Faà di Bruno,
//! `D^α σ(z) = Σ_{partitions π of α} σ^{(|π|)}(z) Π_{B∈π} z_B`, whose terms
//! are enumerated and grouped once per plan ([`ChannelPlan::new`]); the
//! Laplacian channel uses `Δh = σ''(z) Σ_i z_i² + σ'(z) Δz`.
//!
//! The reverse pass ([`backward`]) carries per-point cotangents of the output
//! channels back to every pre-activation channel without summing over points.
//! The Jacobian of weight `W_l` at point i is then `Σ_c δz_c[i] ⊗ h_c[i]`:
//! either written row by row on the host ([`host_layers`], the default) or
//! formed as a batched product `[M, out, C] × [M, C, in]` on the device
//! ([`per_sample_jacobian`]). The gradient alone sums over points first
//! ([`summed_gradient`]).

use crate::compile::ansatz::activation_derivatives;
use crate::compile::embedding::Embedding;
use crate::ir::{Activation, MultiIndex};
use burn::tensor::{backend::Backend, Tensor};
use std::collections::BTreeMap;

/// What a channel carries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChannelKind {
    /// `D^α` (all zeros: the value).
    Partial(MultiIndex),
    /// The Laplacian over the listed (spatial) coordinates, summed.
    Laplacian,
}

/// One Faà di Bruno term: `mult · σ^{(order)}(z) · Π z_{factors}`.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    mult: f64,
    order: usize,
    factors: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Value,
    Partial(Vec<Term>),
    /// `Δh = σ''(z) Σ_i z_i² + σ'(z) Δz`; `first` holds the channels `z_i`.
    Laplacian {
        first: Vec<usize>,
    },
}

/// The channels propagated through a network and how each is formed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelPlan {
    kinds: Vec<ChannelKind>,
    rules: Vec<Rule>,
    n_inputs: usize,
    max_order: usize,
    /// The coordinates the Laplacian sums over.
    spatial: Vec<usize>,
    /// The map from the coordinates to the first layer's inputs.
    embedding: Embedding,
}

impl ChannelPlan {
    /// The plan for `wanted` channels and everything they need: every
    /// sub-multi-index of each `D^α`, and the value and first-order spatial
    /// channels for the Laplacian. Channel 0 is always the value.
    ///
    /// `spatial` lists the coordinates the Laplacian sums over.
    pub fn new(n_inputs: usize, spatial: &[usize], wanted: &[ChannelKind]) -> Self {
        let mut set: std::collections::BTreeSet<(usize, ChannelKind)> = Default::default();
        let zero = vec![0u8; n_inputs];
        set.insert((0, ChannelKind::Partial(zero.clone())));
        for kind in wanted {
            match kind {
                ChannelKind::Partial(alpha) => {
                    for beta in sub_indices(alpha) {
                        let order = beta.iter().map(|&b| b as usize).sum();
                        set.insert((order, ChannelKind::Partial(beta)));
                    }
                }
                ChannelKind::Laplacian => {
                    for &i in spatial {
                        let mut e = zero.clone();
                        e[i] = 1;
                        set.insert((1, ChannelKind::Partial(e)));
                    }
                    set.insert((2, ChannelKind::Laplacian));
                }
            }
        }
        let kinds: Vec<ChannelKind> = set.into_iter().map(|(_, k)| k).collect();
        let index: BTreeMap<ChannelKind, usize> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let mut max_order = 0;
        let rules = kinds
            .iter()
            .map(|kind| match kind {
                ChannelKind::Partial(alpha) if alpha.iter().all(|&a| a == 0) => Rule::Value,
                ChannelKind::Partial(alpha) => {
                    let terms = faa_di_bruno_terms(alpha, &index);
                    max_order = max_order.max(terms.iter().map(|t| t.order).max().unwrap_or(0));
                    Rule::Partial(terms)
                }
                ChannelKind::Laplacian => {
                    max_order = max_order.max(2);
                    let first = spatial
                        .iter()
                        .map(|&i| {
                            let mut e = zero.clone();
                            e[i] = 1;
                            index[&ChannelKind::Partial(e)]
                        })
                        .collect();
                    Rule::Laplacian { first }
                }
            })
            .collect();
        ChannelPlan {
            kinds,
            rules,
            n_inputs,
            max_order,
            spatial: spatial.to_vec(),
            embedding: Embedding::identity(n_inputs),
        }
    }

    /// The plan with the networks' inputs `embedding(x)` instead of x (the
    /// default is the identity). The channels stay derivatives in the
    /// coordinates; only the input jets change.
    pub fn with_embedding(mut self, embedding: Embedding) -> Self {
        self.embedding = embedding;
        self
    }

    /// The channel carrying `kind`, if the plan has it.
    pub fn channel(&self, kind: &ChannelKind) -> Option<usize> {
        self.kinds.iter().position(|k| k == kind)
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Always false: the value channel is always present.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The channels, in order.
    pub fn kinds(&self) -> &[ChannelKind] {
        &self.kinds
    }

    /// Highest activation derivative the forward pass uses.
    pub fn max_order(&self) -> usize {
        self.max_order
    }

    /// The jets of the first layer's inputs: for the coordinates themselves
    /// `x` for the value, the unit vector `e_i` for `∂_i`, zero otherwise;
    /// through an embedding, its closed-form jets ([`Embedding::channels`]).
    ///
    /// # Shapes
    /// - `x`: `[M, n_inputs]`; each channel `[M, embedding width]`
    fn input_channels<B: Backend>(&self, x: &Tensor<B, 2>) -> Vec<Tensor<B, 2>> {
        if !self.embedding.is_identity() {
            return self.embedding.channels(&self.kinds, &self.spatial, x);
        }
        let [m, d] = x.dims();
        let device = x.device();
        self.kinds
            .iter()
            .map(|kind| match kind {
                ChannelKind::Partial(alpha) => {
                    let order: usize = alpha.iter().map(|&a| a as usize).sum();
                    match order {
                        0 => x.clone(),
                        1 => {
                            let i = alpha.iter().position(|&a| a == 1).unwrap_or(0);
                            let mut row = vec![0.0; d];
                            row[i] = 1.0;
                            Tensor::<B, 1>::from_floats(row.as_slice(), &device)
                                .reshape([1, d])
                                .expand([m, d])
                        }
                        _ => Tensor::zeros([m, d], &device),
                    }
                }
                ChannelKind::Laplacian => Tensor::zeros([m, d], &device),
            })
            .collect()
    }
}

/// Every β ≤ α componentwise (α included, ∅ included).
fn sub_indices(alpha: &[u8]) -> Vec<MultiIndex> {
    let mut out = vec![Vec::new()];
    for &a in alpha {
        out = out
            .into_iter()
            .flat_map(|prefix: MultiIndex| {
                (0..=a).map(move |b| {
                    let mut p = prefix.clone();
                    p.push(b);
                    p
                })
            })
            .collect();
    }
    out
}

/// Faà di Bruno terms for `D^α σ(z)`: set partitions of α's positions,
/// grouped by (number of blocks, sorted block channels) with multiplicities.
fn faa_di_bruno_terms(alpha: &[u8], index: &BTreeMap<ChannelKind, usize>) -> Vec<Term> {
    let positions: Vec<usize> = alpha
        .iter()
        .enumerate()
        .flat_map(|(i, &a)| std::iter::repeat_n(i, a as usize))
        .collect();
    let mut partitions: Vec<Vec<Vec<usize>>> = Vec::new();
    let mut current: Vec<Vec<usize>> = Vec::new();
    set_partitions(positions.len(), 0, &mut current, &mut partitions);
    let mut grouped: BTreeMap<Vec<usize>, f64> = BTreeMap::new();
    for partition in partitions {
        let mut factors: Vec<usize> = partition
            .iter()
            .map(|block| {
                let mut beta = vec![0u8; alpha.len()];
                for &p in block {
                    beta[positions[p]] += 1;
                }
                index[&ChannelKind::Partial(beta)]
            })
            .collect();
        factors.sort_unstable();
        *grouped.entry(factors).or_insert(0.0) += 1.0;
    }
    grouped
        .into_iter()
        .map(|(factors, mult)| Term {
            mult,
            order: factors.len(),
            factors,
        })
        .collect()
}

fn set_partitions(
    n: usize,
    next: usize,
    current: &mut Vec<Vec<usize>>,
    out: &mut Vec<Vec<Vec<usize>>>,
) {
    if next == n {
        out.push(current.clone());
        return;
    }
    for b in 0..current.len() {
        current[b].push(next);
        set_partitions(n, next + 1, current, out);
        current[b].pop();
    }
    current.push(vec![next]);
    set_partitions(n, next + 1, current, out);
    current.pop();
}

/// Stored intermediate values of one jet forward pass.
#[derive(Debug, Clone)]
pub struct JetForward<B: Backend> {
    /// Input channels of each linear layer (`h[0]` are the input jets).
    pub h: Vec<Vec<Tensor<B, 2>>>,
    /// Pre-activation channels of each hidden layer.
    pub z: Vec<Vec<Tensor<B, 2>>>,
    /// `σ^{(k)}(z_∅)` of each hidden layer, `k = 0..=max_order (+1 with backward)`.
    pub derivs: Vec<Vec<Tensor<B, 2>>>,
    /// Output channels `[M, n_out]`.
    pub out: Vec<Tensor<B, 2>>,
}

/// `z_c = h_c Wᵀ` per channel, plus the bias on the value.
///
/// One product per channel rather than one over the concatenated channels:
/// on burn-ndarray both concatenating and slicing copy, and the products are
/// large enough (`[M, in] × [in, out]`) that splitting them costs nothing.
fn linear<B: Backend>(
    channels: &[Tensor<B, 2>],
    weight: &Tensor<B, 2>,
    bias: &Tensor<B, 2>,
) -> Vec<Tensor<B, 2>> {
    let transposed = weight.clone().transpose();
    channels
        .iter()
        .enumerate()
        .map(|(c, h)| {
            let z = h.clone().matmul(transposed.clone());
            if c == 0 {
                z.add(bias.clone())
            } else {
                z
            }
        })
        .collect()
}

fn product<B: Backend>(z: &[Tensor<B, 2>], factors: &[usize]) -> Tensor<B, 2> {
    let mut acc = z[factors[0]].clone();
    for &f in &factors[1..] {
        acc = acc.mul(z[f].clone());
    }
    acc
}

fn accumulate<B: Backend>(slot: &mut Option<Tensor<B, 2>>, value: Tensor<B, 2>) {
    *slot = Some(match slot.take() {
        Some(acc) => acc.add(value),
        None => value,
    });
}

/// `h = σ(z)` on every channel.
fn activate<B: Backend>(
    plan: &ChannelPlan,
    z: &[Tensor<B, 2>],
    derivs: &[Tensor<B, 2>],
) -> Vec<Tensor<B, 2>> {
    plan.rules
        .iter()
        .enumerate()
        .map(|(c, rule)| match rule {
            Rule::Value => derivs[0].clone(),
            Rule::Partial(terms) => {
                // Group by the derivative order so each σ^{(k)} multiplies once.
                let mut by_order: BTreeMap<usize, Tensor<B, 2>> = BTreeMap::new();
                for term in terms {
                    let mut p = product(z, &term.factors);
                    if term.mult != 1.0 {
                        p = p.mul_scalar(term.mult);
                    }
                    let entry = by_order.remove(&term.order);
                    by_order.insert(term.order, entry.map_or(p.clone(), |e| e.add(p)));
                }
                let mut acc: Option<Tensor<B, 2>> = None;
                for (order, sum) in by_order {
                    accumulate(&mut acc, sum.mul(derivs[order].clone()));
                }
                acc.expect("a derivative channel has at least one term")
            }
            Rule::Laplacian { first } => {
                let squares = first
                    .iter()
                    .map(|&i| z[i].clone().powi_scalar(2))
                    .reduce(|a, b| a.add(b))
                    .unwrap_or_else(|| z[0].zeros_like());
                squares
                    .mul(derivs[2].clone())
                    .add(z[c].clone().mul(derivs[1].clone()))
            }
        })
        .collect()
}

/// Pushes the plan's channels through the network.
///
/// `with_backward` also stores the derivative one order higher, which the
/// reverse pass needs.
///
/// # Shapes
/// - `x`: `[M, n_inputs]`
/// - `layers`: per layer `(W [out, in], b [1, out])`
/// - output channels `[M, n_out]`, in plan order
pub fn forward<B: Backend>(
    plan: &ChannelPlan,
    activation: Activation,
    layers: &[(Tensor<B, 2>, Tensor<B, 2>)],
    x: &Tensor<B, 2>,
    with_backward: bool,
) -> JetForward<B> {
    debug_assert_eq!(x.dims()[1], plan.n_inputs);
    let order = plan.max_order + usize::from(with_backward);
    let mut h = vec![plan.input_channels(x)];
    let mut zs = Vec::new();
    let mut derivs_all = Vec::new();
    let n_layers = layers.len();
    for (l, (weight, bias)) in layers.iter().enumerate() {
        let z = linear(h.last().expect("input channels"), weight, bias);
        if l + 1 == n_layers {
            return JetForward {
                h,
                z: zs,
                derivs: derivs_all,
                out: z,
            };
        }
        let derivs = activation_derivatives(activation, &z[0], order.max(1));
        h.push(activate(plan, &z, &derivs));
        zs.push(z);
        derivs_all.push(derivs);
    }
    // No layers at all cannot happen (the output layer always exists).
    JetForward {
        out: h.last().cloned().unwrap_or_default(),
        h,
        z: zs,
        derivs: derivs_all,
    }
}

/// Reverse of [`activate`]: cotangents of `h` channels → cotangents of `z` channels.
fn activate_backward<B: Backend>(
    plan: &ChannelPlan,
    z: &[Tensor<B, 2>],
    derivs: &[Tensor<B, 2>],
    dh: &[Option<Tensor<B, 2>>],
) -> Vec<Option<Tensor<B, 2>>> {
    let mut dz: Vec<Option<Tensor<B, 2>>> = vec![None; plan.len()];
    for (c, rule) in plan.rules.iter().enumerate() {
        let Some(g) = &dh[c] else { continue };
        match rule {
            Rule::Value => accumulate(&mut dz[0], g.clone().mul(derivs[1].clone())),
            Rule::Partial(terms) => {
                let mut value_coef: BTreeMap<usize, Tensor<B, 2>> = BTreeMap::new();
                for term in terms {
                    // ∂/∂z_∅: σ^{(k+1)} Π z_B.
                    let mut p = product(z, &term.factors);
                    if term.mult != 1.0 {
                        p = p.mul_scalar(term.mult);
                    }
                    let e = value_coef.remove(&(term.order + 1));
                    value_coef.insert(term.order + 1, e.map_or(p.clone(), |e| e.add(p)));
                    // ∂/∂z_B for each factor position: σ^{(k)} Π_{others} z.
                    let scaled = g.clone().mul(derivs[term.order].clone());
                    let scaled = if term.mult != 1.0 {
                        scaled.mul_scalar(term.mult)
                    } else {
                        scaled
                    };
                    for j in 0..term.factors.len() {
                        let mut piece = scaled.clone();
                        for (i, &f) in term.factors.iter().enumerate() {
                            if i != j {
                                piece = piece.mul(z[f].clone());
                            }
                        }
                        accumulate(&mut dz[term.factors[j]], piece);
                    }
                }
                let mut sum: Option<Tensor<B, 2>> = None;
                for (order, coef) in value_coef {
                    accumulate(&mut sum, coef.mul(derivs[order].clone()));
                }
                if let Some(sum) = sum {
                    accumulate(&mut dz[0], sum.mul(g.clone()));
                }
            }
            Rule::Laplacian { first } => {
                let squares = first
                    .iter()
                    .map(|&i| z[i].clone().powi_scalar(2))
                    .reduce(|a, b| a.add(b))
                    .unwrap_or_else(|| z[0].zeros_like());
                let value = squares
                    .mul(derivs[3].clone())
                    .add(z[c].clone().mul(derivs[2].clone()));
                accumulate(&mut dz[0], value.mul(g.clone()));
                let g2 = g.clone().mul(derivs[2].clone()).mul_scalar(2.0);
                for &i in first {
                    accumulate(&mut dz[i], g2.clone().mul(z[i].clone()));
                }
                accumulate(&mut dz[c], g.clone().mul(derivs[1].clone()));
            }
        }
    }
    dz
}

/// Per-point cotangents of every linear layer's output channels.
///
/// `seed[c]` is the cotangent of output channel `c` (`None` = zero). The
/// result, indexed like the layers, holds `δz_c` (`None` where zero). Nothing
/// is summed over points.
///
/// # Shapes
/// - `seed[c]`: `[M, n_out]`; layer `l`'s cotangents `[M, out_l]`
pub fn backward<B: Backend>(
    plan: &ChannelPlan,
    layers: &[(Tensor<B, 2>, Tensor<B, 2>)],
    fwd: &JetForward<B>,
    seed: Vec<Option<Tensor<B, 2>>>,
) -> Vec<Vec<Option<Tensor<B, 2>>>> {
    let n_layers = layers.len();
    let mut result = vec![Vec::new(); n_layers];
    let mut dz = seed;
    for l in (0..n_layers).rev() {
        result[l] = dz.clone();
        if l == 0 {
            break;
        }
        // δh_c = δz_c W per non-zero channel.
        let dh: Vec<Option<Tensor<B, 2>>> = dz
            .iter()
            .map(|d| d.as_ref().map(|d| d.clone().matmul(layers[l].0.clone())))
            .collect();
        dz = activate_backward(plan, &fwd.z[l - 1], &fwd.derivs[l - 1], &dh);
    }
    result
}

/// Per-point Jacobian blocks of every layer: `[M, out·in]` for `W_l`
/// (row-major `[out, in]` per point) followed by `[M, out]` for `b_l`.
///
/// # Shapes
/// - returns `2·n_layers` tensors, each `[M, ·]`, in θ order
pub fn per_sample_jacobian<B: Backend>(
    fwd: &JetForward<B>,
    cotangents: &[Vec<Option<Tensor<B, 2>>>],
    layers: &[(Tensor<B, 2>, Tensor<B, 2>)],
) -> Vec<Tensor<B, 2>> {
    let [m, _] = fwd.h[0][0].dims();
    let device = fwd.h[0][0].device();
    let mut pieces = Vec::with_capacity(2 * cotangents.len());
    for (l, dz) in cotangents.iter().enumerate() {
        let [n_out, n_in] = layers[l].0.dims();
        let present: Vec<usize> = (0..dz.len()).filter(|&c| dz[c].is_some()).collect();
        if present.is_empty() {
            pieces.push(Tensor::zeros([m, n_out * n_in], &device));
            pieces.push(Tensor::zeros([m, n_out], &device));
            continue;
        }
        // J_W[i] = Σ_c δz_c[i] ⊗ h_c[i]: [M, out, C] × [M, C, in].
        let deltas: Tensor<B, 3> = Tensor::stack(
            present
                .iter()
                .map(|&c| dz[c].clone().expect("present"))
                .collect(),
            2,
        );
        let inputs: Tensor<B, 3> =
            Tensor::stack(present.iter().map(|&c| fwd.h[l][c].clone()).collect(), 1);
        pieces.push(deltas.matmul(inputs).reshape([m, n_out * n_in]));
        pieces.push(
            dz[0]
                .clone()
                .unwrap_or_else(|| Tensor::zeros([m, n_out], &device)),
        );
    }
    pieces
}

/// One layer's per-point cotangents and inputs, read back to the host, for
/// writing Jacobian rows straight into the caller's buffer.
#[derive(Debug, Clone)]
pub struct HostLayer {
    n_in: usize,
    n_out: usize,
    n_points: usize,
    /// `[C', M, out]` for the non-zero channels, value channel first when present.
    deltas: Vec<f64>,
    /// `[C', M, in]`, the matching input channels.
    inputs: Vec<f64>,
    n_channels: usize,
    /// Whether channel 0 of `deltas` is the value channel (bias rows).
    has_value: bool,
}

impl HostLayer {
    /// Parameters of the layer (`out·in + out`).
    pub fn n_params(&self) -> usize {
        self.n_out * (self.n_in + 1)
    }

    /// Writes (`accumulate = false`, every entry overwritten) or adds point
    /// `i`'s Jacobian row of this layer (`W` row-major, then `b`) into `row`
    /// (length [`Self::n_params`]): `row_W = Σ_c δz_c[i] ⊗ h_c[i]`, `row_b = δz_∅[i]`.
    pub fn write_row(&self, i: usize, row: &mut [f64], accumulate: bool) {
        let (n_in, n_out, m) = (self.n_in, self.n_out, self.n_points);
        let (weights, bias) = row.split_at_mut(n_out * n_in);
        if self.n_channels == 0 {
            if !accumulate {
                row.fill(0.0);
            }
            return;
        }
        for c in 0..self.n_channels {
            let delta = &self.deltas[(c * m + i) * n_out..(c * m + i + 1) * n_out];
            let input = &self.inputs[(c * m + i) * n_in..(c * m + i + 1) * n_in];
            let assign = c == 0 && !accumulate;
            for (&d, out) in delta.iter().zip(weights.chunks_exact_mut(n_in)) {
                if assign {
                    for (w, &x) in out.iter_mut().zip(input) {
                        *w = d * x;
                    }
                } else {
                    for (w, &x) in out.iter_mut().zip(input) {
                        *w += d * x;
                    }
                }
            }
        }
        let value = &self.deltas[i * n_out..(i + 1) * n_out];
        match (self.has_value, accumulate) {
            (true, false) => bias.copy_from_slice(value),
            (true, true) => bias.iter_mut().zip(value).for_each(|(b, d)| *b += d),
            (false, false) => bias.fill(0.0),
            (false, true) => {}
        }
    }
}

/// Reads every layer's non-zero cotangent channels and matching inputs back
/// to the host (one transfer per layer and kind).
pub fn host_layers<B: Backend>(
    fwd: &JetForward<B>,
    cotangents: &[Vec<Option<Tensor<B, 2>>>],
    layers: &[(Tensor<B, 2>, Tensor<B, 2>)],
) -> Vec<HostLayer> {
    let [m, _] = fwd.h[0][0].dims();
    cotangents
        .iter()
        .enumerate()
        .map(|(l, dz)| {
            let [n_out, n_in] = layers[l].0.dims();
            let present: Vec<usize> = (0..dz.len()).filter(|&c| dz[c].is_some()).collect();
            // One concatenation makes a fresh, unshared array, which burn-ndarray
            // hands back without a copy; reading shared channel tensors one by
            // one would go through a slow element iterator.
            let read = |ts: Vec<Tensor<B, 2>>| -> Vec<f64> {
                if ts.is_empty() {
                    return Vec::new();
                }
                Tensor::cat(ts, 0)
                    .into_data()
                    .into_vec::<f64>()
                    .expect("f64 tensor")
            };
            HostLayer {
                n_in,
                n_out,
                n_points: m,
                deltas: read(
                    present
                        .iter()
                        .map(|&c| dz[c].clone().expect("present"))
                        .collect(),
                ),
                inputs: read(present.iter().map(|&c| fwd.h[l][c].clone()).collect()),
                n_channels: present.len(),
                has_value: present.first() == Some(&0),
            }
        })
        .collect()
}

/// The gradient `Σ_i J_iᵀ` for cotangents already weighted by the residual:
/// per layer `Σ_c δz_cᵀ h_c` flattened `[out·in]`, then `Σ_i δz_∅` `[out]`.
///
/// # Shapes
/// - returns `2·n_layers` tensors of shape `[len]`, in θ order
pub fn summed_gradient<B: Backend>(
    fwd: &JetForward<B>,
    cotangents: &[Vec<Option<Tensor<B, 2>>>],
    layers: &[(Tensor<B, 2>, Tensor<B, 2>)],
) -> Vec<Tensor<B, 1>> {
    let device = fwd.h[0][0].device();
    let mut pieces = Vec::with_capacity(2 * cotangents.len());
    for (l, dz) in cotangents.iter().enumerate() {
        let [n_out, n_in] = layers[l].0.dims();
        let present: Vec<usize> = (0..dz.len()).filter(|&c| dz[c].is_some()).collect();
        if present.is_empty() {
            pieces.push(Tensor::zeros([n_out * n_in], &device));
            pieces.push(Tensor::zeros([n_out], &device));
            continue;
        }
        let deltas = Tensor::cat(
            present
                .iter()
                .map(|&c| dz[c].clone().expect("present"))
                .collect(),
            0,
        );
        let inputs = Tensor::cat(present.iter().map(|&c| fwd.h[l][c].clone()).collect(), 0);
        pieces.push(deltas.transpose().matmul(inputs).reshape([n_out * n_in]));
        pieces.push(match &dz[0] {
            Some(d) => d.clone().sum_dim(0).reshape([n_out]),
            None => Tensor::zeros([n_out], &device),
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    /// D⁴ of σ(z) in one variable: 15 set partitions grouped into the
    /// Faà di Bruno terms with multiplicities 1 (4), 4 (3+1), 3 (2+2), 6 (2+1+1), 1 (1+1+1+1).
    #[test]
    fn faa_di_bruno_fourth_order_terms() {
        let plan = ChannelPlan::new(1, &[0], &[ChannelKind::Partial(vec![4])]);
        assert_eq!(plan.len(), 5);
        let Rule::Partial(terms) = &plan.rules[4] else {
            panic!("partial rule")
        };
        let mut got: Vec<(usize, f64)> = terms.iter().map(|t| (t.order, t.mult)).collect();
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(got, vec![(1, 1.0), (2, 3.0), (2, 4.0), (3, 6.0), (4, 1.0)]);
        assert_eq!(plan.max_order(), 4);
    }

    /// A mixed index closes over all its sub-indices; the Laplacian adds the
    /// value and first-order spatial channels only.
    #[test]
    fn plan_closure() {
        let plan = ChannelPlan::new(2, &[1], &[ChannelKind::Partial(vec![2, 1])]);
        assert_eq!(plan.len(), 6);
        let plan = ChannelPlan::new(3, &[0, 2], &[ChannelKind::Laplacian]);
        assert_eq!(
            plan.kinds(),
            &[
                ChannelKind::Partial(vec![0, 0, 0]),
                ChannelKind::Partial(vec![0, 0, 1]),
                ChannelKind::Partial(vec![1, 0, 0]),
                ChannelKind::Laplacian,
            ]
        );
    }
}
