//! The figures and the solution export of a finished run: `history.png`,
//! `solution_<field>.png`, `residual.png`, `spectrum.png` (natural-gradient methods) and
//! `solution.csv`, from the compiled problem and θ.

use super::plot::{plot_residual_heatmap, plot_residual_line};
use super::{
    grid_axis, plot_heatmaps, plot_history, plot_line, plot_spectrum, regular_grid, slice_grid,
    write_solution_csv, OutputError, Series,
};
use crate::compile::points::{BlockPoints, PointSet};
use crate::compile::sample::in_domain;
use crate::compile::CompiledProblem;
use crate::ir::{symbolic, CoordKind, ExactSource, Node, Problem, Region};
use crate::run::RunReport;
use crate::solve::{OptimizerConfig, Spectrum};
use burn::tensor::backend::Backend;
use std::path::{Path, PathBuf};

/// Values of each field's exact expression at `points` (`[n, d]`), where one is known
/// in closed form (reference data cannot be evaluated off its rows).
pub fn exact_values(problem: &Problem, points: &[f64]) -> Vec<Option<Vec<f64>>> {
    let d = problem.coords.len().max(1);
    (0..problem.fields.len())
        .map(|field| {
            let exact = problem.exact.iter().find(|e| e.field == field)?;
            let ExactSource::Expr(id) = exact.source else {
                return None;
            };
            Some(
                points
                    .chunks(d)
                    .map(|x| {
                        symbolic::eval(&problem.exprs, id, &|node| match node {
                            Node::Coord(i) => x[i],
                            _ => f64::NAN,
                        })
                    })
                    .collect(),
            )
        })
        .collect()
}

/// The pointwise residual `|lhs − rhs|` of the equations on `interior` at `points`
/// (`[n, d]` row-major; the root of the sum of their squares where several hold there),
/// unscaled by the blocks' `sqrt(w/N)`. One residual forward, no Jacobian. `None` when
/// no equation holds on `interior` or there are no points.
///
/// # Shapes
/// `points: [n, d]`; returns `n` values.
pub fn interior_residual<B: Backend>(
    problem: &Problem,
    program: &CompiledProblem<B>,
    theta: &[f64],
    points: &[f64],
) -> Option<Vec<f64>> {
    let d = problem.coords.len().max(1);
    let n = points.len() / d;
    let interior: Vec<usize> = (0..problem.blocks.len())
        .filter(|&b| problem.blocks[b].region == Region::Interior)
        .collect();
    if interior.is_empty() || n == 0 {
        return None;
    }
    let blocks = problem
        .blocks
        .iter()
        .map(|block| {
            if block.region == Region::Interior {
                BlockPoints {
                    n,
                    points: points.to_vec(),
                    ..BlockPoints::default()
                }
            } else {
                BlockPoints {
                    n: 0,
                    points: Vec::new(),
                    normals: Some(Vec::new()),
                    partner: Some(Vec::new()),
                    data_rows: Some(Vec::new()),
                }
            }
        })
        .collect();
    let residual = program.residual(theta, &PointSet { blocks });
    let mut squares = vec![0.0; n];
    // Only the interior blocks have rows, stacked in block order.
    for (k, &b) in interior.iter().enumerate() {
        let scale = (problem.blocks[b].weight / n as f64).sqrt();
        for (sum, r) in squares.iter_mut().zip(&residual[k * n..(k + 1) * n]) {
            *sum += (r / scale).powi(2);
        }
    }
    Some(squares.into_iter().map(f64::sqrt).collect())
}

/// At most this many training points are drawn over `residual.png` (every k-th beyond
/// it), which keeps the figure's cost small at large N.
pub const RESIDUAL_FIGURE_MAX_POINTS: usize = 20_000;

