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
    /// The identifier.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A string literal (file path) without its quotes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrLit {
    /// The contents, without quotes.
    pub value: String,
    /// Where it is (quotes included).
    pub span: Span,
}

/// A whole parsed file.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct File {
    /// The items, in source order.
    pub items: Vec<Item>,
}

/// One top-level statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// What the item is.
    pub kind: ItemKind,
    /// The whole line.
    pub span: Span,
}

// Items are few (one per statement), so boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
/// One top-level line of a `.pde` file.
pub enum ItemKind {
    /// `space x in [a, b]` or `space (x, y) in disk((0, 0), 1) - box([..], [..])`.
    Space {
        /// The declared coordinates.
        coords: Vec<Ident>,
        /// The domain expression (interval, box, shape, CSG).
        domain: Expr,
    },
    /// `time t in [t0, t1]`.
    Time {
        /// The time coordinate.
        coord: Ident,
        /// Its interval.
        interval: Expr,
    },
    /// `field u, v` or `field u, a(x)`.
    Field {
        /// The declared names.
        names: Vec<Ident>,
        /// One entry per name: the coordinates in parentheses after it, if any.
        coords: Vec<Option<FieldCoords>>,
    },
    /// `const name = expr`.
    Const {
        /// Its name.
        name: Ident,
        /// Its value.
        value: Expr,
    },
    /// `param name = init`.
    Param {
        /// Its name.
        name: Ident,
        /// Its initial value.
        init: Expr,
    },
    /// `let name = expr`.
    Let {
        /// Its name.
        name: Ident,
        /// Its definition.
        value: Expr,
    },
    /// `data name from "file.csv"`, or `... as grid`.
    Data {
        /// Its name.
        name: Ident,
        /// The CSV file.
        path: StrLit,
        /// The word after `as` (`grid`), checked in `ir`.
        kind: Option<Ident>,
    },
    /// `periodic x, y`.
    Periodic {
        /// The periodic coordinates.
        coords: Vec<Ident>,
    },
    /// `exact u = expr` or `exact u from "ref.csv"`.
    Exact {
        /// The field.
        field: Ident,
        /// The solution.
        source: ExactSource,
    },
    /// `shape hole = disk((0, 0), 0.3)`: a named shape, usable in domains and
    /// in `on boundary of hole`.
    Shape {
        /// Its name.
        name: Ident,
        /// The shape expression.
        value: Expr,
    },
    /// `lhs = rhs on region [weight w]`.
    Equation {
        /// Left-hand side.
        lhs: Expr,
        /// Right-hand side.
        rhs: Expr,
        /// Where it holds.
        region: Region,
        /// Optional `weight = w`.
        weight: Option<Expr>,
    },
    /// `model mlp(layers = [20, 20], activation = tanh)`: the value is a call expression.
    Model {
        /// The model expression.
        value: Expr,
    },
    /// `sample interior = 900, x = 0 : 50, sampler = halton`.
    Sample {
        /// Its entries.
        entries: Vec<ConfigEntry>,
    },
    /// `solve optimizer = sngd, iterations = 2000`.
    Solve {
        /// Its entries.
        entries: Vec<ConfigEntry>,
    },
    /// A statement that failed to parse; its diagnostic was already reported.
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// The right-hand side of `exact`.
pub enum ExactSource {
    /// A closed-form expression.
    Expr(Expr),
    /// A CSV file.
    File(StrLit),
}

/// Where an equation holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    /// Which region.
    pub kind: RegionKind,
    /// Where it is written.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// The region after `on`.
pub enum RegionKind {
    /// `interior`, `boundary`, `initial`, or the name of a `data` set.
    Named(Ident),
    /// `x = c`: a face of the box.
    Face {
        /// The coordinate.
        coord: Ident,
        /// The end of its interval.
        value: Expr,
    },
    /// `boundary of hole`: the part of the domain's boundary on the boundary of
    /// a named shape.
    BoundaryOf {
        /// The word before `of` (`boundary`; anything else is reported in `ir`).
        word: Ident,
        /// The named shape.
        shape: Ident,
    },
    /// `boundary where x = 1`, `boundary of hole where y > 0 and x < 1`: the
    /// points of `base` where every condition holds (which bases allow one is
    /// checked in `ir`).
    Where {
        /// The region narrowed.
        base: Box<Region>,
        /// The conditions, joined by `and`.
        conditions: Vec<Condition>,
    },
}

/// One comparison after `where`: `x < -0.49`, `y = 1.5`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// Left side.
    pub lhs: Expr,
    /// The comparison.
    pub relation: Relation,
    /// Right side.
    pub rhs: Expr,
    /// The whole comparison.
    pub span: Span,
}

