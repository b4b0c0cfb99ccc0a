//! A region as a product of parts: a part turns a few numbers in `[0, 1)` (or
//! grid values) into its coordinates and normal components, or rejects them;
//! [`draw`] repeats that until enough points are accepted.

use super::error::SampleError;
use super::geometry::{Factor, Geometry};
use super::grid::grid_points;
use super::sequence::UnitSource;
use super::shape::{
    combined_boundary_sign, contains_strictly, inside_dims, pick, primitive_boundary_measure,
    primitive_surface_dims, primitive_surface_point, signed_distance, sphere_direction,
};
use crate::ir::{
    BinaryOp, Compare, Condition, ExprArena, ExprId, Func, Node, Problem, Region, Relation,
    Sampler, Shape, Side,
};
use std::collections::HashMap;

/// One factor of a sampled region.
#[derive(Clone, Copy)]
pub(super) enum Part<'g> {
    /// Strictly inside a domain factor.
    Inside(&'g Factor),
    /// On the face `axis = lo|hi` of a box factor (other axes in the box).
    BoxFace {
        factor: &'g Factor,
        axis: usize,
        side: Side,
    },
    /// On the boundary of a ball or CSG factor.
    Surface(&'g Factor),
    /// On the part of a factor's boundary that lies on the boundary of `piece`
    /// (a named shape over the factor's coordinates): drawn like a CSG
    /// surface, and kept where it is also on `∂piece`.
    Piece {
        factor: &'g Factor,
        piece: &'g Shape,
    },
    /// A coordinate held at one value.
    Fixed { coord: usize, value: f64 },
    /// Keeps the points at which every condition of a `where` holds; it draws
    /// nothing and reads the whole point, so it comes after the other parts.
    Condition(&'g ConditionProgram),
    /// A coordinate uniform in an interval (the time).
    Interval { coord: usize, lo: f64, hi: f64 },
}

impl Part<'_> {
    pub(super) fn unit_dims(&self) -> usize {
        match self {
            Part::Inside(factor) => inside_dims(&factor.shape),
            Part::BoxFace { factor, .. } => factor.coords.len() - 1,
            Part::Surface(factor) => match &factor.shape {
                Shape::Ball { .. } => primitive_surface_dims(&factor.shape),
                shape => {
                    1 + shape
                        .primitives()
                        .into_iter()
                        .map(primitive_surface_dims)
                        .max()
                        .unwrap_or(0)
                }
            },
            Part::Piece { factor, .. } => {
                1 + factor
                    .shape
                    .primitives()
                    .into_iter()
                    .map(primitive_surface_dims)
                    .max()
                    .unwrap_or(0)
            }
            Part::Fixed { .. } | Part::Condition { .. } => 0,
            Part::Interval { .. } => 1,
        }
    }

    /// Writes the part's coordinates (and normal components) from `u`;
    /// false when the draw is rejected.
    pub(super) fn place_unit(&self, u: &[f64], point: &mut [f64], normal: &mut [f64]) -> bool {
        match self {
            Part::Inside(factor) => {
                let local: Vec<f64> = match &factor.shape {
                    Shape::Ball { center, radius } => {
                        let dim = center.len();
                        let Some(direction) = sphere_direction(u, dim) else {
                            return false;
                        };
                        let scale = radius * u[u.len() - 1].powf(1.0 / dim as f64);
                        center
                            .iter()
                            .zip(&direction)
                            .map(|(c, d)| c + scale * d)
                            .collect()
                    }
                    _ => factor
                        .bbox
                        .iter()
                        .zip(u)
                        .map(|(&(lo, hi), &ui)| lo + ui * (hi - lo))
                        .collect(),
                };
                // Rejects CSG misses and the measure-zero draws that land on the boundary.
                if !contains_strictly(&factor.shape, &local) {
                    return false;
                }
                for (&coord, value) in factor.coords.iter().zip(local) {
                    point[coord] = value;
                }
                true
            }
            Part::BoxFace { factor, axis, side } => {
                let mut next = 0;
                for (b, (&coord, &(lo, hi))) in factor.coords.iter().zip(&factor.bbox).enumerate() {
                    if b == *axis {
                        let (value, sign) = match side {
                            Side::Lo => (lo, -1.0),
                            Side::Hi => (hi, 1.0),
                        };
                        point[coord] = value;
                        normal[coord] = sign;
                    } else {
                        point[coord] = lo + u[next] * (hi - lo);
                        next += 1;
                    }
                }
                true
            }
            Part::Surface(factor) => {
                let (leaf, local, local_normal) = match &factor.shape {
                    Shape::Ball { .. } => {
                        let Some((p, n)) = primitive_surface_point(&factor.shape, u) else {
                            return false;
                        };
                        (0, p, n)
                    }
                    shape => {
                        let primitives = shape.primitives();
                        let weights: Vec<f64> = primitives
                            .iter()
                            .map(|p| primitive_boundary_measure(p))
                            .collect();
                        let leaf = pick(u[0], &weights);
                        let Some((p, n)) = primitive_surface_point(primitives[leaf], &u[1..])
                        else {
                            return false;
                        };
                        (leaf, p, n)
                    }
                };
                let Some(sign) = combined_boundary_sign(&factor.shape, leaf, &local) else {
                    return false;
                };
                for ((&coord, value), n) in factor.coords.iter().zip(local).zip(local_normal) {
                    point[coord] = value;
                    normal[coord] = sign * n;
                }
                true
            }
            Part::Piece { factor, piece } => {
                let primitives = factor.shape.primitives();
                let weights: Vec<f64> = primitives
                    .iter()
                    .map(|p| primitive_boundary_measure(p))
                    .collect();
                let leaf = pick(u[0], &weights);
                let Some((local, local_normal)) =
                    primitive_surface_point(primitives[leaf], &u[1..])
                else {
                    return false;
                };
                let Some(sign) = combined_boundary_sign(&factor.shape, leaf, &local) else {
                    return false;
                };
                if !on_boundary_of(piece, &factor.bbox, &local) {
                    return false;
                }
                for ((&coord, value), n) in factor.coords.iter().zip(local).zip(local_normal) {
                    point[coord] = value;
                    normal[coord] = sign * n;
                }
                true
            }
            Part::Fixed { coord, value } => {
                point[*coord] = *value;
                true
            }
            Part::Interval { coord, lo, hi } => {
                point[*coord] = lo + u[0] * (hi - lo);
                true
            }
            Part::Condition(program) => program.holds(point),
        }
    }

    /// The intervals a tensor grid of this part spans (`Surface` spans none:
    /// it is never gridded).
    pub(super) fn grid_axes(&self) -> Vec<(f64, f64)> {
        match self {
            Part::Inside(factor) => factor.bbox.clone(),
            Part::BoxFace { factor, axis, .. } => factor
                .bbox
                .iter()
                .enumerate()
                .filter(|&(b, _)| b != *axis)
                .map(|(_, &interval)| interval)
                .collect(),
            Part::Surface(_) | Part::Piece { .. } | Part::Fixed { .. } | Part::Condition { .. } => {
                Vec::new()
            }
            Part::Interval { lo, hi, .. } => vec![(*lo, *hi)],
        }
    }

    /// Writes the part's coordinates from grid values (already in the part's
    /// intervals); false when the grid point is outside the region.
    pub(super) fn place_grid(
        &self,
        values: &[f64],
        closed: bool,
        point: &mut [f64],
        normal: &mut [f64],
    ) -> bool {
        match self {
            Part::Inside(factor) => {
                let distance = signed_distance(&factor.shape, values);
                let scale = factor
                    .bbox
                    .iter()
                    .map(|&(lo, hi)| hi - lo)
                    .fold(0.0, f64::max);
                let keep = if closed {
                    // Grid nodes on a curved boundary are kept up to rounding.
                    distance <= 1e-12 * scale
                } else {
                    distance < 0.0
                };
                if !keep {
                    return false;
                }
                for (&coord, &value) in factor.coords.iter().zip(values) {
                    point[coord] = value;
                }
                true
            }
            Part::BoxFace { factor, axis, side } => {
                let mut free = values.iter();
                for (b, (&coord, &(lo, hi))) in factor.coords.iter().zip(&factor.bbox).enumerate() {
                    if b == *axis {
                        let (value, sign) = match side {
                            Side::Lo => (lo, -1.0),
                            Side::Hi => (hi, 1.0),
                        };
                        point[coord] = value;
                        normal[coord] = sign;
                    } else if let Some(&value) = free.next() {
                        point[coord] = value;
                    }
                }
                true
            }
            Part::Interval { coord, .. } => {
                point[*coord] = values[0];
                true
            }
            Part::Fixed { coord, value } => {
                point[*coord] = *value;
                true
            }
            Part::Condition(program) => program.holds(point),
            Part::Surface(_) | Part::Piece { .. } => false,
        }
    }
}

/// The conditions of a `where`, compiled once: the nodes their sides need, in
/// evaluation order, each reading its operands from earlier slots.
pub(super) struct ConditionProgram {
    slots: Vec<Slot>,
    /// `(left slot, relation, right slot)` of each condition.
    tests: Vec<(usize, Relation, usize)>,
    /// How far apart the two sides of `=` may be.
    tolerance: f64,
}

enum Slot {
    Value(f64),
    Coord(usize),
    Unary(Func, usize),
    Binary(BinaryOp, usize, usize),
    Select {
        compare: Compare,
        left: usize,
        right: usize,
        then: usize,
        otherwise: usize,
    },
}

impl ConditionProgram {
    /// Compiles `conditions` (expressions of coordinates and constants in `exprs`).
    pub(super) fn new(exprs: &ExprArena, conditions: &[Condition], tolerance: f64) -> Self {
        let roots: Vec<ExprId> = conditions.iter().flat_map(|c| [c.left, c.right]).collect();
        let order = exprs.topo_order(&roots);
        let slot_of: HashMap<ExprId, usize> =
            order.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        // `topo_order` puts every operand before its user, so each lookup succeeds.
        let slot = |id: ExprId| slot_of[&id];
        let slots = order
            .iter()
            .map(|&id| match exprs.node(id) {
                Node::Const(bits) => Slot::Value(f64::from_bits(bits)),
                Node::Coord(i) => Slot::Coord(i),
                Node::Unary(func, a) => Slot::Unary(func, slot(a)),
                Node::Binary(op, a, b) => Slot::Binary(op, slot(a), slot(b)),
                Node::Select {
                    compare,
                    left,
                    right,
                    then,
                    otherwise,
                } => Slot::Select {
                    compare,
                    left: slot(left),
                    right: slot(right),
                    then: slot(then),
                    otherwise: slot(otherwise),
                },
                // Lowering admits only coordinates and constants.
                Node::Normal(_)
                | Node::Jet(_)
                | Node::Param(_)
                | Node::Data { .. }
                | Node::Grid(_) => Slot::Value(f64::NAN),
            })
            .collect();
        let tests = conditions
            .iter()
            .map(|c| (slot(c.left), c.relation, slot(c.right)))
            .collect();
        ConditionProgram {
            slots,
            tests,
            tolerance,
        }
    }

    /// Whether every condition holds at `point` (all coordinates of the problem).
    pub(super) fn holds(&self, point: &[f64]) -> bool {
        let mut values: Vec<f64> = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let value = match *slot {
                Slot::Value(v) => v,
                Slot::Coord(i) => point.get(i).copied().unwrap_or(f64::NAN),
                Slot::Unary(func, a) => func.apply(values[a]),
                Slot::Binary(op, a, b) => op.apply(values[a], values[b]),
                Slot::Select {
                    compare,
                    left,
                    right,
                    then,
                    otherwise,
                } => {
                    if compare.holds(values[left], values[right]) {
                        values[then]
                    } else {
                        values[otherwise]
                    }
                }
            };
            values.push(value);
        }
        self.tests.iter().all(|&(left, relation, right)| {
            relation.holds(values[left], values[right], self.tolerance)
        })
    }
}