/// The spectrum drawn in `spectrum.png`: the eigenvalues of the Gramian at the final
/// parameters on the final training points, and the optimizer's cut-off in the same units.
#[derive(Debug, Clone, PartialEq)]
pub struct GramSpectrum {
    /// Eigenvalues of `JJᵀ` (when `N ≤ P`) or `JᵀJ`, largest first; the nonzero ones are
    /// the squared singular values of J.
    pub eigenvalues: Vec<f64>,
    /// The threshold below which the optimizer drops (or damps away) an eigenvalue:
    /// ENGD (Cholesky) the damping `λ` in force at the last step; ENGD (eigen) its
    /// relative cut-off on `G + λI` moved to `G`'s scale, `c·(μ_max + λ) − λ`; SNGD its
    /// tolerance (times `μ_max` when relative; SNGD applies it to the sketched Gramian);
    /// ANaGRAM `ε²·μ_max` (it keeps `σ ≥ ε·σ_max`). `None` when nothing is cut.
    pub cutoff: Option<f64>,
    /// Whether the eigenvalues are of the sample-space kernel `JJᵀ`.
    pub kernel: bool,
    /// `false` when only the leading eigenvalues were estimated (a Gramian larger than
    /// [`crate::solve::spectrum::DENSE_SPECTRUM_LIMIT`]).
    pub complete: bool,
}

impl GramSpectrum {
    /// What the values are, for the plot: `eigenvalues of JJᵀ` or `eigenvalues of JᵀJ`
    /// (`largest k eigenvalues of …, estimated` when not complete).
    pub fn kind(&self) -> String {
        let gramian = if self.kernel { "JJᵀ" } else { "JᵀJ" };
        if self.complete {
            format!("eigenvalues of {gramian}")
        } else {
            format!(
                "largest {} eigenvalues of {gramian}, estimated",
                self.eigenvalues.len()
            )
        }
    }
}

/// The Gramian spectrum of a natural-gradient run at `theta` on `points`
/// ([`Spectrum`] with the method's cut-off); `None` for methods without one (Adam,
/// L-BFGS), and when J is not finite or the eigensolver fails. `damping` is the
/// damping of the last step (the configured one when `None`).
///
/// # Shapes
/// `theta: P`; J is `N×P` with `N = points.n_rows()`; the Gramian is `min(N, P)` square.
pub fn gram_spectrum<B: Backend>(
    program: &CompiledProblem<B>,
    theta: &[f64],
    points: &PointSet,
    optimizer: &OptimizerConfig,
    damping: Option<f64>,
) -> Option<GramSpectrum> {
    if !optimizer.kind().has_spectrum() {
        return None;
    }
    let (n_rows, n_params) = (points.n_rows(), program.n_params());
    if n_rows == 0 || n_params == 0 {
        return None;
    }
    let (_, jacobian) = program.residual_and_jacobian(theta, points);
    let spectrum = Spectrum::of_jacobian(&jacobian, n_rows, n_params)?;
    let cutoff = spectrum.cutoff(optimizer, damping);
    Some(GramSpectrum {
        eigenvalues: spectrum.eigenvalues,
        cutoff,
        kernel: spectrum.kernel,
        complete: spectrum.complete,
    })
}

