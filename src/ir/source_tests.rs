//! Tests of the IR from `.pde` source text: parse, lower, and check the
//! lowered problem or each diagnostic's code and line:column.

use super::display::{display_expr, display_jet};
use super::{lower, Problem, Region};
use crate::diagnostic::Diagnostic;
use std::path::Path;

fn run(source: &str) -> (Option<Problem>, Vec<Diagnostic>) {
    let (file, mut diags) = crate::syntax::parse(source);
    let (problem, more) = lower(&file, source, Path::new("."));
    diags.extend(more);
    (problem, diags)
}

fn ok(source: &str) -> Problem {
    let (problem, diags) = run(source);
    assert!(
        diags.iter().all(|d| !d.is_error()),
        "unexpected diagnostics: {diags:#?}"
    );
    problem.expect("no errors means a problem")
}

/// Every diagnostic as `CODE@line:col`.
fn check(source: &str) -> Vec<String> {
    let (_, diags) = run(source);
    diags
        .iter()
        .map(|d| {
            let (line, col) = d.line_col(source).unwrap_or((0, 0));
            format!("{}@{line}:{col}", d.code)
        })
        .collect()
}

const HEAT: &str = "# 1D heat equation
time  t in [0, 1]
space x in [0, 1]
field u
const kappa = 0.25

dt(u) - kappa*dxx(u) = 0      on interior
u = sin(pi*x)                 on initial
u = 0                         on x = 0
u = 0                         on x = 1

exact u = exp(-pi^2*kappa*t)*sin(pi*x)

model  mlp(layers = [64], activation = tanh, constraints = soft)
sample interior = 900, boundary = 120, initial = 60
solve  optimizer = engd, iterations = 1000
";

#[test]
fn heat_example_lowers() {
    let p = ok(HEAT);
    assert_eq!(p.blocks.len(), 4);
    assert!(p.blocks.iter().all(|b| b.linear));
    assert_eq!(p.blocks[0].label, "dt(u) - kappa*dxx(u) = 0");
    let lin: Vec<(String, String)> = p.blocks[0]
        .linearization
        .iter()
        .map(|&(j, c)| (display_jet(&p, j), display_expr(&p, c)))
        .collect();
    assert_eq!(
        lin,
        vec![
            ("dt(u)".to_string(), "1".to_string()),
            ("dxx(u)".to_string(), "-0.25".to_string())
        ]
    );
    assert_eq!(p.model.layers, vec![64]);
    assert_eq!(p.sample.interior, 900);
    assert_eq!(p.sample.initial, 60);
    assert_eq!(p.solve.iterations, 1000);
    assert_eq!(p.exact.len(), 1);
    assert_eq!(
        p.blocks[3].region,
        Region::Face {
            coord: 1,
            side: super::Side::Hi
        }
    );
}

const HEADER: &str = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n";

/// Diagnostics of `HEADER` followed by `body` (lines of `body` start at line 4).
fn check_body(body: &str) -> Vec<String> {
    check(&format!("{HEADER}{body}"))
}

