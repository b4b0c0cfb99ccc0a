//! A run folder, as `pdec eval` and `pdec plot` read it and `pdec solve` and
//! `pdec plot` draw into it: the checkpoint with the problem it belongs to, and
//! the figures of a run.

use super::{load, print_diagnostics, Status};
use burn_ndarray::{NdArray, NdArrayDevice};
use pdec::ir::Problem;
use pdec::output::checkpoint::{read_checkpoint, Checkpoint, CHECKPOINT_FILE};
use pdec::run::RunReport;
use std::path::{Path, PathBuf};

/// A run folder's checkpoint with the problem it belongs to.
pub(super) struct SavedRun {
    /// The run's checkpoint.
    pub checkpoint: Checkpoint,
    /// The lowered problem, checked against the checkpoint's digest.
    pub problem: Problem,
    /// Its source text (`--jet` expressions are appended to it).
    pub source: String,
    /// Its folder, for relative data paths.
    pub base_dir: PathBuf,
}

/// Reads `run_dir/checkpoint.json` and the problem (`problem` or the file the checkpoint
/// names), and checks that they belong together. Errors are printed.
pub(super) fn load_run(run_dir: &Path, problem: Option<&Path>) -> Result<SavedRun, Status> {
    let path = run_dir.join(CHECKPOINT_FILE);
    let checkpoint = read_checkpoint(&path).map_err(|e| {
        eprintln!("error: {e}");
        Status::Failure
    })?;
    let file = match problem {
        Some(file) => file.to_path_buf(),
        None => file_the_checkpoint_names(&checkpoint, &path, "`--problem FILE`")?,
    };
    let checked = load(&file)?;
    let Some(lowered) = checked.problem.clone() else {
        print_diagnostics(&checked);
        return Err(Status::UserError);
    };
    if let Err(e) = checkpoint.check_problem(&lowered, &file.display().to_string(), &path) {
        eprintln!("error: {e}");
        return Err(Status::Failure);
    }
    Ok(SavedRun {
        checkpoint,
        problem: lowered,
        source: checked.source,
        base_dir: file.parent().unwrap_or(Path::new(".")).to_path_buf(),
    })
}

/// The problem file that `checkpoint` (read from `path`) names, when it can be read from
/// here: first relative to the run folder (where it lay when the run was written), then
/// as `pdec solve` was given it, relative to the folder it ran in. When neither
/// resolves, the error says so and that `how` names the file instead. Errors are printed.
pub(super) fn file_the_checkpoint_names(
    checkpoint: &Checkpoint,
    path: &Path,
    how: &str,
) -> Result<PathBuf, Status> {
    let candidates = checkpoint.problem_candidates(path);
    if let Some(file) = candidates.iter().find(|f| f.is_file()) {
        return Ok(file.clone());
    }
    let file = PathBuf::from(&checkpoint.problem_file);
    let reason = std::fs::metadata(&file)
        .err()
        .map_or_else(|| "not a file".to_string(), |e| e.to_string());
    let beside = match &checkpoint.problem_from_run {
        Some(rel) => format!(", nor at `{rel}` from the run folder"),
        None => String::new(),
    };
    eprintln!(
        "error: cannot read `{}`, the problem file that {} names (the path `pdec solve` \
         was given, from the folder it ran in): {reason}{beside}; give the file with {how}",
        file.display(),
        path.display()
    );
    Err(Status::Failure)
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
