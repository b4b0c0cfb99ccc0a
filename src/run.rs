//! Run: one whole solve of a checked problem — sampling, compilation,
//! optimization with optional resampling, and error evaluation against the
//! exact solutions. Returns data; the CLI reports progress and writes files.

use crate::compile::points::PointSet;
use crate::compile::program::{CompileError, CompiledProblem, FieldError, PdeLeastSquares};
use crate::compile::sample::{sample_points, test_points, SampleError};
use crate::diagnostic::Diagnostic;
use crate::ir::{ConfigScalar, OptimizerKind, Problem};
use crate::solve::driver::NonFiniteSource;
use crate::solve::driver::{IterationRecord, SolveConfig, SolveError, SolveReport};
use crate::solve::{
    AdamConfig, AnagramConfig, AnagramCutoff, EngdConfig, EngdSolve, LbfgsConfig, LeastSquares,
    OptimizerConfig, SketchPass, SngdConfig,
};
use burn::tensor::backend::Backend;
use std::cell::Cell;
use std::ops::ControlFlow;
use std::rc::Rc;
use std::time::Instant;

/// Settings of a run that are not the optimizer's.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// The optimizer and its stopping rules.
    pub solve: SolveConfig,
    /// Seed of initialisation and sampling (the sketch RNG uses `solve.seed`).
    pub seed: u64,
    /// Evaluate the errors against the exact solutions every k iterations (0: only at the end).
    pub eval_every: usize,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The optimizer's report (history, stop reason, final loss).
    pub report: SolveReport,
    /// Final parameters (network weights, then params).
    pub theta: Vec<f64>,
    /// Trainable scalars (network weights and params).
    pub n_params: usize,
    /// Residual rows of the (last) training point set.
    pub n_points: usize,
    /// Final errors of the fields with an exact solution.
    pub errors: Vec<FieldError>,
    /// `(iteration, errors)` every `eval_every` iterations.
    pub error_history: Vec<(usize, Vec<FieldError>)>,
    /// Final values of the trainable params, by name.
    pub params: Vec<(String, f64)>,
    /// Seconds for the whole run, compilation and sampling included.
    pub wall_s: f64,
    /// The training points of the last iteration (the spectrum figure is drawn on them).
    pub points: PointSet,
    /// The optimizer that ran, with its settings (the spectrum figure draws its cut-off).
    pub optimizer: OptimizerConfig,
}

