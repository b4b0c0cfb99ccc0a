//! Shapes as the samplers see them: point tests (closed, open, signed
//! distance), bounding boxes, volumes and boundary measures in closed form, and
//! points with outward normals on the surface of a primitive (box or ball).
//! CSG shapes are handled through their primitives ([`Shape::primitives`]) and
//! [`combined_boundary_sign`].

use crate::ir::Shape;

/// Whether `x` lies in the closed shape (boundary included).
pub fn contains(shape: &Shape, x: &[f64]) -> bool {
    signed_distance(shape, x) <= 0.0
}

/// Whether `x` lies in the open shape (boundary excluded).
pub fn contains_strictly(shape: &Shape, x: &[f64]) -> bool {
    signed_distance(shape, x) < 0.0
}

/// A signed distance bound: negative inside, zero on the boundary, positive
/// outside ([`Shape::signed_distance`]).
pub fn signed_distance(shape: &Shape, x: &[f64]) -> f64 {
    shape.signed_distance(x)
}

/// Dimension of a shape, checking that it is well formed.
pub(super) fn shape_dim(shape: &Shape) -> Result<usize, String> {
    match shape {
        Shape::Box(bounds) => {
            if bounds.is_empty() {
                return Err("a box needs at least one interval".to_string());
            }
            for &(lo, hi) in bounds {
                if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                    return Err(format!("box interval [{lo}, {hi}] is empty or not finite"));
                }
            }
            Ok(bounds.len())
        }
        Shape::Ball { center, radius } => {
            if center.is_empty() || center.iter().any(|c| !c.is_finite()) {
                return Err("a ball needs a finite centre".to_string());
            }
            if !(radius.is_finite() && *radius > 0.0) {
                return Err(format!("ball radius {radius} is not positive"));
            }
            Ok(center.len())
        }
        Shape::Union(a, b) | Shape::Difference(a, b) | Shape::Intersection(a, b) => {
            let (da, db) = (shape_dim(a)?, shape_dim(b)?);
            if da != db {
                return Err(format!("combined shapes have dimensions {da} and {db}"));
            }
            Ok(da)
        }
    }
}

pub(super) fn bounding_box(shape: &Shape) -> Vec<(f64, f64)> {
    match shape {
        Shape::Box(bounds) => bounds.clone(),
        Shape::Ball { center, radius } => center.iter().map(|c| (c - radius, c + radius)).collect(),
        Shape::Union(a, b) => bounding_box(a)
            .into_iter()
            .zip(bounding_box(b))
            .map(|((la, ha), (lb, hb))| (la.min(lb), ha.max(hb)))
            .collect(),
        Shape::Intersection(a, b) => bounding_box(a)
            .into_iter()
            .zip(bounding_box(b))
            .map(|((la, ha), (lb, hb))| (la.max(lb), ha.min(hb)))
            .collect(),
        Shape::Difference(a, _) => bounding_box(a),
    }
}

pub(super) fn is_primitive(shape: &Shape) -> bool {
    matches!(shape, Shape::Box(_) | Shape::Ball { .. })
}

/// Γ(k/2) for a positive integer k.
pub(super) fn gamma_half(k: usize) -> f64 {
    // Γ(1) = 1, Γ(1/2) = √π, Γ(x + 1) = x Γ(x).
    let (mut value, mut x) = if k.is_multiple_of(2) {
        (1.0, 1.0)
    } else {
        (std::f64::consts::PI.sqrt(), 0.5)
    };
    while x < k as f64 / 2.0 - 0.25 {
        value *= x;
        x += 1.0;
    }
    value
}

pub(super) fn ball_volume(dim: usize, radius: f64) -> f64 {
    std::f64::consts::PI.powf(dim as f64 / 2.0) / gamma_half(dim + 2) * radius.powi(dim as i32)
}

pub(super) fn sphere_area(dim: usize, radius: f64) -> f64 {
    2.0 * std::f64::consts::PI.powf(dim as f64 / 2.0) / gamma_half(dim)
        * radius.powi(dim as i32 - 1)
}

/// Measure of the face `axis = const` of a box (1 for the end points in 1-D).
pub(super) fn box_face_measure(bounds: &[(f64, f64)], axis: usize) -> f64 {
    bounds
        .iter()
        .enumerate()
        .filter(|&(b, _)| b != axis)
        .map(|(_, &(lo, hi))| hi - lo)
        .product()
}

