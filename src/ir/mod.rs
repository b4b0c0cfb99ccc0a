//! The residual IR: a checked, resolved and lowered `.pde` problem.
//!
//! [`lower()`] turns a parsed [`crate::syntax::ast::File`] into a [`Problem`]:
//! names are resolved, constants folded, `let`s inlined, derivative operators
//! turned into jets `D^α u_k`, and each equation into a [`ResidualBlock`] with
//! its symbolic linearization. Nothing here knows about tensors.

pub mod ansatz;
mod config;
mod data;
pub mod describe;
pub mod display;
mod domain;
pub mod expr;
pub mod grid;
pub mod lower;
mod names;
#[cfg(test)]
mod source_tests;
pub mod symbolic;
#[cfg(test)]
mod testing;

pub use display::{display_expr, display_jet};
pub use expr::{BinaryOp, Compare, ExprArena, ExprId, Func, GridTermId, JetId, Node};
pub use grid::{GridData, GridTerm};
pub use lower::lower;
pub use symbolic::{derivative, eval_const};

use crate::span::Span;
use serde::Serialize;
use std::path::PathBuf;

/// Whether a coordinate is spatial or the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CoordKind {
    /// A spatial coordinate.
    Space,
    /// The time coordinate.
    Time,
}

/// A declared coordinate. `lo..hi` is its interval, or the bounding box of its
/// shape for coordinates declared through `disk`/`ball`/CSG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coord {
    /// Its name.
    pub name: String,
    /// Space or time.
    pub kind: CoordKind,
    /// Lower end of its interval (or bounding box).
    pub lo: f64,
    /// Upper end of its interval (or bounding box).
    pub hi: f64,
    /// Its declaration.
    pub span: Span,
}

/// A spatial shape over a group of coordinates (dimension = group size).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Shape {
    /// Axis-aligned box, one `(lo, hi)` per coordinate of the group.
    Box(Vec<(f64, f64)>),
    /// Ball (disk in 2-D) with centre and radius.
    Ball {
        /// Centre, one entry per coordinate of the group.
        center: Vec<f64>,
        /// Radius.
        radius: f64,
    },
    /// Points in either shape.
    Union(Box<Shape>, Box<Shape>),
    /// Points in the first shape and not in the second.
    Difference(Box<Shape>, Box<Shape>),
    /// Points in both shapes.
    Intersection(Box<Shape>, Box<Shape>),
}

/// One factor of the spatial domain: a shape over the listed coordinates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainFactor {
    /// Indices into [`Problem::coords`], in the shape's axis order.
    pub coords: Vec<usize>,
    /// The shape.
    pub shape: Shape,
}

/// The space-time domain: the product of the spatial factors (over disjoint
/// coordinate groups) and the time interval, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Domain {
    /// The spatial factors, over disjoint coordinate groups.
    pub factors: Vec<DomainFactor>,
    /// Index of the time coordinate in [`Problem::coords`].
    pub time: Option<usize>,
}

/// A multi-index α: the derivative order in each coordinate, indexed like
/// [`Problem::coords`] (length = number of coordinates).
pub type MultiIndex = Vec<u8>;

/// Which derivative a jet carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Deriv {
    /// `D^α` with α a multi-index (all zeros: the value itself).
    Partial(MultiIndex),
    /// The spatial Laplacian, propagated as one summed channel.
    Laplacian,
}

/// A jet `D^α u_k`: one derivative of one field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Jet {
    /// Index of the field (into `Problem::fields`).
    pub field: usize,
    /// Which derivative.
    pub deriv: Deriv,
}

