//! `pdec eval RUN_DIR --at points.csv [--jet EXPR]... [--out FILE]`: the trained
//! fields, and any expression of their derivatives, at given points; with `--vtk`, the
//! fields on a grid as ParaView files in the run folder.
//!
//! Each `--jet` expression is checked and lowered by the front end itself: it is
//! appended to the problem's source as the equation `EXPR = 0 on interior`, and the
//! lowered residual of that equation is evaluated with the network's jets.

use super::run_dir::{load_run, SavedRun};
use super::Status;
use burn_ndarray::{NdArray, NdArrayDevice};
use pdec::compile::CompiledProblem;
use pdec::ir::{symbolic, ExprId, Node, Problem};
use pdec::output::checkpoint::CHECKPOINT_FILE;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(super) struct EvalArgs {
    /// The run folder (with checkpoint.json).
    run_dir: PathBuf,
    /// CSV of points: a header naming every coordinate of the problem (any order, no
    /// other column), then one row per point.
    #[arg(long, value_name = "FILE", required_unless_present = "vtk")]
    at: Option<PathBuf>,
    /// An expression of the fields and their derivatives in the language's syntax
    /// (`dx(u)`, `dxx(u)`, `lap(u)`, `dt(u) - dxx(u)`); repeatable.
    #[arg(long, value_name = "EXPR")]
    jet: Vec<String>,
    /// Write the CSV here (atomically) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The .pde file (default: the file the checkpoint names).
    #[arg(long)]
    problem: Option<PathBuf>,
    /// Write the fields (and errors against the exact solution) for ParaView into the
    /// run folder: `solution.vti`, or `solution.pvd` and `vtk/` for time-dependent problems.
    #[arg(long)]
    vtk: bool,
    /// Points per axis of the `--vtk` grid (about grid² points in all, like solution.csv).
    #[arg(long, default_value_t = 100)]
    grid: usize,
}

/// Writes the ParaView files of `theta` into `dir` (`--vtk` of `solve` and `eval`).
pub(super) fn write_vtk(
    dir: &Path,
    problem: &Problem,
    theta: &[f64],
    grid: usize,
) -> Result<(), String> {
    let program = CompiledProblem::<NdArray<f64>>::new(problem, &NdArrayDevice::Cpu)
        .map_err(|e| format!("cannot compile the problem: {e}"))?;
    if theta.len() != program.n_params() {
        return Err(format!(
            "the saved parameters have length {}, the problem has {}",
            theta.len(),
            program.n_params()
        ));
    }
    pdec::output::paraview::write_paraview(dir, problem, &program, theta, grid)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Points read from a `--at` file, `[n, d]` row-major in the problem's coordinate order.
fn read_points(path: &Path, problem: &Problem) -> Result<Vec<f64>, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("{name}: {e}"))?
        .clone();
    if header.is_empty() || header.iter().all(str::is_empty) {
        return Err(format!(
            "{name} is empty: expected a header naming the coordinates"
        ));
    }
    let coords: Vec<&str> = problem.coords.iter().map(|c| c.name.as_str()).collect();
    let mut column_of = Vec::with_capacity(coords.len());
    for coord in &coords {
        match header.iter().position(|h| h == *coord) {
            Some(i) => column_of.push(i),
            None => {
                return Err(format!(
                    "{name}: no column `{coord}` (the header must name the coordinates {})",
                    coords.join(", ")
                ))
            }
        }
    }
    if let Some(extra) = header.iter().find(|h| !coords.contains(h)) {
        return Err(format!(
            "{name}: column `{extra}` is not a coordinate of the problem ({})",
            coords.join(", ")
        ));
    }
    if header.len() != coords.len() {
        return Err(format!("{name}: a coordinate column appears twice"));
    }
    let mut points = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let line = row + 2;
        let record = record.map_err(|e| format!("{name}, line {line}: {e}"))?;
        for &column in &column_of {
            let cell = record.get(column).unwrap_or("");
            let value: f64 = cell.parse().map_err(|_| {
                format!(
                    "{name}, line {line}: `{cell}` in column `{}` is not a number",
                    &header[column]
                )
            })?;
            if !value.is_finite() {
                return Err(format!(
                    "{name}, line {line}: `{cell}` in column `{}` is not finite",
                    &header[column]
                ));
            }
            points.push(value);
        }
    }
    if points.is_empty() {
        return Err(format!("{name} has a header but no points"));
    }
    Ok(points)
}

/// Lowers `expr` with the front end, as the left side of an equation appended to the
/// problem's source. Returns the augmented problem (its arena and jets) and the id.
fn lower_expression(saved: &SavedRun, expr: &str) -> Result<(Problem, ExprId), String> {
    if expr.contains(['\n', '#']) {
        return Err(format!("--jet `{expr}`: expected a one-line expression"));
    }
    let source = format!("{}\n{expr} = 0 on interior\n", saved.source);
    let (problem, diagnostics) = pdec::check_source(&source, &saved.base_dir);
    let appended = saved.source.len() as u32;
    let first_error = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .find(|d| d.span().is_none_or(|s| s.start >= appended))
        .or_else(|| diagnostics.iter().find(|d| d.is_error()));
    if let Some(d) = first_error {
        return Err(format!("--jet `{expr}`: {}", d.message));
    }
    let problem = problem.ok_or_else(|| format!("--jet `{expr}`: cannot be lowered"))?;
    let residual = problem
        .blocks
        .iter()
        .rev()
        .find(|b| b.span.start >= appended)
        .map(|b| b.residual)
        .ok_or_else(|| format!("--jet `{expr}`: cannot be lowered"))?;
    Ok((problem, residual))
}

