//! `pdec plot RUN_DIR`: redraws a run's figures from its `checkpoint.json` with the
//! code `pdec solve` uses.

use super::Status;
use burn_ndarray::{NdArray, NdArrayDevice};
use pdec::ir::Problem;
use pdec::output::checkpoint::CHECKPOINT_FILE;
use pdec::run::{report_of_state, RunReport};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(super) struct PlotArgs {
    /// The run folder (with checkpoint.json).
    run_dir: PathBuf,
    /// The .pde file (default: the file the checkpoint names).
    #[arg(long)]
    problem: Option<PathBuf>,
    /// Points per axis of the plots and the solution export.
    #[arg(long, default_value_t = 100)]
    grid: usize,
}

/// Writes the figures and `solution.csv` of `report` into `dir`.
pub(super) fn draw(
    dir: &Path,
    problem: &Problem,
    report: &RunReport,
    grid: usize,
) -> Result<(), String> {
    let program = pdec::compile::CompiledProblem::<NdArray<f64>>::new(problem, &NdArrayDevice::Cpu)
        .map_err(|e| e.to_string())?;
    pdec::output::figures::write_figures(dir, problem, &program, report, grid)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub(super) fn run(args: &PlotArgs) -> Status {
    let saved = match super::eval::load_run(&args.run_dir, args.problem.as_deref()) {
        Ok(saved) => saved,
        Err(status) => return status,
    };
    let report = match report_of_state::<NdArray<f64>>(
        &saved.problem,
        &NdArrayDevice::Cpu,
        &saved.checkpoint.config,
        &saved.checkpoint.state,
    ) {
        Ok(report) => report,
        Err(e) => {
            eprintln!(
                "error: {}: {e}",
                args.run_dir.join(CHECKPOINT_FILE).display()
            );
            return Status::Failure;
        }
    };
    match draw(&args.run_dir, &saved.problem, &report, args.grid) {
        Ok(()) => Status::Ok,
        Err(e) => {
            eprintln!("error: {e}");
            Status::Failure
        }
    }
}