/// What the callback sees after each iteration.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    /// The iteration just done.
    pub record: &'a IterationRecord,
    /// Errors against the exact solutions, when evaluated at this iteration.
    pub errors: Option<&'a [FieldError]>,
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot compile the problem: {0}")]
    /// The problem cannot be compiled.
    Compile(#[from] CompileError),
    #[error("cannot sample points: {0}")]
    /// Points cannot be sampled.
    Sample(#[from] SampleError),
    #[error("the solve failed: {0}")]
    /// The optimizer failed.
    Solve(#[from] SolveError),
    /// A `solve` option that does not fit the optimizer.
    #[error("solve option `{key}`: {message}")]
    Option {
        /// The option.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl RunError {
    /// The error as a diagnostic over the problem's source, when it points at an
    /// equation: a non-finite residual or Jacobian is reported (code `E0601`) at the
    /// span of the residual block its first bad row belongs to. `None` for other errors.
    pub fn diagnostic(&self, problem: &Problem) -> Option<Diagnostic> {
        let RunError::Solve(SolveError::NonFinite {
            what,
            row,
            block: Some(block),
            iteration,
        }) = self
        else {
            return None;
        };
        let block = problem.blocks.get(*block)?;
        let value = match what {
            NonFiniteSource::Jacobian => "its derivative with respect to the parameters",
            _ => "its residual",
        };
        let row = row.map(|r| format!(" (row {r})")).unwrap_or_default();
        Some(
            Diagnostic::error(
                "E0601",
                format!(
                    "the solve stopped at iteration {iteration}: this equation became \
                     non-finite (NaN or infinite) in several steps in a row"
                ),
            )
            .with_label(block.span, format!("{value} is not finite here{row}"))
            .with_help(
                "a function left its domain (log or sqrt of a negative value, division by \
                 zero) or a value overflowed; keep its argument positive (e.g. `log(1 + u^2)`) \
                 or change the initialisation seed",
            ),
        )
    }
}

/// The optimizer settings of a problem's `solve` block (defaults elsewhere).
///
/// # Errors
/// An option value of the wrong kind (`sketch = fast`).
pub fn solve_config(problem: &Problem) -> Result<SolveConfig, RunError> {
    let settings = &problem.solve;
    let mut config = SolveConfig {
        optimizer: default_optimizer(settings.optimizer),
        max_iterations: settings.iterations,
        loss_tol: settings.tol.unwrap_or(0.0),
        ..SolveConfig::default()
    };
    for (key, value) in &settings.options {
        apply_option(&mut config, key, value)?;
    }
    Ok(config)
}

/// An optimizer with its default settings.
pub fn default_optimizer(kind: OptimizerKind) -> OptimizerConfig {
    match kind {
        OptimizerKind::Engd => OptimizerConfig::Engd(EngdConfig::default()),
        OptimizerKind::Sngd => OptimizerConfig::Sngd(SngdConfig::default()),
        OptimizerKind::Anagram => OptimizerConfig::Anagram(AnagramConfig::default()),
        OptimizerKind::Adam => OptimizerConfig::Adam(AdamConfig::default()),
        OptimizerKind::Lbfgs => OptimizerConfig::Lbfgs(LbfgsConfig::default()),
    }
}

/// Sets one optimizer-specific option (`damping`, `sketch`, ...) on `config`.
/// Options that do not apply to the chosen optimizer are errors, so that a
/// misplaced knob is never silently ignored.
///
/// # Errors
/// An unknown key, a value of the wrong kind, or a key of another optimizer.
pub fn apply_option(
    config: &mut SolveConfig,
    key: &str,
    value: &ConfigScalar,
) -> Result<(), RunError> {
    let err = |message: &str| RunError::Option {
        key: key.to_string(),
        message: message.to_string(),
    };
    let number = || match value {
        ConfigScalar::Number(v) => Ok(*v),
        ConfigScalar::Word(w) => Err(err(&format!("expected a number, found `{w}`"))),
    };
    let count = || {
        let v = number()?;
        if v >= 1.0 && v.fract() == 0.0 && v < 1e9 {
            Ok(v as usize)
        } else {
            Err(err("expected a positive integer"))
        }
    };
    let positive = || {
        let v = number()?;
        if v > 0.0 && v.is_finite() {
            Ok(v)
        } else {
            Err(err("expected a positive number"))
        }
    };
    let optimizer_name = config.optimizer.name();
    let wrong = || err(&format!("does not apply to {optimizer_name}"));
    match (key, &mut config.optimizer) {
        ("damping", OptimizerConfig::Engd(c)) => c.damping = number()?.max(0.0),
        ("momentum", OptimizerConfig::Engd(c)) => {
            let mu = number()?;
            if !(0.0..1.0).contains(&mu) {
                return Err(err("expected a value in [0, 1)"));
            }
            c.momentum = (mu > 0.0).then_some(mu);
        }
        ("cutoff", OptimizerConfig::Engd(c)) => {
            c.solve = EngdSolve::Eigen {
                relative_cutoff: positive()?,
            }
        }
        ("sketch", OptimizerConfig::Sngd(c)) => c.initial_sketch = count()?,
        ("oversample", OptimizerConfig::Sngd(c)) => c.oversampling = number()? as usize,
        ("tolerance", OptimizerConfig::Sngd(c)) => c.tolerance = positive()?,
        ("sketch_pass", OptimizerConfig::Sngd(c)) => {
            let pass = number()?;
            c.pass = if pass == 1.0 {
                SketchPass::One
            } else if pass == 2.0 {
                SketchPass::Two
            } else {
                return Err(err("expected 1 or 2"));
            }
        }
        ("cutoff", OptimizerConfig::Anagram(c)) => {
            c.cutoff = match value {
                ConfigScalar::Word(w) if w == "adaptive" => AnagramCutoff::Adaptive,
                _ => AnagramCutoff::Relative(positive()?),
            }
        }
        ("lr", OptimizerConfig::Adam(c)) => c.learning_rate = positive()?,
        ("history", OptimizerConfig::Lbfgs(c)) => c.history = count()?,
        ("line_search", _) => match value {
            ConfigScalar::Word(w) if w == "grid" => config.line_search.golden_section = None,
            ConfigScalar::Word(w) if w == "golden" => config.line_search.golden_section = Some(20),
            _ => return Err(err("expected `grid` or `golden`")),
        },
        (
            "damping" | "momentum" | "cutoff" | "sketch" | "oversample" | "tolerance"
            | "sketch_pass" | "lr" | "history",
            _,
        ) => return Err(wrong()),
        _ => return Err(err("unknown option")),
    }
    Ok(())
}

/// A compiled problem on points that can be swapped between iterations.
struct Resampling<B: Backend> {
    inner: PdeLeastSquares<B>,
    problem: Problem,
    /// Set by the callback: draw fresh points with this seed before the next evaluation.
    pending: Rc<Cell<Option<u64>>>,
    failure: Option<SampleError>,
}

impl<B: Backend> Resampling<B> {
    fn refresh(&mut self) {
        if let Some(seed) = self.pending.take() {
            match sample_points(&self.problem, seed) {
                Ok(points) => self.inner.points = points,
                Err(e) => self.failure = Some(e),
            }
        }
    }
}

impl<B: Backend> LeastSquares for Resampling<B> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }

    fn n_residuals(&self) -> usize {
        self.inner.n_residuals()
    }

    fn residual_and_jacobian(&mut self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.refresh();
        self.inner.residual_and_jacobian(theta)
    }

    fn residual(&mut self, theta: &[f64]) -> Vec<f64> {
        self.refresh();
        self.inner.residual(theta)
    }

    fn losses(&mut self, thetas: &[Vec<f64>]) -> Vec<f64> {
        self.refresh();
        self.inner.losses(thetas)
    }

    fn loss_and_gradient(&mut self, theta: &[f64]) -> (f64, Vec<f64>) {
        self.refresh();
        self.inner.loss_and_gradient(theta)
    }

    fn locate_row(&self, row: usize) -> Option<usize> {
        self.inner.locate_row(row)
    }
}

/// Solves `problem` on `device`: samples points, initialises the network from
/// `config.seed`, runs the optimizer, and evaluates the errors on the held-out
/// test set. `callback` sees every iteration and may stop the run.
///
/// # Errors
/// Compilation, sampling or an unrecoverable solver failure.
pub fn run<B: Backend>(
    problem: &Problem,
    device: &B::Device,
    config: &RunConfig,
    mut callback: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<RunReport, RunError> {
    let start = Instant::now();
    let program = CompiledProblem::<B>::new(problem, device)?;
    let points = sample_points(problem, config.seed)?;
    // The test set is drawn from its own stream, independent of training points.
    let test = test_points(problem, config.seed)?;
    let mut theta = program.init_params(config.seed);
    let evaluator = program.clone();
    let pending = Rc::new(Cell::new(None));
    let mut least_squares = Resampling {
        inner: PdeLeastSquares::new(program, points)?,
        problem: problem.clone(),
        pending: Rc::clone(&pending),
        failure: None,
    };
    let resample = problem.sample.resample;
    let mut error_history = Vec::new();
    let mut eval_failure = None;
    let report = crate::solve::driver::solve(
        &mut least_squares,
        &mut theta,
        &config.solve,
        |record, theta| {
            let due = config.eval_every > 0
                && record.iteration % config.eval_every == 0
                && !problem.exact.is_empty();
            let errors = if due {
                match evaluator.exact_errors(problem, theta, &test) {
                    Ok(errors) => Some(errors),
                    Err(e) => {
                        eval_failure = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            } else {
                None
            };
            if let Some(k) = resample {
                if record.iteration % k == 0 {
                    // A fresh, reproducible point set: the seed mixes in the iteration.
                    pending.set(Some(
                        config.seed ^ (record.iteration as u64).rotate_left(32),
                    ));
                }
            }
            let flow = callback(&Progress {
                record,
                errors: errors.as_deref(),
            });
            if let Some(errors) = errors {
                error_history.push((record.iteration, errors));
            }
            flow
        },
    )?;
    if let Some(e) = eval_failure {
        return Err(e.into());
    }
    if let Some(e) = least_squares.failure.take() {
        return Err(e.into());
    }
    let errors = evaluator.exact_errors(problem, &theta, &test)?;
    let n_network = evaluator.n_params() - problem.params.len();
    let params = problem
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.clone(), theta[n_network + i]))
        .collect();
    Ok(RunReport {
        n_params: evaluator.n_params(),
        n_points: least_squares.inner.points.n_rows(),
        report,
        theta,
        errors,
        error_history,
        params,
        wall_s: start.elapsed().as_secs_f64(),
        points: least_squares.inner.points.clone(),
        optimizer: config.solve.optimizer.clone(),
    })
}
