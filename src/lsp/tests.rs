//! The language service on small documents: one `check` helper per feature.

use super::*;
use lsp_types::{Position, Uri};
use std::str::FromStr;

const HEAT: &str = "# Wärme: u_t = κ u_xx 𝜅\n\
time  t in [0, 1]\n\
space x in [0, 1]\n\
field u\n\
const kappa = 0.25\n\
let flux = kappa*dx(u)\n\
dt(u) - kappa*dxx(u) = 0   on interior\n\
u = sin(pi*x)              on initial\n\
u = 0                      on boundary\n\
exact u = exp(-pi^2*kappa*t)*sin(pi*x)\n\
model  mlp(layers = [16], activation = tanh, constraints = soft)\n\
sample interior = 300, boundary = 40, initial = 30\n\
solve  optimizer = engd, iterations = 100\n";

fn doc(text: &str) -> Document {
    Document::new(text.to_string(), 1, PathBuf::from("."))
}

/// The position of the `nth` occurrence of `needle`, plus `shift` characters.
fn at(doc: &Document, needle: &str, nth: usize, shift: usize) -> Position {
    let offset = doc.text.match_indices(needle).nth(nth).expect("needle").0;
    doc.index.position(&doc.text, offset + shift)
}

fn hover_text(doc: &Document, needle: &str, nth: usize) -> String {
    let hover =
        hover(doc, at(doc, needle, nth, 0)).unwrap_or_else(|| panic!("no hover on {needle}"));
    match hover.contents {
        lsp::HoverContents::Markup(markup) => markup.value,
        other => panic!("{other:?}"),
    }
}

#[test]
fn diagnostic_ranges_count_utf16_units_after_non_ascii_text() {
    // `kapa` is on a line after a comment with 'é' (2 bytes, 1 unit) and '𝜅' (4 bytes,
    // 2 units); on its own line it follows `é = ` only in a comment-free way.
    let text = "# é𝜅\nspace x in [0, 1]\nfield u\nconst kappa = 1\n-dxx(u) = kapa on interior # 𝜅\nu = 0 on boundary\n";
    let d = doc(text);
    let uri = Uri::from_str("file:///tmp/heat.pde").unwrap();
    let diagnostics = d.lsp_diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let diagnostic = &diagnostics[0];
    assert_eq!(
        diagnostic.code,
        Some(lsp::NumberOrString::String("E0101".into()))
    );
    assert_eq!(diagnostic.range.start, Position::new(4, 10));
    assert_eq!(diagnostic.range.end, Position::new(4, 14));
    assert!(
        diagnostic.message.starts_with("unknown identifier `kapa`"),
        "{}",
        diagnostic.message
    );
    assert!(
        diagnostic.message.contains("help: did you mean `kappa`?"),
        "{}",
        diagnostic.message
    );
    assert_eq!(diagnostic.severity, Some(lsp::DiagnosticSeverity::ERROR));

    // On the same line, after non-ASCII text: columns are UTF-16 units, not bytes
    // (`é` is 2 bytes, 1 unit; `𝜅` is 4 bytes, 2 units) nor characters.
    let text = "space x in [0, 1]\nfield u\nu = é𝜅 + 1 @ on interior\ndata obs from \"𝜅é.csv\"\n";
    let d = doc(text);
    let diagnostics = d.lsp_diagnostics(&uri);
    let range_of = |code: &str, needle: &str| {
        diagnostics
            .iter()
            .find(|d| {
                d.code == Some(lsp::NumberOrString::String(code.into()))
                    && d.message.contains(needle)
            })
            .unwrap_or_else(|| panic!("no {code} about {needle}: {diagnostics:?}"))
            .range
    };
    assert_eq!(
        range_of("E0003", "é𝜅"),
        lsp::Range::new(Position::new(2, 4), Position::new(2, 7))
    );
    assert_eq!(
        range_of("E0003", "@"),
        lsp::Range::new(Position::new(2, 12), Position::new(2, 13))
    );
    let path = diagnostics
        .iter()
        .find(|d| d.message.contains("𝜅é.csv"))
        .expect("missing data file")
        .range;
    assert_eq!(
        path,
        lsp::Range::new(Position::new(3, 14), Position::new(3, 23))
    );
}

