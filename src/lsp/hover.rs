//! `textDocument/hover`: what the name under the cursor is — its kind, its declaration
//! and, when the file checks, its lowered form (a constant's value, a `let` inlined, a
//! derivative's multi-index, an equation's residual and jets, a key's value in force).

use super::docs::{self, lookup};
use super::symbols::{DeclKind, Declaration, Occurrence, Role, Section};
use super::{one_line, Document};
use crate::ir::display::{display_block_expr, display_block_jet, display_expr, display_number};
use crate::ir::{CoordKind, ExactSource, Problem, Region, ResidualBlock, Shape};
use crate::span::Span;
use crate::syntax::ast::ItemKind;
use lsp_types as lsp;
use std::fmt::Write;

/// The hover at `position`, if there is something to say there.
pub fn hover(doc: &Document, position: lsp::Position) -> Option<lsp::Hover> {
    let offset = doc.offset(position);
    if in_comment(doc, offset) {
        return None;
    }
    let (value, span) = match doc.symbols.at(offset) {
        Some(occurrence) => (describe_occurrence(doc, occurrence)?, occurrence.span),
        None => keyword_at(doc, offset).or_else(|| equation_at(doc, offset))?,
    };
    Some(lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value,
        }),
        range: Some(doc.range(span)),
    })
}

/// Whether `offset` is inside a `#` comment (outside a string) of its line.
pub(super) fn in_comment(doc: &Document, offset: usize) -> bool {
    let offset = floor_boundary(&doc.text, offset);
    let line_start = doc.text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut in_string = false;
    for c in doc.text[line_start..offset].chars() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return true,
            _ => {}
        }
    }
    false
}

pub(super) fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The word (`[A-Za-z0-9_]*`) around `offset` and its span.
pub(super) fn word_at(text: &str, offset: usize) -> (&str, Span) {
    let offset = floor_boundary(text, offset);
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|&(_, c)| !is_word(c))
        .map_or(text.len(), |(i, _)| offset + i);
    (&text[start..end], Span::new(start, end))
}

fn keyword_at(doc: &Document, offset: usize) -> Option<(String, Span)> {
    let (word, span) = word_at(&doc.text, offset);
    let text =
        lookup(&docs::STATEMENT_KEYWORDS, word).or_else(|| lookup(&docs::OTHER_KEYWORDS, word))?;
    Some((format!("**keyword** `{word}`\n\n{text}"), span))
}

/// The lowered form of the equation around `offset` (for a cursor on `=`, a number or
/// an operator of an equation).
fn equation_at(doc: &Document, offset: usize) -> Option<(String, Span)> {
    let (index, item) = doc
        .file
        .items
        .iter()
        .enumerate()
        .find(|(_, item)| item.span.range().contains(&offset))?;
    if !matches!(item.kind, ItemKind::Equation { .. }) {
        return None;
    }
    let mut out = format!(
        "**equation** {}\n",
        code(&one_line(doc.slice(item.span), 200))
    );
    block_text(doc, index, &mut out);
    Some((out, item.span))
}

