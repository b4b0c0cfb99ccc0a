//! The point set of every block: [`sample_points`] gives each block its own
//! stream and hands its region to the sampler of that region kind; `interior`
//! and `initial` are sampled here, the other kinds in files of their own.

use super::boundary::sample_boundary;
use super::data::sample_data;
use super::error::SampleError;
use super::faces::sample_face;
use super::geometry::Geometry;
use super::parts::{inside_all, sample_parts, time_interval, BlockCtx, Part};
use super::periodic::sample_periodic;
use super::piece::sample_piece;
use super::selection::sample_where;
use super::sequence::{mix, TAG_BLOCK};
use crate::compile::points::{BlockPoints, PointSet};
use crate::ir::{Problem, Region};

/// Draws one point set for every block of `problem`.
///
/// `seed` is mixed with `problem.sample.seed`; iteration resampling passes a
/// fresh `seed` each time. Counts: `interior`, `boundary`, `initial` and
/// `periodic` from [`crate::ir::SampleConfig`]; a face takes its `faces`
/// override, else `max(1, boundary / n_faces)` with `n_faces` the number of
/// non-periodic box faces of the domain. A face or periodic region with no
/// free coordinate (1-D space, no time) is a single point: exactly one point
/// (pair) is produced. Under the grid sampler `n` is the actual grid count.
///
/// # Errors
/// [`SampleError`] when a shape is invalid, a region does not exist in the
/// domain (no time for `initial`, a face of a curved shape, a boundary that is
/// entirely periodic, a missing data set), or rejection sampling of a CSG
/// shape accepts too few points.
pub fn sample_points(problem: &Problem, seed: u64) -> Result<PointSet, SampleError> {
    let geometry = Geometry::new(problem)?;
    let base = mix(mix(problem.sample.seed, seed), TAG_BLOCK);
    let blocks = problem
        .blocks
        .iter()
        .enumerate()
        .map(|(index, block)| {
            let ctx = BlockCtx {
                index,
                label: &block.label,
                seed: mix(base, index as u64),
            };
            sample_region(problem, &geometry, &block.region, &ctx)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PointSet { blocks })
}

/// [`sample_points`] with every sampled region's count (`interior`, `boundary`,
/// `initial`, `periodic`, faces) multiplied by `factor` and the `uniform` sampler
/// whatever the file's (a grid or Halton set would repeat the training points'
/// pattern): the held-out set and the adaptive candidate pools. `data` blocks keep
/// their rows.
///
/// # Errors
/// As [`sample_points`].
pub(super) fn scaled_uniform_points(
    problem: &Problem,
    factor: usize,
    seed: u64,
) -> Result<PointSet, SampleError> {
    let mut scaled = problem.clone();
    let sample = &mut scaled.sample;
    for count in [
        &mut sample.interior,
        &mut sample.boundary,
        &mut sample.initial,
        &mut sample.periodic,
    ] {
        *count = count.saturating_mul(factor);
    }
    for (_, _, count) in &mut sample.faces {
        *count = count.saturating_mul(factor);
    }
    for (_, count) in &mut sample.pieces {
        *count = count.saturating_mul(factor);
    }
    sample.sampler = crate::ir::Sampler::Uniform;
    sample_points(&scaled, seed)
}

/// The points of one block's region, by region kind.
fn sample_region(
    problem: &Problem,
    geometry: &Geometry,
    region: &Region,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    match region {
        Region::Interior => sample_interior(problem, geometry, ctx),
        Region::Initial => sample_initial(problem, geometry, ctx),
        Region::Face { coord, side } => sample_face(problem, geometry, *coord, *side, ctx),
        Region::Periodic { coord } => sample_periodic(problem, geometry, *coord, ctx),
        Region::Boundary => sample_boundary(problem, geometry, ctx),
        Region::Piece {
            name,
            factor,
            shape,
        } => sample_piece(problem, geometry, name, *factor, shape, ctx),
        Region::Where {
            base,
            conditions,
            text,
            ..
        } => sample_where(problem, geometry, base, conditions, text, ctx),
        Region::Data { set } => sample_data(problem, geometry, *set, ctx),
    }
}

/// Number of rows of a row-major `[n, n_coords]` point array.
pub(super) fn n_rows(points: &[f64], n_coords: usize) -> usize {
    points.len() / n_coords.max(1)
}

/// `interior`: inside every factor, over the whole time interval.
fn sample_interior(
    problem: &Problem,
    geometry: &Geometry,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let mut parts = inside_all(geometry, None);
    parts.extend(time_interval(geometry));
    points_of(
        &parts,
        problem.sample.interior,
        problem,
        geometry,
        ctx,
        "interior",
    )
}

/// `initial`: inside every factor at `t = t0`; the single point `t = t0` when
/// there is no space.
fn sample_initial(
    problem: &Problem,
    geometry: &Geometry,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let (coord, t0, _) = geometry.time.ok_or_else(|| SampleError::NoTime {
        block: ctx.index,
        label: ctx.label.to_string(),
    })?;
    let mut parts = inside_all(geometry, None);
    parts.push(Part::Fixed { coord, value: t0 });
    points_of(
        &parts,
        problem.initial_count(),
        problem,
        geometry,
        ctx,
        "initial",
    )
}

/// `count` points of `parts`, without normals, with the problem's sampler from the
/// block's own stream.
fn points_of(
    parts: &[Part],
    count: usize,
    problem: &Problem,
    geometry: &Geometry,
    ctx: &BlockCtx,
    region: &str,
) -> Result<BlockPoints, SampleError> {
    let n_coords = geometry.n_coords;
    let (points, _) = sample_parts(
        parts,
        count,
        problem.sample.sampler,
        n_coords,
        ctx.seed,
        ctx,
        region,
    )?;
    Ok(BlockPoints {
        n: n_rows(&points, n_coords),
        points,
        ..BlockPoints::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::sample::shape::contains_strictly;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Sampler, Shape, Side};

    #[test]
    fn same_seed_same_points_and_blocks_are_independent() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 1.0),
            ("y", CoordKind::Space, 0.0, 1.0),
            T,
        ];
        let regions = vec![Region::Interior, Region::Boundary, Region::Initial];
        let mut p = problem(&coords, Vec::new(), regions, config(100, 40));
        for sampler in [Sampler::Uniform, Sampler::Halton] {
            p.sample.sampler = sampler;
            let a = sample_points(&p, 7).unwrap();
            let b = sample_points(&p, 7).unwrap();
            assert_eq!(a, b);
            let c = sample_points(&p, 8).unwrap();
            for (x, y) in a.blocks.iter().zip(&c.blocks) {
                assert_ne!(x.points, y.points, "{sampler:?}");
            }
            p.sample.seed = 1;
            let d = sample_points(&p, 7).unwrap();
            assert_ne!(a.blocks[0].points, d.blocks[0].points);
            p.sample.seed = 0;
            // Adding a block leaves the others' points unchanged.
            let mut longer = p.clone();
            longer.blocks.push(longer.blocks[0].clone());
            let e = sample_points(&longer, 7).unwrap();
            assert_eq!(a.blocks[..], e.blocks[..3]);
            assert_ne!(e.blocks[3].points, e.blocks[0].points);
        }
    }

    #[test]
    fn initial_points_are_at_t0_inside_the_domain() {
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
            T,
        ];
        let mut sample = config(0, 0);
        sample.initial = 300;
        let shape = disk(0.0, 0.0, 1.0);
        let p = problem(
            &coords,
            vec![factor(&[0, 1], shape.clone())],
            vec![Region::Initial],
            sample,
        );
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert_eq!(block.n, 300);
        for x in rows(&block.points, 3) {
            assert_eq!(x[2], 0.0);
            assert!(contains_strictly(&shape, &x[..2]));
        }
    }

    #[test]
    fn time_only_interior_spans_the_interval_and_initial_is_one_point() {
        let mut sample = config(50, 40);
        sample.initial = 30;
        let regions = vec![
            Region::Interior,
            Region::Initial,
            Region::Face {
                coord: 0,
                side: Side::Hi,
            },
            Region::Boundary,
        ];
        let p = problem(&[T], Vec::new(), regions, sample);
        for sampler in [Sampler::Uniform, Sampler::Halton, Sampler::Grid] {
            let mut p = p.clone();
            p.blocks.pop();
            p.sample.sampler = sampler;
            let set = sample_points(&p, 3).unwrap();
            let interior = &set.blocks[0];
            assert_eq!(interior.n, 50, "{sampler:?}");
            assert!(interior.points.iter().all(|&t| t > 0.0 && t < 2.0));
            // Spread over the interval, not bunched: both halves are hit.
            assert!(interior.points.iter().any(|&t| t < 0.5));
            assert!(interior.points.iter().any(|&t| t > 1.5));
            assert_eq!(set.blocks[1].points, vec![0.0], "{sampler:?}");
            assert_eq!(set.blocks[2].points, vec![2.0], "{sampler:?}");
        }
        // There is no spatial boundary to sample.
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::NoBoundary { block: 3, .. })
        ));
    }

    #[test]
    fn errors_name_the_region() {
        let p = problem(&[X], Vec::new(), vec![Region::Initial], config(1, 1));
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::NoTime { block: 0, .. })
        ));

        // A sliver: a thin annulus of width 1e-7 is hit about once per ten million tries.
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        let sliver = Shape::Difference(
            Box::new(disk(0.0, 0.0, 1.0)),
            Box::new(disk(0.0, 0.0, 1.0 - 1e-7)),
        );
        let p = problem(
            &coords,
            vec![factor(&[0, 1], sliver)],
            vec![Region::Interior],
            config(50, 0),
        );
        match sample_points(&p, 0) {
            Err(error @ SampleError::Rejection { .. }) => {
                let message = error.to_string();
                assert!(
                    message.contains("interior") && message.contains("acceptance rate"),
                    "{message}"
                );
            }
            other => panic!("expected a rejection error, got {other:?}"),
        }

        let p = problem(
            &coords,
            vec![factor(&[0, 1], disk(0.0, 0.0, 1.0))],
            vec![Region::Face {
                coord: 0,
                side: Side::Lo,
            }],
            config(1, 1),
        );
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::FaceOfCurvedShape { .. })
        ));

        let mut p = problem(&[X], Vec::new(), vec![Region::Boundary], config(1, 1));
        p.periodic = vec![0];
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::NoBoundary { .. })
        ));

        let p = problem(
            &coords,
            vec![factor(&[0, 1], disk(0.0, 0.0, -1.0))],
            vec![Region::Interior],
            config(1, 1),
        );
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::InvalidShape { factor: 0, .. })
        ));
    }
}