/// Writes `history.png`, `spectrum.png` (ENGD, SNGD and ANaGRAM: [`gram_spectrum`] at
/// the final θ on `run.points`), one `solution_<field>.png` per field and `solution.csv`
/// (a regular grid with about `grid²` points over the bounding box, points
/// outside the domain left out) into `dir`. Returns the paths written.
///
/// The solution plot is a line plot for one coordinate, else heatmaps over two
/// coordinates (the first two spatial ones, or space and time) with the others at
/// the middle of their range.
///
/// # Errors
/// A file cannot be written.
pub fn write_figures<B: Backend>(
    dir: &Path,
    problem: &Problem,
    program: &CompiledProblem<B>,
    run: &RunReport,
    grid: usize,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    let theta = &run.theta;
    let names: Vec<String> = problem.fields.iter().map(|f| f.name.clone()).collect();

    // Loss and errors against the iteration.
    let history = &run.report.history;
    let loss = Series {
        name: "loss".to_string(),
        x: history.iter().map(|r| r.iteration as f64).collect(),
        y: history.iter().map(|r| r.loss).collect(),
    };
    let errors: Vec<Series> = run
        .errors
        .iter()
        .map(|e| Series {
            name: format!("rel. L2 error of {}", names[e.field]),
            x: run.error_history.iter().map(|(it, _)| *it as f64).collect(),
            y: run
                .error_history
                .iter()
                .map(|(_, es)| {
                    es.iter()
                        .find(|x| x.field == e.field)
                        .map_or(f64::NAN, |x| x.relative_l2)
                })
                .collect(),
        })
        .collect();
    let mut curves = errors;
    if !run.heldout_history.is_empty() {
        curves.push(Series {
            name: "held-out loss".to_string(),
            x: run
                .heldout_history
                .iter()
                .map(|(it, _)| *it as f64)
                .collect(),
            y: run.heldout_history.iter().map(|(_, loss)| *loss).collect(),
        });
    }
    let path = dir.join("history.png");
    plot_history(&path, &loss, &curves)?;
    written.push(path);

    // The Gramian spectrum at the last step (natural-gradient methods only).
    let damping = history.iter().rev().find_map(|r| r.damping);
    if let Some(spectrum) = gram_spectrum(program, theta, &run.points, &run.optimizer, damping) {
        let path = dir.join("spectrum.png");
        plot_spectrum(
            &path,
            &spectrum.eigenvalues,
            spectrum.cutoff,
            &spectrum.kind(),
        )?;
        written.push(path);
    }

    let d = problem.coords.len();
    let lo: Vec<f64> = problem.coords.iter().map(|c| c.lo).collect();
    let hi: Vec<f64> = problem.coords.iter().map(|c| c.hi).collect();
    let grid = grid.max(2);
    if d == 1 {
        let xs = grid_axis(lo[0], hi[0], grid * 4);
        let predicted = program.eval_fields(theta, &xs);
        let exact = exact_values(problem, &xs);
        for (k, name) in names.iter().enumerate() {
            let path = dir.join(format!("solution_{name}.png"));
            plot_line(
                &path,
                &problem.coords[0].name,
                &xs,
                &predicted[k],
                exact[k].as_deref(),
                &format!("{name}: network and exact solution"),
            )?;
            written.push(path);
        }
    } else {
        let free = plotted_axes(problem);
        let xs = grid_axis(lo[free.0], hi[free.0], grid);
        let ys = grid_axis(lo[free.1], hi[free.1], grid);
        // Beyond two plotted coordinates, one coordinate is swept over a few labelled
        // slices (time first: start, middle and end; else the third spatial coordinate at
        // a quarter, the middle and three quarters); any further ones sit at their middle.
        let others: Vec<usize> = (0..d).filter(|&i| i != free.0 && i != free.1).collect();
        let middle = |i: usize| 0.5 * (lo[i] + hi[i]);
        let swept = others
            .iter()
            .copied()
            .find(|&i| problem.coords[i].kind == CoordKind::Time)
            .or(others.first().copied());
        let sweep: Vec<Option<f64>> = match swept {
            None => vec![None],
            Some(i) => {
                let fractions: &[f64] = if problem.coords[i].kind == CoordKind::Time {
                    &[0.0, 0.5, 1.0]
                } else {
                    &[0.25, 0.5, 0.75]
                };
                fractions
                    .iter()
                    .map(|f| Some(lo[i] + f * (hi[i] - lo[i])))
                    .collect()
            }
        };
        for (slice_index, swept_value) in sweep.iter().enumerate() {
            let fixed: Vec<(usize, f64)> = others
                .iter()
                .map(|&i| match (swept, swept_value) {
                    (Some(j), Some(v)) if j == i => (i, *v),
                    _ => (i, middle(i)),
                })
                .collect();
            let points = slice_grid(&lo, &hi, free, &fixed, grid);
            let inside: Vec<bool> = points.chunks(d).map(|x| in_domain(problem, x)).collect();
            let mask = |values: Vec<f64>| -> Vec<f64> {
                values
                    .into_iter()
                    .zip(&inside)
                    .map(|(v, &ok)| if ok { v } else { f64::NAN })
                    .collect()
            };
            let predicted = program.eval_fields(theta, &points);
            let exact = exact_values(problem, &points);
            let slice = if fixed.is_empty() {
                String::new()
            } else {
                let labels: Vec<String> = fixed
                    .iter()
                    .map(|&(i, v)| format!("{} = {v:.3}", problem.coords[i].name))
                    .collect();
                format!(" at {}", labels.join(", "))
            };
            for (k, name) in names.iter().enumerate() {
                // The middle slice keeps the plain name; the others are numbered.
                let path = if sweep.len() == 1 || slice_index == 1 {
                    dir.join(format!("solution_{name}.png"))
                } else {
                    dir.join(format!("solution_{name}_slice{}.png", slice_index + 1))
                };
                let exact_k = exact[k].clone().map(&mask);
                plot_heatmaps(
                    &path,
                    (&problem.coords[free.0].name, &problem.coords[free.1].name),
                    &xs,
                    &ys,
                    &mask(predicted[k].clone()),
                    exact_k.as_deref(),
                    &format!("{name}{slice}"),
                )?;
                written.push(path);
            }
        }
    }

    if let Some(path) = write_residual_figure(dir, problem, program, run, grid)? {
        written.push(path);
    }

    // solution.csv: about grid² points in any dimension, inside the domain.
    let per_axis = ((grid * grid) as f64)
        .powf(1.0 / d.max(1) as f64)
        .round()
        .max(2.0) as usize;
    let all = regular_grid(&lo, &hi, per_axis);
    let points: Vec<f64> = all
        .chunks(d)
        .filter(|x| in_domain(problem, x))
        .flatten()
        .copied()
        .collect();
    let predicted = program.eval_fields(theta, &points);
    let exact = exact_values(problem, &points);
    let columns: Vec<_> = names
        .iter()
        .cloned()
        .zip(predicted)
        .zip(exact)
        .map(|((name, p), e)| (name, p, e))
        .collect();
    let coord_names: Vec<String> = problem.coords.iter().map(|c| c.name.clone()).collect();
    let path = dir.join("solution.csv");
    write_solution_csv(&path, &coord_names, &points, &columns)?;
    written.push(path);
    Ok(written)
}

