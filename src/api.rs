//! The library API: load a `.pde` problem, compile it on a device, solve it, and read
//! the solution — a thin facade over [`crate::check_source`], [`crate::run::run`] and
//! [`crate::compile::CompiledProblem`]. `docs/library.md` is the guide.
//!
//! ```no_run
//! use burn_ndarray::{NdArray, NdArrayDevice};
//! use std::ops::ControlFlow;
//!
//! let problem = pdec::Problem::from_file("examples/heat1d.pde")?;
//! let compiled = problem.compile::<NdArray<f64>>(&NdArrayDevice::Cpu)?;
//! let report = compiled.solve(&pdec::SolveOptions::default(), |_| ControlFlow::Continue(()))?;
//! println!("u(0.5, 0.5) = {}", report.value("u", &[0.5, 0.5])?);
//! # Ok::<(), pdec::Error>(())
//! ```

use crate::compile::{CompileError, CompiledProblem};
use crate::diagnostic::Diagnostic;
use crate::ir::{self, ConfigScalar, OptimizerKind};
use crate::run::{self, Progress, RunConfig, RunError, RunReport};
use crate::solve::{IterationRecord, OptimizerConfig, StopReason};
use burn::tensor::backend::Backend;
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// A checked `.pde` problem, ready to compile: the lowered IR with its source text and
/// any warnings.
#[derive(Debug, Clone)]
pub struct Problem {
    name: String,
    source: String,
    problem: ir::Problem,
    warnings: Vec<Diagnostic>,
}

impl Problem {
    /// Reads and checks the `.pde` file at `path`. Data files (`data … from`,
    /// `exact … from`) are found relative to the file's folder.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Invalid`] with every
    /// diagnostic when it does not check (not UTF-8 included).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.display().to_string();
        let source = String::from_utf8(bytes).map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.into_bytes()[..valid]).into_owned();
            Error::Invalid(Diagnostics {
                name: name.clone(),
                diagnostics: vec![Diagnostic::error(
                    "E0000",
                    format!("`{name}` is not valid UTF-8 (at byte {valid})"),
                )
                .with_help("save the file as UTF-8")],
                source: prefix,
            })
        })?;
        Self::check(name, source, path.parent().unwrap_or(Path::new(".")))
    }

    /// Checks `.pde` source text; data files are found relative to the current directory
    /// (use [`Problem::from_str_in`] to choose another folder). Named `<string>` in
    /// messages.
    ///
    /// # Errors
    /// [`Error::Invalid`] with every diagnostic when the source does not check.
    #[allow(clippy::should_implement_trait)] // also implemented: `source.parse::<Problem>()`
    pub fn from_str(source: &str) -> Result<Self, Error> {
        Self::from_str_in(source, Path::new("."))
    }

    /// Checks `.pde` source text, resolving data files relative to `base_dir`.
    ///
    /// # Errors
    /// [`Error::Invalid`] with every diagnostic when the source does not check.
    pub fn from_str_in(source: &str, base_dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::check(
            "<string>".to_string(),
            source.to_string(),
            base_dir.as_ref(),
        )
    }

    fn check(name: String, source: String, base_dir: &Path) -> Result<Self, Error> {
        match crate::check_source(&source, base_dir) {
            (Some(problem), warnings) => Ok(Problem {
                name,
                source,
                problem,
                warnings,
            }),
            (None, diagnostics) => Err(Error::Invalid(Diagnostics {
                name,
                source,
                diagnostics,
            })),
        }
    }

    /// The lowered IR (coordinates, fields, residual blocks, settings).
    pub fn ir(&self) -> &ir::Problem {
        &self.problem
    }

    /// Warnings found while checking (the problem is valid despite them).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The file name given to [`Problem::from_file`], or `<string>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Builds the tensor programs (residuals, Jacobians) on `device`.
    ///
    /// # Errors
    /// [`Error::Compile`] when the problem needs something the engine cannot do
    /// (e.g. a derivative above order 4).
    pub fn compile<B: Backend>(&self, device: &B::Device) -> Result<Compiled<B>, Error> {
        let program = CompiledProblem::new(&self.problem, device).map_err(Error::Compile)?;
        Ok(Compiled {
            problem: self.clone(),
            program,
            device: device.clone(),
        })
    }
}

impl std::str::FromStr for Problem {
    type Err = Error;

    /// As [`Problem::from_str`].
    fn from_str(source: &str) -> Result<Self, Error> {
        Problem::from_str(source)
    }
}