/// Values of the lowered expression `id` of `augmented` at `points`.
fn eval_expression(
    program: &CompiledProblem<NdArray<f64>>,
    augmented: &Problem,
    id: ExprId,
    theta: &[f64],
    points: &[f64],
    expr: &str,
) -> Result<Vec<f64>, String> {
    let d = augmented.coords.len().max(1);
    let n = points.len() / d;
    let n_network = theta.len() - augmented.params.len();
    let mut jets = HashMap::new();
    for leaf in symbolic::leaves(&augmented.exprs, &[id]) {
        match leaf {
            Node::Jet(j) => {
                // The appended equation is in the network's jets (hard constraints
                // rewrite it like every block), so the network's jets are its leaves.
                jets.insert(j, program.network_jet(theta, points, augmented.jet(j)));
            }
            Node::Normal(_) | Node::Data { .. } => {
                return Err(format!(
                    "--jet `{expr}`: normals and data columns have no value at arbitrary points"
                ))
            }
            _ => {}
        }
    }
    Ok((0..n)
        .map(|row| {
            let x = &points[row * d..(row + 1) * d];
            symbolic::eval(&augmented.exprs, id, &|node| match node {
                Node::Coord(i) => x[i],
                Node::Jet(j) => jets.get(&j).map_or(f64::NAN, |v| v[row]),
                Node::Param(i) => theta[n_network + i],
                Node::Grid(g) => augmented.eval_grid(g, x),
                _ => f64::NAN,
            })
        })
        .collect())
}

pub(super) fn run(args: &EvalArgs) -> Status {
    let saved = match load_run(&args.run_dir, args.problem.as_deref()) {
        Ok(saved) => saved,
        Err(status) => return status,
    };
    let problem = &saved.problem;
    let program = match CompiledProblem::<NdArray<f64>>::new(problem, &NdArrayDevice::Cpu) {
        Ok(program) => program,
        Err(e) => {
            eprintln!("error: cannot compile the problem: {e}");
            return Status::Failure;
        }
    };
    let state = &saved.checkpoint.state;
    if let Err(reason) = state.check_fits(program.n_params()) {
        eprintln!(
            "error: {}: {reason}",
            args.run_dir.join(CHECKPOINT_FILE).display()
        );
        return Status::Failure;
    }
    // The parameters the run returned (with `adaptive = rad`, those of its lowest held-out
    // loss).
    let theta =
        pdec::run::returned_parameters(problem, &program, saved.checkpoint.config.seed(), state);
    if args.vtk {
        if let Err(e) = write_vtk(&args.run_dir, problem, theta, args.grid) {
            eprintln!("error: {e}");
            return Status::Failure;
        }
    }
    let Some(at) = &args.at else {
        return Status::Ok;
    };
    let points = match read_points(at, problem) {
        Ok(points) => points,
        Err(message) => {
            eprintln!("error: {message}");
            return Status::Failure;
        }
    };
    let mut expressions = Vec::new();
    for expr in &args.jet {
        match lower_expression(&saved, expr) {
            Ok(lowered) => expressions.push(lowered),
            Err(message) => {
                eprintln!("error: {message}");
                return Status::UserError;
            }
        }
    }
    let mut header: Vec<String> = problem.coords.iter().map(|c| c.name.clone()).collect();
    header.extend(problem.fields.iter().map(|f| f.name.clone()));
    header.extend(args.jet.iter().cloned());
    let mut columns = program.eval_fields(theta, &points);
    for ((augmented, id), expr) in expressions.iter().zip(&args.jet) {
        match eval_expression(&program, augmented, *id, theta, &points, expr) {
            Ok(values) => columns.push(values),
            Err(message) => {
                eprintln!("error: {message}");
                return Status::UserError;
            }
        }
    }
    let d = problem.coords.len().max(1);
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut rows = vec![header];
    for (row, x) in points.chunks(d).enumerate() {
        let mut cells: Vec<String> = x.iter().map(f64::to_string).collect();
        cells.extend(columns.iter().map(|c| c[row].to_string()));
        rows.push(cells);
    }
    for row in &rows {
        if let Err(e) = out.write_record(row) {
            eprintln!("error: cannot format the output: {e}");
            return Status::Failure;
        }
    }
    let bytes = match out.into_inner() {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: cannot format the output: {e}");
            return Status::Failure;
        }
    };
    match &args.out {
        Some(path) => {
            if let Err(e) = pdec::output::write_atomic(path, &bytes) {
                eprintln!("error: {e}");
                return Status::Failure;
            }
        }
        None => print!("{}", String::from_utf8_lossy(&bytes)),
    }
    Status::Ok
}