/// `residual.png`: `|r|` of the equations on `interior` ([`interior_residual`]) with the
/// training points of the last iteration — a log-scale line plot over `4·grid` points
/// for one coordinate (the interior points as dots on the curve), else a heatmap of
/// `log10 |r|` over the plotting grid of `solution_<field>.png`'s middle slice (the
/// first two spatial coordinates, or space and time; further coordinates at their
/// middle) with every block's points projected on it (at most
/// [`RESIDUAL_FIGURE_MAX_POINTS`]). `None` (nothing written) without an equation on
/// `interior`.
///
/// # Errors
/// The file cannot be written.
pub fn write_residual_figure<B: Backend>(
    dir: &Path,
    problem: &Problem,
    program: &CompiledProblem<B>,
    run: &RunReport,
    grid: usize,
) -> Result<Option<PathBuf>, OutputError> {
    let theta = &run.theta;
    let d = problem.coords.len();
    let lo: Vec<f64> = problem.coords.iter().map(|c| c.lo).collect();
    let hi: Vec<f64> = problem.coords.iter().map(|c| c.hi).collect();
    let grid = grid.max(2);
    let path = dir.join("residual.png");
    let title = "residual of the interior equations";
    if d == 1 {
        let xs = grid_axis(lo[0], hi[0], grid * 4);
        let Some(residual) = interior_residual(problem, program, theta, &xs) else {
            return Ok(None);
        };
        let interior: Vec<f64> = run
            .points
            .blocks
            .iter()
            .zip(&problem.blocks)
            .filter(|(_, b)| b.region == Region::Interior)
            .flat_map(|(p, _)| p.points.iter().copied())
            .collect();
        let step = interior.len().div_ceil(RESIDUAL_FIGURE_MAX_POINTS).max(1);
        let interior: Vec<f64> = interior.into_iter().step_by(step).collect();
        let at_points = interior_residual(problem, program, theta, &interior).unwrap_or_default();
        let dots: Vec<(f64, f64)> = interior.iter().copied().zip(at_points).collect();
        plot_residual_line(&path, &problem.coords[0].name, &xs, &residual, &dots, title)?;
        return Ok(Some(path));
    }
    let free = plotted_axes(problem);
    let fixed: Vec<(usize, f64)> = (0..d)
        .filter(|&i| i != free.0 && i != free.1)
        .map(|i| (i, 0.5 * (lo[i] + hi[i])))
        .collect();
    let points = slice_grid(&lo, &hi, free, &fixed, grid);
    let Some(residual) = interior_residual(problem, program, theta, &points) else {
        return Ok(None);
    };
    let log_residual: Vec<f64> = points
        .chunks(d)
        .zip(residual)
        .map(|(x, r)| {
            if in_domain(problem, x) && r > 0.0 {
                r.log10()
            } else {
                f64::NAN
            }
        })
        .collect();
    let n_points = run.points.n_rows();
    let step = n_points.div_ceil(RESIDUAL_FIGURE_MAX_POINTS).max(1);
    let overlay: Vec<(f64, f64)> = run
        .points
        .blocks
        .iter()
        .flat_map(|b| b.points.chunks(d))
        .step_by(step)
        .map(|x| (x[free.0], x[free.1]))
        .collect();
    let slice = if fixed.is_empty() {
        String::new()
    } else {
        let labels: Vec<String> = fixed
            .iter()
            .map(|&(i, v)| format!("{} = {v:.3}", problem.coords[i].name))
            .collect();
        format!(" at {} (points projected)", labels.join(", "))
    };
    plot_residual_heatmap(
        &path,
        (&problem.coords[free.0].name, &problem.coords[free.1].name),
        &grid_axis(lo[free.0], hi[free.0], grid),
        &grid_axis(lo[free.1], hi[free.1], grid),
        &log_residual,
        &overlay,
        &format!("{title}{slice}"),
    )?;
    Ok(Some(path))
}