impl Jet {
    /// Total derivative order (2 for the Laplacian).
    pub fn order(&self) -> usize {
        match &self.deriv {
            Deriv::Partial(alpha) => alpha.iter().map(|&a| a as usize).sum(),
            Deriv::Laplacian => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// A declared field (an unknown function of the coordinates).
pub struct Field {
    /// Its name.
    pub name: String,
    /// The coordinates it depends on (indices into `Problem::coords`, ascending)
    /// when it depends on some only (`field a(x)`); `None` for all coordinates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coords: Option<Vec<usize>>,
    /// Its declaration.
    pub span: Span,
}

impl Field {
    /// True when the field depends on coordinate `coord`.
    pub fn depends_on(&self, coord: usize) -> bool {
        self.coords.as_ref().is_none_or(|c| c.contains(&coord))
    }

    /// The coordinates it depends on, of `n_coords` in all.
    pub fn inputs(&self, n_coords: usize) -> Vec<usize> {
        self.coords
            .clone()
            .unwrap_or_else(|| (0..n_coords).collect())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// A declared trainable param (a scalar unknown).
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its initial value.
    pub init: f64,
    /// Its declaration.
    pub span: Span,
}

/// A `data` set, read and checked at lowering time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSet {
    /// Its name.
    pub name: String,
    /// Resolved path (relative to the `.pde` file).
    pub path: PathBuf,
    /// Column names as in the CSV header.
    pub columns: Vec<String>,
    /// Column-major values: `values[column][row]`.
    pub values: Vec<Vec<f64>>,
    /// For each coordinate of the problem, its column.
    pub coord_columns: Vec<usize>,
    /// Its declaration.
    pub span: Span,
}

impl DataSet {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }
}

/// Which end of a coordinate's interval a face lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// `coord = lo`.
    Lo,
    /// `coord = hi`.
    Hi,
}

/// Where a residual block is enforced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// The open space-time domain.
    Interior,
    /// The whole spatial boundary times the time interval.
    Boundary,
    /// `t = t0` times the spatial domain.
    Initial,
    /// One face `coord = lo|hi` of a coordinate declared by an interval.
    Face {
        /// Index of the coordinate.
        coord: usize,
        /// Which end.
        side: Side,
    },
    /// The part of the spatial boundary that lies on the boundary of a named
    /// shape (`on boundary of hole`), times the time interval.
    Piece {
        /// The shape's name.
        name: String,
        /// Index of the domain factor (into [`Domain::factors`]) whose shape uses it.
        factor: usize,
        /// The named shape, over the factor's coordinates (in its axis order).
        shape: Shape,
    },
    /// `boundary where …`, `boundary of NAME where …`: the points of `base` at
    /// which every condition holds, times the time interval.
    Where {
        /// The region narrowed: [`Region::Boundary`] or [`Region::Piece`].
        base: Box<Region>,
        /// The comparisons, all of which hold at the region's points.
        conditions: Vec<Condition>,
        /// The conditions as written (`x = 1 and y > 0`), for messages.
        text: String,
        /// Where the conditions are written.
        span: Span,
    },
    /// The rows of data set `set`.
    Data {
        /// Index of the data set (into `Problem::data`).
        set: usize,
    },
    /// Paired points on the faces `coord = lo` and `coord = hi`; the residual
    /// is the block's expression at the lo point minus the same at the hi point.
    Periodic {
        /// Index of the periodic coordinate.
        coord: usize,
    },
}

/// One comparison of a [`Region::Where`]: `left ⋈ right`, both expressions of
/// coordinates and constants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Condition {
    /// Left side.
    pub left: ExprId,
    /// The comparison.
    pub relation: Relation,
    /// Right side.
    pub right: ExprId,
}

/// The comparison of a [`Condition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// `a < b`.
    Less,
    /// `a <= b`.
    LessEq,
    /// `a > b`.
    Greater,
    /// `a >= b`.
    GreaterEq,
    /// `a = b`: `|a − b| <= tolerance` (see [`Relation::holds`]).
    Equal,
}

impl Relation {
    /// Whether `a ⋈ b` holds; `=` holds within `tolerance` (false when either is NaN).
    pub fn holds(self, a: f64, b: f64, tolerance: f64) -> bool {
        match self {
            Relation::Less => a < b,
            Relation::LessEq => a <= b,
            Relation::Greater => a > b,
            Relation::GreaterEq => a >= b,
            Relation::Equal => (a - b).abs() <= tolerance,
        }
    }
}

/// One equation, lowered: `residual = lhs - rhs` on `region`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResidualBlock {
    /// Source text of the equation (for messages and `explain`).
    pub label: String,
    /// Span of the equation in the source (periodic blocks: the `periodic` line).
    pub span: Span,
    /// Where the equation holds.
    pub region: Region,
    /// Its weight in the loss (the residual rows are scaled by `sqrt(weight / n)`).
    pub weight: f64,
    /// `lhs - rhs`, simplified.
    pub residual: ExprId,
    /// Every jet the residual uses, sorted, each once.
    pub jets: Vec<JetId>,
    /// `∂residual/∂jet` for each used jet (simplified, zero terms dropped), in `jets` order.
    pub linearization: Vec<(JetId, ExprId)>,
    /// `∂residual/∂param` for each param it uses.
    pub param_derivatives: Vec<(usize, ExprId)>,
    /// True when the residual is affine in the jets (every coefficient is jet-free).
    pub linear: bool,
    /// Highest derivative order used.
    pub order: usize,
}

