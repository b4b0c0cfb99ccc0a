//! Faces `coord = lo|hi`: of a box factor (with the outward normal) or of the
//! time interval, times the other factors.

use super::error::SampleError;
use super::geometry::Geometry;
use super::parts::{inside_all, sample_parts, time_interval, unit_dims, BlockCtx, Part};
use super::regions::n_rows;
use crate::compile::points::BlockPoints;
use crate::ir::{Problem, Shape, Side};

/// Parts of the face `coord = lo|hi` (normal written for spatial faces).
pub(super) fn face_parts<'g>(
    problem: &Problem,
    geometry: &'g Geometry,
    coord: usize,
    side: Side,
    ctx: &BlockCtx,
) -> Result<Vec<Part<'g>>, SampleError> {
    if coord >= geometry.n_coords {
        return Err(SampleError::UnknownCoord {
            block: ctx.index,
            coord,
            n_coords: geometry.n_coords,
        });
    }
    if let Some((time, t0, t1)) = geometry.time.filter(|&(t, _, _)| t == coord) {
        let mut parts = inside_all(geometry, None);
        let value = if side == Side::Lo { t0 } else { t1 };
        parts.push(Part::Fixed { coord: time, value });
        return Ok(parts);
    }
    let (f, axis) = geometry
        .factor_of(coord)
        .filter(|&(f, _)| matches!(geometry.factors[f].shape, Shape::Box(_)))
        .ok_or_else(|| SampleError::FaceOfCurvedShape {
            block: ctx.index,
            label: ctx.label.to_string(),
            coord: problem.coords[coord].name.clone(),
        })?;
    let mut parts = vec![Part::BoxFace {
        factor: &geometry.factors[f],
        axis,
        side,
    }];
    parts.extend(inside_all(geometry, Some(f)));
    parts.extend(time_interval(geometry));
    Ok(parts)
}

/// A face region: its `faces` override, else an equal share of `boundary` per
/// non-periodic box face; one point when the face has no free coordinate.
pub(super) fn sample_face(
    problem: &Problem,
    geometry: &Geometry,
    coord: usize,
    side: Side,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let config = &problem.sample;
    let n_coords = geometry.n_coords;
    let parts = face_parts(problem, geometry, coord, side, ctx)?;
    let n = if unit_dims(&parts) == 0 {
        1
    } else {
        config
            .faces
            .iter()
            .find(|&&(c, s, _)| c == coord && s == side)
            .map_or_else(
                || (config.boundary / n_box_faces(geometry).max(1)).max(1),
                |&(_, _, count)| count,
            )
    };
    let (points, normals) =
        sample_parts(&parts, n, config.sampler, n_coords, ctx.seed, ctx, "face")?;
    Ok(BlockPoints {
        n: n_rows(&points, n_coords),
        points,
        normals: Some(normals),
        ..BlockPoints::default()
    })
}

/// Non-periodic faces of the box factors.
pub(super) fn n_box_faces(geometry: &Geometry) -> usize {
    geometry
        .factors
        .iter()
        .filter(|factor| matches!(factor.shape, Shape::Box(_)))
        .flat_map(|factor| &factor.coords)
        .filter(|coord| !geometry.periodic.contains(coord))
        .count()
        * 2
}
#[cfg(test)]
mod tests {
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Region, Side};

    #[test]
    fn faces_use_override_or_boundary_share() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
            T,
        ];
        let mut sample = config(0, 80);
        sample.faces = vec![(1, Side::Lo, 7)];
        let p = problem(
            &coords,
            Vec::new(),
            vec![
                Region::Face {
                    coord: 0,
                    side: Side::Hi,
                },
                Region::Face {
                    coord: 1,
                    side: Side::Lo,
                },
                Region::Face {
                    coord: 2,
                    side: Side::Lo,
                },
            ],
            sample,
        );
        let set = sample_points(&p, 0).unwrap();
        // Four spatial faces share the boundary count.
        let x_hi = &set.blocks[0];
        assert_eq!(x_hi.n, 20);
        for (x, n) in rows(&x_hi.points, 3)
            .iter()
            .zip(rows(x_hi.normals.as_ref().unwrap(), 3))
        {
            assert_eq!(x[0], 1.0);
            assert!(x[1] > -1.0 && x[1] < 1.0 && x[2] >= 0.0 && x[2] <= 2.0);
            assert_eq!(n, [1.0, 0.0, 0.0]);
        }
        let y_lo = &set.blocks[1];
        assert_eq!(y_lo.n, 7);
        for (x, n) in rows(&y_lo.points, 3)
            .iter()
            .zip(rows(y_lo.normals.as_ref().unwrap(), 3))
        {
            assert_eq!(x[1], -1.0);
            assert_eq!(n, [0.0, -1.0, 0.0]);
        }
        // A time face is `t = t0` with no spatial normal.
        let t_lo = &set.blocks[2];
        assert!(rows(&t_lo.points, 3).iter().all(|x| x[2] == 0.0));
        assert!(t_lo.normals.as_ref().unwrap().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn face_of_one_dimensional_steady_problem_is_one_point() {
        let mut sample = config(10, 10);
        sample.faces = vec![(0, Side::Hi, 5)];
        let p = problem(
            &[X],
            Vec::new(),
            vec![
                Region::Face {
                    coord: 0,
                    side: Side::Lo,
                },
                Region::Face {
                    coord: 0,
                    side: Side::Hi,
                },
            ],
            sample,
        );
        let set = sample_points(&p, 0).unwrap();
        assert_eq!(set.blocks[0].points, vec![0.0]);
        assert_eq!(set.blocks[0].normals, Some(vec![-1.0]));
        assert_eq!(set.blocks[1].points, vec![1.0]);
        assert_eq!(set.blocks[1].normals, Some(vec![1.0]));
    }
}
