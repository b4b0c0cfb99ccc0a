//! Every `examples/*.pde` checks without errors or warnings, and lowering produces the IR the
//! examples promise.

use pdec::ir::{describe, Problem};
use pdec::solve::OptimizerKind;
use std::path::Path;

fn load(name: &str) -> Problem {
    let (problem, diagnostics) = check(name);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{name}: {errors:?}");
    problem.expect("no errors means a problem")
}

fn check(name: &str) -> (Option<Problem>, Vec<pdec::diagnostic::Diagnostic>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let source = std::fs::read_to_string(&path).expect("example exists");
    pdec::check_source(&source, path.parent().unwrap())
}

#[test]
fn every_example_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pde") {
            let name = path.file_name().unwrap().to_str().unwrap();
            let problem = load(name);
            assert!(!problem.blocks.is_empty());
            // Nor any warning: an example shows no setting that does nothing.
            let (_, diagnostics) = check(name);
            assert!(diagnostics.is_empty(), "{name}: {diagnostics:?}");
            n += 1;
        }
    }
    assert!(n >= 9, "expected the nine benchmark examples, found {n}");
}

/// The examples run with the defaults: no `solve` block names an optimizer, an
/// optimizer option or a stopping rule, only `iterations`.
#[test]
fn no_example_names_an_optimizer_or_its_options() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pde") {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let solve = load(&name).solve;
            assert_eq!(solve.optimizer, None, "{name}");
            assert!(solve.options.is_empty(), "{name}: {:?}", solve.options);
            assert!(
                solve.tol.is_none() && solve.patience.is_none() && solve.min_improvement.is_none(),
                "{name}"
            );
        }
    }
}

/// Where a built-in condition's data are the exact solution's formula, `pdec check`
/// says that the network only has to learn `N = 0`; where the data agree with it only
/// on the boundary, or are other values, it does not.
#[test]
fn check_says_where_the_offset_of_the_ansatz_is_the_exact_solution() {
    let remarks = |file: &str| -> Vec<bool> {
        let problem = load(file);
        let lines = describe::ansatz(&problem);
        problem
            .ansatz
            .iter()
            .zip(&lines)
            .map(|(a, line)| {
                let carried = describe::offset_is_exact(&problem, a);
                assert_eq!(
                    line.contains("only has to learn N_"),
                    carried,
                    "{file}: {line}"
                );
                carried
            })
            .collect()
    };
    assert_eq!(remarks("laplace5d.pde"), [true]);
    assert_eq!(remarks("kovasznay.pde"), [true, true, true]);
    // The same boundary values, written with a term that vanishes on the boundary.
    assert_eq!(remarks("laplace5d_offset.pde"), [false]);
    // Boundary or initial data that are not the solution inside.
    for file in ["poisson2d.pde", "heat1d.pde", "wave1d.pde", "burgers.pde"] {
        assert!(remarks(file).iter().all(|&r| !r), "{file}");
    }
}

#[test]
fn burgers_linearization_has_both_terms_of_u_dx_u() {
    let problem = load("burgers.pde");
    let blocks = describe::blocks(&problem);
    let interior = &blocks[0];
    assert!(!interior.linear);
    let coefficient = |jet: &str| {
        interior
            .linearization
            .iter()
            .find(|t| t.jet == jet)
            .map(|t| t.coefficient.clone())
            .unwrap_or_else(|| panic!("no term for {jet}: {:?}", interior.linearization))
    };
    // u = −sin(πx) + φ·N_u with φ = (x + 1)(1 − x)t built in: ∂F/∂dt(N_u) is φ,
    // and the product u·dx(u) leaves dx(N_u) in the coefficient of N_u and N_u in
    // that of dx(N_u).
    assert_eq!(problem.ansatz.len(), 1);
    assert_eq!(coefficient("dt(N_u)"), "(x + 1)*(1 - x)*t");
    assert!(coefficient("N_u").contains("dx(N_u)"));
    assert!(coefficient("dx(N_u)").contains("*N_u"));
}

