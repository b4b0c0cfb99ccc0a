//! Sampling: the point set of every residual block of a lowered [`Problem`].
//!
//! Every region is sampled as a product of *parts* (the inside of a domain
//! factor, one face of a box factor, the surface of a ball or CSG factor, a
//! fixed coordinate value, the time interval). A part turns a few numbers in
//! `[0, 1)` into its coordinates, and may reject them (CSG membership), so the
//! same code serves every sampler:
//!
//! - **uniform**: the numbers come from a [`ChaCha8Rng`];
//! - **halton**: they are a Halton point (bases 2, 3, 5, …, one per number)
//!   with a seeded Cranley–Patterson shift, so different seeds give different
//!   but equally well-spread points;
//! - **grid**: a tensor grid of *cell midpoints* over the bounding box of the
//!   region's free coordinates, `m` points per axis with `m` the smallest
//!   integer such that at least the requested number of grid points lie in the
//!   region (so `n` is the actual count, at least the request). Midpoints are
//!   strictly inside boxes, which keeps interior points off the boundary. The
//!   surface of a ball or CSG shape is not a tensor product, so `boundary`
//!   regions are drawn with the Halton sequence under `grid`.
//!
//! Boundaries of products are the union over factors of `∂factor × other
//! factors × time`; the count is split over the pieces (each box face, each
//! ball or CSG surface) by largest remainder in proportion to their measure,
//! so per-face counts are deterministic. A CSG surface is drawn by choosing a
//! primitive in proportion to its boundary measure, drawing a point on it, and
//! keeping it when it lies on the boundary of the combined shape.
//!
//! Determinism: every block draws from its own stream, seeded from
//! `problem.sample.seed`, the call's seed and the block index, so the same
//! problem and seed give bit-identical points and adding a block leaves the
//! other blocks' points unchanged.

