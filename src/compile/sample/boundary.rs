//! `boundary`: the union over factors of `∂factor × other factors × time`,
//! its count split over the pieces (box faces, ball and CSG surfaces) by
//! largest remainder in proportion to their measure (estimated from a pilot
//! stream for CSG).

use super::error::SampleError;
use super::geometry::{Factor, Geometry};
use super::parts::{inside_all, sample_parts, time_interval, BlockCtx, Part};
use super::piece::{piece_measure, pilot_seed};
use super::sequence::mix;
use super::shape::{
    ball_volume, box_face_measure, box_volume, contains_strictly, is_primitive,
    primitive_boundary_measure, sphere_area,
};
use crate::compile::points::BlockPoints;
use crate::ir::{Problem, Sampler, Shape, Side};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Number of draws used to estimate the volume and surface measure of a CSG
/// factor when several boundary pieces must be weighed against each other.
pub(super) const PILOT_DRAWS: usize = 20_000;

/// The spatial boundary of the product domain times the time interval.
pub(super) fn sample_boundary(
    problem: &Problem,
    geometry: &Geometry,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let config = &problem.sample;
    let n_coords = geometry.n_coords;
    let pieces = boundary_pieces(geometry);
    if pieces.is_empty() {
        return Err(SampleError::NoBoundary {
            block: ctx.index,
            label: ctx.label.to_string(),
        });
    }
    let counts = if pieces.len() == 1 {
        vec![config.boundary]
    } else {
        allocate(config.boundary, &boundary_weights(config.seed, geometry).0)
    };
    let (mut points, mut normals) = (Vec::new(), Vec::new());
    for (index, ((f, part, _), count)) in pieces.into_iter().zip(counts).enumerate() {
        let seed = mix(ctx.seed, index as u64);
        let (p, n) = sample_on_boundary_part(
            problem, geometry, f, part, None, count, seed, ctx, "boundary",
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

/// `count` points of `part` (a part of factor `f`'s boundary) times the other factors
/// and the time interval, with their outward normals, kept where `condition` (a
/// [`Part::Condition`]) holds. Under `grid` the points come from Halton: see the
/// module docs.
#[allow(clippy::too_many_arguments)]
pub(super) fn sample_on_boundary_part<'g>(
    problem: &Problem,
    geometry: &'g Geometry,
    f: usize,
    part: Part<'g>,
    condition: Option<Part<'g>>,
    count: usize,
    seed: u64,
    ctx: &BlockCtx,
    label: &str,
) -> Result<(Vec<f64>, Vec<f64>), SampleError> {
    let mut parts = boundary_part_times_rest(geometry, f, part);
    parts.extend(condition);
    let sampler = match problem.sample.sampler {
        Sampler::Grid => Sampler::Halton,
        other => other,
    };
    sample_parts(&parts, count, sampler, geometry.n_coords, seed, ctx, label)
}

/// `part` (a part of factor `f`'s boundary), the inside of the other factors
/// and the time interval.
pub(super) fn boundary_part_times_rest<'g>(
    geometry: &'g Geometry,
    f: usize,
    part: Part<'g>,
) -> Vec<Part<'g>> {
    let mut parts = vec![part];
    parts.extend(inside_all(geometry, Some(f)));
    parts.extend(time_interval(geometry));
    parts
}

/// The parts of the spatial boundary: each non-periodic face of a box factor
/// and the surface of each ball or CSG factor, as `(factor, part, exact
/// measure of the part within its factor)` (`None`: estimated).
pub(super) fn boundary_pieces(geometry: &Geometry) -> Vec<(usize, Part<'_>, Option<f64>)> {
    let mut pieces = Vec::new();
    for (f, factor) in geometry.factors.iter().enumerate() {
        match &factor.shape {
            Shape::Box(bounds) => {
                for (axis, &coord) in factor.coords.iter().enumerate() {
                    if geometry.periodic.contains(&coord) {
                        continue;
                    }
                    for side in [Side::Lo, Side::Hi] {
                        let part = Part::BoxFace { factor, axis, side };
                        pieces.push((f, part, Some(box_face_measure(bounds, axis))));
                    }
                }
            }
            shape => {
                let exact = is_primitive(shape).then(|| surface_measure(factor, 0));
                pieces.push((f, Part::Surface(factor), exact));
            }
        }
    }
    pieces
}

/// The measure of each part of the spatial boundary ([`boundary_pieces`]
/// order) as a part of the product domain (its own measure times the volumes
/// of the other factors), and for each factor the product of the other
/// factors' volumes. CSG volumes and surfaces are estimated from the pilot
/// stream of `seed`.
pub(super) fn boundary_weights(seed: u64, geometry: &Geometry) -> (Vec<f64>, Vec<f64>) {
    let volumes: Vec<f64> = geometry
        .factors
        .iter()
        .enumerate()
        .map(|(f, factor)| factor_volume(factor, pilot_seed(seed, f)))
        .collect();
    let others: Vec<f64> = (0..volumes.len())
        .map(|f| {
            volumes
                .iter()
                .enumerate()
                .filter(|&(g, _)| g != f)
                .map(|(_, v)| v)
                .product()
        })
        .collect();
    let weights = boundary_pieces(geometry)
        .iter()
        .map(|(f, _, measure)| {
            let own = measure
                .unwrap_or_else(|| surface_measure(&geometry.factors[*f], pilot_seed(seed, *f)));
            own * others[*f]
        })
        .collect();
    (weights, others)
}