/// Relative distance below which a point of a primitive's surface counts as
/// on the boundary of a named shape: the points are computed in closed form
/// (`c + r·n` on a ball, exact values on a box face), so their distance to the
/// surface they were placed on is a few ulps of the factor's size.
pub(super) const ON_PIECE_TOLERANCE: f64 = 1e-10;

/// Whether `local` (a point of a factor with bounding box `bbox`) lies on the
/// boundary of `piece`, to [`ON_PIECE_TOLERANCE`] of the factor's size.
pub(super) fn on_boundary_of(piece: &Shape, bbox: &[(f64, f64)], local: &[f64]) -> bool {
    let size = bbox.iter().map(|&(lo, hi)| hi - lo).fold(0.0, f64::max);
    signed_distance(piece, local).abs() <= ON_PIECE_TOLERANCE * size
}

pub(super) fn unit_dims(parts: &[Part]) -> usize {
    parts.iter().map(Part::unit_dims).sum()
}

pub(super) struct BlockCtx<'a> {
    pub(super) index: usize,
    pub(super) label: &'a str,
    pub(super) seed: u64,
}

/// `(block, value)` for every block of `problem` that `measure` answers for (`Some`),
/// each measured with a pilot context (seed 0) on the problem's geometry: the loop that
/// the check-time measures of `where` regions and `boundary of NAME` pieces share.
pub(super) fn measure_blocks<F>(
    problem: &Problem,
    mut measure: F,
) -> Result<Vec<(usize, f64)>, SampleError>
where
    F: FnMut(&Geometry, &Region, &BlockCtx) -> Option<Result<f64, SampleError>>,
{
    let geometry = Geometry::new(problem)?;
    let mut values = Vec::new();
    for (index, block) in problem.blocks.iter().enumerate() {
        let ctx = BlockCtx {
            index,
            label: &block.label,
            seed: 0,
        };
        if let Some(value) = measure(&geometry, &block.region, &ctx) {
            values.push((index, value?));
        }
    }
    Ok(values)
}

