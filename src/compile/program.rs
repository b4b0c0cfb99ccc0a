//! The compiled problem: residuals, per-sample Jacobians and gradients of a
//! [`Problem`] on a [`PointSet`], as burn tensor programs.
//!
//! Evaluation order: all blocks' points (then the partner points of periodic
//! blocks) are stacked into one input `[M, d]`; each network runs one jet
//! forward over them ([`jet::forward`]); each block's residual expression and
//! its linearization are evaluated elementwise on slices of the output jets;
//! the scaled coefficients seed one per-sample reverse pass per network
//! ([`jet::backward`]), which yields all N rows of J at once.

use crate::compile::ansatz::{init_rng, NetworkLayout};
use crate::compile::jet::{self, ChannelKind, ChannelPlan, JetForward};
use crate::compile::points::{BlockPoints, PointSet};
use crate::ir::{BinaryOp, Deriv, ExactSource, ExprArena, ExprId, Func, Node, Problem, Region};
use crate::solve::LeastSquares;
use burn::tensor::{backend::Backend, Tensor, TensorData};
use rayon::prelude::*;
use std::collections::HashMap;

/// Highest derivative order the jet engine supports.
pub const MAX_JET_ORDER: usize = 4;

/// Why a problem (or a point set) cannot be compiled for evaluation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    /// A jet above [`MAX_JET_ORDER`].
    #[error("jet of order {order} exceeds the supported order {MAX_JET_ORDER}")]
    OrderTooHigh {
        /// The order asked for.
        order: usize,
    },
    /// A multi-index whose length is not the number of coordinates.
    #[error("a jet's multi-index has {got} entries but the problem has {expected} coordinates")]
    BadMultiIndex {
        /// Its length.
        got: usize,
        /// The number of coordinates.
        expected: usize,
    },
    #[error("the Laplacian needs at least one spatial coordinate")]
    /// `lap` in a problem with only a time coordinate.
    LaplacianWithoutSpace,
    #[error("the network has no output layer")]
    /// A network layout with no layers.
    EmptyNetwork,
    /// A point set with a different number of blocks than the problem.
    #[error("point set has {got} blocks, the problem has {expected}")]
    BlockCount {
        /// Blocks in the point set.
        got: usize,
        /// Blocks in the problem.
        expected: usize,
    },
    /// A block's points do not fit its region (lengths, normals, partners, data rows).
    #[error("block {block}: {message}")]
    BadPoints {
        /// Index of the block.
        block: usize,
        /// What is wrong.
        message: String,
    },
    /// An exact solution that cannot be evaluated.
    #[error("exact solution of field {field}: {message}")]
    BadExact {
        /// Index of the field (into `Problem::fields`).
        field: usize,
        /// What is wrong.
        message: String,
    },
}

/// Relative L2 and max-abs error of one field against its exact solution.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    /// Index of the field (into `Problem::fields`).
    pub field: usize,
    /// `‖u − u*‖₂ / ‖u*‖₂` (the absolute norm when `‖u*‖₂ = 0`).
    pub relative_l2: f64,
    /// `max |u − u*|` over the test points.
    pub max_abs: f64,
}

/// An elementwise value: a constant or a column `[n, 1]` (or `[1, 1]`, broadcast).
#[derive(Debug, Clone)]
enum Value<B: Backend> {
    Scalar(f64),
    Tensor(Tensor<B, 2>),
}

impl<B: Backend> Value<B> {
    fn into_column(self, n: usize, device: &B::Device) -> Tensor<B, 2> {
        match self {
            Value::Scalar(v) => Tensor::full([n, 1], v, device),
            Value::Tensor(t) if t.dims()[0] != n => t.expand([n, 1]),
            Value::Tensor(t) => t,
        }
    }
}

fn unary<B: Backend>(func: Func, value: Value<B>) -> Value<B> {
    let t = match value {
        Value::Scalar(v) => return Value::Scalar(func.apply(v)),
        Value::Tensor(t) => t,
    };
    Value::Tensor(match func {
        Func::Neg => t.neg(),
        Func::Sin => t.sin(),
        Func::Cos => t.cos(),
        Func::Tan => t.clone().sin().div(t.cos()),
        Func::Exp => t.exp(),
        Func::Log => t.log(),
        Func::Sqrt => t.sqrt(),
        Func::Tanh => t.tanh(),
        Func::Sinh => t.clone().exp().sub(t.neg().exp()).mul_scalar(0.5),
        Func::Cosh => t.clone().exp().add(t.neg().exp()).mul_scalar(0.5),
        Func::Abs => t.abs(),
        Func::Sign => t.sign(),
    })
}

/// Brings two tensors to one shape when one of them is a broadcast `[1, 1]`.
fn align<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let (na, nb) = (a.dims()[0], b.dims()[0]);
    if na == nb {
        (a, b)
    } else if na == 1 {
        (a.expand([nb, 1]), b)
    } else {
        let b = b.expand([na, 1]);
        (a, b)
    }
}

/// `t^k` for an integer `k` by repeated products (exact derivatives, no log).
fn int_power<B: Backend>(t: Tensor<B, 2>, k: i64) -> Tensor<B, 2> {
    if k == 0 {
        return t.ones_like();
    }
    let mut acc = t.clone();
    for _ in 1..k.unsigned_abs() {
        acc = acc.mul(t.clone());
    }
    if k < 0 {
        acc.recip()
    } else {
        acc
    }
}

