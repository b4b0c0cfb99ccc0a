//! Sampling: the point set of every residual block of a lowered [`Problem`].
//!
//! Every region is sampled as a product of *parts* (the inside of a domain
//! factor, one face of a box factor, the surface of a ball or CSG factor, a
//! fixed coordinate value, the time interval). A part turns a few numbers in
//! `[0, 1)` into its coordinates, and may reject them (CSG membership), so the
//! same code serves every sampler:
//!
//! - **uniform**: the numbers come from a [`ChaCha8Rng`];
//! - **halton**: they are a Halton point (bases 2, 3, 5, …, one per number)
//!   with a seeded Cranley–Patterson shift, so different seeds give different
//!   but equally well-spread points;
//! - **grid**: a tensor grid of *cell midpoints* over the bounding box of the
//!   region's free coordinates, `m` points per axis with `m` the smallest
//!   integer such that at least the requested number of grid points lie in the
//!   region (so `n` is the actual count, at least the request). Midpoints are
//!   strictly inside boxes, which keeps interior points off the boundary. The
//!   surface of a ball or CSG shape is not a tensor product, so `boundary`
//!   regions are drawn with the Halton sequence under `grid`.
//!
//! Boundaries of products are the union over factors of `∂factor × other
//! factors × time`; the count is split over the pieces (each box face, each
//! ball or CSG surface) by largest remainder in proportion to their measure,
//! so per-face counts are deterministic. A CSG surface is drawn by choosing a
//! primitive in proportion to its boundary measure, drawing a point on it, and
//! keeping it when it lies on the boundary of the combined shape.
//!
//! Determinism: every block draws from its own stream, seeded from
//! `problem.sample.seed`, the call's seed and the block index, so the same
//! problem and seed give bit-identical points and adding a block leaves the
//! other blocks' points unchanged.
//!
//! The code is split along those seams: `sequence.rs` (the uniform and Halton
//! streams and the seeds that keep them apart), `shape.rs` (point tests,
//! measures and surface points of boxes, balls and CSG shapes) and `geometry.rs`
//! (the domain as the samplers see it), `parts.rs` (a region as a product of
//! parts, and the rejection loop that draws them), `grid.rs` (tensor grids of
//! parts), then one file per region kind: `regions.rs` (the dispatch, `interior`
//! and `initial`), `faces.rs`, `boundary.rs` (with the split of the count over the
//! boundary pieces), `piece.rs` (`boundary of NAME`), `selection.rs` (`where`), `periodic.rs` and `data.rs`; `heldout.rs` (the held-out
//! collocation set and the test set for error reporting); and `adaptive.rs` (the
//! candidate pools and the residual-weighted draw of `adaptive = rad`).
//!
//! [`Problem`]: crate::ir::Problem
//! [`ChaCha8Rng`]: rand_chacha::ChaCha8Rng

mod adaptive;
mod boundary;
mod data;
mod error;
mod faces;
mod geometry;
mod grid;
mod heldout;
mod parts;
mod periodic;
mod piece;
mod regions;
mod selection;
mod sequence;
mod shape;
#[cfg(test)]
mod test_support;

pub use adaptive::{candidate_points, rad_points, rad_select, rar_points, POOL_FACTOR};
pub use error::SampleError;
pub use geometry::in_domain;
pub use heldout::{heldout_points, test_points, HELDOUT_FACTOR};
pub use piece::piece_measures;
pub use regions::sample_points;
pub use selection::{where_shares, EQUAL_TOLERANCE};
pub use sequence::radical_inverse;
pub use shape::{contains, contains_strictly, signed_distance};
