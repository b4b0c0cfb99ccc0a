//! What can go wrong when compiling a problem, and the error of a trained field.

/// Highest derivative order the jet engine supports.
pub const MAX_JET_ORDER: usize = 4;

/// Why a problem (or a point set) cannot be compiled for evaluation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    /// A jet above [`MAX_JET_ORDER`].
    #[error("jet of order {order} exceeds the supported order {MAX_JET_ORDER}")]
    OrderTooHigh {
        /// The order asked for.
        order: usize,
    },
    /// A multi-index whose length is not the number of coordinates.
    #[error("a jet's multi-index has {got} entries but the problem has {expected} coordinates")]
    BadMultiIndex {
        /// Its length.
        got: usize,
        /// The number of coordinates.
        expected: usize,
    },
    /// A derivative of a field in a coordinate it does not depend on (the IR
    /// lowers those to 0).
    #[error("a jet differentiates a field in coordinate {coord}, which it does not depend on")]
    NotAnInput {
        /// Index of the coordinate.
        coord: usize,
    },
    #[error("the Laplacian needs at least one spatial coordinate")]
    /// `lap` in a problem with only a time coordinate.
    LaplacianWithoutSpace,
    #[error("the network has no output layer")]
    /// A network layout with no layers.
    EmptyNetwork,
    /// A point set with a different number of blocks than the problem.
    #[error("point set has {got} blocks, the problem has {expected}")]
    BlockCount {
        /// Blocks in the point set.
        got: usize,
        /// Blocks in the problem.
        expected: usize,
    },
    /// A block's points do not fit its region (lengths, normals, partners, data rows).
    #[error("block {block}: {message}")]
    BadPoints {
        /// Index of the block.
        block: usize,
        /// What is wrong.
        message: String,
    },
    /// An exact solution that cannot be evaluated.
    #[error("exact solution of field {field}: {message}")]
    BadExact {
        /// Index of the field (into `Problem::fields`).
        field: usize,
        /// What is wrong.
        message: String,
    },
}

/// Relative L2 and max-abs error of one field against its exact solution.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    /// Index of the field (into `Problem::fields`).
    pub field: usize,
    /// `‖u − u*‖₂ / ‖u*‖₂` (the absolute norm when `‖u*‖₂ = 0`).
    pub relative_l2: f64,
    /// `max |u − u*|` over the test points.
    pub max_abs: f64,
}
