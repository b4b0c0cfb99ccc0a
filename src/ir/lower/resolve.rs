//! Declarations and name resolution: registering the names each item
//! declares, and what a name stands for where it is used.

use super::lowerer::{Binding, CoordInfo, Ctx, Def, Lowerer, State};
use crate::diagnostic::Diagnostic;
use crate::ir::expr::{ExprId, JetId, Node};
use crate::ir::names::did_you_mean;
use crate::ir::symbolic::leaves;
use crate::ir::{Coord, CoordKind, Field, Param};
use crate::span::Span;
use crate::syntax::ast;

/// Names the language defines: they cannot be declared.
pub(super) const BUILTIN_CONSTANTS: [&str; 2] = ["pi", "e"];
pub(super) const BUILTIN_FUNCTIONS: [&str; 14] = [
    "sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "abs", "sign", "min", "max",
    "if",
];
pub(super) const OPERATORS: [&str; 3] = ["d", "lap", "dn"];

impl Lowerer<'_> {
    /// Registers the names an item declares.
    pub(super) fn declare<'f>(
        &mut self,
        item: &'f ast::Item,
        const_items: &mut Vec<(usize, &'f ast::Expr)>,
        let_items: &mut Vec<(usize, &'f ast::Expr)>,
    ) {
        match &item.kind {
            ast::ItemKind::Space { coords, .. } => {
                for c in coords {
                    self.declare_coord(c, CoordKind::Space);
                }
            }
            ast::ItemKind::Time { coord, .. } => {
                if let Some(first) = self.time_span {
                    self.error(
                        Diagnostic::error("E0221", "only one `time` coordinate is allowed")
                            .with_label(coord.span, "second time coordinate")
                            .with_label(first, "first declared here"),
                    );
                } else {
                    self.time_span = Some(coord.span);
                    if let Some(i) = self.declare_coord(coord, CoordKind::Time) {
                        self.domain.time = Some(i);
                    }
                }
            }
            ast::ItemKind::Field { names, .. } => {
                for n in names {
                    let index = self.fields.len();
                    if self.bind(n, Def::Field(index)) {
                        self.fields.push(Field {
                            name: n.name.clone(),
                            coords: None,
                            span: n.span,
                        });
                    }
                }
            }
            ast::ItemKind::Const { name, value } => {
                let index = self.consts.len();
                if self.bind(name, Def::Const(index)) {
                    self.consts.push(State::Pending);
                    const_items.push((index, value));
                }
            }
            ast::ItemKind::Param { name, .. } => {
                let index = self.params.len();
                if self.bind(name, Def::Param(index)) {
                    self.params.push(Param {
                        name: name.name.clone(),
                        init: 0.0,
                        span: name.span,
                    });
                }
            }
            ast::ItemKind::Let { name, value } => {
                let index = self.lets.len();
                if self.bind(name, Def::Let(index)) {
                    self.lets.push(State::Pending);
                    let_items.push((index, value));
                }
            }
            ast::ItemKind::Data {
                name, kind: None, ..
            } => {
                let index = self.data.len();
                if self.bind(name, Def::Data(index)) {
                    self.data.push(None);
                }
            }
            ast::ItemKind::Data {
                name,
                kind: Some(_),
                ..
            } => {
                let index = self.grids.len();
                if self.bind(name, Def::Grid(index)) {
                    self.grids.push(None);
                }
            }
            ast::ItemKind::Shape { name, .. } => {
                let index = self.shapes.len();
                if self.bind(name, Def::Shape(index)) {
                    self.shapes.push(super::lowerer::NamedShape {
                        state: State::Pending,
                        parts: Vec::new(),
                        domains: Vec::new(),
                    });
                }
            }
            _ => {}
        }
    }

    /// Resolves the coordinate list of `field a(x, y)`: each name a declared
    /// coordinate, at most once, the list not empty. A list of all the
    /// coordinates is the same as none.
    pub(super) fn field_coords(&mut self, name: &ast::Ident, list: &ast::FieldCoords) {
        let Some(Binding {
            def: Def::Field(k), ..
        }) = self.names.get(&name.name).copied()
        else {
            return;
        };
        if self.fields[k].span != name.span {
            return;
        }
        if list.coords.is_empty() {
            self.error(
                Diagnostic::error(
                    "E0232",
                    format!("field `{}` depends on no coordinate", name.name),
                )
                .with_label(list.span, "empty coordinate list")
                .with_help(format!(
                    "name the coordinates it depends on, e.g. `{}(x)`, or declare an unknown constant with `param {} = 0`",
                    name.name, name.name
                )),
            );
            return;
        }
        let mut seen: Vec<(usize, Span)> = Vec::new();
        let mut ok = true;
        for ident in &list.coords {
            let Some(i) = self.coordinate(ident) else {
                ok = false;
                continue;
            };
            if let Some(&(_, first)) = seen.iter().find(|(j, _)| *j == i) {
                self.error(
                    Diagnostic::error(
                        "E0111",
                        format!(
                            "coordinate `{}` named twice in the coordinates of `{}`",
                            ident.name, name.name
                        ),
                    )
                    .with_label(ident.span, "second time")
                    .with_label(first, "first named here"),
                );
                ok = false;
                continue;
            }
            seen.push((i, ident.span));
        }
        if !ok {
            return;
        }
        let mut coords: Vec<usize> = seen.into_iter().map(|(i, _)| i).collect();
        coords.sort_unstable();
        if coords.len() < self.coords.len() {
            self.fields[k].coords = Some(coords);
        }
    }

    pub(super) fn declare_coord(&mut self, ident: &ast::Ident, kind: CoordKind) -> Option<usize> {
        let index = self.coords.len();
        if !self.bind(ident, Def::Coord(index)) {
            return None;
        }
        self.coords.push(Coord {
            name: ident.name.clone(),
            kind,
            lo: 0.0,
            hi: 1.0,
            span: ident.span,
        });
        self.coord_info.push(CoordInfo::default());
        Some(index)
    }

    /// Binds a name; reports duplicates and builtin names. True when bound.
    pub(super) fn bind(&mut self, ident: &ast::Ident, def: Def) -> bool {
        let name = ident.name.as_str();
        // Operators (`d`, `lap`, `dn`) may be declared: a declared name wins.
        if BUILTIN_CONSTANTS.contains(&name) || BUILTIN_FUNCTIONS.contains(&name) {
            self.rejected.insert(name.to_string());
            self.error(
                Diagnostic::error("E0103", format!("`{name}` is a builtin name"))
                    .with_label(ident.span, "cannot be declared")
                    .with_help("choose another name"),
            );
            return false;
        }
        if let Some(first) = self.names.get(name) {
            let first = *first;
            self.error(
                Diagnostic::error("E0106", format!("`{name}` is declared twice"))
                    .with_label(ident.span, "declared again here")
                    .with_label(first.span, "first declared here"),
            );
            return false;
        }
        self.names.insert(
            name.to_string(),
            Binding {
                def,
                span: ident.span,
            },
        );
        true
    }

    /// The names usable as values, for suggestions.
    pub(super) fn value_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.names.keys().map(String::as_str).collect();
        names.sort_unstable();
        names.extend(BUILTIN_CONSTANTS);
        names
    }

    pub(super) fn unknown_name(&mut self, name: &str, span: Span) {
        let mut d = Diagnostic::error("E0101", format!("unknown identifier `{name}`"))
            .with_label(span, "not declared");
        let candidates = self.value_names();
        if let Some(help) = did_you_mean(name, candidates.iter().copied()) {
            d = d.with_help(help);
        }
        self.error(d);
    }

    /// Reports a name of kind `what` that is not allowed in `ctx`.
    pub(super) fn not_allowed(&mut self, ctx: Ctx, what: String, span: Span) {
        match ctx {
            Ctx::Const(purpose) => self.error(
                Diagnostic::error(
                    "E0204",
                    format!("{purpose} must be constant, but it uses {what}"),
                )
                .with_label(span, "not a constant")
                .with_help("constants may use numbers, other constants, `pi` and `e`"),
            ),
            Ctx::Exact => self.error(
                Diagnostic::error(
                    "E0213",
                    format!("an exact solution may use only coordinates and constants, not {what}"),
                )
                .with_label(span, "not allowed here"),
            ),
            Ctx::Condition => self.error(
                Diagnostic::error(
                    "E0240",
                    format!(
                        "a `where` condition may use only coordinates and constants, not {what}"
                    ),
                )
                .with_label(span, "not allowed here")
                .with_help(
                    "the condition picks points of the boundary before training; a value that \
                     depends on the solution belongs in the equation, e.g. `if(u > 0, ...)`",
                ),
            ),
            Ctx::Let | Ctx::Equation { .. } => {}
        }
    }

    pub(super) fn lower_name(&mut self, name: &str, span: Span, ctx: Ctx) -> Option<ExprId> {
        let Some(binding) = self.names.get(name).copied() else {
            if self.rejected.contains(name) {
                return None;
            }
            return match name {
                "pi" => Some(self.arena.constant(std::f64::consts::PI)),
                "e" => Some(self.arena.constant(std::f64::consts::E)),
                _ if BUILTIN_FUNCTIONS.contains(&name)
                    || OPERATORS.contains(&name)
                    || self.is_derivative_name(name) =>
                {
                    self.error(
                        Diagnostic::error("E0107", format!("`{name}` is a function, not a value"))
                            .with_label(span, "needs arguments")
                            .with_help(format!("call it: `{name}(...)`")),
                    );
                    None
                }
                _ => {
                    self.unknown_name(name, span);
                    None
                }
            };
        };
        match binding.def {
            Def::Coord(i) => {
                if matches!(ctx, Ctx::Const(_)) {
                    self.not_allowed(ctx, format!("the coordinate `{name}`"), span);
                    return None;
                }
                Some(self.arena.intern(Node::Coord(i)))
            }
            Def::Field(k) => {
                if matches!(ctx, Ctx::Const(_) | Ctx::Exact | Ctx::Condition) {
                    self.not_allowed(ctx, format!("the field `{name}`"), span);
                    return None;
                }
                Some(self.arena.intern(Node::Jet(JetId(k as u32))))
            }
            Def::Param(i) => {
                if matches!(ctx, Ctx::Const(_) | Ctx::Exact | Ctx::Condition) {
                    self.not_allowed(ctx, format!("the param `{name}`"), span);
                    return None;
                }
                Some(self.arena.intern(Node::Param(i)))
            }
            Def::Const(i) => match self.consts[i] {
                State::Done(value) => value.map(|v| self.arena.constant(v)),
                State::Active => {
                    self.error(self_reference(name, span));
                    None
                }
                State::Pending => {
                    let subject = format!("the constant `{name}`");
                    self.error(used_before_definition(
                        &subject,
                        "const",
                        span,
                        binding.span,
                    ));
                    None
                }
            },
            Def::Let(i) => {
                if matches!(ctx, Ctx::Const(_)) {
                    self.not_allowed(ctx, format!("the `let` `{name}`"), span);
                    return None;
                }
                match self.lets[i] {
                    State::Done(value) => {
                        let id = value?;
                        self.check_let_use(name, id, span, ctx)?;
                        Some(id)
                    }
                    State::Active => {
                        self.error(
                            self_reference(name, span).with_help("a `let` cannot be recursive"),
                        );
                        None
                    }
                    State::Pending => {
                        let subject = format!("`{name}`");
                        self.error(used_before_definition(&subject, "let", span, binding.span));
                        None
                    }
                }
            }
            Def::Grid(grid) => self.grid_value(grid, name, None, span, ctx),
            Def::Data(_) => {
                if matches!(ctx, Ctx::Const(_) | Ctx::Exact | Ctx::Condition) {
                    self.not_allowed(ctx, format!("the data set `{name}`"), span);
                    return None;
                }
                self.error(
                    Diagnostic::error("E0211", format!("the data set `{name}` is not a value"))
                        .with_label(span, "a data set")
                        .with_help(format!("use one of its columns, e.g. `{name}.u`")),
                );
                None
            }
            Def::Shape(_) => {
                self.error(
                    Diagnostic::error("E0231", format!("the shape `{name}` is not a value"))
                        .with_label(span, "a shape")
                        .with_help(format!(
                            "a shape stands in a domain (`space (x, y) in ... - {name}`) or a region (`on boundary of {name}`)"
                        )),
                );
                None
            }
        }
    }

    /// A `let` is lowered once; where it is used, what it contains must be
    /// allowed there (`dn` only on boundaries, `obs.u` only on `obs`).
    pub(super) fn check_let_use(
        &mut self,
        name: &str,
        id: ExprId,
        span: Span,
        ctx: Ctx,
    ) -> Option<()> {
        let used = leaves(&self.arena, &[id]);
        match ctx {
            Ctx::Exact | Ctx::Condition => {
                if used
                    .iter()
                    .any(|n| !matches!(n, Node::Coord(_) | Node::Const(_)))
                {
                    let what = if used.iter().any(|n| matches!(n, Node::Grid(_))) {
                        "grid data"
                    } else {
                        "fields"
                    };
                    self.not_allowed(ctx, format!("`{name}`, which depends on {what}"), span);
                    return None;
                }
            }
            Ctx::Equation { normal_ok, data } => {
                if !normal_ok && used.iter().any(|n| matches!(n, Node::Normal(_))) {
                    self.error(
                        Diagnostic::error(
                            "E0203",
                            format!(
                                "`{name}` uses `dn`, which is valid only on `boundary` or a face"
                            ),
                        )
                        .with_label(span, "uses the outward normal"),
                    );
                    return None;
                }
                for n in &used {
                    if let Node::Data { set, .. } = n {
                        if data != Some(*set) {
                            let set_name = self.data_name(*set);
                            self.error(
                                Diagnostic::error(
                                    "E0210",
                                    format!(
                                        "`{name}` uses columns of `{set_name}`, available only in equations `on {set_name}`"
                                    ),
                                )
                                .with_label(span, "uses data columns"),
                            );
                            return None;
                        }
                    }
                }
            }
            Ctx::Const(_) | Ctx::Let => {}
        }
        Some(())
    }

    pub(super) fn data_name(&self, set: usize) -> String {
        self.names
            .iter()
            .find(|(_, b)| b.def == Def::Data(set))
            .map_or_else(|| "?".to_string(), |(n, _)| n.clone())
    }

    pub(in crate::ir) fn unknown_field(&mut self, name: &str, span: Span) {
        if self.rejected.contains(name) {
            return;
        }
        let mut d = Diagnostic::error("E0104", format!("unknown field `{name}`"))
            .with_label(span, "not a declared field");
        let fields: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        d = match did_you_mean(name, fields.iter().copied()) {
            Some(h) => d.with_help(h),
            None => d.with_help(format!("declare it with `field {name}`")),
        };
        self.error(d);
    }

    /// A declared coordinate named by `ident`.
    pub(in crate::ir) fn coordinate(&mut self, ident: &ast::Ident) -> Option<usize> {
        match self.names.get(&ident.name).map(|b| b.def) {
            Some(Def::Coord(i)) => Some(i),
            other => {
                let msg = match other {
                    Some(def) => format!(
                        "`{}` is a {}, not a coordinate",
                        ident.name,
                        def.kind_name()
                    ),
                    None => format!("unknown coordinate `{}`", ident.name),
                };
                let mut d =
                    Diagnostic::error("E0108", msg).with_label(ident.span, "not a coordinate");
                let coords: Vec<&str> = self.coords.iter().map(|c| c.name.as_str()).collect();
                if let Some(h) = did_you_mean(&ident.name, coords.iter().copied()) {
                    d = d.with_help(h);
                }
                self.error(d);
                None
            }
        }
    }
}