use crate::compile::points::{BlockPoints, PointSet};
use crate::ir::{CoordKind, Problem, Region, Sampler, Shape, Side};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Why a point set could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// Rejection sampling gave up: the region is too thin in its bounding box.
    #[error(
        "sampling the {region} of block {block} (`{label}`) accepted only {accepted} of \
         {requested} points in {tries} tries (acceptance rate {rate:.2e})"
    )]
    Rejection {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
        /// The region (`interior`, `boundary`, …).
        region: String,
        /// Points asked for.
        requested: usize,
        /// Points accepted.
        accepted: usize,
        /// Candidates drawn.
        tries: usize,
        /// Acceptance rate `accepted / tries`.
        rate: f64,
    },
    /// A domain factor's shape cannot be sampled.
    #[error("domain factor {factor}: {reason}")]
    InvalidShape {
        /// Index of the domain factor.
        factor: usize,
        /// What is wrong.
        reason: String,
    },
    /// A coordinate index outside `Problem::coords`.
    #[error("block {block}: coordinate index {coord} does not exist ({n_coords} coordinates)")]
    UnknownCoord {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// The coordinate index asked for.
        coord: usize,
        /// Number of coordinates of the problem.
        n_coords: usize,
    },
    /// `initial` in a problem without a time coordinate.
    #[error("block {block} (`{label}`) is on `initial` but the problem has no time coordinate")]
    NoTime {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
    },
    /// A face of a coordinate that belongs to a ball or CSG shape.
    #[error(
        "block {block} (`{label}`): coordinate `{coord}` is not declared by an interval or box, \
         so it has no face"
    )]
    FaceOfCurvedShape {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
        /// Name of the coordinate.
        coord: String,
    },
    /// `boundary` when every face of the domain is periodic.
    #[error(
        "block {block} (`{label}`) is on `boundary` but the domain has no non-periodic boundary"
    )]
    NoBoundary {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// Source text of the block's equation.
        label: String,
    },
    /// A `data` region naming a set that does not exist.
    #[error("block {block}: data set {set} does not exist ({n_sets} sets)")]
    UnknownDataSet {
        /// Index of the residual block (into `Problem::blocks`).
        block: usize,
        /// The data set index asked for.
        set: usize,
        /// Number of data sets of the problem.
        n_sets: usize,
    },
    /// A data set whose columns do not fit the problem's coordinates.
    #[error("data set `{name}`: {reason}")]
    BadDataSet {
        /// Name of the data set.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

const TAG_BLOCK: u64 = 0x626c_6f63_6b00_0001;
const TAG_TEST: u64 = 0x7465_7374_0000_0002;
const TAG_PILOT: u64 = 0x7069_6c6f_7400_0003;
const TAG_HELDOUT: u64 = 0x6865_6c64_0000_0004;

/// How many times the training counts a held-out set draws per region.
pub const HELDOUT_FACTOR: usize = 4;

/// Number of draws used to estimate the volume and surface measure of a CSG
/// factor when several boundary pieces must be weighed against each other.
const PILOT_DRAWS: usize = 20_000;

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

/// Fresh collocation points for every block of `problem`, to measure the loss away from
/// the training points: [`HELDOUT_FACTOR`] times the training count of each sampled
/// region (`interior`, `boundary`, `initial`, faces, periodic pairs), always drawn
/// uniformly at random (a grid or Halton sampler would put them on or near the training
/// points) from a stream of their own, separate from every training stream. `data`
/// blocks keep their rows: they are observations, not samples.
///
/// # Errors
/// As [`sample_points`].
pub fn heldout_points(problem: &Problem, seed: u64) -> Result<PointSet, SampleError> {
    let mut heldout = problem.clone();
    let sample = &mut heldout.sample;
    for count in [
        &mut sample.interior,
        &mut sample.boundary,
        &mut sample.initial,
        &mut sample.periodic,
    ] {
        *count = count.saturating_mul(HELDOUT_FACTOR);
    }
    for (_, _, count) in &mut sample.faces {
        *count = count.saturating_mul(HELDOUT_FACTOR);
    }
    sample.sampler = Sampler::Uniform;
    sample_points(&heldout, mix(seed, TAG_HELDOUT))
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
/// As [`sample_points`] for invalid shapes or a domain too thin to sample.
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

/// Whether `x` lies in the closed shape (boundary included).
pub fn contains(shape: &Shape, x: &[f64]) -> bool {
    signed_distance(shape, x) <= 0.0
}

/// Whether `x` lies in the open shape (boundary excluded).
pub fn contains_strictly(shape: &Shape, x: &[f64]) -> bool {
    signed_distance(shape, x) < 0.0
}

/// A signed distance bound: negative inside, zero on the boundary, positive
/// outside. Exact for balls and for points inside a box; CSG combines its
/// operands by `min` (union), `max` (intersection) and `max(a, -b)`
/// (difference), whose sign is exact and whose magnitude bounds the distance.
pub fn signed_distance(shape: &Shape, x: &[f64]) -> f64 {
    match shape {
        Shape::Box(bounds) => bounds
            .iter()
            .zip(x)
            .map(|(&(lo, hi), &xi)| (lo - xi).max(xi - hi))
            .fold(f64::NEG_INFINITY, f64::max),
        Shape::Ball { center, radius } => {
            let squared: f64 = center
                .iter()
                .zip(x)
                .map(|(c, xi)| (xi - c) * (xi - c))
                .sum();
            squared.sqrt() - radius
        }
        Shape::Union(a, b) => signed_distance(a, x).min(signed_distance(b, x)),
        Shape::Intersection(a, b) => signed_distance(a, x).max(signed_distance(b, x)),
        Shape::Difference(a, b) => signed_distance(a, x).max(-signed_distance(b, x)),
    }
}

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

/// The `i`-th element of the van der Corput sequence in `base` (`i` read
/// backwards in that base after the radix point), in `[0, 1)`.
pub fn radical_inverse(index: u64, base: u64) -> f64 {
    // Reversed digits as one integer over base^k: a single rounding, so the
    // first base^k points fall exactly one in each cell of width base^-k.
    let (mut rest, base) = (index as u128, base as u128);
    let (mut reversed, mut denominator) = (0u128, 1u128);
    while rest > 0 {
        reversed = reversed * base + rest % base;
        denominator *= base;
        rest /= base;
    }
    reversed as f64 / denominator as f64
}

/// The first `count` primes (the Halton bases).
fn first_primes(count: usize) -> Vec<u64> {
    let mut primes: Vec<u64> = Vec::with_capacity(count);
    let mut candidate = 2u64;
    while primes.len() < count {
        if primes
            .iter()
            .take_while(|&&p| p * p <= candidate)
            .all(|&p| !candidate.is_multiple_of(p))
        {
            primes.push(candidate);
        }
        candidate += 1;
    }
    primes
}

/// SplitMix64 finalizer applied to `a ^ rotate(b)`: a cheap, well-mixed
/// combination of seeds.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.rotate_left(29).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Numbers in `[0, 1)`, one batch of fixed length per draw.
enum UnitSource {
    Random(Box<ChaCha8Rng>),
    Halton {
        index: u64,
        bases: Vec<u64>,
        shift: Vec<f64>,
    },
}

impl UnitSource {
    /// `Grid` has no per-draw source; regions that cannot be gridded use Halton.
    fn new(sampler: Sampler, dims: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        match sampler {
            Sampler::Uniform => UnitSource::Random(Box::new(rng)),
            Sampler::Halton | Sampler::Grid => UnitSource::Halton {
                index: 0,
                bases: first_primes(dims),
                shift: (0..dims).map(|_| rng.random::<f64>()).collect(),
            },
        }
    }

    fn fill(&mut self, out: &mut [f64]) {
        match self {
            UnitSource::Random(rng) => out.iter_mut().for_each(|u| *u = rng.random::<f64>()),
            UnitSource::Halton {
                index,
                bases,
                shift,
            } => {
                for ((u, &base), &s) in out.iter_mut().zip(bases.iter()).zip(shift.iter()) {
                    let shifted = radical_inverse(*index, base) + s;
                    *u = if shifted >= 1.0 {
                        shifted - 1.0
                    } else {
                        shifted
                    };
                }
                *index += 1;
            }
        }
    }
}

/// One spatial factor, validated, with its bounding box.
struct Factor {
    coords: Vec<usize>,
    shape: Shape,
    bbox: Vec<(f64, f64)>,
}

/// The domain in the form the samplers use.
struct Geometry {
    n_coords: usize,
    factors: Vec<Factor>,
    /// `(coord, t0, t1)`.
    time: Option<(usize, f64, f64)>,
    periodic: Vec<usize>,
}

impl Geometry {
    fn new(problem: &Problem) -> Result<Self, SampleError> {
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

    fn factor_of(&self, coord: usize) -> Option<(usize, usize)> {
        self.factors.iter().enumerate().find_map(|(f, factor)| {
            factor
                .coords
                .iter()
                .position(|&c| c == coord)
                .map(|axis| (f, axis))
        })
    }
}

/// Dimension of a shape, checking that it is well formed.
fn shape_dim(shape: &Shape) -> Result<usize, String> {
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

fn bounding_box(shape: &Shape) -> Vec<(f64, f64)> {
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

fn is_primitive(shape: &Shape) -> bool {
    matches!(shape, Shape::Box(_) | Shape::Ball { .. })
}

/// Γ(k/2) for a positive integer k.
fn gamma_half(k: usize) -> f64 {
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

fn ball_volume(dim: usize, radius: f64) -> f64 {
    std::f64::consts::PI.powf(dim as f64 / 2.0) / gamma_half(dim + 2) * radius.powi(dim as i32)
}

fn sphere_area(dim: usize, radius: f64) -> f64 {
    2.0 * std::f64::consts::PI.powf(dim as f64 / 2.0) / gamma_half(dim)
        * radius.powi(dim as i32 - 1)
}

/// Measure of the face `axis = const` of a box (1 for the end points in 1-D).
fn box_face_measure(bounds: &[(f64, f64)], axis: usize) -> f64 {
    bounds
        .iter()
        .enumerate()
        .filter(|&(b, _)| b != axis)
        .map(|(_, &(lo, hi))| hi - lo)
        .product()
}

fn box_volume(bounds: &[(f64, f64)]) -> f64 {
    bounds.iter().map(|&(lo, hi)| hi - lo).product()
}

/// Boundary measure of a primitive.
fn primitive_boundary_measure(shape: &Shape) -> f64 {
    match shape {
        Shape::Box(bounds) => (0..bounds.len())
            .map(|axis| 2.0 * box_face_measure(bounds, axis))
            .sum(),
        Shape::Ball { center, radius } => sphere_area(center.len(), *radius),
        _ => 0.0,
    }
}

/// Primitives of a shape in depth-first order.
fn leaves(shape: &Shape) -> Vec<&Shape> {
    match shape {
        Shape::Box(_) | Shape::Ball { .. } => vec![shape],
        Shape::Union(a, b) | Shape::Difference(a, b) | Shape::Intersection(a, b) => {
            let mut out = leaves(a);
            out.extend(leaves(b));
            out
        }
    }
}

fn count_leaves(shape: &Shape) -> usize {
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
fn combined_boundary_sign(shape: &Shape, leaf: usize, x: &[f64]) -> Option<f64> {
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
fn pick(u: f64, weights: &[f64]) -> usize {
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
fn sphere_direction(u: &[f64], dim: usize) -> Option<Vec<f64>> {
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
fn inside_dims(shape: &Shape) -> usize {
    match shape {
        Shape::Ball { center, .. } => 2 * center.len().div_ceil(2) + 1,
        _ => bounding_box(shape).len(),
    }
}

/// Numbers used to draw a point on a primitive's boundary.
fn primitive_surface_dims(shape: &Shape) -> usize {
    match shape {
        // face choice + the other d - 1 coordinates
        Shape::Box(bounds) => bounds.len(),
        Shape::Ball { center, .. } => 2 * center.len().div_ceil(2),
        _ => 0,
    }
}

/// Point (and outward normal) on a primitive's boundary, from `u`.
fn primitive_surface_point(shape: &Shape, u: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
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

/// One factor of a sampled region.
enum Part<'g> {
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
    /// A coordinate held at one value.
    Fixed { coord: usize, value: f64 },
    /// A coordinate uniform in an interval (the time).
    Interval { coord: usize, lo: f64, hi: f64 },
}

impl Part<'_> {
    fn unit_dims(&self) -> usize {
        match self {
            Part::Inside(factor) => inside_dims(&factor.shape),
            Part::BoxFace { factor, .. } => factor.coords.len() - 1,
            Part::Surface(factor) => match &factor.shape {
                Shape::Ball { .. } => primitive_surface_dims(&factor.shape),
                shape => {
                    1 + leaves(shape)
                        .into_iter()
                        .map(primitive_surface_dims)
                        .max()
                        .unwrap_or(0)
                }
            },
            Part::Fixed { .. } => 0,
            Part::Interval { .. } => 1,
        }
    }

    /// Writes the part's coordinates (and normal components) from `u`;
    /// false when the draw is rejected.
    fn place_unit(&self, u: &[f64], point: &mut [f64], normal: &mut [f64]) -> bool {
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
                        let primitives = leaves(shape);
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
            Part::Fixed { coord, value } => {
                point[*coord] = *value;
                true
            }
            Part::Interval { coord, lo, hi } => {
                point[*coord] = lo + u[0] * (hi - lo);
                true
            }
        }
    }

    /// The intervals a tensor grid of this part spans (`Surface` spans none:
    /// it is never gridded).
    fn grid_axes(&self) -> Vec<(f64, f64)> {
        match self {
            Part::Inside(factor) => factor.bbox.clone(),
            Part::BoxFace { factor, axis, .. } => factor
                .bbox
                .iter()
                .enumerate()
                .filter(|&(b, _)| b != *axis)
                .map(|(_, &interval)| interval)
                .collect(),
            Part::Surface(_) | Part::Fixed { .. } => Vec::new(),
            Part::Interval { lo, hi, .. } => vec![(*lo, *hi)],
        }
    }

    /// Writes the part's coordinates from grid values (already in the part's
    /// intervals); false when the grid point is outside the region.
    fn place_grid(
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
            Part::Surface(_) => false,
        }
    }
}

fn unit_dims(parts: &[Part]) -> usize {
    parts.iter().map(Part::unit_dims).sum()
}

struct BlockCtx<'a> {
    index: usize,
    label: &'a str,
    seed: u64,
}

/// Draws `n` points of the product of `parts`, retrying rejected draws.
///
/// # Shapes
/// Returns `(points, normals)`, both `[n, n_coords]` row-major.
fn draw(
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

#[derive(Clone, Copy)]
enum GridLayout {
    /// `(i + ½)/m` along each axis: strictly inside the interval.
    Midpoints,
    /// `j/(m - 1)`: both ends included.
    Nodes,
}

/// The tensor grid of `per_axis` values on every free axis of `parts`, kept
/// where every part accepts it.
///
/// # Shapes
/// Returns `(points, normals)`, both `[n_kept, n_coords]` row-major.
fn grid_with(
    parts: &[Part],
    n_coords: usize,
    per_axis: usize,
    layout: GridLayout,
) -> (Vec<f64>, Vec<f64>) {
    let axes: Vec<Vec<(f64, f64)>> = parts.iter().map(Part::grid_axes).collect();
    let dims: usize = axes.iter().map(Vec::len).sum();
    let axis_value = |(lo, hi): (f64, f64), j: usize| -> f64 {
        let s = match layout {
            GridLayout::Midpoints => (j as f64 + 0.5) / per_axis as f64,
            GridLayout::Nodes => j as f64 / (per_axis - 1) as f64,
        };
        // Convex combination: exact ends for s = 0 and s = 1.
        lo * (1.0 - s) + hi * s
    };
    let closed = matches!(layout, GridLayout::Nodes);
    let mut index = vec![0usize; dims];
    let (mut points, mut normals) = (Vec::new(), Vec::new());
    let mut point = vec![0.0; n_coords];
    let mut normal = vec![0.0; n_coords];
    loop {
        point.iter_mut().for_each(|v| *v = 0.0);
        normal.iter_mut().for_each(|v| *v = 0.0);
        let mut offset = 0;
        let mut ok = true;
        for (part, part_axes) in parts.iter().zip(&axes) {
            let values: Vec<f64> = part_axes
                .iter()
                .zip(&index[offset..offset + part_axes.len()])
                .map(|(&interval, &j)| axis_value(interval, j))
                .collect();
            offset += part_axes.len();
            ok &= part.place_grid(&values, closed, &mut point, &mut normal);
            if !ok {
                break;
            }
        }
        if ok {
            points.extend_from_slice(&point);
            normals.extend_from_slice(&normal);
        }
        // Odometer over the multi-index, last axis fastest.
        let mut axis = dims;
        loop {
            if axis == 0 {
                return (points, normals);
            }
            axis -= 1;
            index[axis] += 1;
            if index[axis] < per_axis {
                break;
            }
            index[axis] = 0;
        }
    }
}

/// The smallest midpoint grid with at least `n` points in the region.
fn grid_points(
    parts: &[Part],
    n: usize,
    n_coords: usize,
    ctx: &BlockCtx,
    region: &str,
) -> Result<(Vec<f64>, Vec<f64>), SampleError> {
    let dims: usize = parts.iter().map(|p| p.grid_axes().len()).sum();
    if n == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    if dims == 0 {
        return Ok(grid_with(parts, n_coords, 1, GridLayout::Midpoints));
    }
    let mut per_axis = 1usize;
    while (per_axis as f64).powi(dims as i32) < n as f64 {
        per_axis += 1;
    }
    // The region fills a fixed share of its box, so a few steps up suffice;
    // the cap bounds the work for regions that are almost empty.
    let max_per_axis = 4 * per_axis + 4;
    let mut last_count = 0;
    while per_axis <= max_per_axis {
        let (points, normals) = grid_with(parts, n_coords, per_axis, GridLayout::Midpoints);
        last_count = points.len() / n_coords.max(1);
        if last_count >= n {
            return Ok((points, normals));
        }
        per_axis += 1;
    }
    let tries = (max_per_axis as f64).powi(dims as i32) as usize;
    Err(SampleError::Rejection {
        block: ctx.index,
        label: ctx.label.to_string(),
        region: region.to_string(),
        requested: n,
        accepted: last_count,
        tries,
        rate: last_count as f64 / tries as f64,
    })
}

/// Draws `n` points of `parts` with the problem's sampler.
fn sample_parts(
    parts: &[Part],
    n: usize,
    sampler: Sampler,
    n_coords: usize,
    seed: u64,
    ctx: &BlockCtx,
    region: &str,
) -> Result<(Vec<f64>, Vec<f64>), SampleError> {
    let griddable = parts.iter().all(|p| !matches!(p, Part::Surface(_)));
    if sampler == Sampler::Grid && griddable {
        return grid_points(parts, n, n_coords, ctx, region);
    }
    let mut source = UnitSource::new(sampler, unit_dims(parts), seed);
    draw(parts, n, &mut source, n_coords, ctx, region)
}

/// Splits `n` in proportion to `weights` by largest remainder (ties to the
/// earlier index).
fn allocate(n: usize, weights: &[f64]) -> Vec<usize> {
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
fn factor_volume(factor: &Factor, pilot_seed: u64) -> f64 {
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
fn surface_measure(factor: &Factor, pilot_seed: u64) -> f64 {
    match &factor.shape {
        Shape::Ball { center, radius } => sphere_area(center.len(), *radius),
        Shape::Box(bounds) => primitive_boundary_measure(&Shape::Box(bounds.clone())),
        shape => {
            let part = Part::Surface(factor);
            let mut rng = ChaCha8Rng::seed_from_u64(pilot_seed);
            let mut unit = vec![0.0; part.unit_dims()];
            let n_local = factor.coords.iter().max().map_or(0, |&c| c + 1);
            let (mut point, mut normal) = (vec![0.0; n_local], vec![0.0; n_local]);
            let hits = (0..PILOT_DRAWS)
                .filter(|_| {
                    unit.iter_mut().for_each(|u| *u = rng.random::<f64>());
                    part.place_unit(&unit, &mut point, &mut normal)
                })
                .count();
            let proposal: f64 = leaves(shape)
                .into_iter()
                .map(primitive_boundary_measure)
                .sum();
            proposal * hits as f64 / PILOT_DRAWS as f64
        }
    }
}

fn inside_all<'g>(geometry: &'g Geometry, except: Option<usize>) -> Vec<Part<'g>> {
    geometry
        .factors
        .iter()
        .enumerate()
        .filter(|&(f, _)| Some(f) != except)
        .map(|(_, factor)| Part::Inside(factor))
        .collect()
}

fn time_interval(geometry: &Geometry) -> Option<Part<'_>> {
    geometry
        .time
        .map(|(coord, lo, hi)| Part::Interval { coord, lo, hi })
}

/// Parts of the face `coord = lo|hi` (normal written for spatial faces).
fn face_parts<'g>(
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

fn sample_region(
    problem: &Problem,
    geometry: &Geometry,
    region: &Region,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let config = &problem.sample;
    let n_coords = geometry.n_coords;
    let rows = |points: &Vec<f64>| points.len() / n_coords.max(1);
    match region {
        Region::Interior => {
            let mut parts = inside_all(geometry, None);
            parts.extend(time_interval(geometry));
            let (points, _) = sample_parts(
                &parts,
                config.interior,
                config.sampler,
                n_coords,
                ctx.seed,
                ctx,
                "interior",
            )?;
            Ok(BlockPoints {
                n: rows(&points),
                points,
                ..BlockPoints::default()
            })
        }
        Region::Initial => {
            let (coord, t0, _) = geometry.time.ok_or_else(|| SampleError::NoTime {
                block: ctx.index,
                label: ctx.label.to_string(),
            })?;
            let mut parts = inside_all(geometry, None);
            parts.push(Part::Fixed { coord, value: t0 });
            let (points, _) = sample_parts(
                &parts,
                config.initial,
                config.sampler,
                n_coords,
                ctx.seed,
                ctx,
                "initial",
            )?;
            Ok(BlockPoints {
                n: rows(&points),
                points,
                ..BlockPoints::default()
            })
        }
        Region::Face { coord, side } => {
            let parts = face_parts(problem, geometry, *coord, *side, ctx)?;
            let n = if unit_dims(&parts) == 0 {
                1
            } else {
                config
                    .faces
                    .iter()
                    .find(|&&(c, s, _)| c == *coord && s == *side)
                    .map_or_else(
                        || (config.boundary / n_box_faces(geometry).max(1)).max(1),
                        |&(_, _, count)| count,
                    )
            };
            let (points, normals) =
                sample_parts(&parts, n, config.sampler, n_coords, ctx.seed, ctx, "face")?;
            Ok(BlockPoints {
                n: rows(&points),
                points,
                normals: Some(normals),
                ..BlockPoints::default()
            })
        }
        Region::Periodic { coord } => {
            let parts = face_parts(problem, geometry, *coord, Side::Lo, ctx)?;
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
            let hi = match geometry.time.filter(|&(t, _, _)| t == *coord) {
                Some((_, _, t1)) => t1,
                None => {
                    let (f, axis) = geometry.factor_of(*coord).unwrap_or((0, 0));
                    geometry.factors[f].bbox[axis].1
                }
            };
            let mut partner = points.clone();
            partner
                .chunks_mut(n_coords)
                .for_each(|row| row[*coord] = hi);
            Ok(BlockPoints {
                n: rows(&points),
                points,
                partner: Some(partner),
                ..BlockPoints::default()
            })
        }
        Region::Boundary => sample_boundary(problem, geometry, ctx),
        Region::Data { set } => {
            let data = problem.data.get(*set).ok_or(SampleError::UnknownDataSet {
                block: ctx.index,
                set: *set,
                n_sets: problem.data.len(),
            })?;
            let bad = |reason: String| SampleError::BadDataSet {
                name: data.name.clone(),
                reason,
            };
            if data.coord_columns.len() != n_coords {
                return Err(bad(format!(
                    "{} coordinate columns for {n_coords} coordinates",
                    data.coord_columns.len()
                )));
            }
            let n_rows = data.n_rows();
            if data.values.iter().any(|column| column.len() != n_rows) {
                return Err(bad("columns have different lengths".to_string()));
            }
            let mut points = Vec::with_capacity(n_rows * n_coords);
            for row in 0..n_rows {
                for &column in &data.coord_columns {
                    let value = data.values.get(column).ok_or_else(|| {
                        bad(format!(
                            "coordinate column {column} does not exist ({} columns)",
                            data.values.len()
                        ))
                    })?[row];
                    points.push(value);
                }
            }
            Ok(BlockPoints {
                n: n_rows,
                points,
                data_rows: Some((0..n_rows).collect()),
                ..BlockPoints::default()
            })
        }
    }
}

/// Non-periodic faces of the box factors.
fn n_box_faces(geometry: &Geometry) -> usize {
    geometry
        .factors
        .iter()
        .filter(|factor| matches!(factor.shape, Shape::Box(_)))
        .flat_map(|factor| &factor.coords)
        .filter(|coord| !geometry.periodic.contains(coord))
        .count()
        * 2
}

/// The spatial boundary of the product domain times the time interval.
fn sample_boundary(
    problem: &Problem,
    geometry: &Geometry,
    ctx: &BlockCtx,
) -> Result<BlockPoints, SampleError> {
    let config = &problem.sample;
    let n_coords = geometry.n_coords;
    // Each piece: (factor, the part on its boundary, measure of that boundary part).
    let mut pieces: Vec<(usize, Part, Option<f64>)> = Vec::new();
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
    if pieces.is_empty() {
        return Err(SampleError::NoBoundary {
            block: ctx.index,
            label: ctx.label.to_string(),
        });
    }
    let counts = if pieces.len() == 1 {
        vec![config.boundary]
    } else {
        let pilot = |f: usize| mix(mix(config.seed, TAG_PILOT), f as u64);
        let volumes: Vec<f64> = geometry
            .factors
            .iter()
            .enumerate()
            .map(|(f, factor)| factor_volume(factor, pilot(f)))
            .collect();
        let weights: Vec<f64> = pieces
            .iter()
            .map(|(f, _, measure)| {
                let own =
                    measure.unwrap_or_else(|| surface_measure(&geometry.factors[*f], pilot(*f)));
                let others: f64 = volumes
                    .iter()
                    .enumerate()
                    .filter(|&(g, _)| g != *f)
                    .map(|(_, v)| v)
                    .product();
                own * others
            })
            .collect();
        allocate(config.boundary, &weights)
    };
    let (mut points, mut normals) = (Vec::new(), Vec::new());
    for (index, ((f, part, _), count)) in pieces.into_iter().zip(counts).enumerate() {
        let mut parts = vec![part];
        parts.extend(inside_all(geometry, Some(f)));
        parts.extend(time_interval(geometry));
        // Under `grid` a piece's points still come from Halton: see the module docs.
        let sampler = match config.sampler {
            Sampler::Grid => Sampler::Halton,
            other => other,
        };
        let (p, n) = sample_parts(
            &parts,
            count,
            sampler,
            n_coords,
            mix(ctx.seed, index as u64),
            ctx,
            "boundary",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{
        Coord, DataSet, Domain, DomainFactor, ExprArena, ModelConfig, ResidualBlock, SampleConfig,
        SolveSettings,
    };
    use crate::span::Span;

    /// A problem over `coords` (name, kind, lo, hi) with one block per region.
    fn problem(
        coords: &[(&str, CoordKind, f64, f64)],
        factors: Vec<DomainFactor>,
        regions: Vec<Region>,
        sample: SampleConfig,
    ) -> Problem {
        let mut exprs = ExprArena::new();
        let zero = exprs.constant(0.0);
        let coords: Vec<Coord> = coords
            .iter()
            .map(|&(name, kind, lo, hi)| Coord {
                name: name.to_string(),
                kind,
                lo,
                hi,
                span: Span::default(),
            })
            .collect();
        let time = coords.iter().position(|c| c.kind == CoordKind::Time);
        let blocks = regions
            .into_iter()
            .enumerate()
            .map(|(i, region)| ResidualBlock {
                label: format!("block {i}"),
                span: Span::default(),
                region,
                weight: 1.0,
                residual: zero,
                jets: Vec::new(),
                linearization: Vec::new(),
                param_derivatives: Vec::new(),
                linear: true,
                order: 0,
            })
            .collect();
        Problem {
            coords,
            domain: Domain { factors, time },
            fields: Vec::new(),
            params: Vec::new(),
            data: Vec::new(),
            periodic: Vec::new(),
            jets: Vec::new(),
            exprs,
            blocks,
            exact: Vec::new(),
            model: ModelConfig::default(),
            sample,
            solve: SolveSettings::default(),
        }
    }

    const X: (&str, CoordKind, f64, f64) = ("x", CoordKind::Space, 0.0, 1.0);
    const T: (&str, CoordKind, f64, f64) = ("t", CoordKind::Time, 0.0, 2.0);

    fn factor(coords: &[usize], shape: Shape) -> DomainFactor {
        DomainFactor {
            coords: coords.to_vec(),
            shape,
        }
    }

    fn disk(cx: f64, cy: f64, r: f64) -> Shape {
        Shape::Ball {
            center: vec![cx, cy],
            radius: r,
        }
    }

    fn rect(x: (f64, f64), y: (f64, f64)) -> Shape {
        Shape::Box(vec![x, y])
    }

    fn rows(points: &[f64], n_coords: usize) -> Vec<&[f64]> {
        points.chunks(n_coords).collect()
    }

    fn config(interior: usize, boundary: usize) -> SampleConfig {
        SampleConfig {
            interior,
            boundary,
            ..SampleConfig::default()
        }
    }

    /// Boundary points of `shape` (over the first coordinates) lie on it to
    /// 1e-12, with unit outward normals: a step of 1e-6 along the normal
    /// leaves the closed shape, a step against it enters the open shape.
    fn assert_on_boundary_with_outward_normals(
        shape: &Shape,
        block: &BlockPoints,
        n_coords: usize,
    ) {
        let normals = block.normals.as_ref().expect("boundary has normals");
        assert_eq!(block.points.len(), block.n * n_coords);
        let dim = bounding_box(shape).len();
        for (x, n) in rows(&block.points, n_coords)
            .into_iter()
            .zip(rows(normals, n_coords))
        {
            let (xs, ns) = (&x[..dim], &n[..dim]);
            assert!(
                signed_distance(shape, xs).abs() <= 1e-12,
                "{xs:?} off the boundary"
            );
            let norm: f64 = ns.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12, "normal {ns:?} not unit");
            assert!(
                n[dim..].iter().all(|&v| v == 0.0),
                "non-spatial normal component"
            );
            let out: Vec<f64> = xs.iter().zip(ns).map(|(a, b)| a + 1e-6 * b).collect();
            let inn: Vec<f64> = xs.iter().zip(ns).map(|(a, b)| a - 1e-6 * b).collect();
            assert!(!contains(shape, &out), "{xs:?} + 1e-6 {ns:?} is inside");
            assert!(
                contains_strictly(shape, &inn),
                "{xs:?} - 1e-6 {ns:?} is outside"
            );
        }
    }

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

    fn csg_shapes() -> Vec<(&'static str, Shape)> {
        let a = disk(0.0, 0.0, 1.0);
        let b = rect((0.0, 2.0), (-0.5, 0.5));
        vec![
            (
                "difference",
                Shape::Difference(Box::new(a.clone()), Box::new(b.clone())),
            ),
            (
                "union",
                Shape::Union(Box::new(a.clone()), Box::new(b.clone())),
            ),
            (
                "intersection",
                Shape::Intersection(Box::new(a), Box::new(b)),
            ),
        ]
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
    fn radical_inverse_fills_dyadic_cells_once() {
        for k in 0..10 {
            let cells = 1usize << k;
            let mut hit = vec![0; cells];
            for i in 0..cells as u64 {
                hit[(radical_inverse(i, 2) * cells as f64) as usize] += 1;
            }
            assert!(hit.iter().all(|&h| h == 1), "k = {k}");
        }
        // Base 3: the first 9 points fill the 9 cells of width 1/9.
        let mut hit = [0; 9];
        for i in 0..9 {
            hit[(radical_inverse(i, 3) * 9.0) as usize] += 1;
        }
        assert_eq!(hit, [1; 9]);
        assert_eq!(first_primes(6), vec![2, 3, 5, 7, 11, 13]);
    }

    /// Largest deviation between the share of points in [0, a) × [0, b) and ab.
    fn local_discrepancy(points: &[f64]) -> f64 {
        let n = points.len() / 2;
        let mut worst: f64 = 0.0;
        for i in 1..=16 {
            for j in 1..=16 {
                let (a, b) = (i as f64 / 16.0, j as f64 / 16.0);
                let inside = rows(points, 2)
                    .iter()
                    .filter(|x| x[0] < a && x[1] < b)
                    .count();
                worst = worst.max((inside as f64 / n as f64 - a * b).abs());
            }
        }
        worst
    }

    #[test]
    fn halton_points_are_low_discrepancy() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 1.0),
            ("y", CoordKind::Space, 0.0, 1.0),
        ];
        let mut p = problem(&coords, Vec::new(), vec![Region::Interior], config(1024, 0));
        p.sample.sampler = Sampler::Halton;
        for seed in 0..3 {
            let halton = local_discrepancy(&sample_points(&p, seed).unwrap().blocks[0].points);
            // Random points deviate by ~1/sqrt(n) ≈ 0.03; Halton by ~log²n / n.
            assert!(halton < 0.008, "seed {seed}: {halton}");
        }
        p.sample.sampler = Sampler::Uniform;
        let random = local_discrepancy(&sample_points(&p, 0).unwrap().blocks[0].points);
        assert!(
            random > 0.008,
            "uniform sample unexpectedly regular: {random}"
        );
    }

    #[test]
    fn grid_interior_uses_cell_midpoints() {
        let coords = [
            ("x", CoordKind::Space, 0.0, 1.0),
            ("y", CoordKind::Space, 0.0, 2.0),
        ];
        let mut p = problem(&coords, Vec::new(), vec![Region::Interior], config(100, 0));
        p.sample.sampler = Sampler::Grid;
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert_eq!(block.n, 100);
        let mut xs: Vec<f64> = rows(&block.points, 2).iter().map(|x| x[0]).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let expected: Vec<f64> = (0..10).map(|i| (i as f64 + 0.5) / 10.0).collect();
        assert_eq!(xs.len(), 10);
        for (x, e) in xs.iter().zip(expected) {
            assert!((x - e).abs() < 1e-15);
        }
        // A disk: the grid grows until at least the requested count is inside.
        let p = {
            let mut p = problem(
                &coords,
                vec![factor(&[0, 1], disk(0.5, 1.0, 0.5))],
                vec![Region::Interior],
                config(100, 0),
            );
            p.sample.sampler = Sampler::Grid;
            p
        };
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert!(block.n >= 100 && block.n < 140, "{}", block.n);
        assert!(rows(&block.points, 2)
            .iter()
            .all(|x| contains_strictly(&disk(0.5, 1.0, 0.5), x)));
    }

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
    fn data_region_takes_the_rows() {
        let coords = [("x", CoordKind::Space, 0.0, 1.0), T];
        let mut p = problem(
            &coords,
            Vec::new(),
            vec![Region::Data { set: 0 }],
            config(0, 0),
        );
        p.data.push(DataSet {
            name: "obs".to_string(),
            path: "obs.csv".into(),
            columns: vec!["t".into(), "u".into(), "x".into()],
            values: vec![vec![0.5, 1.5], vec![9.0, 8.0], vec![0.25, 0.75]],
            coord_columns: vec![2, 0],
            span: Span::default(),
        });
        let block = &sample_points(&p, 0).unwrap().blocks[0];
        assert_eq!(block.n, 2);
        assert_eq!(block.points, vec![0.25, 0.5, 0.75, 1.5]);
        assert_eq!(block.data_rows, Some(vec![0, 1]));
        p.blocks[0].region = Region::Data { set: 3 };
        assert!(matches!(
            sample_points(&p, 0),
            Err(SampleError::UnknownDataSet { set: 3, .. })
        ));
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