/// The two coordinates a 2-D figure spans: the first two spatial ones, else the one
/// spatial coordinate and the time (or the other coordinate). Needs at least two
/// coordinates and one spatial.
fn plotted_axes(problem: &Problem) -> (usize, usize) {
    let spatial = problem.spatial_coords();
    if spatial.len() >= 2 {
        (spatial[0], spatial[1])
    } else {
        let d = problem.coords.len();
        let time = (0..d).find(|&i| problem.coords[i].kind == CoordKind::Time);
        (
            spatial[0],
            time.unwrap_or(if spatial[0] == 0 { 1 } else { 0 }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::ScratchDir;
    use super::*;
    use crate::run::{run, RunConfig};
    use crate::solve::{linalg, AdamConfig, AnagramConfig, SolveConfig};
    use burn_ndarray::{NdArray, NdArrayDevice};
    use std::ops::ControlFlow;

    type Be = NdArray<f64>;

    const POISSON: &str = "space x in [0, 1]
field u
-dxx(u) = pi^2*sin(pi*x) on interior
u = 0 on boundary
exact u = sin(pi*x)
model mlp(layers = [6], activation = tanh, constraints = soft)
sample interior = 12, boundary = 2
";

    fn solved(optimizer: OptimizerConfig) -> (Problem, CompiledProblem<Be>, RunReport) {
        solved_source(POISSON, optimizer)
    }

    fn solved_source(
        source: &str,
        optimizer: OptimizerConfig,
    ) -> (Problem, CompiledProblem<Be>, RunReport) {
        let (problem, diagnostics) = crate::check_source(source, std::path::Path::new("."));
        let problem = problem.unwrap_or_else(|| panic!("{diagnostics:?}"));
        let config = RunConfig {
            solve: SolveConfig {
                optimizer,
                max_iterations: 5,
                threads: 1,
                seed: 3,
                ..SolveConfig::default()
            },
            eval_every: 0,
        };
        let report = run::<Be>(&problem, &NdArrayDevice::Cpu, &config, |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let program = CompiledProblem::new(&problem, &NdArrayDevice::Cpu).unwrap();
        (problem, program, report)
    }

    #[test]
    fn spectrum_matches_the_squared_singular_values_of_a_dense_jacobian() {
        // N = 14 rows, P = 19 parameters: the kernel JJᵀ is the smaller Gramian.
        let (_, program, report) = solved(OptimizerConfig::Anagram(AnagramConfig::default()));
        let spectrum = gram_spectrum(
            &program,
            &report.theta,
            &report.points,
            &report.optimizer,
            None,
        )
        .expect("ANaGRAM has a spectrum");
        let (n, p) = (report.points.n_rows(), program.n_params());
        assert_eq!((n, p), (14, 19));
        assert!(spectrum.kernel);
        assert_eq!(spectrum.eigenvalues.len(), n);
        // Reference: σᵢ² from the SVD of J (a different algorithm), and the trace of JJᵀ
        // summed by hand.
        let (_, j) = program.residual_and_jacobian(&report.theta, &report.points);
        let svd = linalg::thin_svd(linalg::jacobian_view(&j, n, p), faer::Par::Seq).unwrap();
        let largest = svd.s[0] * svd.s[0];
        for (k, (mu, sigma)) in spectrum.eigenvalues.iter().zip(&svd.s).enumerate() {
            assert!(
                (mu - sigma * sigma).abs() <= 1e-12 * largest,
                "eigenvalue {k}: {mu} vs σ² = {}",
                sigma * sigma
            );
        }
        let trace: f64 = j.iter().map(|v| v * v).sum();
        let sum: f64 = spectrum.eigenvalues.iter().sum();
        assert!((trace - sum).abs() <= 1e-12 * trace, "{trace} vs {sum}");
        assert!(spectrum.eigenvalues.windows(2).all(|w| w[0] >= w[1]));
        // ANaGRAM keeps σ ≥ ε·σ_max: the cut-off is ε²·μ_max.
        let eps = AnagramConfig::default().cutoff.relative(n, p);
        assert_eq!(spectrum.cutoff, Some(eps * eps * spectrum.eigenvalues[0]));
    }

    #[test]
    fn engd_cutoff_is_the_damping_in_force_and_adam_has_none() {
        let (_, program, report) = solved(OptimizerConfig::Engd(Default::default()));
        let spectrum = gram_spectrum(
            &program,
            &report.theta,
            &report.points,
            &report.optimizer,
            Some(3e-7),
        )
        .unwrap();
        assert_eq!(spectrum.cutoff, Some(3e-7));
        let adam = OptimizerConfig::Adam(AdamConfig::default());
        assert!(gram_spectrum(&program, &report.theta, &report.points, &adam, None).is_none());
    }

    /// Decodes an RGB PNG: `(width, height, pixels)`.
    fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
        let bytes = std::fs::read(path).expect("file exists");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("PNG header");
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).expect("PNG data");
        rgb.truncate(info.buffer_size());
        (info.width, info.height, rgb)
    }

    #[test]
    fn write_figures_draws_the_spectrum_for_natural_gradients_only() {
        let (problem, program, report) = solved(OptimizerConfig::Engd(Default::default()));
        let dir = ScratchDir::new("figures-spectrum");
        let written = write_figures(dir.path(), &problem, &program, &report, 20).unwrap();
        let path = dir.path().join("spectrum.png");
        assert!(written.contains(&path));
        let (width, height, rgb) = decode(&path);
        assert_eq!((width, height), super::super::plot::PLOT_SIZE);
        let colour =
            |c: plotters::style::RGBColor| rgb.chunks(3).filter(|p| p == &[c.0, c.1, c.2]).count();
        // One marker per eigenvalue in the kept (or cut) colour, and text.
        let markers =
            colour(super::super::plot::KEPT_COLOUR) + colour(super::super::plot::CUT_COLOUR);
        assert!(markers > 14 * 10, "{markers} marker pixels");
        let dark = rgb.chunks(3).filter(|p| p.iter().all(|&v| v < 90)).count();
        assert!(dark > 1000, "{dark} dark pixels");

        let (problem, program, report) = solved(OptimizerConfig::Adam(AdamConfig::default()));
        let dir = ScratchDir::new("figures-nospectrum");
        write_figures(dir.path(), &problem, &program, &report, 20).unwrap();
        assert!(!dir.path().join("spectrum.png").exists());
        assert!(dir.path().join("history.png").exists());
    }

    #[test]
    fn residual_figure_shows_the_interior_residual_and_the_points() {
        // 1-D: |r| of −u'' = π² sin πx is |u_θ'' + π² sin πx|, a line plot with dots.
        let (problem, program, report) = solved(OptimizerConfig::Engd(Default::default()));
        let xs = [0.1, 0.5, 0.8];
        let residual = interior_residual(&problem, &program, &report.theta, &xs).unwrap();
        let dxx = problem
            .jets
            .iter()
            .find(|jet| jet.order() == 2)
            .expect("the jet of dxx(u)");
        let second = program.eval_jet(&report.theta, &xs, dxx);
        let pi = std::f64::consts::PI;
        for ((x, r), u_xx) in xs.iter().zip(&residual).zip(&second) {
            let expected = (u_xx + pi * pi * (pi * x).sin()).abs();
            assert!(
                (r - expected).abs() < 1e-9 * (1.0 + expected),
                "{r} vs {expected}"
            );
        }
        let dir = ScratchDir::new("figures-residual");
        let written = write_figures(dir.path(), &problem, &program, &report, 20).unwrap();
        let path = dir.path().join("residual.png");
        assert!(written.contains(&path));
        let (width, height, rgb) = decode(&path);
        assert_eq!((width, height), super::super::plot::PLOT_SIZE);
        let red = rgb.chunks(3).filter(|p| p == &[230, 20, 20]).count();
        assert!(red > 12 * 10, "{red} point pixels");

        // 2-D: a heatmap panel with the points over it.
        const HEAT: &str = "time t in [0, 1]
space x in [0, 1]
field u
dt(u) - dxx(u) = 0 on interior
u = sin(pi*x) on initial
u = 0 on boundary
model mlp(layers = [5], activation = tanh)
sample interior = 30, boundary = 8, initial = 6
";
        let (problem, program, report) =
            solved_source(HEAT, OptimizerConfig::Engd(Default::default()));
        let dir = ScratchDir::new("figures-residual-2d");
        let written = write_figures(dir.path(), &problem, &program, &report, 16).unwrap();
        let path = dir.path().join("residual.png");
        assert!(written.contains(&path));
        let (width, height, rgb) = decode(&path);
        assert_eq!((width, height), super::super::plot::HEATMAP_PANEL_SIZE);
        let red = rgb.chunks(3).filter(|p| p == &[230, 20, 20]).count();
        assert!(red > 30 * 5, "{red} point pixels");
        let colours: std::collections::HashSet<&[u8]> = rgb.chunks(3).collect();
        assert!(colours.len() > 50, "{} colours", colours.len());
    }

    #[test]
    fn time_dependent_2d_problems_get_labelled_slices_at_start_middle_and_end() {
        // u = exp(-t) * x * y varies with t, so the three slices must differ.
        const HEAT2D: &str = "time t in [0, 1]
space x in [0, 1]
space y in [0, 1]
field u
dt(u) - dxx(u) - dyy(u) = -u on interior
u = x*y on initial
u = exp(-t)*x*y on boundary
exact u = exp(-t)*x*y
model mlp(layers = [5], activation = tanh)
sample interior = 20, boundary = 8, initial = 6
";
        let (problem, program, report) =
            solved_source(HEAT2D, OptimizerConfig::Engd(Default::default()));
        let dir = ScratchDir::new("figures-slices");
        let written = write_figures(dir.path(), &problem, &program, &report, 16).unwrap();
        let names = [
            "solution_u_slice1.png",
            "solution_u.png",
            "solution_u_slice3.png",
        ];
        let images: Vec<Vec<u8>> = names
            .iter()
            .map(|name| {
                let path = dir.path().join(name);
                assert!(written.contains(&path), "{name} not written");
                decode(&path).2
            })
            .collect();
        assert_ne!(images[0], images[1], "t = 0 and t = 0.5 drawn alike");
        assert_ne!(images[1], images[2], "t = 0.5 and t = 1 drawn alike");
        assert!(!dir.path().join("solution_u_slice2.png").exists());
    }
}
