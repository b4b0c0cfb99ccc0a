//! The compiled problem: residuals, per-sample Jacobians and gradients of a
//! [`Problem`] on a [`PointSet`], as burn tensor programs.
//!
//! Evaluation order: all blocks' points (then the partner points of periodic
//! blocks) are stacked into one input `[M, d]`; each network runs one jet
//! forward over them ([`jet::forward`]); each block's residual expression and
//! its linearization are evaluated elementwise on slices of the output jets;
//! the scaled coefficients seed one per-sample reverse pass per network
//! ([`jet::backward`]), which yields all N rows of J at once.
//!
//! [`CompiledProblem`] and its queries are in `compiled.rs`; the stacking of
//! points into segments and the evaluation of one block's expressions on the
//! jets in `blocks.rs`, on the elementwise values of `value.rs`; the assembly
//! of r, J (on the host or the device) and Jᵀr in `assembly.rs`; the
//! [`LeastSquares`] view of a program on fixed points in `least_squares.rs`.
//!
//! [`Problem`]: crate::ir::Problem
//! [`PointSet`]: crate::compile::PointSet
//! [`jet::forward`]: crate::compile::jet::forward
//! [`jet::backward`]: crate::compile::jet::backward
//! [`LeastSquares`]: crate::solve::LeastSquares

mod assembly;
mod blocks;
mod compiled;
mod error;
mod least_squares;
mod value;

pub use compiled::{CompiledProblem, JacobianAssembly, RESIDUAL_CHUNK_ROWS};
pub use error::{CompileError, FieldError, MAX_JET_ORDER};
pub use least_squares::PdeLeastSquares;
