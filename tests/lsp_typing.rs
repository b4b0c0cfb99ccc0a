//! Every example typed into the language service one character at a time: after each
//! change the server answers (diagnostics, completion at the cursor, hover just before
//! it) with ranges inside the document, and the finished text gets exactly the
//! diagnostics of `pdec check`.

use lsp_types::{
    CompletionParams, CompletionResponse, CompletionTextEdit, DidChangeTextDocumentParams,
    DidOpenTextDocumentParams, HoverParams, PartialResultParams, Position, Range,
    TextDocumentContentChangeEvent, TextDocumentIdentifier, TextDocumentItem,
    TextDocumentPositionParams, Uri, VersionedTextDocumentIdentifier, WorkDoneProgressParams,
};
use pdec::lsp::position::LineIndex;
use pdec::lsp::Workspace;
use std::path::Path;

/// Whether `position` addresses a place in `text` (a line that exists, a column at most
/// the line's length in UTF-16 units).
fn valid(text: &str, position: Position) -> bool {
    let Some(line) = text.split('\n').nth(position.line as usize) else {
        return false;
    };
    position.character as usize <= line.encode_utf16().count()
}

fn valid_range(text: &str, range: Range) -> bool {
    valid(text, range.start)
        && valid(text, range.end)
        && (range.start.line, range.start.character) <= (range.end.line, range.end.character)
}

fn at(uri: &Uri, position: Position) -> TextDocumentPositionParams {
    TextDocumentPositionParams::new(TextDocumentIdentifier::new(uri.clone()), position)
}

fn type_file(name: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let full = std::fs::read_to_string(&path).unwrap();
    let uri: Uri = format!("file://{}", path.display()).parse().unwrap();
    let mut workspace = Workspace::new();
    let opened = workspace.open(DidOpenTextDocumentParams {
        text_document: TextDocumentItem::new(uri.clone(), "pde".into(), 0, String::new()),
    });
    assert_eq!(opened.version, Some(0));
    let mut typed = String::new();
    let mut checks = 0;
    for (version, c) in full.chars().enumerate() {
        let version = version as i32 + 1;
        let end = LineIndex::new(&typed).position(&typed, typed.len());
        typed.push(c);
        let published = workspace
            .change(DidChangeTextDocumentParams {
                text_document: VersionedTextDocumentIdentifier::new(uri.clone(), version),
                content_changes: vec![TextDocumentContentChangeEvent {
                    range: Some(Range::new(end, end)),
                    range_length: None,
                    text: c.to_string(),
                }],
            })
            .expect("the document is open");
        assert_eq!(published.version, Some(version));
        assert_eq!(
            workspace.document(&uri).unwrap().text,
            typed,
            "{name}: edit applied"
        );
        for diagnostic in &published.diagnostics {
            assert!(
                valid_range(&typed, diagnostic.range),
                "{name} after {version} characters: {diagnostic:?}"
            );
        }
        let cursor = LineIndex::new(&typed).position(&typed, typed.len());
        let completion = workspace
            .completion(&CompletionParams {
                text_document_position: at(&uri, cursor),
                work_done_progress_params: WorkDoneProgressParams::default(),
                partial_result_params: PartialResultParams::default(),
                context: None,
            })
            .expect("an answer");
        let CompletionResponse::Array(items) = completion else {
            panic!("a list")
        };
        for item in &items {
            let Some(CompletionTextEdit::Edit(edit)) = &item.text_edit else {
                panic!("{item:?}")
            };
            assert_eq!(edit.range.end, cursor, "{name}: edits end at the cursor");
            assert!(valid_range(&typed, edit.range));
        }
        let before = Position::new(cursor.line, cursor.character.saturating_sub(1));
        if let Some(hover) = workspace.hover(&HoverParams {
            text_document_position_params: at(&uri, before),
            work_done_progress_params: WorkDoneProgressParams::default(),
        }) {
            assert!(valid_range(
                &typed,
                hover.range.expect("hovers have a range")
            ));
        }
        checks += 1;
    }
    // The finished file: the diagnostics of `pdec check` (none for an example).
    let doc = workspace.document(&uri).unwrap();
    let (problem, expected) = pdec::check_source(&full, path.parent().unwrap());
    assert!(problem.is_some(), "{name}: {expected:?}");
    assert_eq!(doc.diagnostics, expected);
    assert!(doc.problem.is_some());
    checks
}

#[test]
fn every_example_typed_character_by_character() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pde"))
        .collect();
    names.sort();
    assert!(names.len() >= 9);
    let mut total = 0;
    for name in &names {
        let start = std::time::Instant::now();
        total += type_file(name);
        eprintln!("{name}: {:.2} s", start.elapsed().as_secs_f64());
    }
    assert!(total > 5000, "{total} changes");
}
