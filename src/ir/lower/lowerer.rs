//! The state of one lowering ([`Lowerer`]) and its passes: names, then
//! constants, then everything else, then the checks on the whole file.

use super::super::{
    Coord, DataSet, Deriv, Domain, ExactSolution, Field, GridData, GridTerm, Jet, ModelConfig,
    Param, Problem, ResidualBlock, SampleConfig, SolveSettings,
};
use crate::diagnostic::Diagnostic;
use crate::ir::expr::{ExprArena, ExprId, GridTermId, JetId};
use crate::span::Span;
use crate::syntax::ast;
use std::collections::HashMap;
use std::path::Path;

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
    lower_with(file, source, base_dir, false)
}

/// [`lower`] with every equation kept as written: no condition is built into
/// the ansatz, whatever the model's `constraints` (for showing what an
/// expression lowers to).
pub fn lower_as_written(
    file: &ast::File,
    source: &str,
    base_dir: &Path,
) -> (Option<Problem>, Vec<Diagnostic>) {
    lower_with(file, source, base_dir, true)
}

fn lower_with(
    file: &ast::File,
    source: &str,
    base_dir: &Path,
    as_written: bool,
) -> (Option<Problem>, Vec<Diagnostic>) {
    let mut lowerer = Lowerer::new(source, base_dir);
    lowerer.as_written = as_written;
    lowerer.run(file);
    lowerer.finish()
}