/// A field built so that some of its conditions hold exactly (hard
/// constraints): `u = offset + factor · N_θ`, with `factor = 0` where the
/// conditions hold and `offset` equal to their data there. The conditions'
/// blocks are not in [`Problem::blocks`]; every other block sees the jets of
/// `u` through this formula, and the field's jets in [`Problem::jets`] are those
/// of the network `N_θ`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldAnsatz {
    /// Index of the field (into `Problem::fields`).
    pub field: usize,
    /// The data extended into the domain (coordinates and constants).
    pub offset: ExprId,
    /// The distance factor: 0 on the constrained boundary, positive inside.
    pub factor: ExprId,
    /// The conditions built in, as written (`u = 0`) with their regions.
    pub conditions: Vec<String>,
}

/// A condition of the form `u = g` that stays a penalty block under hard
/// constraints, and why (for `pdec check` and `pdec explain`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoftCondition {
    /// The condition as written, with its region.
    pub label: String,
    /// Why it is not built into the ansatz.
    pub reason: String,
}

/// A known solution of one field, for error reporting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExactSolution {
    /// Index of the field (into `Problem::fields`).
    pub field: usize,
    /// Where the values come from.
    pub source: ExactSource,
    /// Its declaration.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// Where an exact solution comes from.
pub enum ExactSource {
    /// An expression of coordinates and constants only.
    Expr(ExprId),
    /// A reference data set (loaded like `data`); the field is column `column`.
    Data {
        /// The data set, loaded.
        set: DataSet,
        /// Column of the data set holding the values.
        column: usize,
    },
}

/// Activation functions of the MLP ansatz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `tanh`.
    Tanh,
    /// `sin`.
    Sin,
    /// The logistic function `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `log(1 + exp(x))`.
    Softplus,
    /// `x · sigmoid(x)`.
    Silu,
}

/// How the ansatz treats conditions it can satisfy by construction
/// (`model mlp(constraints = hard | soft)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Constraints {
    /// Built into the ansatz: a periodic coordinate enters the network through
    /// harmonics, so every field is periodic with all its derivatives.
    #[default]
    Hard,
    /// Penalty blocks: a periodic coordinate enters as itself, and the pairs
    /// `u(x=a) − u(x=b)`, `dx(u)(x=a) − dx(u)(x=b)` are residual blocks.
    Soft,
}

impl Constraints {
    fn is_hard(&self) -> bool {
        *self == Constraints::Hard
    }
}

/// Harmonics per periodic coordinate when none is given (`harmonics = K`).
pub const DEFAULT_HARMONICS: usize = 1;

/// Random Fourier features `[cos 2πBx, sin 2πBx]` (`features = fourier(m, sigma)`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FourierFeatures {
    /// Rows `m` of B: the network sees `2m` features.
    pub count: usize,
    /// Standard deviation of B's entries (frequencies per unit of the coordinates).
    pub sigma: f64,
}

/// `model mlp(layers = [...], activation = ..., shared, constraints = ..,
/// harmonics = .., features = ..)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelConfig {
    /// Hidden layer widths. Default `[20, 20, 20, 20]`.
    pub layers: Vec<usize>,
    /// Default `tanh`.
    pub activation: Activation,
    /// One network with one output per field instead of one network per field. Default false.
    pub shared: bool,
    /// Default hard. (Not serialized at its default, so that the digest of a
    /// problem without these settings is what it was before they existed.)
    #[serde(skip_serializing_if = "Constraints::is_hard")]
    pub constraints: Constraints,
    /// Harmonics `K` per periodic coordinate under hard constraints. Default
    /// [`DEFAULT_HARMONICS`].
    #[serde(skip_serializing_if = "is_default_harmonics")]
    pub harmonics: usize,
    /// Random Fourier features of the inputs that are not periodic. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<FourierFeatures>,
}