#[test]
fn diagnostics_are_those_of_check_with_related_labels() {
    let text = "space x in [0, 1]\nfield u\nfield u\n-dxx(u) = 1 on interior\n";
    let d = doc(text);
    let (_, expected) = crate::check_source(text, Path::new("."));
    let uri = Uri::from_str("file:///a.pde").unwrap();
    let got = d.lsp_diagnostics(&uri);
    assert_eq!(got.len(), expected.len());
    for (lsp, ours) in got.iter().zip(&expected) {
        assert_eq!(
            lsp.code,
            Some(lsp::NumberOrString::String(ours.code.to_string()))
        );
        assert!(lsp.message.starts_with(&ours.message));
        assert_eq!(lsp.range, d.range(ours.span().unwrap()));
    }
    let duplicate = got
        .iter()
        .find(|d| d.code == Some(lsp::NumberOrString::String("E0106".into())))
        .unwrap();
    let related = duplicate
        .related_information
        .as_ref()
        .expect("the first declaration");
    assert_eq!(related.len(), 1);
    assert_eq!(related[0].location.range.start, Position::new(1, 6));
    assert_eq!(related[0].location.uri, uri);
}

#[test]
fn hover_says_what_each_name_is() {
    let d = doc(HEAT);
    assert!(d.problem.is_some(), "{:?}", d.diagnostics);
    let kappa = hover_text(&d, "kappa*dxx", 0);
    assert!(kappa.contains("**constant** `kappa`"), "{kappa}");
    assert!(kappa.contains("const kappa = 0.25"), "{kappa}");
    assert!(kappa.contains("lowered: `0.25`"), "{kappa}");
    let flux = hover_text(&d, "flux", 0);
    assert!(flux.contains("**let** `flux`"), "{flux}");
    assert!(flux.contains("lowered: `0.25*dx(u)`"), "{flux}");
    let x = hover_text(&d, "x in", 0);
    assert!(x.contains("**space coordinate** `x` ∈ [0, 1]"), "{x}");
    let t = hover_text(&d, "t in", 0);
    assert!(t.contains("**time coordinate** `t`"), "{t}");
    let u = hover_text(&d, "u\n", 0);
    assert!(
        u.contains("**field** `u`: an unknown function of (t, x)"),
        "{u}"
    );
    assert!(u.contains("exact solution: `u = "), "{u}");
    // Equations as `pdec check` numbers them, with the file's line of each.
    assert!(
        u.contains("appears in equations 1 (line 7), 2 (line 8), 3 (line 9)"),
        "{u}"
    );
    let dxx = hover_text(&d, "dxx", 0);
    assert!(dxx.contains("∂²u/∂x²"), "{dxx}");
    assert!(dxx.contains("α = (t: 0, x: 2)"), "{dxx}");
    let interior = hover_text(&d, "interior", 0);
    assert!(interior.contains("**region** `interior`"), "{interior}");
    assert!(interior.contains("300 training points"), "{interior}");
    assert!(
        interior.contains("residual `dt(u) - 0.25*dxx(u)`"),
        "{interior}"
    );
    assert!(interior.contains("jets: dt(u), dxx(u)"), "{interior}");
    // Under hard constraints (the default) the field's hover shows its ansatz
    // and the interior's residual is in the network's jets.
    let hard = doc(&HEAT.replace(", constraints = soft", ""));
    let u = hover_text(&hard, "u\n", 0);
    assert!(
        u.contains("hard constraints: `u = sin(3.141592653589793*x) + 4*x*(1 - x)*t·N_u"),
        "{u}"
    );
    // The built-in conditions leave the list: the interior's block is equation 1, on
    // line 7 of the file.
    assert!(u.contains("appears in equation 1 (line 7)"), "{u}");
    assert!(!u.contains("line 8") && !u.contains("line 9"), "{u}");
    let interior = hover_text(&hard, "interior", 0);
    assert!(
        interior.contains("dt(N_u)") && !interior.contains("dt(u)"),
        "{interior}"
    );
    let iterations = hover_text(&d, "iterations", 0);
    assert!(iterations.contains("default: `1000`"), "{iterations}");
    assert!(iterations.contains("in this file: `100`"), "{iterations}");
    let optimizer = hover_text(&d, "optimizer", 0);
    assert!(optimizer.contains("in this file: `engd`"), "{optimizer}");
    let layers = hover_text(&d, "layers", 0);
    assert!(layers.contains("in this file: `[16]`"), "{layers}");
    let sin = hover_text(&d, "sin", 0);
    assert!(sin.contains("**builtin function** `sin(x)`"), "{sin}");
    let keyword = hover_text(&d, "exact", 0);
    assert!(keyword.contains("**keyword** `exact`"), "{keyword}");
    // In a comment: nothing.
    assert!(hover(&d, at(&d, "Wärme", 0, 1)).is_none());
}