#[test]
fn diagnostics_point_at_the_mistake() {
    let cases: &[(&str, &[&str])] = &[
        ("dt(u) = kapa on interior\n", &["E0101@4:9"]),
        ("dt(v) = 0 on interior\n", &["E0104@4:4"]),
        ("dt(u) = dy(u) on interior\n", &["E0202@4:10"]),
        ("dt(u) = d(u, z) on interior\n", &["E0202@4:14"]),
        (
            "dt(u) = 0 on interior\ndn(u) = 0 on interior\n",
            &["E0203@5:1"],
        ),
        ("dt(u) = 0 on interior\nu = 0 on x = 0.5\n", &["E0216@5:14"]),
        ("field u\ndt(u) = 0 on interior\n", &["E0106@4:7"]),
        ("const c = u + 1\ndt(u) = c on interior\n", &["E0204@4:11"]),
        ("const c = 1/0\ndt(u) = 0 on interior\n", &["E0205@4:11"]),
        (
            "const c = log(-1)\ndt(u) = 0 on interior\n",
            &["E0205@4:11"],
        ),
        ("u = 0 on initial\n", &["W0501@4:1"]),
        ("dt(u) = dxxxxx(u) on interior\n", &["E0208@4:9"]),
        ("dt(u) = sin(u, u) on interior\n", &["E0207@4:9"]),
        ("dt(u) = foo(u) on interior\n", &["E0102@4:9"]),
        ("dt(u) = 0 on interor\n", &["E0105@4:14"]),
        ("dt(u) = 0 on interior\nexact w = x\n", &["E0104@5:7"]),
        ("dt(u) = 0 on interior\nexact u = u*x\n", &["E0213@5:11"]),
        ("dt(u) = 0 on interior weight -1\n", &["E0217@4:30"]),
        ("dt(u) = 0 on interior\nperiodic t\n", &["E0224@5:10"]),
        (
            "dt(u) = 0 on interior\nsolve optimiser = engd\n",
            &["E0403@5:7"],
        ),
        (
            "dt(u) = 0 on interior\nmodel mlp(activation = tahn)\n",
            &["E0402@5:24"],
        ),
        (
            "dt(u) = 0 on interior\nsample interior = 0\n",
            &["E0405@5:19"],
        ),
        (
            "dt(u) = 0 on interior\ndata obs from \"no_such_file.csv\"\n",
            &["E0301@5:15"],
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(&check_body(body), expected, "for {body:?}");
    }
}

#[test]
fn burgers_from_source_has_two_product_terms() {
    let p = ok("time t in [0, 1]
space x in [-1, 1]
field u
dt(u) + u*dx(u) - 0.01/pi*dxx(u) = 0 on interior
u = -sin(pi*x) on initial
u = 0 on boundary
model mlp(constraints = soft)
");
    let b = &p.blocks[0];
    assert!(!b.linear);
    let lin: Vec<(String, String)> = b
        .linearization
        .iter()
        .map(|&(j, c)| (display_jet(&p, j), display_expr(&p, c)))
        .collect();
    assert_eq!(
        lin,
        vec![
            ("u".to_string(), "dx(u)".to_string()),
            ("dt(u)".to_string(), "1".to_string()),
            ("dx(u)".to_string(), "u".to_string()),
            ("dxx(u)".to_string(), "-0.003183098861837907".to_string()),
        ]
    );
    assert_eq!(
        display_expr(&p, p.blocks[1].residual),
        "u + sin(3.141592653589793*x)"
    );
}

#[test]
fn several_independent_errors_in_one_run() {
    let got = check(
        "time t in [0, 1]
space x in [0, 1]
space x in [0, 2]
field u
const c = u
dt(v) = 0 on interior
dt(u) = c*u on interior
u = 0 on x = 2
u = 0 on y = 0
",
    );
    assert_eq!(
        got,
        vec![
            "E0106@3:7",
            "E0204@5:11",
            "E0104@6:4",
            "E0216@8:14",
            "E0108@9:10"
        ]
    );
}

#[test]
fn data_sets_from_source() {
    let dir = std::env::temp_dir().join(format!("pdec-ir-source-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("obs.csv"), "x,u\n0.25,0.1\n0.5,0.2\n0.75,0.3\n").expect("write");
    std::fs::write(dir.join("cols.csv"), "x,w\n0.25,0.1\n").expect("write");
    std::fs::write(dir.join("cells.csv"), "x,u\n0.25,0.1\n0.5,oops\n").expect("write");
    let source = "space x in [0, 1]
field u
param k = 1
data obs from \"obs.csv\"
-k*dxx(u) = pi^2*sin(pi*x) on interior
u = 0 on boundary
u = obs.u on obs weight 10
model mlp(constraints = soft)
";
    let (file, _) = crate::syntax::parse(source);
    let (p, diags) = lower(&file, source, &dir);
    assert!(diags.is_empty(), "{diags:#?}");
    let p = p.expect("problem");
    assert_eq!(p.data[0].n_rows(), 3);
    assert_eq!(p.blocks[2].region, Region::Data { set: 0 });
    assert_eq!(p.blocks[2].weight, 10.0);
    assert_eq!(p.blocks[0].param_derivatives.len(), 1);

    let bad = "space x in [0, 1]
field u
data a from \"cols.csv\"
data b from \"cells.csv\"
data c from \"obs.csv\"
-dxx(u) = obs.u on interior
u = c.u on interior
";
    let (file, _) = crate::syntax::parse(bad);
    let (_, diags) = lower(&file, bad, &dir);
    let got: Vec<String> = diags
        .iter()
        .map(|d| {
            let (l, c) = d.line_col(bad).unwrap_or((0, 0));
            format!("{}@{l}:{c}", d.code)
        })
        .collect();
    assert_eq!(
        got,
        vec!["E0306@3:13", "E0308@4:13", "E0101@6:11", "E0210@7:5"]
    );
    assert!(diags[1].message.contains("line 3"), "{}", diags[1].message);
}

#[test]
fn shapes_and_periodic_from_source() {
    let p = ok("space (x, y) in disk((0, 0), 1) - disk((0, 0), 0.5)
field u
-lap(u) = 1 on interior
u = 0 on boundary
");
    assert_eq!(p.domain.factors.len(), 1);
    assert!(matches!(
        p.domain.factors[0].shape,
        super::Shape::Difference(..)
    ));
    let p = ok("time t in [0, 1]
space x in [0, 2*pi]
field u
periodic x
dt(u) + 30*dx(u) = 0 on interior
u = sin(x) on initial
");
    // Hard constraints (the default): the inputs make u periodic, no pair
    // blocks, and the initial condition is built into the ansatz.
    assert_eq!(p.blocks.len(), 1);
    assert_eq!(p.ansatz[0].conditions, ["u = sin(x) on initial"]);
    assert_eq!(p.periodic, vec![1]);
    assert_eq!(p.embedded_periodic(), &[1]);
    assert_eq!(p.n_network_inputs(), 3);
    let p = ok("time t in [0, 1]
space x in [0, 2*pi]
field u
periodic x
dt(u) + 30*dx(u) = 0 on interior
u = sin(x) on initial
model mlp(constraints = soft)
");
    assert_eq!(p.blocks.len(), 4);
    assert!(p.embedded_periodic().is_empty());
    assert_eq!(p.n_network_inputs(), 2);
    assert_eq!(p.blocks[2].region, Region::Periodic { coord: 1 });
    assert_eq!(p.blocks[2].span, p.blocks[3].span);
    let source_of_span = "time t in [0, 1]\nspace x in [0, 2*pi]\nfield u\nperiodic x\n";
    assert_eq!(
        source_of_span.get(p.blocks[2].span.range()),
        Some("periodic x")
    );
}

#[test]
fn input_embedding_settings() {
    let p = ok("time t in [0, 1]
space x in [0, 2]
space y in [0, 1]
field u
periodic x
dt(u) + dx(u) = 0 on interior
model mlp(harmonics = 3, features = fourier(8, 2.5))
");
    assert_eq!(p.model.harmonics, 3);
    assert_eq!(
        p.model.features,
        Some(super::FourierFeatures {
            count: 8,
            sigma: 2.5
        })
    );
    // t and y go into the Fourier features; x into 3 harmonics.
    assert_eq!(p.fourier_inputs(), vec![0, 2]);
    assert!(p.plain_inputs().is_empty());
    assert_eq!(p.n_network_inputs(), 2 * 3 + 2 * 8);
    let p = ok("space x in [0, 1]\nfield u\n-dxx(u) = 1 on interior\n\
                model mlp(features = fourier(4, 1), constraints = soft)\n");
    assert_eq!(p.n_network_inputs(), 8);
    assert_eq!(p.model.constraints, super::Constraints::Soft);
}

#[test]
fn bad_input_embedding_settings() {
    let periodic = "space x in [0, 1]\nfield u\nperiodic x\n-dxx(u) = 1 on interior\n";
    let cases: &[(&str, &str, &[&str])] = &[
        (
            periodic,
            "model mlp(features = fourier(4, 1))\n",
            &["E0409@5:22"],
        ),
        (periodic, "model mlp(harmonics = 0)\n", &["E0405@5:23"]),
        (periodic, "model mlp(harmonics = 2.5)\n", &["E0405@5:23"]),
        (periodic, "model mlp(harmonics = 1000)\n", &["E0405@5:23"]),
        (
            periodic,
            "model mlp(constraints = rigid)\n",
            &["E0402@5:25"],
        ),
        (
            periodic,
            "model mlp(harmonics = 2, constraints = soft)\n",
            &["W0504@5:23"],
        ),
        (
            HEADER,
            "dt(u) = 0 on interior\nmodel mlp(harmonics = 2)\n",
            &["W0504@5:23"],
        ),
        (
            HEADER,
            "dt(u) = 0 on interior\nmodel mlp(features = fourier(0, 1))\n",
            &["E0405@5:30"],
        ),
        (
            HEADER,
            "dt(u) = 0 on interior\nmodel mlp(features = fourier(4, -1))\n",
            &["E0405@5:33"],
        ),
        (
            HEADER,
            "dt(u) = 0 on interior\nmodel mlp(features = fourier(4, 0))\n",
            &["E0405@5:33"],
        ),
        (
            HEADER,
            "dt(u) = 0 on interior\nmodel mlp(features = fourier(4))\n",
            &["E0405@5:22"],
        ),
        (
            HEADER,
            "dt(u) = 0 on interior\nmodel mlp(features = fourir(4, 1))\n",
            &["E0402@5:22"],
        ),
        (
            HEADER,
            "dt(u) = 0 on interior\nmodel mlp(features = 3)\n",
            &["E0405@5:22"],
        ),
    ];
    for (header, body, expected) in cases {
        assert_eq!(&check(&format!("{header}{body}")), expected, "for {body:?}");
    }
}

#[test]
fn adaptive_sampling_settings() {
    let base = "space x in [0, 1]\nfield u\n-dxx(u) = 1 on interior\n";
    let adaptive = |line: &str| ok(&format!("{base}{line}\n")).sample.adaptive;
    let rad = |k, c, every| {
        Some(super::AdaptiveSampling {
            k,
            c,
            every,
            growth: None,
        })
    };
    assert_eq!(adaptive("sample interior = 50"), None);
    assert_eq!(adaptive("sample adaptive = rad"), rad(1.0, 1.0, 25));
    assert_eq!(
        adaptive("sample adaptive = rad every 20"),
        rad(1.0, 1.0, 20)
    );
    assert_eq!(adaptive("sample adaptive = rad(2)"), rad(2.0, 1.0, 25));
    assert_eq!(
        adaptive("sample adaptive = rad(2, 0.5) every 50, interior = 80"),
        rad(2.0, 0.5, 50)
    );
    assert_eq!(
        adaptive("sample adaptive = rad(c = 3, k = 0.5) every 10"),
        rad(0.5, 3.0, 10)
    );
    assert_eq!(
        adaptive("const m = 25\nsample adaptive = rad(1/2, 2*2) every 2*m"),
        rad(0.5, 4.0, 50)
    );
    // `rar` adds points: Wu et al.'s RAR-D defaults k = 2, c = 0, and the growth.
    let rar = |k, c, every, add, limit| {
        Some(super::AdaptiveSampling {
            k,
            c,
            every,
            growth: Some(super::Growth { add, limit }),
        })
    };
    assert_eq!(
        adaptive("sample adaptive = rar"),
        rar(2.0, 0.0, 25, 0.1, 2.0)
    );
    assert_eq!(
        adaptive("sample adaptive = rar(1, 0.5, 0.2, 3) every 10"),
        rar(1.0, 0.5, 10, 0.2, 3.0)
    );
    assert_eq!(
        adaptive("sample adaptive = rar(limit = 4, c = 1)"),
        rar(2.0, 1.0, 25, 0.1, 4.0)
    );
    let described = super::describe::summary(&ok(&format!("{base}sample adaptive = rar\n")));
    assert!(
        described
            .sample
            .contains("adaptive rar(2, 0, 0.1, 2) every 25"),
        "{}",
        described.sample
    );
    let described = super::describe::summary(&ok(&format!(
        "{base}sample adaptive = rad(2, 0.5) every 50\n"
    )));
    assert!(
        described.sample.contains("adaptive rad(2, 0.5) every 50"),
        "{}",
        described.sample
    );
}

#[test]
fn bad_adaptive_sampling_settings() {
    let base = "space x in [0, 1]\nfield u\n-dxx(u) = 1 on interior\n";
    let cases: &[(&str, &[&str])] = &[
        ("sample adaptive = rad(0)", &["E0405@4:23"]),
        ("sample adaptive = rad(-1, 1)", &["E0405@4:23"]),
        ("sample adaptive = rad(11)", &["E0405@4:23"]),
        ("sample adaptive = rad(1, 0)", &["E0405@4:26"]),
        (
            "sample adaptive = rad(1, -2) every 0",
            &["E0405@4:36", "E0405@4:26"],
        ),
        ("sample adaptive = rad every 2.5", &["E0405@4:29"]),
        ("sample adaptive = rad(1, 1, 1)", &["E0405@4:19"]),
        ("sample adaptive = rad(k = 1, s = 2)", &["E0403@4:30"]),
        ("sample adaptive = rad(k = 1, k = 2)", &["E0408@4:30"]),
        ("sample adaptive = rax", &["E0402@4:19"]),
        ("sample adaptive = rar(0)", &["E0405@4:23"]),
        ("sample adaptive = rar(1, -1)", &["E0405@4:26"]),
        ("sample adaptive = rar(2, 0, 0)", &["E0405@4:29"]),
        ("sample adaptive = rar(2, 0, 1.5)", &["E0405@4:29"]),
        ("sample adaptive = rar(2, 0, 0.1, 1)", &["E0405@4:34"]),
        ("sample adaptive = rar(2, 0, 0.1, 101)", &["E0405@4:34"]),
        ("sample adaptive = rar(1, 1, 0.1, 2, 3)", &["E0405@4:19"]),
        ("sample adaptive = rad(1, add = 0.1)", &["E0403@4:26"]),
        ("sample adaptive = rar(limit = 3, lim = 2)", &["E0403@4:34"]),
        ("sample adaptive = rdd(1, 1) every 5", &["E0402@4:19"]),
        ("sample adaptive = every 100", &["E0405@4:8"]),
        ("sample adaptive = 3", &["E0405@4:19"]),
        ("sample interior = 10 every 5", &["E0405@4:8"]),
        ("solve iterations = 10 every 5", &["E0405@4:7"]),
        (
            "sample resample = every 10, adaptive = rad",
            &["E0410@4:29"],
        ),
        (
            "sample adaptive = rad\nsample resample = every 10",
            &["E0410@5:8"],
        ),
        ("sample adaptive = rad, adaptive = rad", &["E0408@4:24"]),
    ];
    for (body, expected) in cases {
        assert_eq!(&check(&format!("{base}{body}\n")), expected, "for {body:?}");
    }
}

#[test]
fn causal_weighting_settings() {
    let base = "time t in [0, 1]\nspace x in [0, 1]\nfield u\ndt(u) - dxx(u) = 0 on interior\n";
    let causal = |line: &str| ok(&format!("{base}{line}\n")).solve.causal;
    assert_eq!(causal("solve iterations = 5"), None);
    assert_eq!(causal("solve causal = 1"), Some(1.0));
    assert_eq!(causal("solve causal = off"), None);
    assert_eq!(causal("const eps = 0.25\nsolve causal = 2*eps"), Some(0.5));
    let cases: &[(&str, &[&str])] = &[
        ("solve causal = 0", &["E0405@5:16"]),
        ("solve causal = -1", &["E0405@5:16"]),
        ("solve causal = maybe", &["E0402@5:16"]),
        ("solve causal = 1, causal = 2", &["E0408@5:19"]),
    ];
    for (body, expected) in cases {
        assert_eq!(&check(&format!("{base}{body}\n")), expected, "for {body:?}");
    }
    // A steady problem has no time slabs.
    let steady = "space x in [0, 1]\nfield u\n-dxx(u) = 1 on interior\nsolve causal = 1\n";
    assert_eq!(check(steady), ["E0405@4:16"]);
    assert!(
        check("space x in [0, 1]\nfield u\n-dxx(u) = 1 on interior\nsolve causal = off\n")
            .is_empty()
    );
}

#[test]
fn pathological_inputs_do_not_panic() {
    let deep = format!(
        "{HEADER}dt(u) = {}u{} on interior\n",
        "(".repeat(200),
        ")".repeat(200)
    );
    let (p, _) = run(&deep);
    assert!(p.is_some());
    let long_sum = format!("{HEADER}dt(u) = {}0 on interior\n", "u*u + ".repeat(200));
    let (p, diags) = run(&long_sum);
    assert!(diags.is_empty(), "{diags:#?}");
    let p = p.expect("problem");
    assert_eq!(display_expr(&p, p.blocks[0].residual), "dt(u) - 200*u^2");
    // Beyond the parser's depth limit: a syntax error, and nothing from lowering.
    let too_long = format!(
        "{HEADER}dt(u) = {}0 on interior\n",
        "u*u + ".repeat(100_000)
    );
    let (_, diags) = run(&too_long);
    assert!(
        diags.iter().all(|d| d.code.starts_with("E00")),
        "{diags:#?}"
    );
    // A broken statement does not add "no equation" on top of its syntax error.
    let broken = format!("{HEADER}dt(u) = = 0 on interior\n");
    let (_, diags) = run(&broken);
    assert!(
        diags.iter().all(|d| d.code.starts_with("E00")),
        "{diags:#?}"
    );
    for src in [
        "",
        "field",
        "space x in [0, 1e400]\nfield u\nu = 0 on interior\n",
        "\u{0}\u{feff}",
    ] {
        let _ = run(src);
    }
}

const FULL: &str = "time  t in [0, 1]
space x in [0, 1]
space (y, z) in disk((0, 0), 1) - box([0, 1], [0, 1]) & ball((0, 0), 2)
field u, v
const kappa = 0.25
param k = 1
let flux = u*dx(u)
periodic x
dt(u) - kappa*dxx(u) + flux - k*lap(v) = 0 on interior
dt(v) + v^3 - sin(u)/(1 + u^2) = d(u, y, z) + min(u, v) on interior
dn(v) = 0 on boundary
u = sin(2*pi*x) on initial
u = if(x > 0.5, 0, max(v, 0)) on x = 0 weight 10
exact u = exp(-pi^2*kappa*t)*sin(pi*x)
model  mlp(layers = [64], activation = tanh)
sample interior = 900, boundary = 120, x = 0 : 50, resample = every 10
solve  optimizer = engd, iterations = 1000, damping = 1e-8
";

const SNIPPETS: &[&str] = &[
    "u",
    "v",
    "x",
    "t",
    "kappa",
    "k",
    "flux",
    "dx(",
    "dxx(",
    "lap(",
    "dn(",
    "d(",
    ")",
    "(",
    "[",
    "]",
    ",",
    "=",
    "+",
    "-",
    "*",
    "/",
    "^",
    "&",
    "<",
    ">=",
    "min(",
    "if(",
    "if(u < v, ",
    "on",
    "interior",
    "boundary",
    "initial",
    " x = 1",
    "weight",
    "0",
    "1e400",
    "1/0",
    "log(-1)",
    "\n",
    "field ",
    "const ",
    "let ",
    "periodic ",
    "exact ",
    "data ",
    "\"f.csv\"",
    "obs.u",
    "sample ",
    "solve ",
    "model ",
    "mlp(",
];

#[test]
fn full_example_lowers() {
    let p = ok(FULL);
    // 2 PDE blocks + dn + face; x is periodic through the inputs, and the
    // initial condition of u (periodic in x with its derivatives) is built into its
    // ansatz.
    assert_eq!(p.blocks.len(), 4);
    assert_eq!(p.ansatz.len(), 1);
    assert_eq!(p.ansatz[0].conditions, ["u = sin(2*pi*x) on initial"]);
    assert_eq!(p.domain.factors.len(), 2);
    assert!(!p.blocks[0].linear && !p.blocks[1].linear);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Mutated files never panic the checker, and every label lies inside the source.
    #[test]
    fn mutated_files_never_panic(
        edits in proptest::collection::vec((0usize..2000, 0usize..6, 0usize..SNIPPETS.len()), 1..6)
    ) {
        let mut text = FULL.to_string();
        for (at, delete, snippet) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + delete).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(at..end, SNIPPETS[snippet]);
        }
        let (_, diags) = run(&text);
        for d in &diags {
            for label in &d.labels {
                proptest::prop_assert!(label.span.end as usize <= text.len(), "{d:?} in {text:?}");
                proptest::prop_assert!(label.span.start <= label.span.end);
            }
        }
    }
}

#[test]
fn lets_carry_their_restrictions_to_the_use() {
    let got = check_body(
        "let flux = dn(u)
let g = 2*u
dt(u) = flux on interior
g = 0 on boundary
flux = 0 on x = 0
exact u = g
",
    );
    assert_eq!(got, vec!["E0203@6:9", "E0213@9:11"]);
}

#[test]
fn exact_from_a_reference_file() {
    let dir = std::env::temp_dir().join(format!("pdec-ir-exact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("ref.csv"), "t,x,u\n0,0.5,1\n0.5,0.5,0.3\n").expect("write");
    std::fs::write(dir.join("novalue.csv"), "t,x\n0,0.5\n").expect("write");
    let source = format!("{HEADER}dt(u) = dxx(u) on interior\nexact u from \"ref.csv\"\n");
    let (file, _) = crate::syntax::parse(&source);
    let (p, diags) = lower(&file, &source, &dir);
    assert!(diags.is_empty(), "{diags:#?}");
    let p = p.expect("problem");
    match &p.exact[0].source {
        super::ExactSource::Data { set, column } => {
            assert_eq!(*column, 2);
            assert_eq!(set.coord_columns, vec![0, 1]);
            assert_eq!(set.values[2], vec![1.0, 0.3]);
        }
        other => panic!("expected data, got {other:?}"),
    }
    let source = format!("{HEADER}dt(u) = dxx(u) on interior\nexact u from \"novalue.csv\"\n");
    let (file, _) = crate::syntax::parse(&source);
    let (_, diags) = lower(&file, &source, &dir);
    let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec!["E0305"]);
}

#[test]
fn display_keeps_meaning_with_few_parentheses() {
    let p = ok(&format!(
        "{HEADER}dt(u) = (u + 1)*dx(u) - 2/(u^2 + 1) + (-u)^3 + u^(-1) - (x - t) on interior\n"
    ));
    assert_eq!(
        display_expr(&p, p.blocks[0].residual),
        "dt(u) - ((u + 1)*dx(u) - 2/(u^2 + 1) + (-u)^3 + u^(-1) - (x - t))"
    );
}

/// Value of block 0's residual with every leaf given a value derived from
/// its printed name, so two problems can be compared leaf by leaf.
fn value_by_names(p: &Problem) -> f64 {
    let leaf = |n: super::Node| {
        let name = match n {
            super::Node::Jet(j) => display_jet(p, j),
            super::Node::Coord(i) => p.coords[i].name.clone(),
            _ => String::from("?"),
        };
        // A fixed pseudo-random value in [0.2, 1.2) per name.
        let h = name.bytes().fold(1469598103934665603u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1099511628211)
        });
        0.2 + (h % 1000) as f64 / 1000.0
    };
    super::symbolic::eval(&p.exprs, p.blocks[0].residual, &leaf)
}

#[test]
fn printed_residuals_parse_back_to_the_same_function() {
    for body in [
        "dt(u) + u*dx(u) - 0.01/pi*dxx(u)",
        "-(u - x)^3/(1 + u^2) - exp(-u)*sin(x - t)",
        "u^2.5 - 2*(dx(u) - 3*(u - dxx(u)))",
        "-(-u) - (-(x*t))/2 + sqrt(u)*tanh(-dx(u))",
        "1/(1/(1/u)) - u/(x/t) + (u/x)/t",
    ] {
        let p1 = ok(&format!("{HEADER}{body} = 0 on interior\n"));
        let printed = display_expr(&p1, p1.blocks[0].residual);
        let p2 = ok(&format!("{HEADER}{printed} = 0 on interior\n"));
        let (a, b) = (value_by_names(&p1), value_by_names(&p2));
        assert!(
            (a - b).abs() <= 1e-12 * (1.0 + a.abs()),
            "{body} printed as {printed}: {a} vs {b}"
        );
    }
}

#[test]
fn piecewise_functions_lower_to_selects() {
    let p = ok("space x in [0, 1]
field u, v
const c = max(1, 2) + min(3, -1) + if(1 < 2, 10, 20)
-dxx(u) + min(u, v) = if(x > 0.5, c, 0) on interior
v - max(u, 0) = 0 on interior
u = if(x <= 0.5, u, 2*u) on boundary
v = 0 on boundary
model mlp(constraints = soft)
");
    let residual = |b: usize| display_expr(&p, p.blocks[b].residual);
    assert_eq!(residual(0), "min(u, v) - dxx(u) - if(x > 0.5, 11, 0)");
    assert_eq!(residual(1), "v - max(u, 0)");
    let lin = |b: usize| -> Vec<String> {
        p.blocks[b]
            .linearization
            .iter()
            .map(|(jet, e)| format!("{}: {}", display_jet(&p, *jet), display_expr(&p, *e)))
            .collect()
    };
    assert_eq!(
        lin(0),
        ["u: if(u <= v, 1, 0)", "v: if(u <= v, 0, 1)", "dxx(u): -1"]
    );
    assert!(!p.blocks[1].linear);
    // A switch on coordinates only keeps the equation linear in the jets.
    assert!(p.blocks[2].linear);
    assert_eq!(lin(2), ["u: 1 - if(x <= 0.5, 1, 2)"]);
}

#[test]
fn piecewise_misuse_is_located() {
    let header = "space x in [0, 1]\nfield u\nu = 0 on boundary\n";
    let at = |body: &str| check(&format!("{header}{body}\n"));
    assert_eq!(at("-dxx(u) = min(u) on interior"), ["E0207@4:11"]);
    assert_eq!(at("-dxx(u) = if(u, 1, 0) on interior"), ["E0227@4:14"]);
    assert_eq!(
        at("-dxx(u) = if(x < 1, 1, 0, 2) on interior"),
        ["E0207@4:11"]
    );
    assert_eq!(at("-dxx(u) = (u < 1) on interior"), ["E0226@4:12"]);
    assert_eq!(at("-dxx(u) = u < 1 on interior"), ["E0226@4:11"]);
    // Errors inside the parts are reported once, without a follow-up.
    assert_eq!(at("-dxx(u) = if(w < 1, 1, 0) on interior"), ["E0101@4:14"]);
    assert_eq!(at("-dxx(u) = max(w, 1) on interior"), ["E0101@4:15"]);
    assert_eq!(at("field min\n-dxx(u) = 1 on interior"), ["E0103@4:7"]);
    assert_eq!(at("-dxx(u) = min on interior"), ["E0107@4:11"]);
    assert_eq!(
        at("-dxx(u) = if(x < 1, 1, y = 0) on interior"),
        ["E0206@4:24"]
    );
}

/// `pdec check` lists the counts of the regions that some equation uses only.
#[test]
fn summary_lists_sample_counts_of_used_regions() {
    let sample = |equations: &str| {
        let p = ok(&format!(
            "time t in [0, 1]\nspace x in [0, 1]\nfield u\n{equations}\n\
             sample interior = 50, boundary = 40, initial = 30, x = 1 : 7\n\
             model mlp(constraints = soft)\n"
        ));
        super::describe::summary(&p).sample
    };
    assert_eq!(
        sample("dt(u) = dxx(u) on interior\nu = 0 on boundary"),
        "interior 50, boundary 40, sampler uniform, seed 0, test 10000"
    );
    assert_eq!(
        sample("dt(u) = dxx(u) on interior\nu = 0 on initial\nu = 0 on x = 1"),
        "interior 50, initial 30, x = 1: 7, sampler uniform, seed 0, test 10000"
    );
    // A face without a count of its own takes a share of `boundary`.
    assert_eq!(
        sample("dt(u) = dxx(u) on interior\nu = 0 on x = 0"),
        "interior 50, boundary 40, sampler uniform, seed 0, test 10000"
    );
}

const HOLE: &str = "shape outer = box([-1, 1], [-1, 1])
shape hole = disk((0, 0), r)
const r = 0.3
space z in [0, 2]
space (x, y) in outer - hole
field u
-lap(u) = 1 on interior
u = 0 on boundary of outer
dn(u) = 0 on boundary of hole
u = 0 on boundary
";

#[test]
fn named_shapes_build_domains_and_boundary_pieces() {
    use super::Shape;
    let p = ok(HOLE);
    // The interval coordinate's box comes first, so the shape's factor is 1.
    assert_eq!(p.domain.factors.len(), 2);
    assert_eq!(p.domain.factors[1].coords, vec![1, 2]);
    let outer = Shape::Box(vec![(-1.0, 1.0), (-1.0, 1.0)]);
    let hole = Shape::Ball {
        center: vec![0.0, 0.0],
        radius: 0.3,
    };
    assert_eq!(
        p.domain.factors[1].shape,
        Shape::Difference(Box::new(outer.clone()), Box::new(hole.clone()))
    );
    let piece = |name: &str, shape: Shape| Region::Piece {
        name: name.to_string(),
        factor: 1,
        shape,
    };
    assert_eq!(p.blocks[1].region, piece("outer", outer));
    assert_eq!(p.blocks[2].region, piece("hole", hole));
    assert_eq!(p.blocks[3].region, Region::Boundary);
    // `dn` is allowed on a piece and uses the spatial normal.
    assert_eq!(
        display_expr(&p, p.blocks[2].residual),
        "n_z*dz(u) + n_x*dx(u) + n_y*dy(u)"
    );
    assert_eq!(
        super::describe::region(&p, &p.blocks[2].region),
        "boundary of hole"
    );
    assert_eq!(
        super::describe::summary(&p).sample,
        "interior 1000, boundary 200, sampler uniform, seed 0, test 10000"
    );
    // A shape built from named shapes makes each of them part of the domain.
    let p = ok("shape a = disk((0, 0), 1)
shape b = a - disk((0, 0), 0.5)
space (x, y) in b & box([-2, 2], [0, 2])
field u
u = 0 on interior
u = 1 on boundary of a
u = 2 on boundary of b
");
    assert!(matches!(&p.blocks[1].region, Region::Piece { name, factor: 0, .. } if name == "a"));
    assert!(matches!(&p.blocks[2].region, Region::Piece { name, factor: 0, .. } if name == "b"));
}

#[test]
fn misused_shapes_are_located() {
    let header = "shape hole = disk((0, 0), 0.3)\nspace (x, y) in box([-1, 1], [-1, 1]) - hole\nfield u\n-lap(u) = 1 on interior\n";
    let at = |extra: &str| check(&format!("{header}{extra}"));
    // Unknown shape after `boundary of`, with a suggestion.
    assert_eq!(at("u = 0 on boundary of hol"), ["E0229@5:22"]);
    // A name that is not a shape.
    assert_eq!(at("u = 0 on boundary of u"), ["E0229@5:22"]);
    // Only `boundary of` names a piece.
    assert_eq!(at("u = 0 on interior of hole"), ["E0105@5:10"]);
    // A shape that no domain uses.
    assert_eq!(
        at("shape other = disk((0, 0), 0.5)\nu = 0 on boundary of other"),
        ["E0230@6:22"]
    );
    // A shape is not a value.
    assert_eq!(at("u = hole on boundary"), ["E0231@5:5"]);
    // Duplicate names share the one namespace.
    assert_eq!(at("shape u = disk((0, 0), 1)"), ["E0106@5:7"]);
    // A named shape of the wrong dimension, an unknown one, one that is not a shape.
    assert_eq!(
        check("shape b = ball((0, 0, 0), 1)\nspace (x, y) in b\nfield u\nu = 0 on interior"),
        ["E0219@2:17"]
    );
    assert_eq!(
        check("shape hole = disk((0, 0), 1)\nspace (x, y) in box([-1, 1], [-1, 1]) - hol\nfield u\nu = 0 on interior"),
        ["E0218@2:41"]
    );
    assert_eq!(
        check("field u\nspace (x, y) in box([-1, 1], [-1, 1]) - u\nu = 0 on interior"),
        ["E0218@2:41"]
    );
    // Shapes use earlier shapes only, and not themselves.
    assert_eq!(
        check(
            "shape a = b\nshape b = disk((0, 0), 1)\nspace (x, y) in b\nfield u\nu = 0 on interior"
        ),
        ["E0109@1:11"]
    );
    assert_eq!(
        check("shape a = a + disk((0, 0), 1)\nspace (x, y) in box([0, 1], [0, 1])\nfield u\nu = 0 on interior"),
        ["E0110@1:11"]
    );
    // A time-only problem has no boundary to take a piece of.
    assert_eq!(
        check("shape a = box([0, 1])\ntime t in [0, 1]\nfield u\ndt(u) = 0 on interior\nu = 0 on boundary of a"),
        ["E0228@5:10"]
    );
}

const CHANNEL: &str = "shape hole = disk((0.25, 0.5), 0.15)
space (x, y) in box([-0.5, 1], [-0.5, 1.5]) - hole
field u
const x1 = 1
-lap(u) = 1 on interior
u = 1 on boundary where x < -0.49
dn(u) = 0 on boundary where x = x1 and 2*y >= -1
u = 0 on boundary of hole where y > 0.5
";

#[test]
fn where_narrows_boundary_and_pieces() {
    use super::{Condition, Relation};
    let p = ok(CHANNEL);
    let Region::Where {
        base,
        conditions,
        text,
        ..
    } = &p.blocks[1].region
    else {
        panic!("{:?}", p.blocks[1].region)
    };
    assert_eq!(**base, Region::Boundary);
    assert_eq!(text, "x < -0.49");
    let [Condition {
        left,
        relation: Relation::Less,
        right,
    }] = conditions.as_slice()
    else {
        panic!("{conditions:?}")
    };
    assert_eq!(display_expr(&p, *left), "x");
    assert_eq!(display_expr(&p, *right), "-0.49");
    // Constants and expressions of coordinates; `and` joins conditions.
    let Region::Where { conditions, .. } = &p.blocks[2].region else {
        panic!()
    };
    let shown: Vec<String> = conditions
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {}",
                display_expr(&p, c.left),
                c.relation,
                display_expr(&p, c.right)
            )
        })
        .collect();
    assert_eq!(shown, ["x Equal 1", "2*y GreaterEq -1"]);
    // `dn` is allowed on a narrowed boundary.
    assert_eq!(
        display_expr(&p, p.blocks[2].residual),
        "n_x*dx(u) + n_y*dy(u)"
    );
    let Region::Where { base, .. } = &p.blocks[3].region else {
        panic!()
    };
    assert!(matches!(&**base, Region::Piece { name, factor: 0, .. } if name == "hole"));
    assert_eq!(
        super::describe::region(&p, &p.blocks[3].region),
        "boundary of hole where y > 0.5"
    );
    assert_eq!(
        super::describe::summary(&p).sample,
        "interior 1000, boundary 200, sampler uniform, seed 0, test 10000"
    );
}

#[test]
fn misused_where_is_located() {
    let header = "shape hole = disk((0.25, 0.5), 0.15)
space (x, y) in box([-0.5, 1], [-0.5, 1.5]) - hole
field u
param c = 1
-lap(u) = 1 on interior
";
    let at = |extra: &str| check(&format!("{header}{extra}"));
    // Only coordinates and constants: not a field, a param or a derivative.
    assert_eq!(at("u = 0 on boundary where u > 0"), ["E0240@6:25"]);
    assert_eq!(at("u = 0 on boundary where x < c"), ["E0240@6:29"]);
    assert_eq!(at("u = 0 on boundary where dx(u) > 0"), ["E0240@6:25"]);
    assert_eq!(
        at("u = 0 on boundary where x > 0 and dn(u) = 0"),
        ["E0240@6:35"]
    );
    // Unknown names are reported as anywhere.
    assert_eq!(at("u = 0 on boundary where z = 0"), ["E0101@6:25"]);
    // Only `boundary` and `boundary of NAME` take a condition.
    assert_eq!(at("u = 0 on interior where x < 0"), ["E0241@6:10"]);
    assert_eq!(at("u = 0 on initial where x < 0"), ["E0214@6:10"]);
    // The base's own errors come first, and stop there.
    assert_eq!(at("u = 0 on boundary of hol where x < 0"), ["E0229@6:22"]);
    // A comparison chain and a missing condition are syntax errors.
    assert_eq!(at("u = 0 on boundary where x < 0 < y")[0], "E0001@6:31");
    // `where` goes on to the next line, here the end of the file.
    assert_eq!(at("u = 0 on boundary where")[0], "E0002@6:23");
}

#[test]
fn field_of_some_coordinates() {
    let p = ok("space x in [0, 1]\nspace y in [0, 1]\ntime t in [0, 1]\n\
                field u, a(x), k(y, x), w(t, x, y)\n\
                dt(u) - lap(u) + dt(a) + dy(a) + lap(a) + lap(k) = 0 on interior\n\
                dn(a) = 0 on boundary\n");
    let labels: Vec<String> = (0..p.fields.len()).map(|k| p.field_label(k)).collect();
    assert_eq!(labels, ["u", "a(x)", "k(x, y)", "w"]);
    assert_eq!(p.fields[1].coords, Some(vec![0]));
    // Listed in any order, kept in declaration order; all coordinates is no list.
    assert_eq!(p.fields[2].coords, Some(vec![0, 1]));
    assert_eq!(p.fields[3].coords, None);
    // dt(a) and dy(a) are 0; lap(a) is dxx(a); lap(k) sums over x and y;
    // dn(a) has only its x component.
    assert_eq!(
        display_expr(&p, p.blocks[0].residual),
        "dt(u) - lap(u) + dxx(a) + dxx(k) + dyy(k)"
    );
    assert_eq!(display_expr(&p, p.blocks[1].residual), "n_x*dx(a)");
    for jet in &p.jets {
        if let super::Deriv::Partial(alpha) = &jet.deriv {
            for (i, &order) in alpha.iter().enumerate() {
                assert!(order == 0 || p.fields[jet.field].depends_on(i), "{jet:?}");
            }
        }
    }
}

#[test]
fn field_coordinate_errors() {
    let head = "space x in [0, 1]\ntime t in [0, 1]\n";
    let tail = "\ndt(u) = 0 on interior\n";
    for (fields, expected) in [
        ("field u, a(y)", vec!["E0108@3:12"]),
        ("field u, a(x, x)", vec!["E0111@3:15"]),
        ("field u, a()", vec!["E0232@3:11"]),
        ("field u, a(u)", vec!["E0108@3:12"]),
        ("field u, a(t, x, t)", vec!["E0111@3:18"]),
    ] {
        assert_eq!(
            check(&format!("{head}{fields}{tail}")),
            expected,
            "{fields}"
        );
    }
}