/// A problem compiled for backend `B`: solve it with [`Compiled::solve`].
#[derive(Debug, Clone)]
pub struct Compiled<B: Backend> {
    problem: Problem,
    program: CompiledProblem<B>,
    device: B::Device,
}

/// What to change from the `solve` block of the `.pde` file. The default runs the
/// file's settings as written. The command line builds one of these from its flags, so
/// `pdec solve` and the library follow one rule: what is set here over the file's
/// `solve` block over the defaults ([`SolveOptions::to_run_config`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SolveOptions {
    /// The optimizer (default: the file's `solve optimizer`, else the one for the
    /// problem's size, [`crate::run::file_optimizer`]). A different one than the file's
    /// starts from its defaults: the file's options are for its own.
    pub optimizer: Option<OptimizerKind>,
    /// The full optimizer settings; overrides `optimizer` and the file's options.
    pub optimizer_config: Option<OptimizerConfig>,
    /// Optimizer options (`damping`, `sketch`, …) set over the file's, in order.
    pub options: Vec<(String, ConfigScalar)>,
    /// Iteration limit (default: the file's `iterations`, else 1,000).
    pub iterations: Option<usize>,
    /// Seed of initialisation, sampling and sketching (default: the file's sample seed).
    pub seed: Option<u64>,
    /// Stop once the loss is at most this (default: the file's `tol`, else never).
    pub loss_tol: Option<f64>,
    /// Stop after this many seconds (default: no limit).
    pub time_budget_s: Option<f64>,
    /// Stop when the best loss has not fallen by the relative `min_improvement` over
    /// this many iterations (default: the file's `patience`, else 100, or 200 with
    /// `sample adaptive`; 0: never).
    pub patience: Option<usize>,
    /// The relative decrease that counts as progress for `patience`, in `[0, 1)`
    /// (default: the file's `min_improvement`, else 1e-3).
    pub min_improvement: Option<f64>,
    /// Causal weighting by time slab with this ε ([`crate::compile::causal`]; 0: off;
    /// default: the file's `causal`, else off).
    pub causal: Option<f64>,
    /// Evaluate the errors against the exact solutions every k iterations and show them
    /// to the callback (0: only at the end; default [`DEFAULT_EVAL_EVERY`]).
    pub eval_every: Option<usize>,
    /// Parallelism of the dense kernels (0, the default: the rayon pool's size).
    pub threads: usize,
}

/// How often the errors against the exact solutions are evaluated by default.
pub const DEFAULT_EVAL_EVERY: usize = 10;

impl SolveOptions {
    /// With `optimizer` instead of the file's.
    pub fn optimizer(mut self, optimizer: OptimizerKind) -> Self {
        self.optimizer = Some(optimizer);
        self
    }

    /// With at most `iterations` iterations.
    pub fn iterations(mut self, iterations: usize) -> Self {
        self.iterations = Some(iterations);
        self
    }

    /// With `seed` for initialisation, sampling and sketching.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// With the optimizer option `key` set to `value` (over the file's).
    pub fn option(mut self, key: &str, value: ConfigScalar) -> Self {
        self.options.push((key.to_string(), value));
        self
    }

    /// The run settings these options give for `problem`: each setting from these
    /// options where given, else from the file's `solve` block, else the default.
    ///
    /// # Errors
    /// [`Error::Run`] with [`RunError::Option`] for a bad option in the file, or
    /// [`RunError::OptionOverride`] for a bad one in `options`.
    pub fn to_run_config(&self, problem: &ir::Problem) -> Result<RunConfig, Error> {
        let mut problem = problem.clone();
        if let Some(kind) = self.optimizer {
            if kind != run::file_optimizer(&problem) {
                problem.solve.options.clear();
            }
            problem.solve.optimizer = Some(kind);
        } else if problem.solve.optimizer.is_none()
            && self.optimizer_config.is_none()
            && !self.options.is_empty()
        {
            // Options name their optimizer's keys: with none named anywhere, they are
            // those of the optimizer the file gets (by sampling and size).
            problem.solve.optimizer = Some(run::file_optimizer(&problem));
        }
        let mut config = run::solve_config(&problem).map_err(Error::Run)?;
        if let Some(optimizer) = &self.optimizer_config {
            config.optimizer = optimizer.clone();
        }
        for (key, value) in &self.options {
            crate::solve::apply_option(&mut config, key, value).map_err(|message| {
                Error::Run(RunError::OptionOverride {
                    key: key.clone(),
                    message,
                })
            })?;
        }
        if let Some(n) = self.iterations {
            config.max_iterations = n;
        }
        if let Some(tol) = self.loss_tol {
            config.loss_tol = tol;
        }
        config.time_budget_s = self.time_budget_s;
        if let Some(patience) = self.patience {
            config.patience = (patience > 0).then_some(patience);
        }
        if let Some(min_improvement) = self.min_improvement {
            config.min_improvement = min_improvement;
        }
        if let Some(epsilon) = self.causal {
            config.causal = (epsilon > 0.0).then_some(epsilon);
        }
        config.threads = self.threads;
        config.seed = self.seed.unwrap_or(problem.sample.seed);
        Ok(RunConfig {
            solve: config,
            eval_every: self.eval_every.unwrap_or(DEFAULT_EVAL_EVERY),
        })
    }
}

