//! The domain in the form the samplers use: validated factors with their
//! bounding boxes, the time interval and the periodic coordinates.

use super::error::SampleError;
use super::shape::{bounding_box, contains, shape_dim};
use crate::ir::{CoordKind, Problem, Shape};

/// Whether the space-time point `x` (ordered like `problem.coords`) lies in
/// the closed domain: every factor's shape and the time interval.
pub fn in_domain(problem: &Problem, x: &[f64]) -> bool {
    let Ok(geometry) = Geometry::new(problem) else {
        return false;
    };
    if x.len() != geometry.n_coords {
        return false;
    }
    let inside_factors = geometry.factors.iter().all(|factor| {
        let local: Vec<f64> = factor.coords.iter().map(|&c| x[c]).collect();
        contains(&factor.shape, &local)
    });
    let inside_time = geometry
        .time
        .is_none_or(|(coord, lo, hi)| x[coord] >= lo && x[coord] <= hi);
    inside_factors && inside_time
}

/// One spatial factor, validated, with its bounding box.
pub(super) struct Factor {
    pub(super) coords: Vec<usize>,
    pub(super) shape: Shape,
    pub(super) bbox: Vec<(f64, f64)>,
}

/// The domain in the form the samplers use.
pub(super) struct Geometry {
    pub(super) n_coords: usize,
    pub(super) factors: Vec<Factor>,
    /// `(coord, t0, t1)`.
    pub(super) time: Option<(usize, f64, f64)>,
    pub(super) periodic: Vec<usize>,
}

impl Geometry {
    pub(super) fn new(problem: &Problem) -> Result<Self, SampleError> {
        let n_coords = problem.coords.len();
        let mut covered = vec![false; n_coords];
        let mut factors = Vec::new();
        for (index, factor) in problem.domain.factors.iter().enumerate() {
            let invalid = |reason: String| SampleError::InvalidShape {
                factor: index,
                reason,
            };
            let dim = shape_dim(&factor.shape).map_err(&invalid)?;
            if dim != factor.coords.len() {
                return Err(invalid(format!(
                    "shape has dimension {dim} but the factor lists {} coordinates",
                    factor.coords.len()
                )));
            }
            for &coord in &factor.coords {
                if coord >= n_coords || covered[coord] {
                    return Err(invalid(format!(
                        "coordinate index {coord} is out of range or in two factors"
                    )));
                }
                covered[coord] = true;
            }
            let bbox = bounding_box(&factor.shape);
            if bbox.iter().any(|&(lo, hi)| lo >= hi) {
                return Err(invalid("the shape is empty".to_string()));
            }
            factors.push(Factor {
                coords: factor.coords.clone(),
                shape: factor.shape.clone(),
                bbox,
            });
        }
        let time = match problem.domain.time {
            Some(coord) if coord < n_coords => {
                covered[coord] = true;
                let c = &problem.coords[coord];
                if !(c.lo.is_finite() && c.hi.is_finite() && c.lo < c.hi) {
                    return Err(SampleError::InvalidShape {
                        factor: problem.domain.factors.len(),
                        reason: format!("time interval [{}, {}] is empty", c.lo, c.hi),
                    });
                }
                Some((coord, c.lo, c.hi))
            }
            Some(coord) => {
                return Err(SampleError::InvalidShape {
                    factor: problem.domain.factors.len(),
                    reason: format!("time coordinate index {coord} is out of range"),
                })
            }
            None => None,
        };
        // A spatial coordinate outside every factor is its own interval.
        for (coord, c) in problem.coords.iter().enumerate() {
            if covered[coord] || c.kind == CoordKind::Time {
                continue;
            }
            if !(c.lo.is_finite() && c.hi.is_finite() && c.lo < c.hi) {
                return Err(SampleError::InvalidShape {
                    factor: factors.len(),
                    reason: format!("interval [{}, {}] of `{}` is empty", c.lo, c.hi, c.name),
                });
            }
            factors.push(Factor {
                coords: vec![coord],
                shape: Shape::Box(vec![(c.lo, c.hi)]),
                bbox: vec![(c.lo, c.hi)],
            });
        }
        Ok(Geometry {
            n_coords,
            factors,
            time,
            periodic: problem.periodic.clone(),
        })
    }

    pub(super) fn factor_of(&self, coord: usize) -> Option<(usize, usize)> {
        self.factors.iter().enumerate().find_map(|(f, factor)| {
            factor
                .coords
                .iter()
                .position(|&c| c == coord)
                .map(|axis| (f, axis))
        })
    }
}
