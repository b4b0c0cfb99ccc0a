//! Property tests of the parser: random token soup, mutated valid files and
//! pathological inputs never panic, and every failure is reported with
//! diagnostics whose spans lie inside the source.

use pdec::diagnostic::Diagnostic;
use pdec::syntax::ast::{
    ConfigValue, ExactSource, Expr, ExprKind, File, ItemKind, Region, RegionKind,
};
use pdec::syntax::parse;
use proptest::prelude::*;

const HEAT: &str = "# 1D heat equation
time  t in [0, 1]
space x in [0, 1]
space (y, z) in disk((0, 0), 1) - box([0, 1], [0, 1]) & ball((0, 0), 2)
field u, v
const kappa = 0.25
data obs from \"obs.csv\"

dt(u) - kappa*dxx(u) = 0      on interior
u = sin(pi*x)                 on initial
u = 0                         on x = 0 weight 10
u - obs.u = 0                 on obs

exact u = exp(-pi^2*kappa*t)*sin(pi*x)

model  mlp(layers = [64], activation = tanh)
sample interior = 900, boundary = 120, x = 0 : 50, resample = every 10
solve  optimizer = engd, iterations = 1000
";

fn contains_error_expr(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Error => true,
        ExprKind::Neg(inner) => contains_error_expr(inner),
        ExprKind::Binary { lhs, rhs, .. } => contains_error_expr(lhs) || contains_error_expr(rhs),
        ExprKind::Call { args, .. } => args.iter().any(|a| contains_error_expr(&a.value)),
        ExprKind::List(items) | ExprKind::Tuple(items) => items.iter().any(contains_error_expr),
        ExprKind::Number { value, .. } => !value.is_finite(),
        ExprKind::Name(_) | ExprKind::Member { .. } => false,
    }
}

fn region_contains_error(region: &Region) -> bool {
    match &region.kind {
        RegionKind::Face { value, .. } => contains_error_expr(value),
        RegionKind::Where { base, conditions } => {
            region_contains_error(base)
                || conditions
                    .iter()
                    .any(|c| contains_error_expr(&c.lhs) || contains_error_expr(&c.rhs))
        }
        RegionKind::Named(_) | RegionKind::BoundaryOf { .. } => false,
    }
}

/// Whether the file holds any node that stands for a failure.
fn contains_error(file: &File) -> bool {
    file.items.iter().any(|item| match &item.kind {
        ItemKind::Error => true,
        ItemKind::Space { domain: e, .. }
        | ItemKind::Time { interval: e, .. }
        | ItemKind::Const { value: e, .. }
        | ItemKind::Param { init: e, .. }
        | ItemKind::Let { value: e, .. }
        | ItemKind::Shape { value: e, .. }
        | ItemKind::Model { value: e }
        | ItemKind::Exact {
            source: ExactSource::Expr(e),
            ..
        } => contains_error_expr(e),
        ItemKind::Equation {
            lhs,
            rhs,
            region,
            weight,
        } => {
            contains_error_expr(lhs)
                || contains_error_expr(rhs)
                || weight.as_ref().is_some_and(contains_error_expr)
                || region_contains_error(region)
        }
        ItemKind::Sample { entries } | ItemKind::Solve { entries } => entries.iter().any(|entry| {
            let (value, every) = match &entry.value {
                ConfigValue::Expr(e) | ConfigValue::Every(e) => (e, None),
                ConfigValue::WithEvery(e, every) => (e, Some(every)),
            };
            contains_error_expr(value)
                || every.is_some_and(contains_error_expr)
                || entry.count.as_ref().is_some_and(contains_error_expr)
        }),
        ItemKind::Field { .. }
        | ItemKind::Data { .. }
        | ItemKind::Periodic { .. }
        | ItemKind::Exact { .. } => false,
    })
}

fn check_spans(source: &str, diagnostics: &[Diagnostic]) -> Result<(), TestCaseError> {
    for diagnostic in diagnostics {
        prop_assert!(!diagnostic.labels.is_empty(), "{diagnostic:?}");
        prop_assert!(diagnostic.code.starts_with("E000"), "{diagnostic:?}");
        for label in &diagnostic.labels {
            let (start, end) = (label.span.start as usize, label.span.end as usize);
            prop_assert!(start <= end && end <= source.len(), "{diagnostic:?}");
            prop_assert!(
                source.is_char_boundary(start) && source.is_char_boundary(end),
                "{diagnostic:?}"
            );
        }
    }
    Ok(())
}