impl<B: Backend> Compiled<B> {
    /// The problem this was compiled from.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The compiled tensor programs (residuals, Jacobians, field evaluation).
    pub fn program(&self) -> &CompiledProblem<B> {
        &self.program
    }

    /// Samples the training points, initialises the network and runs the optimizer
    /// (see [`crate::run::run`]). `callback` sees every iteration — the loss, the step,
    /// and the errors when `options.eval_every` makes them due — and stops the run with
    /// `ControlFlow::Break(())` (the report then says [`StopReason::Callback`]).
    ///
    /// # Errors
    /// [`Error::Run`]: a bad option, sampling, or an unrecoverable solver failure; a
    /// residual that stays non-finite is [`Error::Invalid`] with a diagnostic on the
    /// equation (code `E0601`).
    pub fn solve(
        &self,
        options: &SolveOptions,
        callback: impl FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<SolveReport<B>, Error> {
        let config = options.to_run_config(&self.problem.problem)?;
        let run =
            run::run::<B>(&self.problem.problem, &self.device, &config, callback).map_err(|e| {
                match e.diagnostic(&self.problem.problem) {
                    Some(diagnostic) => Error::Invalid(Diagnostics {
                        name: self.problem.name.clone(),
                        source: self.problem.source.clone(),
                        diagnostics: vec![diagnostic],
                    }),
                    None => Error::Run(e),
                }
            })?;
        Ok(SolveReport {
            fields: self
                .problem
                .problem
                .fields
                .iter()
                .map(|f| f.name.clone())
                .collect(),
            n_coords: self.problem.problem.coords.len(),
            program: self.program.clone(),
            run,
        })
    }
}

/// A finished solve: the loss, why it stopped, the errors against the exact
/// solutions, the trained params, and the trained fields at any point.
#[derive(Debug, Clone)]
pub struct SolveReport<B: Backend> {
    fields: Vec<String>,
    n_coords: usize,
    program: CompiledProblem<B>,
    run: RunReport,
}

/// The error of one field against its exact solution, on the held-out test points.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldErrorReport {
    /// The field's name.
    pub field: String,
    /// `‖u − u*‖₂ / ‖u*‖₂`.
    pub relative_l2: f64,
    /// `max |u − u*|`.
    pub max_abs: f64,
}

impl<B: Backend> SolveReport<B> {
    /// `½‖r‖²` of the returned parameters ([`Self::theta`]) on the last training points.
    pub fn final_loss(&self) -> f64 {
        self.run.report.final_loss
    }

    /// Iterations performed.
    pub fn iterations(&self) -> usize {
        self.run.report.iterations
    }

    /// The iteration whose parameters the run returns ([`Self::theta`]): the last one,
    /// or with `sample adaptive = rad` the one of the lowest held-out loss
    /// ([`crate::run::BestIterate`]).
    pub fn result_iteration(&self) -> usize {
        self.run.result_iteration
    }

    /// Why the run stopped.
    pub fn stop_reason(&self) -> StopReason {
        self.run.report.stopped_because
    }

    /// One record per iteration (loss, step size, damping, rank, wall time).
    pub fn history(&self) -> &[IterationRecord] {
        &self.run.report.history
    }

    /// Errors of the returned parameters for the fields that have an `exact` solution.
    pub fn errors(&self) -> Vec<FieldErrorReport> {
        self.run
            .errors
            .iter()
            .map(|e| FieldErrorReport {
                field: self.fields[e.field].clone(),
                relative_l2: e.relative_l2,
                max_abs: e.max_abs,
            })
            .collect()
    }