fn code(text: &str) -> String {
    // A backtick run longer than any in the text delimits it.
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn declaration_block(doc: &Document, span: Span) -> String {
    format!("```pde\n{}\n```\n", one_line(doc.slice(span), 300))
}

fn describe_occurrence(doc: &Document, occurrence: &Occurrence) -> Option<String> {
    let name = occurrence.name.as_str();
    match &occurrence.role {
        Role::Declaration | Role::Value | Role::MemberBase => match doc.symbols.declaration(name) {
            Some(decl) => Some(describe_declaration(doc, decl)),
            None => builtin(name),
        },
        Role::Call { argument, rest, .. } => {
            if let Some(decl) = doc.symbols.declaration(name) {
                return Some(describe_declaration(doc, decl));
            }
            if let Some(text) = lookup(&docs::BUILTIN_FUNCTIONS, name) {
                return Some(format!("**builtin function** `{name}(x)`: {text}"));
            }
            if let Some(text) = lookup(&docs::SHAPES, name) {
                return Some(format!("**shape** {text}"));
            }
            if name == "mlp" {
                return Some(model_text(doc));
            }
            describe_derivative(doc, name, argument.as_deref(), rest)
        }
        Role::Region { item } => {
            let mut out = if let Some(text) = lookup(&docs::REGIONS, name) {
                let mut out = format!("**region** `{name}`: {text}\n");
                if let Some(problem) = &doc.problem {
                    let count = match name {
                        "interior" => Some(problem.sample.interior),
                        "boundary" => Some(problem.sample.boundary),
                        "initial" => Some(problem.initial_count()),
                        _ => None,
                    };
                    if let Some(count) = count {
                        let _ = writeln!(out, "\n{count} training points (`sample {name} = …`)");
                    }
                }
                out
            } else if let Some(decl) = doc.symbols.declaration(name) {
                let mut out = format!("**region**: the rows of data set `{name}`\n\n");
                out.push_str(&describe_declaration(doc, decl));
                out
            } else {
                return None;
            };
            block_text(doc, *item, &mut out);
            Some(out)
        }
        Role::Face { item } => {
            let decl = doc.symbols.declaration(name)?;
            let mut out = format!("**face** of the coordinate `{name}`\n\n");
            out.push_str(&describe_declaration(doc, decl));
            block_text(doc, *item, &mut out);
            Some(out)
        }
        Role::ConfigKey(section) => describe_key(doc, *section, name),
        Role::ConfigWord { section, key } => {
            if let Some(decl) = doc.symbols.declaration(name) {
                return Some(describe_declaration(doc, decl));
            }
            if name == "mlp" {
                return Some(model_text(doc));
            }
            let entry = docs::keys(*section).iter().find(|k| k.name == key)?;
            entry
                .words
                .contains(&name)
                .then(|| format!("`{name}`: a value of `{}` — {}", entry.name, entry.meaning))
        }
        Role::Member { base } => {
            let mut out = format!("**column** `{name}` of the data set `{base}`\n");
            if let Some(set) = doc
                .problem
                .as_ref()
                .and_then(|p| p.data.iter().find(|d| &d.name == base))
            {
                let _ = writeln!(
                    out,
                    "\n{} rows; columns {}; available in equations `on {base}`",
                    set.n_rows(),
                    set.columns.join(", ")
                );
            }
            Some(out)
        }
    }
}

fn builtin(name: &str) -> Option<String> {
    if let Some(text) = lookup(&docs::BUILTIN_CONSTANTS, name) {
        return Some(format!("**builtin constant** `{name}`: {text}"));
    }
    if let Some(text) = lookup(&docs::BUILTIN_FUNCTIONS, name) {
        return Some(format!("**builtin function** `{name}(x)`: {text}"));
    }
    None
}

fn model_text(doc: &Document) -> String {
    let mut out = "**model** `mlp(layers = [...], activation = ..., shared)`: a fully connected network per field".to_string();
    if let Some(problem) = &doc.problem {
        let _ = write!(
            out,
            "\n\nIn this file: {} ({} trainable scalars)",
            crate::ir::describe::summary(problem).model,
            crate::ir::describe::n_params(problem)
        );
    }
    out
}

/// A declared name: its statement, its kind and what lowering made of it.
fn describe_declaration(doc: &Document, decl: &Declaration) -> String {
    let mut out = declaration_block(doc, decl.item_span);
    let name = &decl.name;
    let _ = write!(out, "**{}** `{name}`", decl.kind.describe());
    let Some(problem) = &doc.problem else {
        out.push('\n');
        return out;
    };
    match decl.kind {
        DeclKind::Space | DeclKind::Time => {
            if let Some((index, coord)) = problem
                .coords
                .iter()
                .enumerate()
                .find(|(_, c)| &c.name == name)
            {
                let shaped = problem.domain.factors.iter().any(|f| {
                    f.coords.contains(&index) && !matches!(&f.shape, Shape::Box(b) if b.len() == 1)
                });
                let _ = write!(
                    out,
                    " ∈ [{}, {}]{}",
                    display_number(coord.lo),
                    display_number(coord.hi),
                    if shaped {
                        " (bounding box of its shape)"
                    } else {
                        ""
                    }
                );
                if problem.periodic.contains(&index) {
                    out.push_str(", periodic");
                }
                let _ = write!(
                    out,
                    "\n\ninput {} of {} of every network",
                    index + 1,
                    problem.coords.len()
                );
                if coord.kind == CoordKind::Time {
                    out.push_str("; `initial` is t = ");
                    out.push_str(&display_number(coord.lo));
                }
            }
        }
        DeclKind::Field => {
            let index = problem.fields.iter().position(|f| &f.name == name);
            let inputs: Vec<&str> = (0..problem.coords.len())
                .filter(|&i| index.is_none_or(|k| problem.fields[k].depends_on(i)))
                .map(|i| problem.coords[i].name.as_str())
                .collect();
            let _ = write!(out, ": an unknown function of ({})", inputs.join(", "));
            if let Some(line) = index
                .and_then(|k| problem.ansatz.iter().position(|a| a.field == k))
                .map(|i| crate::ir::describe::ansatz(problem).swap_remove(i))
            {
                let _ = write!(out, "\n\nhard constraints: `{line}`");
            }
            if let Some(index) = index {
                if let Some(exact) = problem.exact.iter().find(|e| e.field == index) {
                    match &exact.source {
                        ExactSource::Expr(id) => {
                            let _ = write!(
                                out,
                                "\n\nexact solution: `{name} = {}`",
                                display_expr(problem, *id)
                            );
                        }
                        ExactSource::Data { set, .. } => {
                            let _ = write!(
                                out,
                                "\n\nreference solution: {} ({} rows)",
                                set.path.display(),
                                set.n_rows()
                            );
                        }
                    }
                }
                let used: Vec<(usize, Span)> = problem
                    .blocks
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.jets.iter().any(|&j| problem.jet(j).field == index))
                    .map(|(i, b)| (i, b.span))
                    .collect();
                if !used.is_empty() {
                    let _ = write!(out, "\n\nappears in {}", equation_list(doc, &used));
                }
            }
        }
        DeclKind::Const | DeclKind::Let => {
            if let Some(lowered) = lowered_value(doc, problem, name) {
                let _ = write!(out, "\n\nlowered: `{lowered}`");
            }
        }
        DeclKind::Param => {
            if let Some(param) = problem.params.iter().find(|p| &p.name == name) {
                let _ = write!(
                    out,
                    ": trainable, initial value {}; reported at the end of training",
                    display_number(param.init)
                );
            }
        }
        DeclKind::Shape => {
            let pieces: Vec<(usize, Span, &Shape)> = problem
                .blocks
                .iter()
                .enumerate()
                .filter_map(|(i, b)| {
                    // `boundary of NAME where ...` holds on part of the piece.
                    let region = match &b.region {
                        Region::Where { base, .. } => base,
                        region => region,
                    };
                    match region {
                        Region::Piece {
                            name: piece, shape, ..
                        } if piece == name => Some((i, b.span, shape)),
                        _ => None,
                    }
                })
                .collect();
            if let Some((_, _, shape)) = pieces.first() {
                let blocks: Vec<(usize, Span)> = pieces.iter().map(|&(i, s, _)| (i, s)).collect();
                let _ = write!(
                    out,
                    ": `{}`\n\n`boundary of {name}` holds {}",
                    crate::ir::describe::shape_text(shape),
                    equation_list(doc, &blocks)
                );
            }
        }
        DeclKind::Data => {
            if let Some(set) = problem.data.iter().find(|d| &d.name == name) {
                let _ = write!(
                    out,
                    ": {} rows from {}; columns {}",
                    set.n_rows(),
                    set.path.display(),
                    set.columns.join(", ")
                );
            }
        }
        DeclKind::Grid => {
            if let Some(grid) = problem.grids.iter().find(|g| &g.name == name) {
                let lines: Vec<String> = grid
                    .axes
                    .iter()
                    .zip(grid.knots())
                    .map(|(&c, k)| format!("{} lines in {}", k.len(), problem.coords[c].name))
                    .collect();
                let _ = write!(
                    out,
                    ": cubic spline on a grid from {} ({}); value columns {}",
                    grid.path.display(),
                    lines.join(", "),
                    grid.columns.join(", ")
                );
            }
        }
    }
    out.push('\n');
    out
}

