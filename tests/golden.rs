//! Golden trajectories: the per-iteration history of short runs of every optimizer,
//! pinned bit for bit. A change that only moves code must leave every number of these
//! runs as it was; a change that means to alter a trajectory re-records them on purpose
//! (`INSTA_UPDATE=always cargo test --test golden`) and says so in its commit.
//!
//! The runs use one thread, so the reductions happen in one fixed order. The numbers
//! depend on the SIMD kernels faer picks for the processor (AVX2 or AVX-512): on a
//! machine of another kind the snapshots may differ in the last digits and are
//! re-recorded there.

mod common;

use std::path::Path;

/// Runs `pdec solve FILE --optimizer OPT --iterations 30 --seed 1 --threads 1` with the
/// further flags `extra` and returns its history.csv without the wall-clock column.
fn trajectory_with(file: &str, optimizer: &str, extra: &[&str]) -> String {
    let stem = Path::new(file).file_stem().unwrap().to_string_lossy();
    let tag = extra.join("");
    let dir = common::scratch_path("golden", &format!("{stem}-{optimizer}{tag}"));
    let output = common::output_of(
        common::pdec_command([
            "solve",
            file,
            "--optimizer",
            optimizer,
            "--iterations",
            "30",
            "--seed",
            "1",
            "--threads",
            "1",
            "--quiet",
            "--no-plots",
        ])
        .args(extra)
        .arg("--out")
        .arg(&dir),
    );
    assert!(
        output.status.success(),
        "pdec solve {file} --optimizer {optimizer} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let history = std::fs::read_to_string(dir.join("history.csv")).expect("history.csv");
    let _ = std::fs::remove_dir_all(&dir);
    let mut lines = history.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&k| header[k] != "wall_s")
        .collect();
    assert!(
        keep.len() + 1 == header.len(),
        "history.csv has a wall_s column"
    );
    let mut out = String::new();
    for line in std::iter::once(header.join(",").as_str()).chain(lines) {
        let cells: Vec<&str> = line.split(',').collect();
        let kept: Vec<&str> = keep.iter().map(|&k| cells[k]).collect();
        out.push_str(&kept.join(","));
        out.push('\n');
    }
    out
}

/// A golden test: `pdec solve FILE --optimizer OPT` and any further flags, 30
/// iterations, against its snapshot.
macro_rules! golden {
    ($name:ident, $file:expr, $optimizer:expr $(, $flag:expr)*) => {
        #[test]
        fn $name() {
            let history = trajectory_with($file, $optimizer, &[$($flag),*]);
            assert_eq!(history.lines().count(), 31, "30 iterations and a header");
            insta::assert_snapshot!(stringify!($name), history);
        }
    };
}

golden!(heat1d_engd_region, "examples/heat1d.pde", "engd");
golden!(heat1d_sngd_region, "examples/heat1d.pde", "sngd");
golden!(heat1d_anagram_region, "examples/heat1d.pde", "anagram");
golden!(heat1d_adam, "examples/heat1d.pde", "adam");
golden!(heat1d_lbfgs, "examples/heat1d.pde", "lbfgs");
golden!(poisson2d_engd_region, "examples/poisson2d.pde", "engd");
golden!(poisson2d_sngd_region, "examples/poisson2d.pde", "sngd");

// The grid line search (`--line-search grid`, the natural-gradient methods' default
// before the step-length trust region): its trajectories as they were recorded when it
// was the default.
golden!(
    heat1d_engd,
    "examples/heat1d.pde",
    "engd",
    "--line-search",
    "grid"
);
golden!(
    heat1d_sngd,
    "examples/heat1d.pde",
    "sngd",
    "--line-search",
    "grid"
);
golden!(
    heat1d_anagram,
    "examples/heat1d.pde",
    "anagram",
    "--line-search",
    "grid"
);
golden!(
    poisson2d_engd,
    "examples/poisson2d.pde",
    "engd",
    "--line-search",
    "grid"
);
golden!(
    poisson2d_sngd,
    "examples/poisson2d.pde",
    "sngd",
    "--line-search",
    "grid"
);

// The Levenberg–Marquardt trust region (`--line-search off`) of the natural-gradient
// methods.
golden!(
    heat1d_engd_trust_region,
    "examples/heat1d.pde",
    "engd",
    "--line-search",
    "off"
);
golden!(
    heat1d_sngd_trust_region,
    "examples/heat1d.pde",
    "sngd",
    "--line-search",
    "off"
);
golden!(
    heat1d_anagram_trust_region,
    "examples/heat1d.pde",
    "anagram",
    "--line-search",
    "off"
);
