//! Sample points for each residual block: the contract between sampling and evaluation.
//!
//! All values are host-side f64, row-major. Coordinates are ordered like
//! [`crate::ir::Problem::coords`].

/// The points of one residual block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlockPoints {
    /// Number of points.
    pub n: usize,
    /// `[n, n_coords]` row-major coordinates.
    pub points: Vec<f64>,
    /// `[n, n_coords]` outward unit normals, for `boundary` and face regions
    /// (the time component is zero); `None` elsewhere.
    pub normals: Option<Vec<f64>>,
    /// `[n, n_coords]` partner points for `periodic` regions: row i of
    /// `points` lies on the `lo` face, row i of `partner` is the same point
    /// moved to the `hi` face.
    pub partner: Option<Vec<f64>>,
    /// Row indices into the data set, for data regions.
    pub data_rows: Option<Vec<usize>>,
}

/// Points for every block of a problem (indexed like `Problem::blocks`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointSet {
    pub blocks: Vec<BlockPoints>,
}

impl PointSet {
    /// Total number of residual rows.
    pub fn n_rows(&self) -> usize {
        self.blocks.iter().map(|b| b.n).sum()
    }
}