fn binary<B: Backend>(op: BinaryOp, a: Value<B>, b: Value<B>) -> Value<B> {
    use Value::{Scalar as S, Tensor as T};
    Value::Tensor(match (a, b) {
        (S(x), S(y)) => {
            return S(match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                BinaryOp::Pow => x.powf(y),
            })
        }
        (T(t), S(y)) => match op {
            BinaryOp::Add => t.add_scalar(y),
            BinaryOp::Sub => t.sub_scalar(y),
            BinaryOp::Mul => t.mul_scalar(y),
            BinaryOp::Div => t.div_scalar(y),
            BinaryOp::Pow if y.fract() == 0.0 && y.abs() <= 16.0 => int_power(t, y as i64),
            BinaryOp::Pow => t.powf_scalar(y),
        },
        (S(x), T(t)) => match op {
            BinaryOp::Add => t.add_scalar(x),
            BinaryOp::Sub => t.neg().add_scalar(x),
            BinaryOp::Mul => t.mul_scalar(x),
            BinaryOp::Div => t.recip().mul_scalar(x),
            BinaryOp::Pow => t.mul_scalar(x.ln()).exp(),
        },
        (T(a), T(b)) => {
            let (a, b) = align(a, b);
            match op {
                BinaryOp::Add => a.add(b),
                BinaryOp::Sub => a.sub(b),
                BinaryOp::Mul => a.mul(b),
                BinaryOp::Div => a.div(b),
                BinaryOp::Pow => b.mul(a.log()).exp(),
            }
        }
    })
}

/// Evaluates `roots` of the DAG, each shared node once.
fn eval_dag<B: Backend>(
    arena: &ExprArena,
    roots: &[ExprId],
    leaf: &mut dyn FnMut(Node) -> Value<B>,
) -> Vec<Value<B>> {
    let mut values: HashMap<ExprId, Value<B>> = HashMap::new();
    for id in arena.topo_order(roots) {
        let value = match arena.node(id) {
            Node::Const(bits) => Value::Scalar(f64::from_bits(bits)),
            Node::Unary(func, a) => unary(func, values[&a].clone()),
            Node::Binary(op, a, b) => binary(op, values[&a].clone(), values[&b].clone()),
            other => leaf(other),
        };
        values.insert(id, value);
    }
    roots.iter().map(|r| values[r].clone()).collect()
}

/// Where the evaluation rows of one block (or its partner points) live.
#[derive(Debug, Clone, Copy)]
struct Segment {
    block: usize,
    partner: bool,
    offset: usize,
    n: usize,
}

/// A block's residual pieces at one segment.
struct BlockValues<B: Backend> {
    residual: Value<B>,
    coefficients: Vec<Value<B>>,
    param_derivatives: Vec<Value<B>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Residual,
    Jacobian,
    Gradient,
}

/// Output of one evaluation.
struct Evaluation<B: Backend> {
    residual: Tensor<B, 2>,
    jacobian: Option<Tensor<B, 2>>,
    /// The Jacobian when assembled on the host (row-major N×P).
    jacobian_host: Option<Vec<f64>>,
    gradient: Option<Tensor<B, 1>>,
}

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