fn is_default_harmonics(k: &usize) -> bool {
    *k == DEFAULT_HARMONICS
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            layers: vec![20, 20, 20, 20],
            activation: Activation::Tanh,
            shared: false,
            constraints: Constraints::Hard,
            harmonics: DEFAULT_HARMONICS,
            features: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
/// How points are drawn.
pub enum Sampler {
    /// Independent uniform draws.
    Uniform,
    /// The Halton low-discrepancy sequence.
    Halton,
    /// A regular grid where the region allows one (Halton points elsewhere).
    Grid,
}

/// `sample ...`: point counts per region and how they are drawn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleConfig {
    /// Default 1000.
    pub interior: usize,
    /// Points on the whole spatial boundary. Default 200.
    pub boundary: usize,
    /// Points on `t = t0`. Default 200.
    pub initial: usize,
    /// Per-face counts `x = 0 : n`; faces without one get `boundary / n_faces` (at least 1).
    pub faces: Vec<(usize, Side, usize)>,
    /// Per-piece counts `hole = n`: the points of each equation `on boundary of hole`
    /// (pieces without one get their share of `boundary` by measure). Left out of the
    /// serialized form when empty (digest stability, as `adaptive`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pieces: Vec<(String, usize)>,
    /// Paired points per periodic coordinate. Default 100.
    pub periodic: usize,
    /// Default uniform.
    pub sampler: Sampler,
    /// Default 0.
    pub seed: u64,
    /// Draw fresh points every k iterations. Default none.
    pub resample: Option<usize>,
    /// Redraw the points by their residual (`adaptive = rad(k, c) every m`). Default none.
    /// Left out of the serialized form when absent, so that the digest of a problem
    /// without it (`output::checkpoint::problem_digest`) is what it was before it existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveSampling>,
    /// Points of the held-out test set. Default 10,000.
    pub test: usize,
}

/// `adaptive = rad(k, c) every m`: residual-based adaptive distribution (RAD; Wu, Zhu,
/// Tan, Kartha & Lu 2023). Every `every` iterations each sampled block draws a pool of
/// candidates uniformly from its region and keeps its point count of them, drawn with
/// probability `∝ |r|^k / mean(|r|^k) + c`, `r` the block's residual at the candidates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdaptiveSampling {
    /// The exponent `k` of the residual, in `(0, 10]`. Default [`Self::DEFAULT_K`].
    pub k: f64,
    /// The uniform share `c > 0`. Default [`Self::DEFAULT_C`].
    pub c: f64,
    /// Redraw every this many iterations. Default [`Self::DEFAULT_EVERY`].
    pub every: usize,
    /// `adaptive = rar(k, c, add, limit)`: add points instead of replacing them
    /// (RAR-D); `None` for `rad`. Left out of the serialized form when absent, so that
    /// the digest of a `rad` problem is what it was before it existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<Growth>,
}

/// RAR-D's growth (residual-based adaptive refinement with distribution; Wu et al.
/// 2023): every `every` iterations each sampled block adds `add` times its initial point
/// count, drawn from a fresh uniform pool with probability `∝ |r|^k / mean(|r|^k) + c`,
/// and keeps the points it has, until it holds `limit` times its initial count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Growth {
    /// Points added at each refinement, as a share of the block's initial count, in
    /// `(0, 1]`. Default [`Self::DEFAULT_ADD`].
    pub add: f64,
    /// The largest count, as a multiple of the initial count, above 1. Default
    /// [`Self::DEFAULT_LIMIT`].
    pub limit: f64,
}

impl Growth {
    /// Wu et al.'s best RAR-D exponent: the added points go where the residual is large.
    pub const DEFAULT_K: f64 = 2.0;
    /// Wu et al.'s best RAR-D uniform share: none (the points already held cover the
    /// region).
    pub const DEFAULT_C: f64 = 0.0;
    /// A tenth of the initial count at each refinement.
    pub const DEFAULT_ADD: f64 = 0.1;
    /// Twice the initial count at most: ten refinements with the default `add`.
    pub const DEFAULT_LIMIT: f64 = 2.0;

    /// The points a block of `initial` points adds at the next refinement when it
    /// holds `current`: `add·initial` rounded (at least 1), and none past
    /// `limit·initial`.
    pub fn added(&self, initial: usize, current: usize) -> usize {
        let cap = (self.limit * initial as f64).floor() as usize;
        let step = ((self.add * initial as f64).round() as usize).max(1);
        step.min(cap.saturating_sub(current))
    }

    /// How many refinements a block of `initial` points takes to reach its limit; after
    /// them its points stay as they are.
    pub fn refinements(&self, initial: usize) -> usize {
        let (mut held, mut count) = (initial, 0);
        loop {
            match self.added(initial, held) {
                0 => return count,
                n => (held, count) = (held + n, count + 1),
            }
        }
    }
}

