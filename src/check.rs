//! [`check_source`]: the front end in one call, parse then lower.

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
    diagnostics.sort_by_key(|d| d.span().map(|s| (s.start, s.end)));
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    (if has_errors { None } else { problem }, diagnostics)
}