/// A [`Problem`] compiled to tensor programs on backend `B`.
#[derive(Debug, Clone)]
pub struct CompiledProblem<B: Backend> {
    device: B::Device,
    problem: Problem,
    networks: Vec<NetworkLayout>,
    plans: Vec<ChannelPlan>,
    /// Per problem jet: (network, channel, output column).
    jet_slots: Vec<(usize, usize, usize)>,
    n_network_params: usize,
    assembly: JacobianAssembly,
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
        let n_networks = if shared { 1 } else { n_fields };
        let mut networks = Vec::with_capacity(n_networks);
        let mut offset = 0;
        for _ in 0..n_networks {
            let mut widths = vec![n_coords];
            widths.extend(&problem.model.layers);
            widths.push(if shared { n_fields } else { 1 });
            let net = NetworkLayout { widths, offset };
            offset += net.n_params();
            networks.push(net);
        }
        let mut wanted: Vec<Vec<ChannelKind>> = vec![Vec::new(); n_networks];
        let mut kinds = Vec::with_capacity(problem.jets.len());
        for jet in &problem.jets {
            let kind = match &jet.deriv {
                Deriv::Partial(alpha) => {
                    if alpha.len() != n_coords {
                        return Err(CompileError::BadMultiIndex {
                            got: alpha.len(),
                            expected: n_coords,
                        });
                    }
                    ChannelKind::Partial(alpha.clone())
                }
                Deriv::Laplacian => {
                    if spatial.is_empty() {
                        return Err(CompileError::LaplacianWithoutSpace);
                    }
                    ChannelKind::Laplacian
                }
            };
            if jet.order() > MAX_JET_ORDER {
                return Err(CompileError::OrderTooHigh { order: jet.order() });
            }
            let net = if shared { 0 } else { jet.field };
            wanted[net].push(kind.clone());
            kinds.push((net, kind, if shared { jet.field } else { 0 }));
        }
        let plans: Vec<ChannelPlan> = wanted
            .iter()
            .map(|w| ChannelPlan::new(n_coords, &spatial, w))
            .collect();
        let jet_slots = kinds
            .into_iter()
            .map(|(net, kind, col)| (net, plans[net].channel(&kind).expect("planned"), col))
            .collect();
        Ok(CompiledProblem {
            device: device.clone(),
            problem: problem.clone(),
            networks,
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

    fn tensor2(&self, values: Vec<f64>, shape: [usize; 2]) -> Tensor<B, 2> {
        Tensor::from_data(TensorData::new(values, shape), &self.device)
    }

    /// The segments and the stacked input `[M, d]`: all blocks' points, then partners.
    fn segments(&self, points: &PointSet) -> (Vec<Segment>, Tensor<B, 2>) {
        let d = self.problem.coords.len();
        let mut segments = Vec::new();
        let mut rows = Vec::with_capacity(points.n_rows() * d);
        let mut offset = 0;
        for (b, pts) in points.blocks.iter().enumerate() {
            segments.push(Segment {
                block: b,
                partner: false,
                offset,
                n: pts.n,
            });
            rows.extend_from_slice(&pts.points);
            offset += pts.n;
        }
        for (b, pts) in points.blocks.iter().enumerate() {
            if let Some(partner) = &pts.partner {
                if matches!(self.problem.blocks[b].region, Region::Periodic { .. }) {
                    segments.push(Segment {
                        block: b,
                        partner: true,
                        offset,
                        n: pts.n,
                    });
                    rows.extend_from_slice(partner);
                    offset += pts.n;
                }
            }
        }
        (segments, self.tensor2(rows, [offset, d]))
    }

    /// Evaluates one block's residual (and, unless `residual_only`, its
    /// linearization and param derivatives) on one segment.
    #[allow(clippy::too_many_arguments)]
    fn eval_block(
        &self,
        segment: Segment,
        pts: &BlockPoints,
        inputs: &Tensor<B, 2>,
        outputs: &[JetForward<B>],
        theta: &Tensor<B, 1>,
        theta_host: Option<&[f64]>,
        residual_only: bool,
    ) -> BlockValues<B> {
        let block = &self.problem.blocks[segment.block];
        let (n, start) = (segment.n, segment.offset);
        let mut roots = vec![block.residual];
        if !residual_only {
            roots.extend(block.linearization.iter().map(|(_, e)| *e));
            roots.extend(block.param_derivatives.iter().map(|(_, e)| *e));
        }
        let d = self.problem.coords.len();
        let coords = inputs.clone().slice([start..start + n, 0..d]);
        let normals = pts
            .normals
            .as_ref()
            .map(|v| self.tensor2(v.clone(), [n, d]));
        let mut leaf = |node: Node| -> Value<B> {
            match node {
                Node::Coord(i) => Value::Tensor(coords.clone().slice([0..n, i..i + 1])),
                Node::Normal(i) => match &normals {
                    Some(t) => Value::Tensor(t.clone().slice([0..n, i..i + 1])),
                    None => Value::Scalar(f64::NAN),
                },
                Node::Jet(id) => {
                    let (net, channel, col) = self.jet_slots[id.0 as usize];
                    Value::Tensor(
                        outputs[net].out[channel]
                            .clone()
                            .slice([start..start + n, col..col + 1]),
                    )
                }
                Node::Param(p) => match theta_host {
                    Some(host) => Value::Scalar(host[self.n_network_params + p]),
                    None => {
                        let i = self.n_network_params + p;
                        Value::Tensor(theta.clone().slice(i..i + 1).reshape([1, 1]))
                    }
                },
                Node::Data { set, column } => {
                    let values = &self.problem.data[set].values[column];
                    let rows = pts.data_rows.as_deref().unwrap_or(&[]);
                    let gathered: Vec<f64> = rows.iter().map(|&r| values[r]).collect();
                    let len = gathered.len();
                    Value::Tensor(self.tensor2(gathered, [len, 1]))
                }
                Node::Const(bits) => Value::Scalar(f64::from_bits(bits)),
                Node::Unary(..) | Node::Binary(..) => unreachable!("inner nodes are not leaves"),
            }
        };
        let mut values = eval_dag(&self.problem.exprs, &roots, &mut leaf).into_iter();
        let residual = values.next().expect("residual root");
        let coefficients = values.by_ref().take(block.linearization.len()).collect();
        let param_derivatives = values.collect();
        BlockValues {
            residual,
            coefficients,
            param_derivatives,
        }
    }

    fn evaluate(
        &self,
        theta: Tensor<B, 1>,
        theta_host: Option<&[f64]>,
        points: &PointSet,
        mode: Mode,
        jacobian_buffer: Option<&mut Vec<f64>>,
    ) -> Evaluation<B> {
        let mut jacobian_buffer = jacobian_buffer.map(std::mem::take);
        let device = &self.device;
        let (segments, inputs) = self.segments(points);
        let m = inputs.dims()[0];
        let layers: Vec<_> = self.networks.iter().map(|n| n.unpack(&theta)).collect();
        let outputs: Vec<JetForward<B>> = self
            .networks
            .iter()
            .enumerate()
            .map(|(k, _)| {
                jet::forward(
                    &self.plans[k],
                    self.problem.model.activation,
                    &layers[k],
                    &inputs,
                    mode != Mode::Residual,
                )
            })
            .collect();
        let residual_only = mode == Mode::Residual;
        let values: Vec<BlockValues<B>> = segments
            .iter()
            .map(|&s| {
                self.eval_block(
                    s,
                    &points.blocks[s.block],
                    &inputs,
                    &outputs,
                    &theta,
                    theta_host,
                    residual_only,
                )
            })
            .collect();
        let n_blocks = points.blocks.len();
        let scale: Vec<f64> = (0..n_blocks)
            .map(|b| {
                let n = points.blocks[b].n.max(1) as f64;
                (self.problem.blocks[b].weight / n).sqrt()
            })
            .collect();
        let partner_of: Vec<Option<usize>> = (0..n_blocks)
            .map(|b| segments.iter().position(|s| s.partner && s.block == b))
            .collect();
        let block_residuals: Vec<Tensor<B, 2>> = (0..n_blocks)
            .filter(|&b| points.blocks[b].n > 0)
            .map(|b| {
                let n = points.blocks[b].n;
                let mut r = values[b].residual.clone().into_column(n, device);
                if let Some(p) = partner_of[b] {
                    r = r.sub(values[p].residual.clone().into_column(n, device));
                }
                r.mul_scalar(scale[b])
            })
            .collect();
        let n_rows = points.n_rows();
        let residual = if block_residuals.is_empty() {
            Tensor::zeros([0, 1], device)
        } else {
            Tensor::cat(block_residuals, 0)
        };
        if mode == Mode::Residual || n_rows == 0 {
            return Evaluation {
                residual,
                jacobian: None,
                jacobian_host: None,
                gradient: None,
            };
        }
        // Seeds: per network and output channel, per segment the scaled
        // coefficient of each column (times r in gradient mode).
        let mut seeds: Vec<Vec<Option<Tensor<B, 2>>>> =
            self.plans.iter().map(|p| vec![None; p.len()]).collect();
        for (k, net) in self.networks.iter().enumerate() {
            let n_out = *net.widths.last().expect("output width");
            for (c, seed) in seeds[k].iter_mut().enumerate() {
                let mut pieces = Vec::with_capacity(segments.len());
                let mut any = false;
                for (si, s) in segments.iter().enumerate() {
                    if s.n == 0 {
                        continue;
                    }
                    let block = &self.problem.blocks[s.block];
                    let sign = if s.partner { -1.0 } else { 1.0 };
                    let rows = points.blocks[..s.block].iter().map(|p| p.n).sum::<usize>();
                    let columns: Vec<Tensor<B, 2>> = (0..n_out)
                        .map(|col| {
                            let found = block
                                .linearization
                                .iter()
                                .position(|(jet, _)| self.jet_slots[jet.0 as usize] == (k, c, col));
                            match found {
                                Some(j) => {
                                    any = true;
                                    let coef = values[si].coefficients[j]
                                        .clone()
                                        .into_column(s.n, device)
                                        .mul_scalar(sign * scale[s.block]);
                                    if mode == Mode::Gradient {
                                        coef.mul(residual.clone().slice([rows..rows + s.n, 0..1]))
                                    } else {
                                        coef
                                    }
                                }
                                None => Tensor::zeros([s.n, 1], device),
                            }
                        })
                        .collect();
                    pieces.push(if n_out == 1 {
                        columns.into_iter().next().expect("one column")
                    } else {
                        Tensor::cat(columns, 1)
                    });
                }
                if any {
                    *seed = Some(Tensor::cat(pieces, 0));
                }
            }
        }
        // ∂r/∂param, per block [n, n_params].
        let n_p = self.problem.params.len();
        let param_columns = (n_p > 0).then(|| {
            let blocks: Vec<Tensor<B, 2>> = (0..n_blocks)
                .filter(|&b| points.blocks[b].n > 0)
                .map(|b| {
                    let n = points.blocks[b].n;
                    let block = &self.problem.blocks[b];
                    let cols: Vec<Tensor<B, 2>> = (0..n_p)
                        .map(
                            |p| match block.param_derivatives.iter().position(|(q, _)| *q == p) {
                                Some(j) => {
                                    let mut col = values[b].param_derivatives[j]
                                        .clone()
                                        .into_column(n, device);
                                    if let Some(pi) = partner_of[b] {
                                        col = col.sub(
                                            values[pi].param_derivatives[j]
                                                .clone()
                                                .into_column(n, device),
                                        );
                                    }
                                    col.mul_scalar(scale[b])
                                }
                                None => Tensor::zeros([n, 1], device),
                            },
                        )
                        .collect();
                    Tensor::cat(cols, 1)
                })
                .collect();
            Tensor::cat(blocks, 0)
        });
        let cotangents: Vec<_> = (0..self.networks.len())
            .map(|k| jet::backward(&self.plans[k], &layers[k], &outputs[k], seeds[k].clone()))
            .collect();
        if mode == Mode::Gradient {
            let mut pieces: Vec<Tensor<B, 1>> = Vec::new();
            for k in 0..self.networks.len() {
                pieces.extend(jet::summed_gradient(
                    &outputs[k],
                    &cotangents[k],
                    &layers[k],
                ));
            }
            if let Some(cols) = param_columns {
                pieces.push(cols.mul(residual.clone()).sum_dim(0).reshape([n_p]));
            }
            return Evaluation {
                residual,
                jacobian: None,
                jacobian_host: None,
                gradient: Some(Tensor::cat(pieces, 0)),
            };
        }
        if self.assembly == JacobianAssembly::Host {
            let host: Vec<Vec<jet::HostLayer>> = (0..self.networks.len())
                .map(|k| jet::host_layers(&outputs[k], &cotangents[k], &layers[k]))
                .collect();
            // Eval row of each residual row's partner point, if any.
            let mut partner_row = vec![None; n_rows];
            for s in segments.iter().filter(|s| s.partner) {
                let rows = points.blocks[..s.block].iter().map(|p| p.n).sum::<usize>();
                for i in 0..s.n {
                    partner_row[rows + i] = Some(s.offset + i);
                }
            }
            let params_host = param_columns.map(to_vec2);
            let p = self.n_params();
            // Every entry is overwritten below, so a reused buffer of the right
            // size is not cleared, and a fresh one comes zeroed from the
            // allocator without a separate pass.
            let mut jac = jacobian_buffer.take().unwrap_or_default();
            if jac.len() != n_rows * p {
                jac = vec![0.0; n_rows * p];
            }
            jac.par_chunks_mut(p.max(1))
                .enumerate()
                .for_each(|(row, out)| {
                    let mut offset = 0;
                    for layers in &host {
                        for layer in layers {
                            let len = layer.n_params();
                            let slot = &mut out[offset..offset + len];
                            layer.write_row(row, slot, false);
                            if let Some(i) = partner_row[row] {
                                layer.write_row(i, slot, true);
                            }
                            offset += len;
                        }
                    }
                    if let Some(cols) = &params_host {
                        out[offset..].copy_from_slice(&cols[row * n_p..(row + 1) * n_p]);
                    }
                });
            return Evaluation {
                residual,
                jacobian: None,
                jacobian_host: Some(jac),
                gradient: None,
            };
        }
        let mut pieces: Vec<Tensor<B, 2>> = Vec::new();
        for k in 0..self.networks.len() {
            pieces.extend(jet::per_sample_jacobian(
                &outputs[k],
                &cotangents[k],
                &layers[k],
            ));
        }
        let mut jacobian = Tensor::cat(pieces, 1);
        if m > n_rows {
            let partners = jacobian
                .clone()
                .slice([n_rows..m, 0..self.n_network_params]);
            jacobian = jacobian.slice([0..n_rows, 0..self.n_network_params]);
            for s in segments.iter().filter(|s| s.partner && s.n > 0) {
                let rows = points.blocks[..s.block].iter().map(|p| p.n).sum::<usize>();
                let from = s.offset - n_rows;
                let sum = jacobian
                    .clone()
                    .slice([rows..rows + s.n, 0..self.n_network_params])
                    .add(
                        partners
                            .clone()
                            .slice([from..from + s.n, 0..self.n_network_params]),
                    );
                jacobian = jacobian.slice_assign([rows..rows + s.n, 0..self.n_network_params], sum);
            }
        }
        if let Some(cols) = param_columns {
            jacobian = Tensor::cat(vec![jacobian, cols], 1);
        }
        Evaluation {
            residual,
            jacobian: Some(jacobian),
            jacobian_host: None,
            gradient: None,
        }
    }

    fn theta_tensor(&self, theta: &[f64]) -> Tensor<B, 1> {
        Tensor::from_data(TensorData::new(theta.to_vec(), [theta.len()]), &self.device)
    }

    /// The scaled residual vector r(θ), blocks in order.
    ///
    /// # Panics
    /// If `points` does not fit the problem (see [`Self::check_points`]) or
    /// `theta.len() != n_params()`.
    pub fn residual(&self, theta: &[f64], points: &PointSet) -> Vec<f64> {
        assert_eq!(theta.len(), self.n_params(), "θ has the wrong length");
        let eval = self.evaluate(
            self.theta_tensor(theta),
            Some(theta),
            points,
            Mode::Residual,
            None,
        );
        to_vec(eval.residual)
    }

    /// r(θ) as a tensor with θ a tensor, so that an autodiff backend can
    /// differentiate it (params enter as tensors too).
    ///
    /// # Shapes
    /// - `theta`: `[P]`; returns `[N]`
    pub fn residual_tensor(&self, theta: Tensor<B, 1>, points: &PointSet) -> Tensor<B, 1> {
        let n = points.n_rows();
        self.evaluate(theta, None, points, Mode::Residual, None)
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
        );
        let n = points.n_rows();
        *jacobian = eval
            .jacobian_host
            .or_else(|| eval.jacobian.map(to_vec2))
            .unwrap_or_else(|| vec![0.0; n * self.n_params()]);
        to_vec(eval.residual)
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
        );
        let r = to_vec(eval.residual);
        let loss = 0.5 * r.iter().map(|v| v * v).sum::<f64>();
        let gradient = eval
            .gradient
            .map(|g| g.into_data().into_vec::<f64>().expect("f64 tensor"))
            .unwrap_or_else(|| vec![0.0; self.n_params()]);
        (loss, gradient)
    }

