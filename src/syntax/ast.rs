//! The abstract syntax tree of a `.pde` file. Every node carries its [`Span`].
//!
//! The AST is deliberately close to the text: shapes, configuration values and
//! numeric expressions share one expression type ([`Expr`]), and the IR phase
//! decides what each expression means where it stands.

use crate::span::Span;
use serde::Serialize;

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal (file path) without its quotes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// A whole parsed file.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct File {
    pub items: Vec<Item>,
}

/// One top-level statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

// Items are few (one per statement), so boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ItemKind {
    /// `space x in [a, b]` or `space (x, y) in disk((0, 0), 1) - box([..], [..])`.
    Space { coords: Vec<Ident>, domain: Expr },
    /// `time t in [t0, t1]`.
    Time { coord: Ident, interval: Expr },
    /// `field u, v`.
    Field { names: Vec<Ident> },
    /// `const name = expr`.
    Const { name: Ident, value: Expr },
    /// `param name = init`.
    Param { name: Ident, init: Expr },
    /// `let name = expr`.
    Let { name: Ident, value: Expr },
    /// `data name from "file.csv"`.
    Data { name: Ident, path: StrLit },
    /// `periodic x, y`.
    Periodic { coords: Vec<Ident> },
    /// `exact u = expr` or `exact u from "ref.csv"`.
    Exact { field: Ident, source: ExactSource },
    /// `lhs = rhs on region [weight w]`.
    Equation {
        lhs: Expr,
        rhs: Expr,
        region: Region,
        weight: Option<Expr>,
    },
    /// `model mlp(layers = [20, 20], activation = tanh)`: the value is a call expression.
    Model { value: Expr },
    /// `sample interior = 900, x = 0 : 50, sampler = halton`.
    Sample { entries: Vec<ConfigEntry> },
    /// `solve optimizer = sngd, iterations = 2000`.
    Solve { entries: Vec<ConfigEntry> },
    /// A statement that failed to parse; its diagnostic was already reported.
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExactSource {
    Expr(Expr),
    File(StrLit),
}

/// Where an equation holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    pub kind: RegionKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum RegionKind {
    /// `interior`, `boundary`, `initial`, or the name of a `data` set.
    Named(Ident),
    /// `x = c`: a face of the box.
    Face { coord: Ident, value: Expr },
}

/// `key = value` or `key = value : count` (a face's sample count: `x = 0 : 50`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigEntry {
    pub key: Ident,
    pub value: ConfigValue,
    pub count: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ConfigValue {
    Expr(Expr),
    /// `every k` (for `resample`).
    Every(Expr),
}

/// An expression: numeric, symbolic, a shape or a configuration value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// `&`: shape intersection.
    And,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    /// A numeric literal; `text` is kept for messages (`1e999` overflows).
    Number { value: f64, text: String },
    /// A name: coordinate, field, constant, param, let, data set, builtin or keyword value.
    Name(String),
    /// `-e`.
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `f(a, b, key = c)`: builtins, derivative operators, shapes, `mlp(...)`.
    Call { func: Ident, args: Vec<Arg> },
    /// `[a, b, ...]`: intervals and layer lists.
    List(Vec<Expr>),
    /// `(a, b, ...)` with at least two elements: points (a disk's centre).
    Tuple(Vec<Expr>),
    /// `obs.u`: a column of a data set.
    Member { base: Ident, member: Ident },
    /// A sub-expression that failed to parse (already reported).
    Error,
}

/// A call argument, positional or `name = value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}
