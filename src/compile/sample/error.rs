//! [`SampleError`]: why a point set could not be drawn.

/// Why a point set could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// Rejection sampling gave up: the region is too thin in its bounding box.
    #[error(
        "sampling the {region} of block {block} (`{label}`) accepted only {accepted} of \
         {requested} points in {tries} tries (acceptance rate {rate:.2e})"
    )]
    Rejection {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
        /// The region (`interior`, `boundary`, …).
        region: String,
        /// Points asked for.
        requested: usize,
        /// Points accepted.
        accepted: usize,
        /// Candidates drawn.
        tries: usize,
        /// Acceptance rate `accepted / tries`.
        rate: f64,
    },
    /// A domain factor's shape cannot be sampled.
    #[error("domain factor {factor}: {reason}")]
    InvalidShape {
        /// Index of the domain factor.
        factor: usize,
        /// What is wrong.
        reason: String,
    },
    /// A coordinate index outside `Problem::coords`.
    #[error("block {block}: coordinate index {coord} does not exist ({n_coords} coordinates)")]
    UnknownCoord {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// The coordinate index asked for.
        coord: usize,
        /// Number of coordinates of the problem.
        n_coords: usize,
    },
    /// `initial` in a problem without a time coordinate.
    #[error("block {block} (`{label}`) is on `initial` but the problem has no time coordinate")]
    NoTime {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
    },
    /// A face of a coordinate that belongs to a ball or CSG shape.
    #[error(
        "block {block} (`{label}`): coordinate `{coord}` is not declared by an interval or box, \
         so it has no face"
    )]
    FaceOfCurvedShape {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
        /// Name of the coordinate.
        coord: String,
    },
    /// `boundary` when every face of the domain is periodic.
    #[error(
        "block {block} (`{label}`) is on `boundary` but the domain has no non-periodic boundary"
    )]
    NoBoundary {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
    },
    /// `boundary of NAME` where the named shape's boundary holds no part of the
    /// domain's boundary (no pilot draw landed on it).
    #[error(
        "block {block} (`{label}`) is on `boundary of {name}`, but no part of the domain's \
         boundary lies on the boundary of `{name}`"
    )]
    EmptyPiece {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
        /// Name of the shape.
        name: String,
    },
    /// `where` conditions that hold on no part of their base region (no pilot
    /// draw kept).
    #[error(
        "block {block} (`{label}`): the condition `{condition}` holds on no part of the boundary"
    )]
    EmptySelection {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
        /// The conditions as written.
        condition: String,
    },
    /// A `boundary of` region whose factor index or shape does not fit the domain.
    #[error("block {block}: {reason}")]
    InvalidPiece {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// What is wrong.
        reason: String,
    },
    /// A `data` region naming a set that does not exist.
    #[error("block {block}: data set {set} does not exist ({n_sets} sets)")]
    UnknownDataSet {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// The data set index asked for.
        set: usize,
        /// Number of data sets of the problem.
        n_sets: usize,
    },
    /// A data set whose columns do not fit the problem's coordinates.
    #[error("data set `{name}`: {reason}")]
    BadDataSet {
        /// Name of the data set.
        name: String,
        /// What is wrong.
        reason: String,
    },
}
