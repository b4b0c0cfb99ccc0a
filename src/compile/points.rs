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
    /// One entry per residual block.
    pub blocks: Vec<BlockPoints>,
}

impl PointSet {
    /// Total number of residual rows.
    pub fn n_rows(&self) -> usize {
        self.blocks.iter().map(|b| b.n).sum()
    }

    /// The block (index into `Problem::blocks`) of residual row `row`, rows being
    /// stacked block by block; `None` past the last row.
    pub fn block_of_row(&self, row: usize) -> Option<usize> {
        let mut end = 0;
        for (k, block) in self.blocks.iter().enumerate() {
            end += block.n;
            if row < end {
                return Some(k);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_map_to_blocks_in_stacking_order() {
        let block = |n| BlockPoints {
            n,
            ..BlockPoints::default()
        };
        let set = PointSet {
            blocks: vec![block(3), block(0), block(2)],
        };
        let owners: Vec<_> = (0..6).map(|row| set.block_of_row(row)).collect();
        assert_eq!(owners, [Some(0), Some(0), Some(0), Some(2), Some(2), None]);
    }
}
