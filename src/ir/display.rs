//! Human-readable printing of IR expressions and jets for `pdec check` and
//! `pdec explain`: `u*dx(u)`, `-0.25*dxx(u)`, `lap(u)`, `n_x`, `obs.u`.
//!
//! Printing follows the tree of the DAG, so a huge shared expression would
//! print exponentially long: output is cut at [`MAX_CHARS`] with an ellipsis.

use super::expr::{BinaryOp, Compare, ExprId, Func, Node};
use super::{Deriv, GridTermId, JetId, Problem};

/// Longest printed expression before it is cut with `…`.
pub const MAX_CHARS: usize = 4000;
/// A grid term as written: `k`, `k.a`, or a derivative `dx(k)`, `d(k, x, y)`
/// (the shorthand when every coordinate name is one letter, as for jets).
pub fn display_grid_term(problem: &Problem, id: GridTermId) -> String {
    let Some(term) = problem.grid_terms.get(id.0 as usize) else {
        return "?".to_string();
    };
    let Some(grid) = problem.grids.get(term.grid) else {
        return "?".to_string();
    };
    let mut name = grid.name.clone();
    if grid.columns.len() > 1 {
        name.push('.');
        name.push_str(grid.columns.get(term.column).map_or("?", String::as_str));
    }
    let letters: Vec<&str> = term
        .alpha
        .iter()
        .enumerate()
        .flat_map(|(c, &order)| std::iter::repeat_n(coord_name(problem, c), order as usize))
        .collect();
    if letters.is_empty() {
        name
    } else if letters.iter().all(|l| l.chars().count() == 1) {
        format!("d{}({name})", letters.concat())
    } else {
        format!("d({name}, {})", letters.join(", "))
    }
}

/// Prints a jet: `u`, `dxx(u)`, `dtx(u)` (letters in coordinate order) when
/// every coordinate involved has a one-letter name, else `d(u, x1, x1)`;
/// the Laplacian as `lap(u)`.
pub fn display_jet(problem: &Problem, jet: JetId) -> String {
    jet_text(problem, jet, false)
}

/// [`display_jet`] for a jet in a residual block: under hard constraints the
/// blocks' jets of a constrained field are its network's, printed `N_u`.
pub fn display_block_jet(problem: &Problem, jet: JetId) -> String {
    jet_text(problem, jet, true)
}

fn jet_text(problem: &Problem, jet: JetId, in_block: bool) -> String {
    let jet = problem.jet(jet);
    let name = problem
        .fields
        .get(jet.field)
        .map_or("?", |f| f.name.as_str());
    let network;
    let field = if in_block && problem.field_ansatz(jet.field).is_some() {
        network = format!("N_{name}");
        network.as_str()
    } else {
        name
    };
    match &jet.deriv {
        Deriv::Laplacian => format!("lap({field})"),
        Deriv::Partial(alpha) => {
            let names: Vec<&str> = alpha
                .iter()
                .enumerate()
                .flat_map(|(i, &n)| {
                    let name = problem.coords.get(i).map_or("?", |c| c.name.as_str());
                    std::iter::repeat_n(name, n as usize)
                })
                .collect();
            if names.is_empty() {
                field.to_string()
            } else if names.iter().all(|n| n.chars().count() == 1) {
                format!("d{}({field})", names.concat())
            } else {
                format!("d({field}, {})", names.join(", "))
            }
        }
    }
}

/// Prints an expression with the fewest parentheses that keep its meaning.
pub fn display_expr(problem: &Problem, id: ExprId) -> String {
    print_expr(problem, id, false)
}

/// [`display_expr`] for a residual block's expressions, with its jets as
/// [`display_block_jet`] prints them.
pub fn display_block_expr(problem: &Problem, id: ExprId) -> String {
    print_expr(problem, id, true)
}

fn print_expr(problem: &Problem, id: ExprId, in_block: bool) -> String {
    let mut printer = Printer {
        problem,
        out: String::new(),
        truncated: false,
        in_block,
    };
    printer.expr(id, 0);
    if printer.truncated {
        printer.out.push('…');
    }
    printer.out
}

/// Formats a number the short way (`2`, `0.25`, `1e-8`).
pub fn display_number(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

struct Printer<'a> {
    problem: &'a Problem,
    out: String,
    truncated: bool,
    in_block: bool,
}

