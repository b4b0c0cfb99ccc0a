//! Checkpoints, `--resume`, Ctrl-C, determinism, `pdec eval`, `pdec plot` and the
//! failures that must exit 2 without half-written files, end to end on heat1d.

mod common;

use common::{output_of, pdec_command};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const HEAT: &str = "examples/heat1d.pde";

fn scratch(name: &str) -> PathBuf {
    common::scratch("runstate", name)
}

fn pdec(args: &[&str]) -> Output {
    output_of(&mut pdec_command(args))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn solve(file: &str, out: &Path, extra: &[&str]) -> Output {
    let out = out.to_str().unwrap();
    let mut args = vec!["solve", file, "--out", out, "--quiet", "--no-plots"];
    args.extend_from_slice(extra);
    pdec(&args)
}

/// history.csv rows without the `wall_s` column (a clock).
fn history_without_clock(dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let clock = header.iter().position(|h| h == "wall_s").unwrap();
    reader
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != clock)
                .map(|(_, c)| c.to_string())
                .collect()
        })
        .collect()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The final parameters saved in a run folder's checkpoint, as stored (exact strings).
fn saved_theta(dir: &Path) -> serde_json::Value {
    json(&dir.join("checkpoint.json"))["state"]["theta"].clone()
}

/// heat1d.pde with `line` appended, written as `dir/name`.
fn heat_with(dir: &Path, name: &str, line: &str) -> PathBuf {
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(HEAT)).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, format!("{source}\n{line}\n")).unwrap();
    file
}

fn assert_resume_matches(file: &str, optimizer: &[&str], name: &str) {
    let whole = scratch(&format!("{name}-whole"));
    let parts = scratch(&format!("{name}-parts"));
    let common = ["--eval-every", "2", "--checkpoint-every", "0"];
    let mut args = optimizer.to_vec();
    args.extend_from_slice(&common);
    let mut first = args.clone();
    first.extend_from_slice(&["--iterations", "6"]);
    let out = solve(file, &whole, &first);
    assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));

    let mut stopped = args.clone();
    stopped.extend_from_slice(&["--iterations", "3"]);
    let out = solve(file, &parts, &stopped);
    assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    assert_eq!(history_without_clock(&parts).len(), 3);
    let first_rows = std::fs::read_to_string(parts.join("history.csv")).unwrap();
    let resumed = pdec(&[
        "solve",
        "--resume",
        parts.to_str().unwrap(),
        "--iterations",
        "6",
        "--quiet",
        "--no-plots",
    ]);
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{name}: {}",
        stderr(&resumed)
    );

    // The resumed run continued the stopped one (its first rows, clock included, are
    // those of the stopped run) rather than starting again.
    let all_rows = std::fs::read_to_string(parts.join("history.csv")).unwrap();
    assert!(
        all_rows.starts_with(&first_rows),
        "{name}: earlier rows rewritten"
    );
    let expected = history_without_clock(&whole);
    assert_eq!(expected.len(), 6);
    assert_eq!(
        history_without_clock(&parts),
        expected,
        "{name}: history differs"
    );
    assert_eq!(
        saved_theta(&parts),
        saved_theta(&whole),
        "{name}: final θ differs"
    );
    let (a, b) = (
        json(&whole.join("summary.json")),
        json(&parts.join("summary.json")),
    );
    for key in [
        "iterations",
        "result_iteration",
        "final_loss",
        "rel_l2",
        "max_abs_err",
        "rank",
        "stopped_because",
        "heldout",
    ] {
        assert_eq!(a[key], b[key], "{name}: summary `{key}` differs");
    }
    let _ = std::fs::remove_dir_all(whole);
    let _ = std::fs::remove_dir_all(parts);
}

#[test]
fn resumed_sngd_run_repeats_the_uninterrupted_history() {
    // The sketch RNG and the adapted sketch size are carried over.
    assert_resume_matches(HEAT, &["--optimizer", "sngd", "--sketch", "40"], "sngd");
}

#[test]
fn resumed_engd_momentum_run_repeats_the_uninterrupted_history() {
    // Damping and the momentum vector are carried over.
    assert_resume_matches(HEAT, &["--optimizer", "engd", "--momentum", "0.5"], "engd");
}

#[test]
fn resumed_adam_and_lbfgs_runs_repeat_the_uninterrupted_history() {
    assert_resume_matches(HEAT, &["--optimizer", "adam", "--lr", "0.01"], "adam");
    assert_resume_matches(HEAT, &["--optimizer", "lbfgs"], "lbfgs");
}

