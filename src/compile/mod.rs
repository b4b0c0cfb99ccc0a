//! Compile: residual IR → burn tensor programs giving residuals and per-sample Jacobians.

pub mod points;
pub mod sample;

pub use points::{BlockPoints, PointSet};
pub use sample::{sample_points, test_points, SampleError};