#[test]
fn the_default_optimizer_follows_the_sampling_and_the_jacobians_size() {
    // Kovasznay's J (7,803 × 7,953 with u, v built in) is past the matrix-free
    // threshold; files with residual-adaptive points get GN whatever their size; the
    // other examples stay with SNGD.
    let kind = |file: &str| pdec::run::file_optimizer(&load(file));
    assert_eq!(kind("kovasznay.pde"), OptimizerKind::Gn);
    for file in [
        "burgers.pde",
        "transport.pde",
        "lotka_volterra.pde",
        "laplace5d_offset.pde",
    ] {
        let problem = load(file);
        assert!(problem.sample.adaptive.is_some(), "{file}");
        assert_eq!(problem.solve.optimizer, None, "{file}");
        let rows = pdec::compile::sample_points(&problem, 0).unwrap().n_rows();
        assert!(rows * describe::n_params(&problem) < pdec::solve::MATRIX_FREE_MIN_ENTRIES);
        assert_eq!(kind(file), OptimizerKind::Gn, "{file}");
    }
    for file in [
        "heat1d.pde",
        "poisson2d.pde",
        "allen_cahn.pde",
        "piecewise1d.pde",
    ] {
        assert_eq!(kind(file), OptimizerKind::Sngd, "{file}");
    }
    assert_eq!(kind("laplace5d.pde"), OptimizerKind::Sngd);
    let mut named = load("heat1d.pde");
    named.solve.optimizer = Some(OptimizerKind::Engd);
    assert_eq!(pdec::run::file_optimizer(&named), OptimizerKind::Engd);
    let kovasznay = load("kovasznay.pde");
    assert_eq!(kovasznay.solve.optimizer, None);
    let entries = 7_803 * describe::n_params(&kovasznay);
    assert!(entries >= pdec::solve::MATRIX_FREE_MIN_ENTRIES, "{entries}");
}

#[test]
fn parameter_counts_match_the_papers() {
    assert_eq!(describe::n_params(&load("heat1d.pde")), 261);
    assert_eq!(describe::n_params(&load("heat1d_large.pde")), 5301);
    assert_eq!(describe::n_params(&load("poisson2d.pde")), 1341);
    // transport keeps the paper's inputs (t, x) with `constraints = soft`.
    assert_eq!(describe::n_params(&load("transport.pde")), 1341);
}

#[test]
fn inverse_problem_reads_its_observations() {
    let problem = load("inverse_poisson1d.pde");
    assert_eq!(problem.params.len(), 1);
    assert_eq!(problem.data.len(), 1);
    assert_eq!(problem.data[0].n_rows(), 25);
    // Every observation is the exact solution sin(πx) at its x.
    let x = &problem.data[0].values[problem.data[0].coord_columns[0]];
    let u_col = problem.data[0]
        .columns
        .iter()
        .position(|c| c == "u")
        .unwrap();
    for (xi, ui) in x.iter().zip(&problem.data[0].values[u_col]) {
        assert!((ui - (std::f64::consts::PI * xi).sin()).abs() < 1e-15);
    }
}

#[test]
fn transport_is_periodic_by_penalty_and_would_be_through_its_inputs_by_default() {
    let pairs = |problem: &pdec::ir::Problem| {
        problem
            .blocks
            .iter()
            .filter(|b| matches!(b.region, pdec::ir::Region::Periodic { .. }))
            .count()
    };
    // As shipped (`constraints = soft`): x itself and the two pair blocks.
    let soft = load("transport.pde");
    assert_eq!(pairs(&soft), 2);
    assert_eq!(describe::inputs(&soft), vec!["t", "x"]);
    // Without it (the default): t and the harmonics, no pair blocks, 1,361 parameters.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/transport.pde");
    let source = std::fs::read_to_string(&path).unwrap();
    assert!(source.contains(", constraints = soft)"));
    let source =
        source
            .replacen(", constraints = soft)", ")", 1)
            .replacen(", periodic = 200", "", 1);
    let (hard, diagnostics) = pdec::check_source(&source, path.parent().unwrap());
    let hard = hard.unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(pairs(&hard), 0);
    assert_eq!(describe::inputs(&hard), vec!["t", "cos(x), sin(x)"]);
    assert_eq!(describe::n_params(&hard), 1361);
}

#[test]
fn lotka_volterra_is_time_only_and_its_observations_are_reference_rows() {
    let forward = load("lotka_volterra.pde");
    assert!(forward.time_only());
    assert_eq!(forward.initial_count(), 1);
    assert_eq!(forward.fields.len(), 2);
    let inverse = load("lotka_volterra_inverse.pde");
    assert!(inverse.time_only());
    assert_eq!(inverse.params.len(), 4);
    let obs = &inverse.data[0];
    assert_eq!(obs.n_rows(), 51);
    // Every observation is the reference solution at its time (every tenth row).
    let reference = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/lotka_volterra_ref.csv"),
    )
    .unwrap();
    let rows: Vec<Vec<f64>> = reference
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 501);
    for (i, row) in rows.iter().step_by(10).enumerate() {
        for (c, name) in ["t", "x", "y"].iter().enumerate() {
            let column = obs.columns.iter().position(|n| n == name).unwrap();
            assert_eq!(obs.values[column][i], row[c], "{name} at row {i}");
        }
    }
}

