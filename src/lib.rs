//! pdec: a compiler and natural-gradient solver for physics-informed losses.
//!
//! The pipeline, one module per stage:
//! source → [`syntax`] (tokens, AST) → [`ir`] (checked, lowered residual IR)
//! → [`compile`] (burn tensor programs: jets, residuals, Jacobians)
//! → [`solve`] (ENGD, SNGD, ANaGRAM, Adam, L-BFGS) → [`output`] (plots, solution export).
//!
//! The library never prints or touches the terminal; every phase returns data
//! and [`diagnostic::Diagnostic`]s, which the CLI renders.

pub mod compile;
pub mod diagnostic;
pub mod ir;
pub mod output;
pub mod solve;
pub mod span;
pub mod syntax;
