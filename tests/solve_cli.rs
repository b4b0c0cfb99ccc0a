//! `pdec solve` end to end on heat1d: every optimizer decreases the loss, and the
//! run folder holds `summary.json` and `history.csv` with the documented keys.

mod common;

use common::{code_and_text, output_of, pdec_command};
use std::path::{Path, PathBuf};

fn run_dir(name: &str) -> PathBuf {
    common::scratch_path("solve", name)
}

/// Runs `pdec solve ARGS --out OUT` from the crate root; returns (exit code, stderr).
fn solve(args: &[&str], out: &Path) -> (i32, String) {
    let (code, _, stderr) = solve_verbose(args, out);
    (code, stderr)
}

/// As [`solve`], returning (exit code, stdout, stderr).
fn solve_verbose(args: &[&str], out: &Path) -> (i32, String, String) {
    code_and_text(&output_of(
        pdec_command(["solve"]).args(args).arg("--out").arg(out),
    ))
}

fn read_summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

const SUMMARY_KEYS: [&str; 17] = [
    "problem",
    "optimizer",
    "seed",
    "iterations",
    "n_params",
    "n_points",
    "final_loss",
    "rel_l2",
    "max_abs_err",
    "params",
    "wall_s",
    "s_per_iter_median",
    "rank",
    "stopped_because",
    "peak_rss_bytes",
    "heldout",
    "sample_limited",
];

