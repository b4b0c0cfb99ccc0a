//! The figures and the solution export of a finished run: `history.png`,
//! `solution_<field>.png` and `solution.csv`, from the compiled problem and θ.

use super::{
    grid_axis, plot_heatmaps, plot_history, plot_line, regular_grid, slice_grid,
    write_solution_csv, OutputError, Series,
};
use crate::compile::sample::in_domain;
use crate::compile::CompiledProblem;
use crate::ir::{symbolic, CoordKind, ExactSource, Node, Problem};
use crate::run::RunReport;
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

/// Writes `history.png`, one `solution_<field>.png` per field and `solution.csv`
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
    let path = dir.join("history.png");
    plot_history(&path, &loss, &errors)?;
    written.push(path);

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
        let spatial = problem.spatial_coords();
        let free = if spatial.len() >= 2 {
            (spatial[0], spatial[1])
        } else {
            let time = (0..d).find(|&i| problem.coords[i].kind == CoordKind::Time);
            (
                spatial[0],
                time.unwrap_or(if spatial[0] == 0 { 1 } else { 0 }),
            )
        };
        let points = slice_grid(&lo, &hi, free, &[], grid);
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
        let xs = grid_axis(lo[free.0], hi[free.0], grid);
        let ys = grid_axis(lo[free.1], hi[free.1], grid);
        let others: Vec<String> = (0..d)
            .filter(|&i| i != free.0 && i != free.1)
            .map(|i| format!("{} = {:.3}", problem.coords[i].name, 0.5 * (lo[i] + hi[i])))
            .collect();
        let slice = if others.is_empty() {
            String::new()
        } else {
            format!(" at {}", others.join(", "))
        };
        for (k, name) in names.iter().enumerate() {
            let path = dir.join(format!("solution_{name}.png"));
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