/// E0110: a declaration (`const`, `let`, `shape`) used in its own definition.
pub(crate) fn self_reference(name: &str, used: Span) -> Diagnostic {
    Diagnostic::error("E0110", format!("`{name}` refers to itself"))
        .with_label(used, "used in its own definition")
}

/// E0109: `subject` (e.g. "the constant `c`"), declared by `keyword`, used above its
/// definition.
pub(crate) fn used_before_definition(
    subject: &str,
    keyword: &str,
    used: Span,
    defined: Span,
) -> Diagnostic {
    Diagnostic::error("E0109", format!("{subject} is used before its definition"))
        .with_label(used, "used here")
        .with_label(defined, "defined later here")
        .with_help(format!("move this `{keyword}` above the one that uses it"))
}

#[cfg(test)]
mod tests {
    use crate::ir::testing::*;
    use crate::span::Span;
    use crate::syntax::ast;

    #[test]
    fn each_mistake_has_its_code() {
        assert_eq!(
            with(vec![
                time("t", 0.0, 1.0),
                equation("dt(v)", "0", "interior")
            ]),
            vec!["E0104"]
        );
        assert_eq!(
            with(vec![equation("dt(u)", "0", "interior")]),
            vec!["E0202"]
        );
        assert_eq!(
            with(vec![equation("dy(u)", "0", "interior")]),
            vec!["E0202"]
        );
        assert_eq!(
            with(vec![equation("d(u, z)", "0", "interior")]),
            vec!["E0202"]
        );
        assert_eq!(
            with(vec![equation("dxxxxx(u)", "0", "interior")]),
            vec!["E0208"]
        );
        assert_eq!(with(vec![equation("u", "0", "x = 0.5")]), vec!["E0216"]);
        assert_eq!(with(vec![equation("u", "0", "y = 0")]), vec!["E0108"]);
        assert_eq!(with(vec![konst("c", "u + 1")]), vec!["E0204"]);
        assert_eq!(with(vec![konst("c", "1/0")]), vec!["E0205"]);
        assert_eq!(with(vec![konst("c", "log(-1)")]), vec!["E0205"]);
        assert_eq!(with(vec![konst("c", "1e999")]), vec!["E0205"]);
        assert_eq!(
            with(vec![konst("c", "d + 1"), konst("d", "1")]),
            vec!["E0109"]
        );
        assert_eq!(with(vec![konst("c", "c + 1")]), vec!["E0110"]);
        assert_eq!(with(vec![fields(&["u"])]), vec!["E0106"]);
        assert_eq!(
            with(vec![fields(&["sin"]), equation("sin*u", "0", "interior")]),
            vec!["E0103"]
        );
        assert_eq!(
            with(vec![konst("d", "2"), equation("d*dxx(u)", "0", "interior")]),
            Vec::<&str>::new()
        );
        assert_eq!(
            with(vec![equation("sin(u, u)", "0", "interior")]),
            vec!["E0207"]
        );
        assert_eq!(
            with(vec![equation("foo(u)", "0", "interior")]),
            vec!["E0102"]
        );
        assert_eq!(with(vec![equation("u", "0", "interor")]), vec!["E0105"]);
        assert_eq!(with(vec![equation("dxx", "0", "interior")]), vec!["E0107"]);
        assert_eq!(with(vec![equation("u", "0", "initial")]), vec!["E0214"]);
        assert_eq!(
            with(vec![equation("dx(dn(u))", "0", "boundary")]),
            vec!["E0209"]
        );
        assert_eq!(
            with(vec![equation("[1, 2]", "0", "interior")]),
            vec!["E0212"]
        );
        assert_eq!(
            with(vec![item(ast::ItemKind::Exact {
                field: ident("w"),
                source: ast::ExactSource::Expr(expr("x"))
            })]),
            vec!["E0104"]
        );
        assert_eq!(
            with(vec![item(ast::ItemKind::Exact {
                field: ident("u"),
                source: ast::ExactSource::Expr(expr("u*x"))
            })]),
            vec!["E0213"]
        );
        assert_eq!(
            with(vec![item(ast::ItemKind::Periodic {
                coords: vec![ident("u")]
            })]),
            vec!["E0108"]
        );
        assert_eq!(with(vec![space("y", 1.0, 0.0)]), vec!["E0220"]);
        assert_eq!(
            with(vec![time("t", 0.0, 1.0), time("s", 0.0, 1.0)]),
            vec!["E0221"]
        );
        assert_eq!(
            codes(vec![space("x", 0.0, 1.0), equation("x", "0", "interior")]),
            vec!["E0201"]
        );
        assert_eq!(
            codes(vec![fields(&["u"]), equation("u", "0", "interior")]),
            vec!["E0222"]
        );
        // A time coordinate alone is an ODE system; space-only words are E0228 there.
        let ode = |extra: Vec<ast::Item>| {
            let mut items = vec![
                fields(&["u"]),
                time("t", 0.0, 1.0),
                equation("dt(u)", "0", "interior"),
            ];
            items.extend(extra);
            codes(items)
        };
        assert_eq!(ode(Vec::new()), Vec::<&str>::new());
        assert_eq!(ode(vec![equation("u", "1", "initial")]), Vec::<&str>::new());
        assert_eq!(ode(vec![equation("u", "1", "t = 1")]), Vec::<&str>::new());
        assert_eq!(ode(vec![equation("u", "1", "boundary")]), vec!["E0228"]);
        assert_eq!(
            ode(vec![equation("lap(u)", "1", "interior")]),
            vec!["E0228"]
        );
        assert_eq!(ode(vec![equation("dn(u)", "1", "t = 0")]), vec!["E0228"]);
        assert_eq!(ode(vec![equation("dx(u)", "1", "interior")]), vec!["E0202"]);
        assert_eq!(
            codes(vec![space("x", 0.0, 1.0), fields(&["u"])]),
            vec!["E0223"]
        );
        assert_eq!(
            codes(vec![
                space("x", 0.0, 1.0),
                fields(&["u"]),
                equation("u", "0", "x = 0")
            ]),
            vec!["W0501"]
        );
        assert_eq!(with(vec![equation("x", "1", "interior")]), vec!["W0502"]);
    }

