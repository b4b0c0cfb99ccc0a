//! `boundary of NAME`: the part of one factor's boundary that lies on the
//! boundary of a named shape, times the other factors and the time interval.
//!
//! Its points are drawn like those of a CSG surface (a primitive of the
//! factor's shape chosen by its boundary measure, a uniform point on it, kept
//! when it is on the factor's boundary) and kept only where they also lie on
//! the named shape's boundary, so they are uniform in the piece's measure (arc
//! length, surface area). The count is the piece's share of `boundary`: the
//! measure of `piece × other factors` over that of the whole boundary
//! (`boundary.rs`), at least one point, unless `sample NAME = n` gives it. The piece's measure is estimated from
//! the same pilot stream as the factor's boundary measure, so the pieces that
//! make up a factor's boundary share its count.

use super::boundary::{boundary_weights, sample_on_boundary_part, PILOT_DRAWS};
use super::error::SampleError;
use super::geometry::{Factor, Geometry};
use super::parts::{measure_blocks, BlockCtx, Part};
use super::sequence::{mix, TAG_PILOT};
use super::shape::{primitive_boundary_measure, shape_dim};
use crate::compile::points::BlockPoints;
use crate::ir::{Problem, Region, Shape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The points of `boundary of NAME` (`piece` over the coordinates of factor `factor`).
///
/// # Errors
/// [`SampleError::InvalidPiece`] when the factor does not exist or the shape's
/// dimension is not the factor's, [`SampleError::EmptyPiece`] when no part of
/// the factor's boundary lies on the shape's boundary, and the errors of
/// rejection sampling.
pub(super) fn sample_piece(
    problem: &Problem,
    geometry: &Geometry,
    name: &str,
    factor: usize,
    piece: &Shape,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let config = &problem.sample;
    let n_coords = geometry.n_coords;
    let (owner, part) = piece_part(geometry, name, factor, piece, ctx)?;
    let own_measure = piece_measure(&part, owner, pilot_seed(config.seed, factor));
    if own_measure <= 0.0 {
        return Err(SampleError::EmptyPiece {
            block: ctx.index,
            label: ctx.label.to_string(),
            name: name.to_string(),
        });
    }
    let count = match piece_count(problem, name) {
        Some(count) => count,
        None => {
            let (weights, others) = boundary_weights(config.seed, geometry);
            let total: f64 = weights.iter().sum();
            let share = own_measure * others[factor] / total;
            ((config.boundary as f64 * share).round() as usize).max(1)
        }
    };
    let label = format!("boundary of {name}");
    let (points, normals) = sample_on_boundary_part(
        problem, geometry, factor, part, None, count, ctx.seed, ctx, &label,
    )?;
    Ok(BlockPoints {
        n: points.len() / n_coords.max(1),
        points,
        normals: Some(normals),
        ..BlockPoints::default()
    })
}

/// The part of `boundary of NAME` (`piece` over the coordinates of factor
/// `factor`) and that factor.
///
/// # Errors
/// [`SampleError::InvalidPiece`] when the factor does not exist or the shape's
/// dimension is not the factor's.
pub(super) fn piece_part<'g>(
    geometry: &'g Geometry,
    name: &str,
    factor: usize,
    piece: &'g Shape,
    ctx: &BlockCtx,
) -> Result<(&'g Factor, Part<'g>), SampleError> {
    let invalid = |reason: String| SampleError::InvalidPiece {
        block: ctx.index,
        reason,
    };
    let owner = geometry
        .factors
        .get(factor)
        .ok_or_else(|| invalid(format!("domain factor {factor} does not exist")))?;
    let dim = shape_dim(piece).map_err(|reason| invalid(format!("`{name}`: {reason}")))?;
    if dim != owner.coords.len() {
        return Err(invalid(format!(
            "`{name}` has dimension {dim}, but its factor has {} coordinates",
            owner.coords.len()
        )));
    }
    Ok((
        owner,
        Part::Piece {
            factor: owner,
            piece,
        },
    ))
}

