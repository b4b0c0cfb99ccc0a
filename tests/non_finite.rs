//! A residual that is NaN at every step (`log` of a negative value): `pdec solve` and
//! the library stop with diagnostic E0601 on that equation's line, and the CLI exits
//! with status 1 without writing a summary.

use burn_ndarray::{NdArray, NdArrayDevice};
mod common;

use common::{output_of, pdec_command};
use std::ops::ControlFlow;

const FILE: &str = "tests/data/log_nan.pde";
const EQUATION: &str = "-dxx(u) + log(u - 5) = 0";

#[test]
fn cli_names_the_non_finite_equation() {
    let out = std::env::temp_dir().join(format!("pdec-nonfinite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    for optimizer in ["engd", "sngd", "anagram"] {
        let output = output_of(
            pdec_command(["solve", FILE, "--quiet", "--optimizer", optimizer, "--out"])
                .arg(&out)
                .env("NO_COLOR", "1"),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{optimizer}: {stderr}");
        assert!(stderr.contains("E0601"), "{optimizer}: {stderr}");
        assert!(
            stderr.contains(&format!("{FILE}:5:1")),
            "{optimizer}: the equation's line: {stderr}"
        );
        assert!(stderr.contains(EQUATION), "{optimizer}: {stderr}");
        assert!(stderr.contains("iteration 5"), "{optimizer}: {stderr}");
        assert!(!out.join("summary.json").exists());
    }
}

#[test]
fn library_error_carries_the_diagnostic() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/log_nan.pde");
    let problem = pdec::Problem::from_file(path).unwrap();
    let compiled = problem
        .compile::<NdArray<f64>>(&NdArrayDevice::Cpu)
        .unwrap();
    let mut iterations = 0;
    let err = compiled
        .solve(&pdec::SolveOptions::default(), |p| {
            assert!(!p.record.accepted);
            iterations += 1;
            ControlFlow::Continue(())
        })
        .unwrap_err();
    // Four rejected steps reach the callback; the fifth ends the run.
    assert_eq!(iterations, 4);
    let diagnostics = err.diagnostics().expect("a diagnostic on the source");
    let diagnostic = &diagnostics.diagnostics[0];
    assert_eq!(diagnostic.code, "E0601");
    let span = diagnostic.span().unwrap();
    assert_eq!(
        &problem.source()[span.start as usize..span.end as usize].trim_end(),
        &format!("{EQUATION}   on interior")
    );
}