impl Default for Growth {
    fn default() -> Self {
        Growth {
            add: Self::DEFAULT_ADD,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

impl AdaptiveSampling {
    /// Wu et al.'s robust default exponent.
    pub const DEFAULT_K: f64 = 1.0;
    /// Wu et al.'s robust default uniform share.
    pub const DEFAULT_C: f64 = 1.0;
    /// The default period, measured on Burgers (`examples/burgers.pde`, SNGD, 300
    /// iterations, one thread): every 25 iterations the errors of seeds 0–2 were 2.0e-3,
    /// 2.4e-4 and 5.3e-4; every 100, 0.32, 6.1e-4 and 0.34 — between two redraws the
    /// network fitted the new points and put the shock between them again (uniform
    /// points without redraws: 0.36, 0.090 and 0.41). A
    /// natural-gradient solver refits the new points within a few dozen steps; with a
    /// first-order method (adam) a longer period is usual.
    pub const DEFAULT_EVERY: usize = 25;
    /// The largest exponent accepted: beyond it the density is a handful of candidates.
    pub const MAX_K: f64 = 10.0;
}

impl Default for AdaptiveSampling {
    fn default() -> Self {
        AdaptiveSampling {
            k: Self::DEFAULT_K,
            c: Self::DEFAULT_C,
            every: Self::DEFAULT_EVERY,
            growth: None,
        }
    }
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            interior: 1000,
            boundary: 200,
            initial: 200,
            faces: Vec::new(),
            pieces: Vec::new(),
            periodic: 100,
            sampler: Sampler::Uniform,
            seed: 0,
            resample: None,
            adaptive: None,
            test: 10_000,
        }
    }
}

// What a `solve` block names: the optimizer registry's kinds and option values.
pub use crate::solve::{ConfigScalar, OptimizerKind};

/// `solve ...`: the solver defaults of the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolveSettings {
    /// The optimizer the file names; `None`: chosen by the problem's size at run time
    /// ([`crate::run::file_optimizer`]).
    pub optimizer: Option<OptimizerKind>,
    /// Default 1000.
    pub iterations: usize,
    /// Stop when the loss falls below this. Default none.
    pub tol: Option<f64>,
    /// Stop when the best loss has not fallen by the relative `min_improvement` over
    /// this many iterations. Default none.
    pub patience: Option<usize>,
    /// The relative decrease that counts as progress for `patience`, in `[0, 1)`.
    /// Default none (the solver's, 1e-2).
    pub min_improvement: Option<f64>,
    /// Optimizer-specific keys (`damping`, `sketch`, `lr`, ...), validated at lowering.
    pub options: Vec<(String, ConfigScalar)>,
    /// `causal = ε`: causal weighting of the rows by time slab with this ε
    /// ([`crate::compile::causal`]); `None` (default): off. Left out of the serialized
    /// form when off, so that the digest of a problem without it is what it was before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causal: Option<f64>,
}

impl Default for SolveSettings {
    fn default() -> Self {
        SolveSettings {
            optimizer: None,
            iterations: 1000,
            tol: None,
            patience: None,
            min_improvement: None,
            options: Vec::new(),
            causal: None,
        }
    }
}

/// A checked and lowered problem.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Coordinates in declaration order; multi-indices are indexed the same way.
    pub coords: Vec<Coord>,
    /// The space-time domain.
    pub domain: Domain,
    /// The fields, in declaration order.
    pub fields: Vec<Field>,
    /// The trainable params, in declaration order.
    pub params: Vec<Param>,
    /// The data sets.
    pub data: Vec<DataSet>,
    /// The grid data sets (`data k from "k.csv" as grid`). Left out of the
    /// serialized form when empty (as `grid_terms`), so that the digest of a
    /// problem without grids (`output::checkpoint::problem_digest`) is what it
    /// was before grids existed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grids: Vec<GridData>,
    /// Every use `D^α k` of a grid column in an expression, each once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grid_terms: Vec<GridTerm>,
    /// Periodic coordinates.
    pub periodic: Vec<usize>,
    /// Every jet used by any block or needed by the compiler, each once.
    pub jets: Vec<Jet>,
    /// Every expression of the problem (residuals, linearizations, exact solutions).
    pub exprs: ExprArena,
    /// One residual block per equation (and per periodic pair).
    pub blocks: Vec<ResidualBlock>,
    /// The known exact solutions.
    pub exact: Vec<ExactSolution>,
    /// The ansatz.
    pub model: ModelConfig,
    /// How training points are drawn.
    pub sample: SampleConfig,
    /// The `solve` block.
    pub solve: SolveSettings,
    /// Fields whose conditions are built into the ansatz (hard constraints).
    /// Left out of the serialized form when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ansatz: Vec<FieldAnsatz>,
    /// Conditions `u = g` kept as penalty blocks under hard constraints.
    #[serde(skip)]
    pub soft_conditions: Vec<SoftCondition>,
}

