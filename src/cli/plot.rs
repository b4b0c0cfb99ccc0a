//! `pdec plot RUN_DIR`: redraws a run's figures from its `checkpoint.json` with the
//! code `pdec solve` uses.

use super::run_dir::{draw, load_run};
use super::Status;
use burn_ndarray::{NdArray, NdArrayDevice};
use pdec::output::checkpoint::CHECKPOINT_FILE;
use pdec::run::report_of_state;
use std::path::PathBuf;

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

pub(super) fn run(args: &PlotArgs) -> Status {
    let saved = match load_run(&args.run_dir, args.problem.as_deref()) {
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
