//! `pdec solve FILE`: trains the ansatz and writes the run folder.

use super::{load, print_diagnostics, Status};
use burn_ndarray::{NdArray, NdArrayDevice};
use indicatif::{ProgressBar, ProgressStyle};
use pdec::ir::{ConfigScalar, OptimizerKind};
use pdec::output::run_files::{write_history, write_summary, Summary};
use pdec::run::{apply_option, default_optimizer, run, solve_config, Progress, RunConfig};
use std::ops::ControlFlow;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(super) struct SolveArgs {
    /// The .pde file.
    file: PathBuf,
    /// Optimizer (default: the file's `solve optimizer`, else sngd).
    #[arg(long, value_enum)]
    optimizer: Option<Optimizer>,
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
    /// Evaluate the error against the exact solution every k iterations (0: only at the end).
    #[arg(long, default_value_t = 10)]
    eval_every: usize,
    /// ENGD: initial damping λ.
    #[arg(long)]
    damping: Option<f64>,
    /// ENGD: SPRING momentum μ in [0, 1).
    #[arg(long)]
    momentum: Option<f64>,
    /// SNGD: initial sketch size.
    #[arg(long)]
    sketch: Option<usize>,
    /// SNGD: oversampling added to the kept rank.
    #[arg(long)]
    oversample: Option<usize>,
    /// SNGD: single- (1) or two-pass (2) sketch.
    #[arg(long)]
    sketch_pass: Option<u8>,
    /// SNGD: eigenvalue tolerance.
    #[arg(long)]
    tolerance: Option<f64>,
    /// ANaGRAM: relative singular-value cut-off ε, or `adaptive`; ENGD: eigenvalue cut-off.
    #[arg(long)]
    cutoff: Option<String>,
    /// Adam: learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// L-BFGS: history length.
    #[arg(long)]
    history: Option<usize>,
    /// Line search: `grid` or `golden`.
    #[arg(long)]
    line_search: Option<String>,
    /// Do not draw history.png and solution_<field>.png nor write solution.csv.
    #[arg(long)]
    no_plots: bool,
    /// Points per axis of the plots and the solution export.
    #[arg(long, default_value_t = 100)]
    grid: usize,
    /// Where the tensor programs run: `cpu`, or `cuda` (builds with `--features cuda`).
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Device {
    Cpu,
    Cuda,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Optimizer {
    Engd,
    Sngd,
    Anagram,
    Adam,
    Lbfgs,
}

impl From<Optimizer> for OptimizerKind {
    fn from(o: Optimizer) -> Self {
        match o {
            Optimizer::Engd => OptimizerKind::Engd,
            Optimizer::Sngd => OptimizerKind::Sngd,
            Optimizer::Anagram => OptimizerKind::Anagram,
            Optimizer::Adam => OptimizerKind::Adam,
            Optimizer::Lbfgs => OptimizerKind::Lbfgs,
        }
    }
}

pub(super) fn run_solve(args: &SolveArgs) -> Status {
    let checked = match load(&args.file) {
        Ok(checked) => checked,
        Err(status) => return status,
    };
    let Some(mut problem) = checked.problem.clone() else {
        print_diagnostics(&checked);
        return Status::UserError;
    };
    if !args.quiet {
        print_diagnostics(&checked);
    }
    if let Some(threads) = args.threads {
        if threads == 0 {
            eprintln!("error: --threads must be at least 1");
            return Status::UserError;
        }
        // Only fails when a pool exists already, which cannot happen this early.
        let _ = pdec::solve::driver::init_thread_pool(threads);
    }
    // The optimizer of the file unless a flag names another; the file's
    // options apply only to the file's optimizer.
    if let Some(o) = args.optimizer {
        let kind = OptimizerKind::from(o);
        if kind != problem.solve.optimizer {
            problem.solve.optimizer = kind;
            problem.solve.options.clear();
        }
    }
    let mut config = match solve_config(&problem) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return Status::UserError;
        }
    };
    if config.optimizer.name() != default_optimizer(problem.solve.optimizer).name() {
        config.optimizer = default_optimizer(problem.solve.optimizer);
    }
    let flags: [(&str, Option<ConfigScalar>); 10] = [
        ("damping", args.damping.map(ConfigScalar::Number)),
        ("momentum", args.momentum.map(ConfigScalar::Number)),
        (
            "sketch",
            args.sketch.map(|v| ConfigScalar::Number(v as f64)),
        ),
        (
            "oversample",
            args.oversample.map(|v| ConfigScalar::Number(v as f64)),
        ),
        (
            "sketch_pass",
            args.sketch_pass.map(|v| ConfigScalar::Number(v as f64)),
        ),
        ("tolerance", args.tolerance.map(ConfigScalar::Number)),
        ("cutoff", args.cutoff.as_deref().map(scalar)),
        ("lr", args.lr.map(ConfigScalar::Number)),
        (
            "history",
            args.history.map(|v| ConfigScalar::Number(v as f64)),
        ),
        ("line_search", args.line_search.as_deref().map(scalar)),
    ];
    for (key, value) in flags {
        if let Some(value) = value {
            if let Err(e) = apply_option(&mut config, key, &value) {
                eprintln!("error: --{}: {e}", key.replace('_', "-"));
                return Status::UserError;
            }
        }
    }
    if let Some(n) = args.iterations {
        config.max_iterations = n;
    }
    if let Some(tol) = args.tol {
        config.loss_tol = tol;
    }
    config.time_budget_s = args.time_budget;
    let seed = args.seed.unwrap_or(problem.sample.seed);
    config.seed = seed;
    let out_dir = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".to_string());
        PathBuf::from("runs").join(stem)
    });
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        eprintln!(
            "error: cannot create the run folder {}: {e}",
            out_dir.display()
        );
        return Status::Failure;
    }
    let field_names: Vec<String> = problem.fields.iter().map(|f| f.name.clone()).collect();
    let optimizer = config.optimizer.name().to_string();
    let run_config = RunConfig {
        solve: config,
        seed,
        eval_every: args.eval_every,
    };
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
    let callback = |p: &Progress| {
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
        ControlFlow::Continue(())
    };
    let result = match args.device {
        Device::Cpu => run::<NdArray<f64>>(&problem, &NdArrayDevice::Cpu, &run_config, callback),
        #[cfg(feature = "cuda")]
        Device::Cuda => run::<burn_cuda::Cuda<f64>>(
            &problem,
            &burn_cuda::CudaDevice::default(),
            &run_config,
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
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            // A non-finite equation is shown at its source span (E0601).
            match e.diagnostic(&problem) {
                Some(diagnostic) => print_diagnostics(&super::Checked {
                    diagnostics: vec![diagnostic],
                    problem: None,
                    ..checked
                }),
                None => eprintln!("error: {e}"),
            }
            return Status::UserError;
        }
    };
    let summary = Summary::new(
        &args.file.display().to_string(),
        &optimizer,
        seed,
        &field_names,
        &report,
    );
    if let Err(e) = write_summary(&out_dir.join("summary.json"), &summary)
        .and_then(|()| write_history(&out_dir.join("history.csv"), &field_names, &report))
    {
        eprintln!("error: {e}");
        return Status::Failure;
    }
    if !args.no_plots {
        let figures =
            pdec::compile::CompiledProblem::<NdArray<f64>>::new(&problem, &NdArrayDevice::Cpu)
                .map_err(|e| e.to_string())
                .and_then(|program| {
                    pdec::output::figures::write_figures(
                        &out_dir, &problem, &program, &report, args.grid,
                    )
                    .map_err(|e| e.to_string())
                });
        if let Err(e) = figures {
            eprintln!("error: {e}");
            return Status::Failure;
        }
    }
    if !args.quiet {
        println!(
            "{}: {} after {} iterations ({}), loss {:.3e}, {:.1} s",
            args.file.display(),
            optimizer,
            summary.iterations,
            summary.stopped_because,
            summary.final_loss,
            summary.wall_s
        );
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
    }
    Status::Ok
}

fn scalar(text: &str) -> ConfigScalar {
    match text.parse::<f64>() {
        Ok(v) => ConfigScalar::Number(v),
        Err(_) => ConfigScalar::Word(text.to_string()),
    }
}
