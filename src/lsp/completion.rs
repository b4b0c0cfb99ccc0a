//! `textDocument/completion`: keywords, declared names, builtin functions, derivative
//! forms, regions, and the keys and values of `model`, `sample` and `solve`, chosen
//! by the text of the statement before the cursor (which need not parse yet).

use super::docs;
use super::hover::{floor_boundary, in_comment};
use super::symbols::{DeclKind, Section};
use super::Document;
use crate::span::Span;
use lsp_types as lsp;
use lsp_types::CompletionItemKind as Kind;

/// The completions at `position`, filtered by the word being typed (its letters in order).
pub fn completion(doc: &Document, position: lsp::Position) -> Vec<lsp::CompletionItem> {
    let offset = floor_boundary(&doc.text, doc.offset(position));
    if in_comment(doc, offset) || in_string(doc, offset) {
        return Vec::new();
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let word_start = doc.text[..offset]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let word = &doc.text[word_start..offset];
    let before = statement_before(&doc.text, word_start);
    let mut items = Items::default();
    candidates(doc, &before, &mut items);
    let range = doc.range(Span::new(word_start, offset));
    let mut seen = std::collections::HashSet::new();
    items
        .0
        .into_iter()
        .filter(|item| subsequence(word, &item.label) && seen.insert(item.label.clone()))
        .map(|mut item| {
            let text = item
                .insert_text
                .take()
                .unwrap_or_else(|| item.label.clone());
            item.text_edit = Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit::new(
                range, text,
            )));
            item
        })
        .collect()
}

/// Whether the letters of `typed` appear in `label` in order (case-insensitive).
fn subsequence(typed: &str, label: &str) -> bool {
    let mut label = label.chars().map(|c| c.to_ascii_lowercase());
    typed
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .all(|t| label.any(|l| l == t))
}

/// Whether `offset` is inside a string literal of its line.
fn in_string(doc: &Document, offset: usize) -> bool {
    let line_start = doc.text[..offset].rfind('\n').map_or(0, |i| i + 1);
    doc.text[line_start..offset].matches('"').count() % 2 == 1
}

/// The text of the statement from its start to `offset`: the current line, joined with
/// the lines before it while they end with something that continues a statement.
fn statement_before(text: &str, offset: usize) -> String {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut start = line_start;
    while start > 0 {
        let previous_start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        let previous = strip_comment(&text[previous_start..start - 1]);
        let previous = previous.trim_end();
        // As in the lexer: after these a statement goes on on the next line.
        let continues = previous.ends_with([
            ',', '=', '+', '-', '*', '/', '^', '&', ':', '(', '[', '<', '>',
        ]) || [" where", " and"]
            .iter()
            .any(|word| previous.ends_with(word));
        if !continues {
            break;
        }
        start = previous_start;
    }
    text[start..offset]
        .lines()
        .map(strip_comment)
        .collect::<Vec<_>>()
        .join(" ")
}

fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The words and symbols of a statement prefix.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let len = if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

#[derive(Default)]
struct Items(Vec<lsp::CompletionItem>);

impl Items {
    fn push(&mut self, label: impl Into<String>, kind: Kind, detail: impl Into<String>) {
        self.0.push(lsp::CompletionItem {
            label: label.into(),
            kind: Some(kind),
            detail: Some(detail.into()),
            ..Default::default()
        });
    }

    fn push_table(&mut self, table: &[(&str, &str)], kind: Kind) {
        for (name, text) in table {
            self.push(*name, kind, *text);
        }
    }
}

