//! Checking and lowering: [`ast::File`] → [`Problem`].
//!
//! Lowering runs in passes so that declaration order matters only where the
//! language says it does:
//! 1. every declared name is registered (duplicates and builtin names reported);
//! 2. `const`s are folded in source order (a `const` may use earlier ones);
//! 3. domains, params, data files, `let`s (each may use earlier `let`s),
//!    periodic coordinates, equations, exact solutions and configuration.
//!
//! Every lowering function returns `Option`: `None` means an error was already
//! reported, and callers propagate it silently so one mistake yields one
//! diagnostic, while independent mistakes are all reported.

use super::data::{match_columns, read_table};
use super::expr::{BinaryOp, ExprArena, ExprId, Func, JetId, Node};
use super::names::did_you_mean;
use super::symbolic::{depends_on_jets, derivative, eval_const, leaves};
use super::{
    Coord, CoordKind, DataSet, Deriv, Domain, ExactSolution, ExactSource, Field, Jet, ModelConfig,
    Param, Problem, Region, ResidualBlock, SampleConfig, Shape, Side, SolveSettings,
};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast;
use std::collections::HashMap;
use std::path::Path;

/// Highest derivative order in one coordinate set (`dxxxx`).
pub const MAX_DERIVATIVE_ORDER: usize = 4;

/// Names the language defines: they cannot be declared.
pub(super) const BUILTIN_CONSTANTS: [&str; 2] = ["pi", "e"];
pub(super) const BUILTIN_FUNCTIONS: [&str; 11] = [
    "sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "abs", "sign",
];
pub(super) const OPERATORS: [&str; 3] = ["d", "lap", "dn"];
/// Letters that name coordinates in the usual notations (`dt`, `dxy`).
const COMMON_COORDINATE_LETTERS: &str = "txyzrs";
const REGION_WORDS: [&str; 3] = ["interior", "boundary", "initial"];

/// Checks and lowers a parsed file. `base_dir` resolves relative data paths
/// (the `.pde` file's folder).
///
/// Returns the [`Problem`] when there is no error, and all diagnostics
/// (errors and warnings) in source order of discovery.
pub fn lower(
    file: &ast::File,
    source: &str,
    base_dir: &Path,
) -> (Option<Problem>, Vec<Diagnostic>) {
    let mut lowerer = Lowerer::new(source, base_dir);
    lowerer.run(file);
    lowerer.finish()
}

/// The names a declaration statement introduces, read from its text: used for
/// statements that failed to parse, so that their names are known to exist.
fn names_declared_in(text: &str) -> Vec<String> {
    const DECLARATIONS: [&str; 7] = ["space", "time", "field", "const", "param", "let", "data"];
    let mut words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    let Some(first) = words.find(|w| !w.is_empty()) else {
        return Vec::new();
    };
    if !DECLARATIONS.contains(&first) {
        return Vec::new();
    }
    // `space (x, y) in ...`, `field u, v`: every identifier before `in`, `=` or `from`.
    let head = text
        .split(['=', '#'])
        .next()
        .unwrap_or("")
        .split(" in ")
        .next()
        .unwrap_or("")
        .split(" from ")
        .next()
        .unwrap_or("");
    head.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && *w != first)
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        .map(str::to_string)
        .collect()
}

/// What a declared name stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Def {
    Coord(usize),
    Field(usize),
    Const(usize),
    Param(usize),
    Let(usize),
    Data(usize),
}

impl Def {
    pub(super) fn kind_name(self) -> &'static str {
        match self {
            Def::Coord(_) => "coordinate",
            Def::Field(_) => "field",
            Def::Const(_) => "constant",
            Def::Param(_) => "param",
            Def::Let(_) => "let",
            Def::Data(_) => "data set",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Binding {
    pub def: Def,
    pub span: Span,
}

/// Progress of a `const` or `let` that is defined in source order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum State<T> {
    Pending,
    /// Being lowered now: a use is a self-reference.
    Active,
    Done(Option<T>),
}

/// What an expression may contain where it stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Ctx {
    /// Numbers and constants only; the string says what the value is for.
    Const(&'static str),
    /// An exact solution: coordinates and constants.
    Exact,
    /// A `let` body: anything; restrictions are checked where it is used.
    Let,
    /// An equation on a region.
    Equation {
        normal_ok: bool,
        data: Option<usize>,
    },
}

/// Per-coordinate facts needed while lowering.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CoordInfo {
    /// Declared by an interval (`space x in [a, b]` or `time`).
    pub interval: bool,
    /// Its domain was valid (lo/hi are meaningful).
    pub ok: bool,
}

pub(super) struct Lowerer<'a> {
    pub source: &'a str,
    pub base_dir: &'a Path,
    pub diags: Vec<Diagnostic>,
    pub names: HashMap<String, Binding>,
    /// Declarations rejected as builtin names: their uses are not reported again.
    pub rejected: std::collections::HashSet<String>,
    pub coords: Vec<Coord>,
    pub coord_info: Vec<CoordInfo>,
    pub domain: Domain,
    pub fields: Vec<Field>,
    pub consts: Vec<State<f64>>,
    pub params: Vec<Param>,
    pub lets: Vec<State<ExprId>>,
    pub data: Vec<Option<DataSet>>,
    pub periodic: Vec<usize>,
    pub jets: Vec<Jet>,
    pub jet_index: HashMap<Jet, JetId>,
    pub arena: ExprArena,
    pub blocks: Vec<ResidualBlock>,
    pub exact: Vec<ExactSolution>,
    pub model: ModelConfig,
    pub sample: SampleConfig,
    pub solve: SolveSettings,
    /// Span of the `time` declaration, for duplicate reports.
    pub time_span: Option<Span>,
    pub model_span: Option<Span>,
    pub sample_keys: HashMap<String, Span>,
    pub solve_keys: HashMap<String, Span>,
}

