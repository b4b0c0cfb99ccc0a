//! `pdec solve FILE` / `pdec solve --resume RUN_DIR`: trains the ansatz and writes the
//! run folder (checkpoints included); the first Ctrl-C stops after the current
//! iteration with every file written.

use super::{load, print_diagnostics, Status};
use burn_ndarray::{NdArray, NdArrayDevice};
use indicatif::{ProgressBar, ProgressStyle};
use pdec::ir::{ConfigScalar, OptimizerKind, Problem};
use pdec::output::checkpoint::{read_checkpoint, write_checkpoint, Checkpoint, CHECKPOINT_FILE};
use pdec::output::run_files::{write_history, write_summary, Summary};
use pdec::run::{run_from, Progress, RunConfig, RunError, RunState};
use pdec::solve::{option_catalogue, SolveConfig, StopReason};
use pdec::{Error, SolveOptions};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Ctrl-C presses seen so far (the handler is installed once per process).
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, clap::Args)]
pub(super) struct SolveArgs {
    /// The .pde file (with --resume: default the file the checkpoint names).
    #[arg(required_unless_present = "resume")]
    file: Option<PathBuf>,
    /// Continue the run saved in RUN_DIR/checkpoint.json where it stopped (the files
    /// are rewritten there unless --out says otherwise; --iterations, --tol and
    /// --time-budget may be changed, the optimizer settings and seed may not).
    #[arg(long, value_name = "RUN_DIR")]
    resume: Option<PathBuf>,
    /// Write checkpoint.json every k iterations (0: only at the end of the run), at the
    /// first iteration from a multiple of k whose optimizer state is whole, so that a run
    /// resumed from it repeats the uninterrupted one exactly.
    #[arg(long, default_value_t = 100)]
    checkpoint_every: usize,
    /// Optimizer (default: the file's `solve optimizer`, else gn with `sample adaptive`,
    /// else by size: gn from 2e7 Jacobian entries N·P, sngd below).
    #[arg(long, value_parser = optimizer_parser())]
    optimizer: Option<OptimizerKind>,
    /// Maximum number of iterations (default: the file's, else 1000).
    #[arg(long)]
    iterations: Option<usize>,
    /// Seed of initialisation, sampling and sketching (default: the file's sample seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Run folder (default: runs/<file stem>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar; only errors are printed.
    #[arg(long)]
    quiet: bool,
    /// Stop when the loss falls below this.
    #[arg(long)]
    tol: Option<f64>,
    /// Stop after this many seconds.
    #[arg(long)]
    time_budget: Option<f64>,
    /// Stop when the best loss has not fallen by the relative `--min-improvement` over
    /// this many iterations (default: the file's `patience`, else 100, or 200 with
    /// `sample adaptive`; 0: never).
    #[arg(long)]
    patience: Option<usize>,
    /// The relative decrease of the best loss that counts as progress for `--patience`,
    /// in [0, 1) (default: the file's `min_improvement`, else 0.001).
    #[arg(long, value_parser = parse_min_improvement)]
    min_improvement: Option<f64>,
    /// Causal weighting of the interior rows by time slab with this ε, or `off`
    /// (default: the file's `causal`, else off).
    #[arg(long, value_name = "NUMBER|off", value_parser = parse_causal)]
    causal: Option<f64>,
    /// Evaluate the error against the exact solution every k iterations (0: only at the
    /// end; default 10).
    #[arg(long)]
    eval_every: Option<usize>,
    /// The optimizer options (`--damping`, `--sketch`, …): one flag per key of the
    /// option catalogue, as in the file's `solve` block.
    #[command(flatten)]
    options: OptimizerFlags,
    /// Do not draw history.png and solution_<field>.png nor write solution.csv.
    #[arg(long)]
    no_plots: bool,
    /// Points per axis of the plots and the solution export.
    #[arg(long, default_value_t = 100)]
    grid: usize,
    /// Also write the fields (and errors against the exact solution) for ParaView:
    /// `solution.vti`, or `solution.pvd` and `vtk/` for time-dependent problems.
    #[arg(long)]
    vtk: bool,
    /// Where the tensor programs run: `cpu`, or `cuda` (builds with `--features cuda`).
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Device {
    Cpu,
    Cuda,
}

/// `--optimizer NAME`, with the registry's names as the possible values.
fn optimizer_parser() -> impl clap::builder::TypedValueParser<Value = OptimizerKind> {
    let names: Vec<&'static str> = OptimizerKind::ALL.iter().map(|k| k.name()).collect();
    clap::builder::TypedValueParser::map(
        clap::builder::PossibleValuesParser::new(names),
        |name: String| {
            OptimizerKind::from_name(&name).unwrap_or_else(|| unreachable!("a possible value"))
        },
    )
}

/// The optimizer options as command-line flags, derived from the option catalogue
/// ([`pdec::solve::option_catalogue`]): `--KEY VALUE`, with `-` for `_`.
#[derive(Debug, Clone, Default)]
struct OptimizerFlags(Vec<(&'static str, String)>);

impl OptimizerFlags {
    /// The flags given, as `(key, value)` options in catalogue order.
    fn options(&self) -> Vec<(String, ConfigScalar)> {
        self.0
            .iter()
            .map(|(key, value)| (key.to_string(), ConfigScalar::parse(value)))
            .collect()
    }

    /// The flags given, as `--flag` names.
    fn names(&self) -> Vec<String> {
        self.0.iter().map(|(key, _)| flag_name(key)).collect()
    }
}

fn flag_name(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

impl clap::FromArgMatches for OptimizerFlags {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self(
            option_catalogue()
                .iter()
                .filter_map(|e| matches.get_one::<String>(e.key).map(|v| (e.key, v.clone())))
                .collect(),
        ))
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for OptimizerFlags {
    fn augment_args(command: clap::Command) -> clap::Command {
        option_catalogue()
            .into_iter()
            .fold(command, |command, entry| {
                command.arg(
                    clap::Arg::new(entry.key)
                        .long(entry.key.replace('_', "-"))
                        .value_name(entry.value_name())
                        .help(entry.help())
                        .allow_negative_numbers(true),
                )
            })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

/// What a solve starts from: the problem, its settings, and a saved state when resuming.
struct Setup {
    file: PathBuf,
    /// The file's text, to show diagnostics raised during the solve.
    source: String,
    problem: Problem,
    config: RunConfig,
    checkpoint_every: usize,
    start: Option<RunState>,
    out_dir: PathBuf,
}

pub(super) fn run_solve(args: &SolveArgs) -> Status {
    if args.threads == Some(0) {
        eprintln!("error: --threads must be at least 1");
        return Status::UserError;
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // Only fails when a pool exists already, which cannot happen this early.
    let _ = pdec::solve::driver::init_thread_pool(threads);
    let setup = match &args.resume {
        Some(dir) => resume_setup(args, dir),
        None => fresh_setup(args),
    };
    let setup = match setup {
        Ok(setup) => setup,
        Err(status) => return status,
    };
    // Fail before the long solve, not after it, when the results cannot be written.
    if let Err(message) = check_writable(&setup.out_dir) {
        eprintln!("error: {message}");
        return Status::Failure;
    }
    execute(args, setup)
}

/// Reads and checks `file`; diagnostics are printed (errors always, warnings unless quiet).
fn load_problem(file: &Path, quiet: bool) -> Result<(Problem, String), Status> {
    let checked = load(file)?;
    let Some(problem) = checked.problem.clone() else {
        print_diagnostics(&checked);
        return Err(Status::UserError);
    };
    if !quiet {
        print_diagnostics(&checked);
    }
    Ok((problem, checked.source))
}

fn fresh_setup(args: &SolveArgs) -> Result<Setup, Status> {
    let Some(file) = args.file.clone() else {
        eprintln!("error: a .pde file or --resume RUN_DIR is required");
        return Err(Status::UserError);
    };
    let (problem, source) = load_problem(&file, args.quiet)?;
    // The library's rule: flags over the file's `solve` block over the defaults.
    let options = SolveOptions {
        optimizer: args.optimizer,
        optimizer_config: None,
        options: args.options.options(),
        iterations: args.iterations,
        seed: args.seed,
        loss_tol: args.tol,
        time_budget_s: args.time_budget,
        patience: args.patience,
        min_improvement: args.min_improvement,
        causal: args.causal,
        eval_every: args.eval_every,
        threads: 0,
    };
    let config = match options.to_run_config(&problem) {
        Ok(config) => config,
        Err(Error::Run(RunError::OptionOverride { key, message })) => {
            eprintln!("error: {}: {message}", flag_name(&key));
            return Err(Status::UserError);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Err(Status::UserError);
        }
    };
    let out_dir = args.out.clone().unwrap_or_else(|| {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".to_string());
        PathBuf::from("runs").join(stem)
    });
    Ok(Setup {
        file,
        source,
        problem,
        config,
        checkpoint_every: args.checkpoint_every,
        start: None,
        out_dir,
    })
}

/// Reads `dir/checkpoint.json` and the problem it names, and checks they belong together.
fn resume_setup(args: &SolveArgs, dir: &Path) -> Result<Setup, Status> {
    let fixed = args
        .options
        .names()
        .into_iter()
        .chain(args.optimizer.map(|_| "--optimizer".to_string()))
        .chain(args.seed.map(|_| "--seed".to_string()))
        .chain(args.eval_every.map(|_| "--eval-every".to_string()))
        .chain(args.causal.map(|_| "--causal".to_string()))
        .collect::<Vec<_>>();
    if !fixed.is_empty() {
        eprintln!(
            "error: {} cannot be changed when resuming (the checkpoint fixes them)",
            fixed.join(", ")
        );
        return Err(Status::UserError);
    }
    let path = dir.join(CHECKPOINT_FILE);
    let checkpoint = read_checkpoint(&path).map_err(|e| {
        eprintln!("error: {e}");
        Status::Failure
    })?;
    let file = match &args.file {
        Some(file) => file.clone(),
        None => super::run_dir::file_the_checkpoint_names(
            &checkpoint,
            &path,
            "`pdec solve --resume RUN_DIR FILE`",
        )?,
    };
    let (problem, source) = load_problem(&file, args.quiet)?;
    if let Err(e) = checkpoint.check_problem(&problem, &file.display().to_string(), &path) {
        eprintln!("error: {e}");
        return Err(Status::Failure);
    }
    let mut config = checkpoint.config;
    if let Some(n) = args.iterations {
        config.solve.max_iterations = n;
    }
    if let Some(tol) = args.tol {
        config.solve.loss_tol = tol;
    }
    if args.time_budget.is_some() {
        config.solve.time_budget_s = args.time_budget;
    }
    apply_progress_flags(&mut config.solve, args);
    Ok(Setup {
        file,
        source,
        problem,
        config,
        checkpoint_every: args.checkpoint_every,
        start: Some(checkpoint.state),
        out_dir: args.out.clone().unwrap_or_else(|| dir.to_path_buf()),
    })
}

/// `--patience` and `--min-improvement` over the file's (or the checkpoint's) settings.
fn apply_progress_flags(config: &mut SolveConfig, args: &SolveArgs) {
    if let Some(patience) = args.patience {
        config.patience = (patience > 0).then_some(patience);
    }
    if let Some(min_improvement) = args.min_improvement {
        config.min_improvement = min_improvement;
    }
}

/// `--causal`: a positive ε, or `off` (0).
fn parse_causal(text: &str) -> Result<f64, String> {
    match text {
        "off" => Ok(0.0),
        _ => match text.parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
            _ => Err(format!(
                "expected a positive number or `off`, found `{text}`"
            )),
        },
    }
}

fn parse_min_improvement(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be in [0, 1), found {value}"))
    }
}

/// Creates `dir` and checks a file can be created in it.
fn check_writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the run folder {}: {e}", dir.display()))?;
    let probe = dir.join(format!(".pdec-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| format!("cannot write into the run folder {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Whether a periodic checkpoint is written after `iteration`, the last having been
/// written (or resumed from) after `saved_at`: it is due at the next multiple of `every`
/// and waits for a `whole` state from there, though not past the multiple after (an
/// optimizer setting could keep the state from ever being whole). `every` 0: never.
fn checkpoint_due(iteration: usize, saved_at: usize, every: usize, whole: bool) -> bool {
    let periods = iteration
        .checked_div(every)
        .zip(saved_at.checked_div(every))
        .map_or(0, |(now, then)| now - then);
    periods >= 2 || (periods == 1 && whole)
}

fn execute(args: &SolveArgs, setup: Setup) -> Status {
    let Setup {
        file,
        source,
        problem,
        config: run_config,
        checkpoint_every,
        start,
        out_dir,
    } = setup;
    let file_name = file.display().to_string();
    let checkpoint_path = out_dir.join(CHECKPOINT_FILE);
    // First Ctrl-C: stop after the current iteration; second: leave at once.
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) >= 1 {
            std::process::exit(INTERRUPTED_EXIT_CODE);
        }
    });
    let field_names: Vec<String> = problem.fields.iter().map(|f| f.name.clone()).collect();
    let optimizer = run_config.solve.optimizer.name().to_string();
    let seed = run_config.seed();
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(run_config.solve.max_iterations as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(optimizer.clone());
        bar
    };
    let mut last_error = String::new();
    let mut checkpoint_failure = None;
    // The iteration of the last checkpoint written or resumed from.
    let mut saved_at = start.as_ref().map_or(0, RunState::iteration);
    let callback = |p: &Progress| {
        let iteration = p.record.iteration;
        if checkpoint_due(iteration, saved_at, checkpoint_every, p.snapshot_is_whole()) {
            saved_at = iteration;
            let checkpoint = Checkpoint::new(
                &file_name,
                &problem,
                &run_config,
                checkpoint_every,
                p.snapshot(),
            )
            .in_run_folder(&out_dir);
            if let Err(e) = write_checkpoint(&checkpoint_path, &checkpoint) {
                checkpoint_failure = Some(e);
                return ControlFlow::Break(());
            }
        }
        if let Some(errors) = p.errors {
            last_error = errors
                .iter()
                .map(|e| format!("{} {:.2e}", field_names[e.field], e.relative_l2))
                .collect::<Vec<_>>()
                .join(" ");
        }
        let rank = p
            .record
            .rank
            .map(|r| format!(" rank {r}"))
            .unwrap_or_default();
        bar.set_position(p.record.iteration as u64);
        bar.set_message(format!(
            "loss {:.3e}{}{}{}",
            p.record.loss,
            if last_error.is_empty() {
                ""
            } else {
                " rel L2 "
            },
            last_error,
            rank
        ));
        if INTERRUPTS.load(Ordering::SeqCst) > 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let result = match args.device {
        Device::Cpu => {
            run_from::<NdArray<f64>>(&problem, &NdArrayDevice::Cpu, &run_config, start, callback)
        }
        #[cfg(feature = "cuda")]
        Device::Cuda => run_from::<burn_cuda::Cuda<f64>>(
            &problem,
            &burn_cuda::CudaDevice::default(),
            &run_config,
            start,
            callback,
        ),
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => {
            bar.finish_and_clear();
            eprintln!("error: this pdec was built without CUDA; rebuild with `--features cuda`");
            return Status::UserError;
        }
    };
    bar.finish_and_clear();
    if let Some(e) = checkpoint_failure {
        eprintln!("error: {e}");
        return Status::Failure;
    }
    let (report, state) = match result {
        Ok(done) => done,
        Err(e) => {
            // The last checkpoint written (if any) is kept: it is the last good state.
            // A non-finite equation is shown at its source span (E0601).
            match e.diagnostic(&problem) {
                Some(diagnostic) => print_diagnostics(&super::Checked {
                    name: file_name.clone(),
                    source: source.clone(),
                    problem: None,
                    diagnostics: vec![diagnostic],
                }),
                None => eprintln!("error: {e}"),
            }
            return Status::UserError;
        }
    };
    // A Ctrl-C during the last iteration does not turn a finished run into an interrupted one.
    let interrupted = INTERRUPTS.load(Ordering::SeqCst) > 0
        && report.report.stopped_because == StopReason::Callback;
    let mut summary = Summary::new(&file_name, &optimizer, seed, &field_names, &report);
    if interrupted {
        summary.stopped_because = "interrupted".to_string();
    }
    let checkpoint = Checkpoint::new(&file_name, &problem, &run_config, checkpoint_every, state)
        .in_run_folder(&out_dir);
    if let Err(e) = write_checkpoint(&checkpoint_path, &checkpoint)
        .and_then(|()| write_summary(&out_dir.join("summary.json"), &summary))
        .and_then(|()| write_history(&out_dir.join("history.csv"), &field_names, &report))
    {
        eprintln!("error: {e}");
        return Status::Failure;
    }
    if !args.no_plots {
        if let Err(e) = super::run_dir::draw(&out_dir, &problem, &report, args.grid) {
            eprintln!("error: {e}");
            return Status::Failure;
        }
    }
    if args.vtk {
        if let Err(e) = super::eval::write_vtk(&out_dir, &problem, &report.theta, args.grid) {
            eprintln!("error: {e}");
            return Status::Failure;
        }
    }
    if !args.quiet {
        println!(
            "{}: {} after {} iterations ({}), loss {:.3e}, {:.1} s",
            file_name,
            optimizer,
            summary.iterations,
            summary.stopped_because,
            summary.final_loss,
            summary.wall_s
        );
        if let Some(heldout) = &summary.heldout {
            println!(
                "  held-out loss {:.3e} on {} fresh points ({:.3e} at the start)",
                heldout.loss, heldout.points, heldout.initial_loss
            );
        }
        let last = report.report.history.last().map_or(0, |r| r.iteration);
        if summary.result_iteration != last {
            println!(
                "  the parameters of iteration {}, where the held-out loss was lowest (the \
                 points moved with `adaptive`); the loss above is theirs",
                summary.result_iteration
            );
        }
        for (field, err) in &summary.rel_l2 {
            println!(
                "  {field}: relative L2 error {:.3e}, max error {:.3e}",
                err, summary.max_abs_err[field]
            );
        }
        for (name, value) in &summary.params {
            println!("  param {name} = {value}");
        }
        println!("  wrote {}", out_dir.display());
        if let Some(heldout) = summary.heldout.filter(|_| summary.sample_limited) {
            let interior = report.interior_points(&problem);
            let per_param = if interior < 2 * summary.n_params {
                ", fewer than two per parameter"
            } else {
                ""
            };
            let adapt = if problem.sample.adaptive.is_some() {
                "or redraw them more often or more sharply (`adaptive = rad(k, c) every m` \
                 with a smaller m or a larger k)"
                    .to_string()
            } else {
                // `adaptive` changes the default optimizer; say so where the run's was
                // the default, since the other may do worse on the same problem.
                let defaulted = args.resume.is_none()
                    && args.optimizer.is_none()
                    && problem.solve.optimizer.is_none()
                    && run_config.solve.optimizer.kind() != OptimizerKind::Gn;
                let keep = if defaulted {
                    format!(
                        "; it also makes gn the default optimizer, and `solve optimizer = \
                         {optimizer}` keeps {optimizer}"
                    )
                } else {
                    String::new()
                };
                format!("or let them follow the residual (`sample adaptive = rad`{keep})")
            };
            eprintln!(
                "warning: the points, not the optimizer, limit the error: the network fits its \
                 training points but not the equations between them: the loss on {} fresh \
                 points is {:.3e} ({:.3e} at the start), the training loss {:.3e}\n  help: \
                 sample more points ({interior} interior points for {} parameters{per_param}) \
                 {adapt}",
                heldout.points,
                heldout.loss,
                heldout.initial_loss,
                summary.final_loss,
                summary.n_params
            );
        }
    }
    if interrupted {
        Status::Interrupted
    } else {
        Status::Ok
    }
}

/// Exit code of a solve stopped by Ctrl-C (128 + SIGINT, the shell convention).
pub(super) const INTERRUPTED_EXIT_CODE: i32 = 130;

#[cfg(test)]
mod tests {
    use super::checkpoint_due;

    #[test]
    fn a_checkpoint_waits_for_a_whole_state_but_not_past_the_next_multiple() {
        let due = |iteration, saved_at, whole| checkpoint_due(iteration, saved_at, 100, whole);
        // Every 100 iterations when every state is whole, also counted from a resume.
        let written: Vec<usize> = {
            let mut saved_at = 0;
            (1..=350)
                .filter(|&i| {
                    let write = due(i, saved_at, true);
                    saved_at = if write { i } else { saved_at };
                    write
                })
                .collect()
        };
        assert_eq!(written, [100, 200, 300]);
        assert!(!due(199, 130, true) && due(200, 130, true));
        // From a multiple, the first whole state; none in a whole period: the multiple
        // after all the same.
        assert!(!due(100, 0, false) && !due(101, 0, false) && due(102, 0, true));
        assert!(!due(199, 0, false) && due(200, 0, false));
        assert!(!due(150, 102, true), "one checkpoint per period");
        // 0: only the one at the end.
        assert!((1..1000).all(|i| !checkpoint_due(i, 0, 0, true)));
    }
}
