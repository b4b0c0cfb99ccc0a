//! Derivative operators → jets: `d(u, x, ...)`, the `dx`/`dtxx` shorthand,
//! `lap`, and `dn` → normal components on the boundary.

use super::lowerer::{Ctx, Def, Lowerer, State};
use crate::diagnostic::Diagnostic;
use crate::ir::expr::{ExprId, JetId, Node};
use crate::ir::names::did_you_mean;
use crate::ir::symbolic::{derivative_by, leaves};
use crate::ir::{CoordKind, Deriv, Jet};
use crate::span::Span;
use crate::syntax::ast;
use std::collections::HashMap;

/// Highest derivative order in one coordinate set (`dxxxx`).
pub const MAX_DERIVATIVE_ORDER: usize = 4;
/// Letters that name coordinates in the usual notations (`dt`, `dxy`).
const COMMON_COORDINATE_LETTERS: &str = "txyzrs";

/// What a derivative operator applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Target {
    /// A field (index into the fields).
    Field(usize),
    /// A value column of a grid data set.
    Grid { grid: usize, column: usize },
    /// Any other lowered expression, differentiated by the chain rule
    /// ([`Lowerer::coordinate_derivative`]).
    Expr(ExprId),
}

impl Lowerer<'_> {
    /// The jet of field `field` with derivative `deriv`, added once.
    pub(in crate::ir) fn jet(&mut self, field: usize, deriv: Deriv) -> JetId {
        let jet = Jet { field, deriv };
        if let Some(&id) = self.jet_index.get(&jet) {
            return id;
        }
        let id = JetId(self.jets.len() as u32);
        self.jets.push(jet.clone());
        self.jet_index.insert(jet, id);
        id
    }

    /// Derivatives are not constants and not exact-solution material.
    pub(super) fn derivative_ctx(&mut self, name: &str, span: Span, ctx: Ctx) -> Option<()> {
        if matches!(ctx, Ctx::Const(_) | Ctx::Exact | Ctx::Condition) {
            self.not_allowed(ctx, format!("the derivative operator `{name}`"), span);
            return None;
        }
        Some(())
    }

    /// True for `dx`, `dtxx`: `d` followed only by one-letter coordinates.
    pub(super) fn is_derivative_name(&self, name: &str) -> bool {
        name.strip_prefix('d').is_some_and(|letters| {
            !letters.is_empty()
                && letters.chars().all(|c| {
                    matches!(
                        self.names.get(c.to_string().as_str()).map(|b| b.def),
                        Some(Def::Coord(_))
                    )
                })
        })
    }

    /// `dx(u)`, `dtxx(u)`: `Some(result)` when `func` is such a name (every
    /// letter after `d` a coordinate, or at least one of them, which is then
    /// reported); `None` when it does not look like a derivative at all.
    pub(super) fn derivative_shorthand(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        ctx: Ctx,
    ) -> Option<Option<ExprId>> {
        let letters = func.name.strip_prefix('d')?;
        if letters.is_empty() || !letters.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let lookup: Vec<Option<usize>> = letters
            .chars()
            .map(
                |c| match self.names.get(c.to_string().as_str()).map(|b| b.def) {
                    Some(Def::Coord(i)) => Some(i),
                    _ => None,
                },
            )
            .collect();
        // `dt(u)` without a `time t` is a derivative in an undeclared
        // coordinate; `dog(u)` is just an unknown function.
        if lookup.iter().all(Option::is_none)
            && !letters
                .chars()
                .all(|c| COMMON_COORDINATE_LETTERS.contains(c))
        {
            return None;
        }
        if let Some(bad) = lookup.iter().position(Option::is_none) {
            let letter = letters.chars().nth(bad).unwrap_or('?');
            if self.rejected.contains(letter.to_string().as_str()) {
                return Some(None);
            }
            let offset = func.span.start as usize + 1 + bad;
            let coords: Vec<&str> = self.coords.iter().map(|c| c.name.as_str()).collect();
            self.error(
                Diagnostic::error(
                    "E0202",
                    format!("`{}`: `{letter}` is not a declared coordinate", func.name),
                )
                .with_label(Span::new(offset, offset + 1), "not a coordinate")
                .with_help(format!("the coordinates are {}", coords.join(", "))),
            );
            return Some(None);
        }
        if args.len() != 1 {
            self.arity(&func.name, 1, args.len(), span);
            return Some(None);
        }
        if self.derivative_ctx(&func.name, span, ctx).is_none() {
            return Some(None);
        }
        let Some(target) = self.derivative_target(&func.name, &args[0].value, ctx) else {
            return Some(None);
        };
        let mut alpha = vec![0u8; self.coords.len()];
        for i in lookup.into_iter().flatten() {
            alpha[i] = alpha[i].saturating_add(1);
        }
        Some(self.partial(target, alpha, letters.len(), span))
    }

    pub(super) fn partial(
        &mut self,
        target: Target,
        alpha: Vec<u8>,
        order: usize,
        span: Span,
    ) -> Option<ExprId> {
        if order > MAX_DERIVATIVE_ORDER {
            self.error(
                Diagnostic::error(
                    "E0208",
                    format!("derivative of order {order}; the highest supported order is {MAX_DERIVATIVE_ORDER}"),
                )
                .with_label(span, "order too high"),
            );
            return None;
        }
        let field = match target {
            Target::Field(field) => field,
            Target::Grid { grid, column } => return Some(self.grid_term(grid, column, alpha)),
            Target::Expr(expr) => {
                let mut result = expr;
                for (coord, &count) in alpha.iter().enumerate() {
                    for _ in 0..count {
                        result = self.coordinate_derivative(result, coord, span)?;
                    }
                }
                return Some(result);
            }
        };
        // `dt(a)` of `field a(x)` is identically zero.
        if alpha
            .iter()
            .enumerate()
            .any(|(i, &order)| order > 0 && !self.fields[field].depends_on(i))
        {
            return Some(self.arena.constant(0.0));
        }
        let id = self.jet(field, Deriv::Partial(alpha));
        Some(self.arena.intern(Node::Jet(id)))
    }

    /// A coordinate argument of `d(u, x1, ...)`.
    pub(super) fn derivative_coord(&mut self, expr: &ast::Expr) -> Option<usize> {
        let ast::ExprKind::Name(name) = &expr.kind else {
            if expr.kind != ast::ExprKind::Error {
                self.error(
                    Diagnostic::error("E0202", "expected a coordinate name")
                        .with_label(expr.span, "not a coordinate"),
                );
            }
            return None;
        };
        match self.names.get(name).map(|b| b.def) {
            Some(Def::Coord(i)) => Some(i),
            _ if self.rejected.contains(name) => None,
            _ => {
                let coords: Vec<&str> = self.coords.iter().map(|c| c.name.as_str()).collect();
                let mut d = Diagnostic::error(
                    "E0202",
                    format!("derivative in `{name}`, which is not a declared coordinate"),
                )
                .with_label(expr.span, "not a coordinate");
                d = match did_you_mean(name, coords.iter().copied()) {
                    Some(h) => d.with_help(h),
                    None => d.with_help(format!("the coordinates are {}", coords.join(", "))),
                };
                self.error(d);
                None
            }
        }
    }

    /// What a derivative operator applies to: a field (see [`Self::field_arg`]),
    /// or a grid column (`k`, `k.a`, `k(x, y)`).
    pub(super) fn derivative_target(
        &mut self,
        op: &str,
        expr: &ast::Expr,
        ctx: Ctx,
    ) -> Option<Target> {
        let grid_of = |name: &str| match self.names.get(name).map(|b| b.def) {
            Some(Def::Grid(grid)) => Some(grid),
            _ => None,
        };
        let (grid, column) = match &expr.kind {
            ast::ExprKind::Name(name) => match grid_of(name) {
                Some(grid) => (grid, self.grid_column(grid, name, None, expr.span, ctx)?),
                None => return self.name_target(op, name, expr, ctx),
            },
            ast::ExprKind::Member { base, member } => match grid_of(&base.name) {
                Some(grid) => (
                    grid,
                    self.grid_column(grid, &base.name, Some(member), expr.span, ctx)?,
                ),
                None => return self.expression_target(op, expr, ctx),
            },
            ast::ExprKind::Call { func, args } => match grid_of(&func.name) {
                Some(grid) => {
                    // Checks the arguments; the column is the only one.
                    self.grid_call(grid, func, args, expr.span, ctx)?;
                    (grid, 0)
                }
                None => return self.expression_target(op, expr, ctx),
            },
            ast::ExprKind::Error => return None,
            _ => return self.expression_target(op, expr, ctx),
        };
        Some(Target::Grid { grid, column })
    }

    /// A name under a derivative: a field (or a `let` that is exactly one) is
    /// differentiated as a jet; another `let`, a coordinate, a constant or a
    /// param as the expression it stands for; an unknown name is reported as
    /// an unknown field.
    fn name_target(&mut self, op: &str, name: &str, expr: &ast::Expr, ctx: Ctx) -> Option<Target> {
        match self.names.get(name).map(|b| b.def) {
            Some(Def::Field(_)) | None => self.field_arg(op, expr).map(Target::Field),
            Some(Def::Let(i)) => {
                if let State::Done(Some(id)) = self.lets[i] {
                    if let Node::Jet(jet) = self.arena.node(id) {
                        let jet = &self.jets[jet.0 as usize];
                        if jet.deriv == Deriv::Partial(vec![0; self.coords.len()]) {
                            return Some(Target::Field(jet.field));
                        }
                    }
                }
                self.expression_target(op, expr, ctx)
            }
            Some(Def::Data(_) | Def::Shape(_)) => self.field_arg(op, expr).map(Target::Field),
            Some(_) => self.expression_target(op, expr, ctx),
        }
    }

    /// An expression under a derivative, lowered where the operator stands.
    fn expression_target(&mut self, op: &str, expr: &ast::Expr, ctx: Ctx) -> Option<Target> {
        let lowered = self.lower_expr(expr, ctx)?;
        let leaves = leaves(&self.arena, &[lowered]);
        let what = if leaves.iter().any(|n| matches!(n, Node::Normal(_))) {
            Some("the outward normal (`dn`)")
        } else if leaves.iter().any(|n| matches!(n, Node::Data { .. })) {
            Some("a data column")
        } else {
            None
        };
        if let Some(what) = what {
            self.error(
                Diagnostic::error(
                    "E0209",
                    format!("`{op}` of an expression that uses {what}, which has no derivative"),
                )
                .with_label(expr.span, "not differentiable in the coordinates")
                .with_help(
                    "a derivative applies to fields, grid data, coordinates and expressions of them",
                ),
            );
            return None;
        }
        Some(Target::Expr(lowered))
    }

    /// `∂expr/∂x_coord` by the chain rule: a jet `D^α u` becomes `D^(α+e) u`
    /// (the Laplacian the sum of its third derivatives), a grid term its next
    /// derivative, a coordinate 1 or 0. Orders above the highest are reported.
    pub(super) fn coordinate_derivative(
        &mut self,
        expr: ExprId,
        coord: usize,
        span: Span,
    ) -> Option<ExprId> {
        let unit = |i: usize, n: usize| {
            let mut alpha = vec![0u8; n];
            alpha[i] = 1;
            alpha
        };
        let n = self.coords.len();
        let mut derivatives = HashMap::new();
        for leaf in leaves(&self.arena, &[expr]) {
            let d = match leaf {
                Node::Coord(i) => self.arena.constant(if i == coord { 1.0 } else { 0.0 }),
                Node::Jet(id) => {
                    let jet = self.jets[id.0 as usize].clone();
                    match jet.deriv {
                        Deriv::Partial(mut alpha) => {
                            alpha[coord] = alpha[coord].saturating_add(1);
                            let order = alpha.iter().map(|&a| a as usize).sum();
                            self.partial(Target::Field(jet.field), alpha, order, span)?
                        }
                        Deriv::Laplacian => {
                            let mut sum = self.arena.constant(0.0);
                            for i in 0..n {
                                if self.coords[i].kind != CoordKind::Space {
                                    continue;
                                }
                                let mut alpha = unit(coord, n);
                                alpha[i] += 2;
                                let term =
                                    self.partial(Target::Field(jet.field), alpha, 3, span)?;
                                sum = self.arena.add(sum, term);
                            }
                            sum
                        }
                    }
                }
                Node::Grid(id) => {
                    let term = self.grid_terms[id.0 as usize].clone();
                    let mut alpha = term.alpha;
                    alpha[coord] = alpha[coord].saturating_add(1);
                    self.grid_term(term.grid, term.column, alpha)
                }
                // Params are constants in space and time; normals and data
                // columns were rejected in `expression_target`.
                _ => self.arena.constant(0.0),
            };
            derivatives.insert(leaf, d);
        }
        let zero = self.arena.constant(0.0);
        Some(derivative_by(&mut self.arena, expr, &|leaf| {
            derivatives.get(&leaf).copied().unwrap_or(zero)
        }))
    }

    /// The field a derivative operator applies to: a field name, or a `let`
    /// that is exactly a field.
    pub(super) fn field_arg(&mut self, op: &str, expr: &ast::Expr) -> Option<usize> {
        let name = match &expr.kind {
            ast::ExprKind::Name(name) => name,
            ast::ExprKind::Error => return None,
            _ => {
                self.error(
                    Diagnostic::error(
                        "E0209",
                        format!("`{op}` applies to a field, not to an expression"),
                    )
                    .with_label(expr.span, "not a field name")
                    .with_help(
                        "expand the derivative by hand, e.g. `dx(u*v)` as `dx(u)*v + u*dx(v)`",
                    ),
                );
                return None;
            }
        };
        match self.names.get(name).map(|b| b.def) {
            Some(Def::Field(k)) => Some(k),
            Some(Def::Let(i)) => {
                if let State::Done(Some(id)) = self.lets[i] {
                    if let Node::Jet(jet) = self.arena.node(id) {
                        let jet = &self.jets[jet.0 as usize];
                        if jet.deriv == Deriv::Partial(vec![0; self.coords.len()]) {
                            return Some(jet.field);
                        }
                    }
                }
                if matches!(self.lets[i], State::Done(None)) {
                    return None;
                }
                self.error(
                    Diagnostic::error(
                        "E0209",
                        format!("`{op}` applies to a field; `{name}` is a `let` expression"),
                    )
                    .with_label(expr.span, "not a field"),
                );
                None
            }
            Some(def) => {
                self.error(
                    Diagnostic::error(
                        "E0209",
                        format!(
                            "`{op}` applies to a field; `{name}` is a {}",
                            def.kind_name()
                        ),
                    )
                    .with_label(expr.span, "not a field"),
                );
                None
            }
            None => {
                self.unknown_field(name, expr.span);
                None
            }
        }
    }

    /// `dn(u) = Σ_i n_i ∂u/∂x_i` over the spatial coordinates.
    pub(super) fn normal_derivative(
        &mut self,
        target: Target,
        span: Span,
        ctx: Ctx,
    ) -> Option<ExprId> {
        if let Ctx::Equation {
            normal_ok: false, ..
        } = ctx
        {
            self.error(
                Diagnostic::error("E0203", "`dn` is valid only on `boundary` or a face")
                    .with_label(span, "normal derivative in the interior")
                    .with_help("write this equation `on boundary`, `on boundary of` a named shape, or on a face such as `x = 0`"),
            );
            return None;
        }
        let mut sum = self.arena.constant(0.0);
        for i in 0..self.coords.len() {
            if self.coords[i].kind != CoordKind::Space || !self.target_depends_on(target, i) {
                continue;
            }
            let mut alpha = vec![0u8; self.coords.len()];
            alpha[i] = 1;
            let derivative = self.target_partial(target, alpha, span)?;
            let normal = self.arena.intern(Node::Normal(i));
            let term = self.arena.mul(normal, derivative);
            sum = self.arena.add(sum, term);
        }
        Some(sum)
    }

    /// The spatial Laplacian of a target: one summed jet channel for a field of
    /// all coordinates, else the sum of the second derivatives it has.
    pub(super) fn laplacian(&mut self, target: Target, span: Span) -> Option<ExprId> {
        if let Target::Field(field) = target {
            if self.fields[field].coords.is_none() {
                let id = self.jet(field, Deriv::Laplacian);
                return Some(self.arena.intern(Node::Jet(id)));
            }
        }
        let mut sum = self.arena.constant(0.0);
        for i in 0..self.coords.len() {
            if self.coords[i].kind != CoordKind::Space || !self.target_depends_on(target, i) {
                continue;
            }
            let mut alpha = vec![0u8; self.coords.len()];
            alpha[i] = 2;
            let term = self.target_partial(target, alpha, span)?;
            sum = self.arena.add(sum, term);
        }
        Some(sum)
    }

    /// Whether a target varies with coordinate `coord`.
    fn target_depends_on(&self, target: Target, coord: usize) -> bool {
        match target {
            Target::Field(field) => self.fields[field].depends_on(coord),
            Target::Grid { grid, .. } => self.grids[grid]
                .as_ref()
                .is_some_and(|g| g.axes.contains(&coord)),
            Target::Expr(_) => true,
        }
    }

    /// `D^α` of a target (orders up to 2 here: no order check for fields).
    fn target_partial(&mut self, target: Target, alpha: Vec<u8>, span: Span) -> Option<ExprId> {
        match target {
            Target::Field(field) => {
                let jet = self.jet(field, Deriv::Partial(alpha));
                Some(self.arena.intern(Node::Jet(jet)))
            }
            Target::Grid { grid, column } => Some(self.grid_term(grid, column, alpha)),
            Target::Expr(_) => {
                let order = alpha.iter().map(|&a| a as usize).sum();
                self.partial(target, alpha, order, span)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::display::{display_expr, display_jet};
    use crate::ir::testing::*;
    use crate::ir::Shape;
    use crate::syntax::ast;

    #[test]
    fn dn_expands_on_the_boundary_and_is_rejected_inside() {
        let p = ok(vec![
            space("x", 0.0, 1.0),
            space("y", 0.0, 1.0),
            fields(&["u"]),
            equation("-lap(u)", "1", "interior"),
            equation("dn(u)", "0", "boundary"),
            equation("dn(u) + u", "0", "x = 1"),
        ]);
        assert_eq!(
            display_expr(&p, p.blocks[1].residual),
            "n_x*dx(u) + n_y*dy(u)"
        );
        let lin = linearization(&p, 1);
        assert_eq!(
            lin,
            vec![
                ("dx(u)".to_string(), "n_x".to_string()),
                ("dy(u)".to_string(), "n_y".to_string())
            ]
        );
        assert!(p.blocks[1].linear);
        assert_eq!(display_jet(&p, p.blocks[0].jets[0]), "lap(u)");
        assert_eq!(
            codes(vec![
                space("x", 0.0, 1.0),
                fields(&["u"]),
                equation("dn(u)", "0", "interior"),
            ]),
            vec!["E0203"]
        );
    }

    #[test]
    fn derivatives_of_expressions_follow_the_chain_rule() {
        let p = ok(vec![
            space("x", 0.0, 1.0),
            space("y", 0.0, 1.0),
            fields(&["u", "v"]),
            konst("c", "3"),
            item(ast::ItemKind::Let {
                name: ident("flux"),
                value: expr("c*x*dx(u)"),
            }),
            equation("dx(flux) + dy(u*v)", "0", "interior"),
            equation("lap(u^2) + dxy(sin(u)) + dx(x*y + c)", "0", "interior"),
            equation("dn(u*v)", "0", "boundary"),
        ]);
        let residual = |b: usize| display_expr(&p, p.blocks[b].residual);
        assert_eq!(residual(0), "3*(dx(u) + x*dxx(u)) + dy(u)*v + u*dy(v)");
        assert_eq!(
            residual(1),
            "2*(dx(u)^2 + u*dxx(u)) + 2*(dy(u)^2 + u*dyy(u)) + cos(u)*dxy(u) - \
             sin(u)*dy(u)*dx(u) + y"
        );
        assert_eq!(
            residual(2),
            "n_x*(dx(u)*v + u*dx(v)) + n_y*(dy(u)*v + u*dy(v))"
        );
        // The order limit holds after the chain rule: dxx(dxx(dx(u))) is order 5.
        assert_eq!(
            codes(vec![
                space("x", 0.0, 1.0),
                fields(&["u"]),
                equation("dxx(dxx(dx(u)*u))", "0", "interior"),
            ]),
            vec!["E0208"]
        );
        // The Laplacian jet differentiates into third derivatives.
        let p = ok(vec![
            space("x", 0.0, 1.0),
            space("y", 0.0, 1.0),
            fields(&["u"]),
            equation("dx(lap(u))", "0", "interior"),
        ]);
        assert_eq!(display_expr(&p, p.blocks[0].residual), "dxxx(u) + dxyy(u)");
    }

    #[test]
    fn long_coordinate_names_use_the_d_form() {
        let p = ok(vec![
            space("x1", 0.0, 1.0),
            space("x2", 0.0, 1.0),
            fields(&["u"]),
            equation("d(u, x1, x1) + d(u, x2, x2, x1)", "0", "interior"),
        ]);
        let jets: Vec<String> = p.blocks[0]
            .jets
            .iter()
            .map(|&j| display_jet(&p, j))
            .collect();
        assert_eq!(jets, vec!["d(u, x1, x1)", "d(u, x1, x2, x2)"]);
        assert_eq!(p.blocks[0].order, 3);
        assert_eq!(
            p.domain.factors[0].shape,
            Shape::Box(vec![(0.0, 1.0), (0.0, 1.0)])
        );
    }
}
