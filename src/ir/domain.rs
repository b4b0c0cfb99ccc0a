//! Interpreting `space`, `time` and `shape` declarations: intervals, `disk`,
//! `ball`, `box`, named shapes and their `+ - &` combinations, into
//! [`Domain`](super::Domain) factors and coordinate bounds.

use super::lower::{self_reference, used_before_definition, Def, Lowerer, State};
use super::names::did_you_mean;
use super::{DomainFactor, Shape};
use crate::diagnostic::Diagnostic;
use crate::syntax::ast;

const SHAPES: [&str; 3] = ["disk", "ball", "box"];

impl Lowerer<'_> {
    /// `space x in [a, b]` or `space (x, y) in <shape>`.
    pub(super) fn space(&mut self, coords: &[ast::Ident], domain: &ast::Expr) {
        // Indices of the coordinates this item declared (duplicates were rejected).
        let indices: Vec<Option<usize>> = coords
            .iter()
            .map(|c| match self.names.get(&c.name) {
                Some(b) if b.span == c.span => match b.def {
                    Def::Coord(i) => Some(i),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if coords.len() == 1 {
            if let ast::ExprKind::List(_) = domain.kind {
                let Some((lo, hi)) = self.interval(domain) else {
                    return;
                };
                if let Some(i) = indices[0] {
                    self.coords[i].lo = lo;
                    self.coords[i].hi = hi;
                    self.coord_info[i].interval = true;
                    self.coord_info[i].ok = true;
                }
                return;
            }
        }
        self.shape_parts.clear();
        let Some(shape) = self.shape(domain, coords.len()) else {
            return;
        };
        let mut parts = std::mem::take(&mut self.shape_parts);
        parts.sort_unstable();
        parts.dedup();
        let Some(bbox) = bounding_box(&shape) else {
            self.error(
                Diagnostic::error("E0220", "the domain is empty")
                    .with_label(domain.span, "this intersection has no points"),
            );
            return;
        };
        if indices.iter().any(Option::is_none) {
            return;
        }
        let indices: Vec<usize> = indices.into_iter().flatten().collect();
        for part in parts {
            self.shapes[part].domains.push(indices.clone());
        }
        for (&i, &(lo, hi)) in indices.iter().zip(&bbox) {
            self.coords[i].lo = lo;
            self.coords[i].hi = hi;
            self.coord_info[i].ok = true;
        }
        self.domain.factors.push(DomainFactor {
            coords: indices,
            shape,
        });
    }

    /// `shape name = <shape>`: lowered once, in source order (a shape may use
    /// earlier ones); its dimension is that of its first primitive.
    pub(super) fn shape_item(&mut self, name: &ast::Ident, value: &ast::Expr) {
        let Some(binding) = self.names.get(&name.name).copied() else {
            return;
        };
        let Def::Shape(index) = binding.def else {
            return;
        };
        if binding.span != name.span {
            return;
        }
        self.shapes[index].state = State::Active;
        self.shape_parts.clear();
        let dim = self.guess_dimension(value).unwrap_or(2);
        let shape = self.shape(value, dim);
        let mut parts = std::mem::take(&mut self.shape_parts);
        parts.push(index);
        parts.sort_unstable();
        parts.dedup();
        self.shapes[index].parts = parts;
        self.shapes[index].state = State::Done(shape);
    }

    /// The dimension a shape expression declares by its first primitive whose
    /// dimension is written (`disk`: 2, `box`: its intervals, `ball`: its
    /// centre, an interval: 1, a named shape: its own). `None` when nothing
    /// says; the expression is then malformed, which `shape` reports.
    fn guess_dimension(&self, expr: &ast::Expr) -> Option<usize> {
        match &expr.kind {
            ast::ExprKind::Binary { lhs, rhs, .. } => self
                .guess_dimension(lhs)
                .or_else(|| self.guess_dimension(rhs)),
            ast::ExprKind::List(_) => Some(1),
            ast::ExprKind::Call { func, args } => match func.name.as_str() {
                "disk" => Some(2),
                "box" => Some(args.len()).filter(|&n| n > 0),
                "ball" => args.first().map(|centre| match &centre.value.kind {
                    ast::ExprKind::Tuple(items) => items.len(),
                    _ => 1,
                }),
                _ => None,
            },
            ast::ExprKind::Name(name) => match self.names.get(name).map(|b| b.def) {
                Some(Def::Shape(i)) => match &self.shapes[i].state {
                    State::Done(Some(shape)) => Some(dimension(shape)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// A named shape where a shape of dimension `dim` stands.
    fn named_shape(&mut self, name: &str, span: crate::span::Span, dim: usize) -> Option<Shape> {
        let binding = match self.names.get(name).copied() {
            Some(binding) => binding,
            None if self.rejected.contains(name) => return None,
            None => {
                let mut d = Diagnostic::error("E0218", format!("unknown shape `{name}`"))
                    .with_label(span, "not a declared shape");
                let shape_names = self.shape_names();
                d = match did_you_mean(name, shape_names.iter().map(String::as_str)) {
                    Some(h) => d.with_help(h),
                    None => d.with_help(format!(
                        "declare it first, e.g. `shape {name} = disk((0, 0), 1)`"
                    )),
                };
                self.error(d);
                return None;
            }
        };
        let Def::Shape(index) = binding.def else {
            self.error(
                Diagnostic::error(
                    "E0218",
                    format!("`{name}` is a {}, not a shape", binding.def.kind_name()),
                )
                .with_label(span, "not a shape")
                .with_help("e.g. `[0, 1]`, `disk((0, 0), 1)`, or a name declared by `shape`"),
            );
            return None;
        };
        match &self.shapes[index].state {
            State::Done(None) => None,
            State::Done(Some(shape)) => {
                let shape = shape.clone();
                let own = dimension(&shape);
                if own != dim {
                    self.error(
                        Diagnostic::error(
                            "E0219",
                            format!("`{name}` is {own}-dimensional, but {dim} coordinate(s) are declared"),
                        )
                        .with_label(span, "dimension mismatch")
                        .with_label(binding.span, format!("`{name}` declared here")),
                    );
                    return None;
                }
                let parts = self.shapes[index].parts.clone();
                self.shape_parts.extend(parts);
                Some(shape)
            }
            State::Active => {
                self.error(self_reference(name, span));
                None
            }
            State::Pending => {
                let subject = format!("the shape `{name}`");
                self.error(used_before_definition(
                    &subject,
                    "shape",
                    span,
                    binding.span,
                ));
                None
            }
        }
    }

    /// The names declared by `shape`, sorted.
    pub(super) fn shape_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .names
            .iter()
            .filter(|(_, b)| matches!(b.def, Def::Shape(_)))
            .map(|(n, _)| n.clone())
            .collect();
        names.sort_unstable();
        names
    }

    /// `time t in [t0, t1]`.
    pub(super) fn time(&mut self, coord: &ast::Ident, interval: &ast::Expr) {
        let Some(i) = self.domain.time else { return };
        if self.coords[i].span != coord.span {
            return;
        }
        if let Some((lo, hi)) = self.interval(interval) {
            self.coords[i].lo = lo;
            self.coords[i].hi = hi;
            self.coord_info[i].interval = true;
            self.coord_info[i].ok = true;
        }
    }

    /// Gathers every interval space coordinate into one box factor, placed
    /// first (a product of intervals is a box).
    pub(super) fn finish_domain(&mut self) {
        let interval_coords: Vec<usize> = (0..self.coords.len())
            .filter(|&i| {
                self.coords[i].kind == super::CoordKind::Space
                    && self.coord_info[i].interval
                    && self.coord_info[i].ok
            })
            .collect();
        if interval_coords.is_empty() {
            return;
        }
        let bounds = interval_coords
            .iter()
            .map(|&i| (self.coords[i].lo, self.coords[i].hi))
            .collect();
        self.domain.factors.insert(
            0,
            DomainFactor {
                coords: interval_coords,
                shape: Shape::Box(bounds),
            },
        );
    }

    /// `[a, b]` with constant `a < b`.
    pub(super) fn interval(&mut self, expr: &ast::Expr) -> Option<(f64, f64)> {
        let ast::ExprKind::List(items) = &expr.kind else {
            if expr.kind != ast::ExprKind::Error {
                self.error(
                    Diagnostic::error("E0218", "expected an interval `[a, b]`")
                        .with_label(expr.span, "not an interval"),
                );
            }
            return None;
        };
        if items.len() != 2 {
            self.error(
                Diagnostic::error(
                    "E0218",
                    format!("an interval has two ends, found {}", items.len()),
                )
                .with_label(expr.span, "expected `[a, b]`"),
            );
            return None;
        }
        let lo = self.const_value(&items[0], "a domain bound");
        let hi = self.const_value(&items[1], "a domain bound");
        let (lo, hi) = (lo?, hi?);
        if lo >= hi {
            self.error(
                Diagnostic::error(
                    "E0220",
                    format!(
                        "the interval [{}, {}] is empty",
                        super::display::display_number(lo),
                        super::display::display_number(hi)
                    ),
                )
                .with_label(expr.span, "lower end not below upper end")
                .with_help("write the smaller end first"),
            );
            return None;
        }
        Some((lo, hi))
    }

    /// A shape of dimension `dim`.
    pub(super) fn shape(&mut self, expr: &ast::Expr, dim: usize) -> Option<Shape> {
        match &expr.kind {
            ast::ExprKind::Binary { op, lhs, rhs } => {
                let a = self.shape(lhs, dim);
                let b = self.shape(rhs, dim);
                let (a, b) = (Box::new(a?), Box::new(b?));
                match op {
                    ast::BinOp::Add => Some(Shape::Union(a, b)),
                    ast::BinOp::Sub => Some(Shape::Difference(a, b)),
                    ast::BinOp::And => Some(Shape::Intersection(a, b)),
                    _ => {
                        self.error(
                            Diagnostic::error("E0218", "shapes combine only with `+`, `-` and `&`")
                                .with_label(expr.span, "not a shape operation"),
                        );
                        None
                    }
                }
            }
            ast::ExprKind::List(_) if dim == 1 => {
                let (lo, hi) = self.interval(expr)?;
                Some(Shape::Box(vec![(lo, hi)]))
            }
            ast::ExprKind::List(_) => {
                self.error(
                    Diagnostic::error(
                        "E0219",
                        format!("an interval is 1-dimensional, but {dim} coordinates are declared"),
                    )
                    .with_label(expr.span, "one interval")
                    .with_help("use `box([a1, b1], [a2, b2], ...)`"),
                );
                None
            }
            ast::ExprKind::Call { func, args } => self.shape_call(func, args, expr, dim),
            ast::ExprKind::Name(name) => self.named_shape(name, expr.span, dim),
            ast::ExprKind::Error => None,
            _ => {
                self.error(
                    Diagnostic::error("E0218", "expected a domain: an interval or a shape")
                        .with_label(expr.span, "not a shape")
                        .with_help("e.g. `[0, 1]`, `disk((0, 0), 1)`, `box([0, 1], [0, 2])`"),
                );
                None
            }
        }
    }

    fn shape_call(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Arg],
        expr: &ast::Expr,
        dim: usize,
    ) -> Option<Shape> {
        let name = func.name.as_str();
        if !SHAPES.contains(&name) {
            let mut d = Diagnostic::error("E0218", format!("unknown shape `{name}`"))
                .with_label(func.span, "not a shape");
            d = match did_you_mean(name, SHAPES) {
                Some(h) => d.with_help(h),
                None => d.with_help("shapes are `disk`, `ball` and `box`"),
            };
            self.error(d);
            return None;
        }
        if let Some(n) = args.iter().find_map(|a| a.name.as_ref()) {
            self.error(
                Diagnostic::error("E0206", format!("`{name}` takes no named arguments"))
                    .with_label(n.span, "unexpected name"),
            );
            return None;
        }
        if name == "box" {
            if args.len() != dim {
                self.error(
                    Diagnostic::error(
                        "E0219",
                        format!(
                            "`box` has {} intervals, but {dim} coordinates are declared",
                            args.len()
                        ),
                    )
                    .with_label(expr.span, "dimension mismatch"),
                );
                return None;
            }
            let mut bounds = Vec::new();
            let mut ok = true;
            for arg in args {
                match self.interval(&arg.value) {
                    Some(b) => bounds.push(b),
                    None => ok = false,
                }
            }
            return ok.then_some(Shape::Box(bounds));
        }
        if name == "disk" && dim != 2 {
            self.error(
                Diagnostic::error(
                    "E0219",
                    format!("`disk` is 2-dimensional, but {dim} coordinate(s) are declared"),
                )
                .with_label(func.span, "dimension mismatch")
                .with_help("use `ball((c1, ..., cd), r)` in other dimensions"),
            );
            return None;
        }
        if args.len() != 2 {
            self.error(
                Diagnostic::error(
                    "E0207",
                    format!(
                        "`{name}` takes a centre and a radius, found {} argument(s)",
                        args.len()
                    ),
                )
                .with_label(expr.span, "wrong number of arguments")
                .with_help(format!("e.g. `{name}((0, 0), 1)`")),
            );
            return None;
        }
        let center = self.point(&args[0].value, dim);
        let radius = self.const_value(&args[1].value, "a radius");
        let (center, radius) = (center?, radius?);
        if radius <= 0.0 {
            self.error(
                Diagnostic::error("E0220", format!("radius {radius} is not positive"))
                    .with_label(args[1].value.span, "must be > 0"),
            );
            return None;
        }
        Some(Shape::Ball { center, radius })
    }

    /// A point `(c1, ..., cd)` (a plain number in one dimension).
    fn point(&mut self, expr: &ast::Expr, dim: usize) -> Option<Vec<f64>> {
        let items: Vec<&ast::Expr> = match &expr.kind {
            ast::ExprKind::Tuple(items) => items.iter().collect(),
            ast::ExprKind::Error => return None,
            _ if dim == 1 => vec![expr],
            _ => {
                self.error(
                    Diagnostic::error("E0218", format!("expected a point with {dim} coordinates"))
                        .with_label(expr.span, "not a point")
                        .with_help("write the centre as `(c1, c2, ...)`"),
                );
                return None;
            }
        };
        if items.len() != dim {
            self.error(
                Diagnostic::error(
                    "E0219",
                    format!(
                        "the centre has {} coordinates, but the shape is {dim}-dimensional",
                        items.len()
                    ),
                )
                .with_label(expr.span, "dimension mismatch"),
            );
            return None;
        }
        let values: Vec<Option<f64>> = items
            .iter()
            .map(|e| self.const_value(e, "a shape's centre"))
            .collect();
        values.into_iter().collect()
    }
}

impl Shape {
    /// A signed distance bound: negative inside, zero on the boundary, positive
    /// outside. Exact for balls and for points inside a box; CSG combines its
    /// operands by `min` (union), `max` (intersection) and `max(a, -b)`
    /// (difference), whose sign is exact and whose magnitude bounds the distance.
    pub fn signed_distance(&self, x: &[f64]) -> f64 {
        match self {
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
            Shape::Union(a, b) => a.signed_distance(x).min(b.signed_distance(x)),
            Shape::Intersection(a, b) => a.signed_distance(x).max(b.signed_distance(x)),
            Shape::Difference(a, b) => a.signed_distance(x).max(-b.signed_distance(x)),
        }
    }

    /// The primitives (boxes and balls) of a shape, depth first.
    pub fn primitives(&self) -> Vec<&Shape> {
        match self {
            Shape::Box(_) | Shape::Ball { .. } => vec![self],
            Shape::Union(a, b) | Shape::Difference(a, b) | Shape::Intersection(a, b) => {
                let mut out = a.primitives();
                out.extend(b.primitives());
                out
            }
        }
    }
}

/// The number of coordinates of a (well-formed) shape.
pub(super) fn dimension(shape: &Shape) -> usize {
    match shape {
        Shape::Box(bounds) => bounds.len(),
        Shape::Ball { center, .. } => center.len(),
        Shape::Union(a, _) | Shape::Difference(a, _) | Shape::Intersection(a, _) => dimension(a),
    }
}

/// The axis-aligned bounding box of a shape, `None` when it is empty.
fn bounding_box(shape: &Shape) -> Option<Vec<(f64, f64)>> {
    match shape {
        Shape::Box(b) => Some(b.clone()),
        Shape::Ball { center, radius } => {
            Some(center.iter().map(|&c| (c - radius, c + radius)).collect())
        }
        Shape::Union(a, b) => match (bounding_box(a), bounding_box(b)) {
            (Some(a), Some(b)) => Some(
                a.iter()
                    .zip(&b)
                    .map(|(&(l1, h1), &(l2, h2))| (l1.min(l2), h1.max(h2)))
                    .collect(),
            ),
            (a, None) => a,
            (None, b) => b,
        },
        Shape::Intersection(a, b) => {
            let (a, b) = (bounding_box(a)?, bounding_box(b)?);
            let clipped: Vec<(f64, f64)> = a
                .iter()
                .zip(&b)
                .map(|(&(l1, h1), &(l2, h2))| (l1.max(l2), h1.min(h2)))
                .collect();
            clipped.iter().all(|(l, h)| l < h).then_some(clipped)
        }
        Shape::Difference(a, _) => bounding_box(a),
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::testing::*;
    use crate::syntax::ast;

    #[test]
    fn shapes_give_factors_and_bounding_boxes() {
        let p = ok(vec![
            item(ast::ItemKind::Space {
                coords: vec![ident("x"), ident("y")],
                domain: expr("disk((0, 0), 1) - box([0, 1], [0, 1]) + disk((2, 0), 0.5)"),
            }),
            fields(&["u"]),
            equation("lap(u)", "0", "interior"),
            equation("u", "0", "boundary"),
        ]);
        assert_eq!(p.domain.factors.len(), 1);
        assert_eq!(p.domain.factors[0].coords, vec![0, 1]);
        assert_eq!((p.coords[0].lo, p.coords[0].hi), (-1.0, 2.5));
        assert_eq!((p.coords[1].lo, p.coords[1].hi), (-1.0, 1.0));
        let errors = codes(vec![
            item(ast::ItemKind::Space {
                coords: vec![ident("x"), ident("y"), ident("z")],
                domain: expr("disk((0, 0), 1)"),
            }),
            fields(&["u"]),
            equation("u", "0", "interior"),
        ]);
        assert_eq!(errors, vec!["E0219"]);
        // A face of a disk coordinate is an error.
        let errors = codes(vec![
            item(ast::ItemKind::Space {
                coords: vec![ident("x"), ident("y")],
                domain: expr("disk((0, 0), 1)"),
            }),
            fields(&["u"]),
            equation("u", "0", "interior"),
            equation("u", "0", "x = 1"),
        ]);
        assert_eq!(errors, vec!["E0215"]);
    }
}