fn candidates(doc: &Document, before: &str, items: &mut Items) {
    let tokens = tokens(before);
    let first = tokens.first().copied().unwrap_or("");
    let last = tokens.last().copied().unwrap_or("");
    // `obs.` → the columns of `obs`.
    if let Some(base) = before
        .trim_end()
        .strip_suffix('.')
        .filter(|_| before.ends_with('.'))
    {
        let base = base
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        if let Some(set) = doc
            .problem
            .as_ref()
            .and_then(|p| p.data.iter().find(|d| d.name == base))
        {
            for column in &set.columns {
                items.push(column.clone(), Kind::FIELD, format!("column of `{base}`"));
            }
        }
        return;
    }
    if tokens.is_empty() {
        items.push_table(&docs::STATEMENT_KEYWORDS, Kind::KEYWORD);
        expression_items(doc, items);
        return;
    }
    let section = match first {
        "model" => Some(Section::Model),
        "sample" => Some(Section::Sample),
        "solve" => Some(Section::Solve),
        _ => None,
    };
    if let Some(section) = section {
        if section == Section::Model && !tokens.contains(&"(") {
            items.push(
                "mlp",
                Kind::CONSTRUCTOR,
                "`mlp(layers = [...], activation = ...)`",
            );
            return;
        }
        if last == "=" {
            let key = tokens
                .get(tokens.len().wrapping_sub(2))
                .copied()
                .unwrap_or("");
            if let Some(entry) = docs::keys(section).iter().find(|k| k.name == key) {
                for word in entry.words {
                    items.push(*word, Kind::ENUM_MEMBER, format!("value of `{key}`"));
                }
            }
            declared(doc, items, |kind| kind == DeclKind::Const);
            return;
        }
        if matches!(last, "," | "(") || tokens.len() == 1 {
            for key in docs::keys(section) {
                items.push(
                    key.name,
                    Kind::PROPERTY,
                    format!("{} (default {})", key.meaning, key.default),
                );
            }
            if section == Section::Sample {
                declared(doc, items, |kind| {
                    kind == DeclKind::Space || kind == DeclKind::Time
                });
            }
        }
        return;
    }
    match first {
        "space" | "time" => {
            if tokens.contains(&"in") && first == "space" {
                items.push_table(&docs::SHAPES, Kind::CONSTRUCTOR);
                declared(doc, items, |kind| kind == DeclKind::Shape);
            } else if !tokens.contains(&"in") && tokens.len() >= 2 {
                items.push("in", Kind::KEYWORD, "the domain follows");
            }
            if tokens.contains(&"in") {
                declared(doc, items, |kind| kind == DeclKind::Const);
            }
        }
        "shape" if tokens.contains(&"=") => {
            items.push_table(&docs::SHAPES, Kind::CONSTRUCTOR);
            declared(doc, items, |kind| {
                kind == DeclKind::Shape || kind == DeclKind::Const
            });
        }
        "shape" => {}
        "exact" if tokens.len() == 1 => declared(doc, items, |kind| kind == DeclKind::Field),
        "periodic" => declared(doc, items, |kind| kind == DeclKind::Space),
        "data" if tokens.len() == 2 => items.push("from", Kind::KEYWORD, "the CSV file follows"),
        "field" | "data" => {}
        "const" | "param" | "let" if !tokens.contains(&"=") => {}
        _ => {
            let on = tokens.iter().rposition(|t| *t == "on");
            let condition = on.and_then(|at| tokens[at..].iter().position(|t| *t == "where"));
            match on {
                Some(at) if at + 1 == tokens.len() => region_items(doc, items),
                // `on boundary where |`, `... and |`, `x < |`: coordinates and constants;
                // after an operand, `and` or `weight`.
                Some(_) if condition.is_some() => {
                    if matches!(
                        last,
                        "where"
                            | "and"
                            | "="
                            | "<"
                            | "<="
                            | ">"
                            | ">="
                            | "("
                            | "+"
                            | "-"
                            | "*"
                            | "/"
                            | "^"
                    ) {
                        declared(doc, items, |kind| {
                            matches!(kind, DeclKind::Space | DeclKind::Time | DeclKind::Const)
                        });
                        items.push_table(&docs::BUILTIN_CONSTANTS, Kind::CONSTANT);
                    } else {
                        items.push_table(&docs::OTHER_KEYWORDS[7..8], Kind::KEYWORD);
                        items.push_table(&docs::OTHER_KEYWORDS[3..4], Kind::KEYWORD);
                    }
                }
                // `on boundary of hole |`: a condition or a weight.
                Some(at) if at + 4 == tokens.len() && tokens[at + 2] == "of" => {
                    items.push_table(&docs::OTHER_KEYWORDS[6..7], Kind::KEYWORD);
                    items.push_table(&docs::OTHER_KEYWORDS[3..4], Kind::KEYWORD);
                }
                // `on boundary of |`: the named shapes.
                Some(at) if at + 3 == tokens.len() && last == "of" => {
                    declared(doc, items, |kind| kind == DeclKind::Shape)
                }
                Some(at) if at + 2 == tokens.len() && last == "boundary" => {
                    items.push_table(&docs::OTHER_KEYWORDS[5..7], Kind::KEYWORD)
                }
                Some(_) => items.push_table(&docs::OTHER_KEYWORDS[3..4], Kind::KEYWORD),
                None => {
                    expression_items(doc, items);
                    let equation = !docs::STATEMENT_KEYWORDS.iter().any(|(k, _)| *k == first);
                    if equation
                        && tokens.contains(&"=")
                        && !matches!(last, "=" | "(" | "," | "+" | "-" | "*" | "/" | "^")
                    {
                        items.push("on", Kind::KEYWORD, "where the equation holds");
                    }
                }
            }
        }
    }
}

