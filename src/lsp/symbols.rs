//! What each name in a document is: declarations and every occurrence of a name,
//! read from the AST (so that they exist even when the file has errors and no lowered
//! [`Problem`](crate::ir::Problem)).

use crate::span::Span;
use crate::syntax::ast::{
    ConfigEntry, ConfigValue, ExactSource, Expr, ExprKind, File, Ident, ItemKind, Region,
    RegionKind,
};

/// What a declaration declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    /// `space x in ...`.
    Space,
    /// `time t in ...`.
    Time,
    /// `field u`.
    Field,
    /// `const c = ...`.
    Const,
    /// `param k = ...`.
    Param,
    /// `let w = ...`.
    Let,
    /// `data obs from "..."`.
    Data,
    /// `data k from "..." as grid`.
    Grid,
    /// `shape hole = disk(...)`.
    Shape,
}

impl DeclKind {
    /// The word used in hovers and completion details.
    pub fn describe(self) -> &'static str {
        match self {
            DeclKind::Space => "space coordinate",
            DeclKind::Time => "time coordinate",
            DeclKind::Field => "field",
            DeclKind::Const => "constant",
            DeclKind::Param => "param",
            DeclKind::Let => "let",
            DeclKind::Data => "data set",
            DeclKind::Grid => "grid",
            DeclKind::Shape => "shape",
        }
    }
}

/// One declared name.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// The name.
    pub name: String,
    /// What it is.
    pub kind: DeclKind,
    /// Where the name is written in its declaration.
    pub name_span: Span,
    /// The whole declaring statement.
    pub item_span: Span,
    /// Index of the declaring item in the file.
    pub item: usize,
}

/// Which configuration statement a key or value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `model ...`.
    Model,
    /// `sample ...`.
    Sample,
    /// `solve ...`.
    Solve,
}

/// The role of one occurrence of a name.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// The name in its declaration.
    Declaration,
    /// A name used as a value.
    Value,
    /// A name called as a function: builtins, derivative operators, shapes, `mlp`.
    Call {
        /// Span of the whole call.
        call: Span,
        /// The first positional argument, when it is a plain name (`u` in `dxx(u)`).
        argument: Option<String>,
        /// The remaining positional arguments that are plain names (`x` in `d(u, x)`).
        rest: Vec<String>,
    },
    /// A region name after `on`.
    Region {
        /// Index of the equation item.
        item: usize,
    },
    /// The coordinate of a face `x = c` after `on`.
    Face {
        /// Index of the equation item.
        item: usize,
    },
    /// A configuration key (`iterations`, `layers`).
    ConfigKey(Section),
    /// A bare word as a configuration value (`tanh`, `engd`, `halton`).
    ConfigWord {
        /// The statement.
        section: Section,
        /// The key it is the value of.
        key: String,
    },
    /// The data set of `obs.u`.
    MemberBase,
    /// The column of `obs.u`.
    Member {
        /// The data set's name.
        base: String,
    },
}

/// One name as written, with its role.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: Span,
    /// What it is there.
    pub role: Role,
    /// Index of the item it is in.
    pub item: usize,
}

/// The declarations and occurrences of a file.
#[derive(Debug, Clone, Default)]
pub struct Symbols {
    /// Every declaration, in source order.
    pub declarations: Vec<Declaration>,
    /// Every occurrence of a name (declarations included), in source order.
    pub occurrences: Vec<Occurrence>,
}

impl Symbols {
    /// Collects the names of `file`.
    pub fn new(file: &File) -> Self {
        let mut collector = Collector::default();
        for (index, item) in file.items.iter().enumerate() {
            collector.item(index, &item.kind, item.span);
        }
        let mut symbols = collector.symbols;
        symbols
            .occurrences
            .sort_by_key(|o| (o.span.start, o.span.end));
        symbols
    }

    /// The first declaration of `name` (a second one is an error, E0106).
    pub fn declaration(&self, name: &str) -> Option<&Declaration> {
        self.declarations.iter().find(|d| d.name == name)
    }

    /// The innermost occurrence at byte `offset`: one that covers it, else one that ends
    /// exactly there (the cursor just after a name).
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        let covers =
            |o: &&Occurrence| (o.span.start as usize) <= offset && offset < o.span.end as usize;
        let touches = |o: &&Occurrence| o.span.end as usize == offset;
        self.occurrences
            .iter()
            .filter(covers)
            .min_by_key(|o| o.span.len())
            .or_else(|| self.occurrences.iter().find(touches))
    }
}

