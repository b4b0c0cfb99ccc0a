//! Test support: builds AST items by hand and parses small expressions, so
//! the IR can be tested independently of the `.pde` parser.

use crate::diagnostic::Diagnostic;
use crate::ir::display::{display_expr, display_jet};
use crate::ir::lower::lower;
use crate::ir::Problem;
use crate::span::Span;
use crate::syntax::ast::{self, Arg, BinOp, Expr, ExprKind, Ident, Item, ItemKind};
use std::path::Path;

pub(super) fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: Span::default(),
    }
}

pub(super) fn item(kind: ItemKind) -> Item {
    Item {
        kind,
        span: Span::default(),
    }
}

pub(super) fn space(name: &str, lo: f64, hi: f64) -> Item {
    item(ItemKind::Space {
        coords: vec![ident(name)],
        domain: expr(&format!("[{lo}, {hi}]")),
    })
}

pub(super) fn time(name: &str, lo: f64, hi: f64) -> Item {
    item(ItemKind::Time {
        coord: ident(name),
        interval: expr(&format!("[{lo}, {hi}]")),
    })
}

pub(super) fn fields(names: &[&str]) -> Item {
    item(ItemKind::Field {
        names: names.iter().map(|n| ident(n)).collect(),
        coords: vec![None; names.len()],
    })
}

pub(super) fn konst(name: &str, value: &str) -> Item {
    item(ItemKind::Const {
        name: ident(name),
        value: expr(value),
    })
}

/// `lhs = rhs on region`, where region is a word or `x = c`.
pub(super) fn equation(lhs: &str, rhs: &str, region: &str) -> Item {
    let kind = match region.split_once('=') {
        Some((coord, value)) => ast::RegionKind::Face {
            coord: ident(coord.trim()),
            value: expr(value.trim()),
        },
        None => ast::RegionKind::Named(ident(region)),
    };
    item(ItemKind::Equation {
        lhs: expr(lhs),
        rhs: expr(rhs),
        region: ast::Region {
            kind,
            span: Span::default(),
        },
        weight: None,
    })
}