    /// The loss on fresh collocation points at the start and the end of the run
    /// ([`crate::run::HeldOut`]); `None` when they could not be drawn.
    pub fn heldout(&self) -> Option<crate::run::HeldOut> {
        self.run.heldout
    }

    /// Final values of the trainable params, by name.
    pub fn params(&self) -> &[(String, f64)] {
        &self.run.params
    }

    /// The returned parameter vector (network weights, then params): the last iterate's,
    /// or with `sample adaptive = rad` that of the lowest held-out loss.
    pub fn theta(&self) -> &[f64] {
        &self.run.theta
    }

    /// Everything the run layer reports (for [`crate::output`]).
    pub fn run_report(&self) -> &RunReport {
        &self.run
    }

    /// The trained `field` at `point` (one coordinate per declared coordinate, in
    /// declaration order).
    ///
    /// # Errors
    /// [`Error::UnknownField`] or [`Error::BadPoint`].
    pub fn value(&self, field: &str, point: &[f64]) -> Result<f64, Error> {
        Ok(self.values(field, point)?[0])
    }

    /// The trained `field` at several points, `[n, d]` row-major.
    ///
    /// # Errors
    /// [`Error::UnknownField`], or [`Error::BadPoint`] when `points` is empty or its
    /// length is not a multiple of the number of coordinates.
    pub fn values(&self, field: &str, points: &[f64]) -> Result<Vec<f64>, Error> {
        let index =
            self.fields
                .iter()
                .position(|f| f == field)
                .ok_or_else(|| Error::UnknownField {
                    field: field.to_string(),
                    known: self.fields.clone(),
                })?;
        let d = self.n_coords;
        if points.is_empty() || d == 0 || !points.len().is_multiple_of(d) {
            return Err(Error::BadPoint {
                got: points.len(),
                n_coords: d,
            });
        }
        let jet = ir::Jet {
            field: index,
            deriv: ir::Deriv::Partial(vec![0; d]),
        };
        Ok(self.program.eval_jet(&self.run.theta, points, &jet))
    }
}

/// The diagnostics of a problem together with its source, rendered like the CLI
/// renders them (miette, plain text).
#[derive(Debug, Clone)]
pub struct Diagnostics {
    /// File name shown in the messages.
    pub name: String,
    /// The source text the spans point into.
    pub source: String,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Diagnostics {
    /// One miette report per diagnostic (for a terminal with colours).
    pub fn to_reports(&self) -> Vec<miette::Report> {
        self.diagnostics
            .iter()
            .map(|d| d.to_report(&self.name, &self.source))
            .collect()
    }
}

impl fmt::Display for Diagnostics {
    /// Every diagnostic rendered without colour, 100 columns wide.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}",
                diagnostic.render_plain(&self.name, &self.source, 100)
            )?;
        }
        Ok(())
    }
}

/// Why loading, compiling, solving or reading a problem failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The problem is invalid (or its solve hit a non-finite equation): the diagnostics,
    /// displayed as the CLI renders them.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// The problem cannot be compiled.
    #[error("cannot compile the problem: {0}")]
    Compile(CompileError),
    /// The run failed (bad option, sampling, solver).
    #[error(transparent)]
    Run(RunError),
    /// No field of this name.
    #[error("no field `{field}` (fields: {})", known.join(", "))]
    UnknownField {
        /// The name asked for.
        field: String,
        /// The fields of the problem.
        known: Vec<String>,
    },
    /// Points whose length does not fit the coordinates.
    #[error("expected a non-empty multiple of {n_coords} coordinates, got {got} values")]
    BadPoint {
        /// Values given.
        got: usize,
        /// Coordinates per point.
        n_coords: usize,
    },
}

impl Error {
    /// The diagnostics, when the error is about the source.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            Error::Invalid(d) => Some(d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn_ndarray::{NdArray, NdArrayDevice};

    const SOURCE: &str = "space x in [0, 1]
field u
-dxx(u) = pi^2*sin(pi*x) on interior
u = 0 on boundary
exact u = sin(pi*x)
model mlp(layers = [16], activation = tanh)
sample interior = 40, boundary = 2
solve optimizer = engd, iterations = 40
";

