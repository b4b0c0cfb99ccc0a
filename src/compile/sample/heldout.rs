//! Points away from the training points: the held-out collocation set (the
//! loss away from the training points) and the test set (errors against the
//! exact solutions).

use super::error::SampleError;
use super::geometry::Geometry;
use super::grid::{grid_with, GridLayout};
use super::parts::{draw, unit_dims, BlockCtx, Part};
use super::regions::scaled_uniform_points;
use super::sequence::{mix, UnitSource, TAG_HELDOUT, TAG_TEST};
use crate::compile::points::PointSet;
use crate::ir::{Problem, Sampler};

/// How many times the training counts a held-out set draws per region.
pub const HELDOUT_FACTOR: usize = 4;

/// Fresh collocation points for every block of `problem`, to measure the loss away from
/// the training points: [`HELDOUT_FACTOR`] times the training count of each sampled
/// region (`interior`, `boundary`, `initial`, faces, periodic pairs), always drawn
/// uniformly at random (a grid or Halton sampler would put them on or near the training
/// points) from a stream of their own, separate from every training stream. `data`
/// blocks keep their rows: they are observations, not samples.
///
/// # Errors
/// As [`sample_points`](super::sample_points).
pub fn heldout_points(problem: &Problem, seed: u64) -> Result<PointSet, SampleError> {
    scaled_uniform_points(problem, HELDOUT_FACTOR, mix(seed, TAG_HELDOUT))
}