/// Splits `n` in proportion to `weights` by largest remainder (ties to the
/// earlier index).
pub(super) fn allocate(n: usize, weights: &[f64]) -> Vec<usize> {
    let total: f64 = weights.iter().sum();
    let shares: Vec<f64> = weights.iter().map(|w| n as f64 * w / total).collect();
    let mut counts: Vec<usize> = shares.iter().map(|s| s.floor() as usize).collect();
    let assigned: usize = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (shares[a] - counts[a] as f64, shares[b] - counts[b] as f64);
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &index in order.iter().take(n.saturating_sub(assigned)) {
        counts[index] += 1;
    }
    counts
}

/// Volume of a factor (estimated from a fixed pilot stream for CSG).
pub(super) fn factor_volume(factor: &Factor, pilot_seed: u64) -> f64 {
    match &factor.shape {
        Shape::Box(bounds) => box_volume(bounds),
        Shape::Ball { center, radius } => ball_volume(center.len(), *radius),
        shape => {
            let mut rng = ChaCha8Rng::seed_from_u64(pilot_seed);
            let mut local = vec![0.0; factor.bbox.len()];
            let hits = (0..PILOT_DRAWS)
                .filter(|_| {
                    for (x, &(lo, hi)) in local.iter_mut().zip(&factor.bbox) {
                        *x = lo + rng.random::<f64>() * (hi - lo);
                    }
                    contains_strictly(shape, &local)
                })
                .count();
            box_volume(&factor.bbox) * hits as f64 / PILOT_DRAWS as f64
        }
    }
}

