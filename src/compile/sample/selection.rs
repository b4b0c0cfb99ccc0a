//! `boundary where …` and `boundary of NAME where …`: the points of the base
//! region at which every condition holds.
//!
//! The base is split into the parts of [`boundary_pieces`] (or is the one part
//! of `boundary of NAME`), each times the other factors and the time interval.
//! A fixed pilot draw of [`PILOT_DRAWS`] candidates on each part estimates the
//! fraction of it that the conditions keep; the part's measure (as in
//! `boundary`) times that fraction is its selected measure. The count is the
//! selection's share of `sample boundary` (its selected measure over the
//! measure of the whole boundary, at least one point; on `boundary of NAME`
//! with `sample NAME = n`, that fraction of n), split over the parts by
//! largest remainder in proportion to their selected measures, and each part's
//! points are drawn by rejection (a candidate of the part is kept where the
//! conditions hold), so the points are uniform in the selection's measure.
//!
//! `a = b` holds where `|a − b| <= EQUAL_TOLERANCE × size` (`size`: the
//! largest extent of a coordinate's range). The points of a box face are
//! placed at the end of the interval exactly, so `where x = 1` on the side
//! `x = 1` of a box keeps every candidate on that side (fraction 1) and its
//! points have `x = 1` exactly; on a curve the condition holds on a set of
//! measure zero, which no pilot draw hits (`EmptySelection`).

use super::boundary::{
    allocate, boundary_part_times_rest, boundary_pieces, boundary_weights, sample_on_boundary_part,
    PILOT_DRAWS,
};
use super::error::SampleError;
use super::geometry::Geometry;
use super::parts::{measure_blocks, unit_dims, BlockCtx, ConditionProgram, Part};
use super::piece::{piece_count, piece_measure, piece_part, pilot_seed};
use super::sequence::{mix, TAG_WHERE};
use crate::compile::points::BlockPoints;
use crate::ir::{Condition, Problem, Region};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `a = b` in a `where` condition holds where `|a − b|` is at most this times
/// the largest extent of a coordinate's range.
pub const EQUAL_TOLERANCE: f64 = 1e-9;

/// The parts of a `where` region's base with their selected measures.
struct Selection<'g> {
    /// `(factor, part, selected measure)`: the part's measure as a part of the
    /// product domain times the fraction of it the conditions keep.
    parts: Vec<(usize, Part<'g>, f64)>,
    /// The measure of the whole boundary.
    total: f64,
    /// The measure of the base (before the conditions).
    base: f64,
}

impl Selection<'_> {
    fn measure(&self) -> f64 {
        self.parts.iter().map(|(_, _, m)| m).sum()
    }

    /// The selection's share of `sample boundary`.
    fn share(&self) -> f64 {
        if self.total > 0.0 {
            self.measure() / self.total
        } else {
            0.0
        }
    }
}

/// The points of `base where conditions`.
///
/// # Errors
/// [`SampleError::EmptySelection`] when the conditions hold on no part of the
/// base (no pilot draw kept), [`SampleError::InvalidPiece`] for a base that is
/// not `boundary` or a valid `boundary of NAME`, and the errors of rejection
/// sampling.
pub(super) fn sample_where(
    problem: &Problem,
    geometry: &Geometry,
    base: &Region,
    conditions: &[Condition],
    text: &str,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let n_coords = geometry.n_coords;
    let program = condition_program(problem, conditions);
    let selection = select(problem, geometry, base, &program, ctx)?;
    let selected = selection.measure();
    if selected <= 0.0 {
        return Err(SampleError::EmptySelection {
            block: ctx.index,
            label: ctx.label.to_string(),
            condition: text.to_string(),
        });
    }
    // `sample NAME = n` counts the whole piece; a narrowed piece gets its fraction.
    let count = match base {
        Region::Piece { name, .. } if selection.base > 0.0 => piece_count(problem, name)
            .map(|n| ((n as f64 * selected / selection.base).round() as usize).max(1)),
        _ => None,
    }
    .unwrap_or_else(|| {
        ((problem.sample.boundary as f64 * selection.share()).round() as usize).max(1)
    });
    let weights: Vec<f64> = selection.parts.iter().map(|(_, _, m)| *m).collect();
    let counts = allocate(count, &weights);
    let label = format!("{} where {text}", base_label(base));
    let (mut points, mut normals) = (Vec::new(), Vec::new());
    for (index, ((f, part, _), count)) in selection.parts.into_iter().zip(counts).enumerate() {
        if count == 0 {
            continue;
        }
        let seed = mix(ctx.seed, index as u64);
        let (p, n) = sample_on_boundary_part(
            problem,
            geometry,
            f,
            part,
            Some(Part::Condition(&program)),
            count,
            seed,
            ctx,
            &label,
        )?;
        points.extend(p);
        normals.extend(n);
    }
    Ok(BlockPoints {
        n: points.len() / n_coords.max(1),
        points,
        normals: Some(normals),
        ..BlockPoints::default()
    })
}

