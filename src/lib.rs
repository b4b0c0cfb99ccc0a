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
mod check;
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

pub use api::{
    Compiled, Diagnostics, Error, FieldErrorReport, Problem, SolveOptions, SolveReport,
    DEFAULT_EVAL_EVERY,
};
pub use check::check_source;
pub use memory::keep_freed_memory;
pub use run::Progress;
pub use solve::init_thread_pool;
