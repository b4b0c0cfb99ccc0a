//! The compiled tensor program of every example file, checked against independent
//! references: J against central finite differences, the gradient path against
//! burn-autodiff, and every jet the example uses against finite differences of u.

use burn_ndarray::NdArray;
use pdec::compile::checks::{assert_gradient_matches_autodiff, central_difference_column, max_abs};
use pdec::compile::{sample_points, CompiledProblem, PointSet};
use pdec::ir::{Deriv, Problem};
use std::path::Path;

type B = NdArray<f64>;

fn examples() -> Vec<(String, Problem)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pde"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).unwrap();
            let (problem, diagnostics) = pdec::check_source(&source, &dir);
            let mut problem =
                problem.unwrap_or_else(|| panic!("{}: {diagnostics:?}", path.display()));
            // Few points keep finite differences over many columns affordable.
            problem.sample.interior = 10;
            problem.sample.boundary = 6;
            problem.sample.initial = 5;
            problem.sample.periodic = 4;
            (
                path.file_stem().unwrap().to_string_lossy().into_owned(),
                problem,
            )
        })
        .collect()
}

fn setup(problem: &Problem) -> (CompiledProblem<B>, PointSet, Vec<f64>) {
    let program = CompiledProblem::<B>::new(problem, &Default::default()).unwrap();
    let points = sample_points(problem, 11).unwrap();
    program.check_points(&points).unwrap();
    let mut theta = program.init_params(5);
    // Move the params away from their initial values so that their columns are generic.
    let n = theta.len();
    for k in 0..problem.params.len() {
        theta[n - 1 - k] += 0.3;
    }
    (program, points, theta)
}

#[test]
fn jacobian_matches_central_differences_on_every_example() {
    for (name, problem) in examples() {
        let (program, points, theta) = setup(&problem);
        let (r, jac) = program.residual_and_jacobian(&theta, &points);
        let p = program.n_params();
        let n = r.len();
        assert_eq!(jac.len(), n * p, "{name}");
        // At most 80 columns, spread over every layer, plus every param column.
        let stride = (p / 80).max(1);
        let mut columns: Vec<usize> = (0..p).step_by(stride).collect();
        columns.extend(p - problem.params.len()..p);
        let scale = max_abs(&jac);
        for &k in &columns {
            let column = central_difference_column(&program, &points, &theta, k);
            for (i, &fd) in column.iter().enumerate() {
                let err = (fd - jac[i * p + k]).abs();
                assert!(
                    err <= 1e-6 * scale,
                    "{name}: J[{i},{k}] = {} but finite differences give {fd}",
                    jac[i * p + k]
                );
            }
        }
    }
}

#[test]
fn gradient_matches_burn_autodiff_on_every_example() {
    for (name, problem) in examples() {
        let (program, points, theta) = setup(&problem);
        assert_gradient_matches_autodiff(&name, &problem, &program, &points, &theta);
    }
}

#[test]
fn every_jet_of_every_example_matches_finite_differences() {
    for (name, problem) in examples() {
        let (program, points, theta) = setup(&problem);
        let d = problem.coords.len();
        // A few interior points, away from the boundary.
        let x: Vec<f64> = points.blocks[0].points[..3 * d].to_vec();
        let value = |pts: &[f64], field: usize| program.eval_fields(&theta, pts)[field].clone();
        // Second-order stencils: truncation ~h²/12·|D⁴u| (Kovasznay's ansatz
        // carries cos(2πy)e^{λx}, |D⁴u| ~ 1.6e3), rounding ~eps·|u|/h².
        let h = 1e-4;
        for jet in &problem.jets {
            let got = program.eval_jet(&theta, &x, jet);
            // Central differences, one coordinate at a time (orders ≤ 2 in the examples).
            let alpha: Vec<u8> = match &jet.deriv {
                Deriv::Partial(alpha) => alpha.clone(),
                Deriv::Laplacian => vec![],
            };
            let directions: Vec<Vec<usize>> = match &jet.deriv {
                Deriv::Partial(_) => vec![alpha
                    .iter()
                    .enumerate()
                    .flat_map(|(i, &a)| std::iter::repeat_n(i, a as usize))
                    .collect()],
                Deriv::Laplacian => problem
                    .spatial_coords()
                    .into_iter()
                    .map(|i| vec![i, i])
                    .collect(),
            };
            let mut expected = vec![0.0; 3];
            for dirs in &directions {
                assert!(dirs.len() <= 2, "{name}: examples use orders ≤ 2");
                // Sum over the stencil of ±h shifts along each direction.
                let shifts: Vec<(Vec<f64>, f64)> = match dirs.len() {
                    0 => vec![(vec![0.0; d], 1.0)],
                    1 => {
                        let mut p = vec![0.0; d];
                        p[dirs[0]] = h;
                        let m: Vec<f64> = p.iter().map(|v| -v).collect();
                        vec![(p, 0.5 / h), (m, -0.5 / h)]
                    }
                    _ => {
                        let mut out = Vec::new();
                        for (s0, s1) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
                            let mut p = vec![0.0; d];
                            p[dirs[0]] += s0 * h;
                            p[dirs[1]] += s1 * h;
                            out.push((p, s0 * s1 / (4.0 * h * h)));
                        }
                        out
                    }
                };
                for (shift, weight) in shifts {
                    let moved: Vec<f64> = x
                        .iter()
                        .enumerate()
                        .map(|(i, v)| v + shift[i % d])
                        .collect();
                    for (e, u) in expected.iter_mut().zip(value(&moved, jet.field)) {
                        *e += weight * u;
                    }
                }
            }
            for (g, e) in got.iter().zip(&expected) {
                assert!(
                    (g - e).abs() <= 1e-5 * (1.0 + e.abs()),
                    "{name}: jet {jet:?}: {g} vs finite differences {e}"
                );
            }
        }
    }
}