/// The whole contract of `parse` on one input.
fn check_parse(source: &str) -> Result<(), TestCaseError> {
    let (file, diagnostics) = parse(source);
    check_spans(source, &diagnostics)?;
    for item in &file.items {
        prop_assert!(item.span.start <= item.span.end && item.span.end as usize <= source.len());
    }
    if contains_error(&file) {
        prop_assert!(
            !diagnostics.is_empty(),
            "error node without diagnostic: {source:?}"
        );
    }
    if diagnostics.is_empty() {
        prop_assert!(!contains_error(&file), "{source:?}");
    }
    Ok(())
}

fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "space",
        "time",
        "field",
        "const",
        "param",
        "let",
        "data",
        "from",
        "periodic",
        "exact",
        "model",
        "sample",
        "solve",
        "on",
        "in",
        "weight",
        "every",
        "shape",
        "of",
        "where",
        "and",
        "u",
        "x",
        "t",
        "interior",
        "boundary",
        "sin",
        "dx",
        "disk",
        "mlp",
        "0",
        "1",
        "0.25",
        ".5",
        "1e-3",
        "2.5E+4",
        "1e999",
        "\"a.csv\"",
        "\"open",
        "(",
        ")",
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
        ":",
        ".",
        "\n",
        "\n",
        "\n",
        "# note\n",
        "@",
        "é",
        " ",
    ])
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop_oneof![
        prop::sample::select(vec![
            '(', ')', '[', ']', ',', '=', '-', '^', '\n', '"', '#', ' ', 'x'
        ]),
        any::<char>(),
    ];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), ch).prop_map(|(i, c)| Edit::Replace(i, c)),
    ]
}

fn apply(source: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for edit in edits {
        let len = chars.len();
        match *edit {
            Edit::Insert(i, c) => chars.insert(i % (len + 1), c),
            Edit::Delete(i) if len > 0 => {
                chars.remove(i % len);
            }
            Edit::Replace(i, c) if len > 0 => chars[i % len] = c,
            _ => {}
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(token(), 0..80), glue in prop::bool::ANY) {
        let source = tokens.join(if glue { " " } else { "" });
        check_parse(&source)?;
    }

    #[test]
    fn mutated_example_never_panics(edits in prop::collection::vec(edit(), 1..8)) {
        let source = apply(HEAT, &edits);
        check_parse(&source)?;
    }

    #[test]
    fn random_text_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let source = String::from_utf8_lossy(&bytes);
        check_parse(&source)?;
    }
}

#[test]
fn example_is_clean() {
    let (file, diagnostics) = parse(HEAT);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(file.items.len(), 14);
    assert!(!contains_error(&file));
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
    diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn deep_nesting_is_cut() {
    let source = format!("u = {}\nfield v\n", "(".repeat(100_000));
    let (file, diagnostics) = parse(&source);
    assert_eq!(codes(&diagnostics), ["E0007"]);
    assert!(matches!(
        file.items.last().map(|i| &i.kind),
        Some(ItemKind::Field { .. })
    ));

    let source = format!("const a = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(codes(&parse(&source).1), ["E0007"]);
    let source = format!("const a = {}x", "-".repeat(100_000));
    assert_eq!(codes(&parse(&source).1), ["E0007"]);
    let source = format!("const a = x{}", "^x".repeat(100_000));
    assert_eq!(codes(&parse(&source).1), ["E0007"]);
    let source = format!("const a = x{}", "^-x".repeat(100_000));
    assert_eq!(codes(&parse(&source).1), ["E0007"]);
}

#[test]
fn very_long_lines_finish() {
    // 1 MB statements: a flat sum parses into a tree that is too deep, and is cut.
    let sum = format!("const a = 1{}\nfield u\n", " + x".repeat(250_000));
    let (file, diagnostics) = parse(&sum);
    assert_eq!(codes(&diagnostics), ["E0007"]);
    assert_eq!(file.items.len(), 2);
    // A wide list is flat, so it is fine.
    let list = format!("model mlp(layers = [{}1])\n", "1, ".repeat(300_000));
    let (file, diagnostics) = parse(&list);
    assert!(diagnostics.is_empty(), "{:?}", diagnostics.first());
    assert_eq!(file.items.len(), 1);
    // A long line of junk: one error for the statement, then parsing goes on.
    let junk = format!("u = {}\nfield u\n", "x ".repeat(500_000));
    let (file, diagnostics) = parse(&junk);
    assert_eq!(codes(&diagnostics), ["E0001"]);
    assert_eq!(file.items.len(), 2);
    let invalid = format!("u = {}\n", "@".repeat(200_000));
    let (_, diagnostics) = parse(&invalid);
    assert!(!diagnostics.is_empty());
}