/// The measure of the piece of every `boundary of NAME` region, as `(block,
/// measure)` from the pilot draw: 0 when no part of the shape's boundary lies on
/// the domain's boundary.
///
/// # Errors
/// [`SampleError`] when the domain cannot be sampled or a piece is invalid.
pub fn piece_measures(problem: &Problem) -> Result<Vec<(usize, f64)>, SampleError> {
    measure_blocks(problem, |geometry, region, ctx| {
        let Region::Piece {
            name,
            factor,
            shape,
        } = region
        else {
            return None;
        };
        Some(
            piece_part(geometry, name, *factor, shape, ctx).map(|(owner, part)| {
                piece_measure(&part, owner, pilot_seed(problem.sample.seed, *factor))
            }),
        )
    })
}

/// The count `sample NAME = n` gives `boundary of NAME`, if any.
pub(super) fn piece_count(problem: &Problem, name: &str) -> Option<usize> {
    problem
        .sample
        .pieces
        .iter()
        .find(|(piece, _)| piece == name)
        .map(|&(_, count)| count)
}

/// The pilot stream of factor `factor` (shared with `boundary.rs`).
pub(super) fn pilot_seed(seed: u64, factor: usize) -> u64 {
    mix(mix(seed, TAG_PILOT), factor as u64)
}

