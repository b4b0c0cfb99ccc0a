//! Syntax: source text → tokens (logos) → AST (LALRPOP, `grammar/pde.lalrpop`).
//!
//! Syntax knows nothing of coordinates, fields or tensors; it only builds a
//! spanned [`ast::File`] and reports what it could not parse.

pub mod ast;
