//! `pdec bench`: every run is a real `pdec solve`, and the tables agree with the runs'
//! own summaries.

mod common;

use common::{code_and_text, output_of, pdec_command, scratch};

fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let at = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{name}"));
    &row[at]
}

/// `pdec bench examples/heat1d.pde` at one thread into `out`, with `extra` arguments.
fn bench_heat1d(
    out: &std::path::Path,
    seeds: &str,
    iterations: &str,
    eval_every: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let mut args = vec![
        "bench",
        "examples/heat1d.pde",
        "--seeds",
        seeds,
        "--threads",
        "1",
        "--iterations",
        iterations,
        "--eval-every",
        eval_every,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    code_and_text(&output_of(&mut pdec_command(args)))
}

#[test]
fn bench_tabulates_medians_and_worst_cases_of_real_runs() {
    let out = scratch("bench_cli", "heat");
    let (code, stdout, stderr) = bench_heat1d(&out, "0-2", "15", "5", &["--threshold", "0.5"]);
    assert_eq!(code, 0, "{stderr}");
    let (header, runs) = read_csv(&out.join("runs.csv"));
    assert_eq!(runs.len(), 3, "one row per seed");
    let mut errors = Vec::new();
    for (seed, run) in runs.iter().enumerate() {
        assert_eq!(cell(&header, run, "seed"), seed.to_string());
        assert_eq!(cell(&header, run, "iterations"), "15");
        // The error is the run's own summary.json error (one field, u).
        let dir = out.join("runs").join(format!("heat1d-default-s{seed}-t1"));
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        let error: f64 = cell(&header, run, "error").parse().unwrap();
        assert_eq!(error, summary["rel_l2"]["u"].as_f64().unwrap());
        errors.push(error);
    }
    errors.sort_by(f64::total_cmp);
    let (header, groups) = read_csv(&out.join("summary.csv"));
    assert_eq!(groups.len(), 1);
    let group = &groups[0];
    assert_eq!(
        cell(&header, group, "median_error").parse::<f64>().unwrap(),
        errors[1]
    );
    assert_eq!(
        cell(&header, group, "worst_error").parse::<f64>().unwrap(),
        errors[2]
    );
    let successes = errors.iter().filter(|&&e| e <= 0.5).count();
    assert_eq!(cell(&header, group, "successes"), successes.to_string());
    assert_eq!(cell(&header, group, "runs"), "3");
    // Peak memory (the largest of the runs, from their summary.json) is a real reading.
    let peak: f64 = cell(&header, group, "peak_mb").parse().unwrap();
    assert!(peak > 1.0 && peak < 1e5, "peak {peak} MB");
    // One size only: no scaling figure.
    assert!(!out.join("cost.png").exists());
    let table = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert_eq!(stdout, table, "the markdown table is printed too");
    assert!(table.contains(&format!("| {successes}/3 |")), "{table}");

    // --reuse keeps the finished runs with the same arguments and solves the rest: seed 1
    // lost its summary (an interrupted run) and seed 3 is new.
    let runs_csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    std::fs::remove_file(out.join("runs/heat1d-default-s1-t1/summary.json")).unwrap();
    let rerun = |seeds: &str, iterations: &str| {
        bench_heat1d(
            &out,
            seeds,
            iterations,
            "5",
            &["--threshold", "0.5", "--reuse"],
        )
    };
    let (code, _, stderr) = rerun("0-3", "15");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("heat1d-default-s0-t1 (reused)"), "{stderr}");
    assert!(stderr.contains("heat1d-default-s2-t1 (reused)"), "{stderr}");
    assert!(!stderr.contains("s1-t1 (reused)"), "{stderr}");
    assert!(!stderr.contains("s3-t1 (reused)"), "{stderr}");
    let (_, rows) = read_csv(&out.join("runs.csv"));
    assert_eq!(rows.len(), 4);
    // Reused or solved again (seed 1; runs are deterministic), seeds 0–2 have the errors
    // of the first benchmark.
    let mut reader = csv::Reader::from_reader(runs_csv.as_bytes());
    let old_header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let old_rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(old_rows.len(), 3);
    for (seed, old) in old_rows.iter().enumerate() {
        assert_eq!(
            cell(&old_header, old, "error"),
            cell(&old_header, &rows[seed], "error"),
            "seed {seed}"
        );
    }
    // Different arguments are not reused.
    let (code, _, stderr) = rerun("0", "10");
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("(reused)"), "{stderr}");
    assert!(!stderr.contains("(resumed"), "{stderr}");
    let (header, rows) = read_csv(&out.join("runs.csv"));
    assert_eq!(cell(&header, &rows[0], "iterations"), "10");
    let _ = std::fs::remove_dir_all(&out);
}

/// `history.csv` of a run folder without its clock column.
fn history_without_clock(dir: &std::path::Path) -> Vec<Vec<String>> {
    let (header, rows) = read_csv(&dir.join("history.csv"));
    let clock = header.iter().position(|h| h == "wall_s").unwrap();
    rows.into_iter()
        .map(|mut row| {
            row.remove(clock);
            row
        })
        .collect()
}

