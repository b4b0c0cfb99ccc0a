//! Malformed `.pde` files under `tests/bad/`: each file's rendered diagnostics are
//! snapshot-tested (no colour, width 100), and every `# expect: CODE LINE:COL`
//! annotation in a file must be reported at exactly that position.

use pdec::diagnostic::Diagnostic;
use std::path::Path;

fn bad_files() -> Vec<std::path::PathBuf> {
    // Relative to the package root (the working directory of integration tests), so
    // that paths in messages do not depend on where the checkout lives.
    let dir = Path::new("tests/bad");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/bad exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pde"))
        .collect();
    files.sort();
    files
}

/// `(code, line, column)` from `# expect: E0101 5:9` lines.
fn expectations(source: &str) -> Vec<(String, usize, usize)> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("# expect:"))
        .map(|rest| {
            let mut words = rest.split_whitespace();
            let code = words.next().expect("code").to_string();
            let (line, col) = words
                .next()
                .and_then(|p| p.split_once(':'))
                .expect("LINE:COL");
            (code, line.parse().unwrap(), col.parse().unwrap())
        })
        .collect()
}

fn check(path: &Path) -> (String, Vec<Diagnostic>) {
    let source = std::fs::read_to_string(path).expect("readable");
    let (_, diagnostics) = pdec::check_source(&source, path.parent().unwrap());
    (source, diagnostics)
}

#[test]
fn there_are_enough_bad_files() {
    assert!(bad_files().len() >= 25);
}

#[test]
fn every_bad_file_reports_its_expected_diagnostics() {
    let mut failures = Vec::new();
    for path in bad_files() {
        let (source, diagnostics) = check(&path);
        let expected = expectations(&source);
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            path.display()
        );
        let found: Vec<(String, usize, usize)> = diagnostics
            .iter()
            .map(|d| {
                let (line, col) = d.line_col(&source).unwrap_or((0, 0));
                (d.code.to_string(), line, col)
            })
            .collect();
        for e in &expected {
            if !found.contains(e) {
                failures.push(format!(
                    "{}: expected {} at {}:{}, found {:?}",
                    path.display(),
                    e.0,
                    e.1,
                    e.2,
                    found
                ));
            }
        }
        // Nothing unexpected: every reported diagnostic is annotated.
        for f in &found {
            if !expected.contains(f) {
                failures.push(format!(
                    "{}: unexpected {} at {}:{}",
                    path.display(),
                    f.0,
                    f.1,
                    f.2
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rendered_diagnostics_match_snapshots() {
    for path in bad_files() {
        let (source, diagnostics) = check(&path);
        let name = format!("bad/{}", path.file_name().unwrap().to_string_lossy());
        let rendered: String = diagnostics
            .iter()
            .map(|d| d.render_plain(&name, &source, 100))
            .collect::<Vec<_>>()
            .join("\n");
        let snapshot = path.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(snapshot, rendered);
    }
}