/// Boundary measure of a ball or CSG factor (estimated for CSG).
pub(super) fn surface_measure(factor: &Factor, pilot_seed: u64) -> f64 {
    match &factor.shape {
        Shape::Ball { center, radius } => sphere_area(center.len(), *radius),
        Shape::Box(bounds) => primitive_boundary_measure(&Shape::Box(bounds.clone())),
        _ => piece_measure(&Part::Surface(factor), factor, pilot_seed),
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::shape::{contains, signed_distance};
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Region};

    #[test]
    fn interval_boundary_splits_count_between_end_points() {
        let p = problem(
            &[X],
            Vec::new(),
            vec![Region::Interior, Region::Boundary],
            config(50, 11),
        );
        let set = sample_points(&p, 0).unwrap();
        let interior = &set.blocks[0];
        assert_eq!(interior.n, 50);
        assert!(interior.points.iter().all(|&x| x > 0.0 && x < 1.0));
        assert!(interior.normals.is_none());
        let boundary = &set.blocks[1];
        assert_eq!(boundary.n, 11);
        let normals = boundary.normals.as_ref().unwrap();
        let at_lo = boundary.points.iter().filter(|&&x| x == 0.0).count();
        let at_hi = boundary.points.iter().filter(|&&x| x == 1.0).count();
        assert_eq!((at_lo, at_hi), (6, 5));
        for (x, n) in boundary.points.iter().zip(normals) {
            assert_eq!(*n, if *x == 0.0 { -1.0 } else { 1.0 });
        }
    }

    #[test]
    fn box_boundary_counts_follow_face_measure() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 2.0),
            ("y", CoordKind::Space, 0.0, 1.0),
            T,
        ];
        let shape = rect((0.0, 2.0), (0.0, 1.0));
        let p = problem(
            &coords,
            vec![factor(&[0, 1], shape.clone())],
            vec![Region::Boundary],
            config(0, 600),
        );
        let block = &sample_points(&p, 3).unwrap().blocks[0];
        assert_eq!(block.n, 600);
        // Faces x = 0, 2 have length 1; faces y = 0, 1 have length 2.
        let count = |coord: usize, value: f64| {
            rows(&block.points, 3)
                .iter()
                .filter(|x| x[coord] == value)
                .count()
        };
        assert_eq!(
            [count(0, 0.0), count(0, 2.0), count(1, 0.0), count(1, 1.0)],
            [100, 100, 200, 200]
        );
        assert!(rows(&block.points, 3)
            .iter()
            .all(|x| x[2] >= 0.0 && x[2] <= 2.0));
        assert_on_boundary_with_outward_normals(&shape, block, 3);
    }

    #[test]
    fn csg_boundary_is_uniform_along_its_length() {
        // Disk minus the right half-plane box: the boundary is a half circle
        // (length π) and the segment x = 0, |y| ≤ 1 (length 2).
        let shape = Shape::Difference(
            Box::new(disk(0.0, 0.0, 1.0)),
            Box::new(rect((0.0, 2.0), (-2.0, 2.0))),
        );
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        let p = problem(
            &coords,
            vec![factor(&[0, 1], shape)],
            vec![Region::Boundary],
            config(0, 4000),
        );
        let block = &sample_points(&p, 2).unwrap().blocks[0];
        let on_segment = rows(&block.points, 2)
            .iter()
            .filter(|x| x[0] == 0.0)
            .count() as f64;
        let expected = 4000.0 * 2.0 / (2.0 + std::f64::consts::PI);
        assert!(
            (on_segment - expected).abs() < 4.0 * expected.sqrt(),
            "{on_segment} vs {expected}"
        );
    }

    #[test]
    fn product_boundary_is_split_by_measure() {
        // Unit disk × z ∈ [0, 1]: lateral surface 2π, each cap π.
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
            ("z", CoordKind::Space, 0.0, 1.0),
        ];
        let p = problem(
            &coords,
            vec![
                factor(&[0, 1], disk(0.0, 0.0, 1.0)),
                factor(&[2], Shape::Box(vec![(0.0, 1.0)])),
            ],
            vec![Region::Boundary],
            config(0, 400),
        );
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        let points = rows(&block.points, 3);
        let normals = rows(block.normals.as_ref().unwrap(), 3);
        let lateral = points
            .iter()
            .filter(|x| (x[0].hypot(x[1]) - 1.0).abs() < 1e-12)
            .count();
        let bottom = points.iter().filter(|x| x[2] == 0.0).count();
        let top = points.iter().filter(|x| x[2] == 1.0).count();
        assert_eq!((lateral, bottom, top), (200, 100, 100));
        for (x, n) in points.iter().zip(normals) {
            if x[2] == 0.0 || x[2] == 1.0 {
                assert!(x[0].hypot(x[1]) < 1.0);
                assert_eq!(n, [0.0, 0.0, if x[2] == 0.0 { -1.0 } else { 1.0 }]);
            } else {
                assert!((n[0] - x[0]).abs() < 1e-12 && (n[1] - x[1]).abs() < 1e-12 && n[2] == 0.0);
            }
        }
    }

    #[test]
    fn product_with_csg_factor_estimates_measures() {
        // (disk − box) × z ∈ [0, 1]; the CSG volume and perimeter are estimated.
        let (_, shape) = csg_shapes().remove(0);
        let coords = [
            ("x", CoordKind::Space, -1.0, 1.0),
            ("y", CoordKind::Space, -1.0, 1.0),
            ("z", CoordKind::Space, 0.0, 1.0),
        ];
        let p = problem(
            &coords,
            vec![
                factor(&[0, 1], shape.clone()),
                factor(&[2], Shape::Box(vec![(0.0, 1.0)])),
            ],
            vec![Region::Boundary],
            config(0, 1000),
        );
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert_eq!(block.n, 1000);
        let points = rows(&block.points, 3);
        let normals = rows(block.normals.as_ref().unwrap(), 3);
        let caps = points.iter().filter(|x| x[2] == 0.0 || x[2] == 1.0).count() as f64;
        // Area of disk minus box: π - (2·asin(½)·… ) computed exactly below; perimeter likewise.
        let area = std::f64::consts::PI - removed_area();
        let perimeter = removed_perimeter();
        let expected = 1000.0 * 2.0 * area / (2.0 * area + perimeter);
        assert!(
            (caps - expected).abs() < 15.0,
            "{caps} cap points, expected {expected}"
        );
        for (x, n) in points.iter().zip(normals) {
            if x[2] == 0.0 || x[2] == 1.0 {
                assert!(contains_strictly(&shape, &x[..2]));
            } else {
                assert!(signed_distance(&shape, &x[..2]).abs() <= 1e-12);
                assert!(!contains(&shape, &[x[0] + 1e-6 * n[0], x[1] + 1e-6 * n[1]]));
            }
        }
    }

    /// Area of {x ≥ 0, |y| ≤ ½} inside the unit disk.
    fn removed_area() -> f64 {
        // ∫_{-½}^{½} sqrt(1 - y²) dy = [y sqrt(1-y²) + asin y]/2 between ±½.
        let half = 0.5f64;
        half * (1.0 - half * half).sqrt() + half.asin()
    }

    /// Perimeter of unit disk minus {x ≥ 0, |y| ≤ ½}: the circle minus the
    /// arc of angle 2·asin(½), plus the segment x = 0 and the two edges
    /// y = ±½ from x = 0 to the circle.
    fn removed_perimeter() -> f64 {
        let half = 0.5f64;
        2.0 * std::f64::consts::PI - 2.0 * half.asin() + 1.0 + 2.0 * (1.0 - half * half).sqrt()
    }

    #[test]
    fn measures_match_closed_forms() {
        assert!((ball_volume(2, 2.0) - 4.0 * std::f64::consts::PI).abs() < 1e-12);
        assert!((ball_volume(3, 1.0) - 4.0 / 3.0 * std::f64::consts::PI).abs() < 1e-12);
        assert!((sphere_area(3, 2.0) - 16.0 * std::f64::consts::PI).abs() < 1e-12);
        assert!((sphere_area(1, 5.0) - 2.0).abs() < 1e-12);
        assert_eq!(allocate(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(allocate(7, &[2.0, 1.0, 0.0]), vec![5, 2, 0]);
    }
}