pub(super) fn box_volume(bounds: &[(f64, f64)]) -> f64 {
    bounds.iter().map(|&(lo, hi)| hi - lo).product()
}

/// Boundary measure of a primitive.
pub(super) fn primitive_boundary_measure(shape: &Shape) -> f64 {
    match shape {
        Shape::Box(bounds) => (0..bounds.len())
            .map(|axis| 2.0 * box_face_measure(bounds, axis))
            .sum(),
        Shape::Ball { center, radius } => sphere_area(center.len(), *radius),
        _ => 0.0,
    }
}

pub(super) fn count_leaves(shape: &Shape) -> usize {
    match shape {
        Shape::Box(_) | Shape::Ball { .. } => 1,
        Shape::Union(a, b) | Shape::Difference(a, b) | Shape::Intersection(a, b) => {
            count_leaves(a) + count_leaves(b)
        }
    }
}

/// For `x` on the boundary of primitive `leaf` (depth-first index) of
/// `shape`: `Some(sign)` when `x` is on the boundary of `shape`, whose outward
/// normal there is `sign` times the primitive's outward normal.
pub(super) fn combined_boundary_sign(shape: &Shape, leaf: usize, x: &[f64]) -> Option<f64> {
    match shape {
        Shape::Box(_) | Shape::Ball { .. } => Some(1.0),
        Shape::Union(a, b) | Shape::Difference(a, b) | Shape::Intersection(a, b) => {
            let in_a = leaf < count_leaves(a);
            let (own, other) = if in_a { (a, b) } else { (b, a) };
            let own_leaf = if in_a { leaf } else { leaf - count_leaves(a) };
            let sign = combined_boundary_sign(own, own_leaf, x)?;
            let other_distance = signed_distance(other, x);
            match shape {
                // ∂A is kept outside B's interior, and vice versa.
                Shape::Union(..) => (other_distance >= 0.0).then_some(sign),
                // ∂A inside B, ∂B inside A.
                Shape::Intersection(..) => (other_distance < 0.0).then_some(sign),
                // A − B: ∂A outside B keeps A's normal; ∂B inside A points into B.
                _ if in_a => (other_distance >= 0.0).then_some(sign),
                _ => (other_distance < 0.0).then_some(-sign),
            }
        }
    }
}

/// Index chosen by `u ∈ [0, 1)` in proportion to `weights`.
pub(super) fn pick(u: f64, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let target = u * total;
    let mut cumulative = 0.0;
    for (index, &w) in weights.iter().enumerate() {
        cumulative += w;
        if target < cumulative {
            return index;
        }
    }
    weights.len() - 1
}

/// A unit vector from `2⌈d/2⌉` numbers by Box–Muller and normalization
/// (uniform on the sphere when the numbers are uniform).
pub(super) fn sphere_direction(u: &[f64], dim: usize) -> Option<Vec<f64>> {
    let mut z = vec![0.0; dim];
    for pair in 0..dim.div_ceil(2) {
        let magnitude = (-2.0 * (1.0 - u[2 * pair]).ln()).sqrt();
        let angle = 2.0 * std::f64::consts::PI * u[2 * pair + 1];
        z[2 * pair] = magnitude * angle.cos();
        if 2 * pair + 1 < dim {
            z[2 * pair + 1] = magnitude * angle.sin();
        }
    }
    let norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm.is_nan() || norm <= 1e-150 {
        return None;
    }
    z.iter_mut().for_each(|v| *v /= norm);
    Some(z)
}

/// Numbers used to draw a point inside a shape.
pub(super) fn inside_dims(shape: &Shape) -> usize {
    match shape {
        Shape::Ball { center, .. } => 2 * center.len().div_ceil(2) + 1,
        _ => bounding_box(shape).len(),
    }
}

/// Numbers used to draw a point on a primitive's boundary.
pub(super) fn primitive_surface_dims(shape: &Shape) -> usize {
    match shape {
        // face choice + the other d - 1 coordinates
        Shape::Box(bounds) => bounds.len(),
        Shape::Ball { center, .. } => 2 * center.len().div_ceil(2),
        _ => 0,
    }
}