impl<'a> Lowerer<'a> {
    fn new(source: &'a str, base_dir: &'a Path) -> Self {
        Lowerer {
            source,
            base_dir,
            diags: Vec::new(),
            names: HashMap::new(),
            rejected: Default::default(),
            coords: Vec::new(),
            coord_info: Vec::new(),
            domain: Domain::default(),
            fields: Vec::new(),
            consts: Vec::new(),
            params: Vec::new(),
            lets: Vec::new(),
            data: Vec::new(),
            periodic: Vec::new(),
            jets: Vec::new(),
            jet_index: HashMap::new(),
            arena: ExprArena::new(),
            blocks: Vec::new(),
            exact: Vec::new(),
            model: ModelConfig::default(),
            sample: SampleConfig::default(),
            solve: SolveSettings::default(),
            time_span: None,
            model_span: None,
            sample_keys: HashMap::new(),
            solve_keys: HashMap::new(),
        }
    }

    pub(super) fn error(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    fn run(&mut self, file: &ast::File) {
        // Names declared by statements that failed to parse: their uses are
        // not reported again (the syntax error already was).
        for item in &file.items {
            if item.kind == ast::ItemKind::Error {
                let text = self.source.get(item.span.range()).unwrap_or("");
                self.rejected.extend(names_declared_in(text));
            }
        }
        // Pass 1: names.
        let mut let_items = Vec::new();
        let mut const_items = Vec::new();
        for item in &file.items {
            self.declare(item, &mut const_items, &mut let_items);
        }
        // The value jet of field k is JetId(k).
        for k in 0..self.fields.len() {
            self.jet(k, Deriv::Partial(vec![0; self.coords.len()]));
        }
        // Pass 2: constants in source order.
        for (index, value) in const_items {
            self.consts[index] = State::Active;
            let folded = self.const_value(value, "the value of a `const`");
            self.consts[index] = State::Done(folded);
        }
        // Pass 3: everything else.
        for item in &file.items {
            match &item.kind {
                ast::ItemKind::Space { coords, domain } => self.space(coords, domain),
                ast::ItemKind::Time { coord, interval } => self.time(coord, interval),
                ast::ItemKind::Param { name, init } => {
                    if let Some(Binding {
                        def: Def::Param(i), ..
                    }) = self.names.get(&name.name).copied()
                    {
                        if self.params[i].span == name.span {
                            if let Some(v) = self.const_value(init, "a `param`'s initial value") {
                                self.params[i].init = v;
                            }
                        }
                    }
                }
                ast::ItemKind::Data { name, path } => self.data_item(name, path),
                _ => {}
            }
        }
        self.finish_domain();
        for (index, value) in let_items {
            self.lets[index] = State::Active;
            let lowered = self.lower_expr(value, Ctx::Let);
            self.lets[index] = State::Done(lowered);
        }
        let mut periodic_items = Vec::new();
        for item in &file.items {
            match &item.kind {
                ast::ItemKind::Periodic { coords } => {
                    self.periodic_item(coords);
                    periodic_items.push(item.span);
                }
                ast::ItemKind::Equation {
                    lhs,
                    rhs,
                    region,
                    weight,
                } => self.equation(item.span, lhs, rhs, region, weight.as_ref()),
                ast::ItemKind::Exact { field, source } => self.exact_item(field, source),
                ast::ItemKind::Model { value } => self.model_item(item.span, value),
                ast::ItemKind::Sample { entries } => self.sample_item(entries),
                ast::ItemKind::Solve { entries } => self.solve_item(entries),
                _ => {}
            }
        }
        let n_equations = self.blocks.len();
        self.periodic_blocks(file);
        self.whole_file_checks(file, n_equations);
    }

    /// Registers the names an item declares.
    fn declare<'f>(
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
            ast::ItemKind::Field { names } => {
                for n in names {
                    let index = self.fields.len();
                    if self.bind(n, Def::Field(index)) {
                        self.fields.push(Field {
                            name: n.name.clone(),
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
            ast::ItemKind::Data { name, .. } => {
                let index = self.data.len();
                if self.bind(name, Def::Data(index)) {
                    self.data.push(None);
                }
            }
            _ => {}
        }
    }

    fn declare_coord(&mut self, ident: &ast::Ident, kind: CoordKind) -> Option<usize> {
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
    fn bind(&mut self, ident: &ast::Ident, def: Def) -> bool {
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

    /// The jet of field `field` with derivative `deriv`, added once.
    pub(super) fn jet(&mut self, field: usize, deriv: Deriv) -> JetId {
        let jet = Jet { field, deriv };
        if let Some(&id) = self.jet_index.get(&jet) {
            return id;
        }
        let id = JetId(self.jets.len() as u32);
        self.jets.push(jet.clone());
        self.jet_index.insert(jet, id);
        id
    }

    /// Folds a constant expression; reports what makes it non-constant.
    pub(super) fn const_value(&mut self, expr: &ast::Expr, purpose: &'static str) -> Option<f64> {
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

    /// The names usable as values, for suggestions.
    fn value_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.names.keys().map(String::as_str).collect();
        names.sort_unstable();
        names.extend(BUILTIN_CONSTANTS);
        names
    }

    fn unknown_name(&mut self, name: &str, span: Span) {
        let mut d = Diagnostic::error("E0101", format!("unknown identifier `{name}`"))
            .with_label(span, "not declared");
        let candidates = self.value_names();
        if let Some(help) = did_you_mean(name, candidates.iter().copied()) {
            d = d.with_help(help);
        }
        self.error(d);
    }

    /// Reports a name of kind `what` that is not allowed in `ctx`.
    fn not_allowed(&mut self, ctx: Ctx, what: String, span: Span) {
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
            Ctx::Let | Ctx::Equation { .. } => {}
        }
    }

    /// Lowers an expression (see the module doc for the `None` convention).
    pub(super) fn lower_expr(&mut self, expr: &ast::Expr, ctx: Ctx) -> Option<ExprId> {
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
                let op = match op {
                    ast::BinOp::Add => BinaryOp::Add,
                    ast::BinOp::Sub => BinaryOp::Sub,
                    ast::BinOp::Mul => BinaryOp::Mul,
                    ast::BinOp::Div => BinaryOp::Div,
                    ast::BinOp::Pow => BinaryOp::Pow,
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

    fn lower_name(&mut self, name: &str, span: Span, ctx: Ctx) -> Option<ExprId> {
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
                if matches!(ctx, Ctx::Const(_) | Ctx::Exact) {
                    self.not_allowed(ctx, format!("the field `{name}`"), span);
                    return None;
                }
                Some(self.arena.intern(Node::Jet(JetId(k as u32))))
            }
            Def::Param(i) => {
                if matches!(ctx, Ctx::Const(_) | Ctx::Exact) {
                    self.not_allowed(ctx, format!("the param `{name}`"), span);
                    return None;
                }
                Some(self.arena.intern(Node::Param(i)))
            }
            Def::Const(i) => match self.consts[i] {
                State::Done(value) => value.map(|v| self.arena.constant(v)),
                State::Active => {
                    self.error(
                        Diagnostic::error("E0110", format!("`{name}` refers to itself"))
                            .with_label(span, "used in its own definition"),
                    );
                    None
                }
                State::Pending => {
                    self.error(
                        Diagnostic::error(
                            "E0109",
                            format!("the constant `{name}` is used before its definition"),
                        )
                        .with_label(span, "used here")
                        .with_label(binding.span, "defined later here")
                        .with_help("move this `const` above the one that uses it"),
                    );
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
                            Diagnostic::error("E0110", format!("`{name}` refers to itself"))
                                .with_label(span, "used in its own definition")
                                .with_help("a `let` cannot be recursive"),
                        );
                        None
                    }
                    State::Pending => {
                        self.error(
                            Diagnostic::error(
                                "E0109",
                                format!("`{name}` is used before its definition"),
                            )
                            .with_label(span, "used here")
                            .with_label(binding.span, "defined later here")
                            .with_help("move this `let` above the one that uses it"),
                        );
                        None
                    }
                }
            }
            Def::Data(_) => {
                if matches!(ctx, Ctx::Const(_) | Ctx::Exact) {
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
        }
    }

    /// A `let` is lowered once; where it is used, what it contains must be
    /// allowed there (`dn` only on boundaries, `obs.u` only on `obs`).
    fn check_let_use(&mut self, name: &str, id: ExprId, span: Span, ctx: Ctx) -> Option<()> {
        let used = leaves(&self.arena, &[id]);
        match ctx {
            Ctx::Exact => {
                if used
                    .iter()
                    .any(|n| !matches!(n, Node::Coord(_) | Node::Const(_)))
                {
                    self.not_allowed(ctx, format!("`{name}`, which depends on fields"), span);
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

    fn data_name(&self, set: usize) -> String {
        self.names
            .iter()
            .find(|(_, b)| b.def == Def::Data(set))
            .map_or_else(|| "?".to_string(), |(n, _)| n.clone())
    }

    fn lower_member(&mut self, base: &ast::Ident, member: &ast::Ident, ctx: Ctx) -> Option<ExprId> {
        let set = match self.names.get(&base.name).map(|b| b.def) {
            Some(Def::Data(set)) => set,
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
            Ctx::Const(_) | Ctx::Exact => {
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
                    .with_help(format!("write this equation `on {}`", base.name)),
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

    fn lower_call(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        ctx: Ctx,
    ) -> Option<ExprId> {
        let name = func.name.as_str();
        if let Some(binding) = self.names.get(name).copied() {
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
                let field = self.field_arg(name, &args[0].value)?;
                if name == "lap" {
                    let id = self.jet(field, Deriv::Laplacian);
                    Some(self.arena.intern(Node::Jet(id)))
                } else {
                    self.normal_derivative(field, span, ctx)
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
                let field = self.field_arg(name, &args[0].value)?;
                if !ok {
                    return None;
                }
                self.partial(field, alpha, args.len() - 1, span)
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

    fn arity(&mut self, name: &str, expected: usize, found: usize, span: Span) {
        self.error(
            Diagnostic::error(
                "E0207",
                format!("`{name}` takes {expected} argument, found {found}"),
            )
            .with_label(span, "wrong number of arguments"),
        );
    }

    /// Derivatives are not constants and not exact-solution material.
    fn derivative_ctx(&mut self, name: &str, span: Span, ctx: Ctx) -> Option<()> {
        if matches!(ctx, Ctx::Const(_) | Ctx::Exact) {
            self.not_allowed(ctx, format!("the derivative operator `{name}`"), span);
            return None;
        }
        Some(())
    }

    /// True for `dx`, `dtxx`: `d` followed only by one-letter coordinates.
    fn is_derivative_name(&self, name: &str) -> bool {
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
    fn derivative_shorthand(
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
        let Some(field) = self.field_arg(&func.name, &args[0].value) else {
            return Some(None);
        };
        let mut alpha = vec![0u8; self.coords.len()];
        for i in lookup.into_iter().flatten() {
            alpha[i] = alpha[i].saturating_add(1);
        }
        Some(self.partial(field, alpha, letters.len(), span))
    }

    fn partial(
        &mut self,
        field: usize,
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
        let id = self.jet(field, Deriv::Partial(alpha));
        Some(self.arena.intern(Node::Jet(id)))
    }

    /// A coordinate argument of `d(u, x1, ...)`.
    fn derivative_coord(&mut self, expr: &ast::Expr) -> Option<usize> {
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

    /// The field a derivative operator applies to: a field name, or a `let`
    /// that is exactly a field.
    fn field_arg(&mut self, op: &str, expr: &ast::Expr) -> Option<usize> {
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

    pub(super) fn unknown_field(&mut self, name: &str, span: Span) {
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

    /// `dn(u) = Σ_i n_i ∂u/∂x_i` over the spatial coordinates.
    fn normal_derivative(&mut self, field: usize, span: Span, ctx: Ctx) -> Option<ExprId> {
        if let Ctx::Equation {
            normal_ok: false, ..
        } = ctx
        {
            self.error(
                Diagnostic::error("E0203", "`dn` is valid only on `boundary` or a face")
                    .with_label(span, "normal derivative in the interior")
                    .with_help("write this equation `on boundary` or on a face such as `x = 0`"),
            );
            return None;
        }
        let mut sum = self.arena.constant(0.0);
        for i in 0..self.coords.len() {
            if self.coords[i].kind != CoordKind::Space {
                continue;
            }
            let mut alpha = vec![0u8; self.coords.len()];
            alpha[i] = 1;
            let jet = self.jet(field, Deriv::Partial(alpha));
            let jet = self.arena.intern(Node::Jet(jet));
            let normal = self.arena.intern(Node::Normal(i));
            let term = self.arena.mul(normal, jet);
            sum = self.arena.add(sum, term);
        }
        Some(sum)
    }

    fn equation(
        &mut self,
        span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        region: &ast::Region,
        weight: Option<&ast::Expr>,
    ) {
        let lowered_region = self.region(region);
        let ctx = match &lowered_region {
            Some(Region::Boundary | Region::Face { .. }) => Ctx::Equation {
                normal_ok: true,
                data: None,
            },
            Some(Region::Data { set }) => Ctx::Equation {
                normal_ok: false,
                data: Some(*set),
            },
            Some(_) => Ctx::Equation {
                normal_ok: false,
                data: None,
            },
            // The region was reported; check the expressions without region rules.
            None => Ctx::Let,
        };
        let l = self.lower_expr(lhs, ctx);
        let r = self.lower_expr(rhs, ctx);
        let w = match weight {
            None => Some(1.0),
            Some(w) => {
                let value = self.const_value(w, "a weight");
                match value {
                    Some(v) if v <= 0.0 => {
                        self.error(
                            Diagnostic::error("E0217", format!("weight {v} is not positive"))
                                .with_label(w.span, "must be > 0"),
                        );
                        None
                    }
                    other => other,
                }
            }
        };
        let (Some(region), Some(l), Some(r), Some(weight)) = (lowered_region, l, r, w) else {
            return;
        };
        let residual = self.arena.sub(l, r);
        // `lhs = rhs` as written, without the region and weight.
        let label = self
            .source
            .get(lhs.span.to(rhs.span).range())
            .unwrap_or("")
            .trim()
            .to_string();
        let block = self.block(label, span, region, weight, residual);
        if block.jets.is_empty() && !self.fields.is_empty() {
            self.error(
                Diagnostic::warning("W0502", "this equation involves no field")
                    .with_label(span, "constant residual")
                    .with_help("it cannot be satisfied by training; check for a missing field"),
            );
        }
        self.blocks.push(block);
    }

    /// Builds a block: jets used, linearization, param derivatives, order.
    pub(super) fn block(
        &mut self,
        label: String,
        span: Span,
        region: Region,
        weight: f64,
        residual: ExprId,
    ) -> ResidualBlock {
        let used = leaves(&self.arena, &[residual]);
        let mut jets: Vec<JetId> = used
            .iter()
            .filter_map(|n| match n {
                Node::Jet(j) => Some(*j),
                _ => None,
            })
            .collect();
        jets.sort_unstable();
        jets.dedup();
        let mut params: Vec<usize> = used
            .iter()
            .filter_map(|n| match n {
                Node::Param(p) => Some(*p),
                _ => None,
            })
            .collect();
        params.sort_unstable();
        params.dedup();
        let zero = self.arena.constant(0.0);
        let mut linearization = Vec::new();
        for &j in &jets {
            let d = derivative(&mut self.arena, residual, Node::Jet(j));
            if d != zero {
                linearization.push((j, d));
            }
        }
        let mut param_derivatives = Vec::new();
        for &p in &params {
            let d = derivative(&mut self.arena, residual, Node::Param(p));
            if d != zero {
                param_derivatives.push((p, d));
            }
        }
        let linear = linearization
            .iter()
            .all(|&(_, c)| !depends_on_jets(&self.arena, c));
        let order = jets
            .iter()
            .map(|j| self.jets[j.0 as usize].order())
            .max()
            .unwrap_or(0);
        ResidualBlock {
            label,
            span,
            region,
            weight,
            residual,
            jets,
            linearization,
            param_derivatives,
            linear,
            order,
        }
    }

    fn region(&mut self, region: &ast::Region) -> Option<Region> {
        match &region.kind {
            ast::RegionKind::Named(ident) => {
                let name = ident.name.as_str();
                match name {
                    "interior" => return Some(Region::Interior),
                    "boundary" => return Some(Region::Boundary),
                    "initial" => {
                        if self.domain.time.is_some() {
                            return Some(Region::Initial);
                        }
                        if self.time_span.is_none() {
                            self.error(
                                Diagnostic::error("E0214", "`initial` needs a `time` coordinate")
                                    .with_label(ident.span, "no time declared")
                                    .with_help("declare one, e.g. `time t in [0, 1]`"),
                            );
                        }
                        return None;
                    }
                    _ => {}
                }
                match self.names.get(name).map(|b| b.def) {
                    Some(Def::Data(set)) => Some(Region::Data { set }),
                    Some(Def::Coord(_)) => {
                        self.error(
                            Diagnostic::error(
                                "E0105",
                                format!("`{name}` is a coordinate, not a region"),
                            )
                            .with_label(ident.span, "not a region")
                            .with_help(format!(
                                "a face is written `{name} = c` with `c` an end of `{name}`"
                            )),
                        );
                        None
                    }
                    other => {
                        let mut d = Diagnostic::error(
                            "E0105",
                            match other {
                                Some(def) => {
                                    format!("`{name}` is a {}, not a region", def.kind_name())
                                }
                                None => format!("unknown region `{name}`"),
                            },
                        )
                        .with_label(ident.span, "not a region");
                        let mut candidates: Vec<String> =
                            REGION_WORDS.iter().map(|s| s.to_string()).collect();
                        candidates.extend(
                            self.names
                                .iter()
                                .filter(|(_, b)| matches!(b.def, Def::Data(_)))
                                .map(|(n, _)| n.clone()),
                        );
                        d = match did_you_mean(name, candidates.iter().map(String::as_str)) {
                            Some(h) => d.with_help(h),
                            None => d.with_help(
                                "regions are `interior`, `boundary`, `initial`, a face `x = c`, or a data set",
                            ),
                        };
                        self.error(d);
                        None
                    }
                }
            }
            ast::RegionKind::Face { coord, value } => {
                let (i, side) = self.face(coord, value)?;
                Some(Region::Face { coord: i, side })
            }
        }
    }

    /// A face `x = c`: the coordinate and which end `c` is.
    pub(super) fn face(&mut self, coord: &ast::Ident, value: &ast::Expr) -> Option<(usize, Side)> {
        let i = self.coordinate(coord)?;
        let c = self.const_value(value, "a face value");
        let info = self.coord_info[i];
        if !info.interval {
            self.error(
                Diagnostic::error(
                    "E0215",
                    format!(
                        "`{}` is declared by a shape; faces exist only for interval coordinates",
                        coord.name
                    ),
                )
                .with_label(coord.span, "not an interval coordinate")
                .with_help("use `on boundary` for the boundary of a shape"),
            );
            return None;
        }
        let c = c?;
        if !info.ok {
            return None;
        }
        let (lo, hi) = (self.coords[i].lo, self.coords[i].hi);
        let tol = 1e-12 * lo.abs().max(hi.abs()).max(1.0);
        if (c - lo).abs() <= tol {
            Some((i, Side::Lo))
        } else if (c - hi).abs() <= tol {
            Some((i, Side::Hi))
        } else {
            let (lo_s, hi_s) = (
                super::display::display_number(lo),
                super::display::display_number(hi),
            );
            self.error(
                Diagnostic::error(
                    "E0216",
                    format!(
                        "`{} = {}` is not a face",
                        coord.name,
                        super::display::display_number(c)
                    ),
                )
                .with_label(value.span, format!("not an end of `{}`", coord.name))
                .with_help(format!(
                    "the ends of `{}` are {lo_s} and {hi_s}",
                    coord.name
                )),
            );
            None
        }
    }

    /// A declared coordinate named by `ident`.
    pub(super) fn coordinate(&mut self, ident: &ast::Ident) -> Option<usize> {
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

    fn periodic_item(&mut self, coords: &[ast::Ident]) {
        for ident in coords {
            let Some(i) = self.coordinate(ident) else {
                continue;
            };
            let info = self.coord_info[i];
            if self.coords[i].kind != CoordKind::Space || !info.interval {
                self.error(
                    Diagnostic::error(
                        "E0224",
                        format!(
                            "`{}` cannot be periodic: only spatial interval coordinates can",
                            ident.name
                        ),
                    )
                    .with_label(ident.span, "not a spatial interval"),
                );
                continue;
            }
            if self.periodic.contains(&i) {
                self.error(
                    Diagnostic::warning(
                        "W0503",
                        format!("`{}` is declared periodic twice", ident.name),
                    )
                    .with_label(ident.span, "already periodic"),
                );
                continue;
            }
            self.periodic.push(i);
        }
    }

    /// For every periodic coordinate and every field, the blocks
    /// `u(lo) - u(hi)` and `∂u(lo) - ∂u(hi)` (the residual is the jet; the
    /// region pairs the points).
    fn periodic_blocks(&mut self, file: &ast::File) {
        let spans: Vec<Span> = file
            .items
            .iter()
            .filter(|i| matches!(i.kind, ast::ItemKind::Periodic { .. }))
            .map(|i| i.span)
            .collect();
        for p in 0..self.periodic.len() {
            let coord = self.periodic[p];
            let coord_name = self.coords[coord].name.clone();
            // The periodic line naming this coordinate.
            let span = spans
                .iter()
                .copied()
                .find(|s| {
                    self.source.get(s.range()).is_some_and(|t| {
                        t.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .any(|w| w == coord_name)
                    })
                })
                .unwrap_or_default();
            for k in 0..self.fields.len() {
                let field_name = self.fields[k].name.clone();
                let mut alpha = vec![0u8; self.coords.len()];
                for (order, label) in [
                    (0u8, field_name.clone()),
                    (
                        1u8,
                        if coord_name.chars().count() == 1 {
                            format!("d{coord_name}({field_name})")
                        } else {
                            format!("d({field_name}, {coord_name})")
                        },
                    ),
                ] {
                    alpha[coord] = order;
                    let jet = self.jet(k, Deriv::Partial(alpha.clone()));
                    let residual = self.arena.intern(Node::Jet(jet));
                    let block = self.block(
                        format!("periodic {coord_name}: {label}"),
                        span,
                        Region::Periodic { coord },
                        1.0,
                        residual,
                    );
                    self.blocks.push(block);
                }
            }
        }
    }

    fn exact_item(&mut self, field: &ast::Ident, source: &ast::ExactSource) {
        let k = match self.names.get(&field.name).map(|b| b.def) {
            Some(Def::Field(k)) => Some(k),
            Some(def) => {
                self.error(
                    Diagnostic::error(
                        "E0104",
                        format!(
                            "`exact` names a field, but `{}` is a {}",
                            field.name,
                            def.kind_name()
                        ),
                    )
                    .with_label(field.span, "not a field"),
                );
                None
            }
            None => {
                self.unknown_field(&field.name, field.span);
                None
            }
        };
        let lowered = match source {
            ast::ExactSource::Expr(expr) => {
                self.lower_expr(expr, Ctx::Exact).map(ExactSource::Expr)
            }
            ast::ExactSource::File(path) => {
                let field_name = k.map(|k| self.fields[k].name.clone());
                self.load_data(&field.name, path).and_then(|set| {
                    let column = set
                        .columns
                        .iter()
                        .position(|c| Some(c) == field_name.as_ref());
                    match (column, &field_name) {
                        (Some(column), _) => Some(ExactSource::Data { set, column }),
                        (None, Some(name)) => {
                            self.error(
                                Diagnostic::error(
                                    "E0305",
                                    format!(
                                        "reference file `{}` has no column for the field `{name}`",
                                        path.value
                                    ),
                                )
                                .with_label(path.span, "this file")
                                .with_help(format!("its header is `{}`", set.columns.join(","))),
                            );
                            None
                        }
                        (None, None) => None,
                    }
                })
            }
        };
        let (Some(k), Some(source)) = (k, lowered) else {
            return;
        };
        if let Some(first) = self.exact.iter().find(|e| e.field == k) {
            let first = first.span;
            self.error(
                Diagnostic::error("E0225", format!("two exact solutions for `{}`", field.name))
                    .with_label(field.span, "declared again here")
                    .with_label(first, "first declared here"),
            );
            return;
        }
        self.exact.push(ExactSolution {
            field: k,
            source,
            span: field.span,
        });
    }

    fn data_item(&mut self, name: &ast::Ident, path: &ast::StrLit) {
        let Some(Binding {
            def: Def::Data(i),
            span,
        }) = self.names.get(&name.name).copied()
        else {
            return;
        };
        if span != name.span {
            return;
        }
        self.data[i] = self.load_data(&name.name, path);
    }

    /// Reads a CSV and checks its columns against coordinates and fields.
    fn load_data(&mut self, name: &str, path: &ast::StrLit) -> Option<DataSet> {
        let resolved = self.base_dir.join(&path.value);
        let table = match read_table(&resolved, &path.value, path.span) {
            Ok(t) => t,
            Err(d) => {
                self.error(d);
                return None;
            }
        };
        let coords: Vec<String> = self.coords.iter().map(|c| c.name.clone()).collect();
        let fields: Vec<String> = self.fields.iter().map(|f| f.name.clone()).collect();
        match match_columns(&table, &coords, &fields, &path.value, path.span) {
            Ok(coord_columns) => Some(DataSet {
                name: name.to_string(),
                path: resolved,
                columns: table.columns,
                values: table.values,
                coord_columns,
                span: path.span,
            }),
            Err(errors) => {
                self.diags.extend(errors);
                None
            }
        }
    }

    fn whole_file_checks(&mut self, file: &ast::File, n_equations: usize) {
        // A statement that failed to parse may be the missing declaration or
        // equation: do not pile guesses on top of the syntax error.
        if file
            .items
            .iter()
            .any(|i| matches!(i.kind, ast::ItemKind::Error))
        {
            return;
        }
        let start = Span::new(0, 0);
        if self.fields.is_empty() && !self.names_declared_field(file) {
            self.error(
                Diagnostic::error("E0201", "no field is declared")
                    .with_label(start, "expected a `field` declaration")
                    .with_help("declare the unknown, e.g. `field u`"),
            );
        }
        let has_space = self.coords.iter().any(|c| c.kind == CoordKind::Space)
            || file
                .items
                .iter()
                .any(|i| matches!(i.kind, ast::ItemKind::Space { .. }));
        if !has_space {
            self.error(
                Diagnostic::error("E0222", "no space coordinate is declared")
                    .with_label(start, "expected a `space` declaration")
                    .with_help("declare one, e.g. `space x in [0, 1]`"),
            );
        }
        let equations: Vec<&ast::Item> = file
            .items
            .iter()
            .filter(|i| matches!(i.kind, ast::ItemKind::Equation { .. }))
            .collect();
        if equations.is_empty() {
            self.error(
                Diagnostic::error("E0223", "the problem has no equation")
                    .with_label(start, "expected an equation")
                    .with_help("write one, e.g. `-lap(u) = 1 on interior`"),
            );
        } else if n_equations > 0 || !self.diags.iter().any(Diagnostic::is_error) {
            let on_interior = equations.iter().any(|i| {
                matches!(&i.kind, ast::ItemKind::Equation { region, .. }
                    if matches!(&region.kind, ast::RegionKind::Named(n) if n.name == "interior"))
            });
            if !on_interior {
                self.error(
                    Diagnostic::warning("W0501", "no equation holds on `interior`")
                        .with_label(
                            equations[0].span,
                            "only boundary, initial or data equations",
                        )
                        .with_help("add the PDE itself, e.g. `... on interior`"),
                );
            }
        }
    }

    /// True when a `field` item exists (its names may all have been rejected).
    fn names_declared_field(&self, file: &ast::File) -> bool {
        file.items
            .iter()
            .any(|i| matches!(i.kind, ast::ItemKind::Field { .. }))
    }

    fn finish(self) -> (Option<Problem>, Vec<Diagnostic>) {
        if self.diags.iter().any(Diagnostic::is_error) {
            return (None, self.diags);
        }
        let data: Vec<DataSet> = self.data.into_iter().flatten().collect();
        let problem = Problem {
            coords: self.coords,
            domain: self.domain,
            fields: self.fields,
            params: self.params,
            data,
            periodic: self.periodic,
            jets: self.jets,
            exprs: self.arena,
            blocks: self.blocks,
            exact: self.exact,
            model: self.model,
            sample: self.sample,
            solve: self.solve,
        };
        (Some(problem), self.diags)
    }
}

/// The axis-aligned bounding box of a shape, `None` when it is empty.
pub(super) fn bounding_box(shape: &Shape) -> Option<Vec<(f64, f64)>> {
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
    use super::*;
    use crate::ir::display::{display_expr, display_jet};
    use crate::ir::testing::*;

    fn lower_items(items: Vec<ast::Item>) -> (Option<Problem>, Vec<Diagnostic>) {
        lower(&ast::File { items }, "", Path::new("."))
    }

    fn ok(items: Vec<ast::Item>) -> Problem {
        let (problem, diags) = lower_items(items);
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
        problem.expect("no errors means a problem")
    }

    fn codes(items: Vec<ast::Item>) -> Vec<&'static str> {
        lower_items(items).1.iter().map(|d| d.code).collect()
    }

    /// The linearization of block `b` as printed pairs `(jet, coefficient)`.
    fn linearization(p: &Problem, b: usize) -> Vec<(String, String)> {
        p.blocks[b]
            .linearization
            .iter()
            .map(|&(j, c)| (display_jet(p, j), display_expr(p, c)))
            .collect()
    }

    fn burgers() -> Vec<ast::Item> {
        vec![
            time("t", 0.0, 1.0),
            space("x", -1.0, 1.0),
            fields(&["u"]),
            equation("dt(u) + u*dx(u) - 0.01/pi*dxx(u)", "0", "interior"),
            equation("u", "-sin(pi*x)", "initial"),
            equation("u", "0", "x = -1"),
            equation("u", "0", "x = 1"),
        ]
    }

    #[test]
    fn burgers_linearizes_the_product_into_two_terms() {
        let p = ok(burgers());
        let b = &p.blocks[0];
        assert!(!b.linear);
        assert_eq!(b.order, 2);
        assert_eq!(b.region, Region::Interior);
        let lin = linearization(&p, 0);
        let get = |jet: &str| {
            lin.iter()
                .find(|(j, _)| j == jet)
                .map(|(_, c)| c.clone())
                .unwrap_or_else(|| panic!("no coefficient for {jet}: {lin:?}"))
        };
        assert_eq!(get("u"), "dx(u)");
        assert_eq!(get("dx(u)"), "u");
        assert_eq!(get("dt(u)"), "1");
        let c = b
            .linearization
            .iter()
            .find(|(j, _)| display_jet(&p, *j) == "dxx(u)")
            .and_then(|&(_, c)| p.exprs.as_const(c))
            .expect("constant coefficient on dxx(u)");
        assert!((c + 0.01 / std::f64::consts::PI).abs() < 1e-15, "{c}");
        assert_eq!(lin.len(), 4);
        assert_eq!(
            display_expr(&p, b.residual),
            "dt(u) + u*dx(u) - 0.003183098861837907*dxx(u)"
        );
        // Initial and face blocks are linear with coefficient 1 on u.
        assert!(p.blocks[1..].iter().all(|b| b.linear));
        assert_eq!(
            linearization(&p, 2),
            vec![("u".to_string(), "1".to_string())]
        );
        assert_eq!(
            p.blocks[2].region,
            Region::Face {
                coord: 1,
                side: Side::Lo
            }
        );
        assert_eq!(
            p.blocks[3].region,
            Region::Face {
                coord: 1,
                side: Side::Hi
            }
        );
        // Jets are shared: the value jet of u is JetId(0) everywhere.
        assert_eq!(
            p.jets[0],
            Jet {
                field: 0,
                deriv: Deriv::Partial(vec![0, 0])
            }
        );
        assert_eq!(p.jets.len(), 4);
    }

    #[test]
    fn heat_is_linear_with_constant_coefficients() {
        let p = ok(vec![
            time("t", 0.0, 1.0),
            space("x", 0.0, 1.0),
            fields(&["u"]),
            konst("kappa", "0.25"),
            equation("dt(u) - kappa*dxx(u)", "0", "interior"),
            equation("u", "sin(pi*x)", "initial"),
        ]);
        let b = &p.blocks[0];
        assert!(b.linear);
        assert_eq!(
            linearization(&p, 0),
            vec![
                ("dt(u)".to_string(), "1".to_string()),
                ("dxx(u)".to_string(), "-0.25".to_string())
            ]
        );
        assert_eq!(p.coords[0].kind, CoordKind::Time);
        assert_eq!(p.domain.time, Some(0));
        assert_eq!(p.domain.factors.len(), 1);
        assert_eq!(p.domain.factors[0].shape, Shape::Box(vec![(0.0, 1.0)]));
        assert_eq!(p.blocks[1].region, Region::Initial);
        // The initial block's residual keeps the coordinate: u - sin(pi*x).
        assert_eq!(
            display_expr(&p, p.blocks[1].residual),
            "u - sin(3.141592653589793*x)"
        );
    }

    #[test]
    fn nonlinear_terms_and_params() {
        let p = ok(vec![
            space("x", -1.0, 1.0),
            fields(&["u"]),
            item(ast::ItemKind::Param {
                name: ident("k"),
                init: expr("2"),
            }),
            equation("-k*dxx(u) + u^3", "cos(pi*x)", "interior"),
        ]);
        assert_eq!(p.params[0].init, 2.0);
        let b = &p.blocks[0];
        assert!(!b.linear);
        let lin = linearization(&p, 0);
        assert!(
            lin.contains(&("u".to_string(), "3*u^2".to_string())),
            "{lin:?}"
        );
        assert!(
            lin.contains(&("dxx(u)".to_string(), "-k".to_string())),
            "{lin:?}"
        );
        assert_eq!(b.param_derivatives.len(), 1);
        assert_eq!(display_expr(&p, b.param_derivatives[0].1), "-dxx(u)");
        // Only the equations on interior: no W0501.
    }

    #[test]
    fn periodic_adds_two_blocks_per_field() {
        let p = ok(vec![
            time("t", 0.0, 1.0),
            space("x", 0.0, 6.0),
            fields(&["u", "v"]),
            item(ast::ItemKind::Periodic {
                coords: vec![ident("x")],
            }),
            equation("dt(u) + 30*dx(u)", "0", "interior"),
            equation("dt(v) - dx(u)", "0", "interior"),
            equation("u", "sin(x)", "initial"),
        ]);
        assert_eq!(p.periodic, vec![1]);
        let periodic: Vec<&ResidualBlock> = p
            .blocks
            .iter()
            .filter(|b| b.region == Region::Periodic { coord: 1 })
            .collect();
        assert_eq!(periodic.len(), 4);
        let jets: Vec<String> = periodic
            .iter()
            .map(|b| display_jet(&p, b.jets[0]))
            .collect();
        assert_eq!(jets, vec!["u", "dx(u)", "v", "dx(v)"]);
        assert!(periodic.iter().all(|b| b.linear && b.weight == 1.0));
        assert_eq!(periodic[1].label, "periodic x: dx(u)");
    }

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

    fn base() -> Vec<ast::Item> {
        vec![
            space("x", 0.0, 1.0),
            fields(&["u"]),
            equation("dxx(u)", "0", "interior"),
        ]
    }

    fn with(extra: Vec<ast::Item>) -> Vec<&'static str> {
        let mut items = base();
        items.extend(extra);
        codes(items)
    }

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
            with(vec![equation("dx(u*u)", "0", "interior")]),
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
            codes(vec![
                fields(&["u"]),
                time("t", 0.0, 1.0),
                equation("dt(u)", "0", "interior")
            ]),
            vec!["E0222"]
        );
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
        if let ast::ItemKind::Field { names } = &mut first.kind {
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

    #[test]
    fn independent_errors_are_all_reported_without_cascades() {
        let diags = with(vec![
            konst("c", "u + 1"),
            // Uses the broken const: no second report.
            equation("c*u", "0", "interior"),
            equation("dxx(v)", "q", "interior"),
            equation("u", "0", "x = 3"),
        ]);
        assert_eq!(diags, vec!["E0204", "E0104", "E0101", "E0216"]);
    }

    #[test]
    fn configuration_is_read_and_checked() {
        let entry = |key: &str, value: &str| ast::ConfigEntry {
            key: ident(key),
            value: ast::ConfigValue::Expr(expr(value)),
            count: None,
            span: Span::default(),
        };
        let mut items = base();
        items.push(item(ast::ItemKind::Model {
            value: expr("mlp(layers = [64, 32], activation = sin, shared)"),
        }));
        let mut face = entry("x", "0");
        face.count = Some(expr("50"));
        items.push(item(ast::ItemKind::Sample {
            entries: vec![
                entry("interior", "900"),
                face,
                entry("sampler", "halton"),
                entry("seed", "3"),
                ast::ConfigEntry {
                    key: ident("resample"),
                    value: ast::ConfigValue::Every(expr("10")),
                    count: None,
                    span: Span::default(),
                },
            ],
        }));
        items.push(item(ast::ItemKind::Solve {
            entries: vec![
                entry("optimizer", "engd"),
                entry("iterations", "200"),
                entry("damping", "1e-8"),
                entry("patience", "50"),
                entry("min_improvement", "1e-3"),
                entry("line_search", "grid"),
            ],
        }));
        let p = ok(items);
        assert_eq!(p.model.layers, vec![64, 32]);
        assert_eq!(p.model.activation, crate::ir::Activation::Sin);
        assert!(p.model.shared);
        assert_eq!(p.sample.interior, 900);
        assert_eq!(p.sample.faces, vec![(0, Side::Lo, 50)]);
        assert_eq!(p.sample.sampler, crate::ir::Sampler::Halton);
        assert_eq!(p.sample.seed, 3);
        assert_eq!(p.sample.resample, Some(10));
        assert_eq!(p.sample.boundary, 200);
        assert_eq!(p.solve.optimizer, crate::ir::OptimizerKind::Engd);
        assert_eq!(p.solve.iterations, 200);
        assert_eq!(p.solve.patience, Some(50));
        assert_eq!(p.solve.min_improvement, Some(1e-3));
        assert_eq!(
            p.solve.options,
            vec![
                ("damping".to_string(), crate::ir::ConfigScalar::Number(1e-8)),
                (
                    "line_search".to_string(),
                    crate::ir::ConfigScalar::Word("grid".to_string())
                )
            ]
        );

        let mut items = base();
        items.push(item(ast::ItemKind::Model {
            value: expr("mlp(layers = [0], activation = tahn)"),
        }));
        items.push(item(ast::ItemKind::Sample {
            entries: vec![entry("interior", "1.5"), entry("x", "0")],
        }));
        items.push(item(ast::ItemKind::Solve {
            entries: vec![
                entry("optimiser", "engd"),
                entry("optimizer", "sgd"),
                entry("iterations", "5"),
                entry("iterations", "6"),
                entry("patience", "0"),
                entry("min_improvement", "1"),
            ],
        }));
        let diags = lower_items(items).1;
        let got: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(
            got,
            vec!["E0405", "E0402", "E0405", "E0406", "E0403", "E0402", "E0408", "E0405", "E0405"]
        );
        assert_eq!(
            diags[1].help.as_deref(),
            Some("did you mean `tanh`? (choices: tanh, sin, sigmoid, softplus, silu)")
        );
        assert_eq!(diags[4].help.as_deref(), Some("did you mean `optimizer`?"));
    }

    #[test]
    fn data_sets_are_loaded_and_their_columns_usable_only_on_them() {
        let dir = std::env::temp_dir().join(format!("pdec-ir-lower-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("obs.csv"), "x,u\n0.1,0.5\n0.2,0.7\n").expect("write");
        std::fs::write(dir.join("bad.csv"), "x,w\n0.1,0.5\n").expect("write");
        let data = |name: &str, file: &str| {
            item(ast::ItemKind::Data {
                name: ident(name),
                path: ast::StrLit {
                    value: file.to_string(),
                    span: Span::default(),
                },
            })
        };
        let items = vec![
            space("x", 0.0, 1.0),
            fields(&["u"]),
            item(ast::ItemKind::Param {
                name: ident("k"),
                init: expr("1"),
            }),
            data("obs", "obs.csv"),
            equation("-k*dxx(u)", "1", "interior"),
            equation("u", "obs.u", "obs"),
        ];
        let (p, diags) = lower(
            &ast::File {
                items: items.clone(),
            },
            "",
            &dir,
        );
        assert!(diags.is_empty(), "{diags:#?}");
        let p = p.expect("problem");
        assert_eq!(p.data[0].n_rows(), 2);
        assert_eq!(p.data[0].coord_columns, vec![0]);
        assert_eq!(p.blocks[1].region, Region::Data { set: 0 });
        assert_eq!(display_expr(&p, p.blocks[1].residual), "u - obs.u");

        let mut items2 = items.clone();
        items2.push(equation("u", "obs.u", "interior"));
        items2.push(equation("u", "obs.v", "obs"));
        items2.push(data("missing", "nope.csv"));
        items2.push(data("bad", "bad.csv"));
        let (_, diags) = lower(&ast::File { items: items2 }, "", &dir);
        let got: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(got, vec!["E0301", "E0306", "E0210", "E0211"]);
    }
}
