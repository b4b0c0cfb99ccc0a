//! [`CompiledProblem`]: a problem compiled for one backend, its parameter
//! layout, and its queries (r, J, Jᵀr, jets and fields at points, errors
//! against the exact solutions).

use super::assembly::Mode;
use super::error::{CompileError, FieldError, MAX_JET_ORDER};
use super::value::{eval_dag, to_vec, to_vec2, Value};
use crate::compile::ansatz::{init_rng, NetworkLayout};
use crate::compile::embedding::Embedding;
use crate::compile::jet::{self, ChannelKind, ChannelPlan};
use crate::compile::points::PointSet;
use crate::ir::{Deriv, ExactSource, Node, Problem, Region};
use burn::tensor::{backend::Backend, Tensor, TensorData};

/// Where the weight blocks of J are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JacobianAssembly {
    /// Per-point cotangents and inputs are read back and each row of J is
    /// written once, straight into the result (`Σ_c δz_c ⊗ h_c`, in parallel
    /// over rows). The fastest on CPU, where J ends up anyway.
    #[default]
    Host,
    /// A batched product `[M, out, C] × [M, C, in]` per layer on the device,
    /// the pieces concatenated to `[N, P]` and read back.
    Device,
}

/// Rows per forward pass of [`CompiledProblem::residual`]: larger sets are evaluated in
/// chunks of this many rows. The forward pass keeps every layer's jets of every point
/// (about 25 kB a point for Kovasznay's network of 4×50 with second derivatives), so a
/// held-out set of 10,000 points took 500 MB in one pass.
pub const RESIDUAL_CHUNK_ROWS: usize = 2048;

/// A [`Problem`] compiled to tensor programs on backend `B`.
#[derive(Debug, Clone)]
pub struct CompiledProblem<B: Backend> {
    pub(super) device: B::Device,
    pub(super) problem: Problem,
    pub(super) networks: Vec<NetworkLayout>,
    /// Per network, the coordinates it takes (`None`: all of them).
    pub(super) network_inputs: Vec<Option<Vec<i64>>>,
    /// Per field, its network and output column.
    pub(super) field_slots: Vec<(usize, usize)>,
    /// The input map of a network of all coordinates.
    pub(super) embedding: Embedding,
    /// Per network, its input map (over its coordinates).
    pub(super) embeddings: Vec<Embedding>,
    pub(super) plans: Vec<ChannelPlan>,
    /// Per problem jet: (network, channel, output column).
    pub(super) jet_slots: Vec<(usize, usize, usize)>,
    pub(super) n_network_params: usize,
    pub(super) assembly: JacobianAssembly,
}

/// The channel of a network over coordinates `coords` (ascending; `spatial`:
/// the positions of the spatial ones among them) that carries `deriv`, a
/// derivative over all `n_coords` coordinates.
///
/// # Errors
/// A malformed multi-index, a derivative in a coordinate outside `coords`, a
/// Laplacian over no spatial coordinate.
fn network_kind(
    deriv: &Deriv,
    n_coords: usize,
    coords: &[usize],
    spatial: &[usize],
) -> Result<ChannelKind, CompileError> {
    match deriv {
        Deriv::Partial(alpha) => {
            if alpha.len() != n_coords {
                return Err(CompileError::BadMultiIndex {
                    got: alpha.len(),
                    expected: n_coords,
                });
            }
            if let Some(coord) = (0..n_coords).find(|i| alpha[*i] > 0 && !coords.contains(i)) {
                return Err(CompileError::NotAnInput { coord });
            }
            Ok(ChannelKind::Partial(
                coords.iter().map(|&i| alpha[i]).collect(),
            ))
        }
        Deriv::Laplacian => {
            if spatial.is_empty() {
                return Err(CompileError::LaplacianWithoutSpace);
            }
            Ok(ChannelKind::Laplacian)
        }
    }
}

