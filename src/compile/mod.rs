//! Compile: residual IR → burn tensor programs giving residuals and per-sample Jacobians.

pub mod points;

pub use points::{BlockPoints, PointSet};