/// Measure of a piece of a factor's boundary: the boundary measure of the
/// factor's primitives times the share of [`PILOT_DRAWS`] draws on them that
/// `part` keeps.
pub(super) fn piece_measure(part: &Part, factor: &Factor, seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut unit = vec![0.0; part.unit_dims()];
    let n_local = factor.coords.iter().max().map_or(0, |&c| c + 1);
    let (mut point, mut normal) = (vec![0.0; n_local], vec![0.0; n_local]);
    let hits = (0..PILOT_DRAWS)
        .filter(|_| {
            unit.iter_mut().for_each(|u| *u = rng.random::<f64>());
            part.place_unit(&unit, &mut point, &mut normal)
        })
        .count();
    let proposal: f64 = factor
        .shape
        .primitives()
        .into_iter()
        .map(primitive_boundary_measure)
        .sum();
    proposal * hits as f64 / PILOT_DRAWS as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Region, Sampler};
    use std::f64::consts::PI;

    const R: f64 = 0.3;

    fn square() -> Shape {
        rect((-1.0, 1.0), (-1.0, 1.0))
    }

    fn hole() -> Shape {
        disk(0.0, 0.0, R)
    }

    fn square_minus_hole() -> Shape {
        Shape::Difference(Box::new(square()), Box::new(hole()))
    }

    fn piece(name: &str, factor: usize, shape: Shape) -> Region {
        Region::Piece {
            name: name.to_string(),
            factor,
            shape,
        }
    }

    #[test]
    fn hole_points_lie_on_the_circle_with_normals_into_the_hole() {
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        for sampler in [Sampler::Uniform, Sampler::Halton, Sampler::Grid] {
            let mut sample = config(0, 4000);
            sample.sampler = sampler;
            let p = problem(
                &coords,
                vec![factor(&[0, 1], square_minus_hole())],
                vec![piece("hole", 0, hole()), piece("outer", 0, square())],
                sample,
            );
            let set = sample_points(&p, 1).unwrap();
            let (hole_block, outer_block) = (&set.blocks[0], &set.blocks[1]);
            // Both pieces are drawn from one pilot stream: together they have the
            // whole boundary's count, up to the rounding of each share.
            assert!(
                (hole_block.n + outer_block.n).abs_diff(4000) <= 1,
                "{sampler:?}: {} + {}",
                hole_block.n,
                outer_block.n
            );
            for (x, n) in rows(&hole_block.points, 2)
                .into_iter()
                .zip(rows(hole_block.normals.as_ref().unwrap(), 2))
            {
                let radius = x[0].hypot(x[1]);
                assert!((radius - R).abs() < 1e-12, "{x:?} is off the circle");
                // At (R cos θ, R sin θ) the domain's outward normal is -(cos θ, sin θ).
                let (c, s) = (x[0] / radius, x[1] / radius);
                assert!(
                    (n[0] + c).abs() < 1e-12 && (n[1] + s).abs() < 1e-12,
                    "normal {n:?} at {x:?}"
                );
            }
            for (x, n) in rows(&outer_block.points, 2)
                .into_iter()
                .zip(rows(outer_block.normals.as_ref().unwrap(), 2))
            {
                let on_x_face = x[0].abs() == 1.0;
                let on_y_face = x[1].abs() == 1.0;
                assert!(on_x_face || on_y_face, "{x:?} is off the square");
                assert!(x[0].abs() <= 1.0 && x[1].abs() <= 1.0);
                let expected = if on_x_face { [x[0], 0.0] } else { [0.0, x[1]] };
                assert_eq!(n, expected, "normal at {x:?}");
            }
            assert_on_boundary_with_outward_normals(&square_minus_hole(), hole_block, 2);
            assert_on_boundary_with_outward_normals(&square_minus_hole(), outer_block, 2);
        }
    }

    #[test]
    fn counts_and_points_follow_the_measure_of_each_piece() {
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        let n = 4000;
        let p = problem(
            &coords,
            vec![factor(&[0, 1], square_minus_hole())],
            vec![piece("hole", 0, hole()), piece("outer", 0, square())],
            config(0, n),
        );
        let set = sample_points(&p, 2).unwrap();
        // The share of the circle, 2πR / (8 + 2πR), is estimated from PILOT_DRAWS
        // draws on the primitives' boundaries (total length 8 + 2πR, all of it
        // on the domain's boundary here), so its count is binomial in those draws.
        let share = 2.0 * PI * R / (8.0 + 2.0 * PI * R);
        let pilot_hits = (set.blocks[0].n as f64 / n as f64 * PILOT_DRAWS as f64).round();
        assert_binomial(pilot_hits as usize, PILOT_DRAWS, share, "circle share");
        // Uniform in arc length: each quarter of the circle holds a quarter of its points.
        let hole_points = rows(&set.blocks[0].points, 2);
        let first_quadrant = hole_points
            .iter()
            .filter(|x| x[0] > 0.0 && x[1] > 0.0)
            .count();
        assert_binomial(first_quadrant, hole_points.len(), 0.25, "first quadrant");
        // Uniform in length on the square: each side holds a quarter of its points.
        let outer_points = rows(&set.blocks[1].points, 2);
        let right = outer_points.iter().filter(|x| x[0] == 1.0).count();
        assert_binomial(right, outer_points.len(), 0.25, "side x = 1");
        let middle = outer_points
            .iter()
            .filter(|x| x[0] == 1.0 && x[1].abs() < 0.5)
            .count();
        assert_binomial(middle, right, 0.5, "middle half of x = 1");
    }

    #[test]
    fn a_pieces_own_count_replaces_its_share() {
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        let n = 4000;
        let mut p = problem(
            &coords,
            vec![factor(&[0, 1], square_minus_hole())],
            vec![piece("hole", 0, hole()), piece("outer", 0, square())],
            config(0, n),
        );
        let shares = sample_points(&p, 2).unwrap();
        p.sample.pieces = vec![("hole".to_string(), 37)];
        let set = sample_points(&p, 2).unwrap();
        // The circle gets exactly its count; the square keeps its share of `boundary`.
        assert_eq!(set.blocks[0].n, 37);
        assert_ne!(shares.blocks[0].n, 37);
        assert_eq!(set.blocks[1].n, shares.blocks[1].n);
        for x in rows(&set.blocks[0].points, 2) {
            assert!(
                (x[0].hypot(x[1]) - R).abs() < 1e-12,
                "{x:?} is off the circle"
            );
        }
    }

    #[test]
    fn a_piece_of_a_product_domain_spans_the_other_factors_and_time() {
        // (square − hole) × z ∈ [0, 2] × t ∈ [0, 2]: the piece is the cylinder
        // wall, of area 2πR · 2, within a boundary of area
        // (8 + 2πR) · 2 + 2 · (4 − πR²).
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
            ("z", CoordKind::Space, 0.0, 2.0),
            T,
        ];
        let n = 3000;
        let p = problem(
            &coords,
            vec![
                factor(&[2], Shape::Box(vec![(0.0, 2.0)])),
                factor(&[0, 1], square_minus_hole()),
            ],
            vec![piece("hole", 1, hole())],
            config(0, n),
        );
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        let wall = 2.0 * PI * R * 2.0;
        let whole = (8.0 + 2.0 * PI * R) * 2.0 + 2.0 * (4.0 - PI * R * R);
        // The share's estimate has the spread of the pilot's estimates of the
        // area of the CSG factor and of its perimeter (about 1% each, below).
        let expected = n as f64 * wall / whole;
        assert!(
            (block.n as f64 - expected).abs() <= 0.05 * expected,
            "{} points, expected {expected:.0}",
            block.n
        );
        for (x, normal) in rows(&block.points, 4)
            .into_iter()
            .zip(rows(block.normals.as_ref().unwrap(), 4))
        {
            assert!((x[0].hypot(x[1]) - R).abs() < 1e-12, "{x:?}");
            assert!(x[2] > 0.0 && x[2] < 2.0, "z of {x:?}");
            assert!((0.0..=2.0).contains(&x[3]), "t of {x:?}");
            assert_eq!((normal[2], normal[3]), (0.0, 0.0));
        }
        let upper = rows(&block.points, 4).iter().filter(|x| x[2] > 1.0).count();
        assert_binomial(upper, block.n, 0.5, "upper half in z");
    }

    #[test]
    fn a_piece_of_a_csg_hole_keeps_only_the_arcs_on_the_domain_boundary() {
        // Two overlapping disks of radius 0.3 at x = ±0.2 make the hole; the arc
        // of each inside the other is not on the boundary.
        let left = disk(-0.2, 0.0, R);
        let right = disk(0.2, 0.0, R);
        let hole = Shape::Union(Box::new(left), Box::new(right));
        let domain = Shape::Difference(Box::new(square()), Box::new(hole.clone()));
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        let p = problem(
            &coords,
            vec![factor(&[0, 1], domain.clone())],
            vec![piece("hole", 0, hole.clone())],
            config(0, 2000),
        );
        let block = &sample_points(&p, 4).unwrap().blocks[0];
        assert!(block.n > 100);
        for x in rows(&block.points, 2) {
            let to_left = (x[0] + 0.2).hypot(x[1]);
            let to_right = (x[0] - 0.2).hypot(x[1]);
            let on_left_outer = (to_left - R).abs() < 1e-12 && to_right >= R;
            let on_right_outer = (to_right - R).abs() < 1e-12 && to_left >= R;
            assert!(
                on_left_outer || on_right_outer,
                "{x:?} is not on the hole's boundary"
            );
        }
        assert_on_boundary_with_outward_normals(&domain, block, 2);
    }

    #[test]
    fn a_piece_off_the_domain_boundary_is_an_error() {
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        // A disk outside the square removes nothing: its circle is not on the boundary.
        let far = disk(5.0, 5.0, R);
        let domain = Shape::Difference(Box::new(square()), Box::new(far.clone()));
        let p = problem(
            &coords,
            vec![factor(&[0, 1], domain)],
            vec![piece("far", 0, far)],
            config(0, 100),
        );
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::EmptyPiece { block: 0, ref name, .. }) if name == "far"
        ));
        // A piece over the wrong number of coordinates, or of a missing factor.
        let p = problem(
            &coords,
            vec![factor(&[0, 1], square())],
            vec![piece(
                "ball",
                0,
                Shape::Ball {
                    center: vec![0.0; 3],
                    radius: 1.0,
                },
            )],
            config(0, 100),
        );
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::InvalidPiece { block: 0, .. })
        ));
        let p = problem(
            &coords,
            vec![factor(&[0, 1], square())],
            vec![piece("square", 3, square())],
            config(0, 100),
        );
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::InvalidPiece { block: 0, .. })
        ));
    }
}
