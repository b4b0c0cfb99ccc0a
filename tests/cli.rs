//! The `pdec` binary: exit codes, human and JSON output of `check` and `explain`.

mod common;

use common::{code_and_text, output_of, pdec_command};

fn pdec(args: &[&str]) -> (i32, String, String) {
    code_and_text(&output_of(pdec_command(args).env("NO_COLOR", "1")))
}

#[test]
fn check_prints_a_summary_and_exits_zero() {
    let (code, stdout, stderr) = pdec(&["check", "examples/heat1d.pde"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("check_heat1d", stdout);
}

#[test]
fn check_on_errors_exits_one_and_reports_all() {
    let (code, stdout, stderr) = pdec(&["check", "tests/bad/several_errors.pde"]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("tests/bad/several_errors.pde:5:"),
        "{stderr}"
    );
    assert!(stderr.contains("errors"), "{stderr}");
}

#[test]
fn missing_file_exits_two() {
    let (code, _, stderr) = pdec(&["check", "no/such/file.pde"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn invalid_utf8_is_a_located_error() {
    let dir = std::env::temp_dir().join(format!("pdec-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("latin1.pde");
    std::fs::write(&path, b"field u\nconst k = 2 # caf\xe9\n").unwrap();
    let (code, _, stderr) = pdec(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn check_json_is_machine_readable() {
    let (code, stdout, _) = pdec(&["check", "examples/poisson2d.pde", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["summary"]["n_params"], 1341);
    assert_eq!(v["summary"]["equations"][0]["linear"], true);

    let (code, stdout, _) = pdec(&[
        "check",
        "tests/bad/unknown_identifier.pde",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(v["ok"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(d["labels"][0]["start"]["line"], 6);
    assert!(d["help"].as_str().unwrap().contains("kappa"));
}

#[test]
fn explain_burgers_shows_both_linearization_terms() {
    let (code, stdout, stderr) = pdec(&["explain", "examples/burgers.pde"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("explain_burgers", stdout);
    let (code, stdout, _) = pdec(&["explain", "examples/burgers.pde", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let terms = v["blocks"][0]["linearization"].as_array().unwrap();
    let find = |jet: &str| {
        terms
            .iter()
            .find(|t| t["jet"] == jet)
            .map(|t| t["coefficient"].as_str().unwrap().to_string())
    };
    // Under hard constraints u = A + φ·N_u: the product u·dx(u) still gives a
    // coefficient of N_u that holds dx(N_u), and one of dx(N_u) that holds N_u.
    assert_eq!(v["ansatz"].as_array().map(Vec::len), Some(1));
    let of_value = find("N_u").expect("a coefficient of N_u");
    assert!(of_value.contains("dx(N_u)"), "{of_value}");
    let of_slope = find("dx(N_u)").expect("a coefficient of dx(N_u)");
    assert!(of_slope.contains("*N_u"), "{of_slope}");
}