/// The names a declaration statement introduces, read from its text: used for
/// statements that failed to parse, so that their names are known to exist.
fn names_declared_in(text: &str) -> Vec<String> {
    const DECLARATIONS: [&str; 8] = [
        "space", "time", "field", "const", "param", "let", "data", "shape",
    ];
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
pub(in crate::ir) enum Def {
    Coord(usize),
    Field(usize),
    Const(usize),
    Param(usize),
    Let(usize),
    Data(usize),
    Grid(usize),
    Shape(usize),
}

impl Def {
    pub(in crate::ir) fn kind_name(self) -> &'static str {
        match self {
            Def::Coord(_) => "coordinate",
            Def::Field(_) => "field",
            Def::Const(_) => "constant",
            Def::Param(_) => "param",
            Def::Let(_) => "let",
            Def::Data(_) => "data set",
            Def::Grid(_) => "grid",
            Def::Shape(_) => "shape",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(in crate::ir) struct Binding {
    pub def: Def,
    pub span: Span,
}

/// Progress of a `const` or `let` that is defined in source order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::ir) enum State<T> {
    Pending,
    /// Being lowered now: a use is a self-reference.
    Active,
    Done(Option<T>),
}

/// What an expression may contain where it stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::ir) enum Ctx {
    /// Numbers and constants only; the string says what the value is for.
    Const(&'static str),
    /// An exact solution: coordinates and constants.
    Exact,
    /// A condition after `where`: coordinates and constants.
    Condition,
    /// A `let` body: anything; restrictions are checked where it is used.
    Let,
    /// An equation on a region.
    Equation {
        normal_ok: bool,
        data: Option<usize>,
    },
}

/// A `shape name = ...` declaration while lowering.
#[derive(Debug, Clone)]
pub(in crate::ir) struct NamedShape {
    /// The shape, once lowered (`None` inside: it had an error).
    pub state: State<crate::ir::Shape>,
    /// The named shapes it is built from, itself included, transitively.
    pub parts: Vec<usize>,
    /// The coordinate groups of the `space` lines whose domain uses it.
    pub domains: Vec<Vec<usize>>,
}

/// Per-coordinate facts needed while lowering.
#[derive(Debug, Clone, Copy, Default)]
pub(in crate::ir) struct CoordInfo {
    /// Declared by an interval (`space x in [a, b]` or `time`).
    pub interval: bool,
    /// Its domain was valid (lo/hi are meaningful).
    pub ok: bool,
}

pub(in crate::ir) struct Lowerer<'a> {
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
    /// The grid data sets (`None` until loaded, or when loading failed).
    pub grids: Vec<Option<GridData>>,
    pub grid_terms: Vec<GridTerm>,
    pub grid_term_index: HashMap<GridTerm, GridTermId>,
    pub shapes: Vec<NamedShape>,
    /// The named shapes met while lowering the current shape expression.
    pub shape_parts: Vec<usize>,
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
    /// A `space` statement exists (also one that failed to parse): false in a
    /// time-only problem, where `boundary`, `lap` and `dn` have no meaning.
    pub space_declared: bool,
    pub model_span: Option<Span>,
    /// Spans of the `harmonics` and `features` model keys, for the checks that
    /// need the periodic coordinates.
    pub harmonics_span: Option<Span>,
    pub features_span: Option<Span>,
    pub sample_keys: HashMap<String, Span>,
    pub solve_keys: HashMap<String, Span>,
    /// Fields built with hard constraints ([`Lowerer::hard_constraints`]).
    pub ansatz: Vec<crate::ir::FieldAnsatz>,
    pub soft_conditions: Vec<crate::ir::SoftCondition>,
    /// Skip [`Lowerer::hard_constraints`] ([`lower_as_written`]).
    pub as_written: bool,
}

impl<'a> Lowerer<'a> {
    pub(super) fn new(source: &'a str, base_dir: &'a Path) -> Self {
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
            grids: Vec::new(),
            grid_terms: Vec::new(),
            grid_term_index: HashMap::new(),
            shapes: Vec::new(),
            shape_parts: Vec::new(),
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
            space_declared: false,
            model_span: None,
            harmonics_span: None,
            features_span: None,
            sample_keys: HashMap::new(),
            solve_keys: HashMap::new(),
            ansatz: Vec::new(),
            soft_conditions: Vec::new(),
            as_written: false,
        }
    }

    pub(in crate::ir) fn error(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    pub(super) fn run(&mut self, file: &ast::File) {
        // Names declared by statements that failed to parse: their uses are
        // not reported again (the syntax error already was).
        for item in &file.items {
            if item.kind == ast::ItemKind::Error {
                let text = self.source.get(item.span.range()).unwrap_or("");
                self.rejected.extend(names_declared_in(text));
            }
        }
        self.space_declared = file.items.iter().any(|item| match item.kind {
            ast::ItemKind::Space { .. } => true,
            ast::ItemKind::Error => self
                .source
                .get(item.span.range())
                .is_some_and(|text| text.trim_start().starts_with("space")),
            _ => false,
        });
        // Pass 1: names.
        let mut let_items = Vec::new();
        let mut const_items = Vec::new();
        for item in &file.items {
            self.declare(item, &mut const_items, &mut let_items);
        }
        for item in &file.items {
            if let ast::ItemKind::Field { names, coords } = &item.kind {
                for (name, list) in names.iter().zip(coords) {
                    if let Some(list) = list {
                        self.field_coords(name, list);
                    }
                }
            }
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
        // Pass 3: everything else; named shapes first, so that any `space` line
        // may use them.
        for item in &file.items {
            if let ast::ItemKind::Shape { name, value } = &item.kind {
                self.shape_item(name, value);
            }
        }
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
                ast::ItemKind::Data { name, path, kind } => {
                    self.data_item(name, path, kind.as_ref())
                }
                _ => {}
            }
        }
        self.finish_domain();
        self.grid_coverage();
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
        self.embedding_checks();
        self.sample_usage_checks();
        self.whole_file_checks(file, n_equations);
        if !self.as_written && !self.diags.iter().any(Diagnostic::is_error) {
            self.hard_constraints();
        }
    }

    pub(super) fn whole_file_checks(&mut self, file: &ast::File, n_equations: usize) {
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
        // A time coordinate alone makes an ODE system; no coordinate at all is
        // not a problem.
        if !self.space_declared && self.time_span.is_none() {
            self.error(
                Diagnostic::error("E0222", "no coordinate is declared")
                    .with_label(start, "expected a `space` or `time` declaration")
                    .with_help("declare one, e.g. `space x in [0, 1]` or `time t in [0, 10]`"),
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

    /// True in a time-only problem (a `time` and no `space` declaration).
    pub(in crate::ir) fn time_only(&self) -> bool {
        !self.space_declared && self.time_span.is_some()
    }

    /// Reports `E0228` for `what` (the region `boundary`, `lap`, `dn`) in a
    /// time-only problem, where it has no meaning.
    pub(in crate::ir) fn needs_space(&mut self, what: &str, span: Span) {
        let faces = match self.domain.time {
            Some(t) if self.coord_info[t].ok => {
                let c = &self.coords[t];
                let num = crate::ir::display::display_number;
                format!("`{} = {}`, `{} = {}`", c.name, num(c.lo), c.name, num(c.hi))
            }
            _ => "of the time interval".to_string(),
        };
        self.error(
            Diagnostic::error("E0228", format!("`{what}` needs a space coordinate"))
                .with_label(span, "the problem has only the time coordinate")
                .with_help(format!(
                    "a time-only problem has the regions `interior`, `initial` and the faces {faces}"
                )),
        );
    }

    /// True when a `field` item exists (its names may all have been rejected).
    pub(super) fn names_declared_field(&self, file: &ast::File) -> bool {
        file.items
            .iter()
            .any(|i| matches!(i.kind, ast::ItemKind::Field { .. }))
    }

    pub(super) fn finish(self) -> (Option<Problem>, Vec<Diagnostic>) {
        if self.diags.iter().any(Diagnostic::is_error) {
            return (None, self.diags);
        }
        let data: Vec<DataSet> = self.data.into_iter().flatten().collect();
        let grids: Vec<GridData> = self.grids.into_iter().flatten().collect();
        let problem = Problem {
            coords: self.coords,
            domain: self.domain,
            fields: self.fields,
            params: self.params,
            data,
            grids,
            grid_terms: self.grid_terms,
            periodic: self.periodic,
            jets: self.jets,
            exprs: self.arena,
            blocks: self.blocks,
            exact: self.exact,
            model: self.model,
            sample: self.sample,
            solve: self.solve,
            ansatz: self.ansatz,
            soft_conditions: self.soft_conditions,
        };
        (Some(problem), self.diags)
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::testing::*;
    use crate::ir::Side;
    use crate::span::Span;
    use crate::syntax::ast;

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
        assert_eq!(p.solve.optimizer, Some(crate::ir::OptimizerKind::Engd));
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
                entry("patience", "2.5"),
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
}