/// The share of `sample boundary` of every `where` region of `problem`, as
/// `(block, share)`; a share of 0 is a condition that holds nowhere on its base.
///
/// # Errors
/// [`SampleError`] when the domain cannot be sampled or a base is invalid.
pub fn where_shares(problem: &Problem) -> Result<Vec<(usize, f64)>, SampleError> {
    measure_blocks(problem, |geometry, region, ctx| {
        let Region::Where {
            base, conditions, ..
        } = region
        else {
            return None;
        };
        let program = condition_program(problem, conditions);
        Some(select(problem, geometry, base, &program, ctx).map(|selection| selection.share()))
    })
}

fn base_label(base: &Region) -> String {
    match base {
        Region::Piece { name, .. } => format!("boundary of {name}"),
        _ => "boundary".to_string(),
    }
}

/// How far apart the two sides of `=` may be: [`EQUAL_TOLERANCE`] times the
/// largest extent of a coordinate's range.
fn equal_tolerance(problem: &Problem) -> f64 {
    let size = problem
        .coords
        .iter()
        .map(|c| c.hi - c.lo)
        .filter(|extent| extent.is_finite())
        .fold(0.0, f64::max);
    EQUAL_TOLERANCE * if size > 0.0 { size } else { 1.0 }
}

fn condition_program(problem: &Problem, conditions: &[Condition]) -> ConditionProgram {
    ConditionProgram::new(&problem.exprs, conditions, equal_tolerance(problem))
}

/// The parts of `base` and the measure the conditions keep of each.
fn select<'g>(
    problem: &Problem,
    geometry: &'g Geometry,
    base: &'g Region,
    program: &ConditionProgram,
    ctx: &BlockCtx,
) -> Result<Selection<'g>, SampleError> {
    let seed = problem.sample.seed;
    let (weights, others) = boundary_weights(seed, geometry);
    let total: f64 = weights.iter().sum();
    let candidates: Vec<(usize, Part<'g>, f64)> = match base {
        Region::Boundary => boundary_pieces(geometry)
            .into_iter()
            .zip(&weights)
            .map(|((f, part, _), &weight)| (f, part, weight))
            .collect(),
        Region::Piece {
            name,
            factor,
            shape,
        } => {
            let (owner, part) = piece_part(geometry, name, *factor, shape, ctx)?;
            let own = piece_measure(&part, owner, pilot_seed(seed, *factor));
            vec![(*factor, part, own * others[*factor])]
        }
        _ => {
            return Err(SampleError::InvalidPiece {
                block: ctx.index,
                reason: "`where` narrows only `boundary` and `boundary of NAME`".to_string(),
            })
        }
    };
    let condition = Part::Condition(program);
    let base_measure = candidates.iter().map(|(_, _, weight)| weight).sum();
    let parts = candidates
        .into_iter()
        .enumerate()
        .map(|(index, (f, part, weight))| {
            let parts = boundary_part_times_rest(geometry, f, part);
            let pilot = mix(mix(pilot_seed(seed, f), TAG_WHERE), index as u64);
            let fraction = kept_fraction(&parts, &condition, geometry.n_coords, pilot);
            (f, part, weight * fraction)
        })
        .collect();
    Ok(Selection {
        parts,
        total,
        base: base_measure,
    })
}