/// A held-out set of points in the space-time domain, for error reporting.
///
/// With the grid sampler or at most two space-time dimensions: a tensor grid
/// of *nodes* (ends included) over the bounding box with an even number `m ≥
/// 2` of nodes per axis, `m^dim ≈ sample.test`, kept where the point is in the
/// closed domain. Nodes `j/(m-1)` with `m - 1` odd never coincide with the
/// training grid's midpoints `(i + ½)/m'`, so the sets share no point.
/// Otherwise `sample.test` uniform points from a stream separate from every
/// training stream.
///
/// # Shapes
/// Returns `[n_test, n_coords]` row-major.
///
/// # Errors
/// As [`sample_points`](super::sample_points) for invalid shapes or a domain too thin to sample.
pub fn test_points(problem: &Problem, seed: u64) -> Result<Vec<f64>, SampleError> {
    let geometry = Geometry::new(problem)?;
    let mut parts: Vec<Part> = geometry.factors.iter().map(Part::Inside).collect();
    if let Some((coord, lo, hi)) = geometry.time {
        parts.push(Part::Interval { coord, lo, hi });
    }
    let dims: usize = parts.iter().map(|p| p.grid_axes().len()).sum();
    let requested = problem.sample.test;
    if requested == 0 {
        return Ok(Vec::new());
    }
    if problem.sample.sampler == Sampler::Grid || dims <= 2 {
        let mut per_axis = 2usize;
        while dims > 0 && (per_axis as f64).powi(dims as i32) < requested as f64 {
            per_axis += 1;
        }
        if per_axis % 2 == 1 {
            per_axis += 1;
        }
        let (points, _) = grid_with(&parts, geometry.n_coords, per_axis, GridLayout::Nodes);
        return Ok(points);
    }
    let ctx = BlockCtx {
        index: usize::MAX,
        label: "test set",
        seed: mix(mix(mix(problem.sample.seed, seed), TAG_TEST), 0),
    };
    let mut source = UnitSource::new(Sampler::Uniform, unit_dims(&parts), ctx.seed);
    let (points, _) = draw(
        &parts,
        requested,
        &mut source,
        geometry.n_coords,
        &ctx,
        "test set",
    )?;
    Ok(points)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::sample::geometry::in_domain;
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::shape::signed_distance;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, DataSet, Region, Shape};
    use crate::span::Span;

    #[test]
    fn heldout_points_are_fresh_uniform_and_four_times_as_many() {
        let coords = [("x", CoordKind::Space, 0.0, 1.0), T];
        let mut sample = config(50, 20);
        sample.initial = 10;
        sample.sampler = Sampler::Grid;
        let mut p = problem(
            &coords,
            Vec::new(),
            vec![
                Region::Interior,
                Region::Boundary,
                Region::Initial,
                Region::Data { set: 0 },
            ],
            sample,
        );
        p.data.push(DataSet {
            name: "obs".to_string(),
            path: "obs.csv".into(),
            columns: vec!["t".into(), "x".into()],
            values: vec![vec![0.5, 1.5], vec![0.25, 0.75]],
            coord_columns: vec![1, 0],
            span: Span::default(),
        });
        let train = sample_points(&p, 7).unwrap();
        let heldout = heldout_points(&p, 7).unwrap();
        // The grid sampler rounds its counts up; the held-out set is uniform and exact.
        let counts: Vec<usize> = heldout.blocks.iter().map(|b| b.n).collect();
        assert_eq!(counts, vec![200, 80, 40, 2]);
        assert_eq!(heldout.blocks[3].points, train.blocks[3].points);
        for (fresh, old) in heldout.blocks.iter().zip(&train.blocks).take(3) {
            let old_rows = rows(&old.points, 2);
            assert!(rows(&fresh.points, 2)
                .iter()
                .all(|x| in_domain(&p, x) && !old_rows.contains(x)));
        }
        // The initial block lies on t = 0, the boundary block on x = 0 or 1.
        assert!(rows(&heldout.blocks[2].points, 2)
            .iter()
            .all(|x| x[1] == 0.0));
        assert!(rows(&heldout.blocks[1].points, 2)
            .iter()
            .all(|x| x[0] == 0.0 || x[0] == 1.0));
        // Not a grid: interior coordinates are distinct, unlike a tensor grid's columns.
        let mut xs: Vec<f64> = rows(&heldout.blocks[0].points, 2)
            .iter()
            .map(|x| x[0])
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        assert_eq!(xs.len(), 200);
        // Reproducible, and another seed gives other points.
        assert_eq!(heldout, heldout_points(&p, 7).unwrap());
        assert_ne!(heldout.blocks[0], heldout_points(&p, 8).unwrap().blocks[0]);
    }

    #[test]
    fn test_set_is_a_grid_in_low_dimension_disjoint_from_training() {
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        let shape = Shape::Difference(
            Box::new(disk(0.0, 0.0, 1.0)),
            Box::new(rect((0.0, 2.0), (-0.5, 0.5))),
        );
        for sampler in [Sampler::Uniform, Sampler::Grid] {
            let mut p = problem(
                &coords,
                vec![factor(&[0, 1], shape.clone())],
                vec![Region::Interior, Region::Boundary],
                config(400, 100),
            );
            p.sample.sampler = sampler;
            p.sample.test = 900;
            let test = test_points(&p, 0).unwrap();
            let test_rows = rows(&test, 2);
            // 30 is even: 30 × 30 nodes over the box, about π/4 minus the cut kept.
            assert!(
                test_rows.len() > 450 && test_rows.len() < 720,
                "{}",
                test_rows.len()
            );
            assert!(test_rows
                .iter()
                .all(|x| signed_distance(&shape, x) <= 1e-12));
            assert!(test_rows.iter().all(|x| in_domain(&p, x)));
            let train = sample_points(&p, 0).unwrap();
            for block in &train.blocks {
                for x in rows(&block.points, 2) {
                    assert!(!test_rows.contains(&x), "{sampler:?}: shared point {x:?}");
                }
            }
        }
    }

    #[test]
    fn test_set_is_random_in_higher_dimension() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 1.0),
            ("y", CoordKind::Space, 0.0, 1.0),
            T,
        ];
        let mut p = problem(&coords, Vec::new(), vec![Region::Interior], config(500, 0));
        p.sample.test = 777;
        let test = test_points(&p, 0).unwrap();
        assert_eq!(test.len(), 777 * 3);
        assert!(rows(&test, 3).iter().all(|x| in_domain(&p, x)));
        let train = sample_points(&p, 0).unwrap();
        for x in rows(&train.blocks[0].points, 3) {
            assert!(!rows(&test, 3).contains(&x));
        }
        assert_eq!(test, test_points(&p, 0).unwrap());
    }
}