#[test]
fn hover_range_is_the_name_in_utf16_units() {
    // Line 0 has non-ASCII text; the hover on `dxx` in line 4 covers exactly `dxx`.
    let text = "# 𝜅𝜅 é\nspace x in [0, 1]\nfield u\nconst k = 2\n-dxx(u) = k on interior # ü\nu = 0 on boundary\n";
    let d = doc(text);
    let hover = hover(&d, at(&d, "dxx", 0, 1)).unwrap();
    assert_eq!(
        hover.range,
        Some(lsp::Range::new(Position::new(4, 1), Position::new(4, 4)))
    );
    // In the trailing comment, after the name: nothing.
    assert!(super::hover(&d, at(&d, "# ü", 0, 2)).is_none());
}

#[test]
fn hover_works_with_errors_elsewhere() {
    let text =
        "space x in [0, 1]\nfield u\nconst k = 2\n-k*dxx(u) = 1 on interior\nu = on boundary\n";
    let d = doc(text);
    assert!(d.problem.is_none());
    let k = hover_text(&d, "k*", 0);
    assert!(k.contains("**constant** `k`"), "{k}");
    assert!(k.contains("const k = 2"), "{k}");
}

#[test]
fn completion_offers_what_fits_the_place() {
    let d = doc(HEAT);
    let labels = |position: Position| -> Vec<String> {
        completion(&d, position)
            .into_iter()
            .map(|i| i.label)
            .collect()
    };
    // In an expression: declared names, builtins and derivative forms.
    let expression = labels(at(&d, "kappa*dxx", 0, 0));
    for expected in [
        "kappa", "u", "x", "t", "sin", "pi", "dxx(u)", "dt(u)", "dn(u)", "flux",
    ] {
        assert!(
            expression.contains(&expected.to_string()),
            "{expected} missing: {expression:?}"
        );
    }
    // The typed word filters: `ka` after `dt(u) - ` offers kappa, not sin.
    let typed = labels(at(&d, "kappa*dxx", 0, 2));
    assert!(typed.contains(&"kappa".to_string()), "{typed:?}");
    assert!(!typed.contains(&"sin".to_string()), "{typed:?}");
    // After `on`: regions.
    let regions = labels(at(&d, "interior", 0, 0));
    assert!(
        regions.contains(&"interior".to_string()) && regions.contains(&"initial".to_string()),
        "{regions:?}"
    );
    assert!(regions.contains(&"x = 0".to_string()), "{regions:?}");
    assert!(!regions.contains(&"sin".to_string()), "{regions:?}");
    // Keys of `solve` and values of `optimizer`.
    let keys = labels(at(&d, "iterations", 0, 0));
    assert!(
        keys.contains(&"iterations".to_string()) && keys.contains(&"damping".to_string()),
        "{keys:?}"
    );
    let optimizers = labels(at(&d, "engd", 0, 0));
    assert!(
        optimizers.contains(&"engd".to_string()) && optimizers.contains(&"lbfgs".to_string()),
        "{optimizers:?}"
    );
    let activations = labels(at(&d, "tanh", 0, 0));
    assert!(activations.contains(&"silu".to_string()), "{activations:?}");
    let sample = labels(at(&d, "boundary = 40", 0, 0));
    assert!(
        sample.contains(&"resample".to_string()) && sample.contains(&"x".to_string()),
        "{sample:?}"
    );
    // Values of `adaptive`: both methods.
    let adaptive = doc(&HEAT.replace("initial = 30", "initial = 30, adaptive = rad"));
    let methods: Vec<String> = completion(&adaptive, at(&adaptive, "rad", 0, 0))
        .into_iter()
        .map(|i| i.label)
        .collect();
    assert!(
        methods.contains(&"rad".to_string()) && methods.contains(&"rar".to_string()),
        "{methods:?}"
    );
    // At the start of a line: statement keywords.
    let start = labels(at(&d, "exact", 0, 0));
    assert!(
        start.contains(&"exact".to_string()) && start.contains(&"solve".to_string()),
        "{start:?}"
    );
    // Every edit replaces exactly the word being typed.
    for item in completion(&d, at(&d, "iterations", 0, 4)) {
        let Some(lsp::CompletionTextEdit::Edit(edit)) = item.text_edit else {
            panic!()
        };
        assert_eq!(
            edit.range,
            lsp::Range::new(at(&d, "iterations", 0, 0), at(&d, "iterations", 0, 4))
        );
    }
}

