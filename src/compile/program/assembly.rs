//! One evaluation of a compiled problem: the scaled residual rows, and in
//! Jacobian mode the rows of J (written on the host or formed on the device),
//! in gradient mode Jᵀr from one summed reverse pass without J.

use super::blocks::BlockValues;
use super::compiled::{CompiledProblem, JacobianAssembly};
use super::value::to_vec2;
use crate::compile::jet::{self, JetForward};
use crate::compile::points::PointSet;
use burn::tensor::{backend::Backend, Tensor};
use rayon::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Residual,
    Jacobian,
    Gradient,
}

/// Output of one evaluation.
pub(super) struct Evaluation<B: Backend> {
    pub(super) residual: Tensor<B, 2>,
    pub(super) jacobian: Option<Tensor<B, 2>>,
    /// The Jacobian when assembled on the host (row-major N×P).
    pub(super) jacobian_host: Option<Vec<f64>>,
    pub(super) gradient: Option<Tensor<B, 1>>,
}

impl<B: Backend> CompiledProblem<B> {
    pub(super) fn evaluate(
        &self,
        theta: Tensor<B, 1>,
        theta_host: Option<&[f64]>,
        points: &PointSet,
        mode: Mode,
        jacobian_buffer: Option<&mut Vec<f64>>,
        counts: Option<&[usize]>,
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
                    &self.network_input(k, &inputs),
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
        // Each block's rows carry sqrt(w/n) with n its count: `counts` where the points
        // are rows cut from a larger set ([`CompiledProblem::residual_rows`]).
        let scale: Vec<f64> = (0..n_blocks)
            .map(|b| {
                let n = counts.map_or(points.blocks[b].n, |c| c[b]).max(1) as f64;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::checks::{
        assert_gradient_matches_autodiff, central_difference_column, max_abs,
    };
    use crate::compile::testing::{self, all_problems, compile, random_points};

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
                let column = central_difference_column(&program, &points, &theta, k);
                for (i, fd) in column.iter().enumerate() {
                    worst = worst.max((fd - jac[i * p + k]).abs());
                }
            }
            assert!(
                worst <= 1e-6 * scale,
                "{name}: max |J − FD| = {worst:e}, max |J| = {scale:e}"
            );
        }
    }

    /// The piecewise problem in the tests above (`all_problems`) is checked away from
    /// its switches, with both branches of every `min`, `max` and `if` taken: at the
    /// points and parameters of the Jacobian test no comparison is within 1e-4 of a
    /// tie (a finite-difference step moves it by ~1e-6), and each branch is selected
    /// at some point.
    #[test]
    fn piecewise_checks_cross_both_branches_away_from_ties() {
        let problem = testing::piecewise();
        let program = compile(&problem);
        for (n, seed, init) in [(7, 11, 5), (9, 3, 2)] {
            let points = random_points(&problem, n, seed);
            let theta = program.init_params(init);
            let margins = testing::select_margins(&problem, &program, &points, &theta);
            assert_eq!(
                margins.len(),
                4,
                "max, min and if in block 1, if in block 2"
            );
            for (i, &(margin, taken, not_taken)) in margins.iter().enumerate() {
                assert!(margin > 1e-4, "select {i}: a tie within {margin:e}");
                assert!(
                    taken > 0 && not_taken > 0,
                    "select {i}: branches taken {taken} and {not_taken} times"
                );
            }
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
            let gradient =
                assert_gradient_matches_autodiff(name, &problem, &program, &points, &theta);

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

    /// Rows of J computed on their own points (any range, across block boundaries)
    /// equal those rows of J computed on all the points, block weights included.
    #[test]
    fn jacobian_rows_equal_the_rows_of_the_whole_jacobian() {
        for (name, problem) in all_problems() {
            let program = compile(&problem);
            let points = random_points(&problem, 7, 5);
            let theta = program.init_params(2);
            let (_, whole) = program.residual_and_jacobian(&theta, &points);
            let (n, p) = (points.n_rows(), program.n_params());
            let scale = max_abs(&whole);
            for rows in [0..n, 0..1, 3..n.min(11), n / 2..n, n - 1..n] {
                let part = program.jacobian_rows(&theta, &points, rows.clone());
                assert_eq!(part.len(), rows.len() * p, "{name} {rows:?}");
                let diff: Vec<f64> = part
                    .iter()
                    .zip(&whole[rows.start * p..rows.end * p])
                    .map(|(a, b)| a - b)
                    .collect();
                assert!(
                    max_abs(&diff) <= 1e-14 * scale,
                    "{name} {rows:?}: {}",
                    max_abs(&diff)
                );
            }
        }
    }

    /// Rows of r computed on their own points equal those rows of r computed on all
    /// the points; a set larger than a chunk is evaluated in chunks with the same rows.
    #[test]
    fn residual_rows_and_chunks_equal_the_whole_residual() {
        use crate::compile::program::compiled::RESIDUAL_CHUNK_ROWS;
        for (name, problem) in all_problems() {
            let program = compile(&problem);
            let points = random_points(&problem, 7, 5);
            let theta = program.init_params(2);
            let whole = program
                .evaluate(
                    program.theta_tensor(&theta),
                    Some(&theta),
                    &points,
                    Mode::Residual,
                    None,
                    None,
                )
                .residual;
            let whole = whole.into_data().into_vec::<f64>().unwrap();
            let n = points.n_rows();
            for rows in [0..n, 0..1, 3..n.min(11), n / 2..n, n - 1..n] {
                let part = program.residual_rows(&theta, &points, rows.clone());
                assert_eq!(part, whole[rows.clone()], "{name} {rows:?}");
            }
            // Enough points for several chunks.
            let per_block = RESIDUAL_CHUNK_ROWS / points.blocks.len().max(1) + 301;
            let many = random_points(&problem, per_block, 6);
            assert!(many.n_rows() > RESIDUAL_CHUNK_ROWS);
            let one_pass = program
                .evaluate(
                    program.theta_tensor(&theta),
                    Some(&theta),
                    &many,
                    Mode::Residual,
                    None,
                    None,
                )
                .residual
                .into_data()
                .into_vec::<f64>()
                .unwrap();
            // Row for row the same arithmetic: equal to the last bit.
            assert_eq!(program.residual(&theta, &many), one_pass, "{name}");
        }
    }
}