/// Declared names of the kinds `keep` accepts.
fn declared(doc: &Document, items: &mut Items, keep: impl Fn(DeclKind) -> bool) {
    for decl in doc.symbols.declarations.iter().filter(|d| keep(d.kind)) {
        let kind = match decl.kind {
            DeclKind::Space | DeclKind::Time | DeclKind::Let => Kind::VARIABLE,
            DeclKind::Field => Kind::FIELD,
            DeclKind::Const => Kind::CONSTANT,
            DeclKind::Param => Kind::TYPE_PARAMETER,
            DeclKind::Data => Kind::STRUCT,
            DeclKind::Grid => Kind::FUNCTION,
            DeclKind::Shape => Kind::CLASS,
        };
        items.push(decl.name.clone(), kind, decl.kind.describe());
    }
}

/// Regions after `on`: the region words, faces `x = a` of interval coordinates and data sets.
fn region_items(doc: &Document, items: &mut Items) {
    items.push_table(&docs::REGIONS, Kind::ENUM_MEMBER);
    declared(doc, items, |kind| kind == DeclKind::Data);
    if let Some(problem) = &doc.problem {
        // A time-only problem (an ODE system) has no spatial boundary.
        if problem.time_only() {
            items.0.retain(|item| item.label != "boundary");
        }
        for (index, coord) in problem.coords.iter().enumerate() {
            let interval = problem
                .domain
                .factors
                .iter()
                .any(|f| f.coords == [index] && matches!(f.shape, crate::ir::Shape::Box(_)));
            if interval && problem.time_coord() != Some(index) {
                for end in [coord.lo, coord.hi] {
                    let end = crate::ir::display::display_number(end);
                    items.push(
                        format!("{} = {end}", coord.name),
                        Kind::ENUM_MEMBER,
                        "a face",
                    );
                }
            }
        }
    }
}

/// What may stand in an expression: declared values, builtins and derivative forms.
fn expression_items(doc: &Document, items: &mut Items) {
    declared(doc, items, |kind| kind != DeclKind::Data);
    items.push_table(&docs::BUILTIN_CONSTANTS, Kind::CONSTANT);
    for (name, text) in docs::BUILTIN_FUNCTIONS {
        items.0.push(lsp::CompletionItem {
            label: name.to_string(),
            kind: Some(Kind::FUNCTION),
            detail: Some(text.to_string()),
            insert_text: Some(format!("{name}()")),
            ..Default::default()
        });
    }
    let coords: Vec<(&str, bool)> = doc
        .symbols
        .declarations
        .iter()
        .filter(|d| matches!(d.kind, DeclKind::Space | DeclKind::Time))
        .map(|d| (d.name.as_str(), d.kind == DeclKind::Time))
        .collect();
    let fields = doc
        .symbols
        .declarations
        .iter()
        .filter(|d| d.kind == DeclKind::Field);
    for field in fields {
        let u = &field.name;
        for &(c, time) in &coords {
            let short = c.chars().count() == 1;
            let first = if short {
                format!("d{c}({u})")
            } else {
                format!("d({u}, {c})")
            };
            items.push(first, Kind::FUNCTION, format!("∂{u}/∂{c}"));
            if !time {
                let second = if short {
                    format!("d{c}{c}({u})")
                } else {
                    format!("d({u}, {c}, {c})")
                };
                items.push(second, Kind::FUNCTION, format!("∂²{u}/∂{c}²"));
            }
        }
        if coords.iter().filter(|(_, time)| !time).count() > 1 {
            items.push(
                format!("lap({u})"),
                Kind::FUNCTION,
                format!("Laplacian of {u}"),
            );
        }
        if coords.iter().any(|(_, time)| !time) {
            items.push(
                format!("dn({u})"),
                Kind::FUNCTION,
                format!("outward normal derivative of {u} (on a boundary)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_prefix_joins_continued_lines_and_drops_comments() {
        let text = "solve optimizer = engd,  # first\n      iter";
        assert_eq!(
            statement_before(text, text.len()),
            "solve optimizer = engd,         iter"
        );
        assert_eq!(tokens("u = obs.u on"), vec!["u", "=", "obs.u", "on"]);
        assert!(subsequence("kp", "kappa"));
        assert!(!subsequence("pk", "kappa"));
    }
}