#[test]
fn completion_of_data_columns() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let text = std::fs::read_to_string(dir.join("inverse_poisson1d.pde")).unwrap();
    let d = Document::new(text, 1, dir);
    let position = at(&d, "obs.u", 0, 4);
    let labels: Vec<String> = completion(&d, position)
        .into_iter()
        .map(|i| i.label)
        .collect();
    assert_eq!(labels, vec!["x".to_string(), "u".to_string()]);
}

#[test]
fn definition_and_symbols() {
    let d = doc(HEAT);
    let span = definition(&d, at(&d, "kappa*dxx", 0, 2)).unwrap();
    assert_eq!(d.slice(span), "kappa");
    assert_eq!(d.range(span).start, Position::new(4, 6));
    let span = definition(&d, at(&d, "pi*x", 0, 3)).unwrap();
    assert_eq!(d.range(span).start, Position::new(2, 6));
    assert!(definition(&d, at(&d, "sin", 0, 0)).is_none());
    let symbols = document_symbols(&d);
    let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(&names[..5], &["t", "x", "u", "kappa", "flux"]);
    assert!(
        names.contains(&"dt(u) - kappa*dxx(u) = 0 on interior"),
        "{names:?}"
    );
    assert!(
        names.contains(&"exact u") && names.contains(&"solve"),
        "{names:?}"
    );
}

#[test]
fn incremental_changes_in_utf16_ranges() {
    let mut d = doc("# 𝜅\nspace x in [0, 1]\nfield u\n-dxx(u) = 1 on interor\nu = 0 on boundary\n");
    assert!(d.diagnostics.iter().any(|d| d.code == "E0105"));
    // Replace `interor` (line 3, columns 15..22) by `interior`.
    let change = lsp::TextDocumentContentChangeEvent {
        range: Some(lsp::Range::new(Position::new(3, 15), Position::new(3, 22))),
        range_length: None,
        text: "interior".to_string(),
    };
    d.apply_changes(2, vec![change]);
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.version, 2);
    // An edit after the surrogate pair on line 0: column 3 is after `# 𝜅`.
    let change = lsp::TextDocumentContentChangeEvent {
        range: Some(lsp::Range::new(Position::new(0, 4), Position::new(0, 4))),
        range_length: None,
        text: "!".to_string(),
    };
    d.apply_changes(3, vec![change]);
    assert!(d.text.starts_with("# 𝜅!\n"), "{:?}", &d.text[..10]);
}