/// What lowering makes of `name` as an expression: constants folded, `let`s inlined.
/// It is lowered by the front end itself, as the left side of an equation appended to
/// the document (tried on `interior`, `boundary` and each data set, since `dn` and data
/// columns are valid only on some regions).
fn lowered_value(doc: &Document, problem: &Problem, name: &str) -> Option<String> {
    let regions = ["interior", "boundary"]
        .into_iter()
        .map(str::to_string)
        .chain(problem.data.iter().map(|d| d.name.clone()));
    for region in regions {
        let source = format!("{}\n{name} = 0 on {region}\n", doc.text);
        // As written: a hard-constraint ansatz would rewrite the appended equation.
        let (file, _) = crate::syntax::parse(&source);
        let (lowered, _) = crate::ir::lower::lower_as_written(&file, &source, &doc.base_dir);
        let Some(lowered) = lowered else { continue };
        let appended = doc.text.len() as u32;
        if let Some(block) = lowered
            .blocks
            .iter()
            .rev()
            .find(|b| b.span.start > appended)
        {
            return Some(display_expr(&lowered, block.residual));
        }
    }
    None
}

/// The coordinates in declaration order: the lowered ones, else those of the AST.
fn coordinates(doc: &Document) -> Vec<(String, bool)> {
    match &doc.problem {
        Some(problem) => problem
            .coords
            .iter()
            .map(|c| (c.name.clone(), c.kind == CoordKind::Time))
            .collect(),
        None => doc
            .symbols
            .declarations
            .iter()
            .filter(|d| matches!(d.kind, DeclKind::Space | DeclKind::Time))
            .map(|d| (d.name.clone(), d.kind == DeclKind::Time))
            .collect(),
    }
}

