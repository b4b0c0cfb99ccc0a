//! pdec: a compiler and natural-gradient solver for physics-informed losses.
//!
//! The pipeline, one module per stage:
//! source → [`syntax`] (tokens, AST) → [`ir`] (checked, lowered residual IR)
//! → [`compile`] (burn tensor programs: jets, residuals, Jacobians)
//! → [`solve`] (ENGD, SNGD, ANaGRAM, Adam, L-BFGS) → [`output`] (plots, solution export).
//!
//! To embed pdec, start at [`Problem`] (load and check) → [`Problem::compile`] →
//! [`Compiled::solve`] → [`SolveReport`]; `docs/library.md` is the guide.
//!
//! The library never prints or touches the terminal; every phase returns data
//! and [`diagnostic::Diagnostic`]s, which the CLI renders.

#![warn(missing_docs)]

mod api;
pub mod compile;
pub mod diagnostic;
pub mod ir;
pub mod lsp;
mod memory;
pub mod output;
pub mod run;
pub mod solve;
pub mod span;
pub mod syntax;

pub use api::{Compiled, Diagnostics, Error, FieldErrorReport, Problem, SolveOptions, SolveReport};
pub use memory::keep_freed_memory;
pub use run::Progress;
pub use solve::init_thread_pool;

use diagnostic::Diagnostic;
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