#[test]
fn base_dir_of_file_uris() {
    let uri = Uri::from_str("file:///home/me/My%20Problems/heat.pde").unwrap();
    assert_eq!(base_dir_of(&uri), PathBuf::from("/home/me/My Problems"));
    let uri = Uri::from_str("untitled:Untitled-1").unwrap();
    assert_eq!(base_dir_of(&uri), PathBuf::from("."));
}

#[test]
fn did_you_mean_becomes_a_quick_fix() {
    let text = "space x in [0, 1]\nfield u\nconst kappa = 1\n-dxx(u) = kapa on interior\nu = 0 on bondary\n";
    let d = doc(text);
    let uri = Uri::from_str("file:///a.pde").unwrap();
    let diagnostics = d.lsp_diagnostics(&uri);
    let actions = code_actions(&uri, &diagnostics);
    let edits: Vec<(lsp::Range, String)> = actions
        .iter()
        .map(|action| {
            let lsp::CodeActionOrCommand::CodeAction(action) = action else {
                panic!()
            };
            assert_eq!(action.kind, Some(lsp::CodeActionKind::QUICKFIX));
            let edits = &action.edit.as_ref().unwrap().changes.as_ref().unwrap()[&uri];
            (edits[0].range, edits[0].new_text.clone())
        })
        .collect();
    assert_eq!(
        edits,
        vec![
            (
                lsp::Range::new(Position::new(3, 10), Position::new(3, 14)),
                "kappa".to_string()
            ),
            (
                lsp::Range::new(Position::new(4, 9), Position::new(4, 16)),
                "boundary".to_string()
            ),
        ]
    );
}

#[test]
fn grids_hover_with_their_lines_and_complete_in_expressions_not_regions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let text = std::fs::read_to_string(dir.join("heat_gridded.pde")).unwrap();
    let d = Document::new(text, 1, dir);
    assert!(d.problem.is_some(), "{:?}", d.diagnostics);
    let k = hover_text(&d, "k from", 0);
    assert!(k.contains("**grid** `k`"), "{k}");
    assert!(k.contains("65 lines in x, 65 lines in t"), "{k}");
    let labels = |position| -> Vec<String> {
        completion(&d, position)
            .into_iter()
            .map(|item| item.label)
            .collect()
    };
    let in_expression = labels(at(&d, "k*dx(u)) = f", 0, 0));
    assert!(in_expression.iter().any(|l| l == "k"), "{in_expression:?}");
    let in_region = labels(at(&d, "interior", 0, 0));
    assert!(!in_region.iter().any(|l| l == "k"), "{in_region:?}");
    assert!(in_region.iter().any(|l| l == "interior"), "{in_region:?}");
}

#[test]
fn hover_on_params_data_sets_and_columns() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let text = std::fs::read_to_string(dir.join("inverse_poisson1d.pde")).unwrap();
    let d = Document::new(text, 1, dir);
    assert!(d.problem.is_some(), "{:?}", d.diagnostics);
    let k = hover_text(&d, "k*dxx", 0);
    assert!(
        k.contains("**param** `k`: trainable, initial value 1"),
        "{k}"
    );
    let obs = hover_text(&d, "obs from", 0);
    assert!(obs.contains("**data set** `obs`: 25 rows"), "{obs}");
    assert!(obs.contains("columns x, u"), "{obs}");
    let member = hover(&d, at(&d, "obs.u", 0, 4)).unwrap();
    let lsp::HoverContents::Markup(member) = member.contents else {
        panic!()
    };
    assert!(
        member
            .value
            .contains("**column** `u` of the data set `obs`"),
        "{}",
        member.value
    );
    let region = hover_text(&d, "obs   weight", 0);
    assert!(region.contains("the rows of data set `obs`"), "{region}");
    assert!(region.contains("weight 10"), "{region}");
    // Go to definition from the column's data set.
    let span = definition(&d, at(&d, "obs.u", 0, 4)).unwrap();
    assert_eq!(d.slice(span), "obs");
    assert!(d.range(span).start.line < at(&d, "obs.u", 0, 0).line);
}