#[derive(Default)]
struct Collector {
    symbols: Symbols,
}

impl Collector {
    fn declare(&mut self, ident: &Ident, kind: DeclKind, item: usize, item_span: Span) {
        self.symbols.declarations.push(Declaration {
            name: ident.name.clone(),
            kind,
            name_span: ident.span,
            item_span,
            item,
        });
        self.occur(ident, Role::Declaration, item);
    }

    fn occur(&mut self, ident: &Ident, role: Role, item: usize) {
        self.symbols.occurrences.push(Occurrence {
            name: ident.name.clone(),
            span: ident.span,
            role,
            item,
        });
    }

    fn item(&mut self, item: usize, kind: &ItemKind, span: Span) {
        match kind {
            ItemKind::Space { coords, domain } => {
                for coord in coords {
                    self.declare(coord, DeclKind::Space, item, span);
                }
                self.expr(domain, item);
            }
            ItemKind::Time { coord, interval } => {
                self.declare(coord, DeclKind::Time, item, span);
                self.expr(interval, item);
            }
            ItemKind::Field { names, .. } => {
                for name in names {
                    self.declare(name, DeclKind::Field, item, span);
                }
            }
            ItemKind::Const { name, value } => {
                self.declare(name, DeclKind::Const, item, span);
                self.expr(value, item);
            }
            ItemKind::Param { name, init } => {
                self.declare(name, DeclKind::Param, item, span);
                self.expr(init, item);
            }
            ItemKind::Let { name, value } => {
                self.declare(name, DeclKind::Let, item, span);
                self.expr(value, item);
            }
            ItemKind::Data { name, kind, .. } => {
                let decl = if kind.is_some() {
                    DeclKind::Grid
                } else {
                    DeclKind::Data
                };
                self.declare(name, decl, item, span)
            }
            ItemKind::Shape { name, value } => {
                self.declare(name, DeclKind::Shape, item, span);
                self.expr(value, item);
            }
            ItemKind::Periodic { coords } => {
                for coord in coords {
                    self.occur(coord, Role::Value, item);
                }
            }
            ItemKind::Exact { field, source } => {
                self.occur(field, Role::Value, item);
                if let ExactSource::Expr(expr) = source {
                    self.expr(expr, item);
                }
            }
            ItemKind::Equation {
                lhs,
                rhs,
                region,
                weight,
            } => {
                self.expr(lhs, item);
                self.expr(rhs, item);
                self.region(region, item);
                if let Some(weight) = weight {
                    self.expr(weight, item);
                }
            }
            ItemKind::Model { value } => self.config_value(value, Section::Model, "", item),
            ItemKind::Sample { entries } => self.entries(entries, Section::Sample, item),
            ItemKind::Solve { entries } => self.entries(entries, Section::Solve, item),
            ItemKind::Error => {}
        }
    }

    /// The names of an equation's region (and of its `where` conditions).
    fn region(&mut self, region: &Region, item: usize) {
        match &region.kind {
            RegionKind::Named(name) => self.occur(name, Role::Region { item }, item),
            RegionKind::Face { coord, value } => {
                self.occur(coord, Role::Face { item }, item);
                self.expr(value, item);
            }
            RegionKind::BoundaryOf { word, shape } => {
                self.occur(word, Role::Region { item }, item);
                self.occur(shape, Role::Value, item);
            }
            RegionKind::Where { base, conditions } => {
                self.region(base, item);
                for condition in conditions {
                    self.expr(&condition.lhs, item);
                    self.expr(&condition.rhs, item);
                }
            }
        }
    }

    fn entries(&mut self, entries: &[ConfigEntry], section: Section, item: usize) {
        for entry in entries {
            self.occur(&entry.key, Role::ConfigKey(section), item);
            let value = match &entry.value {
                ConfigValue::Expr(expr) | ConfigValue::Every(expr) => expr,
                ConfigValue::WithEvery(expr, every) => {
                    self.expr(every, item);
                    expr
                }
            };
            self.config_value(value, section, &entry.key.name, item);
            if let Some(count) = &entry.count {
                self.expr(count, item);
            }
        }
    }