fn superscript(n: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    if n == 1 {
        return String::new();
    }
    n.to_string()
        .chars()
        .map(|c| c.to_digit(10).map_or(c, |d| DIGITS[d as usize]))
        .collect()
}

/// `dxx`, `dtx`, `d(u, x1, x1)`, `lap`, `dn`: the derivative and the jet it lowers to.
fn describe_derivative(
    doc: &Document,
    name: &str,
    argument: Option<&str>,
    rest: &[String],
) -> Option<String> {
    let coords = coordinates(doc);
    let field = argument.unwrap_or("…");
    let spatial: Vec<&str> = coords
        .iter()
        .filter(|(_, time)| !time)
        .map(|(n, _)| n.as_str())
        .collect();
    match name {
        "lap" => {
            let terms: Vec<String> = spatial
                .iter()
                .map(|c| {
                    if c.chars().count() == 1 {
                        format!("d{c}{c}({field})")
                    } else {
                        format!("d({field}, {c}, {c})")
                    }
                })
                .collect();
            return Some(format!(
                "**Laplacian** `lap({field})` over the spatial coordinates ({}): `{}`\n\nlowered to one summed jet channel `lap({field})` (order 2)",
                spatial.join(", "),
                terms.join(" + ")
            ));
        }
        "dn" => {
            let terms: Vec<String> = spatial
                .iter()
                .map(|c| {
                    if c.chars().count() == 1 {
                        format!("n_{c}·d{c}({field})")
                    } else {
                        format!("n_{c}·d({field}, {c})")
                    }
                })
                .collect();
            return Some(format!(
                "**normal derivative** `dn({field})`: `{}`, with n the outward unit normal\n\nvalid only on `boundary` or a face",
                terms.join(" + ")
            ));
        }
        _ => {}
    }
    let letters: Vec<String> = if name == "d" {
        rest.to_vec()
    } else {
        let tail = name.strip_prefix('d')?;
        if tail.is_empty() {
            return None;
        }
        tail.chars().map(|c| c.to_string()).collect()
    };
    if letters.is_empty() || !letters.iter().all(|l| coords.iter().any(|(c, _)| c == l)) {
        return None;
    }
    let order = letters.len();
    let counts: Vec<(&str, usize)> = coords
        .iter()
        .map(|(c, _)| (c.as_str(), letters.iter().filter(|l| *l == c).count()))
        .collect();
    let denominator: String = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("∂{c}{}", superscript(*n)))
        .collect();
    let alpha: Vec<String> = counts.iter().map(|(c, n)| format!("{c}: {n}")).collect();
    let what = match order {
        1 => "first derivative",
        2 => "second derivative",
        3 => "third derivative",
        _ => "derivative",
    };
    let mut out = format!(
        "**{what}** `∂{}{field}/{denominator}` (order {order})\n\nlowered to the jet D^α {field} with α = ({})",
        superscript(order),
        alpha.join(", ")
    );
    if order > crate::ir::lower::MAX_DERIVATIVE_ORDER {
        let _ = write!(
            out,
            "\n\norders above {} are not supported",
            crate::ir::lower::MAX_DERIVATIVE_ORDER
        );
    }
    Some(out)
}

/// "equation 2 (line 6)", "equations 1 (line 5), 2 (line 7)": residual blocks by their
/// index (0-based, printed from 1), numbered as `pdec check` lists them, with the line of
/// the file each comes from. The two differ once a condition is built into the ansatz
/// and leaves the list, so the line is what finds it in the editor.
fn equation_list(doc: &Document, blocks: &[(usize, Span)]) -> String {
    let items: Vec<String> = blocks
        .iter()
        .map(|&(i, span)| format!("{} (line {})", i + 1, doc.range(span).start.line + 1))
        .collect();
    format!(
        "equation{} {}",
        if items.len() == 1 { "" } else { "s" },
        items.join(", ")
    )
}

