//! Periodic pairs: points on the face `coord = lo`, each with its partner on
//! `coord = hi` that differs only in that coordinate.

use super::error::SampleError;
use super::faces::face_parts;
use super::geometry::Geometry;
use super::parts::{sample_parts, unit_dims, BlockCtx};
use super::regions::n_rows;
use crate::compile::points::BlockPoints;
use crate::ir::{Problem, Side};

/// A periodic region: `periodic` pairs (one when the face has no free coordinate).
pub(super) fn sample_periodic(
    problem: &Problem,
    geometry: &Geometry,
    coord: usize,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let config = &problem.sample;
    let n_coords = geometry.n_coords;
    let parts = face_parts(problem, geometry, coord, Side::Lo, ctx)?;
    let n = if unit_dims(&parts) == 0 {
        1
    } else {
        config.periodic
    };
    let (points, _) = sample_parts(
        &parts,
        n,
        config.sampler,
        n_coords,
        ctx.seed,
        ctx,
        "periodic face",
    )?;
    let hi = match geometry.time.filter(|&(t, _, _)| t == coord) {
        Some((_, _, t1)) => t1,
        None => {
            let (f, axis) = geometry.factor_of(coord).unwrap_or((0, 0));
            geometry.factors[f].bbox[axis].1
        }
    };
    let mut partner = points.clone();
    partner.chunks_mut(n_coords).for_each(|row| row[coord] = hi);
    Ok(BlockPoints {
        n: n_rows(&points, n_coords),
        points,
        partner: Some(partner),
        ..BlockPoints::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Region};

    #[test]
    fn periodic_partners_differ_only_in_the_coordinate() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 6.0),
            ("y", CoordKind::Space, 0.0, 1.0),
            T,
        ];
        let mut sample = config(0, 90);
        sample.periodic = 33;
        let mut p = problem(
            &coords,
            Vec::new(),
            vec![Region::Periodic { coord: 0 }, Region::Boundary],
            sample,
        );
        p.periodic = vec![0];
        let set = sample_points(&p, 0).unwrap();
        let pairs = &set.blocks[0];
        assert_eq!(pairs.n, 33);
        let partner = pairs.partner.as_ref().unwrap();
        for (x, q) in rows(&pairs.points, 3).iter().zip(rows(partner, 3)) {
            assert_eq!((x[0], q[0]), (0.0, 6.0));
            assert_eq!((x[1], x[2]), (q[1], q[2]));
            assert!(x[1] > 0.0 && x[1] < 1.0);
        }
        // The periodic coordinate has no boundary faces.
        let boundary = &set.blocks[1];
        assert_eq!(boundary.n, 90);
        assert!(rows(&boundary.points, 3)
            .iter()
            .all(|x| x[1] == 0.0 || x[1] == 1.0));
    }
}
