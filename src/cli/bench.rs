//! `pdec bench FILE...`: the benchmark runner. Solves every file with every chosen
//! optimizer, seed and thread count — each run a fresh `pdec solve` process, so that its
//! thread pool has the requested size — interleaved (seed by seed, then thread count,
//! then optimizer; `--jobs` of them at a time, one by default), and writes `runs.csv`
//! (one row per run), `summary.csv` and `summary.md` (one row per problem, optimizer
//! and thread count: median and worst error, successes at a threshold, time to
//! 1e-3/1e-5/1e-7, s/iteration).
//!
//! The error of a run is its largest relative L2 error over the fields with an exact
//! solution; the time to an accuracy is the wall clock of the first evaluated iteration
//! (`--eval-every`) whose error is at or below it.
//!
//! A run that fails (its process exits with an error or is killed, or leaves no
//! readable summary) is a row with `stopped_because = failed (...)` and no error, which
//! counts as a failure and as the worst case; the series goes on, and the exit code is 1.

use super::Status;
use pdec::output::checkpoint::{problem_digest, read_checkpoint, CHECKPOINT_FILE};
use pdec::output::plot::{plot_cost, Series};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// The accuracies whose time-to is reported.
const TARGETS: [f64; 3] = [1e-3, 1e-5, 1e-7];

#[derive(Debug, clap::Args)]
pub(super) struct BenchArgs {
    /// The .pde files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Optimizers, comma-separated (default: each file's own).
    #[arg(long, value_delimiter = ',')]
    optimizer: Vec<String>,
    /// Seeds: a list and/or ranges, e.g. `0-4` or `0,3,7`.
    #[arg(long, default_value = "0-4", value_parser = parse_seeds)]
    seeds: Seeds,
    /// Thread counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Wall-clock limit of each run in seconds (passed to `pdec solve`).
    #[arg(long)]
    time_budget: Option<f64>,
    /// Iteration limit of each run (default: each file's).
    #[arg(long)]
    iterations: Option<usize>,
    /// Evaluate the errors every this many iterations (the resolution of the time-to
    /// columns).
    #[arg(long, default_value_t = 10)]
    eval_every: usize,
    /// A run succeeds when its error is at or below this.
    #[arg(long, default_value_t = 1e-3)]
    threshold: f64,
    /// Where the tables and the run folders go.
    #[arg(long, default_value = "bench")]
    out: PathBuf,
    /// Further `pdec solve` options for every run, e.g. `--solve-arg=--line-search=off`.
    #[arg(long = "solve-arg", allow_hyphen_values = true)]
    solve_args: Vec<String>,
    /// Keep a run already in `--out` that finished with the same `pdec solve` arguments
    /// on the same problem (recorded in its `bench_args.txt`: the arguments, the
    /// problem's digest and its `solve` settings) instead of solving it again, and
    /// continue one that was interrupted with them from its last checkpoint (`pdec solve
    /// --resume`; not with `--solve-arg`, whose runs start again): continues an
    /// interrupted benchmark with the results an uninterrupted one gives. After an edit
    /// to the file that changes what is solved, its runs start again.
    #[arg(long)]
    reuse: bool,
    /// Runs at a time, each a `pdec solve` process with its own `--threads`: mind the
    /// cores, runs side by side slow each other down (the time columns show it; the
    /// errors do not depend on it). Rows keep the table's order.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
}

/// The file in a run folder that records the `pdec solve` arguments of a finished run
/// (and the problem, [`problem_record`]).
const ARGS_FILE: &str = "bench_args.txt";

/// The file in a run folder that records the `pdec solve` arguments a run was started
/// with (and the problem), finished or not.
const STARTED_FILE: &str = "bench_started.txt";

/// A parsed `--seeds` value.
#[derive(Debug, Clone)]
pub(super) struct Seeds(Vec<u64>);