#[test]
fn resumed_run_with_resampling_draws_the_same_points() {
    // Points are redrawn after iteration 3, the iteration the first part stops at: the
    // checkpoint must carry the seed of the points the next iteration uses.
    let dir = scratch("resample");
    let file = heat_with(&dir, "heat_resampled.pde", "sample resample = every 3");
    assert_resume_matches(file.to_str().unwrap(), &["--optimizer", "engd"], "resample");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_run_with_added_points_grows_to_its_limit_and_resumes_with_them() {
    // RAR-D refines after iterations 3 and 6, adding a fifth of heat1d's 900 interior
    // points each time. The first part stops at 3, with that refinement drawn but not
    // yet used: the checkpoint carries it, and the resumed run must use it.
    let dir = scratch("rar");
    let file = heat_with(
        &dir,
        "heat_rar.pde",
        "sample adaptive = rar(2, 0, 0.2, 2) every 3",
    );
    let file = file.to_str().unwrap();
    assert_resume_matches(file, &["--optimizer", "engd"], "rar");

    let (grown, plain) = (scratch("rar-run"), scratch("rar-plain"));
    let args = ["--optimizer", "engd", "--iterations", "5"];
    assert_eq!(solve(file, &grown, &args).status.code(), Some(0));
    assert_eq!(solve(HEAT, &plain, &args).status.code(), Some(0));
    let (a, b) = (history_without_clock(&grown), history_without_clock(&plain));
    assert_eq!(a[..3], b[..3], "the first points are the sampler's");
    assert_ne!(a[3], b[3], "the added points change the loss");
    assert_eq!(json(&grown.join("summary.json"))["n_points"], 900 + 180);
    assert_eq!(json(&plain.join("summary.json"))["n_points"], 900);
    let added = &json(&grown.join("checkpoint.json"))["state"]["points_added"]["blocks"];
    assert_eq!(added[0]["n"], 180);
    assert_eq!(added[0]["points"].as_array().unwrap().len(), 2 * 180);

    // Half the count at every iteration: 450 after 1 and after 2, then the limit of
    // twice the count holds it at 1,800.
    let limited = heat_with(
        &dir,
        "heat_rar_limit.pde",
        "sample adaptive = rar(2, 0, 0.5, 2) every 1",
    );
    let out = scratch("rar-limit");
    let args = ["--optimizer", "engd", "--iterations", "4"];
    assert_eq!(
        solve(limited.to_str().unwrap(), &out, &args).status.code(),
        Some(0)
    );
    assert_eq!(json(&out.join("summary.json"))["n_points"], 1800);
    let added = &json(&out.join("checkpoint.json"))["state"]["points_added"]["blocks"];
    assert_eq!(added[0]["n"], 900);
    for d in [dir, grown, plain, out] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn resumed_run_with_adaptive_points_draws_the_same_points() {
    // RAD redraws after iterations 2 and 4 (the first part stops at 3, between them): the
    // checkpoint carries the parameters the points were drawn at, and the redraw is
    // repeated from them. The points differ from the sampler's (the run would otherwise
    // equal one without `adaptive`).
    let dir = scratch("adaptive");
    let file = heat_with(
        &dir,
        "heat_adaptive.pde",
        "sample adaptive = rad(2, 0.5) every 2",
    );
    assert_resume_matches(file.to_str().unwrap(), &["--optimizer", "engd"], "adaptive");
    let (adaptive, plain) = (scratch("adaptive-run"), scratch("adaptive-plain"));
    let args = ["--optimizer", "engd", "--iterations", "4"];
    assert_eq!(
        solve(file.to_str().unwrap(), &adaptive, &args)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(solve(HEAT, &plain, &args).status.code(), Some(0));
    let (a, b) = (
        history_without_clock(&adaptive),
        history_without_clock(&plain),
    );
    assert_eq!(a[..2], b[..2], "the first points are the sampler's");
    assert_ne!(a[2], b[2], "the redrawn points change the loss");
    let saved = json(&adaptive.join("checkpoint.json"));
    assert!(saved["state"]["points_adapted_at"].is_array());
    assert!(json(&plain.join("checkpoint.json"))["state"]
        .get("points_adapted_at")
        .is_none());
    for d in [dir, adaptive, plain] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_checkpoint_of_another_problem_is_refused() {
    let dir = scratch("other-problem");
    let out = solve(
        HEAT,
        &dir.join("run"),
        &["--iterations", "1", "--optimizer", "adam"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(HEAT))
        .unwrap()
        .replace("kappa = 0.25", "kappa = 0.5");
    let other = dir.join("other.pde");
    std::fs::write(&other, source).unwrap();
    let before = std::fs::read(dir.join("run/checkpoint.json")).unwrap();
    let refused = pdec(&[
        "solve",
        other.to_str().unwrap(),
        "--resume",
        dir.join("run").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("another problem"), "{message}");
    assert!(
        message.contains(HEAT) && message.contains("other.pde"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    assert_eq!(
        std::fs::read(dir.join("run/checkpoint.json")).unwrap(),
        before
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn same_file_seed_and_threads_give_the_same_history() {
    let (a, b) = (scratch("determinism-a"), scratch("determinism-b"));
    for dir in [&a, &b] {
        let out = solve(
            HEAT,
            dir,
            &[
                "--optimizer",
                "sngd",
                "--iterations",
                "5",
                "--threads",
                "2",
                "--seed",
                "4",
                "--eval-every",
                "1",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let history = history_without_clock(&a);
    assert_eq!(history.len(), 5);
    assert_eq!(history, history_without_clock(&b));
    assert_eq!(saved_theta(&a), saved_theta(&b));
    let _ = std::fs::remove_dir_all(a);
    let _ = std::fs::remove_dir_all(b);
}

#[test]
fn ctrl_c_stops_after_the_iteration_with_every_file_written_and_resumes() {
    let dir = scratch("ctrl-c");
    let child = pdec_command(["solve", HEAT, "--out", dir.to_str().unwrap(), "--quiet"])
        .args([
            "--optimizer",
            "adam",
            "--iterations",
            "1000000",
            "--checkpoint-every",
            "1",
        ])
        .args(["--grid", "20"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("pdec starts");
    // Iterations are under way once the first checkpoint exists.
    let started = Instant::now();
    while !dir.join("checkpoint.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    for file in [
        "summary.json",
        "history.csv",
        "checkpoint.json",
        "history.png",
        "solution.csv",
    ] {
        assert!(dir.join(file).exists(), "{file} missing after Ctrl-C");
    }
    let summary = json(&dir.join("summary.json"));
    assert_eq!(summary["stopped_because"], "interrupted");
    let done = summary["iterations"].as_u64().unwrap();
    assert!((1..1_000_000).contains(&done));
    assert_eq!(history_without_clock(&dir).len() as u64, done);
    assert_eq!(json(&dir.join("checkpoint.json"))["iteration"], done);

    let stopped_rows = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    let target = (done + 2).to_string();
    let resumed = pdec(&[
        "solve",
        "--resume",
        dir.to_str().unwrap(),
        "--iterations",
        &target,
        "--quiet",
        "--no-plots",
    ]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let summary = json(&dir.join("summary.json"));
    assert_eq!(summary["iterations"].as_u64(), Some(done + 2));
    assert_eq!(summary["stopped_because"], "max_iterations");
    let rows = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    assert!(
        rows.starts_with(&stopped_rows),
        "the resumed run started over"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn read_table(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(|c| c.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

#[test]
fn eval_writes_fields_and_derivatives_that_match_finite_differences() {
    let dir = scratch("eval");
    let run = dir.join("run");
    let out = solve(HEAT, &run, &["--optimizer", "engd", "--iterations", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Columns in another order than declared (t, x); stencils around three centres.
    let (hx, ht, h2) = (1e-4, 1e-4, 1e-3);
    let mut text = "x,t\n".to_string();
    for (x, t) in [(0.3, 0.2), (0.55, 0.7), (0.8, 0.45)] {
        for (dx, dt) in [
            (0.0, 0.0),
            (hx, 0.0),
            (-hx, 0.0),
            (0.0, ht),
            (0.0, -ht),
            (h2, 0.0),
            (-h2, 0.0),
        ] {
            text.push_str(&format!("{},{}\n", x + dx, t + dt));
        }
    }
    let at = dir.join("points.csv");
    std::fs::write(&at, text).unwrap();
    let table = dir.join("values.csv");
    let run_s = run.to_str().unwrap();
    let at_s = at.to_str().unwrap();
    let output = pdec(&[
        "eval",
        run_s,
        "--at",
        at_s,
        "--jet",
        "dx(u)",
        "--jet",
        "dxx(u)",
        "--jet",
        "dt(u)",
        "--jet",
        "dt(u) - kappa*dxx(u)",
        "--out",
        table.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (header, rows) = read_table(&std::fs::read_to_string(&table).unwrap());
    assert_eq!(
        header,
        [
            "t",
            "x",
            "u",
            "dx(u)",
            "dxx(u)",
            "dt(u)",
            "dt(u) - kappa*dxx(u)"
        ]
    );
    assert_eq!(rows.len(), 21);
    for centre in rows.chunks(7) {
        let u = |i: usize| centre[i][2];
        assert_eq!((centre[0][0], centre[0][1]), (centre[0][0], centre[0][1]));
        let (dx, dxx, dt, pde) = (centre[0][3], centre[0][4], centre[0][5], centre[0][6]);
        let fd_dx = (u(1) - u(2)) / (2.0 * hx);
        let fd_dt = (u(3) - u(4)) / (2.0 * ht);
        let fd_dxx = (u(5) - 2.0 * u(0) + u(6)) / (h2 * h2);
        assert!(
            (dx - fd_dx).abs() <= 1e-6 * (1.0 + dx.abs()),
            "dx {dx} vs {fd_dx}"
        );
        assert!(
            (dt - fd_dt).abs() <= 1e-6 * (1.0 + dt.abs()),
            "dt {dt} vs {fd_dt}"
        );
        assert!(
            (dxx - fd_dxx).abs() <= 1e-3 * (1.0 + dxx.abs()),
            "dxx {dxx} vs {fd_dxx}"
        );
        assert!((pde - (dt - 0.25 * dxx)).abs() <= 1e-12 * (1.0 + pde.abs()));
    }
    // Without --out the table goes to stdout.
    let output = pdec(&["eval", run_s, "--at", at_s]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (header, rows) = read_table(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(header, ["t", "x", "u"]);
    assert_eq!(rows.len(), 21);
    // An expression the front end rejects is a one-line error.
    let output = pdec(&["eval", run_s, "--at", at_s, "--jet", "dy(u)"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("dy(u)"), "{}", stderr(&output));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_at_files_exit_2_naming_the_file_and_write_nothing() {
    let dir = scratch("bad-at");
    let run = dir.join("run");
    let out = solve(HEAT, &run, &["--optimizer", "adam", "--iterations", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let cases = [
        ("missing-column.csv", "x\n0.5\n", "no column `t`"),
        ("not-a-number.csv", "x,t\n0.5,abc\n", "not a number"),
        ("empty.csv", "", "empty"),
        ("header-only.csv", "x,t\n", "no points"),
        ("short-row.csv", "x,t\n0.5,0.1\n0.2\n", "line 3"),
        ("extra-column.csv", "x,t,y\n0.5,0.1,3\n", "`y`"),
    ];
    for (name, text, expected) in cases {
        let at = dir.join(name);
        std::fs::write(&at, text).unwrap();
        let target = dir.join(format!("{name}.out"));
        let output = pdec(&[
            "eval",
            run.to_str().unwrap(),
            "--at",
            at.to_str().unwrap(),
            "--out",
            target.to_str().unwrap(),
        ]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {message}");
        assert!(message.contains(name), "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
        assert_eq!(message.lines().count(), 1, "{name}: {message}");
        assert!(!target.exists(), "{name}: output written");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn missing_or_garbled_checkpoints_exit_2_naming_the_file() {
    let dir = scratch("bad-checkpoint");
    let at = dir.join("p.csv");
    std::fs::write(&at, "x,t\n0.5,0.5\n").unwrap();
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let garbled = dir.join("garbled");
    std::fs::create_dir_all(&garbled).unwrap();
    std::fs::write(
        garbled.join("checkpoint.json"),
        "{\"format\": \"pdec-checkpoint\", ",
    )
    .unwrap();
    for run in [&empty, &garbled] {
        let run_s = run.to_str().unwrap();
        for args in [
            vec!["eval", run_s, "--at", at.to_str().unwrap()],
            vec!["plot", run_s],
            vec!["solve", "--resume", run_s, "--quiet"],
        ] {
            let output = pdec(&args);
            let message = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
            assert!(message.contains("checkpoint.json"), "{args:?}: {message}");
            assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_problem_file_is_found_from_the_run_folder_and_asked_for_when_gone() {
    // `pdec solve` is given `examples/heat1d.pde` relative to the crate root; from the run
    // folder that path does not resolve, the one the checkpoint keeps beside it does.
    let dir = scratch("elsewhere");
    let run = dir.join("run");
    let out = solve(HEAT, &run, &["--optimizer", "adam", "--iterations", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let at = dir.join("p.csv");
    std::fs::write(&at, "x,t\n0.5,0.5\n0.25,0.75\n").unwrap();
    let at_s = at.to_str().unwrap();
    let from = |folder: &Path, args: &[&str]| {
        output_of(
            Command::new(env!("CARGO_BIN_EXE_pdec"))
                .args(args)
                .current_dir(folder),
        )
    };
    let there = pdec(&["eval", run.to_str().unwrap(), "--at", at_s]);
    assert_eq!(there.status.code(), Some(0), "{}", stderr(&there));
    let here = from(&run, &["eval", ".", "--at", at_s]);
    assert_eq!(here.status.code(), Some(0), "{}", stderr(&here));
    assert_eq!(here.stdout, there.stdout);
    for args in [
        vec!["plot", "."],
        vec![
            "solve",
            "--resume",
            ".",
            "--quiet",
            "--no-plots",
            "--iterations",
            "2",
        ],
    ] {
        let output = from(&run, &args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(history_without_clock(&run).len(), 2);

    // A run folder moved together with its problem file still finds it, though the path
    // `pdec solve` was given (absolute here) is gone.
    let tree = scratch("moved-from");
    let file = tree.join("problems").join("heat.pde");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::copy(HEAT, &file).unwrap();
    let out = solve(
        file.to_str().unwrap(),
        &tree.join("runs").join("r"),
        &["--optimizer", "adam", "--iterations", "1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let moved = scratch("moved-to");
    let _ = std::fs::remove_dir_all(&moved);
    std::fs::rename(&tree, &moved).unwrap();
    let moved_run = moved.join("runs").join("r");
    let found = pdec(&["eval", moved_run.to_str().unwrap(), "--at", at_s]);
    assert_eq!(found.status.code(), Some(0), "{}", stderr(&found));
    assert_eq!(
        found.stdout, there.stdout,
        "the same problem, seed and step"
    );

    // With the file gone from both places, each command says which file and how to give it.
    std::fs::remove_file(moved.join("problems").join("heat.pde")).unwrap();
    for (args, how) in [
        (vec!["eval", ".", "--at", at_s], "`--problem FILE`"),
        (vec!["plot", "."], "`--problem FILE`"),
        (
            vec!["solve", "--resume", ".", "--quiet", "--iterations", "2"],
            "`pdec solve --resume RUN_DIR FILE`",
        ),
    ] {
        let output = from(&moved_run, &args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(
            message.contains(&format!("`{}`", file.display())),
            "{args:?}: {message}"
        );
        assert!(
            message.contains("`../../problems/heat.pde`"),
            "{args:?}: {message}"
        );
        assert!(message.contains("checkpoint.json"), "{args:?}: {message}");
        assert!(message.contains(how), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
    }
    // Named, the file is read from where it is now.
    let heat = Path::new(env!("CARGO_MANIFEST_DIR")).join(HEAT);
    let named = from(
        &moved_run,
        &[
            "eval",
            ".",
            "--at",
            at_s,
            "--problem",
            heat.to_str().unwrap(),
        ],
    );
    assert_eq!(named.status.code(), Some(0), "{}", stderr(&named));
    assert_eq!(named.stdout, there.stdout);
    for d in [dir, moved] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn an_unwritable_run_folder_fails_before_the_solve() {
    let dir = scratch("unwritable");
    let file = dir.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let started = Instant::now();
    let output = solve(
        HEAT,
        &file.join("run"),
        &["--iterations", "100000", "--optimizer", "engd"],
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("plain-file"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    // It did not solve first: 100000 ENGD iterations take far longer.
    assert!(started.elapsed() < Duration::from_secs(20));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn plot_redraws_the_figures_from_the_checkpoint() {
    let dir = scratch("plot");
    let out = solve(HEAT, &dir, &["--optimizer", "adam", "--iterations", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!dir.join("history.png").exists());
    let output = pdec(&["plot", dir.to_str().unwrap(), "--grid", "20"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for file in ["history.png", "solution_u.png"] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{file} is not a PNG"
        );
        assert!(bytes.len() > 2000, "{file} is nearly empty");
    }
    let solution = std::fs::read_to_string(dir.join("solution.csv")).unwrap();
    assert!(solution.lines().count() > 100);
    let _ = std::fs::remove_dir_all(dir);
}