/// Draws `n` points of the product of `parts`, retrying rejected draws.
///
/// # Shapes
/// Returns `(points, normals)`, both `[n, n_coords]` row-major.
pub(super) fn draw(
    parts: &[Part],
    n: usize,
    source: &mut UnitSource,
    n_coords: usize,
    ctx: &BlockCtx,
    region: &str,
) -> Result<(Vec<f64>, Vec<f64>), SampleError> {
    let mut unit = vec![0.0; unit_dims(parts)];
    let mut points = Vec::with_capacity(n * n_coords);
    let mut normals = Vec::with_capacity(n * n_coords);
    let mut point = vec![0.0; n_coords];
    let mut normal = vec![0.0; n_coords];
    let max_tries = 10_000 + 200 * n;
    let (mut accepted, mut tries) = (0, 0);
    while accepted < n {
        if tries == max_tries {
            return Err(SampleError::Rejection {
                block: ctx.index,
                label: ctx.label.to_string(),
                region: region.to_string(),
                requested: n,
                accepted,
                tries,
                rate: accepted as f64 / tries as f64,
            });
        }
        tries += 1;
        source.fill(&mut unit);
        point.iter_mut().for_each(|v| *v = 0.0);
        normal.iter_mut().for_each(|v| *v = 0.0);
        let mut offset = 0;
        let mut ok = true;
        for part in parts {
            let dims = part.unit_dims();
            ok &= part.place_unit(&unit[offset..offset + dims], &mut point, &mut normal);
            offset += dims;
            if !ok {
                break;
            }
        }
        if ok {
            points.extend_from_slice(&point);
            normals.extend_from_slice(&normal);
            accepted += 1;
        }
    }
    Ok((points, normals))
}

