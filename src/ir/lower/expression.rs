//! Expressions: constant folding, operators, member access (`obs.u`) and
//! calls (builtin functions and derivative operators).

use super::lowerer::{Ctx, Def, Lowerer};
use super::resolve::{BUILTIN_FUNCTIONS, OPERATORS};
use crate::diagnostic::Diagnostic;
use crate::ir::expr::{BinaryOp, Compare, ExprId, Func, Node};
use crate::ir::names::did_you_mean;
use crate::ir::symbolic::eval_const;
use crate::span::Span;
use crate::syntax::ast;

impl Lowerer<'_> {
    /// Folds a constant expression; reports what makes it non-constant.
    pub(in crate::ir) fn const_value(
        &mut self,
        expr: &ast::Expr,
        purpose: &'static str,
    ) -> Option<f64> {
        let id = self.lower_expr(expr, Ctx::Const(purpose))?;
        match eval_const(&self.arena, id) {
            Some(v) if v.is_finite() => Some(v),
            _ => {
                self.error(
                    Diagnostic::error("E0205", "this expression is not finite")
                        .with_label(expr.span, "evaluates to infinity or NaN"),
                );
                None
            }
        }
    }

    /// Lowers an expression (see the module doc for the `None` convention).
    pub(in crate::ir) fn lower_expr(&mut self, expr: &ast::Expr, ctx: Ctx) -> Option<ExprId> {
        match &expr.kind {
            ast::ExprKind::Number { value, text } => {
                if value.is_finite() {
                    Some(self.arena.constant(*value))
                } else {
                    self.error(
                        Diagnostic::error("E0205", format!("the number `{text}` is not finite"))
                            .with_label(expr.span, "too large for a 64-bit float"),
                    );
                    None
                }
            }
            ast::ExprKind::Name(name) => self.lower_name(name, expr.span, ctx),
            ast::ExprKind::Neg(inner) => {
                let a = self.lower_expr(inner, ctx)?;
                Some(self.arena.neg(a))
            }
            ast::ExprKind::Binary { op, lhs, rhs } => {
                let a = self.lower_expr(lhs, ctx);
                let b = self.lower_expr(rhs, ctx);
                if op.is_comparison() {
                    if a.is_some() && b.is_some() {
                        self.comparison_as_value(expr.span);
                    }
                    return None;
                }
                let op = match op {
                    ast::BinOp::Add => BinaryOp::Add,
                    ast::BinOp::Sub => BinaryOp::Sub,
                    ast::BinOp::Mul => BinaryOp::Mul,
                    ast::BinOp::Div => BinaryOp::Div,
                    ast::BinOp::Pow => BinaryOp::Pow,
                    ast::BinOp::Less
                    | ast::BinOp::LessEq
                    | ast::BinOp::Greater
                    | ast::BinOp::GreaterEq => unreachable!("comparisons are handled above"),
                    ast::BinOp::And => {
                        if a.is_some() && b.is_some() {
                            self.error(
                                Diagnostic::error(
                                    "E0212",
                                    "`&` intersects shapes; it is not arithmetic",
                                )
                                .with_label(expr.span, "not a number")
                                .with_help("use `*` to multiply"),
                            );
                        }
                        return None;
                    }
                };
                let (a, b) = (a?, b?);
                if let (Some(x), Some(y)) = (self.arena.as_const(a), self.arena.as_const(b)) {
                    let value = match op {
                        BinaryOp::Add => x + y,
                        BinaryOp::Sub => x - y,
                        BinaryOp::Mul => x * y,
                        BinaryOp::Div => x / y,
                        BinaryOp::Pow => x.powf(y),
                    };
                    if !value.is_finite() {
                        self.error(
                            Diagnostic::error(
                                "E0205",
                                "this expression is not finite at compile time",
                            )
                            .with_label(expr.span, format!("evaluates to {value}")),
                        );
                        return None;
                    }
                }
                Some(self.arena.binary(op, a, b))
            }
            ast::ExprKind::Call { func, args } => self.lower_call(func, args, expr.span, ctx),
            ast::ExprKind::List(_) | ast::ExprKind::Tuple(_) => {
                self.error(
                    Diagnostic::error("E0212", "a list or point is not a number")
                        .with_label(expr.span, "expected a number or an expression"),
                );
                None
            }
            ast::ExprKind::Member { base, member } => self.lower_member(base, member, ctx),
            ast::ExprKind::Error => None,
        }
    }

    pub(super) fn lower_member(
        &mut self,
        base: &ast::Ident,
        member: &ast::Ident,
        ctx: Ctx,
    ) -> Option<ExprId> {
        let set = match self.names.get(&base.name).map(|b| b.def) {
            Some(Def::Data(set)) => set,
            Some(Def::Grid(grid)) => {
                let span = base.span.to(member.span);
                return self.grid_value(grid, &base.name, Some(member), span, ctx);
            }
            Some(def) => {
                self.error(
                    Diagnostic::error(
                        "E0211",
                        format!("`{}` is a {}, not a data set", base.name, def.kind_name()),
                    )
                    .with_label(base.span, "not a data set"),
                );
                return None;
            }
            None => {
                self.unknown_name(&base.name, base.span);
                return None;
            }
        };
        let span = base.span.to(member.span);
        match ctx {
            Ctx::Const(_) | Ctx::Exact | Ctx::Condition => {
                self.not_allowed(
                    ctx,
                    format!("the data column `{}.{}`", base.name, member.name),
                    span,
                );
                return None;
            }
            Ctx::Equation { data, .. } if data != Some(set) => {
                self.error(
                    Diagnostic::error(
                        "E0210",
                        format!(
                            "`{}.{}` is available only in equations `on {}`",
                            base.name, member.name, base.name
                        ),
                    )
                    .with_label(span, "data column outside its data set")
                    .with_help(self.data_column_help(&base.name, &member.name)),
                );
                return None;
            }
            _ => {}
        }
        // A data set that failed to load was already reported.
        let columns = self.data.get(set)?.as_ref()?.columns.clone();
        match columns.iter().position(|c| *c == member.name) {
            Some(column) => Some(self.arena.intern(Node::Data { set, column })),
            None => {
                let mut d = Diagnostic::error(
                    "E0211",
                    format!("data set `{}` has no column `{}`", base.name, member.name),
                )
                .with_label(member.span, "no such column");
                d = match did_you_mean(&member.name, columns.iter().map(String::as_str)) {
                    Some(h) => d.with_help(h),
                    None => d.with_help(format!("its columns are {}", columns.join(", "))),
                };
                self.error(d);
                None
            }
        }
    }

    /// What to write instead of a data column outside its data set: the field (or
    /// coordinate) it holds values of, fitted to the column by an equation `on` the set.
    fn data_column_help(&self, set: &str, column: &str) -> String {
        match self.names.get(column).map(|b| b.def) {
            Some(Def::Field(_)) => format!(
                "a column has values only at its rows; write the field `{column}` here and fit it \
                 to the data with `{column} = {set}.{column} on {set}` (a coefficient known on a \
                 grid is read with `data NAME from \"FILE\" as grid` and usable anywhere)"
            ),
            Some(Def::Coord(_)) => format!("write the coordinate `{column}` itself"),
            _ => format!("write this equation `on {set}`"),
        }
    }

    pub(super) fn lower_call(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        ctx: Ctx,
    ) -> Option<ExprId> {
        let name = func.name.as_str();
        if let Some(binding) = self.names.get(name).copied() {
            if let Def::Grid(grid) = binding.def {
                return self.grid_call(grid, func, args, span, ctx);
            }
            self.error(
                Diagnostic::error(
                    "E0107",
                    format!("`{name}` is a {}, not a function", binding.def.kind_name()),
                )
                .with_label(func.span, "called here")
                .with_help(format!("to multiply, write `{name}*(...)`")),
            );
            return None;
        }
        for arg in args {
            if let Some(n) = &arg.name {
                self.error(
                    Diagnostic::error("E0206", format!("`{name}` takes no named arguments"))
                        .with_label(n.span, "unexpected name"),
                );
                return None;
            }
        }
        match name {
            "min" | "max" => {
                if args.len() != 2 {
                    self.arity(name, 2, args.len(), span);
                    return None;
                }
                let a = self.lower_expr(&args[0].value, ctx);
                let b = self.lower_expr(&args[1].value, ctx);
                let (a, b) = (a?, b?);
                return Some(if name == "min" {
                    self.arena.min(a, b)
                } else {
                    self.arena.max(a, b)
                });
            }
            "if" => return self.lower_if(args, span, ctx),
            _ => {}
        }
        if let Some(f) = Func::from_name(name) {
            if args.len() != 1 {
                self.arity(name, 1, args.len(), span);
                return None;
            }
            let a = self.lower_expr(&args[0].value, ctx)?;
            if let Some(x) = self.arena.as_const(a) {
                let value = f.apply(x);
                if !value.is_finite() {
                    self.error(
                        Diagnostic::error("E0205", "this expression is not finite at compile time")
                            .with_label(span, format!("evaluates to {value}")),
                    );
                    return None;
                }
            }
            return Some(self.arena.unary(f, a));
        }
        match name {
            "lap" | "dn" => {
                if args.len() != 1 {
                    self.arity(name, 1, args.len(), span);
                    return None;
                }
                self.derivative_ctx(name, span, ctx)?;
                let target = self.derivative_target(name, &args[0].value, ctx)?;
                if self.time_only() {
                    self.needs_space(name, span);
                    return None;
                }
                if name == "lap" {
                    self.laplacian(target, span)
                } else {
                    self.normal_derivative(target, span, ctx)
                }
            }
            "d" => {
                if args.len() < 2 {
                    self.error(
                        Diagnostic::error("E0207", "`d` takes a field and at least one coordinate")
                            .with_label(span, format!("{} argument(s)", args.len()))
                            .with_help("e.g. `d(u, x1, x1)`"),
                    );
                    return None;
                }
                let mut alpha = vec![0u8; self.coords.len()];
                let mut ok = true;
                for arg in &args[1..] {
                    match self.derivative_coord(&arg.value) {
                        Some(i) => alpha[i] = alpha[i].saturating_add(1),
                        None => ok = false,
                    }
                }
                self.derivative_ctx(name, span, ctx)?;
                let target = self.derivative_target(name, &args[0].value, ctx)?;
                if !ok {
                    return None;
                }
                self.partial(target, alpha, args.len() - 1, span)
            }
            _ => {
                if let Some(result) = self.derivative_shorthand(func, args, span, ctx) {
                    return result;
                }
                let mut d = Diagnostic::error("E0102", format!("unknown function `{name}`"))
                    .with_label(func.span, "not a function");
                let mut candidates: Vec<&str> = BUILTIN_FUNCTIONS.to_vec();
                candidates.extend(OPERATORS);
                if let Some(help) = did_you_mean(name, candidates) {
                    d = d.with_help(help);
                }
                self.error(d);
                None
            }
        }
    }

    pub(super) fn arity(&mut self, name: &str, expected: usize, found: usize, span: Span) {
        let plural = if expected == 1 { "" } else { "s" };
        self.error(
            Diagnostic::error(
                "E0207",
                format!("`{name}` takes {expected} argument{plural}, found {found}"),
            )
            .with_label(span, "wrong number of arguments"),
        );
    }

    /// `if(left ⋈ right, then, otherwise)`.
    fn lower_if(&mut self, args: &[ast::Arg], span: Span, ctx: Ctx) -> Option<ExprId> {
        if args.len() != 3 {
            self.error(
                Diagnostic::error(
                    "E0207",
                    format!("`if` takes 3 arguments, found {}", args.len()),
                )
                .with_label(span, "wrong number of arguments")
                .with_help("write `if(condition, value if true, value if false)`, e.g. `if(x < 0.5, 1, 0)`"),
            );
            return None;
        }
        let condition = &args[0].value;
        let comparison = match &condition.kind {
            ast::ExprKind::Binary { op, lhs, rhs } if op.is_comparison() => {
                let compare = match op {
                    ast::BinOp::Less => Compare::Less,
                    ast::BinOp::LessEq => Compare::LessEq,
                    ast::BinOp::Greater => Compare::Greater,
                    _ => Compare::GreaterEq,
                };
                let left = self.lower_expr(lhs, ctx);
                let right = self.lower_expr(rhs, ctx);
                Some((compare, left, right))
            }
            ast::ExprKind::Error => None,
            _ => {
                // Lowered for its own errors; its value is not used.
                if self.lower_expr(condition, ctx).is_some() {
                    self.error(
                        Diagnostic::error("E0227", "the condition of `if` is not a comparison")
                            .with_label(condition.span, "expected a comparison")
                            .with_help(
                                "compare two expressions with `<`, `<=`, `>` or `>=`, e.g. `if(u > 0, u, 0)`",
                            ),
                    );
                }
                None
            }
        };
        let then = self.lower_expr(&args[1].value, ctx);
        let otherwise = self.lower_expr(&args[2].value, ctx);
        let (compare, left, right) = comparison?;
        let (left, right, then, otherwise) = (left?, right?, then?, otherwise?);
        Some(self.arena.select(compare, left, right, then, otherwise))
    }

    /// A comparison where a number is expected.
    fn comparison_as_value(&mut self, span: Span) {
        self.error(
            Diagnostic::error("E0226", "a comparison is not a value")
                .with_label(span, "only the condition of `if` may compare")
                .with_help(
                    "choose between two values with `if(a < b, value if true, value if false)`",
                ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::display::display_expr;
    use crate::ir::testing::*;
    use crate::syntax::ast;

    #[test]
    fn lets_are_inlined_and_consts_folded() {
        let p = ok(vec![
            space("x", 0.0, 2.0),
            fields(&["u"]),
            konst("a", "2"),
            konst("b", "a^2 + 1"),
            item(ast::ItemKind::Let {
                name: ident("flux"),
                value: expr("b*u*dx(u)"),
            }),
            item(ast::ItemKind::Let {
                name: ident("w"),
                value: expr("u"),
            }),
            equation("flux + dxx(w)", "0", "interior"),
        ]);
        assert_eq!(display_expr(&p, p.blocks[0].residual), "5*u*dx(u) + dxx(u)");
    }
}