impl Problem {
    /// `D^α k` of a grid term at the point `x` (one entry per coordinate).
    pub fn eval_grid(&self, id: GridTermId, x: &[f64]) -> f64 {
        let term = &self.grid_terms[id.0 as usize];
        let grid = &self.grids[term.grid];
        let at: Vec<f64> = grid.axes.iter().map(|&c| x[c]).collect();
        let alpha: Vec<u8> = grid.axes.iter().map(|&c| term.alpha[c]).collect();
        grid.splines[term.column].eval(&at, &alpha)
    }

    /// The hard-constraint ansatz of field `k`, if it has one.
    pub fn field_ansatz(&self, k: usize) -> Option<&FieldAnsatz> {
        self.ansatz.iter().find(|a| a.field == k)
    }

    /// The jet with this id.
    pub fn jet(&self, id: JetId) -> &Jet {
        &self.jets[id.0 as usize]
    }

    /// Indices of the spatial coordinates.
    pub fn spatial_coords(&self) -> Vec<usize> {
        (0..self.coords.len())
            .filter(|&i| self.coords[i].kind == CoordKind::Space)
            .collect()
    }

    /// Index of the time coordinate, if any.
    pub fn time_coord(&self) -> Option<usize> {
        self.domain.time
    }

    /// Whether the time is the only coordinate (a system of ordinary differential
    /// equations): `initial` is then one point, and there is no boundary.
    pub fn time_only(&self) -> bool {
        self.domain.time.is_some() && self.coords.len() == 1
    }

    /// The number of training points on `initial`: `sample.initial`, or 1 in a
    /// time-only problem, whose initial time is a single point.
    pub fn initial_count(&self) -> usize {
        if self.time_only() {
            1
        } else {
            self.sample.initial
        }
    }

    /// The periodic coordinates that enter the network through harmonics
    /// (all of them under hard constraints, none under soft ones).
    pub fn embedded_periodic(&self) -> &[usize] {
        match self.model.constraints {
            Constraints::Hard => &self.periodic,
            Constraints::Soft => &[],
        }
    }

    /// The coordinates the network sees as they are: those not embedded as
    /// periodic, unless Fourier features take their place.
    pub fn plain_inputs(&self) -> Vec<usize> {
        if self.model.features.is_some() {
            return Vec::new();
        }
        self.fourier_inputs()
    }

    /// The coordinates Fourier features are drawn over: every coordinate not
    /// embedded as periodic.
    pub fn fourier_inputs(&self) -> Vec<usize> {
        let periodic = self.embedded_periodic();
        (0..self.coords.len())
            .filter(|i| !periodic.contains(i))
            .collect()
    }

    /// Width of the input layer of field `k`'s network: that of
    /// [`Self::n_network_inputs`] restricted to the field's coordinates (features
    /// that would be constant dropped; the coordinates as they are if nothing is left).
    pub fn field_network_inputs(&self, k: usize) -> usize {
        let Some(coords) = &self.fields[k].coords else {
            return self.n_network_inputs();
        };
        let count = |list: &[usize]| list.iter().filter(|i| coords.contains(i)).count();
        let fourier = if count(&self.fourier_inputs()) > 0 {
            self.model.features.map_or(0, |f| f.count)
        } else {
            0
        };
        let width = count(&self.plain_inputs())
            + 2 * self.model.harmonics * count(self.embedded_periodic())
            + 2 * fourier;
        if width == 0 {
            coords.len()
        } else {
            width
        }
    }

    /// Field `k` as declared: `u`, or `a(x)` for a field of some coordinates only.
    pub fn field_label(&self, k: usize) -> String {
        let field = &self.fields[k];
        match &field.coords {
            None => field.name.clone(),
            Some(coords) => format!(
                "{}({})",
                field.name,
                coords
                    .iter()
                    .map(|&i| self.coords[i].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Width of the networks' input layer: the plain coordinates, `2K` per
    /// embedded periodic coordinate and `2m` Fourier features.
    pub fn n_network_inputs(&self) -> usize {
        self.plain_inputs().len()
            + 2 * self.model.harmonics * self.embedded_periodic().len()
            + 2 * self.model.features.map_or(0, |f| f.count)
    }
}