/// Draws `n` points of `parts` with the problem's sampler.
pub(super) fn sample_parts(
    parts: &[Part],
    n: usize,
    sampler: Sampler,
    n_coords: usize,
    seed: u64,
    ctx: &BlockCtx,
    region: &str,
) -> Result<(Vec<f64>, Vec<f64>), SampleError> {
    let griddable = parts.iter().all(|p| {
        !matches!(
            p,
            Part::Surface(_) | Part::Piece { .. } | Part::Condition { .. }
        )
    });
    if sampler == Sampler::Grid && griddable {
        return grid_points(parts, n, n_coords, ctx, region);
    }
    let mut source = UnitSource::new(sampler, unit_dims(parts), seed);
    draw(parts, n, &mut source, n_coords, ctx, region)
}

pub(super) fn inside_all<'g>(geometry: &'g Geometry, except: Option<usize>) -> Vec<Part<'g>> {
    geometry
        .factors
        .iter()
        .enumerate()
        .filter(|&(f, _)| Some(f) != except)
        .map(|(_, factor)| Part::Inside(factor))
        .collect()
}

pub(super) fn time_interval(geometry: &Geometry) -> Option<Part<'_>> {
    geometry
        .time
        .map(|(coord, lo, hi)| Part::Interval { coord, lo, hi })
}