/// `examples/hole_poisson.pde`: the rows of the Neumann block on `boundary of hole` are
/// `sqrt(1/N) (n·∇u − g)` at points on the circle, with `n = −(x, y)/0.3` computed here
/// from the geometry and `∇u` from finite differences of the field; the Dirichlet rows on
/// `boundary of outer` lie on the square.
#[test]
fn hole_example_rows_use_the_circle_and_its_inward_normal() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let source = std::fs::read_to_string(dir.join("hole_poisson.pde")).unwrap();
    let (problem, diagnostics) = pdec::check_source(&source, &dir);
    let mut problem = problem.unwrap_or_else(|| panic!("{diagnostics:?}"));
    problem.sample.interior = 20;
    problem.sample.boundary = 100;
    let program = CompiledProblem::<B>::new(&problem, &Default::default()).unwrap();
    let points = sample_points(&problem, 2).unwrap();
    program.check_points(&points).unwrap();
    let theta = program.init_params(3);
    let r = program.residual(&theta, &points);
    let [interior, outer, hole] = &points.blocks[..] else {
        panic!("three blocks")
    };
    // The pieces share the boundary's count by length, 8 against 2π·0.3 (each share
    // rounded; the circle's estimated from the pilot draw to about 1.5%).
    assert!(
        (outer.n + hole.n).abs_diff(100) <= 1,
        "{} + {}",
        outer.n,
        hole.n
    );
    let circle_share = 2.0 * std::f64::consts::PI * 0.3 / (8.0 + 2.0 * std::f64::consts::PI * 0.3);
    assert!(
        (hole.n as f64 - 100.0 * circle_share).abs() <= 2.0,
        "{}",
        hole.n
    );
    for x in outer.points.chunks(2) {
        assert!(x[0].abs() == 1.0 || x[1].abs() == 1.0, "{x:?}");
    }
    let value = |pts: &[f64]| program.eval_fields(&theta, pts)[0].clone();
    let h = 1e-5;
    let start = interior.n + outer.n;
    for (i, x) in hole.points.chunks(2).enumerate() {
        assert!((x[0].hypot(x[1]) - 0.3).abs() < 1e-12, "{x:?}");
        let (nx, ny) = (-x[0] / 0.3, -x[1] / 0.3);
        let du = |dx: f64, dy: f64| {
            let plus = value(&[x[0] + h * dx, x[1] + h * dy])[0];
            let minus = value(&[x[0] - h * dx, x[1] - h * dy])[0];
            (plus - minus) / (2.0 * h)
        };
        let (ux, uy) = (
            2.0 * (2.0 * x[0]).cos() * x[1].cos() + x[1] / 2.0,
            -(2.0 * x[0]).sin() * x[1].sin() + x[0] / 2.0,
        );
        let g = -(x[0] * ux + x[1] * uy) / 0.3;
        let expected = (nx * du(1.0, 0.0) + ny * du(0.0, 1.0) - g) / (hole.n as f64).sqrt();
        let got = r[start + i];
        assert!(
            (got - expected).abs() <= 1e-7 * (1.0 + expected.abs()),
            "row {i} at {x:?}: {got} vs {expected}"
        );
    }
}