/// The fraction of [`PILOT_DRAWS`] uniform candidates of `parts` (those the
/// parts accept) at which `condition` holds; 0 when no candidate is accepted.
fn kept_fraction(parts: &[Part], condition: &Part, n_coords: usize, seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut unit = vec![0.0; unit_dims(parts)];
    let (mut point, mut normal) = (vec![0.0; n_coords], vec![0.0; n_coords]);
    let (mut accepted, mut kept) = (0usize, 0usize);
    for _ in 0..PILOT_DRAWS {
        unit.iter_mut().for_each(|u| *u = rng.random::<f64>());
        let mut offset = 0;
        let on_parts = parts.iter().all(|part| {
            let dims = part.unit_dims();
            let ok = part.place_unit(&unit[offset..offset + dims], &mut point, &mut normal);
            offset += dims;
            ok
        });
        if on_parts {
            accepted += 1;
            if condition.place_unit(&[], &mut point, &mut normal) {
                kept += 1;
            }
        }
    }
    if accepted == 0 {
        0.0
    } else {
        kept as f64 / accepted as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Node, Relation, Shape};
    use crate::span::Span;
    use std::f64::consts::PI;

    /// The channel of `examples/kovasznay_obstacle.pde`: [-0.5, 1] × [-0.5, 1.5]
    /// minus a disk of radius 0.15 at (0.25, 0.5).
    const COORDS: [(&str, CoordKind, f64, f64); 2] = [
        ("x", CoordKind::Space, -0.5, 1.0),
        ("y", CoordKind::Space, -0.5, 1.5),
    ];
    const R: f64 = 0.15;

    fn hole() -> Shape {
        disk(0.25, 0.5, R)
    }

    fn channel() -> Shape {
        Shape::Difference(Box::new(rect((-0.5, 1.0), (-0.5, 1.5))), Box::new(hole()))
    }

    /// `coord ⋈ value`.
    fn condition(p: &mut Problem, coord: usize, relation: Relation, value: f64) -> Condition {
        Condition {
            left: p.exprs.intern(Node::Coord(coord)),
            relation,
            right: p.exprs.constant(value),
        }
    }

    fn narrow(base: Region, conditions: Vec<Condition>) -> Region {
        Region::Where {
            base: Box::new(base),
            conditions,
            text: "test".to_string(),
            span: Span::default(),
        }
    }

    /// `count` of `n` points is the share `p` of the boundary, estimated from
    /// [`PILOT_DRAWS`] draws that all lie on the boundary (binomial in them).
    fn assert_share(count: usize, n: usize, p: f64, what: &str) {
        let pilot_hits = (count as f64 / n as f64 * PILOT_DRAWS as f64).round() as usize;
        assert_binomial(pilot_hits, PILOT_DRAWS, p, what);
    }

    /// The channel with one block per list of `(coord, relation, value)` conditions on `boundary`.
    fn channel_problem(blocks: &[&[(usize, Relation, f64)]], boundary: usize) -> Problem {
        let mut p = problem(
            &COORDS,
            vec![factor(&[0, 1], channel())],
            vec![Region::Boundary; blocks.len()],
            config(0, boundary),
        );
        for (b, conditions) in blocks.iter().enumerate() {
            let lowered = conditions
                .iter()
                .map(|&(coord, relation, value)| condition(&mut p, coord, relation, value))
                .collect();
            p.blocks[b].region = narrow(Region::Boundary, lowered);
        }
        p
    }

    #[test]
    fn equal_picks_a_side_of_a_csg_box_exactly_and_uniformly() {
        let n = 4000;
        let p = channel_problem(&[&[(0, Relation::Equal, 1.0)]], n);
        let block = &sample_points(&p, 3).unwrap().blocks[0];
        let points = rows(&block.points, 2);
        let normals = rows(block.normals.as_ref().unwrap(), 2);
        for (x, normal) in points.iter().zip(&normals) {
            assert_eq!(x[0], 1.0, "{x:?} is off the side x = 1");
            assert!((-0.5..=1.5).contains(&x[1]), "{x:?}");
            assert_eq!(*normal, [1.0, 0.0], "normal at {x:?}");
        }
        // The side's share of the boundary, 2 / (7 + 2πR): the circle lies inside the box,
        // so every pilot draw is on the boundary and only the fraction on the side is random.
        assert_share(block.n, n, 2.0 / (7.0 + 2.0 * PI * R), "share of x = 1");
        // Uniform along the side: each quarter of its length holds a quarter of the points.
        for quarter in 0..4 {
            let lo = -0.5 + 0.5 * quarter as f64;
            let inside = points
                .iter()
                .filter(|x| x[1] >= lo && x[1] < lo + 0.5)
                .count();
            assert_binomial(inside, block.n, 0.25, "quarter of the side");
        }
    }

    #[test]
    fn equal_on_a_box_factor_takes_the_face_and_its_exact_count() {
        // A box domain's faces have exact measures and all of a face's candidates keep
        // x = 2 exactly: the count is the face's share of the boundary, 600 · 1/6.
        let coords = [
            ("x", CoordKind::Space, 0.0, 2.0),
            ("y", CoordKind::Space, 0.0, 1.0),
        ];
        let mut p = problem(
            &coords,
            vec![factor(&[0, 1], rect((0.0, 2.0), (0.0, 1.0)))],
            vec![Region::Boundary],
            config(0, 600),
        );
        let at_end = condition(&mut p, 0, Relation::Equal, 2.0);
        p.blocks[0].region = narrow(Region::Boundary, vec![at_end]);
        for sampler in [
            crate::ir::Sampler::Uniform,
            crate::ir::Sampler::Halton,
            crate::ir::Sampler::Grid,
        ] {
            p.sample.sampler = sampler;
            let block = &sample_points(&p, 1).unwrap().blocks[0];
            assert_eq!(block.n, 100, "{sampler:?}");
            for (x, normal) in rows(&block.points, 2)
                .into_iter()
                .zip(rows(block.normals.as_ref().unwrap(), 2))
            {
                assert_eq!(x[0], 2.0);
                assert_eq!(normal, [1.0, 0.0]);
            }
        }
        assert_eq!(where_shares(&p).unwrap(), vec![(0, 1.0 / 6.0)]);
    }

    #[test]
    fn inequalities_and_conjunctions_keep_their_part_with_outward_normals() {
        let n = 4000;
        let p = channel_problem(
            &[
                &[(0, Relation::Less, -0.49)],
                &[(1, Relation::Greater, 1.0), (0, Relation::LessEq, 0.0)],
                &[
                    (1, Relation::GreaterEq, 0.5),
                    (1, Relation::Less, 1.0),
                    (0, Relation::Greater, 0.0),
                    (0, Relation::Less, 0.5),
                ],
            ],
            n,
        );
        let set = sample_points(&p, 5).unwrap();
        let perimeter = 7.0 + 2.0 * PI * R;
        // x < -0.49: the inlet side (length 2) and 0.01 of each wall.
        let inlet = &set.blocks[0];
        assert!(rows(&inlet.points, 2).iter().all(|x| x[0] < -0.49));
        assert_share(inlet.n, n, 2.02 / perimeter, "x < -0.49");
        // y > 1 and x <= 0: the upper end of the inlet (0.5) and of the top wall (0.5).
        let corner = &set.blocks[1];
        let on_top = rows(&corner.points, 2)
            .iter()
            .filter(|x| x[1] == 1.5)
            .count();
        assert_binomial(on_top, corner.n, 0.5, "top wall in the corner");
        for x in rows(&corner.points, 2) {
            assert!(
                x[1] > 1.0 && x[0] <= 0.0 && (x[0] == -0.5 || x[1] == 1.5),
                "{x:?}"
            );
        }
        assert_share(corner.n, n, 1.0 / perimeter, "corner");
        // The upper half of the hole's circle (all of it is in 0 < x < 0.5).
        let arc = &set.blocks[2];
        assert_share(arc.n, n, PI * R / perimeter, "upper half of the circle");
        for (x, normal) in rows(&arc.points, 2)
            .into_iter()
            .zip(rows(arc.normals.as_ref().unwrap(), 2))
        {
            let (dx, dy) = (x[0] - 0.25, x[1] - 0.5);
            assert!((dx.hypot(dy) - R).abs() < 1e-12 && dy >= 0.0, "{x:?}");
            // Into the hole: the domain's outward normal.
            assert!((normal[0] + dx / R).abs() < 1e-12 && (normal[1] + dy / R).abs() < 1e-12);
        }
        assert_on_boundary_with_outward_normals(&channel(), arc, 2);
    }

    #[test]
    fn a_piece_narrowed_keeps_its_part_of_the_piece() {
        let n = 4000;
        let mut p = problem(
            &COORDS,
            vec![factor(&[0, 1], channel())],
            vec![Region::Boundary],
            config(0, n),
        );
        let upper = condition(&mut p, 1, Relation::Greater, 0.5);
        let piece = Region::Piece {
            name: "hole".to_string(),
            factor: 0,
            shape: hole(),
        };
        p.blocks[0].region = narrow(piece, vec![upper]);
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        // Two pilot estimates (the circle's share, about 2%, and the half of it that is
        // kept, about 2% of the draws on it): 12% is four of their combined deviations.
        let expected = n as f64 * PI * R / (7.0 + 2.0 * PI * R);
        assert!(
            (block.n as f64 - expected).abs() <= 0.12 * expected,
            "{}",
            block.n
        );
        let points = rows(&block.points, 2);
        for x in &points {
            assert!(
                ((x[0] - 0.25).hypot(x[1] - 0.5) - R).abs() < 1e-12 && x[1] > 0.5,
                "{x:?}"
            );
        }
        // Uniform in arc length: the quarter right of the centre holds half the points.
        let right = points.iter().filter(|x| x[0] > 0.25).count();
        assert_binomial(right, block.n, 0.5, "right quarter of the circle");
        assert_on_boundary_with_outward_normals(&channel(), block, 2);
        // With `sample hole = 1000` the narrowed piece gets the kept fraction (one
        // half, from PILOT_DRAWS draws) of 1000 instead of its share of `boundary`.
        p.sample.pieces = vec![("hole".to_string(), 1000)];
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert_binomial(block.n, 1000, 0.5, "half of the piece's own count");
        assert!((block.n as f64 - expected).abs() > 100.0, "{}", block.n);
    }

    #[test]
    fn a_condition_that_holds_nowhere_on_the_boundary_is_an_error() {
        // x = 0.3 crosses the channel's walls at two points only; x > 2 misses it.
        let p = channel_problem(
            &[&[(0, Relation::Equal, 0.3)], &[(0, Relation::Greater, 2.0)]],
            100,
        );
        assert_eq!(where_shares(&p).unwrap(), vec![(0, 0.0), (1, 0.0)]);
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::EmptySelection { block: 0, .. })
        ));
        // The side x = 1 matches to the tolerance, scaled by the domain's size.
        let p = channel_problem(&[&[(0, Relation::Equal, 1.0 + 1e-10)]], 100);
        assert!(where_shares(&p).unwrap()[0].1 > 0.2);
        let p = channel_problem(&[&[(0, Relation::Equal, 1.0 + 1e-6)]], 100);
        assert_eq!(where_shares(&p).unwrap()[0].1, 0.0);
    }
}
