//! [`check_source`]: the front end in one call, parse then lower, then the
//! measure of each `where` region and `boundary of NAME` piece (a condition that
//! holds on no part of the boundary, or a shape whose boundary misses the domain's,
//! is an error before any point is drawn for training).

use crate::diagnostic::Diagnostic;
use crate::{ir, syntax};
use std::path::Path;

/// Parses and checks a `.pde` source: the lowered [`ir::Problem`] when there is no
/// error, and every diagnostic (errors and warnings) in source order.
///
/// `base_dir` resolves relative paths of `data` and `exact ... from` files
/// (the folder of the `.pde` file).
pub fn check_source(source: &str, base_dir: &Path) -> (Option<ir::Problem>, Vec<Diagnostic>) {
    let (file, mut diagnostics) = syntax::parse(source);
    let (problem, more) = ir::lower(&file, source, base_dir);
    diagnostics.extend(more);
    if let Some(problem) = &problem {
        if !diagnostics.iter().any(Diagnostic::is_error) {
            diagnostics.extend(empty_selections(problem));
            diagnostics.extend(empty_pieces(problem));
        }
    }
    diagnostics.sort_by_key(|d| d.span().map(|s| (s.start, s.end)));
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    (if has_errors { None } else { problem }, diagnostics)
}

/// `E0243` for every `boundary of NAME` whose shape has no part of its boundary on
/// the domain's boundary (measured by the sampler's pilot draw).
fn empty_pieces(problem: &ir::Problem) -> Vec<Diagnostic> {
    let Ok(measures) = crate::compile::piece_measures(problem) else {
        return Vec::new();
    };
    measures
        .into_iter()
        .filter(|&(_, measure)| measure <= 0.0)
        .filter_map(|(index, _)| match &problem.blocks[index].region {
            ir::Region::Piece { name, .. } => Some(
                Diagnostic::error(
                    "E0243",
                    format!("no part of the boundary of `{name}` lies on the domain's boundary"),
                )
                .with_label(problem.blocks[index].span, "no points to draw")
                .with_help(format!(
                    "`boundary of {name}` is where the shape bounds the domain: a hole cut out \
                     of it, or a shape that is part of it"
                )),
            ),
            _ => None,
        })
        .collect()
}

/// `E0242` for every `where` region whose conditions hold on no part of its base
/// (measured by the sampler's pilot draw). A domain the sampler cannot handle is
/// reported when points are drawn, not here.
fn empty_selections(problem: &ir::Problem) -> Vec<Diagnostic> {
    let Ok(shares) = crate::compile::where_shares(problem) else {
        return Vec::new();
    };
    shares
        .into_iter()
        .filter(|&(_, share)| share <= 0.0)
        .filter_map(|(index, _)| match &problem.blocks[index].region {
            ir::Region::Where {
                base, text, span, ..
            } => {
                let base = ir::describe::region(problem, base);
                Some(
                    Diagnostic::error(
                        "E0242",
                        format!("`{text}` holds on no part of the {base}"),
                    )
                    .with_label(*span, "selects no points")
                    .with_help(
                        "the condition must hold on a part of positive length or area; `x = c` \
                         picks a side of a box only where `c` is the end of the box's interval",
                    ),
                )
            }
            _ => None,
        })
        .collect()
}