/// Parses an expression: numbers, names, calls (with `key = value`
/// arguments), `obs.u`, `[..]`, `(a, b)`, unary minus, `+ - * / ^ &`.
pub(super) fn expr(text: &str) -> Expr {
    let mut p = Parser {
        text: text.as_bytes(),
        pos: 0,
    };
    let e = p.sum();
    p.ws();
    assert_eq!(
        p.pos,
        text.len(),
        "trailing input in test expression {text:?}"
    );
    e
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.pos < self.text.len() && self.text[self.pos] == b' ' {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.text.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn span(&self, start: usize) -> Span {
        Span::new(start, self.pos)
    }

    fn sum(&mut self) -> Expr {
        self.ws();
        let start = self.pos;
        let mut e = self.product();
        loop {
            let op = match self.peek() {
                Some(b'+') => BinOp::Add,
                Some(b'-') => BinOp::Sub,
                Some(b'&') => BinOp::And,
                _ => return e,
            };
            self.pos += 1;
            let rhs = self.product();
            e = Expr::new(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(e),
                    rhs: Box::new(rhs),
                },
                self.span(start),
            );
        }
    }

    fn product(&mut self) -> Expr {
        self.ws();
        let start = self.pos;
        let mut e = self.unary();
        loop {
            let op = match self.peek() {
                Some(b'*') => BinOp::Mul,
                Some(b'/') => BinOp::Div,
                _ => return e,
            };
            self.pos += 1;
            let rhs = self.unary();
            e = Expr::new(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(e),
                    rhs: Box::new(rhs),
                },
                self.span(start),
            );
        }
    }

    fn unary(&mut self) -> Expr {
        self.ws();
        let start = self.pos;
        if self.eat(b'-') {
            let inner = self.unary();
            return Expr::new(ExprKind::Neg(Box::new(inner)), self.span(start));
        }
        let base = self.atom();
        if self.eat(b'^') {
            let exp = self.unary();
            return Expr::new(
                ExprKind::Binary {
                    op: BinOp::Pow,
                    lhs: Box::new(base),
                    rhs: Box::new(exp),
                },
                self.span(start),
            );
        }
        base
    }

    fn list(&mut self, close: u8) -> Vec<Expr> {
        let mut items = Vec::new();
        if self.eat(close) {
            return items;
        }
        loop {
            items.push(self.sum());
            if self.eat(close) {
                return items;
            }
            assert!(self.eat(b','), "expected ',' in test expression");
        }
    }

    fn atom(&mut self) -> Expr {
        self.ws();
        let start = self.pos;
        let c = self.text[self.pos];
        if c == b'(' {
            self.pos += 1;
            let mut items = self.list(b')');
            if items.len() == 1 {
                return items.remove(0);
            }
            return Expr::new(ExprKind::Tuple(items), self.span(start));
        }
        if c == b'[' {
            self.pos += 1;
            let items = self.list(b']');
            return Expr::new(ExprKind::List(items), self.span(start));
        }
        if c.is_ascii_digit() || c == b'.' {
            while self.pos < self.text.len()
                && (self.text[self.pos].is_ascii_alphanumeric()
                    || self.text[self.pos] == b'.'
                    || (matches!(self.text[self.pos], b'+' | b'-')
                        && matches!(self.text[self.pos - 1], b'e' | b'E')))
            {
                self.pos += 1;
            }
            let text = std::str::from_utf8(&self.text[start..self.pos]).unwrap_or("");
            let value = text.parse::<f64>().unwrap_or(f64::INFINITY);
            return Expr::new(
                ExprKind::Number {
                    value,
                    text: text.to_string(),
                },
                self.span(start),
            );
        }
        let name = self.word();
        if self.text.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let m_start = self.pos;
            let member = self.word();
            let base = Ident {
                name: name.name,
                span: name.span,
            };
            let member = Ident {
                name: member.name,
                span: self.span(m_start),
            };
            return Expr::new(ExprKind::Member { base, member }, self.span(start));
        }
        if self.peek() == Some(b'(') {
            self.pos += 1;
            let mut args = Vec::new();
            if !self.eat(b')') {
                loop {
                    self.ws();
                    let save = self.pos;
                    let mut arg_name = None;
                    if self.text[self.pos].is_ascii_alphabetic() {
                        let w = self.word();
                        if self.peek() == Some(b'=') {
                            self.pos += 1;
                            arg_name = Some(w);
                        } else {
                            self.pos = save;
                        }
                    }
                    args.push(Arg {
                        name: arg_name,
                        value: self.sum(),
                    });
                    if self.eat(b')') {
                        break;
                    }
                    assert!(self.eat(b','), "expected ',' in call");
                }
            }
            return Expr::new(ExprKind::Call { func: name, args }, self.span(start));
        }
        Expr::new(ExprKind::Name(name.name), name.span)
    }

    fn word(&mut self) -> Ident {
        self.ws();
        let start = self.pos;
        while self.pos < self.text.len()
            && (self.text[self.pos].is_ascii_alphanumeric() || self.text[self.pos] == b'_')
        {
            self.pos += 1;
        }
        assert!(self.pos > start, "expected a name in test expression");
        Ident {
            name: String::from_utf8_lossy(&self.text[start..self.pos]).into_owned(),
            span: self.span(start),
        }
    }
}

// Lowering lists of items, for the tests of `lower` and its helpers.

pub(super) fn lower_items(items: Vec<ast::Item>) -> (Option<Problem>, Vec<Diagnostic>) {
    lower(&ast::File { items }, "", Path::new("."))
}

pub(super) fn ok(items: Vec<ast::Item>) -> Problem {
    let (problem, diags) = lower_items(items);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    problem.expect("no errors means a problem")
}

pub(super) fn codes(items: Vec<ast::Item>) -> Vec<&'static str> {
    lower_items(items).1.iter().map(|d| d.code).collect()
}

/// The linearization of block `b` as printed pairs `(jet, coefficient)`.
pub(super) fn linearization(p: &Problem, b: usize) -> Vec<(String, String)> {
    p.blocks[b]
        .linearization
        .iter()
        .map(|&(j, c)| (display_jet(p, j), display_expr(p, c)))
        .collect()
}

pub(super) fn burgers() -> Vec<ast::Item> {
    vec![
        time("t", 0.0, 1.0),
        space("x", -1.0, 1.0),
        fields(&["u"]),
        equation("dt(u) + u*dx(u) - 0.01/pi*dxx(u)", "0", "interior"),
        equation("u", "-sin(pi*x)", "initial"),
        equation("u", "0", "x = -1"),
        equation("u", "0", "x = 1"),
        soft(),
    ]
}

/// `model mlp(constraints = soft)`: the conditions stay blocks, as written.
pub(super) fn soft() -> Item {
    item(ItemKind::Model {
        value: expr("mlp(constraints = soft)"),
    })
}

pub(super) fn base() -> Vec<ast::Item> {
    vec![
        space("x", 0.0, 1.0),
        fields(&["u"]),
        equation("dxx(u)", "0", "interior"),
    ]
}

pub(super) fn with(extra: Vec<ast::Item>) -> Vec<&'static str> {
    let mut items = base();
    items.extend(extra);
    codes(items)
}