    #[test]
    fn invalid_source_renders_every_diagnostic_like_the_cli() {
        let err = Problem::from_str("space x in [0, 1]\nfield u\ndxx(v) = kapa on interior\n")
            .unwrap_err();
        let diagnostics = err.diagnostics().expect("source errors");
        let codes: Vec<_> = diagnostics.diagnostics.iter().map(|d| d.code).collect();
        assert!(
            codes.contains(&"E0104") && codes.contains(&"E0101"),
            "{codes:?}"
        );
        let text = err.to_string();
        assert!(text.contains("E0104") && text.contains("E0101"), "{text}");
        assert!(text.contains("<string>:3:"), "a position: {text}");
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = Problem::from_file("/nonexistent/p.pde").unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/p.pde"));
    }

    #[test]
    fn options_without_an_optimizer_are_the_default_optimizers() {
        // No optimizer in the file: a small problem runs SNGD; options given without
        // an optimizer (in the file or by the caller) are SNGD's keys there, and naming
        // SNGD keeps the file's options.
        let plain = SOURCE.replace(
            "solve optimizer = engd, iterations = 40",
            "solve iterations = 40",
        );
        let problem: Problem = plain.parse().unwrap();
        let config = SolveOptions::default().to_run_config(problem.ir()).unwrap();
        assert_eq!(config.solve.optimizer.name(), "sngd");
        let config = SolveOptions::default()
            .option("sketch", ConfigScalar::Number(30.0))
            .to_run_config(problem.ir())
            .unwrap();
        let OptimizerConfig::Sngd(sngd) = &config.solve.optimizer else {
            panic!("{:?}", config.solve.optimizer)
        };
        assert_eq!(sngd.initial_sketch, 30);
        let with_option = SOURCE.replace(
            "solve optimizer = engd, iterations = 40",
            "solve iterations = 40, sketch = 30",
        );
        let problem: Problem = with_option.parse().unwrap();
        for options in [
            SolveOptions::default(),
            SolveOptions::default().optimizer(OptimizerKind::Sngd),
        ] {
            let config = options.to_run_config(problem.ir()).unwrap();
            let OptimizerConfig::Sngd(sngd) = &config.solve.optimizer else {
                panic!("{:?}", config.solve.optimizer)
            };
            assert_eq!(sngd.initial_sketch, 30);
        }
        // A file that gets GN (here for its adaptive points): the caller's options are
        // GN's keys.
        let adaptive = plain.replace(
            "sample interior = 40, boundary = 2",
            "sample interior = 40, boundary = 2, adaptive = rad",
        );
        let problem: Problem = adaptive.parse().unwrap();
        let config = SolveOptions::default()
            .option("memory_budget", ConfigScalar::Number(64.0))
            .to_run_config(problem.ir())
            .unwrap();
        let OptimizerConfig::Gn(gn) = &config.solve.optimizer else {
            panic!("{:?}", config.solve.optimizer)
        };
        assert_eq!(gn.memory_budget, Some(64.0));
    }

    #[test]
    fn options_override_the_file_and_default_keeps_it() {
        let problem: Problem = SOURCE.parse().unwrap();
        let config = SolveOptions::default().to_run_config(problem.ir()).unwrap();
        assert_eq!(config.solve.optimizer.name(), "engd");
        assert_eq!(config.solve.max_iterations, 40);
        let config = SolveOptions::default()
            .optimizer(OptimizerKind::Adam)
            .iterations(7)
            .seed(3)
            .to_run_config(problem.ir())
            .unwrap();
        assert_eq!(config.solve.optimizer.name(), "adam");
        assert_eq!((config.solve.max_iterations, config.seed()), (7, 3));
    }

    #[test]
    fn callback_stops_early_and_values_are_read_back() {
        let problem = Problem::from_str(SOURCE).unwrap();
        let compiled = problem
            .compile::<NdArray<f64>>(&NdArrayDevice::Cpu)
            .unwrap();
        let mut seen = 0;
        let report = compiled
            .solve(&SolveOptions::default(), |p| {
                seen += 1;
                if p.record.iteration == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert_eq!((seen, report.iterations()), (3, 3));
        assert_eq!(report.stop_reason(), StopReason::Callback);
        // `value` agrees with the program's own evaluation at the same θ.
        let direct = compiled.program().eval_fields(report.theta(), &[0.3, 0.7]);
        assert_eq!(report.values("u", &[0.3, 0.7]).unwrap(), direct[0]);
        assert_eq!(report.value("u", &[0.7]).unwrap(), direct[0][1]);
        assert!(matches!(
            report.value("v", &[0.5]),
            Err(Error::UnknownField { .. })
        ));
        assert!(matches!(
            report.values("u", &[]),
            Err(Error::BadPoint { .. })
        ));
        assert_eq!(report.errors()[0].field, "u");
    }
}
