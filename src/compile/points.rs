//! Sample points for each residual block: the contract between sampling and evaluation.
//!
//! All values are host-side f64, row-major. Coordinates are ordered like
//! [`crate::ir::Problem::coords`].

/// The points of one residual block.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PointSet {
    /// One entry per residual block.
    pub blocks: Vec<BlockPoints>,
}

impl BlockPoints {
    /// Appends the rows of `other`, a block of the same kind (normals, partners and data
    /// rows where this one has them); an empty `other` may lack them.
    ///
    /// # Panics
    /// If a non-empty `other` lacks what this block has, or has what it lacks.
    pub fn append(&mut self, other: &BlockPoints) {
        fn extend<T: Clone>(mine: &mut Option<Vec<T>>, theirs: &Option<Vec<T>>, n: usize) {
            match (mine.as_mut(), theirs) {
                (Some(a), Some(b)) => a.extend_from_slice(b),
                (None, None) => {}
                _ => assert_eq!(n, 0, "appended rows of another kind of block"),
            }
        }
        extend(&mut self.normals, &other.normals, other.n);
        extend(&mut self.partner, &other.partner, other.n);
        extend(&mut self.data_rows, &other.data_rows, other.n);
        self.points.extend_from_slice(&other.points);
        self.n += other.n;
    }
}

impl PointSet {
    /// Appends the rows of each block of `other` to the same block here.
    ///
    /// # Panics
    /// If `other` has another number of blocks, or as [`BlockPoints::append`].
    pub fn append(&mut self, other: &PointSet) {
        assert_eq!(self.blocks.len(), other.blocks.len(), "one block per block");
        for (mine, theirs) in self.blocks.iter_mut().zip(&other.blocks) {
            mine.append(theirs);
        }
    }

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

    /// The points of rows `rows` (rows stacked block by block), each block cut to its
    /// share of the range (blocks outside it keep no points).
    ///
    /// # Panics
    /// When the range ends past the last row.
    pub fn slice_rows(&self, rows: std::ops::Range<usize>) -> PointSet {
        assert!(rows.end <= self.n_rows(), "row range past the last row");
        let mut start = 0;
        let blocks = self
            .blocks
            .iter()
            .map(|block| {
                let (lo, hi) = (
                    rows.start.clamp(start, start + block.n) - start,
                    rows.end.clamp(start, start + block.n) - start,
                );
                start += block.n;
                block.slice(lo..hi.max(lo))
            })
            .collect();
        PointSet { blocks }
    }
}

impl BlockPoints {
    /// Rows `rows` of this block (points, normals, partners and data rows alike).
    ///
    /// # Panics
    /// When the range ends past the block.
    pub fn slice(&self, rows: std::ops::Range<usize>) -> BlockPoints {
        assert!(rows.end <= self.n, "row range past the block");
        let d = self.points.len().checked_div(self.n).unwrap_or(0);
        let cut = |values: &Vec<f64>| values[rows.start * d..rows.end * d].to_vec();
        BlockPoints {
            n: rows.len(),
            points: cut(&self.points),
            normals: self.normals.as_ref().map(cut),
            partner: self.partner.as_ref().map(cut),
            data_rows: self.data_rows.as_ref().map(|r| r[rows.clone()].to_vec()),
        }
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

    #[test]
    fn a_row_range_cuts_each_block_to_its_share() {
        let block = |n: usize, first: f64| BlockPoints {
            n,
            points: (0..2 * n).map(|k| first + k as f64).collect(),
            normals: Some((0..2 * n).map(|k| -(first + k as f64)).collect()),
            partner: None,
            data_rows: Some((0..n).map(|k| 100 + k).collect()),
        };
        let set = PointSet {
            blocks: vec![block(3, 0.0), block(0, 50.0), block(4, 10.0)],
        };
        let cut = set.slice_rows(2..5);
        assert_eq!(cut.n_rows(), 3);
        let sizes: Vec<usize> = cut.blocks.iter().map(|b| b.n).collect();
        assert_eq!(sizes, [1, 0, 2]);
        assert_eq!(cut.blocks[0].points, [4.0, 5.0]);
        assert_eq!(cut.blocks[0].normals.as_deref(), Some(&[-4.0, -5.0][..]));
        assert_eq!(cut.blocks[0].data_rows.as_deref(), Some(&[102][..]));
        assert_eq!(cut.blocks[2].points, [10.0, 11.0, 12.0, 13.0]);
        assert_eq!(cut.blocks[2].data_rows.as_deref(), Some(&[100, 101][..]));
        // The whole range gives the set back; an empty one no rows.
        assert_eq!(set.slice_rows(0..7), set);
        assert_eq!(set.slice_rows(4..4).n_rows(), 0);
    }
}
