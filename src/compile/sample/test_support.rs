//! Builders and checks shared by the sampling tests.

use crate::compile::points::BlockPoints;
use crate::compile::sample::shape::{bounding_box, contains, contains_strictly, signed_distance};
use crate::ir::{
    Coord, CoordKind, Domain, DomainFactor, ExprArena, ModelConfig, Problem, Region, ResidualBlock,
    SampleConfig, Shape, SolveSettings,
};
use crate::span::Span;

/// A problem over `coords` (name, kind, lo, hi) with one block per region.
pub(super) fn problem(
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
        grids: Vec::new(),
        grid_terms: Vec::new(),
        periodic: Vec::new(),
        jets: Vec::new(),
        exprs,
        blocks,
        exact: Vec::new(),
        model: ModelConfig::default(),
        sample,
        solve: SolveSettings::default(),
        ansatz: Vec::new(),
        soft_conditions: Vec::new(),
    }
}

pub(super) const X: (&str, CoordKind, f64, f64) = ("x", CoordKind::Space, 0.0, 1.0);
pub(super) const T: (&str, CoordKind, f64, f64) = ("t", CoordKind::Time, 0.0, 2.0);

pub(super) fn factor(coords: &[usize], shape: Shape) -> DomainFactor {
    DomainFactor {
        coords: coords.to_vec(),
        shape,
    }
}

pub(super) fn disk(cx: f64, cy: f64, r: f64) -> Shape {
    Shape::Ball {
        center: vec![cx, cy],
        radius: r,
    }
}

pub(super) fn rect(x: (f64, f64), y: (f64, f64)) -> Shape {
    Shape::Box(vec![x, y])
}

pub(super) fn rows(points: &[f64], n_coords: usize) -> Vec<&[f64]> {
    points.chunks(n_coords).collect()
}

pub(super) fn config(interior: usize, boundary: usize) -> SampleConfig {
    SampleConfig {
        interior,
        boundary,
        ..SampleConfig::default()
    }
}

/// Boundary points of `shape` (over the first coordinates) lie on it to
/// 1e-12, with unit outward normals: a step of 1e-6 along the normal
/// leaves the closed shape, a step against it enters the open shape.
pub(super) fn assert_on_boundary_with_outward_normals(
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

pub(super) fn csg_shapes() -> Vec<(&'static str, Shape)> {
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

/// Binomial bound: `count` of `n` draws with probability `p` lies within four
/// standard deviations of `n p`.
pub(super) fn assert_binomial(count: usize, n: usize, p: f64, what: &str) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (count as f64 - mean).abs() <= 4.0 * sd,
        "{what}: {count} of {n}, expected {mean:.1} ± {:.1}",
        4.0 * sd
    );
}