    /// A configuration value: a bare word is a [`Role::ConfigWord`]; `mlp(...)`'s
    /// named arguments are keys of `model`.
    fn config_value(&mut self, value: &Expr, section: Section, key: &str, item: usize) {
        match &value.kind {
            ExprKind::Name(name) => self.symbols.occurrences.push(Occurrence {
                name: name.clone(),
                span: value.span,
                role: Role::ConfigWord {
                    section,
                    key: key.to_string(),
                },
                item,
            }),
            ExprKind::Call { func, args }
                if section == Section::Model
                    || (section == Section::Sample && key == "adaptive") =>
            {
                self.occur(
                    func,
                    Role::ConfigWord {
                        section,
                        key: String::new(),
                    },
                    item,
                );
                for arg in args {
                    match &arg.name {
                        Some(name) => {
                            self.occur(name, Role::ConfigKey(section), item);
                            self.config_value(&arg.value, section, &name.name, item);
                        }
                        None => self.config_value(&arg.value, section, "", item),
                    }
                }
            }
            _ => self.expr(value, item),
        }
    }

    /// Every name in an expression. The parser caps the depth of expressions (256),
    /// so this recursion is bounded.
    fn expr(&mut self, expr: &Expr, item: usize) {
        match &expr.kind {
            ExprKind::Number { .. } | ExprKind::Error => {}
            ExprKind::Name(name) => self.symbols.occurrences.push(Occurrence {
                name: name.clone(),
                span: expr.span,
                role: Role::Value,
                item,
            }),
            ExprKind::Neg(inner) => self.expr(inner, item),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs, item);
                self.expr(rhs, item);
            }
            ExprKind::Call { func, args } => {
                let mut names =
                    args.iter()
                        .filter(|a| a.name.is_none())
                        .map(|a| match &a.value.kind {
                            ExprKind::Name(name) => Some(name.clone()),
                            _ => None,
                        });
                let argument = names.next().flatten();
                let rest = names.flatten().collect();
                self.occur(
                    func,
                    Role::Call {
                        call: expr.span,
                        argument,
                        rest,
                    },
                    item,
                );
                for arg in args {
                    if let Some(name) = &arg.name {
                        self.occur(name, Role::Value, item);
                    }
                    self.expr(&arg.value, item);
                }
            }
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                for inner in items {
                    self.expr(inner, item);
                }
            }
            ExprKind::Member { base, member } => {
                self.occur(base, Role::MemberBase, item);
                self.occur(
                    member,
                    Role::Member {
                        base: base.name.clone(),
                    },
                    item,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(source: &str) -> Symbols {
        Symbols::new(&crate::syntax::parse(source).0)
    }

    #[test]
    fn declarations_and_roles() {
        let source = "space x in [0, 1]\nfield u\nconst k = 2\n\
                      -k*dxx(u) = 1 on interior\nu = 0 on x = 0\n\
                      model mlp(layers = [8], activation = tanh)\nsolve optimizer = engd\n";
        let s = symbols(source);
        let kinds: Vec<(&str, DeclKind)> = s
            .declarations
            .iter()
            .map(|d| (d.name.as_str(), d.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("x", DeclKind::Space),
                ("u", DeclKind::Field),
                ("k", DeclKind::Const)
            ]
        );
        let at = |needle: &str, nth: usize| {
            let offset = source.match_indices(needle).nth(nth).unwrap().0;
            s.at(offset).cloned().unwrap()
        };
        assert_eq!(at("dxx", 0).name, "dxx");
        assert!(matches!(at("dxx", 0).role, Role::Call { argument: Some(ref a), .. } if a == "u"));
        assert_eq!(at("k*", 0).role, Role::Value);
        assert!(matches!(at("interior", 0).role, Role::Region { .. }));
        assert!(matches!(at("x = 0", 0).role, Role::Face { .. }));
        assert_eq!(at("layers", 0).role, Role::ConfigKey(Section::Model));
        assert!(
            matches!(at("tanh", 0).role, Role::ConfigWord { ref key, .. } if key == "activation")
        );
        assert_eq!(at("optimizer", 0).role, Role::ConfigKey(Section::Solve));
        // The cursor just after a name still finds it.
        let end = source.find("interior").unwrap() + "interior".len();
        assert_eq!(s.at(end).unwrap().name, "interior");
    }
}