const PREC_ADD: u8 = 1;
const PREC_MUL: u8 = 2;
const PREC_NEG: u8 = 3;
const PREC_POW: u8 = 4;
const PREC_ATOM: u8 = 5;

impl Printer<'_> {
    fn precedence(&self, id: ExprId) -> u8 {
        match self.problem.exprs.node(id) {
            Node::Const(bits) if f64::from_bits(bits) < 0.0 => PREC_NEG,
            Node::Unary(Func::Neg, _) => PREC_NEG,
            Node::Binary(BinaryOp::Add | BinaryOp::Sub, ..) => PREC_ADD,
            Node::Binary(BinaryOp::Mul | BinaryOp::Div, ..) => PREC_MUL,
            Node::Binary(BinaryOp::Pow, ..) => PREC_POW,
            _ => PREC_ATOM,
        }
    }

    /// Prints `id`, in parentheses when its precedence is below `min`.
    fn expr(&mut self, id: ExprId, min: u8) {
        if self.out.len() > MAX_CHARS {
            self.truncated = true;
            return;
        }
        let paren = self.precedence(id) < min;
        if paren {
            self.out.push('(');
        }
        self.bare(id);
        if paren {
            self.out.push(')');
        }
    }

    fn bare(&mut self, id: ExprId) {
        let problem = self.problem;
        match problem.exprs.node(id) {
            Node::Const(bits) => self.out.push_str(&display_number(f64::from_bits(bits))),
            Node::Coord(i) => self.out.push_str(coord_name(problem, i)),
            Node::Normal(i) => {
                self.out.push_str("n_");
                self.out.push_str(coord_name(problem, i));
            }
            Node::Jet(j) => self.out.push_str(&jet_text(problem, j, self.in_block)),
            Node::Param(i) => self
                .out
                .push_str(problem.params.get(i).map_or("?", |p| p.name.as_str())),
            Node::Grid(id) => self.out.push_str(&display_grid_term(problem, id)),
            Node::Data { set, column } => {
                let data = problem.data.get(set);
                self.out.push_str(data.map_or("?", |d| d.name.as_str()));
                self.out.push('.');
                self.out.push_str(
                    data.and_then(|d| d.columns.get(column))
                        .map_or("?", String::as_str),
                );
            }
            Node::Unary(Func::Neg, a) => {
                self.out.push('-');
                self.expr(a, PREC_POW);
            }
            Node::Unary(func, a) => {
                self.out.push_str(func.name());
                self.out.push('(');
                self.expr(a, 0);
                self.out.push(')');
            }
            Node::Binary(op, a, b) => {
                let (sym, left, right) = match op {
                    BinaryOp::Add => (" + ", PREC_ADD, PREC_ADD),
                    BinaryOp::Sub => (" - ", PREC_ADD, PREC_MUL),
                    BinaryOp::Mul => ("*", PREC_MUL, PREC_MUL),
                    BinaryOp::Div => ("/", PREC_MUL, PREC_NEG),
                    BinaryOp::Pow => ("^", PREC_ATOM, PREC_ATOM),
                };
                self.expr(a, left);
                self.out.push_str(sym);
                self.expr(b, right);
            }
            Node::Select {
                compare,
                left,
                right,
                then,
                otherwise,
            } => {
                let pair = then == left && otherwise == right;
                match compare {
                    Compare::LessEq if pair => self.call("min", &[left, right]),
                    Compare::GreaterEq if pair => self.call("max", &[left, right]),
                    _ => {
                        self.out.push_str("if(");
                        self.expr(left, 0);
                        self.out.push(' ');
                        self.out.push_str(compare.symbol());
                        self.out.push(' ');
                        self.expr(right, 0);
                        self.out.push_str(", ");
                        self.expr(then, 0);
                        self.out.push_str(", ");
                        self.expr(otherwise, 0);
                        self.out.push(')');
                    }
                }
            }
        }
    }

    /// `name(a, b, ...)`.
    fn call(&mut self, name: &str, args: &[ExprId]) {
        self.out.push_str(name);
        self.out.push('(');
        for (i, &arg) in args.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(arg, 0);
        }
        self.out.push(')');
    }
}

fn coord_name(problem: &Problem, i: usize) -> &str {
    problem.coords.get(i).map_or("?", |c| c.name.as_str())
}