    /// One jet `D^α u_k` of the ansatz at `points` (`[n, d]` row-major).
    ///
    /// # Panics
    /// If the field does not exist, the multi-index does not have one entry
    /// per coordinate, or the order exceeds [`MAX_JET_ORDER`].
    pub fn eval_jet(&self, theta: &[f64], points: &[f64], jet: &crate::ir::Jet) -> Vec<f64> {
        let d = self.problem.coords.len();
        let n = points.len() / d.max(1);
        let kind = match &jet.deriv {
            Deriv::Partial(alpha) => ChannelKind::Partial(alpha.clone()),
            Deriv::Laplacian => ChannelKind::Laplacian,
        };
        let spatial = self.problem.spatial_coords();
        let plan = ChannelPlan::new(d, &spatial, std::slice::from_ref(&kind));
        let (net, col) = if self.problem.model.shared {
            (0, jet.field)
        } else {
            (jet.field, 0)
        };
        let theta_t = self.theta_tensor(theta);
        let layers = self.networks[net].unpack(&theta_t);
        let inputs = self.tensor2(points.to_vec(), [n, d]);
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

fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    let n = t.shape().num_elements();
    t.reshape([n])
        .into_data()
        .into_vec::<f64>()
        .expect("f64 tensor")
}

fn to_vec2<B: Backend>(t: Tensor<B, 2>) -> Vec<f64> {
    t.into_data().into_vec::<f64>().expect("f64 tensor")
}

/// A compiled problem on fixed points: the [`LeastSquares`] the optimizers see.
#[derive(Debug, Clone)]
pub struct PdeLeastSquares<B: Backend> {
    /// The compiled problem.
    pub program: CompiledProblem<B>,
    /// The training points, one block per residual block.
    pub points: PointSet,
}

impl<B: Backend> PdeLeastSquares<B> {
    /// Bundles a program with its points.
    ///
    /// # Errors
    /// Points that do not fit the problem ([`CompiledProblem::check_points`]).
    pub fn new(program: CompiledProblem<B>, points: PointSet) -> Result<Self, CompileError> {
        program.check_points(&points)?;
        Ok(PdeLeastSquares { program, points })
    }
}

impl<B: Backend> LeastSquares for PdeLeastSquares<B> {
    fn n_params(&self) -> usize {
        self.program.n_params()
    }

