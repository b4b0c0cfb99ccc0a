//! `pdec solve --vtk` and `pdec eval RUN --vtk` end to end: the ParaView files parse
//! back with the documented grid and time steps, hold the values `pdec eval --at` gives
//! at the same points, and `eval --vtk` rewrites them byte for byte.

use pdec::output::vtk::{read_pvd, read_vti};
use std::path::{Path, PathBuf};
use std::process::Command;

const HEAT: &str = "time t in [0, 1]
space x in [0, 1]
field u
dt(u) - dxx(u) = 0 on interior
u = sin(pi*x) on initial
u = 0 on boundary
exact u = exp(-pi^2*t)*sin(pi*x)
model mlp(layers = [6])
sample interior = 30, boundary = 6, initial = 6
";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pdec-vtk-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pdec(args: &[&str], dir: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_pdec"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("pdec runs");
    assert!(
        output.status.success(),
        "pdec {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn solve_and_eval_write_paraview_files_that_read_back() {
    let dir = scratch("heat");
    std::fs::write(dir.join("heat.pde"), HEAT).unwrap();
    pdec(
        &[
            "solve",
            "heat.pde",
            "--out",
            "run",
            "--optimizer",
            "adam",
            "--iterations",
            "3",
            "--quiet",
            "--no-plots",
            "--vtk",
            "--grid",
            "4",
        ],
        &dir,
    );
    let run = dir.join("run");
    let steps = read_pvd(&std::fs::read_to_string(run.join("solution.pvd")).unwrap()).unwrap();
    assert_eq!(steps.len(), 21);
    for (k, (time, file)) in steps.iter().enumerate() {
        assert!((time - k as f64 / 20.0).abs() < 1e-15, "{time}");
        assert_eq!(file, &format!("vtk/solution_{k:03}.vti"));
    }
    let frame_path = run.join(&steps[10].1);
    let frame = read_vti(&std::fs::read_to_string(&frame_path).unwrap()).unwrap();
    // grid 4: about 4² = 16 points along the one spatial axis.
    assert_eq!(frame.grid.counts, [16, 1, 1]);
    assert_eq!(frame.grid.origin, [0.0, 0.0, 0.0]);
    assert_eq!(frame.grid.spacing[0], 1.0 / 15.0);
    let names: Vec<&str> = frame.arrays.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, vec!["u", "exact_u", "error_u"]);
    let xs: Vec<f64> = (0..16)
        .map(|i| if i == 15 { 1.0 } else { i as f64 / 15.0 })
        .collect();
    let (u, exact, error) = (
        &frame.arrays[0].values,
        &frame.arrays[1].values,
        &frame.arrays[2].values,
    );
    let pi = std::f64::consts::PI;
    for (i, x) in xs.iter().enumerate() {
        let want = (-pi * pi * 0.5).exp() * (pi * x).sin();
        assert!(
            (exact[i] - want).abs() < 1e-14,
            "exact at x = {x}: {} vs {want}",
            exact[i]
        );
        assert_eq!(error[i], u[i] - exact[i]);
    }

    // The same points through `pdec eval --at`: the same network values.
    let mut csv = String::from("t,x\n");
    for x in &xs {
        csv.push_str(&format!("0.5,{x}\n"));
    }
    std::fs::write(dir.join("points.csv"), csv).unwrap();
    let out = pdec(&["eval", "run", "--at", "points.csv"], &dir);
    let rows: Vec<Vec<f64>> = out
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 16);
    for (i, row) in rows.iter().enumerate() {
        assert!(
            (row[2] - u[i]).abs() <= 1e-12 * (1.0 + u[i].abs()),
            "x = {}: {} vs {}",
            xs[i],
            row[2],
            u[i]
        );
    }
    // Not the initial network: values differ between frames (t enters the network).
    let first = read_vti(&std::fs::read_to_string(run.join(&steps[0].1)).unwrap()).unwrap();
    assert_ne!(first.arrays[0].values, *u);

    // `eval --vtk` from the checkpoint writes the same bytes again.
    let before = std::fs::read(&frame_path).unwrap();
    let pvd_before = std::fs::read(run.join("solution.pvd")).unwrap();
    std::fs::remove_dir_all(run.join("vtk")).unwrap();
    std::fs::remove_file(run.join("solution.pvd")).unwrap();
    pdec(&["eval", "run", "--vtk", "--grid", "4"], &dir);
    assert_eq!(std::fs::read(&frame_path).unwrap(), before);
    assert_eq!(std::fs::read(run.join("solution.pvd")).unwrap(), pvd_before);
    let _ = std::fs::remove_dir_all(&dir);
}