impl<B: Backend> CompiledProblem<B> {
    /// Compiles `problem` for evaluation on `device`.
    ///
    /// # Errors
    /// A jet of order above 4 or with a malformed multi-index, a Laplacian in
    /// a problem without spatial coordinates.
    pub fn new(problem: &Problem, device: &B::Device) -> Result<Self, CompileError> {
        let n_coords = problem.coords.len();
        let n_fields = problem.fields.len();
        let spatial = problem.spatial_coords();
        let shared = problem.model.shared;
        let embedding = Embedding::new(problem);
        // Fields of all coordinates share one network under `shared`; a field of
        // some coordinates only always has its own.
        let mut network_inputs: Vec<Option<Vec<usize>>> = Vec::new();
        let mut n_outputs: Vec<usize> = Vec::new();
        let mut field_slots = Vec::with_capacity(n_fields);
        let mut shared_net = None;
        for field in &problem.fields {
            match (&field.coords, shared) {
                (None, true) => {
                    let net = *shared_net.get_or_insert_with(|| {
                        network_inputs.push(None);
                        n_outputs.push(0);
                        network_inputs.len() - 1
                    });
                    field_slots.push((net, n_outputs[net]));
                    n_outputs[net] += 1;
                }
                (coords, _) => {
                    network_inputs.push(coords.clone());
                    n_outputs.push(1);
                    field_slots.push((network_inputs.len() - 1, 0));
                }
            }
        }
        let n_networks = network_inputs.len();
        let embeddings: Vec<Embedding> = network_inputs
            .iter()
            .map(|inputs| match inputs {
                None => embedding.clone(),
                Some(coords) => embedding.restrict(coords),
            })
            .collect();
        let mut networks = Vec::with_capacity(n_networks);
        let mut offset = 0;
        for (net, embedding) in embeddings.iter().enumerate() {
            let mut widths = vec![embedding.width()];
            widths.extend(&problem.model.layers);
            widths.push(n_outputs[net]);
            let net = NetworkLayout { widths, offset };
            offset += net.n_params();
            networks.push(net);
        }
        // Per network: its coordinates and, among them, the spatial ones.
        let all: Vec<usize> = (0..n_coords).collect();
        let net_coords: Vec<&[usize]> = network_inputs
            .iter()
            .map(|inputs| inputs.as_deref().unwrap_or(&all))
            .collect();
        let net_spatial: Vec<Vec<usize>> = net_coords
            .iter()
            .map(|coords| {
                (0..coords.len())
                    .filter(|&j| spatial.contains(&coords[j]))
                    .collect()
            })
            .collect();
        let mut wanted: Vec<Vec<ChannelKind>> = vec![Vec::new(); n_networks];
        let mut kinds = Vec::with_capacity(problem.jets.len());
        for jet in &problem.jets {
            let (net, col) = field_slots[jet.field];
            let kind = network_kind(&jet.deriv, n_coords, net_coords[net], &net_spatial[net])?;
            if jet.order() > MAX_JET_ORDER {
                return Err(CompileError::OrderTooHigh { order: jet.order() });
            }
            wanted[net].push(kind.clone());
            kinds.push((net, kind, col));
        }
        let plans: Vec<ChannelPlan> = wanted
            .iter()
            .enumerate()
            .map(|(net, w)| {
                ChannelPlan::new(net_coords[net].len(), &net_spatial[net], w)
                    .with_embedding(embeddings[net].clone())
            })
            .collect();
        let jet_slots = kinds
            .into_iter()
            .map(|(net, kind, col)| (net, plans[net].channel(&kind).expect("planned"), col))
            .collect();
        let network_inputs = network_inputs
            .into_iter()
            .map(|inputs| inputs.map(|c| c.into_iter().map(|i| i as i64).collect()))
            .collect();
        Ok(CompiledProblem {
            device: device.clone(),
            problem: problem.clone(),
            networks,
            network_inputs,
            field_slots,
            embedding,
            embeddings,
            plans,
            jet_slots,
            n_network_params: offset,
            assembly: JacobianAssembly::default(),
        })
    }

    /// Chooses where J's weight blocks are formed (default [`JacobianAssembly::Host`]).
    pub fn with_assembly(mut self, assembly: JacobianAssembly) -> Self {
        self.assembly = assembly;
        self
    }

    /// Number of parameters P: network weights, then trainable params.
    pub fn n_params(&self) -> usize {
        self.n_network_params + self.problem.params.len()
    }

    /// The networks' places in θ (see [`crate::compile::ansatz`] for the layout).
    pub fn networks(&self) -> &[NetworkLayout] {
        &self.networks
    }

    /// The map from the coordinates to the inputs of a network of all coordinates.
    pub fn embedding(&self) -> &Embedding {
        &self.embedding
    }

    /// Per field, its network (index into [`Self::networks`]) and output column.
    pub fn field_slots(&self) -> &[(usize, usize)] {
        &self.field_slots
    }

    /// The columns of `points` that network `net` takes.
    ///
    /// # Shapes
    /// - `points`: `[M, d]`; returns `[M, n_inputs]`
    pub(super) fn network_input(&self, net: usize, points: &Tensor<B, 2>) -> Tensor<B, 2> {
        match &self.network_inputs[net] {
            None => points.clone(),
            Some(coords) => {
                let index = Tensor::<B, 1, burn::tensor::Int>::from_data(
                    TensorData::new(coords.clone(), [coords.len()]),
                    &self.device,
                );
                points.clone().select(1, index)
            }
        }
    }

    /// θ with Glorot-uniform weights from `seed`, zero biases, params at their `init`.
    pub fn init_params(&self, seed: u64) -> Vec<f64> {
        let mut theta = vec![0.0; self.n_params()];
        let mut rng = init_rng(seed);
        for net in &self.networks {
            net.init(&mut theta, &mut rng);
        }
        for (i, p) in self.problem.params.iter().enumerate() {
            theta[self.n_network_params + i] = p.init;
        }
        theta
    }