#[test]
fn every_optimizer_decreases_the_loss_and_writes_the_run_folder() {
    for optimizer in ["engd", "sngd", "anagram", "adam", "lbfgs"] {
        let out = run_dir(optimizer);
        let (code, stderr) = solve(
            &[
                "examples/heat1d.pde",
                "--optimizer",
                optimizer,
                "--iterations",
                "6",
                "--eval-every",
                "3",
                "--quiet",
            ],
            &out,
        );
        assert_eq!(code, 0, "{optimizer}: {stderr}");

        let summary = read_summary(&out);
        for key in SUMMARY_KEYS {
            assert!(
                summary.get(key).is_some(),
                "{optimizer}: summary lacks `{key}`"
            );
        }
        assert_eq!(summary["optimizer"], optimizer);
        assert_eq!(summary["n_params"], 261);
        // The boundary and initial conditions are built into the ansatz: the
        // rows are the 900 interior points.
        assert_eq!(summary["n_points"], 900);
        assert_eq!(summary["iterations"], 6);
        if cfg!(target_os = "linux") {
            // The run held J (N×P f64) at least once.
            let peak = summary["peak_rss_bytes"].as_u64().unwrap();
            assert!(peak >= 900 * 261 * 8, "{optimizer}: {peak}");
        }
        let rel_l2 = summary["rel_l2"]["u"].as_f64().unwrap();
        assert!(rel_l2.is_finite() && rel_l2 > 0.0);
        let natural = ["engd", "sngd", "anagram"].contains(&optimizer);
        assert_eq!(summary["rank"].is_null(), !natural || optimizer == "engd");
        // Four times the training rows, fresh; the loss there fell too.
        let heldout = &summary["heldout"];
        assert_eq!(heldout["points"], 4 * 900, "{optimizer}");
        let (start, end) = (
            heldout["initial_loss"].as_f64().unwrap(),
            heldout["loss"].as_f64().unwrap(),
        );
        assert!(end < start, "{optimizer}: held-out loss {start} -> {end}");

        let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
        let mut lines = history.lines();
        assert_eq!(
            lines.next().unwrap(),
            "iteration,loss,rel_l2_u,heldout_loss,step_size,damping,rank,cg_iterations,jacobian_passes,wall_s"
        );
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        assert_eq!(rows.len(), 6, "{optimizer}");
        // The error and held-out columns are filled exactly at the evaluated iterations;
        // the last held-out loss is the summary's (both at the final parameters).
        for row in &rows {
            let evaluated = row[0] == "3" || row[0] == "6";
            assert_eq!(!row[2].is_empty(), evaluated, "{optimizer}: {row:?}");
            assert_eq!(!row[3].is_empty(), evaluated, "{optimizer}: {row:?}");
            // None of these methods solves by conjugate gradients.
            assert!(row[7].is_empty(), "{optimizer}: {row:?}");
        }
        let last_heldout: f64 = rows[5][3].parse().unwrap();
        assert_eq!(last_heldout, end, "{optimizer}");
        let losses: Vec<f64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
        let final_loss = summary["final_loss"].as_f64().unwrap();
        assert!(
            final_loss < losses[0],
            "{optimizer}: loss {} -> {final_loss}",
            losses[0]
        );
        if natural || optimizer == "lbfgs" {
            // Line-searched methods never accept an increase.
            assert!(
                losses.windows(2).all(|w| w[1] <= w[0]),
                "{optimizer}: {losses:?}"
            );
        }
        for png in ["history.png", "solution_u.png"] {
            let bytes = std::fs::read(out.join(png)).unwrap();
            assert!(
                bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
                "{optimizer}: {png}"
            );
            assert!(bytes.len() > 10_000, "{optimizer}: {png} is nearly empty");
        }
        let csv = std::fs::read_to_string(out.join("solution.csv")).unwrap();
        assert!(csv.starts_with("t,x,u,exact_u,error_u\n"), "{optimizer}");
        assert!(csv.lines().count() > 1000);
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn same_seed_gives_the_same_history() {
    let a = run_dir("seed-a");
    let b = run_dir("seed-b");
    for out in [&a, &b] {
        let (code, stderr) = solve(
            &[
                "examples/heat1d.pde",
                "--optimizer",
                "sngd",
                "--iterations",
                "4",
                "--quiet",
                "--seed",
                "3",
            ],
            out,
        );
        assert_eq!(code, 0, "{stderr}");
    }
    let strip_time = |dir: &Path| -> Vec<String> {
        std::fs::read_to_string(dir.join("history.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(strip_time(&a), strip_time(&b));
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn patience_stops_a_run_as_stalled_once_neither_loss_nor_heldout_loss_improves() {
    let (patience, min_improvement) = (3, 0.5);
    // `--eval-every 0`: no held-out loss, the training loss decides; `1`: both must stall.
    for eval_every in [0, 1] {
        let out = run_dir(&format!("patience{eval_every}"));
        let (code, stderr) = solve(
            &[
                "examples/heat1d.pde",
                "--optimizer",
                "adam",
                "--iterations",
                "60",
                "--patience",
                &patience.to_string(),
                "--min-improvement",
                &min_improvement.to_string(),
                "--eval-every",
                &eval_every.to_string(),
                "--no-plots",
                "--quiet",
            ],
            &out,
        );
        assert_eq!(code, 0, "{stderr}");
        let summary = read_summary(&out);
        let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
        let mut lines = history.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
        let column = |name: &str| {
            let at = header.iter().position(|&h| h == name).unwrap();
            rows.iter()
                .map(|row| row[at].parse::<f64>().ok())
                .collect::<Vec<_>>()
        };
        let losses: Vec<f64> = column("loss").into_iter().map(Option::unwrap).collect();
        let heldout = column("heldout_loss");
        // Recomputed from the history: the first iteration k whose best loss is not
        // below (1 − 0.5)× the best loss at k − patience, and (when measured) likewise
        // for the held-out loss.
        let lowest = |values: &[Option<f64>], n: usize| {
            values[..n]
                .iter()
                .flatten()
                .copied()
                .fold(f64::INFINITY, f64::min)
        };
        let training: Vec<Option<f64>> = losses.iter().copied().map(Some).collect();
        let stalled = |values: &[Option<f64>], k: usize| {
            lowest(values, k) >= (1.0 - min_improvement) * lowest(values, k - patience)
        };
        let expected = (patience + 1..=losses.len())
            .find(|&k| stalled(&training, k) && (eval_every == 0 || stalled(&heldout, k)))
            .expect("the history ends where the rule fires");
        assert_eq!(losses.len(), expected, "eval_every {eval_every}: {history}");
        assert!(expected < 60);
        assert_eq!(summary["stopped_because"], "stalled");
        assert_eq!(summary["iterations"], expected);
        if eval_every == 1 {
            assert!(heldout.iter().all(Option::is_some), "{history}");
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn a_net_that_fits_too_few_points_is_caught_by_the_heldout_loss() {
    // −u'' = π² sin πx with one interior point: the net fits the three training rows to
    // round-off, and the equation between them not at all.
    let dir = run_dir("heldout-files");
    std::fs::create_dir_all(&dir).unwrap();
    let problem = |interior: usize| {
        format!(
            "space x in [0, 1]\nfield u\n-dxx(u) = pi^2*sin(pi*x) on interior\n\
             u = 0 on boundary\nexact u = sin(pi*x)\n\
             model mlp(layers = [20, 20], activation = tanh, constraints = soft)\n\
             sample interior = {interior}, boundary = 2\n\
             solve optimizer = engd, iterations = 40\n"
        )
    };
    // With 12 interior points the net fits them to 1e-13…1e-26 and the equation between
    // them far less well: a held-out loss 10⁷…10¹⁹ times the training loss, yet below
    // 10⁻⁶ of its start, which only the wide gap flags (errors 4.2e-6 and 8.6e-5). With
    // 60 the held-out loss follows the training loss, and the 40 iterations set the
    // error.
    for (interior, flagged) in [(1, true), (12, true), (60, false)] {
        let file = dir.join(format!("poisson_{interior}.pde"));
        std::fs::write(&file, problem(interior)).unwrap();
        for seed in ["0", "1"] {
            let out = run_dir(&format!("heldout-{interior}-{seed}"));
            let (code, stdout, stderr) = solve_verbose(
                &[file.to_str().unwrap(), "--seed", seed, "--no-plots"],
                &out,
            );
            assert_eq!(code, 0, "{stderr}");
            let summary = read_summary(&out);
            let training = summary["final_loss"].as_f64().unwrap();
            let heldout = summary["heldout"]["loss"].as_f64().unwrap();
            let initial = summary["heldout"]["initial_loss"].as_f64().unwrap();
            let error = summary["rel_l2"]["u"].as_f64().unwrap();
            assert_eq!(summary["heldout"]["points"], 4 * (interior + 2));
            assert!(stdout.contains("held-out loss"), "{stdout}");
            let warned = stderr.contains("fits its training points but not the equations");
            assert_eq!(
                warned, flagged,
                "interior {interior}, seed {seed}: {stderr}"
            );
            assert_eq!(summary["sample_limited"], flagged, "interior {interior}");
            if flagged {
                assert!(
                    stderr.contains("the points, not the optimizer, limit the error")
                        && stderr.contains(&format!("{interior} interior points for"))
                        && stderr.contains("fewer than two per parameter")
                        && stderr.contains("adaptive = rad")
                        // The file names its optimizer: no word on the default's switch.
                        && !stderr.contains("default optimizer"),
                    "{stderr}"
                );
            }
            if flagged && interior == 1 {
                // Training loss at round-off, held-out loss where it started, a wrong u.
                assert!(training < 1e-12, "{training}");
                assert!(heldout > 0.1 * initial, "{heldout} vs {initial}");
                assert!(error > 0.1, "{error}");
            } else if flagged {
                // The wide gap, where the narrow one's progress test would pass the run.
                assert!(heldout > 1e4 * training, "{heldout} vs {training}");
                assert!(heldout < 1e-6 * initial, "{heldout} vs {initial}");
                assert!(error > 1e-6 && error < 1e-3, "{error}");
            } else {
                assert!(
                    heldout < 10.0 * training && error < 1e-4,
                    "{heldout} {error}"
                );
            }
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_sample_limited_advice_says_that_adaptive_points_change_the_default_optimizer() {
    // The 12-point Poisson problem above with no `solve optimizer`: SNGD by size fits the
    // points to round-off (training loss 3e-30, held-out loss 2.6e-3 on seed 0). Adding
    // `sample adaptive = rad` would make GN the default, which on allen_cahn_periodic does
    // worse than SNGD (docs/PERFORMANCE.md), so the advice says how to keep SNGD, and
    // only where SNGD was the default's choice.
    let dir = run_dir("heldout-advice");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("poisson_12.pde");
    std::fs::write(
        &file,
        "space x in [0, 1]\nfield u\n-dxx(u) = pi^2*sin(pi*x) on interior\n\
         u = 0 on boundary\nexact u = sin(pi*x)\n\
         model mlp(layers = [20, 20], activation = tanh, constraints = soft)\n\
         sample interior = 12, boundary = 2\nsolve iterations = 40\n",
    )
    .unwrap();
    let keeps = "(`sample adaptive = rad`; it also makes gn the default optimizer, and \
                 `solve optimizer = sngd` keeps sngd)";
    for (named, says) in [(false, true), (true, false)] {
        let out = run_dir(&format!("heldout-advice-{named}"));
        let mut args = vec![file.to_str().unwrap(), "--seed", "0", "--no-plots"];
        if named {
            args.extend(["--optimizer", "sngd"]);
        }
        let (code, _stdout, stderr) = solve_verbose(&args, &out);
        assert_eq!(code, 0, "{stderr}");
        let summary = read_summary(&out);
        assert_eq!(summary["optimizer"], "sngd");
        assert_eq!(summary["sample_limited"], true, "{stderr}");
        assert!(stderr.contains("let them follow the residual"), "{stderr}");
        assert_eq!(stderr.contains(keeps), says, "named {named}: {stderr}");
        let _ = std::fs::remove_dir_all(&out);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn option_for_another_optimizer_is_refused() {
    let out = run_dir("bad-option");
    let (code, stderr) = solve(
        &[
            "examples/heat1d.pde",
            "--optimizer",
            "adam",
            "--sketch",
            "100",
            "--quiet",
        ],
        &out,
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--sketch") && stderr.contains("adam"),
        "{stderr}"
    );
}

#[test]
fn resample_every_k_draws_fresh_points_after_iteration_k() {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/heat1d.pde"))
            .unwrap();
    let dir = run_dir("resample-files");
    std::fs::create_dir_all(&dir).unwrap();
    let fixed = dir.join("fixed.pde");
    let resampled = dir.join("resampled.pde");
    std::fs::write(&fixed, &source).unwrap();
    std::fs::write(&resampled, format!("{source}\nsample resample = every 2\n")).unwrap();
    let losses = |file: &Path, name: &str| -> Vec<String> {
        let out = run_dir(name);
        let (code, stderr) = solve(
            &[
                file.to_str().unwrap(),
                "--optimizer",
                "engd",
                "--iterations",
                "4",
                "--quiet",
                "--no-plots",
            ],
            &out,
        );
        assert_eq!(code, 0, "{stderr}");
        let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
        let _ = std::fs::remove_dir_all(&out);
        history
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().to_string())
            .collect()
    };
    let a = losses(&fixed, "resample-a");
    let b = losses(&resampled, "resample-b");
    // Same points for iterations 1 and 2; fresh points from iteration 3 on.
    assert_eq!(a[..2], b[..2]);
    assert_ne!(a[2], b[2]);
    assert_ne!(a[3], b[3]);
    let _ = std::fs::remove_dir_all(&dir);
}