fn parse_seeds(text: &str) -> Result<Seeds, String> {
    let mut seeds = Vec::new();
    for part in text.split(',').map(str::trim) {
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{s}` is not a seed (a whole number)"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if b < a || b - a > 10_000 {
                    return Err(format!("`{part}`: expected a range like 0-4"));
                }
                seeds.extend(a..=b);
            }
            None => seeds.push(number(part)?),
        }
    }
    Ok(Seeds(seeds))
}

/// One finished run.
#[derive(Debug, Clone, PartialEq)]
struct RunRow {
    problem: String,
    optimizer: String,
    seed: u64,
    threads: usize,
    n_points: u64,
    n_params: u64,
    iterations: u64,
    error: Option<f64>,
    final_loss: f64,
    wall_s: f64,
    s_per_iter: f64,
    /// The run's peak resident memory in MB (`peak_rss_bytes` of summary.json).
    peak_mb: Option<f64>,
    stopped_because: String,
    /// Seconds to each of [`TARGETS`].
    time_to: [Option<f64>; 3],
}

impl RunRow {
    /// The row of a run that did not finish (it exited with `status`, or left no
    /// readable summary): no error, no times.
    fn failed(file: &Path, optimizer: &str, seed: u64, threads: usize, status: &str) -> Self {
        RunRow {
            problem: file.display().to_string(),
            optimizer: optimizer.to_string(),
            seed,
            threads,
            n_points: 0,
            n_params: 0,
            iterations: 0,
            error: None,
            final_loss: f64::NAN,
            wall_s: f64::NAN,
            s_per_iter: f64::NAN,
            peak_mb: None,
            stopped_because: format!("failed ({status})"),
            time_to: [None; 3],
        }
    }
}

/// A run the runner has to start: its `pdec solve` arguments (a fresh run's, or a
/// resume's), what its folder records of it, and where its row goes.
struct Pending {
    /// Its place in the table (the order of files, seeds, thread counts, optimizers).
    index: usize,
    name: String,
    dir: PathBuf,
    file: PathBuf,
    optimizer: Option<String>,
    seed: u64,
    threads: usize,
    /// `Some(iteration)`: continued from the checkpoint written then.
    resume_from: Option<usize>,
    args: Vec<OsString>,
    recorded: String,
}

/// What a worker reports of a run: the exit status of `pdec solve`, or why it could not
/// be started (which ends the benchmark).
type Outcome = Result<ExitStatus, String>;

pub(super) fn run(args: &BenchArgs) -> Status {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: cannot locate the pdec executable: {e}");
            return Status::Failure;
        }
    };
    if args.threads.contains(&0) || args.threads.is_empty() {
        eprintln!("error: --threads: expected positive thread counts");
        return Status::UserError;
    }
    if args.jobs == 0 {
        eprintln!("error: --jobs: expected a positive number of runs at a time");
        return Status::UserError;
    }
    if let Err(e) = std::fs::create_dir_all(args.out.join("runs")) {
        eprintln!("error: cannot create {}: {e}", args.out.display());
        return Status::Failure;
    }
    let optimizers: Vec<Option<&str>> = if args.optimizer.is_empty() {
        vec![None]
    } else {
        args.optimizer.iter().map(|o| Some(o.as_str())).collect()
    };
    let total = args.files.len() * optimizers.len() * args.seeds.0.len() * args.threads.len();
    // Rows in table order; a run kept by `--reuse` has its row now, the others when
    // they finish.
    let mut rows: Vec<Option<RunRow>> = Vec::with_capacity(total);
    let mut pending = Vec::new();
    for file in &args.files {
        let problem = problem_record(file);
        for &seed in &args.seeds.0 {
            for &threads in &args.threads {
                for &optimizer in &optimizers {
                    let index = rows.len();
                    let stem = file
                        .file_stem()
                        .map_or("problem".into(), |s| s.to_string_lossy());
                    let name = format!(
                        "{stem}-{}-s{seed}-t{threads}",
                        optimizer.unwrap_or("default")
                    );
                    let dir = args.out.join("runs").join(&name);
                    let mut command = Command::new(&exe);
                    command
                        .arg("solve")
                        .arg(file)
                        .args(["--seed", &seed.to_string()])
                        .args(["--threads", &threads.to_string()])
                        .args(["--eval-every", &args.eval_every.to_string()])
                        .args(["--no-plots", "--quiet", "--out"])
                        .arg(&dir);
                    if let Some(optimizer) = optimizer {
                        command.args(["--optimizer", optimizer]);
                    }
                    push_limits(&mut command, args);
                    command.args(&args.solve_args);
                    let mut recorded: String = command
                        .get_args()
                        .map(|a| a.to_string_lossy().into_owned() + "\n")
                        .collect();
                    recorded.push_str(&problem);
                    let args_file = dir.join(ARGS_FILE);
                    if args.reuse
                        && std::fs::read_to_string(&args_file).is_ok_and(|text| text == recorded)
                    {
                        if let Ok(row) = read_run(&dir, file, threads) {
                            eprintln!("[{}/{total}] {name} (reused)", index + 1);
                            rows.push(Some(row));
                            continue;
                        }
                    }
                    let _ = std::fs::remove_file(&args_file);
                    let started_file = dir.join(STARTED_FILE);
                    let resume_from = resumable(args, &started_file, &dir, &recorded);
                    let solve_args: Vec<OsString> = match resume_from {
                        // The checkpoint holds the settings; the thread count is the
                        // process's, and the limits are passed again as given (the file
                        // too, so that the summary names it as the first part did).
                        Some(_) => {
                            let mut resume = Command::new(&exe);
                            resume
                                .args(["solve", "--resume"])
                                .arg(&dir)
                                .arg(file)
                                .args(["--threads", &threads.to_string()])
                                .args(["--no-plots", "--quiet"]);
                            push_limits(&mut resume, args);
                            resume.get_args().map(OsString::from).collect()
                        }
                        None => command.get_args().map(OsString::from).collect(),
                    };
                    rows.push(None);
                    pending.push(Pending {
                        index,
                        name,
                        dir,
                        file: file.clone(),
                        optimizer: optimizer.map(String::from),
                        seed,
                        threads,
                        resume_from,
                        args: solve_args,
                        recorded,
                    });
                }
            }
        }
    }

    // Up to `--jobs` runs at a time, started in table order; each row and the tables
    // are written as its run finishes.
    let queue = Mutex::new(pending.iter());
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<(&Pending, Outcome)>();
    let mut failed = 0;
    let mut fatal = false;
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.min(pending.len()) {
            let sender = sender.clone();
            let (queue, stop, exe) = (&queue, &stop, &exe);
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Some(task) = queue.lock().map_or(None, |mut q| q.next()) else {
                    break;
                };
                let outcome = start_and_wait(task, exe, total);
                if sender.send((task, outcome)).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for (task, outcome) in receiver {
            let status = match outcome {
                Ok(status) => status,
                Err(e) => {
                    eprintln!("error: {e}");
                    stop.store(true, Ordering::Relaxed);
                    fatal = true;
                    continue;
                }
            };
            // A failed run is a row of its own (no error: it counts as a failure and as
            // the worst case) and the series goes on.
            let row = if status.success() {
                read_run(&task.dir, &task.file, task.threads)
                    .map_err(|e| format!("{}: {e}", task.name))
            } else {
                Err(format!("`pdec solve` failed on {} ({status})", task.name))
            };
            let succeeded = row.is_ok();
            rows[task.index] = Some(match row {
                Ok(row) => row,
                Err(e) => {
                    eprintln!("error: {e}");
                    failed += 1;
                    RunRow::failed(
                        &task.file,
                        task.optimizer.as_deref().unwrap_or("default"),
                        task.seed,
                        task.threads,
                        &status.to_string(),
                    )
                }
            });
            // Tables after every run: an interrupted benchmark leaves what it has.
            // Only a finished run is marked for `--reuse`.
            let marked = if succeeded {
                std::fs::write(task.dir.join(ARGS_FILE), &task.recorded).map_err(|e| e.to_string())
            } else {
                Ok(())
            };
            let done: Vec<RunRow> = rows.iter().flatten().cloned().collect();
            if let Err(e) = marked.and_then(|()| write_tables(&done, args, false)) {
                eprintln!("error: {e}");
                stop.store(true, Ordering::Relaxed);
                fatal = true;
            }
        }
    });
    if fatal {
        return Status::Failure;
    }
    let rows: Vec<RunRow> = rows.into_iter().flatten().collect();
    match write_tables(&rows, args, true) {
        Ok(()) if failed > 0 => {
            eprintln!(
                "wrote {}; {failed} of {total} runs failed (stopped_because = failed)",
                args.out.display()
            );
            Status::UserError
        }
        Ok(()) => {
            eprintln!("wrote {}", args.out.display());
            Status::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Status::Failure
        }
    }
}

/// Passes `--time-budget` and `--iterations` to a `pdec solve` command, fresh or
/// resumed, when the runner was given them.
fn push_limits(command: &mut Command, args: &BenchArgs) {
    if let Some(budget) = args.time_budget {
        command.args(["--time-budget", &budget.to_string()]);
    }
    if let Some(iterations) = args.iterations {
        command.args(["--iterations", &iterations.to_string()]);
    }
}

/// Starts `task` (a fresh run first clears its folder and records its arguments) and
/// waits for `pdec solve` to end.
fn start_and_wait(task: &Pending, exe: &Path, total: usize) -> Outcome {
    let number = task.index + 1;
    let name = &task.name;
    match task.resume_from {
        Some(iteration) => {
            eprintln!("[{number}/{total}] {name} (resumed after iteration {iteration})");
        }
        // A folder left by a different run is not reused.
        None => {
            eprintln!("[{number}/{total}] {name}");
            let started_file = task.dir.join(STARTED_FILE);
            let _ = std::fs::remove_dir_all(&task.dir);
            std::fs::create_dir_all(&task.dir)
                .and_then(|()| std::fs::write(&started_file, &task.recorded))
                .map_err(|e| format!("cannot write {}: {e}", started_file.display()))?;
        }
    }
    Command::new(exe)
        .args(&task.args)
        .status()
        .map_err(|e| format!("cannot run pdec solve: {e}"))
}

/// What the runner records of a problem file beside the `pdec solve` arguments: the
/// digest of the problem it lowers to (which covers the data files it reads) and its
/// `solve` settings. A finished run is kept, and an interrupted one continued, only
/// while these are unchanged: an edit that changes what is solved, or how, runs it
/// again (a comment does not). A file that does not load records that, and its runs
/// fail as they would anyway.
fn problem_record(file: &Path) -> String {
    match pdec::Problem::from_file(file) {
        Ok(problem) => format!(
            "problem {}\nsolve {}\n",
            problem_digest(problem.ir()),
            serde_json::to_string(&problem.ir().solve).unwrap_or_default()
        ),
        Err(_) => "problem unreadable\n".into(),
    }
}

/// With `--reuse`, the iteration of the checkpoint from which the run in `dir` continues:
/// one started with the `recorded` arguments (its `started_file`) and no extra
/// `--solve-arg`, whose checkpoint reads.
fn resumable(args: &BenchArgs, started_file: &Path, dir: &Path, recorded: &str) -> Option<usize> {
    if !args.reuse
        || !args.solve_args.is_empty()
        || std::fs::read_to_string(started_file).ok()? != recorded
    {
        return None;
    }
    let checkpoint = read_checkpoint(&dir.join(CHECKPOINT_FILE)).ok()?;
    Some(checkpoint.iteration)
}

/// Writes `runs.csv`, `summary.csv` and `summary.md` for the runs so far (and prints the
/// markdown table when `print`).
fn write_tables(rows: &[RunRow], args: &BenchArgs, print: bool) -> Result<(), String> {
    let groups = summarize(rows, args.threshold);
    write_runs(&args.out.join("runs.csv"), rows)?;
    write_summary_csv(&args.out.join("summary.csv"), &groups)?;
    let table = markdown(&groups, args);
    if print {
        print!("{table}");
    }
    std::fs::write(args.out.join("summary.md"), table).map_err(|e| e.to_string())?;
    let series = cost_series(&groups);
    if series.iter().any(|s| s.x.len() >= 2) {
        plot_cost(&args.out.join(COST_FIGURE), &series).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The log–log figure of seconds per iteration against N·P, written when some optimizer
/// ran at two sizes or more (a scaling series).
const COST_FIGURE: &str = "cost.png";

/// One series per optimizer and thread count: median seconds per iteration against the
/// Jacobian's entries N·P, in increasing N·P (groups without a time are left out).
fn cost_series(groups: &[Group]) -> Vec<Series> {
    let mut series: Vec<Series> = Vec::new();
    for g in groups {
        let Some(s_per_iter) = g.s_per_iter.filter(|s| s.is_finite()) else {
            continue;
        };
        let name = format!(
            "{}, {} thread{}",
            g.optimizer,
            g.threads,
            if g.threads == 1 { "" } else { "s" }
        );
        let entries = g.n_points as f64 * g.n_params as f64;
        match series.iter_mut().find(|s| s.name == name) {
            Some(s) => {
                s.x.push(entries);
                s.y.push(s_per_iter);
            }
            None => series.push(Series {
                name,
                x: vec![entries],
                y: vec![s_per_iter],
            }),
        }
    }
    for s in &mut series {
        let mut points: Vec<(f64, f64)> = s.x.iter().copied().zip(s.y.iter().copied()).collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        (s.x, s.y) = points.into_iter().unzip();
    }
    series
}

/// Reads a finished run's `summary.json` and `history.csv`.
fn read_run(dir: &Path, file: &Path, threads: usize) -> Result<RunRow, String> {
    let text = std::fs::read_to_string(dir.join("summary.json")).map_err(|e| e.to_string())?;
    let summary: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let number = |key: &str| summary[key].as_f64();
    let error = summary["rel_l2"]
        .as_object()
        .and_then(|fields| {
            fields
                .values()
                .map(|v| v.as_f64())
                .collect::<Option<Vec<_>>>()
        })
        .and_then(|errors| errors.into_iter().reduce(f64::max));
    let history = read_history(&dir.join("history.csv"))?;
    Ok(RunRow {
        // As the runner was given it (a run resumed elsewhere may name it otherwise).
        problem: file.display().to_string(),
        optimizer: summary["optimizer"].as_str().unwrap_or("?").to_string(),
        seed: summary["seed"].as_u64().unwrap_or(0),
        threads,
        n_points: summary["n_points"].as_u64().unwrap_or(0),
        n_params: summary["n_params"].as_u64().unwrap_or(0),
        iterations: summary["iterations"].as_u64().unwrap_or(0),
        error,
        final_loss: number("final_loss").unwrap_or(f64::NAN),
        wall_s: number("wall_s").unwrap_or(f64::NAN),
        s_per_iter: number("s_per_iter_median").unwrap_or(f64::NAN),
        peak_mb: number("peak_rss_bytes").map(|bytes| bytes / 1e6),
        stopped_because: summary["stopped_because"]
            .as_str()
            .unwrap_or("?")
            .to_string(),
        time_to: TARGETS.map(|target| time_to(&history, target)),
    })
}

/// `(wall_s, largest relative L2 error)` at the evaluated iterations of a history.
fn read_history(path: &Path) -> Result<Vec<(f64, f64)>, String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| e.to_string())?;
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let error_columns: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("rel_l2_"))
        .collect();
    let wall = header
        .iter()
        .position(|h| h == "wall_s")
        .ok_or("history.csv has no wall_s column")?;
    let mut points = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let errors: Option<Vec<f64>> = error_columns
            .iter()
            .map(|&i| record[i].parse::<f64>().ok())
            .collect();
        let (Some(errors), Ok(wall_s)) = (errors, record[wall].parse::<f64>()) else {
            continue;
        };
        if let Some(worst) = errors.into_iter().reduce(f64::max) {
            points.push((wall_s, worst));
        }
    }
    Ok(points)
}

/// The wall clock of the first point whose error is at or below `target`.
fn time_to(history: &[(f64, f64)], target: f64) -> Option<f64> {
    history
        .iter()
        .find(|&&(_, error)| error <= target)
        .map(|&(wall, _)| wall)
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some(0.5 * (sorted[n / 2 - 1] + sorted[n / 2])),
    }
}

/// One row of the summary: a problem, an optimizer and a thread count over its seeds.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    problem: String,
    optimizer: String,
    threads: usize,
    n_points: u64,
    n_params: u64,
    seeds: Vec<u64>,
    median_error: Option<f64>,
    worst_error: Option<f64>,
    successes: usize,
    /// Median seconds to each target over the runs that reached it, and how many did.
    time_to: [(Option<f64>, usize); 3],
    s_per_iter: Option<f64>,
    /// The largest peak memory of its runs, MB.
    peak_mb: Option<f64>,
}

fn summarize(rows: &[RunRow], threshold: f64) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for row in rows {
        let key = (&row.problem, &row.optimizer, row.threads);
        if groups
            .iter()
            .any(|g| (&g.problem, &g.optimizer, g.threads) == key)
        {
            continue;
        }
        let members: Vec<&RunRow> = rows
            .iter()
            .filter(|r| (&r.problem, &r.optimizer, r.threads) == key)
            .collect();
        // A run without an error (no exact solution) cannot succeed; a NaN error is
        // the worst.
        let errors: Vec<f64> = members
            .iter()
            .map(|r| r.error.filter(|e| !e.is_nan()).unwrap_or(f64::INFINITY))
            .collect();
        let time_to = std::array::from_fn(|k| {
            let reached: Vec<f64> = members.iter().filter_map(|r| r.time_to[k]).collect();
            (median(&reached), reached.len())
        });
        let s_per_iter: Vec<f64> = members.iter().map(|r| r.s_per_iter).collect();
        groups.push(Group {
            problem: row.problem.clone(),
            optimizer: row.optimizer.clone(),
            threads: row.threads,
            n_points: row.n_points,
            n_params: row.n_params,
            seeds: members.iter().map(|r| r.seed).collect(),
            median_error: median(&errors),
            worst_error: errors.iter().copied().reduce(f64::max),
            successes: errors.iter().filter(|&&e| e <= threshold).count(),
            time_to,
            s_per_iter: median(&s_per_iter),
            peak_mb: members.iter().filter_map(|r| r.peak_mb).reduce(f64::max),
        });
    }
    groups
}

fn write_runs(path: &Path, rows: &[RunRow]) -> Result<(), String> {
    let mut writer = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    let mut header = vec![
        "problem",
        "optimizer",
        "seed",
        "threads",
        "n_points",
        "n_params",
        "iterations",
        "error",
        "final_loss",
        "wall_s",
        "s_per_iter",
        "peak_mb",
        "stopped_because",
    ];
    header.extend(["time_to_1e-3", "time_to_1e-5", "time_to_1e-7"]);
    writer.write_record(&header).map_err(|e| e.to_string())?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in rows {
        let mut record = vec![
            r.problem.clone(),
            r.optimizer.clone(),
            r.seed.to_string(),
            r.threads.to_string(),
            r.n_points.to_string(),
            r.n_params.to_string(),
            r.iterations.to_string(),
            opt(r.error),
            r.final_loss.to_string(),
            r.wall_s.to_string(),
            r.s_per_iter.to_string(),
            opt(r.peak_mb),
            r.stopped_because.clone(),
        ];
        record.extend(r.time_to.iter().map(|t| opt(*t)));
        writer.write_record(&record).map_err(|e| e.to_string())?;
    }
    writer.flush().map_err(|e| e.to_string())
}

fn write_summary_csv(path: &Path, groups: &[Group]) -> Result<(), String> {
    let mut writer = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    writer
        .write_record([
            "problem",
            "optimizer",
            "threads",
            "n_points",
            "n_params",
            "seeds",
            "median_error",
            "worst_error",
            "successes",
            "runs",
            "time_to_1e-3",
            "reached_1e-3",
            "time_to_1e-5",
            "reached_1e-5",
            "time_to_1e-7",
            "reached_1e-7",
            "s_per_iter",
            "peak_mb",
        ])
        .map_err(|e| e.to_string())?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for g in groups {
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        let mut record = vec![
            g.problem.clone(),
            g.optimizer.clone(),
            g.threads.to_string(),
            g.n_points.to_string(),
            g.n_params.to_string(),
            seeds.join(" "),
            opt(g.median_error),
            opt(g.worst_error),
            g.successes.to_string(),
            g.seeds.len().to_string(),
        ];
        for (time, reached) in g.time_to {
            record.push(opt(time));
            record.push(reached.to_string());
        }
        record.push(opt(g.s_per_iter));
        record.push(opt(g.peak_mb));
        writer.write_record(&record).map_err(|e| e.to_string())?;
    }
    writer.flush().map_err(|e| e.to_string())
}

fn markdown(groups: &[Group], args: &BenchArgs) -> String {
    let sci = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2e}"));
    let secs = |(time, reached): (Option<f64>, usize), runs: usize| match time {
        Some(t) => format!("{t:.1} s ({reached}/{runs})"),
        None => "–".to_string(),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| problem | N | P | optimizer | threads | seeds | median error | worst error | ≤ {:.0e} | to 1e-3 | to 1e-5 | to 1e-7 | s/iteration | peak MB |",
        args.threshold
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for g in groups {
        let runs = g.seeds.len();
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} |",
            g.problem,
            g.n_points,
            g.n_params,
            g.optimizer,
            g.threads,
            seeds.join(","),
            sci(g.median_error),
            sci(g.worst_error),
            g.successes,
            runs,
            secs(g.time_to[0], runs),
            secs(g.time_to[1], runs),
            secs(g.time_to[2], runs),
            g.s_per_iter.map_or("–".to_string(), |s| format!("{s:.3}")),
            g.peak_mb.map_or("–".to_string(), |m| format!("{m:.0}")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seed: u64, threads: usize, error: Option<f64>, time_to: [Option<f64>; 3]) -> RunRow {
        RunRow {
            problem: "p.pde".into(),
            optimizer: "sngd".into(),
            seed,
            threads,
            n_points: 10,
            n_params: 5,
            iterations: 100,
            error,
            final_loss: 0.0,
            wall_s: 1.0,
            s_per_iter: seed as f64,
            peak_mb: Some(100.0 + seed as f64),
            stopped_because: "max_iterations".into(),
            time_to,
        }
    }

    #[test]
    fn seeds_parse_as_lists_and_ranges() {
        assert_eq!(parse_seeds("0-4").unwrap().0, [0, 1, 2, 3, 4]);
        assert_eq!(parse_seeds("3, 7,1-2").unwrap().0, [3, 7, 1, 2]);
        assert!(parse_seeds("4-0").is_err());
        assert!(parse_seeds("a").is_err());
    }

    #[test]
    fn the_cost_series_runs_per_optimizer_and_thread_count_in_increasing_size() {
        let sized = |problem: &str, optimizer: &str, threads, n: u64, p: u64, s: f64| RunRow {
            problem: problem.into(),
            optimizer: optimizer.into(),
            n_points: n,
            n_params: p,
            s_per_iter: s,
            threads,
            ..row(0, threads, None, [None; 3])
        };
        let rows = [
            sized("big.pde", "gn", 2, 100, 50, 4.0),
            sized("small.pde", "gn", 2, 10, 5, 0.5),
            sized("small.pde", "sngd", 2, 10, 5, 0.25),
            sized("small.pde", "gn", 1, 10, 5, 0.75),
            sized("mid.pde", "gn", 2, 20, 10, f64::NAN),
        ];
        let series = cost_series(&summarize(&rows, 1e-3));
        let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["gn, 2 threads", "sngd, 2 threads", "gn, 1 thread"]);
        // Sorted by N·P; the run without a time is left out.
        assert_eq!(series[0].x, [50.0, 5000.0]);
        assert_eq!(series[0].y, [0.5, 4.0]);
        assert_eq!((series[1].x.len(), series[2].y.clone()), (1, vec![0.75]));
    }

    #[test]
    fn medians_worst_cases_and_successes_are_per_thread_count() {
        let rows = [
            row(0, 1, Some(1e-4), [Some(2.0), None, None]),
            row(1, 1, Some(1e-2), [None, None, None]),
            row(2, 1, Some(1e-6), [Some(4.0), Some(9.0), None]),
            row(0, 2, None, [None, None, None]),
            row(1, 2, Some(f64::NAN), [None, None, None]),
        ];
        let groups = summarize(&rows, 1e-3);
        assert_eq!(groups.len(), 2);
        let one = &groups[0];
        assert_eq!((one.threads, one.seeds.clone()), (1, vec![0, 1, 2]));
        assert_eq!(one.median_error, Some(1e-4));
        assert_eq!(one.worst_error, Some(1e-2));
        assert_eq!(one.successes, 2);
        assert_eq!(one.time_to[0], (Some(3.0), 2));
        assert_eq!(one.time_to[1], (Some(9.0), 1));
        assert_eq!(one.time_to[2], (None, 0));
        assert_eq!(one.s_per_iter, Some(1.0));
        // Peak memory is the largest of the runs (seeds 0–2: 100, 101, 102 MB).
        assert_eq!(one.peak_mb, Some(102.0));
        // No error and NaN both count as failures, and as the worst.
        let two = &groups[1];
        assert_eq!((two.successes, two.worst_error), (0, Some(f64::INFINITY)));
    }

    #[test]
    fn time_to_an_accuracy_is_the_first_evaluation_reaching_it() {
        let history = [(1.0, 1e-2), (2.0, 5e-4), (3.0, 2e-3), (4.0, 1e-6)];
        assert_eq!(time_to(&history, 1e-3), Some(2.0));
        assert_eq!(time_to(&history, 1e-5), Some(4.0));
        assert_eq!(time_to(&history, 1e-7), None);
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