/// The residual block(s) of equation item `item`, appended to `out`.
fn block_text(doc: &Document, item: usize, out: &mut String) {
    let (Some(problem), Some(equation)) = (&doc.problem, doc.file.items.get(item)) else {
        return;
    };
    let blocks: Vec<(usize, &ResidualBlock)> = problem
        .blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| !matches!(b.region, Region::Periodic { .. }))
        .filter(|(_, b)| b.span.start >= equation.span.start && b.span.end <= equation.span.end)
        .collect();
    for (index, block) in blocks {
        let jets: Vec<String> = block
            .jets
            .iter()
            .map(|&j| display_block_jet(problem, j))
            .collect();
        let _ = write!(
            out,
            "\n---\nequation {}: residual `{}`\n\norder {}, {}, weight {}; jets: {}\n",
            index + 1,
            display_block_expr(problem, block.residual),
            block.order,
            if block.linear { "linear" } else { "nonlinear" },
            display_number(block.weight),
            jets.join(", ")
        );
        if let Region::Where { .. } = block.region {
            // The points are the condition's part of the boundary, not all of it.
            let _ = writeln!(
                out,
                "\non `{}`: its share of `sample boundary` by measure",
                crate::ir::describe::region(problem, &block.region)
            );
        }
    }
}

fn describe_key(doc: &Document, section: Section, name: &str) -> Option<String> {
    let statement = match section {
        Section::Model => "model",
        Section::Sample => "sample",
        Section::Solve => "solve",
    };
    let Some(key) = docs::keys(section).iter().find(|k| k.name == name) else {
        // `sample x = 0 : 50`: a face's point count.
        if section == Section::Sample {
            if let Some(decl) = doc.symbols.declaration(name) {
                return Some(format!(
                    "**sample** `{name} = c : n`: n points on the face `{name} = c`\n\n{}",
                    describe_declaration(doc, decl)
                ));
            }
        }
        return None;
    };
    let mut out = format!(
        "**{statement}** `{}`: {}\n\ndefault: `{}`",
        key.name, key.meaning, key.default
    );
    if !key.words.is_empty() {
        let _ = write!(
            out,
            "; values: {}",
            key.words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(value) = doc
        .problem
        .as_ref()
        .and_then(|p| value_in_force(p, section, name))
    {
        let _ = write!(out, "\n\nin this file: `{value}`");
    }
    Some(out)
}

/// The value a configuration key has in the lowered problem.
fn value_in_force(problem: &Problem, section: Section, name: &str) -> Option<String> {
    Some(match (section, name) {
        (Section::Model, "layers") => show(&problem.model.layers),
        (Section::Model, "activation") => show(&problem.model.activation),
        (Section::Model, "shared") => show(&problem.model.shared),
        (Section::Model, "constraints") => show(&problem.model.constraints),
        (Section::Model, "harmonics") => problem.model.harmonics.to_string(),
        (Section::Model, "features") => match problem.model.features {
            Some(f) => format!("fourier({}, {})", f.count, f.sigma),
            None => "none".to_string(),
        },
        (Section::Sample, "interior") => problem.sample.interior.to_string(),
        (Section::Sample, "boundary") => problem.sample.boundary.to_string(),
        (Section::Sample, "initial") => problem.sample.initial.to_string(),
        (Section::Sample, "periodic") => problem.sample.periodic.to_string(),
        (Section::Sample, "test") => problem.sample.test.to_string(),
        (Section::Sample, "sampler") => show(&problem.sample.sampler),
        (Section::Sample, "seed") => problem.sample.seed.to_string(),
        (Section::Sample, "resample") => problem
            .sample
            .resample
            .map_or("none".to_string(), |k| format!("every {k}")),
        (Section::Solve, "optimizer") => problem
            .solve
            .optimizer
            .map_or("chosen by sampling and size".to_string(), |kind| {
                kind.name().to_string()
            }),
        (Section::Solve, "iterations") => problem.solve.iterations.to_string(),
        (Section::Solve, "tol") => show(&problem.solve.tol),
        (Section::Solve, "patience") => show(&problem.solve.patience),
        (Section::Solve, "min_improvement") => show(&problem.solve.min_improvement),
        (Section::Solve, "causal") => problem
            .solve
            .causal
            .map_or("off".to_string(), |epsilon| format!("ε = {epsilon}")),
        (Section::Solve, key) => {
            let (_, value) = problem.solve.options.iter().find(|(k, _)| k == key)?;
            show(value)
        }
        _ => return None,
    })
}

/// A configuration value as the file would write it (through its serialized form:
/// enums are lowercase words, `None` is `none`).
fn show<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Null) | Err(_) => "none".to_string(),
        Ok(other) => other.to_string(),
    }
}