#[test]
fn named_shapes_are_symbols_with_hovers_definitions_and_completions() {
    let text = "shape outer = box([-1, 1], [-1, 1])\n\
shape hole = disk((0, 0), 0.3)\n\
space (x, y) in outer - hole\n\
field u\n\
-lap(u) = 1 on interior\n\
u = 0 on boundary of outer\n\
dn(u) = 0 on boundary of hole\n";
    let d = doc(text);
    assert!(d.problem.is_some(), "{:?}", d.diagnostics);
    let symbols = document_symbols(&d);
    let shapes: Vec<(&str, lsp::SymbolKind)> = symbols
        .iter()
        .filter(|s| s.detail.as_deref() == Some("shape"))
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    assert_eq!(
        shapes,
        [
            ("outer", lsp::SymbolKind::CLASS),
            ("hole", lsp::SymbolKind::CLASS)
        ]
    );
    // The name after `boundary of` and in the domain lead to the declaration.
    let span = definition(&d, at(&d, "of hole", 0, 4)).unwrap();
    assert_eq!(d.range(span).start, Position::new(1, 6));
    let span = definition(&d, at(&d, "- hole", 0, 3)).unwrap();
    assert_eq!(d.range(span).start, Position::new(1, 6));
    let hover = hover_text(&d, "hole =", 0);
    assert!(hover.contains("**shape** `hole`"), "{hover}");
    assert!(hover.contains("`disk((0, 0), 0.3)`"), "{hover}");
    assert!(
        hover.contains("`boundary of hole` holds equation 3 (line 7)"),
        "{hover}"
    );
    let hover = hover_text(&d, "of", 0);
    assert!(hover.contains("named shape"), "{hover}");
    // After `on boundary of`: the shapes, and nothing else.
    let labels: Vec<String> = completion(&d, at(&d, "hole\n", 1, 0))
        .into_iter()
        .map(|i| i.label)
        .collect();
    assert_eq!(labels, ["outer", "hole"]);
}

#[test]
fn where_conditions_hover_and_complete() {
    let text = "shape hole = disk((0.25, 0.5), 0.15)\n\
space (x, y) in box([-0.5, 1], [-0.5, 1.5]) - hole\n\
const x1 = 1\n\
field u\n\
-lap(u) = 1 on interior\n\
u = 0 on boundary where x = x1\n\
dn(u) = 0 on boundary of hole where y > 0.5\n";
    let d = doc(text);
    assert!(d.problem.is_some(), "{:?}", d.diagnostics);
    let hover = hover_text(&d, "where x", 0);
    assert!(hover.contains("comparisons of coordinates"), "{hover}");
    let hover = hover_text(&d, "boundary where", 0);
    assert!(hover.contains("on `boundary where x = x1`"), "{hover}");
    // The shape's hover counts the equation on its narrowed piece.
    let hover = hover_text(&d, "hole =", 0);
    assert!(
        hover.contains("`boundary of hole` holds equation 3 (line 7)"),
        "{hover}"
    );
    let labels = |position| -> Vec<String> {
        completion(&d, position)
            .into_iter()
            .map(|i| i.label)
            .collect()
    };
    let typing = doc(&format!("{text}u = 1 on boundary where y < 1 "));
    let after_comparison: Vec<String> = completion(&typing, at(&typing, "y < 1 ", 0, 6))
        .into_iter()
        .map(|i| i.label)
        .collect();
    // After `where`: coordinates and constants, no field or shape.
    let after_where = labels(at(&d, "x = x1", 0, 0));
    for wanted in ["x", "y", "x1", "pi"] {
        assert!(after_where.iter().any(|l| l == wanted), "{after_where:?}");
    }
    assert!(
        !after_where.iter().any(|l| l == "u" || l == "hole"),
        "{after_where:?}"
    );
    // After a comparison: `and` or `weight`; after `boundary of hole`: `where` or `weight`.
    assert_eq!(after_comparison, ["and", "weight"]);
    assert_eq!(labels(at(&d, " where y", 0, 1)), ["where", "weight"]);
    assert_eq!(labels(at(&d, " where x", 0, 1)), ["of", "where"]);
}