    /// Checks that `points` fit the problem: one entry per block, coordinate
    /// rows of the right length, partners for periodic blocks, normals where
    /// the residual uses them, data rows in range where it reads data.
    ///
    /// # Errors
    /// The first mismatch found.
    pub fn check_points(&self, points: &PointSet) -> Result<(), CompileError> {
        let d = self.problem.coords.len();
        if points.blocks.len() != self.problem.blocks.len() {
            return Err(CompileError::BlockCount {
                got: points.blocks.len(),
                expected: self.problem.blocks.len(),
            });
        }
        for (b, (block, pts)) in self.problem.blocks.iter().zip(&points.blocks).enumerate() {
            let bad = |message: String| CompileError::BadPoints { block: b, message };
            if pts.points.len() != pts.n * d {
                return Err(bad(format!(
                    "{} coordinates for {} points",
                    pts.points.len(),
                    pts.n
                )));
            }
            if matches!(block.region, Region::Periodic { .. })
                && pts.partner.as_ref().map(Vec::len) != Some(pts.n * d)
            {
                return Err(bad("periodic block without matching partner points".into()));
            }
            let mut roots = vec![block.residual];
            roots.extend(block.linearization.iter().map(|(_, e)| *e));
            roots.extend(block.param_derivatives.iter().map(|(_, e)| *e));
            for id in self.problem.exprs.topo_order(&roots) {
                match self.problem.exprs.node(id) {
                    Node::Normal(_) if pts.normals.as_ref().map(Vec::len) != Some(pts.n * d) => {
                        return Err(bad("the residual uses normals but none are given".into()))
                    }
                    Node::Data { set, .. } => {
                        let rows = self.problem.data.get(set).map_or(0, |s| s.n_rows());
                        match &pts.data_rows {
                            Some(r) if r.len() == pts.n && r.iter().all(|&i| i < rows) => {}
                            _ => return Err(bad("data rows missing or out of range".into())),
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    pub(super) fn tensor2(&self, values: Vec<f64>, shape: [usize; 2]) -> Tensor<B, 2> {
        Tensor::from_data(TensorData::new(values, shape), &self.device)
    }

    pub(super) fn theta_tensor(&self, theta: &[f64]) -> Tensor<B, 1> {
        Tensor::from_data(TensorData::new(theta.to_vec(), [theta.len()]), &self.device)
    }

    /// The scaled residual vector r(θ), blocks in order. Sets of more than
    /// [`RESIDUAL_CHUNK_ROWS`] rows are evaluated that many rows at a time
    /// ([`Self::residual_rows`]), which bounds the memory of the forward pass; every
    /// row is computed as in one pass.
    ///
    /// # Panics
    /// If `points` does not fit the problem (see [`Self::check_points`]) or
    /// `theta.len() != n_params()`.
    pub fn residual(&self, theta: &[f64], points: &PointSet) -> Vec<f64> {
        assert_eq!(theta.len(), self.n_params(), "θ has the wrong length");
        let n = points.n_rows();
        if n <= RESIDUAL_CHUNK_ROWS {
            let eval = self.evaluate(
                self.theta_tensor(theta),
                Some(theta),
                points,
                Mode::Residual,
                None,
                None,
            );
            return to_vec(eval.residual);
        }
        let mut residual = Vec::with_capacity(n);
        for start in (0..n).step_by(RESIDUAL_CHUNK_ROWS) {
            let end = (start + RESIDUAL_CHUNK_ROWS).min(n);
            residual.extend(self.residual_rows(theta, points, start..end));
        }
        residual
    }

    /// Rows `rows` of r(θ), evaluated on those rows' points alone; each block keeps the
    /// weight `sqrt(w/n)` of its whole count `n`.
    ///
    /// # Panics
    /// As [`Self::residual`], or when the range ends past the last row.
    pub fn residual_rows(
        &self,
        theta: &[f64],
        points: &PointSet,
        rows: std::ops::Range<usize>,
    ) -> Vec<f64> {
        to_vec(
            self.evaluate_rows(theta, points, rows, Mode::Residual, None)
                .residual,
        )
    }

    /// [`Self::evaluate`] on rows `rows` of `points` alone, with the blocks' weights of
    /// all of `points`.
    fn evaluate_rows(
        &self,
        theta: &[f64],
        points: &PointSet,
        rows: std::ops::Range<usize>,
        mode: Mode,
        jacobian: Option<&mut Vec<f64>>,
    ) -> super::assembly::Evaluation<B> {
        assert_eq!(theta.len(), self.n_params(), "θ has the wrong length");
        let counts: Vec<usize> = points.blocks.iter().map(|b| b.n).collect();
        let part = points.slice_rows(rows);
        self.evaluate(
            self.theta_tensor(theta),
            Some(theta),
            &part,
            mode,
            jacobian,
            Some(&counts),
        )
    }

    /// r(θ) as a tensor with θ a tensor, so that an autodiff backend can
    /// differentiate it (params enter as tensors too).
    ///
    /// # Shapes
    /// - `theta`: `[P]`; returns `[N]`
    pub fn residual_tensor(&self, theta: Tensor<B, 1>, points: &PointSet) -> Tensor<B, 1> {
        let n = points.n_rows();
        self.evaluate(theta, None, points, Mode::Residual, None, None)
            .residual
            .reshape([n])
    }

    /// r(θ) and J = ∂r/∂θ (row-major N×P) in one pass.
    ///
    /// # Panics
    /// As [`Self::residual`].
    pub fn residual_and_jacobian(&self, theta: &[f64], points: &PointSet) -> (Vec<f64>, Vec<f64>) {
        let mut jacobian = Vec::new();
        let residual = self.residual_and_jacobian_into(theta, points, &mut jacobian);
        (residual, jacobian)
    }

    /// As [`Self::residual_and_jacobian`], writing J into `jacobian` (resized
    /// to N·P). Reusing one buffer across calls spares the allocation and the
    /// first-touch page faults of a fresh N×P block, a large share of the
    /// cost for networks of a few thousand parameters.
    ///
    /// # Panics
    /// As [`Self::residual`].
    pub fn residual_and_jacobian_into(
        &self,
        theta: &[f64],
        points: &PointSet,
        jacobian: &mut Vec<f64>,
    ) -> Vec<f64> {
        assert_eq!(theta.len(), self.n_params(), "θ has the wrong length");
        let eval = self.evaluate(
            self.theta_tensor(theta),
            Some(theta),
            points,
            Mode::Jacobian,
            Some(&mut *jacobian),
            None,
        );
        let n = points.n_rows();
        *jacobian = eval
            .jacobian_host
            .or_else(|| eval.jacobian.map(to_vec2))
            .unwrap_or_else(|| vec![0.0; n * self.n_params()]);
        to_vec(eval.residual)
    }

    /// Rows `rows` of J (row-major, `rows.len() × P`), computed on those rows' points
    /// alone: what a Jacobian streamed in blocks needs ([`crate::solve::streamed`]).
    /// Each block keeps the weight `sqrt(w/n)` of its whole count `n`.
    ///
    /// # Panics
    /// As [`Self::residual`], or when the range ends past the last row.
    pub fn jacobian_rows(
        &self,
        theta: &[f64],
        points: &PointSet,
        rows: std::ops::Range<usize>,
    ) -> Vec<f64> {
        let n = rows.len();
        let mut jacobian = Vec::new();
        let eval = self.evaluate_rows(theta, points, rows, Mode::Jacobian, Some(&mut jacobian));
        eval.jacobian_host
            .or_else(|| eval.jacobian.map(to_vec2))
            .unwrap_or_else(|| vec![0.0; n * self.n_params()])
    }

    /// ½‖r‖² and the gradient Jᵀr, without forming J.
    ///
    /// # Panics
    /// As [`Self::residual`].
    pub fn loss_and_gradient(&self, theta: &[f64], points: &PointSet) -> (f64, Vec<f64>) {
        assert_eq!(theta.len(), self.n_params(), "θ has the wrong length");
        let eval = self.evaluate(
            self.theta_tensor(theta),
            Some(theta),
            points,
            Mode::Gradient,
            None,
            None,
        );
        let r = to_vec(eval.residual);
        let loss = 0.5 * r.iter().map(|v| v * v).sum::<f64>();
        let gradient = eval
            .gradient
            .map(|g| g.into_data().into_vec::<f64>().expect("f64 tensor"))
            .unwrap_or_else(|| vec![0.0; self.n_params()]);
        (loss, gradient)
    }

    /// One jet `D^α u_k` of the ansatz at `points` (`[n, d]` row-major): of
    /// the network, or under hard constraints of `A + φ·N` by the Leibniz rule
    /// ([`crate::ir::ansatz::ansatz_jet`]).
    ///
    /// # Panics
    /// If the field does not exist, the multi-index does not have one entry
    /// per coordinate, or the order exceeds [`MAX_JET_ORDER`]. A derivative in
    /// a coordinate the field does not depend on is 0.
    pub fn eval_jet(&self, theta: &[f64], points: &[f64], jet: &crate::ir::Jet) -> Vec<f64> {
        let Some(ansatz) = self.problem.field_ansatz(jet.field) else {
            return self.network_jet(theta, points, jet);
        };
        let d = self.problem.coords.len();
        let n = points.len() / d.max(1);
        let mut arena = self.problem.exprs.clone();
        let mut wanted: Vec<Deriv> = Vec::new();
        // Leaves for the network's jets, numbered past the problem's own.
        let first = self.problem.jets.len() as u32;
        let root = crate::ir::ansatz::ansatz_jet(
            &mut arena,
            ansatz,
            d,
            &self.problem.spatial_coords(),
            &jet.deriv,
            &mut |arena, deriv| {
                let index = match wanted.iter().position(|w| *w == deriv) {
                    Some(i) => i,
                    None => {
                        wanted.push(deriv);
                        wanted.len() - 1
                    }
                };
                arena.intern(Node::Jet(crate::ir::JetId(first + index as u32)))
            },
        );
        let network: Vec<Vec<f64>> = wanted
            .iter()
            .map(|deriv| {
                let jet = crate::ir::Jet {
                    field: jet.field,
                    deriv: deriv.clone(),
                };
                self.network_jet(theta, points, &jet)
            })
            .collect();
        let coords = self.tensor2(points.to_vec(), [n, d]);
        let mut leaf = |node: Node| -> Value<B> {
            match node {
                Node::Coord(i) => Value::Tensor(coords.clone().slice([0..n, i..i + 1])),
                Node::Jet(id) => {
                    let values = network[(id.0 - first) as usize].clone();
                    Value::Tensor(self.tensor2(values, [n, 1]))
                }
                _ => Value::Scalar(f64::NAN),
            }
        };
        let value = eval_dag(&arena, &[root], &mut leaf)
            .pop()
            .expect("one root");
        to_vec(value.into_column(n, &self.device))
    }

    /// One jet `D^α N_k` of field k's network at `points` (`[n, d]` row-major).
    /// Without hard constraints on the field, the field's own jet.
    ///
    /// # Panics
    /// As [`CompiledProblem::eval_jet`].
    pub fn network_jet(&self, theta: &[f64], points: &[f64], jet: &crate::ir::Jet) -> Vec<f64> {
        let d = self.problem.coords.len();
        let n = points.len() / d.max(1);
        let (net, col) = self.field_slots[jet.field];
        let inputs = self.tensor2(points.to_vec(), [n, d]);
        let inputs = self.network_input(net, &inputs);
        let n_inputs = inputs.dims()[1];
        let all: Vec<usize> = (0..d).collect();
        let coords: Vec<usize> = match &self.network_inputs[net] {
            Some(c) => c.iter().map(|&i| i as usize).collect(),
            None => all,
        };
        let spatial_all = self.problem.spatial_coords();
        let spatial: Vec<usize> = (0..n_inputs)
            .filter(|&j| spatial_all.contains(&coords[j]))
            .collect();
        let kind = match network_kind(&jet.deriv, d, &coords, &spatial) {
            Ok(kind) => kind,
            // A derivative in a coordinate the field does not depend on.
            Err(CompileError::NotAnInput { .. }) => return vec![0.0; n],
            Err(error) => panic!("{error}"),
        };
        let plan = ChannelPlan::new(n_inputs, &spatial, std::slice::from_ref(&kind))
            .with_embedding(self.embeddings[net].clone());
        let theta_t = self.theta_tensor(theta);
        let layers = self.networks[net].unpack(&theta_t);
        let fwd = jet::forward(
            &plan,
            self.problem.model.activation,
            &layers,
            &inputs,
            false,
        );
        let channel = plan.channel(&kind).expect("planned");
        to_vec(fwd.out[channel].clone().slice([0..n, col..col + 1]))
    }

    /// The value of every field at `points` (`[n, d]` row-major), per field.
    pub fn eval_fields(&self, theta: &[f64], points: &[f64]) -> Vec<Vec<f64>> {
        let value = vec![0u8; self.problem.coords.len()];
        (0..self.problem.fields.len())
            .map(|field| {
                let jet = crate::ir::Jet {
                    field,
                    deriv: Deriv::Partial(value.clone()),
                };
                self.eval_jet(theta, points, &jet)
            })
            .collect()
    }

    /// Relative L2 and max-abs error of each field with an exact solution.
    /// Expression solutions are evaluated at `test_points` (`[n, d]`
    /// row-major); data solutions at their own rows.
    ///
    /// # Errors
    /// An exact expression that uses anything but coordinates and constants.
    pub fn exact_errors(
        &self,
        problem: &Problem,
        theta: &[f64],
        test_points: &[f64],
    ) -> Result<Vec<FieldError>, CompileError> {
        let d = problem.coords.len();
        let mut out = Vec::new();
        for exact in &problem.exact {
            let (pts, reference) = match &exact.source {
                ExactSource::Expr(id) => {
                    let n = test_points.len() / d.max(1);
                    let coords = self.tensor2(test_points.to_vec(), [n, d]);
                    let mut unsupported = None;
                    let mut leaf = |node: Node| -> Value<B> {
                        match node {
                            Node::Coord(i) => Value::Tensor(coords.clone().slice([0..n, i..i + 1])),
                            other => {
                                unsupported = Some(other);
                                Value::Scalar(f64::NAN)
                            }
                        }
                    };
                    let value = eval_dag(&problem.exprs, &[*id], &mut leaf)
                        .pop()
                        .expect("one root");
                    if let Some(node) = unsupported {
                        return Err(CompileError::BadExact {
                            field: exact.field,
                            message: format!("uses {node:?}"),
                        });
                    }
                    (
                        test_points.to_vec(),
                        to_vec(value.into_column(n, &self.device)),
                    )
                }
                ExactSource::Data { set, column } => {
                    let n = set.n_rows();
                    let mut pts = Vec::with_capacity(n * d);
                    for row in 0..n {
                        for &c in &set.coord_columns {
                            pts.push(set.values[c][row]);
                        }
                    }
                    (pts, set.values[*column].clone())
                }
            };
            let jet = crate::ir::Jet {
                field: exact.field,
                deriv: Deriv::Partial(vec![0; d]),
            };
            let predicted = self.eval_jet(theta, &pts, &jet);
            let (mut diff2, mut ref2, mut max_abs) = (0.0f64, 0.0f64, 0.0f64);
            for (u, e) in predicted.iter().zip(&reference) {
                diff2 += (u - e) * (u - e);
                ref2 += e * e;
                max_abs = max_abs.max((u - e).abs());
            }
            let relative_l2 = if ref2 > 0.0 {
                (diff2 / ref2).sqrt()
            } else {
                diff2.sqrt()
            };
            out.push(FieldError {
                field: exact.field,
                relative_l2,
                max_abs,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::testing::{self, compile, random_points};
    use crate::ir::{Activation, Constraints, FourierFeatures, Jet};
    use burn_ndarray::NdArray;

    type Be = NdArray<f64>;

    /// A plain host MLP (no jets) for the value channel.
    fn host_mlp(
        program: &CompiledProblem<Be>,
        theta: &[f64],
        net: usize,
        x: &[f64],
        activation: Activation,
    ) -> Vec<f64> {
        let layout = &program.networks()[net];
        let mut h = x.to_vec();
        for l in 0..layout.n_layers() {
            let (n_in, n_out) = (layout.widths[l], layout.widths[l + 1]);
            let off = layout.layer_offset(l);
            let mut z = vec![0.0; n_out];
            for o in 0..n_out {
                z[o] = theta[off + n_in * n_out + o]
                    + (0..n_in)
                        .map(|i| theta[off + o * n_in + i] * h[i])
                        .sum::<f64>();
            }
            if l + 1 < layout.n_layers() {
                for v in &mut z {
                    *v = match activation {
                        Activation::Tanh => v.tanh(),
                        Activation::Sin => v.sin(),
                        Activation::Sigmoid => 1.0 / (1.0 + (-*v).exp()),
                        Activation::Softplus => (1.0 + v.exp()).ln(),
                        Activation::Silu => *v / (1.0 + (-*v).exp()),
                    };
                }
            }
            h = z;
        }
        h
    }

    const ALPHAS: [[u8; 3]; 14] = [
        [0, 0, 0],
        [1, 0, 0],
        [0, 1, 0],
        [2, 0, 0],
        [1, 1, 0],
        [0, 0, 2],
        [3, 0, 0],
        [1, 1, 1],
        [2, 1, 0],
        [4, 0, 0],
        [2, 2, 0],
        [1, 2, 1],
        [3, 0, 1],
        [0, 0, 4],
    ];

    /// A 3-coordinate problem (x, y on [−0.5, 1.5], z on [0, 1]) with one field
    /// and the given activation and model settings.
    fn three_coordinates(
        activation: Activation,
        model: impl FnOnce(&mut Problem),
    ) -> CompiledProblem<Be> {
        let mut b = testing::Builder::new(
            &[
                ("x", false, -0.5, 1.5),
                ("y", false, -0.5, 1.5),
                ("z", false, 0.0, 1.0),
            ],
            &["u"],
            &[7, 6],
            activation,
        );
        let u = b.u(0);
        b.block(Region::Interior, 1.0, u);
        model(&mut b.problem);
        compile(&b.problem)
    }

    /// Each jet `D^α u` (orders 1..4, mixed) against a fourth-order central
    /// difference `[1, −8, 0, 8, −1]/12h` of the jet `D^{α−e_i}` for every i with
    /// `α_i > 0` (truncation ~(ωh)⁴/30 relative for a function of frequency ω,
    /// rounding ~1e-16/h); the value itself against a plain host MLP of the
    /// embedded point. Together these pin every jet down to the value by induction.
    fn check_jets_against_finite_differences(program: &CompiledProblem<Be>, h: f64, label: &str) {
        let activation = program.problem.model.activation;
        let theta = program.init_params(9);
        let pts = [0.3, -0.2, 0.5, 0.9, 0.1, -0.7];
        let values = program.eval_fields(&theta, &pts);
        for i in 0..2 {
            let input = program.embedding().apply(&pts[3 * i..3 * i + 3]);
            let host = host_mlp(program, &theta, 0, &input, activation)[0];
            assert!((values[0][i] - host).abs() <= 1e-14, "{label}: value");
        }
        check_jets_by_differences(program, &theta, &pts, &ALPHAS, h, label);
    }

    /// Each jet `D^α u` of field 0 in `alphas`, at the two points `pts` (three
    /// coordinates each), against a fourth-order central difference of
    /// `D^{α−e_i} u` along every i with `α_i > 0`.
    fn check_jets_by_differences(
        program: &CompiledProblem<Be>,
        theta: &[f64],
        pts: &[f64],
        alphas: &[[u8; 3]],
        h: f64,
        label: &str,
    ) {
        let jet = |a: &[u8]| Jet {
            field: 0,
            deriv: Deriv::Partial(a.to_vec()),
        };
        for alpha in alphas {
            let exact = program.eval_jet(theta, pts, &jet(alpha));
            for dir in 0..3 {
                if alpha[dir] == 0 {
                    continue;
                }
                let mut lower = alpha.to_vec();
                lower[dir] -= 1;
                let shifted = |k: f64| {
                    let mut p = pts.to_vec();
                    for i in 0..2 {
                        p[3 * i + dir] += k * h;
                    }
                    program.eval_jet(theta, &p, &jet(&lower))
                };
                let (m2, m1, p1, p2) = (shifted(-2.0), shifted(-1.0), shifted(1.0), shifted(2.0));
                for i in 0..2 {
                    let fd = (m2[i] - 8.0 * m1[i] + 8.0 * p1[i] - p2[i]) / (12.0 * h);
                    assert!(
                        (fd - exact[i]).abs() <= 1e-8 * (1.0 + exact[i].abs()),
                        "{label} α = {alpha:?} along {dir}: jet {} vs FD {fd}",
                        exact[i]
                    );
                }
            }
        }
    }

    /// Under hard constraints (`testing::hard`: `u = A + φ·N` over (t, x, y)):
    /// the value on the constrained faces and at t = 0 is the data whatever θ;
    /// every jet `D^α u` (orders 1–4, mixed) matches a fourth-order central
    /// difference of `D^{α−e_i} u`; the Laplacian channel is `u_xx + u_yy`.
    #[test]
    fn hard_constrained_jets_match_finite_differences() {
        let program = compile(&testing::hard());
        let pi = std::f64::consts::PI;
        for seed in [1, 2] {
            let theta = program.init_params(seed);
            // (t, x, y): at t = 0, on x = 0, on x = 1.
            let pts = [0.0, 0.3, 0.2, 0.5, 0.0, -0.4, 0.7, 1.0, 0.9];
            let u = &program.eval_fields(&theta, &pts)[0];
            let data = [
                0.2f64.cos() + (0.3 * pi).sin() * 0.2,
                (-0.4f64).cos() * (-0.5f64).exp(),
                0.9f64.cos() * (-0.7f64).exp() + 0.7,
            ];
            for i in 0..3 {
                assert!(
                    (u[i] - data[i]).abs() <= 1e-14,
                    "seed {seed}, point {i}: {} vs {}",
                    u[i],
                    data[i]
                );
            }
        }
        let theta = program.init_params(3);
        let pts = [0.4, 0.3, 0.2, 0.6, 0.7, -0.5];
        let h = 1e-3;
        let jet = |a: &[u8]| Jet {
            field: 0,
            deriv: Deriv::Partial(a.to_vec()),
        };
        check_jets_by_differences(&program, &theta, &pts, &ALPHAS[1..], h, "hard");
        let laplacian = program.eval_jet(
            &theta,
            &pts,
            &Jet {
                field: 0,
                deriv: Deriv::Laplacian,
            },
        );
        let xx = program.eval_jet(&theta, &pts, &jet(&[0, 2, 0]));
        let yy = program.eval_jet(&theta, &pts, &jet(&[0, 0, 2]));
        for i in 0..2 {
            assert!((laplacian[i] - xx[i] - yy[i]).abs() <= 1e-12 * (1.0 + laplacian[i].abs()));
        }
    }

    /// The compiled residual of the rewritten interior block is the equation
    /// evaluated on the ansatz's jets: `dt(u) + u dx(u) − a Δu + dxy(u) − sin(x) y`.
    #[test]
    fn hard_constrained_residual_is_the_equation_on_the_ansatz() {
        let problem = testing::hard();
        let program = compile(&problem);
        let points = random_points(&problem, 9, 4);
        let theta = program.init_params(6);
        let r = program.residual(&theta, &points);
        let interior = &points.blocks[0];
        let jet = |a: [u8; 3]| {
            program.eval_jet(
                &theta,
                &interior.points,
                &Jet {
                    field: 0,
                    deriv: Deriv::Partial(a.to_vec()),
                },
            )
        };
        let (u, ut, ux) = (jet([0, 0, 0]), jet([1, 0, 0]), jet([0, 1, 0]));
        let (uxx, uyy, uxy) = (jet([0, 2, 0]), jet([0, 0, 2]), jet([0, 1, 1]));
        let scale = (problem.blocks[0].weight / interior.n as f64).sqrt();
        for i in 0..interior.n {
            let (x, y) = (interior.points[3 * i + 1], interior.points[3 * i + 2]);
            let expected = ut[i] + u[i] * ux[i] - 0.7 * (uxx[i] + uyy[i]) + uxy[i] - x.sin() * y;
            assert!(
                (r[i] - scale * expected).abs() <= 1e-10 * (1.0 + expected.abs()),
                "row {i}: {} vs {}",
                r[i],
                scale * expected
            );
        }
    }

    #[test]
    fn jets_match_finite_differences() {
        let activations = [
            Activation::Tanh,
            Activation::Sin,
            Activation::Sigmoid,
            Activation::Softplus,
            Activation::Silu,
        ];
        for activation in activations {
            let program = three_coordinates(activation, |_| {});
            assert!(program.embedding().is_identity());
            check_jets_against_finite_differences(&program, 1e-3, &format!("{activation:?}"));
        }
    }

    /// The same through the input embeddings: x periodic with 2 harmonics, then
    /// Fourier features over (y, z) beside it, then Fourier features alone.
    #[test]
    fn jets_through_embeddings_match_finite_differences() {
        let features = Some(FourierFeatures {
            count: 3,
            sigma: 0.7,
        });
        // (label, periodic coordinates, harmonics, features)
        let cases = [
            ("periodic x", vec![0], 2, None),
            ("periodic x + fourier", vec![0], 1, features),
            ("fourier", vec![], 1, features),
        ];
        for (label, periodic, harmonics, features) in cases {
            for activation in [Activation::Tanh, Activation::Sin] {
                let program = three_coordinates(activation, |p| {
                    p.periodic = periodic.clone();
                    p.model.harmonics = harmonics;
                    p.model.features = features;
                });
                assert!(!program.embedding().is_identity(), "{label}");
                let width = program.problem.n_network_inputs();
                assert_eq!(program.networks()[0].widths[0], width, "{label}");
                // A smaller step: the features oscillate at up to 2π·2 per unit.
                check_jets_against_finite_differences(
                    &program,
                    2.5e-4,
                    &format!("{label} {activation:?}"),
                );
            }
        }
    }

    /// `field a(x)` in a space–time problem: a's network is an MLP of input
    /// width 1 fed x alone, so a takes the same value at points that differ in
    /// t only (exactly), dt(a) is 0, and dx(a), dxx(a) match fourth-order
    /// central differences along x of the jet one order lower.
    #[test]
    fn field_of_some_coordinates_sees_only_them() {
        let source = "space x in [0, 1]\ntime t in [0, 1]\nfield u, a(x)\n\
                      dt(u) - a*dxx(u) = 0 on interior\n\
                      model mlp(layers = [7, 6], activation = tanh)\n";
        for shared in [false, true] {
            let source =
                if shared {
                    format!("{source}model mlp(layers = [7, 6], activation = tanh, shared)\n")
                        .replacen("model mlp(layers = [7, 6], activation = tanh)\n", "", 1)
                } else {
                    source.to_string()
                };
            let (problem, diags) = crate::check_source(&source, std::path::Path::new("."));
            let problem = problem.unwrap_or_else(|| panic!("{diags:?}"));
            assert_eq!(problem.model.shared, shared);
            let program = compile(&problem);
            let (net, col) = program.field_slots()[1];
            assert_eq!(col, 0);
            assert_eq!(program.networks().len(), 2);
            let width_1 = NetworkLayout {
                widths: vec![1, 7, 6, 1],
                offset: 0,
            };
            let width_2 = NetworkLayout {
                widths: vec![2, 7, 6, 1],
                offset: 0,
            };
            assert_eq!(program.networks()[net].widths, width_1.widths);
            assert_eq!(program.networks()[net].n_params(), width_1.n_params());
            assert_eq!(program.n_params(), width_1.n_params() + width_2.n_params());
            assert_eq!(crate::ir::describe::n_params(&problem), program.n_params());
            let theta = program.init_params(3);
            // (x, t) rows: x = 0.3 at three times, x = 0.8 at two.
            let pts = [0.3, 0.0, 0.3, 0.45, 0.3, 1.0, 0.8, 0.2, 0.8, 0.9];
            let values = program.eval_fields(&theta, &pts);
            assert_eq!(values[1][0], values[1][1]);
            assert_eq!(values[1][0], values[1][2]);
            assert_eq!(values[1][3], values[1][4]);
            assert_ne!(values[1][0], values[1][3]);
            assert_ne!(values[0][0], values[0][1], "u depends on t");
            for (i, x) in [(0, 0.3), (3, 0.8)] {
                let host = host_mlp(&program, &theta, net, &[x], Activation::Tanh)[0];
                assert!((values[1][i] - host).abs() <= 1e-14, "value at x = {x}");
            }
            let jet = |alpha: [u8; 2]| Jet {
                field: 1,
                deriv: Deriv::Partial(alpha.to_vec()),
            };
            for alpha in [[0, 1], [1, 1], [0, 2]] {
                let zero = program.eval_jet(&theta, &pts, &jet(alpha));
                assert!(zero.iter().all(|&v| v == 0.0), "{alpha:?}: {zero:?}");
            }
            let h = 1e-3;
            for (alpha, lower) in [([1, 0], [0, 0]), ([2, 0], [1, 0]), ([3, 0], [2, 0])] {
                let exact = program.eval_jet(&theta, &pts, &jet(alpha));
                assert!(exact.iter().any(|v| v.abs() > 1e-3), "{alpha:?}: {exact:?}");
                assert_eq!(exact[0], exact[1], "{alpha:?} is independent of t");
                let shifted = |k: f64| {
                    let mut p = pts.to_vec();
                    for i in 0..5 {
                        p[2 * i] += k * h;
                    }
                    program.eval_jet(&theta, &p, &jet(lower))
                };
                let (m2, m1, p1, p2) = (shifted(-2.0), shifted(-1.0), shifted(1.0), shifted(2.0));
                for i in 0..5 {
                    let fd = (m2[i] - 8.0 * m1[i] + 8.0 * p1[i] - p2[i]) / (12.0 * h);
                    assert!(
                        (fd - exact[i]).abs() <= 1e-8 * (1.0 + exact[i].abs()),
                        "{alpha:?}: jet {} vs FD {fd}",
                        exact[i]
                    );
                }
            }
        }
    }

    /// Under hard constraints every jet of u (Laplacian included) is equal at
    /// x = a and x = b, to rounding; with the raw coordinate it is not.
    #[test]
    fn periodic_embedding_makes_every_jet_periodic() {
        let alphas: [[u8; 3]; 8] = [
            [0, 0, 0],
            [1, 0, 0],
            [0, 1, 0],
            [2, 0, 0],
            [1, 1, 1],
            [3, 0, 1],
            [4, 0, 0],
            [0, 2, 2],
        ];
        for (harmonics, constraints) in [
            (1, Constraints::Hard),
            (3, Constraints::Hard),
            (1, Constraints::Soft),
        ] {
            let program = three_coordinates(Activation::Tanh, |p| {
                p.periodic = vec![0];
                p.model.harmonics = harmonics;
                p.model.constraints = constraints;
            });
            let theta = program.init_params(2);
            let (a, b) = (-0.5, 1.5);
            let at = |x: f64| [x, 0.3, 0.6, x, -0.4, 0.1];
            let mut jets: Vec<Jet> = alphas
                .iter()
                .map(|alpha| Jet {
                    field: 0,
                    deriv: Deriv::Partial(alpha.to_vec()),
                })
                .collect();
            jets.push(Jet {
                field: 0,
                deriv: Deriv::Laplacian,
            });
            let mut largest_gap = 0.0f64;
            for jet in &jets {
                let (lo, hi) = (
                    program.eval_jet(&theta, &at(a), jet),
                    program.eval_jet(&theta, &at(b), jet),
                );
                for i in 0..2 {
                    let gap = (lo[i] - hi[i]).abs() / (1.0 + lo[i].abs());
                    largest_gap = largest_gap.max(gap);
                }
            }
            match constraints {
                Constraints::Hard => assert!(largest_gap < 1e-12, "K = {harmonics}: {largest_gap}"),
                Constraints::Soft => assert!(largest_gap > 1e-3, "{largest_gap}"),
            }
        }
    }

    /// The summed Laplacian channel equals the sum of the spatial second
    /// derivatives (time excluded), to rounding.
    #[test]
    fn laplacian_channel_is_sum_of_second_derivatives() {
        let problem = testing::normals();
        let program = compile(&problem);
        let theta = program.init_params(4);
        let pts = [0.1, 0.2, 0.3, 0.7, 0.5, 0.9, 0.4, 0.4, 0.05];
        let lap = program.eval_jet(
            &theta,
            &pts,
            &Jet {
                field: 0,
                deriv: Deriv::Laplacian,
            },
        );
        let xx = program.eval_jet(
            &theta,
            &pts,
            &Jet {
                field: 0,
                deriv: Deriv::Partial(vec![2, 0, 0]),
            },
        );
        let yy = program.eval_jet(
            &theta,
            &pts,
            &Jet {
                field: 0,
                deriv: Deriv::Partial(vec![0, 0, 2]),
            },
        );
        let tt = program.eval_jet(
            &theta,
            &pts,
            &Jet {
                field: 0,
                deriv: Deriv::Partial(vec![0, 2, 0]),
            },
        );
        for i in 0..3 {
            assert!((lap[i] - xx[i] - yy[i]).abs() <= 1e-12 * (1.0 + lap[i].abs()));
            assert!(
                (lap[i] - xx[i] - yy[i] - tt[i]).abs() > 1e-6,
                "time must not enter"
            );
        }
    }

    #[test]
    fn exact_errors_against_host_values() {
        let problem = testing::poisson(&[5], Activation::Tanh);
        let program = compile(&problem);
        let theta = program.init_params(0);
        let pts = [0.1, 0.2, 0.5, 0.5, 0.8, 0.3];
        let errors = program.exact_errors(&problem, &theta, &pts).unwrap();
        let u = program.eval_fields(&theta, &pts);
        let pi = std::f64::consts::PI;
        let exact: Vec<f64> = (0..3)
            .map(|i| (pi * pts[2 * i]).sin() * (pi * pts[2 * i + 1]).sin())
            .collect();
        let num: f64 = (0..3).map(|i| (u[0][i] - exact[i]).powi(2)).sum();
        let den: f64 = exact.iter().map(|e| e * e).sum();
        assert_eq!(errors.len(), 1);
        assert!((errors[0].relative_l2 - (num / den).sqrt()).abs() < 1e-14);
        let max = (0..3)
            .map(|i| (u[0][i] - exact[i]).abs())
            .fold(0.0, f64::max);
        assert!((errors[0].max_abs - max).abs() < 1e-14);
    }

    #[test]
    fn mismatched_points_and_bad_jets_are_errors() {
        let problem = testing::heat();
        let program = compile(&problem);
        let mut points = random_points(&problem, 3, 0);
        points.blocks.pop();
        assert!(matches!(
            program.check_points(&points),
            Err(CompileError::BlockCount { .. })
        ));
        let problem = testing::normals();
        let program = compile(&problem);
        let mut points = random_points(&problem, 3, 0);
        points.blocks[1].normals = None;
        assert!(matches!(
            program.check_points(&points),
            Err(CompileError::BadPoints { block: 1, .. })
        ));
        let mut problem = testing::heat();
        problem.jets.push(Jet {
            field: 0,
            deriv: Deriv::Partial(vec![3, 2]),
        });
        assert!(matches!(
            compile_err(&problem),
            CompileError::OrderTooHigh { order: 5 }
        ));
    }

    fn compile_err(problem: &Problem) -> CompileError {
        CompiledProblem::<Be>::new(problem, &Default::default()).unwrap_err()
    }
}