    fn n_residuals(&self) -> usize {
        self.points.n_rows()
    }

    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.program.residual_and_jacobian(theta, &self.points)
    }

    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        self.program.residual(theta, &self.points)
    }

    /// Residual-only forwards (no reverse pass, no linearization), one per θ,
    /// run in parallel: the tensors of one small forward pass leave most of
    /// the cores idle, so independent θ fill them.
    fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
        thetas
            .par_iter()
            .map(|t| {
                let r = self.program.residual(t, &self.points);
                0.5 * r.iter().map(|v| v * v).sum::<f64>()
            })
            .collect()
    }

    fn loss_and_gradient(&mut self, theta: &[f64]) -> (f64, Vec<f64>) {
        self.program.loss_and_gradient(theta, &self.points)
    }

    /// Rows are stacked block by block in `Problem::blocks` order.
    fn locate_row(&self, row: usize) -> Option<usize> {
        self.points.block_of_row(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::testing::{self, all_problems, random_points};
    use crate::ir::{Activation, Jet};
    use burn_autodiff::Autodiff;
    use burn_ndarray::NdArray;

    type Be = NdArray<f64>;
    type Ad = Autodiff<NdArray<f64>>;

    fn compile(problem: &Problem) -> CompiledProblem<Be> {
        CompiledProblem::new(problem, &Default::default()).expect("compiles")
    }

    fn max_abs(v: &[f64]) -> f64 {
        v.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    /// Every column of J against a central difference of r (step 1e-6):
    /// truncation ~1e-12, rounding ~1e-10, so 1e-6 relative to max|J| is a
    /// bound a wrong column (sign, missing term, wrong row) cannot meet.
    #[test]
    fn jacobian_matches_central_differences() {
        for (name, problem) in all_problems() {
            let program = compile(&problem);
            let points = random_points(&problem, 7, 11);
            program.check_points(&points).expect("points fit");
            let theta = program.init_params(5);
            let (r, jac) = program.residual_and_jacobian(&theta, &points);
            assert_eq!(
                r,
                program.residual(&theta, &points),
                "{name}: residual paths"
            );
            let (n, p) = (r.len(), program.n_params());
            assert_eq!(jac.len(), n * p);
            let scale = max_abs(&jac);
            let mut worst = 0.0f64;
            for k in 0..p {
                let h = 1e-6 * (1.0 + theta[k].abs());
                let mut plus = theta.clone();
                plus[k] += h;
                let mut minus = theta.clone();
                minus[k] -= h;
                let (rp, rm) = (
                    program.residual(&plus, &points),
                    program.residual(&minus, &points),
                );
                for i in 0..n {
                    let fd = (rp[i] - rm[i]) / (2.0 * h);
                    worst = worst.max((fd - jac[i * p + k]).abs());
                }
            }
            assert!(
                worst <= 1e-6 * scale,
                "{name}: max |J − FD| = {worst:e}, max |J| = {scale:e}"
            );
        }
    }

    /// Jᵀr of the gradient path against burn-autodiff's gradient of ½‖r‖²,
    /// where r is the same tensor program run on the autodiff backend (params
    /// as tensors), and against Jᵀr formed from the Jacobian path.
    #[test]
    fn gradient_matches_burn_autodiff_and_jacobian() {
        for (name, problem) in all_problems() {
            let program = compile(&problem);
            let points = random_points(&problem, 9, 3);
            let theta = program.init_params(2);
            let (loss, gradient) = program.loss_and_gradient(&theta, &points);

            let ad: CompiledProblem<Ad> =
                CompiledProblem::new(&problem, &Default::default()).unwrap();
            let theta_t = Tensor::<Ad, 1>::from_data(
                TensorData::new(theta.clone(), [theta.len()]),
                &Default::default(),
            )
            .require_grad();
            let r = ad.residual_tensor(theta_t.clone(), &points);
            let ad_loss = r.clone().powi_scalar(2).sum().mul_scalar(0.5);
            let grads = ad_loss.backward();
            let reference = theta_t
                .grad(&grads)
                .expect("gradient")
                .into_data()
                .to_vec::<f64>()
                .unwrap();
            let ad_loss = ad_loss.into_data().to_vec::<f64>().unwrap()[0];
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

            let (r, jac) = program.residual_and_jacobian(&theta, &points);
            let p = program.n_params();
            let mut jtr = vec![0.0; p];
            for (i, ri) in r.iter().enumerate() {
                for k in 0..p {
                    jtr[k] += jac[i * p + k] * ri;
                }
            }
            let diff: Vec<f64> = gradient.iter().zip(&jtr).map(|(a, b)| a - b).collect();
            assert!(
                max_abs(&diff) <= 1e-12 * max_abs(&jtr),
                "{name}: gradient vs Jᵀr"
            );
        }
    }

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

    /// Each jet `D^α u` (orders 1..4, mixed, every activation) against a
    /// fourth-order central difference `[1, −8, 0, 8, −1]/12h` (h = 1e-3,
    /// truncation ~h⁴ ≈ 1e-12, rounding ~1e-13) of the jet `D^{α−e_i}` for every
    /// i with `α_i > 0`; the value itself against a plain host MLP. Together
    /// these pin every jet down to the value by induction.
    #[test]
    fn jets_match_finite_differences() {
        let alphas: Vec<Vec<u8>> = vec![
            vec![0, 0, 0],
            vec![1, 0, 0],
            vec![0, 1, 0],
            vec![2, 0, 0],
            vec![1, 1, 0],
            vec![0, 0, 2],
            vec![3, 0, 0],
            vec![1, 1, 1],
            vec![2, 1, 0],
            vec![4, 0, 0],
            vec![2, 2, 0],
            vec![1, 2, 1],
            vec![3, 0, 1],
            vec![0, 0, 4],
        ];
        let activations = [
            Activation::Tanh,
            Activation::Sin,
            Activation::Sigmoid,
            Activation::Softplus,
            Activation::Silu,
        ];
        for activation in activations {
            let mut b = testing::Builder::new(
                &[
                    ("x", false, 0.0, 1.0),
                    ("y", false, 0.0, 1.0),
                    ("z", false, 0.0, 1.0),
                ],
                &["u"],
                &[7, 6],
                activation,
            );
            let u = b.u(0);
            b.block(Region::Interior, 1.0, u);
            let program = compile(&b.problem);
            let theta = program.init_params(9);
            let pts = [0.3, -0.2, 0.5, 0.9, 0.1, -0.7];
            let values = program.eval_fields(&theta, &pts);
            for i in 0..2 {
                let host = host_mlp(&program, &theta, 0, &pts[3 * i..3 * i + 3], activation)[0];
                assert!(
                    (values[0][i] - host).abs() <= 1e-14,
                    "{activation:?}: value"
                );
            }
            let h = 1e-3;
            for alpha in &alphas {
                let jet = |a: &[u8]| Jet {
                    field: 0,
                    deriv: Deriv::Partial(a.to_vec()),
                };
                let exact = program.eval_jet(&theta, &pts, &jet(alpha));
                for dir in 0..3 {
                    if alpha[dir] == 0 {
                        continue;
                    }
                    let mut lower = alpha.clone();
                    lower[dir] -= 1;
                    let shifted = |k: f64| {
                        let mut p = pts.to_vec();
                        for i in 0..2 {
                            p[3 * i + dir] += k * h;
                        }
                        program.eval_jet(&theta, &p, &jet(&lower))
                    };
                    let (m2, m1, p1, p2) =
                        (shifted(-2.0), shifted(-1.0), shifted(1.0), shifted(2.0));
                    for i in 0..2 {
                        let fd = (m2[i] - 8.0 * m1[i] + 8.0 * p1[i] - p2[i]) / (12.0 * h);
                        assert!(
                            (fd - exact[i]).abs() <= 1e-8 * (1.0 + exact[i].abs()),
                            "{activation:?} α = {alpha:?} along {dir}: jet {} vs FD {fd}",
                            exact[i]
                        );
                    }
                }
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

    /// Residual rows are sqrt(w/n)·F, blocks in order: the heat boundary block
    /// is sqrt(3/n)·u and the initial block sqrt(2/n)·(u − sin πx).
    #[test]
    fn residual_rows_are_scaled_block_values() {
        let problem = testing::heat();
        let program = compile(&problem);
        let points = random_points(&problem, 5, 1);
        let theta = program.init_params(8);
        let r = program.residual(&theta, &points);
        let init = &points.blocks[1];
        let u = program.eval_fields(&theta, &init.points);
        for i in 0..5 {
            let x = init.points[2 * i + 1];
            let expected = (2.0f64 / 5.0).sqrt() * (u[0][i] - (std::f64::consts::PI * x).sin());
            assert!((r[5 + i] - expected).abs() < 1e-14);
        }
        let bnd = &points.blocks[2];
        let u = program.eval_fields(&theta, &bnd.points);
        for i in 0..5 {
            assert!((r[10 + i] - (3.0f64 / 5.0).sqrt() * u[0][i]).abs() < 1e-14);
        }
    }

    /// Periodic rows are F(point) − F(partner); the param column of the
    /// boundary row `u − 1 + k²` is sqrt(1/n)·2k.
    #[test]
    fn periodic_rows_and_param_columns() {
        let problem = testing::periodic();
        let program = compile(&problem);
        let points = random_points(&problem, 4, 2);
        let theta = program.init_params(1);
        let r = program.residual(&theta, &points);
        let blk = &points.blocks[1];
        let a = program.eval_fields(&theta, &blk.points);
        let b = program.eval_fields(&theta, blk.partner.as_ref().unwrap());
        for i in 0..4 {
            assert!((r[4 + i] - 0.5 * (a[0][i] - b[0][i])).abs() < 1e-14);
        }

        let problem = testing::with_param();
        let program = compile(&problem);
        let points = random_points(&problem, 4, 2);
        let theta = program.init_params(1);
        assert_eq!(theta[program.n_params() - 1], 1.3);
        let (_, jac) = program.residual_and_jacobian(&theta, &points);
        let p = program.n_params();
        for i in 4..8 {
            assert!((jac[i * p + p - 1] - 0.5 * 2.0 * 1.3).abs() < 1e-14);
        }
    }

    /// Data rows: the residual is `sqrt(1/n)·(u(x_r) − v[r])` at the block's rows.
    #[test]
    fn data_rows_enter_the_residual() {
        let problem = testing::with_data();
        let program = compile(&problem);
        let points = random_points(&problem, 4, 0);
        program.check_points(&points).unwrap();
        let theta = program.init_params(2);
        let r = program.residual(&theta, &points);
        let blk = &points.blocks[0];
        let u = program.eval_fields(&theta, &blk.points);
        for (i, &row) in blk.data_rows.as_ref().unwrap().iter().enumerate() {
            let expected = 0.5 * (u[0][i] - problem.data[0].values[1][row]);
            assert!((r[i] - expected).abs() < 1e-14);
        }
        let mut bad = points.clone();
        bad.blocks[0].data_rows = Some(vec![0, 1, 2, 99]);
        assert!(program.check_points(&bad).is_err());
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

    /// The host row writer and the device batched product give the same J.
    #[test]
    fn host_and_device_assembly_agree() {
        for (name, problem) in all_problems() {
            let host = compile(&problem);
            let device = compile(&problem).with_assembly(JacobianAssembly::Device);
            let points = random_points(&problem, 6, 4);
            let theta = host.init_params(6);
            let (r1, j1) = host.residual_and_jacobian(&theta, &points);
            let (r2, j2) = device.residual_and_jacobian(&theta, &points);
            assert_eq!(r1, r2);
            let diff: Vec<f64> = j1.iter().zip(&j2).map(|(a, b)| a - b).collect();
            assert!(max_abs(&diff) <= 1e-13 * max_abs(&j1), "{name}");
        }
    }

    /// A reused buffer full of stale values (NaN) is overwritten entirely.
    #[test]
    fn reused_jacobian_buffer_is_fully_overwritten() {
        for (name, problem) in all_problems() {
            let program = compile(&problem);
            let points = random_points(&problem, 4, 9);
            let theta = program.init_params(1);
            let (r, fresh) = program.residual_and_jacobian(&theta, &points);
            let mut buffer = vec![f64::NAN; fresh.len()];
            let r2 = program.residual_and_jacobian_into(&theta, &points, &mut buffer);
            assert_eq!(r, r2);
            assert_eq!(fresh, buffer, "{name}");
        }
    }

    #[test]
    fn least_squares_trait_agrees_with_program() {
        let problem = testing::system(false);
        let program = compile(&problem);
        let points = random_points(&problem, 5, 7);
        let theta = program.init_params(3);
        let mut ls = PdeLeastSquares::new(program.clone(), points.clone()).unwrap();
        assert_eq!(ls.n_residuals(), 15);
        let r = ls.residual(&theta);
        let losses = ls.losses(&[theta.clone(), theta.iter().map(|t| t * 0.5).collect()]);
        assert!((losses[0] - 0.5 * r.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-15);
        let half: Vec<f64> = theta.iter().map(|t| t * 0.5).collect();
        let r_half = ls.residual(&half);
        assert!((losses[1] - 0.5 * r_half.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-15);
        assert!(losses[1] != losses[0]);
        let (loss, g) = ls.loss_and_gradient(&theta);
        assert!((loss - losses[0]).abs() < 1e-15);
        assert_eq!(g.len(), ls.n_params());
    }
}