#[test]
fn bench_continues_an_interrupted_run_from_its_checkpoint() {
    let bench = |out: &std::path::Path| bench_heat1d(out, "0", "12", "4", &["--reuse"]);
    let whole = scratch("bench_cli", "whole");
    let (code, _, stderr) = bench(&whole);
    assert_eq!(code, 0, "{stderr}");
    let run = std::path::Path::new("runs/heat1d-default-s0-t1");

    // The same run as left by a process killed after iteration 7: the arguments it was
    // started with, the checkpoint written then in its folder, and nothing else.
    let parts = scratch("bench_cli", "parts");
    let folder = parts.join(run);
    let (code, _, stderr) = code_and_text(&output_of(&mut pdec_command([
        "solve",
        "examples/heat1d.pde",
        "--seed",
        "0",
        "--threads",
        "1",
        "--eval-every",
        "4",
        "--iterations",
        "7",
        "--no-plots",
        "--quiet",
        "--out",
        folder.to_str().unwrap(),
    ])));
    assert_eq!(code, 0, "{stderr}");
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "checkpoint.json" {
            std::fs::remove_file(path).unwrap();
        }
    }
    // (The arguments name the run folder.)
    let started = "bench_started.txt";
    let args = std::fs::read_to_string(whole.join(run).join(started)).unwrap();
    let args = args.replace(whole.to_str().unwrap(), parts.to_str().unwrap());
    std::fs::write(folder.join(started), args).unwrap();
    let (code, _, stderr) = bench(&parts);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("heat1d-default-s0-t1 (resumed after iteration 7)"),
        "{stderr}"
    );
    // The table and the history are the uninterrupted run's.
    let (header, a) = read_csv(&whole.join("runs.csv"));
    let (_, b) = read_csv(&parts.join("runs.csv"));
    for key in [
        "problem",
        "iterations",
        "error",
        "final_loss",
        "stopped_because",
    ] {
        assert_eq!(
            cell(&header, &a[0], key),
            cell(&header, &b[0], key),
            "{key}"
        );
    }
    assert_eq!(
        history_without_clock(&parts.join(run)),
        history_without_clock(&whole.join(run))
    );
    let summary = |dir: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(run).join("summary.json")).unwrap())
            .unwrap()
    };
    assert_eq!(summary(&parts)["problem"], "examples/heat1d.pde");
    assert_eq!(summary(&whole)["problem"], "examples/heat1d.pde");
    // Finished now: a further --reuse keeps it.
    let (code, _, stderr) = bench(&parts);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("heat1d-default-s0-t1 (reused)"), "{stderr}");
    for d in [whole, parts] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn bench_runs_a_problem_again_after_an_edit_that_changes_it() {
    let out = scratch("bench_cli", "edited");
    let file = out.join("heat.pde");
    let source = std::fs::read_to_string("examples/heat1d.pde").unwrap();
    std::fs::write(&file, &source).unwrap();
    let bench = || {
        code_and_text(&output_of(&mut pdec_command([
            "bench",
            file.to_str().unwrap(),
            "--seeds",
            "0",
            "--threads",
            "1",
            "--iterations",
            "6",
            "--eval-every",
            "3",
            "--reuse",
            "--out",
            out.to_str().unwrap(),
        ])))
    };
    let row = || {
        let (header, rows) = read_csv(&out.join("runs.csv"));
        assert_eq!(rows.len(), 1);
        let get = |key| cell(&header, &rows[0], key).to_string();
        (get("optimizer"), get("error"))
    };
    let (code, _, stderr) = bench();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(row().0, "sngd");
    let run = out.join("runs/heat-default-s0-t1");

    // A comment changes nothing that is solved: the run is kept.
    std::fs::write(&file, format!("# the heat equation\n{source}")).unwrap();
    let (code, _, stderr) = bench();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("heat-default-s0-t1 (reused)"), "{stderr}");

    // Another optimizer in the `solve` block (the digest leaves it out): solved again.
    let engd = source.replace(
        "solve  iterations = 1000",
        "solve  iterations = 1000, optimizer = engd",
    );
    assert_ne!(engd, source);
    std::fs::write(&file, &engd).unwrap();
    let (code, _, stderr) = bench();
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("(reused)"), "{stderr}");
    let (optimizer, error) = row();
    assert_eq!(optimizer, "engd");

    // Another coefficient, the run looking interrupted (its checkpoint is of the old
    // problem, which `pdec solve --resume` refuses): started again, not resumed.
    let kappa = engd.replace("const kappa = 0.25", "const kappa = 0.3");
    assert_ne!(kappa, engd);
    std::fs::write(&file, &kappa).unwrap();
    std::fs::remove_file(run.join("bench_args.txt")).unwrap();
    assert!(run.join("checkpoint.json").exists());
    let (code, _, stderr) = bench();
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("(reused)"), "{stderr}");
    assert!(!stderr.contains("(resumed"), "{stderr}");
    let (optimizer, new_error) = row();
    assert_eq!(optimizer, "engd");
    assert!(!new_error.is_empty() && new_error != error, "{new_error}");
    // Unchanged since: kept.
    let (code, _, stderr) = bench();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("heat-default-s0-t1 (reused)"), "{stderr}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bench_with_jobs_runs_side_by_side_and_tabulates_as_one_at_a_time() {
    let one = scratch("bench_cli", "jobs1");
    let two = scratch("bench_cli", "jobs2");
    let (code, _, stderr) = bench_heat1d(&one, "0-3", "12", "4", &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = bench_heat1d(&two, "0-3", "12", "4", &["--jobs", "2"]);
    assert_eq!(code, 0, "{stderr}");
    // The same rows, in the table's order (runs are deterministic per thread count).
    let (header, a) = read_csv(&one.join("runs.csv"));
    let (_, b) = read_csv(&two.join("runs.csv"));
    assert_eq!(a.len(), 4);
    assert_eq!(b.len(), 4);
    for (seed, (a, b)) in a.iter().zip(&b).enumerate() {
        assert_eq!(cell(&header, b, "seed"), seed.to_string());
        for key in ["iterations", "error", "final_loss", "stopped_because"] {
            assert_eq!(cell(&header, a, key), cell(&header, b, key), "{key}");
        }
    }
    assert_eq!(
        stdout,
        std::fs::read_to_string(two.join("summary.md")).unwrap()
    );
    // Side by side: seed 1 started before seed 0 finished (one at a time, after).
    let modified = |dir: &std::path::Path, seed: u32, file: &str| {
        let path = dir.join(format!("runs/heat1d-default-s{seed}-t1/{file}"));
        std::fs::metadata(path).unwrap().modified().unwrap()
    };
    assert!(modified(&two, 1, "bench_started.txt") < modified(&two, 0, "summary.json"));
    assert!(modified(&one, 1, "bench_started.txt") > modified(&one, 0, "summary.json"));
    // Zero jobs is refused, as zero threads are.
    let (code, _, stderr) = bench_heat1d(&two, "0", "12", "4", &["--jobs", "0"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--jobs"), "{stderr}");
    for d in [one, two] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn bench_over_two_sizes_draws_the_cost_figure() {
    let out = scratch("bench_cli", "cost");
    let (code, _, stderr) = code_and_text(&output_of(&mut pdec_command([
        "bench",
        "examples/heat1d.pde",
        "examples/poisson2d.pde",
        "--optimizer",
        "sngd",
        "--seeds",
        "0",
        "--threads",
        "1",
        "--iterations",
        "3",
        "--out",
        out.to_str().unwrap(),
    ])));
    assert_eq!(code, 0, "{stderr}");
    let (header, groups) = read_csv(&out.join("summary.csv"));
    let sizes: Vec<u64> = groups
        .iter()
        .map(|g| {
            let n: u64 = cell(&header, g, "n_points").parse().unwrap();
            let p: u64 = cell(&header, g, "n_params").parse().unwrap();
            n * p
        })
        .collect();
    assert_eq!(sizes.len(), 2);
    assert_ne!(sizes[0], sizes[1]);
    let png = std::fs::read(out.join("cost.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(png.len() > 5_000, "{} bytes", png.len());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bench_refuses_a_bad_seed_range_and_reports_a_failing_solve() {
    let (code, _, stderr) = code_and_text(&output_of(&mut pdec_command([
        "bench",
        "examples/heat1d.pde",
        "--seeds",
        "4-1",
    ])));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("expected a range"), "{stderr}");
    let out = scratch("bench_cli", "missing");
    let (code, _, stderr) = code_and_text(&output_of(&mut pdec_command([
        "bench",
        "no/such/file.pde",
        "--seeds",
        "0",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
    ])));
    assert_ne!(code, 0);
    assert!(stderr.contains("pdec solve` failed"), "{stderr}");
    let _ = std::fs::remove_dir_all(&out);
    // A failing run does not stop the series: the run after it is made and tabulated,
    // and the failed one is a row without an error.
    let out = scratch("bench_cli", "one_fails");
    let (code, _, stderr) = code_and_text(&output_of(&mut pdec_command([
        "bench",
        "no/such/file.pde",
        "examples/heat1d.pde",
        "--seeds",
        "0",
        "--threads",
        "1",
        "--iterations",
        "3",
        "--out",
        out.to_str().unwrap(),
    ])));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("1 of 2 runs failed"), "{stderr}");
    let (header, runs) = read_csv(&out.join("runs.csv"));
    assert_eq!(runs.len(), 2);
    assert!(cell(&header, &runs[0], "stopped_because").starts_with("failed"));
    assert_eq!(cell(&header, &runs[0], "error"), "");
    assert_eq!(cell(&header, &runs[1], "iterations"), "3");
    assert!(cell(&header, &runs[1], "error").parse::<f64>().is_ok());
    let _ = std::fs::remove_dir_all(&out);
}