    #[test]
    fn unknown_names_suggest_the_nearest() {
        let (_, diags) = lower_items(vec![
            space("x", 0.0, 1.0),
            fields(&["u"]),
            konst("kappa", "1"),
            equation("dxx(u) - kapa*u", "sni(x)", "interior"),
        ]);
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert_eq!(diags[0].code, "E0101");
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `kappa`?"));
        assert_eq!(diags[1].code, "E0102");
        assert_eq!(diags[1].help.as_deref(), Some("did you mean `sin`?"));
    }

    #[test]
    fn duplicates_label_both_declarations() {
        let mut first = fields(&["u"]);
        if let ast::ItemKind::Field { names, .. } = &mut first.kind {
            names[0].span = Span::new(6, 7);
        }
        let mut second = konst("u", "1");
        if let ast::ItemKind::Const { name, .. } = &mut second.kind {
            name.span = Span::new(20, 21);
        }
        let (_, diags) = lower_items(vec![
            space("x", 0.0, 1.0),
            first,
            second,
            equation("u", "0", "interior"),
        ]);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "E0106");
        assert_eq!(diags[0].labels[0].span, Span::new(20, 21));
        assert_eq!(diags[0].labels[1].span, Span::new(6, 7));
        assert_eq!(diags[0].labels[1].message, "first declared here");
    }
}
