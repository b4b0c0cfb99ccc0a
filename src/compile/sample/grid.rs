//! Tensor grids over the free axes of a region's parts: cell midpoints for
//! training points, nodes (ends included) for the test set.

use super::error::SampleError;
use super::parts::{BlockCtx, Part};

#[derive(Clone, Copy)]
pub(super) enum GridLayout {
    /// `(i + ½)/m` along each axis: strictly inside the interval.
    Midpoints,
    /// `j/(m - 1)`: both ends included.
    Nodes,
}

/// The tensor grid of `per_axis` values on every free axis of `parts`, kept
/// where every part accepts it.
///
/// # Shapes
/// Returns `(points, normals)`, both `[n_kept, n_coords]` row-major.
pub(super) fn grid_with(
    parts: &[Part],
    n_coords: usize,
    per_axis: usize,
    layout: GridLayout,
) -> (Vec<f64>, Vec<f64>) {
    let axes: Vec<Vec<(f64, f64)>> = parts.iter().map(Part::grid_axes).collect();
    let dims: usize = axes.iter().map(Vec::len).sum();
    let axis_value = |(lo, hi): (f64, f64), j: usize| -> f64 {
        let s = match layout {
            GridLayout::Midpoints => (j as f64 + 0.5) / per_axis as f64,
            GridLayout::Nodes => j as f64 / (per_axis - 1) as f64,
        };
        // Convex combination: exact ends for s = 0 and s = 1.
        lo * (1.0 - s) + hi * s
    };
    let closed = matches!(layout, GridLayout::Nodes);
    let mut index = vec![0usize; dims];
    let (mut points, mut normals) = (Vec::new(), Vec::new());
    let mut point = vec![0.0; n_coords];
    let mut normal = vec![0.0; n_coords];
    loop {
        point.iter_mut().for_each(|v| *v = 0.0);
        normal.iter_mut().for_each(|v| *v = 0.0);
        let mut offset = 0;
        let mut ok = true;
        for (part, part_axes) in parts.iter().zip(&axes) {
            let values: Vec<f64> = part_axes
                .iter()
                .zip(&index[offset..offset + part_axes.len()])
                .map(|(&interval, &j)| axis_value(interval, j))
                .collect();
            offset += part_axes.len();
            ok &= part.place_grid(&values, closed, &mut point, &mut normal);
            if !ok {
                break;
            }
        }
        if ok {
            points.extend_from_slice(&point);
            normals.extend_from_slice(&normal);
        }
        // Odometer over the multi-index, last axis fastest.
        let mut axis = dims;
        loop {
            if axis == 0 {
                return (points, normals);
            }
            axis -= 1;
            index[axis] += 1;
            if index[axis] < per_axis {
                break;
            }
            index[axis] = 0;
        }
    }
}

/// The smallest midpoint grid with at least `n` points in the region.
pub(super) fn grid_points(
    parts: &[Part],
    n: usize,
    n_coords: usize,
    ctx: &BlockCtx,
    region: &str,
) -> Result<(Vec<f64>, Vec<f64>), SampleError> {
    let dims: usize = parts.iter().map(|p| p.grid_axes().len()).sum();
    if n == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    if dims == 0 {
        return Ok(grid_with(parts, n_coords, 1, GridLayout::Midpoints));
    }
    let mut per_axis = 1usize;
    while (per_axis as f64).powi(dims as i32) < n as f64 {
        per_axis += 1;
    }
    // The region fills a fixed share of its box, so a few steps up suffice;
    // the cap bounds the work for regions that are almost empty.
    let max_per_axis = 4 * per_axis + 4;
    let mut last_count = 0;
    while per_axis <= max_per_axis {
        let (points, normals) = grid_with(parts, n_coords, per_axis, GridLayout::Midpoints);
        last_count = points.len() / n_coords.max(1);
        if last_count >= n {
            return Ok((points, normals));
        }
        per_axis += 1;
    }
    let tries = (max_per_axis as f64).powi(dims as i32) as usize;
    Err(SampleError::Rejection {
        block: ctx.index,
        label: ctx.label.to_string(),
        region: region.to_string(),
        requested: n,
        accepted: last_count,
        tries,
        rate: last_count as f64 / tries as f64,
    })
}
#[cfg(test)]
mod tests {
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::shape::contains_strictly;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Region, Sampler};

    #[test]
    fn grid_interior_uses_cell_midpoints() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 1.0),
            ("y", CoordKind::Space, 0.0, 2.0),
        ];
        let mut p = problem(&coords, Vec::new(), vec![Region::Interior], config(100, 0));
        p.sample.sampler = Sampler::Grid;
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert_eq!(block.n, 100);
        let mut xs: Vec<f64> = rows(&block.points, 2).iter().map(|x| x[0]).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let expected: Vec<f64> = (0..10).map(|i| (i as f64 + 0.5) / 10.0).collect();
        assert_eq!(xs.len(), 10);
        for (x, e) in xs.iter().zip(expected) {
            assert!((x - e).abs() < 1e-15);
        }
        // A disk: the grid grows until at least the requested count is inside.
        let p = {
            let mut p = problem(
                &coords,
                vec![factor(&[0, 1], disk(0.5, 1.0, 0.5))],
                vec![Region::Interior],
                config(100, 0),
            );
            p.sample.sampler = Sampler::Grid;
            p
        };
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert!(block.n >= 100 && block.n < 140, "{}", block.n);
        assert!(rows(&block.points, 2)
            .iter()
            .all(|x| contains_strictly(&disk(0.5, 1.0, 0.5), x)));
    }
}