/// Point (and outward normal) on a primitive's boundary, from `u`.
pub(super) fn primitive_surface_point(shape: &Shape, u: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    match shape {
        Shape::Box(bounds) => {
            let dim = bounds.len();
            let weights: Vec<f64> = (0..2 * dim)
                .map(|face| box_face_measure(bounds, face / 2))
                .collect();
            let face = pick(u[0], &weights);
            let (axis, hi_side) = (face / 2, face % 2 == 1);
            let mut point = vec![0.0; dim];
            let mut normal = vec![0.0; dim];
            let mut next = 1;
            for (b, &(lo, hi)) in bounds.iter().enumerate() {
                if b == axis {
                    point[b] = if hi_side { hi } else { lo };
                    normal[b] = if hi_side { 1.0 } else { -1.0 };
                } else {
                    point[b] = lo + u[next] * (hi - lo);
                    next += 1;
                }
            }
            Some((point, normal))
        }
        Shape::Ball { center, radius } => {
            let direction = sphere_direction(u, center.len())?;
            let point = center
                .iter()
                .zip(&direction)
                .map(|(c, d)| c + radius * d)
                .collect();
            Some((point, direction))
        }
        _ => None,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::sample::regions::sample_points;
    use crate::compile::sample::test_support::*;
    use crate::ir::{CoordKind, Region};

    #[test]
    fn ball_points_lie_in_ball_and_on_sphere() {
        let coords = [
            ("x", CoordKind::Space, -1.0, 3.0),
            ("y", CoordKind::Space, -2.0, 2.0),
            ("z", CoordKind::Space, -2.0, 2.0),
        ];
        let ball = Shape::Ball {
            center: vec![1.0, 0.0, 0.0],
            radius: 2.0,
        };
        let p = problem(
            &coords,
            vec![factor(&[0, 1, 2], ball.clone())],
            vec![Region::Interior, Region::Boundary],
            config(8000, 500),
        );
        let set = sample_points(&p, 1).unwrap();
        let radius = |x: &[f64]| ((x[0] - 1.0).powi(2) + x[1] * x[1] + x[2] * x[2]).sqrt();
        let interior = rows(&set.blocks[0].points, 3);
        assert!(interior.iter().all(|x| radius(x) < 2.0));
        // Uniform in volume: P(|x - c| < r/2) = 1/8; a radius drawn uniformly would give 1/2.
        let inner = interior.iter().filter(|x| radius(x) < 1.0).count() as f64 / 8000.0;
        assert!((inner - 0.125).abs() < 0.015, "inner share {inner}");
        let boundary = &set.blocks[1];
        assert_eq!(boundary.n, 500);
        for x in rows(&boundary.points, 3) {
            assert!((radius(x) - 2.0).abs() <= 1e-12);
        }
        assert_on_boundary_with_outward_normals(&ball, boundary, 3);
        // Uniform on the sphere: the mean direction is near zero.
        let mean_z: f64 = rows(&boundary.points, 3).iter().map(|x| x[2]).sum::<f64>() / 500.0;
        assert!(mean_z.abs() < 0.25, "mean z {mean_z}");
    }

    #[test]
    fn csg_interior_and_boundary_respect_the_combined_shape() {
        let coords = [
            ("x", CoordKind::Space, -1.0, 2.0),
            ("y", CoordKind::Space, -1.0, 1.0),
        ];
        for (name, shape) in csg_shapes() {
            let p = problem(
                &coords,
                vec![factor(&[0, 1], shape.clone())],
                vec![Region::Interior, Region::Boundary],
                config(2000, 1000),
            );
            let set = sample_points(&p, 5).unwrap();
            assert_eq!(set.blocks[0].n, 2000, "{name}");
            for x in rows(&set.blocks[0].points, 2) {
                assert!(contains_strictly(&shape, x), "{name}: {x:?} not inside");
            }
            assert_eq!(set.blocks[1].n, 1000, "{name}");
            assert_on_boundary_with_outward_normals(&shape, &set.blocks[1], 2);
            // Both primitives contribute boundary points.
            let on_circle = rows(&set.blocks[1].points, 2)
                .iter()
                .filter(|x| (x[0].hypot(x[1]) - 1.0).abs() < 1e-12)
                .count();
            assert!(
                on_circle > 100 && on_circle < 950,
                "{name}: {on_circle} on the circle"
            );
        }
        // Disk minus box: no interior point in the removed box.
        let (_, difference) = &csg_shapes()[0];
        let p = problem(
            &coords,
            vec![factor(&[0, 1], difference.clone())],
            vec![Region::Interior],
            config(3000, 0),
        );
        let removed = rect((0.0, 2.0), (-0.5, 0.5));
        for x in rows(&sample_points(&p, 0).unwrap().blocks[0].points, 2) {
            assert!(!contains(&removed, x));
        }
    }
}
