//! The run folder's contract files: `summary.json` and `history.csv`
//! (documented in `docs/outputs.md`).

use super::{write_atomic, OutputError};
use crate::run::{HeldOut, RunReport};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The content of `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Path of the `.pde` file as given.
    pub problem: String,
    /// `engd`, `sngd`, `anagram`, `adam` or `lbfgs`.
    pub optimizer: String,
    /// Seed of initialisation and sampling.
    pub seed: u64,
    /// Iterations done.
    pub iterations: usize,
    /// The iteration whose parameters the run returns, which the errors, the final
    /// loss, the held-out loss and the files describe: the last one, or with `sample
    /// adaptive = rad` the one of the lowest held-out loss.
    pub result_iteration: usize,
    /// Trainable scalars.
    pub n_params: usize,
    /// Residual rows.
    pub n_points: usize,
    /// `½‖r‖²` of the returned parameters on the last training points.
    pub final_loss: f64,
    /// Field → relative L2 error on the test set.
    pub rel_l2: BTreeMap<String, f64>,
    /// Field → largest absolute error on the test set.
    pub max_abs_err: BTreeMap<String, f64>,
    /// Param → final value.
    pub params: BTreeMap<String, f64>,
    /// Wall time of the solve in seconds.
    pub wall_s: f64,
    /// Median seconds per iteration.
    pub s_per_iter_median: f64,
    /// Last kept rank (natural-gradient methods).
    pub rank: Option<usize>,
    /// Why the run stopped (`StopReason::as_str`).
    pub stopped_because: String,
    /// The process's peak resident memory in bytes when the summary was written (the
    /// solve's J and its workspaces included); `null` where the system does not say
    /// (it is read from `/proc/self/status` on Linux).
    pub peak_rss_bytes: Option<u64>,
    /// The loss on fresh collocation points at the start and the end (`null` when they
    /// cannot be drawn).
    pub heldout: Option<HeldOut>,
    /// Whether the points, not the optimizer, limit the error: the held-out loss ended
    /// far above the training loss ([`RunReport::sample_limited`]).
    pub sample_limited: bool,
}

impl Summary {
    /// The summary of a finished run of `problem_path` with `field_names`.
    pub fn new(
        problem_path: &str,
        optimizer: &str,
        seed: u64,
        field_names: &[String],
        run: &RunReport,
    ) -> Self {
        let mut rel_l2 = BTreeMap::new();
        let mut max_abs_err = BTreeMap::new();
        for e in &run.errors {
            rel_l2.insert(field_names[e.field].clone(), e.relative_l2);
            max_abs_err.insert(field_names[e.field].clone(), e.max_abs);
        }
        Summary {
            problem: problem_path.to_string(),
            optimizer: optimizer.to_string(),
            seed,
            iterations: run.report.iterations,
            result_iteration: run.result_iteration,
            n_params: run.n_params,
            n_points: run.n_points,
            final_loss: run.report.final_loss,
            rel_l2,
            max_abs_err,
            params: run.params.iter().cloned().collect(),
            wall_s: run.wall_s,
            s_per_iter_median: median_step_seconds(run),
            rank: run.report.rank,
            stopped_because: run.report.stopped_because.as_str().to_string(),
            peak_rss_bytes: peak_rss_bytes(),
            heldout: run.heldout,
            sample_limited: run.sample_limited(),
        }
    }
}

/// The process's peak resident set size (`VmHWM` of `/proc/self/status`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Median of the per-iteration wall times (0 when no iteration ran).
pub fn median_step_seconds(run: &RunReport) -> f64 {
    let mut previous = 0.0;
    let mut steps: Vec<f64> = run
        .report
        .history
        .iter()
        .map(|r| {
            let dt = r.wall_s - previous;
            previous = r.wall_s;
            dt
        })
        .collect();
    if steps.is_empty() {
        return 0.0;
    }
    steps.sort_by(f64::total_cmp);
    let mid = steps.len() / 2;
    if steps.len() % 2 == 1 {
        steps[mid]
    } else {
        0.5 * (steps[mid - 1] + steps[mid])
    }
}

/// Writes `summary.json` atomically.
///
/// # Errors
/// The file cannot be written.
pub fn write_summary(path: &Path, summary: &Summary) -> Result<(), OutputError> {
    let mut text = serde_json::to_string_pretty(summary)
        .map_err(|e| OutputError::invalid(path, e.to_string()))?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Writes `history.csv` atomically: one row per iteration with the loss, the
/// relative L2 error of each field with an exact solution and the held-out loss
/// (where evaluated), step size, damping, rank, CG iterations (`gn`) and wall time.
///
/// # Errors
/// The file cannot be written.
pub fn write_history(
    path: &Path,
    field_names: &[String],
    run: &RunReport,
) -> Result<(), OutputError> {
    let exact_fields: Vec<usize> = run.errors.iter().map(|e| e.field).collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["iteration".to_string(), "loss".to_string()];
    header.extend(
        exact_fields
            .iter()
            .map(|&f| format!("rel_l2_{}", field_names[f])),
    );
    header.extend(
        [
            "heldout_loss",
            "step_size",
            "damping",
            "rank",
            "cg_iterations",
            "jacobian_passes",
            "wall_s",
        ]
        .map(String::from),
    );
    let io = |e: csv::Error| OutputError::invalid(path, e.to_string());
    out.write_record(&header).map_err(io)?;
    let mut evaluated = run.error_history.iter().peekable();
    let mut heldout = run.heldout_history.iter().peekable();
    for record in &run.report.history {
        let mut row = vec![record.iteration.to_string(), record.loss.to_string()];
        let errors = match evaluated.peek() {
            Some((it, errors)) if *it == record.iteration => {
                evaluated.next();
                Some(errors)
            }
            _ => None,
        };
        for &f in &exact_fields {
            row.push(
                errors
                    .and_then(|es| es.iter().find(|e| e.field == f))
                    .map(|e| e.relative_l2.to_string())
                    .unwrap_or_default(),
            );
        }
        match heldout.peek() {
            Some((it, loss)) if *it == record.iteration => {
                row.push(loss.to_string());
                heldout.next();
            }
            _ => row.push(String::new()),
        }
        row.push(record.step_size.to_string());
        row.push(record.damping.map(|d| d.to_string()).unwrap_or_default());
        row.push(record.rank.map(|r| r.to_string()).unwrap_or_default());
        row.push(
            record
                .cg_iterations
                .map(|k| k.to_string())
                .unwrap_or_default(),
        );
        row.push(
            record
                .jacobian_passes
                .map(|k| k.to_string())
                .unwrap_or_default(),
        );
        row.push(record.wall_s.to_string());
        out.write_record(&row).map_err(io)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| OutputError::invalid(path, e.to_string()))?;
    write_atomic(path, &bytes)
}
