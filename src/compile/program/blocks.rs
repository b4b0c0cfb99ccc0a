//! Residual blocks on the jets: the stacked input `[M, d]` with one segment per
//! block (then per periodic partner), and one block's residual, linearization
//! coefficients and param derivatives evaluated on its segment.

use super::compiled::CompiledProblem;
use super::value::{eval_dag, Value};
use crate::compile::jet::JetForward;
use crate::compile::points::{BlockPoints, PointSet};
use crate::ir::{Node, Region};
use burn::tensor::{backend::Backend, Tensor};

/// Where the evaluation rows of one block (or its partner points) live.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) block: usize,
    pub(super) partner: bool,
    pub(super) offset: usize,
    pub(super) n: usize,
}

/// A block's residual pieces at one segment.
pub(super) struct BlockValues<B: Backend> {
    pub(super) residual: Value<B>,
    pub(super) coefficients: Vec<Value<B>>,
    pub(super) param_derivatives: Vec<Value<B>>,
}

impl<B: Backend> CompiledProblem<B> {
    /// The segments and the stacked input `[M, d]`: all blocks' points, then partners.
    pub(super) fn segments(&self, points: &PointSet) -> (Vec<Segment>, Tensor<B, 2>) {
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
    pub(super) fn eval_block(
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
                Node::Grid(id) => {
                    // Host coordinates of this segment's rows (the partner
                    // points for the partner segment of a periodic block).
                    let host = match (&pts.partner, segment.partner) {
                        (Some(partner), true) => partner,
                        _ => &pts.points,
                    };
                    let values: Vec<f64> = host
                        .chunks(d.max(1))
                        .take(n)
                        .map(|x| self.problem.eval_grid(id, x))
                        .collect();
                    let len = values.len();
                    Value::Tensor(self.tensor2(values, [len, 1]))
                }
                Node::Data { set, column } => {
                    let values = &self.problem.data[set].values[column];
                    let rows = pts.data_rows.as_deref().unwrap_or(&[]);
                    let gathered: Vec<f64> = rows.iter().map(|&r| values[r]).collect();
                    let len = gathered.len();
                    Value::Tensor(self.tensor2(gathered, [len, 1]))
                }
                Node::Const(bits) => Value::Scalar(f64::from_bits(bits)),
                Node::Unary(..) | Node::Binary(..) | Node::Select { .. } => {
                    unreachable!("inner nodes are not leaves")
                }
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
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::{self, compile, random_points};

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

    /// The piecewise residuals (`min`, `max`, `if` on tensors) row by row against
    /// the host evaluation of the same expressions: sqrt(w/n)·F at every point.
    #[test]
    fn piecewise_rows_match_host_evaluation() {
        let problem = testing::piecewise();
        let program = compile(&problem);
        let points = random_points(&problem, 9, 5);
        let theta = program.init_params(3);
        let r = program.residual(&theta, &points);
        let mut row = 0;
        for (b, block) in problem.blocks.iter().enumerate() {
            let n = points.blocks[b].n;
            let expected =
                testing::host_values(&problem, &program, &points, &theta, b, block.residual);
            for value in expected {
                let scaled = (block.weight / n as f64).sqrt() * value;
                assert!(
                    (r[row] - scaled).abs() <= 1e-13 * (1.0 + scaled.abs()),
                    "block {b}, row {row}: {} vs host {scaled}",
                    r[row]
                );
                row += 1;
            }
        }
        assert_eq!(row, r.len());
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
}