#[test]
fn the_hole_example_has_a_dirichlet_and_a_neumann_piece() {
    let problem = load("hole_poisson.pde");
    let regions: Vec<String> = problem
        .blocks
        .iter()
        .map(|b| describe::region(&problem, &b.region))
        .collect();
    assert_eq!(
        regions,
        ["interior", "boundary of outer", "boundary of hole"]
    );
    // The Neumann condition is the only block with normals.
    let uses_normals = |b: &pdec::ir::ResidualBlock| {
        describe::region(&problem, &b.region) == "boundary of hole" && b.order == 1
    };
    assert!(uses_normals(&problem.blocks[2]));
    assert_eq!(problem.blocks[1].order, 0);
}

#[test]
fn the_gridded_conductivity_is_its_formula_to_the_splines_accuracy() {
    // The shipped grid holds k = 1 + sin(2πx) exp(−t)/2 at x, t = i/64; between the
    // grid lines the spline must match the formula to O(h⁴) in value and O(h³) in
    // first derivatives (h = 1/64), at points off the grid lines.
    use pdec::ir::{display::display_grid_term, GridTermId};
    use std::f64::consts::PI;
    let problem = load("heat_gridded.pde");
    assert_eq!(problem.grids.len(), 1);
    let term = |name: &str| {
        let i = (0..problem.grid_terms.len())
            .find(|&i| display_grid_term(&problem, GridTermId(i as u32)) == name)
            .unwrap_or_else(|| panic!("the example uses {name}"));
        GridTermId(i as u32)
    };
    let (k, kx) = (term("k"), term("dx(k)"));
    let (mut value, mut slope) = (0.0f64, 0.0f64);
    for i in 0..=50 {
        for j in 0..=50 {
            // Coordinates are ordered as declared: x, then t.
            let (x, t) = (i as f64 / 50.0, j as f64 / 50.0);
            let exact = 1.0 + (2.0 * PI * x).sin() * (-t).exp() / 2.0;
            let exact_x = PI * (2.0 * PI * x).cos() * (-t).exp();
            value = value.max((problem.eval_grid(k, &[x, t]) - exact).abs());
            slope = slope.max((problem.eval_grid(kx, &[x, t]) - exact_x).abs());
        }
    }
    // The cubic spline's error bounds, 5/384·h⁴·‖∂⁴k‖ and h³/24·‖∂⁴k‖ with
    // ‖∂x⁴k‖ = (2π)⁴/2 (≈ 6.2e-7 and 1.2e-4); linear interpolation would be off by
    // h²/8·‖∂x²k‖ ≈ 6e-4. The value is not exactly the formula (it is interpolated).
    eprintln!("grid k: value error {value:e}, derivative error {slope:e}");
    assert!(value < 6.2e-7 && value > 0.0, "value error {value:e}");
    assert!(slope < 1.2e-4, "derivative error {slope:e}");
}

#[test]
fn the_periodic_allen_cahn_example_keeps_its_initial_penalty_and_reads_its_reference() {
    let problem = load("allen_cahn_periodic.pde");
    // x enters through cos and sin; x² cos(πx) has slopes −2 and 2 at x = ±1, so built
    // in it would keep that kink: the initial condition stays a penalty block.
    assert_eq!(problem.blocks.len(), 2);
    assert!(problem.ansatz.is_empty());
    assert!(problem.soft_conditions[0]
        .reason
        .contains("not periodic in x"));
    assert_eq!(describe::inputs(&problem)[1].matches("cos").count(), 1);
    let pdec::ir::ExactSource::Data { set, column } = &problem.exact[0].source else {
        panic!("a reference file");
    };
    assert_eq!(set.n_rows(), 101 * 257);
    let value = |name: &str| {
        let c = set.columns.iter().position(|n| n == name).unwrap();
        &set.values[c]
    };
    let (t, x, u) = (value("t"), value("x"), &set.values[*column]);
    for row in 0..set.n_rows() {
        if t[row] == 0.0 {
            // The first time is the initial data.
            let g = x[row] * x[row] * (std::f64::consts::PI * x[row]).cos();
            assert!((u[row] - g).abs() < 1e-15, "x = {}", x[row]);
        }
        if row % 257 == 256 {
            // Periodic: the two ends of every time agree.
            assert_eq!((x[row - 256], x[row]), (-1.0, 1.0));
            assert!((u[row - 256] - u[row]).abs() < 1e-12);
        }
        assert!(u[row].abs() <= 1.0 + 1e-9, "|u| ≤ 1 (a maximum principle)");
    }
}
