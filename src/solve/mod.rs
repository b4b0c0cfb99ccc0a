//! Solve: optimizers over residuals and Jacobians.
//!
//! Optimizers see the problem only through [`LeastSquares`]: the loss is
//! `L(θ) = ½‖r(θ)‖²`, `J = ∂r/∂θ`, `g = Jᵀr`.
//!
//! - [`driver`]: the loop — [`SolveConfig`], [`Solver`], [`solve`], stopping rules;
//! - [`optimizer`]: the [`Optimizer`] trait (one iteration, its state) and the
//!   [`Method`] trait of a method's settings (name, options, construction);
//! - [`registry`]: the list of methods ([`OptimizerKind`], [`OptimizerConfig`]) and the
//!   catalogue of their options;
//! - [`natural`]: the step shared by the natural-gradient methods (factor, direction,
//!   line search, accept or retry) and [`line_search`], the batched grid search;
//! - one file per method: [`engd`], [`sngd`], [`anagram`] (natural gradients),
//!   [`adam`], [`lbfgs`] (first-order baselines);
//! - [`state`]: the serializable optimizer state; [`report`]: records, reports, errors;
//! - [`spectrum`]: the Gramian spectrum and each method's cut-off on it;
//! - [`linalg`]: the dense faer kernels (Gram products, Cholesky, eigen, SVD, QR).
//!
//! `docs/optimizers.md` describes each method, its knobs and defaults;
//! `docs/extending.md` says how to add one.

pub mod adam;
pub mod anagram;
pub mod driver;
pub mod engd;
pub mod gd;
pub mod gn;
pub mod lbfgs;
pub mod linalg;
pub mod line_search;
pub mod natural;
pub mod optimizer;
pub mod options;
mod problem;
pub mod registry;
pub mod report;
pub mod sngd;
pub mod spectrum;
pub mod state;
pub mod step_region;
#[cfg(any(test, feature = "bench"))]
#[doc(hidden)]
pub mod test_problems;

// Matrix-free and trust-region kernels (ALGORITHMS.md §4.1, §4.2).
pub mod jacobian_ops;
#[cfg(any(test, feature = "bench"))]
#[doc(hidden)]
pub mod mgh;
pub mod nystrom;
pub mod pcg;
pub mod streamed;
pub mod trust_region;

pub use adam::AdamConfig;
pub use anagram::{AnagramConfig, AnagramCutoff, AnagramFactorization};
pub use driver::{
    init_thread_pool, made_no_progress, series_stalled, solve, solve_from, SolveConfig, Solver,
    ADAPTIVE_PATIENCE, DEFAULT_MIN_IMPROVEMENT, DEFAULT_PATIENCE,
};
pub use engd::{EngdConfig, EngdSolve, GramForm};
pub use lbfgs::LbfgsConfig;
pub use line_search::{grid_line_search, LineSearchConfig, LineSearchResult};
pub use optimizer::{Method, Optimizer, StepOutcome};
pub use options::ConfigScalar;
pub use problem::{loss_and_gradient_of, LeastSquares};
pub use registry::{
    apply_option, default_optimizer_for, option_catalogue, OptimizerConfig, OptimizerKind,
    DEFAULT_OPTIMIZER, MATRIX_FREE_MIN_ENTRIES,
};
pub use report::{IterationRecord, NonFiniteSource, SolveError, SolveReport, StopReason};
pub use sngd::{SketchPass, SngdConfig, SngdDamping, ToleranceScale};
pub use spectrum::Spectrum;
pub use state::{SolveStart, SolverState};
