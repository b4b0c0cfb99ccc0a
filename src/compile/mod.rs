//! Compile: residual IR → burn tensor programs giving residuals and per-sample Jacobians.
//!
//! [`sample`] draws the points of every block, [`ansatz`] fixes the networks and
//! the flat parameter layout θ, [`embedding`] maps the coordinates to the
//! networks' inputs (periodic harmonics, Fourier features), [`jet`] pushes Taylor-mode jets through them and
//! back, and [`program`] evaluates each block's residual and linearization on
//! the jets to give r, J and Jᵀr; [`causal`] weights the rows of a time-dependent
//! problem by time slab.

pub mod ansatz;
pub mod causal;
#[doc(hidden)]
pub mod checks;
pub mod embedding;
pub mod jet;
pub mod points;
pub mod program;
pub mod sample;
#[cfg(test)]
mod testing;

pub use points::{BlockPoints, PointSet};
pub use program::{
    CompileError, CompiledProblem, FieldError, JacobianAssembly, PdeLeastSquares,
    RESIDUAL_CHUNK_ROWS,
};
pub use sample::{
    heldout_points, piece_measures, sample_points, test_points, where_shares, SampleError,
};