/// The comparison of a [`Condition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Relation {
    /// `<`.
    Less,
    /// `<=`.
    LessEq,
    /// `>`.
    Greater,
    /// `>=`.
    GreaterEq,
    /// `=`: equal up to a tolerance (see `docs/language.md`).
    Equal,
}

impl Relation {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Relation::Less => "<",
            Relation::LessEq => "<=",
            Relation::Greater => ">",
            Relation::GreaterEq => ">=",
            Relation::Equal => "=",
        }
    }
}

/// `key = value` or `key = value : count` (a face's sample count: `x = 0 : 50`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigEntry {
    /// The key.
    pub key: Ident,
    /// The value.
    pub value: ConfigValue,
    /// Optional point count (`interior = 500`).
    pub count: Option<Expr>,
    /// The whole entry.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// The value of a configuration entry.
pub enum ConfigValue {
    /// An expression.
    Expr(Expr),
    /// `every k` (for `resample`).
    Every(Expr),
    /// `value every k` (for `adaptive = rad(1, 1) every 100`).
    WithEvery(Expr, Expr),
}

/// An expression: numeric, symbolic, a shape or a configuration value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
/// A binary operator.
pub enum BinOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `^`.
    Pow,
    /// `&`: shape intersection.
    And,
    /// `<` (only in the condition of `if`).
    Less,
    /// `<=`.
    LessEq,
    /// `>`.
    Greater,
    /// `>=`.
    GreaterEq,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
            BinOp::And => "&",
            BinOp::Less => "<",
            BinOp::LessEq => "<=",
            BinOp::Greater => ">",
            BinOp::GreaterEq => ">=",
        }
    }

    /// Whether this is a comparison (`<`, `<=`, `>`, `>=`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Less | BinOp::LessEq | BinOp::Greater | BinOp::GreaterEq
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// An expression node.
pub enum ExprKind {
    /// A numeric literal; `text` is kept for messages (`1e999` overflows).
    Number {
        /// Its value.
        value: f64,
        /// Its text as written.
        text: String,
    },
    /// A name: coordinate, field, constant, param, let, data set, builtin or keyword value.
    Name(String),
    /// `-e`.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `f(a, b, key = c)`: builtins, derivative operators, shapes, `mlp(...)`.
    Call {
        /// The function.
        func: Ident,
        /// Its arguments.
        args: Vec<Arg>,
    },
    /// `[a, b, ...]`: intervals and layer lists.
    List(Vec<Expr>),
    /// `(a, b, ...)` with at least two elements: points (a disk's centre).
    Tuple(Vec<Expr>),
    /// `obs.u`: a column of a data set.
    Member {
        /// The name before the dot.
        base: Ident,
        /// The name after the dot.
        member: Ident,
    },
    /// A sub-expression that failed to parse (already reported).
    Error,
}

/// A call argument, positional or `name = value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arg {
    /// Its name, for `name = value` arguments.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}

impl Expr {
    /// An expression of `kind` at `span`.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}

/// The coordinate list of a field of some coordinates only: `(x, y)` in `field a(x, y)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldCoords {
    /// The names in parentheses, in source order (possibly none).
    pub coords: Vec<Ident>,
    /// The parentheses and what is between them.
    pub span: Span,
}
