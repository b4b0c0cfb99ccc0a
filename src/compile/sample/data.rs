//! `data` regions: the points are the coordinate columns of the data set's
//! rows, not samples.

use super::error::SampleError;
use super::geometry::Geometry;
use super::parts::BlockCtx;
use crate::compile::points::BlockPoints;
use crate::ir::Problem;

/// A data region: one point per row of data set `set`.
pub(super) fn sample_data(
    problem: &Problem,
    geometry: &Geometry,
    set: usize,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let n_coords = geometry.n_coords;
    let data = problem.data.get(set).ok_or(SampleError::UnknownDataSet {
        block: ctx.index,
        set,
        n_sets: problem.data.len(),
    })?;
    let bad = |reason: String| SampleError::BadDataSet {
        name: data.name.clone(),
        reason,
    };
    if data.coord_columns.len() != n_coords {
        return Err(bad(format!(
            "{} coordinate columns for {n_coords} coordinates",
            data.coord_columns.len()
        )));
    }
    let n_rows = data.n_rows();
    if data.values.iter().any(|column| column.len() != n_rows) {
        return Err(bad("columns have different lengths".to_string()));
    }
    let mut points = Vec::with_capacity(n_rows * n_coords);
    for row in 0..n_rows {
        for &column in &data.coord_columns {
            let value = data.values.get(column).ok_or_else(|| {
                bad(format!(
                    "coordinate column {column} does not exist ({} columns)",
                    data.values.len()
                ))
            })?[row];
            points.push(value);
        }
    }
    Ok(BlockPoints {
        n: n_rows,
        points,
        data_rows: Some((0..n_rows).collect()),
        ..BlockPoints::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::test_support::*;
    use crate::compile::sample::SampleError;
    use crate::ir::{CoordKind, DataSet, Region};
    use crate::span::Span;

    #[test]
    fn data_region_takes_the_rows() {
        let coords = [("x", CoordKind::Space, 0.0, 1.0), T];
        let mut p = problem(
            &coords,
            Vec::new(),
            vec![Region::Data { set: 0 }],
            config(0, 0),
        );
        p.data.push(DataSet {
            name: "obs".to_string(),
            path: "obs.csv".into(),
            columns: vec!["t".into(), "u".into(), "x".into()],
            values: vec![vec![0.5, 1.5], vec![9.0, 8.0], vec![0.25, 0.75]],
            coord_columns: vec![2, 0],
            span: Span::default(),
        });
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert_eq!(block.n, 2);
        assert_eq!(block.points, vec![0.25, 0.5, 0.75, 1.5]);
        assert_eq!(block.data_rows, Some(vec![0, 1]));
        p.blocks[0].region = Region::Data { set: 3 };
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::UnknownDataSet { set: 3, .. })
        ));
    }
}
