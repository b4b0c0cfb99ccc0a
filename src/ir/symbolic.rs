//! Symbolic algebra on the expression arena: simplifying constructors,
//! exact differentiation with respect to a jet or a param, and evaluation.
//!
//! The constructors fold constants and apply the identities that keep
//! linearizations readable and cheap (`x*1`, `x+0`, `0*x`, nested constant
//! products). Differentiation walks the DAG in topological order with one
//! memo entry per node, so shared sub-expressions are differentiated once and
//! nothing recurses over expression depth.

use super::expr::{BinaryOp, Compare, ExprArena, ExprId, Func, Node};
use std::collections::HashMap;

impl ExprArena {
    fn is_const(&self, id: ExprId, value: f64) -> bool {
        self.as_const(id) == Some(value)
    }

    /// A constant node when `value` is finite; `None` otherwise (the caller
    /// then keeps the unfolded node, so nothing non-finite is ever folded in).
    fn folded(&mut self, value: f64) -> Option<ExprId> {
        value.is_finite().then(|| self.constant(value))
    }

    /// `a + b`, simplified.
    pub fn add(&mut self, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            if let Some(c) = self.folded(x + y) {
                return c;
            }
        }
        if self.is_const(a, 0.0) {
            return b;
        }
        if self.is_const(b, 0.0) {
            return a;
        }
        // Like terms: c1*x + c2*x = (c1 + c2)*x.
        let ((ca, ta), (cb, tb)) = (self.split_coefficient(a), self.split_coefficient(b));
        if ta == tb {
            if let Some(c) = self.folded(ca + cb) {
                return self.mul(c, ta);
            }
        }
        // a + (-b) = a - b; (-a) + b = b - a.
        if let Node::Unary(Func::Neg, inner) = self.node(b) {
            return self.sub(a, inner);
        }
        if let Node::Unary(Func::Neg, inner) = self.node(a) {
            return self.sub(b, inner);
        }
        // a + c*x with c < 0 reads better as a - |c|*x.
        if let Node::Binary(BinaryOp::Mul, c, x) = self.node(b) {
            if let Some(cv) = self.as_const(c) {
                if cv < 0.0 {
                    let pos = self.mul_const(-cv, x);
                    return self.sub(a, pos);
                }
            }
        }
        if let Some(cv) = self.as_const(b) {
            if cv < 0.0 {
                let pos = self.constant(-cv);
                return self.sub(a, pos);
            }
        }
        self.intern(Node::Binary(BinaryOp::Add, a, b))
    }

    /// `a - b`, simplified.
    pub fn sub(&mut self, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            if let Some(c) = self.folded(x - y) {
                return c;
            }
        }
        if self.is_const(b, 0.0) {
            return a;
        }
        if self.is_const(a, 0.0) {
            return self.neg(b);
        }
        let ((ca, ta), (cb, tb)) = (self.split_coefficient(a), self.split_coefficient(b));
        if ta == tb {
            if let Some(c) = self.folded(ca - cb) {
                return self.mul(c, ta);
            }
        }
        if let Node::Unary(Func::Neg, inner) = self.node(b) {
            return self.add(a, inner);
        }
        if let Node::Binary(BinaryOp::Mul, c, x) = self.node(b) {
            if let Some(cv) = self.as_const(c) {
                if cv < 0.0 {
                    let pos = self.mul_const(-cv, x);
                    return self.add(a, pos);
                }
            }
        }
        if let Some(cv) = self.as_const(b) {
            if cv < 0.0 {
                let pos = self.constant(-cv);
                return self.add(a, pos);
            }
        }
        self.intern(Node::Binary(BinaryOp::Sub, a, b))
    }

    /// `(c, x)` with `id = c*x` (`c = 1` when `id` has no constant factor).
    fn split_coefficient(&self, id: ExprId) -> (f64, ExprId) {
        match self.node(id) {
            Node::Binary(BinaryOp::Mul, c, x) => match self.as_const(c) {
                Some(cv) => (cv, x),
                None => (1.0, id),
            },
            _ => (1.0, id),
        }
    }

    /// `c * x` for a number `c`.
    pub fn mul_const(&mut self, c: f64, x: ExprId) -> ExprId {
        let c = self.constant(c);
        self.mul(c, x)
    }

    /// `a * b`, simplified. Constant factors are moved to the left and
    /// nested constant factors combined (`2*(3*x)` → `6*x`).
    pub fn mul(&mut self, a: ExprId, b: ExprId) -> ExprId {
        let (ca, cb) = (self.as_const(a), self.as_const(b));
        if let (Some(x), Some(y)) = (ca, cb) {
            if let Some(c) = self.folded(x * y) {
                return c;
            }
            return self.intern(Node::Binary(BinaryOp::Mul, a, b));
        }
        // Constant first.
        if cb.is_some() {
            return self.mul(b, a);
        }
        if let Some(c) = ca {
            if c == 0.0 {
                return a;
            }
            if c == 1.0 {
                return b;
            }
            if c == -1.0 {
                return self.neg(b);
            }
            match self.node(b) {
                Node::Binary(BinaryOp::Mul, inner_c, x) => {
                    if let Some(ic) = self.as_const(inner_c) {
                        if let Some(prod) = self.folded(c * ic) {
                            return self.mul(prod, x);
                        }
                    }
                }
                Node::Unary(Func::Neg, x) => {
                    let neg_c = self.constant(-c);
                    return self.mul(neg_c, x);
                }
                _ => {}
            }
            return self.intern(Node::Binary(BinaryOp::Mul, a, b));
        }
        // Pull constant factors out of either side: (c*x)*y → c*(x*y).
        if let Node::Binary(BinaryOp::Mul, inner_c, x) = self.node(a) {
            if self.as_const(inner_c).is_some() {
                let rest = self.mul(x, b);
                return self.mul(inner_c, rest);
            }
        }
        if let Node::Binary(BinaryOp::Mul, inner_c, y) = self.node(b) {
            if self.as_const(inner_c).is_some() {
                let rest = self.mul(a, y);
                return self.mul(inner_c, rest);
            }
        }
        if let Node::Unary(Func::Neg, x) = self.node(a) {
            let rest = self.mul(x, b);
            return self.neg(rest);
        }
        if let Node::Unary(Func::Neg, y) = self.node(b) {
            let rest = self.mul(a, y);
            return self.neg(rest);
        }
        if a == b {
            let two = self.constant(2.0);
            return self.pow(a, two);
        }
        self.intern(Node::Binary(BinaryOp::Mul, a, b))
    }

    /// `a / b`, simplified; division by a constant becomes a product.
    pub fn div(&mut self, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            if let Some(c) = self.folded(x / y) {
                return c;
            }
            return self.intern(Node::Binary(BinaryOp::Div, a, b));
        }
        if let Some(y) = self.as_const(b) {
            if y == 1.0 {
                return a;
            }
            if let Some(inv) = self.folded(1.0 / y) {
                return self.mul(inv, a);
            }
            return self.intern(Node::Binary(BinaryOp::Div, a, b));
        }
        if self.is_const(a, 0.0) {
            return a;
        }
        if a == b {
            return self.constant(1.0);
        }
        if let Node::Unary(Func::Neg, x) = self.node(a) {
            let rest = self.div(x, b);
            return self.neg(rest);
        }
        self.intern(Node::Binary(BinaryOp::Div, a, b))
    }

    /// `-a`, simplified.
    pub fn neg(&mut self, a: ExprId) -> ExprId {
        if let Some(x) = self.as_const(a) {
            return self.constant(-x);
        }
        match self.node(a) {
            Node::Unary(Func::Neg, inner) => inner,
            Node::Binary(BinaryOp::Mul, c, x) if self.as_const(c).is_some() => {
                let cv = self.as_const(c).unwrap_or(1.0);
                self.mul_const(-cv, x)
            }
            Node::Binary(BinaryOp::Sub, x, y) => self.intern(Node::Binary(BinaryOp::Sub, y, x)),
            _ => self.intern(Node::Unary(Func::Neg, a)),
        }
    }

    /// `a ^ b`, simplified.
    pub fn pow(&mut self, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            if let Some(c) = self.folded(x.powf(y)) {
                return c;
            }
            return self.intern(Node::Binary(BinaryOp::Pow, a, b));
        }
        if self.is_const(b, 0.0) {
            return self.constant(1.0);
        }
        if self.is_const(b, 1.0) {
            return a;
        }
        if self.is_const(a, 1.0) {
            return a;
        }
        self.intern(Node::Binary(BinaryOp::Pow, a, b))
    }

    /// `f(a)`, folded when `a` is a constant and the result finite.
    pub fn unary(&mut self, func: Func, a: ExprId) -> ExprId {
        if func == Func::Neg {
            return self.neg(a);
        }
        if let Some(x) = self.as_const(a) {
            if let Some(c) = self.folded(func.apply(x)) {
                return c;
            }
        }
        self.intern(Node::Unary(func, a))
    }

    /// `if(left ⋈ right, then, otherwise)`, simplified: decided at once when both
    /// operands of the comparison are constants, and `then` when both branches are
    /// the same node.
    pub fn select(
        &mut self,
        compare: Compare,
        left: ExprId,
        right: ExprId,
        then: ExprId,
        otherwise: ExprId,
    ) -> ExprId {
        if let (Some(a), Some(b)) = (self.as_const(left), self.as_const(right)) {
            return if compare.holds(a, b) { then } else { otherwise };
        }
        if then == otherwise {
            return then;
        }
        self.intern(Node::Select {
            compare,
            left,
            right,
            then,
            otherwise,
        })
    }

    /// `min(a, b)`: `a` where `a <= b` (so a tie selects `a`), else `b`.
    pub fn min(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.select(Compare::LessEq, a, b, a, b)
    }

    /// `max(a, b)`: `a` where `a >= b` (so a tie selects `a`), else `b`.
    pub fn max(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.select(Compare::GreaterEq, a, b, a, b)
    }

    /// `op(a, b)` through the simplifying constructor of `op`.
    pub fn binary(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> ExprId {
        match op {
            BinaryOp::Add => self.add(a, b),
            BinaryOp::Sub => self.sub(a, b),
            BinaryOp::Mul => self.mul(a, b),
            BinaryOp::Div => self.div(a, b),
            BinaryOp::Pow => self.pow(a, b),
        }
    }
}

/// `∂expr/∂wrt`, simplified. `wrt` is a leaf: a [`Node::Jet`] or a
/// [`Node::Param`] (any other leaf is treated the same way: derivative 1 on
/// itself, 0 on every other leaf).
///
/// Every node reachable from `expr` is differentiated once (the expression is
/// a DAG), in topological order, without recursion.
pub fn derivative(arena: &mut ExprArena, expr: ExprId, wrt: Node) -> ExprId {
    let zero = arena.constant(0.0);
    let one = arena.constant(1.0);
    derivative_by(arena, expr, &|leaf| match leaf {
        Node::Jet(_) | Node::Param(_) if leaf == wrt => one,
        _ => zero,
    })
}

/// The derivative of `expr` by the chain rule, with `leaf` giving the
/// derivative of each leaf (constants have derivative 0 and are not asked
/// about). With `leaf` mapping each coordinate, jet and grid term to its
/// derivative in one coordinate, this is that coordinate derivative.
pub fn derivative_by(arena: &mut ExprArena, expr: ExprId, leaf: &dyn Fn(Node) -> ExprId) -> ExprId {
    let order = arena.topo_order(&[expr]);
    let mut memo: HashMap<ExprId, ExprId> = HashMap::with_capacity(order.len());
    let zero = arena.constant(0.0);
    for id in order {
        let d = match arena.node(id) {
            Node::Const(_) => zero,
            node @ (Node::Coord(_)
            | Node::Normal(_)
            | Node::Data { .. }
            | Node::Grid(_)
            | Node::Jet(_)
            | Node::Param(_)) => leaf(node),
            Node::Unary(func, a) => {
                let da = memo[&a];
                if da == zero {
                    zero
                } else {
                    let outer = unary_derivative(arena, func, a, id);
                    arena.mul(outer, da)
                }
            }
            Node::Binary(op, a, b) => {
                let (da, db) = (memo[&a], memo[&b]);
                if da == zero && db == zero {
                    zero
                } else {
                    binary_derivative(arena, op, a, b, da, db, id)
                }
            }
            // The derivative of the selected branch; the condition is piecewise
            // constant, so it contributes nothing away from where it switches.
            Node::Select {
                compare,
                left,
                right,
                then,
                otherwise,
            } => {
                let (dt, df) = (memo[&then], memo[&otherwise]);
                arena.select(compare, left, right, dt, df)
            }
        };
        memo.insert(id, d);
    }
    memo[&expr]
}

/// `f'(a)` for `node = f(a)`.
fn unary_derivative(arena: &mut ExprArena, func: Func, a: ExprId, node: ExprId) -> ExprId {
    match func {
        Func::Neg => arena.constant(-1.0),
        Func::Sin => arena.unary(Func::Cos, a),
        Func::Cos => {
            let s = arena.unary(Func::Sin, a);
            arena.neg(s)
        }
        Func::Tan => {
            // 1 + tan²(a)
            let one = arena.constant(1.0);
            let two = arena.constant(2.0);
            let sq = arena.pow(node, two);
            arena.add(one, sq)
        }
        Func::Exp => node,
        Func::Log => {
            let one = arena.constant(1.0);
            arena.div(one, a)
        }
        Func::Sqrt => {
            let half = arena.constant(0.5);
            arena.div(half, node)
        }
        Func::Tanh => {
            let one = arena.constant(1.0);
            let two = arena.constant(2.0);
            let sq = arena.pow(node, two);
            arena.sub(one, sq)
        }
        Func::Sinh => arena.unary(Func::Cosh, a),
        Func::Cosh => arena.unary(Func::Sinh, a),
        Func::Abs => arena.unary(Func::Sign, a),
        Func::Sign => arena.constant(0.0),
    }
}

fn binary_derivative(
    arena: &mut ExprArena,
    op: BinaryOp,
    a: ExprId,
    b: ExprId,
    da: ExprId,
    db: ExprId,
    node: ExprId,
) -> ExprId {
    match op {
        BinaryOp::Add => arena.add(da, db),
        BinaryOp::Sub => arena.sub(da, db),
        BinaryOp::Mul => {
            let left = arena.mul(da, b);
            let right = arena.mul(a, db);
            arena.add(left, right)
        }
        BinaryOp::Div => {
            // (da*b - a*db) / b² written as da/b - a*db/b².
            let first = arena.div(da, b);
            let two = arena.constant(2.0);
            let b2 = arena.pow(b, two);
            let num = arena.mul(a, db);
            let second = arena.div(num, b2);
            arena.sub(first, second)
        }
        BinaryOp::Pow => {
            if let Some(c) = arena.as_const(b) {
                // c * a^(c-1) * da
                let c_node = arena.constant(c);
                let cm1 = arena.constant(c - 1.0);
                let p = arena.pow(a, cm1);
                let outer = arena.mul(c_node, p);
                arena.mul(outer, da)
            } else {
                // a^b * (db*log(a) + b*da/a)
                let log_a = arena.unary(Func::Log, a);
                let t1 = arena.mul(db, log_a);
                let ratio = arena.div(da, a);
                let t2 = arena.mul(b, ratio);
                let inner = arena.add(t1, t2);
                arena.mul(node, inner)
            }
        }
    }
}

/// `expr` with some leaves replaced: `replace(leaf)` gives the expression that
/// takes the leaf's place (`None` keeps the leaf). The replacements are not
/// searched again, so a leaf may be replaced by an expression that uses it.
pub fn substitute(
    arena: &mut ExprArena,
    expr: ExprId,
    replace: &dyn Fn(Node) -> Option<ExprId>,
) -> ExprId {
    let order = arena.topo_order(&[expr]);
    let mut memo: HashMap<ExprId, ExprId> = HashMap::with_capacity(order.len());
    for id in order {
        let new = match arena.node(id) {
            Node::Const(_) => id,
            Node::Unary(func, a) => arena.unary(func, memo[&a]),
            Node::Binary(op, a, b) => arena.binary(op, memo[&a], memo[&b]),
            Node::Select {
                compare,
                left,
                right,
                then,
                otherwise,
            } => arena.select(
                compare,
                memo[&left],
                memo[&right],
                memo[&then],
                memo[&otherwise],
            ),
            leaf => replace(leaf).unwrap_or(id),
        };
        memo.insert(id, new);
    }
    memo[&expr]
}

/// `D^α expr` for an expression of coordinates and constants (any other leaf
/// is taken as constant in the coordinates).
pub fn coordinate_partial(arena: &mut ExprArena, expr: ExprId, alpha: &[u8]) -> ExprId {
    let mut result = expr;
    for (coord, &times) in alpha.iter().enumerate() {
        for _ in 0..times {
            let zero = arena.constant(0.0);
            let one = arena.constant(1.0);
            result = derivative_by(arena, result, &|leaf| match leaf {
                Node::Coord(i) if i == coord => one,
                _ => zero,
            });
        }
    }
    result
}

/// Evaluates `id` with `leaf` giving the value of every non-constant leaf
/// (coordinates, normals, jets, params, data columns). `None` from `leaf`
/// makes the whole result `None`.
pub fn eval_with(
    arena: &ExprArena,
    id: ExprId,
    leaf: &mut dyn FnMut(Node) -> Option<f64>,
) -> Option<f64> {
    let order = arena.topo_order(&[id]);
    let mut values: HashMap<ExprId, f64> = HashMap::with_capacity(order.len());
    for node_id in order {
        let v = match arena.node(node_id) {
            Node::Const(bits) => f64::from_bits(bits),
            Node::Unary(func, a) => func.apply(values[&a]),
            Node::Binary(op, a, b) => op.apply(values[&a], values[&b]),
            Node::Select {
                compare,
                left,
                right,
                then,
                otherwise,
            } => {
                if compare.holds(values[&left], values[&right]) {
                    values[&then]
                } else {
                    values[&otherwise]
                }
            }
            other => leaf(other)?,
        };
        values.insert(node_id, v);
    }
    values.get(&id).copied()
}

/// Evaluates `id` with `leaf` giving every non-constant leaf's value.
pub fn eval(arena: &ExprArena, id: ExprId, leaf: &dyn Fn(Node) -> f64) -> f64 {
    eval_with(arena, id, &mut |n| Some(leaf(n))).unwrap_or(f64::NAN)
}

/// The value at `point` of an expression of the coordinates (NaN where it has other
/// leaves: params, data, grids, normals, jets).
pub fn eval_at(arena: &ExprArena, id: ExprId, point: &[f64]) -> f64 {
    eval(arena, id, &|node| match node {
        Node::Coord(i) => point[i],
        _ => f64::NAN,
    })
}

/// The value of `id` when it contains no leaf but constants.
pub fn eval_const(arena: &ExprArena, id: ExprId) -> Option<f64> {
    eval_with(arena, id, &mut |_| None)
}

/// Every leaf reachable from `roots` (coordinates, normals, jets, params,
/// data columns), each once, in topological order.
pub fn leaves(arena: &ExprArena, roots: &[ExprId]) -> Vec<Node> {
    arena
        .topo_order(roots)
        .into_iter()
        .map(|id| arena.node(id))
        .filter(|n| !matches!(n, Node::Const(_)) && !n.is_inner())
        .collect()
}

/// True when some jet is reachable from `id`.
pub fn depends_on_jets(arena: &ExprArena, id: ExprId) -> bool {
    leaves(arena, &[id])
        .iter()
        .any(|n| matches!(n, Node::Jet(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::JetId;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn jet(arena: &mut ExprArena, i: u32) -> ExprId {
        arena.intern(Node::Jet(JetId(i)))
    }

    #[test]
    fn identities_simplify() {
        let mut a = ExprArena::new();
        let u = jet(&mut a, 0);
        let zero = a.constant(0.0);
        let one = a.constant(1.0);
        let two = a.constant(2.0);
        let three = a.constant(3.0);
        assert_eq!(a.add(u, zero), u);
        assert_eq!(a.add(zero, u), u);
        assert_eq!(a.mul(u, one), u);
        assert_eq!(a.mul(one, u), u);
        assert_eq!(a.mul(zero, u), zero);
        assert_eq!(a.mul(u, zero), zero);
        assert_eq!(a.sub(u, u), zero);
        // Like terms combine.
        let two_u = a.add(u, u);
        assert_eq!(
            a.node(two_u),
            Node::Binary(BinaryOp::Mul, a.constant(2.0), u)
        );
        let three_u = a.add(two_u, u);
        let minus_u = a.sub(two_u, three_u);
        assert_eq!(a.node(minus_u), Node::Unary(Func::Neg, u));
        assert_eq!(a.pow(u, one), u);
        assert_eq!(a.pow(u, zero), one);
        assert_eq!(a.div(u, one), u);
        // Constants fold.
        let five = a.add(two, three);
        assert_eq!(a.as_const(five), Some(5.0));
        let s = a.unary(Func::Sin, zero);
        assert_eq!(a.as_const(s), Some(0.0));
        // Nested constant products combine, constants move left.
        let three_u = a.mul(u, three);
        let six_u = a.mul(two, three_u);
        assert_eq!(
            a.node(six_u),
            Node::Binary(BinaryOp::Mul, a.constant(6.0), u)
        );
        // Division by a constant becomes a product.
        let half_u = a.div(u, two);
        assert_eq!(
            a.node(half_u),
            Node::Binary(BinaryOp::Mul, a.constant(0.5), u)
        );
        // Double negation and negated products.
        let nu = a.neg(u);
        assert_eq!(a.neg(nu), u);
        let m = a.neg(six_u);
        assert_eq!(a.node(m), Node::Binary(BinaryOp::Mul, a.constant(-6.0), u));
        // Non-finite results are not folded.
        let inf = a.div(one, zero);
        assert!(a.as_const(inf).is_none());
    }

    #[test]
    fn derivative_of_product_is_the_other_factor() {
        let mut a = ExprArena::new();
        let u = jet(&mut a, 0);
        let ux = jet(&mut a, 1);
        let f = a.mul(u, ux);
        assert_eq!(derivative(&mut a, f, Node::Jet(JetId(0))), ux);
        assert_eq!(derivative(&mut a, f, Node::Jet(JetId(1))), u);
        let zero = a.constant(0.0);
        assert_eq!(derivative(&mut a, f, Node::Jet(JetId(7))), zero);
    }

    /// Builds test expressions over jets u = J0, v = J1 and param p.
    fn cases(a: &mut ExprArena) -> Vec<(&'static str, ExprId)> {
        let u = jet(a, 0);
        let v = jet(a, 1);
        let p = a.intern(Node::Param(0));
        let one = a.constant(1.0);
        let two = a.constant(2.0);
        let three = a.constant(3.0);
        let two_half = a.constant(2.5);
        let mut out = Vec::new();
        out.push(("u*v", a.mul(u, v)));
        out.push(("u^3", a.pow(u, three)));
        out.push(("sin(u)", a.unary(Func::Sin, u)));
        let e = a.unary(Func::Exp, u);
        let u2 = a.pow(u, two);
        let den = a.add(one, u2);
        out.push(("exp(u)/(1+u^2)", a.div(e, den)));
        out.push(("u^2.5", a.pow(u, two_half)));
        let t = a.unary(Func::Tanh, v);
        let s = a.unary(Func::Sqrt, u);
        let l = a.unary(Func::Log, u);
        let pu = a.mul(p, t);
        let sl = a.mul(s, l);
        out.push(("p*tanh(v) + sqrt(u)*log(u)", a.add(pu, sl)));
        out.push(("u^v", a.pow(u, v)));
        let c = a.unary(Func::Cos, v);
        let ta = a.unary(Func::Tan, u);
        let ch = a.unary(Func::Cosh, p);
        let sh = a.unary(Func::Sinh, u);
        let n = a.neg(c);
        let q = a.div(ta, ch);
        let q2 = a.sub(q, n);
        out.push(("tan(u)/cosh(p) + cos(v) - sinh(u)", a.sub(q2, sh)));
        // Piecewise: the random values lie away from the switches (a tie within the
        // finite-difference step has probability ~1e-6 per draw, and the seed is fixed).
        let uv = a.mul(u, v);
        let min_uv = a.min(uv, v);
        out.push(("min(u*v, v)*u", a.mul(min_uv, u)));
        let u2 = a.pow(u, two);
        let max_u2v = a.max(u2, v);
        let min_up = a.min(u, p);
        let pm = a.mul(p, min_up);
        out.push(("max(u^2, v) + p*min(u, p)", a.add(max_u2v, pm)));
        let su = a.unary(Func::Sin, u);
        let v2 = a.pow(v, two);
        let pv2 = a.mul(p, v2);
        out.push((
            "if(u < v, sin(u), p*v^2)",
            a.select(Compare::Less, u, v, su, pv2),
        ));
        let eu = a.unary(Func::Exp, u);
        let lv = a.unary(Func::Log, v);
        let threshold = a.constant(0.7);
        out.push((
            "if(u*v >= 0.7, exp(u), log(v))",
            a.select(Compare::GreaterEq, uv, threshold, eu, lv),
        ));
        out
    }

    /// At a tie `min` and `max` select their first argument, and so does the
    /// derivative; `if` selects its second value where the comparison fails.
    #[test]
    fn ties_select_the_first_argument() {
        let mut a = ExprArena::new();
        let u = jet(&mut a, 0);
        let v = jet(&mut a, 1);
        let two = a.constant(2.0);
        let two_v = a.mul(two, v);
        let min = a.min(u, two_v);
        let max = a.max(u, two_v);
        let strict = a.select(Compare::Less, u, two_v, u, two_v);
        let at_tie = |n: Node| if n == Node::Jet(JetId(0)) { 1.0 } else { 0.5 };
        for (f, du, dv) in [(min, 1.0, 0.0), (max, 1.0, 0.0), (strict, 0.0, 2.0)] {
            assert_eq!(eval(&a, f, &at_tie), 1.0);
            let d_u = derivative(&mut a, f, Node::Jet(JetId(0)));
            let d_v = derivative(&mut a, f, Node::Jet(JetId(1)));
            assert_eq!(eval(&a, d_u, &at_tie), du);
            assert_eq!(eval(&a, d_v, &at_tie), dv);
        }
        // Away from the tie each selects by value.
        let below = |_: Node| 0.5;
        assert_eq!(eval(&a, min, &below), 0.5);
        assert_eq!(eval(&a, max, &below), 1.0);
        let d_v = derivative(&mut a, max, Node::Jet(JetId(1)));
        assert_eq!(eval(&a, d_v, &below), 2.0);
    }

    #[test]
    fn selects_fold_when_decided() {
        let mut a = ExprArena::new();
        let u = jet(&mut a, 0);
        let one = a.constant(1.0);
        let two = a.constant(2.0);
        assert_eq!(a.min(one, two), one);
        assert_eq!(a.max(one, two), two);
        assert_eq!(a.select(Compare::Greater, one, two, u, two), two);
        // Equal branches need no condition.
        assert_eq!(a.select(Compare::Less, u, one, two, two), two);
        // The derivative of a branch-free select of constants is zero.
        let s = a.select(Compare::Less, u, one, two, one);
        let zero = a.constant(0.0);
        assert_eq!(derivative(&mut a, s, Node::Jet(JetId(0))), zero);
    }

    #[test]
    fn derivatives_match_central_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut a = ExprArena::new();
        let exprs = cases(&mut a);
        let wrts = [Node::Jet(JetId(0)), Node::Jet(JetId(1)), Node::Param(0)];
        for (name, f) in exprs {
            for &wrt in &wrts {
                let df = derivative(&mut a, f, wrt);
                for _ in 0..5 {
                    // Positive values keep log/sqrt/powers real.
                    let vals = [
                        rng.random_range(0.3..1.5),
                        rng.random_range(0.3..1.5),
                        rng.random_range(0.3..1.5),
                    ];
                    let at = |shift: f64| {
                        move |n: Node| {
                            let (i, base) = match n {
                                Node::Jet(JetId(i)) => (i as usize, vals[i as usize]),
                                Node::Param(_) => (2, vals[2]),
                                _ => unreachable!("no other leaves in these cases"),
                            };
                            let hit = match wrt {
                                Node::Jet(JetId(j)) => j as usize == i && i < 2,
                                Node::Param(_) => i == 2,
                                _ => false,
                            };
                            if hit {
                                base + shift
                            } else {
                                base
                            }
                        }
                    };
                    let h = 1e-6;
                    let fd = (eval(&a, f, &at(h)) - eval(&a, f, &at(-h))) / (2.0 * h);
                    let exact = eval(&a, df, &at(0.0));
                    assert!(
                        (fd - exact).abs() <= 1e-7 * (1.0 + exact.abs()),
                        "{name} wrt {wrt:?}: fd {fd} vs symbolic {exact}"
                    );
                }
            }
        }
    }

    #[test]
    fn derivative_of_a_deep_shared_dag_is_memoized() {
        // x_{k+1} = sin(x_k * x_k + x_k): as a tree 2^depth nodes, as a DAG ~4 per level.
        let build = |a: &mut ExprArena, depth: usize| {
            let mut x = jet(a, 0);
            for _ in 0..depth {
                let sq = a.intern(Node::Binary(BinaryOp::Mul, x, x));
                let plus = a.intern(Node::Binary(BinaryOp::Add, sq, x));
                x = a.intern(Node::Unary(Func::Sin, plus));
            }
            x
        };
        let mut a = ExprArena::new();
        let x = build(&mut a, 2000);
        let before = a.len();
        let _ = derivative(&mut a, x, Node::Jet(JetId(0)));
        assert!(
            a.len() < before + 40_000,
            "derivative grew the arena to {}",
            a.len()
        );
        // A shallower one against finite differences.
        let x = build(&mut a, 12);
        let d = derivative(&mut a, x, Node::Jet(JetId(0)));
        let h = 1e-6;
        let at = |v: f64| move |_: Node| v;
        let fd = (eval(&a, x, &at(0.3 + h)) - eval(&a, x, &at(0.3 - h))) / (2.0 * h);
        let exact = eval(&a, d, &at(0.3));
        assert!(
            (fd - exact).abs() <= 1e-7 * (1.0 + exact.abs()),
            "{fd} vs {exact}"
        );
    }

    #[test]
    fn eval_const_only_for_constant_expressions() {
        let mut a = ExprArena::new();
        let two = a.constant(2.0);
        let three = a.constant(3.0);
        let p = a.intern(Node::Binary(BinaryOp::Pow, two, three));
        assert_eq!(eval_const(&a, p), Some(8.0));
        let u = jet(&mut a, 0);
        let f = a.intern(Node::Binary(BinaryOp::Add, u, two));
        assert_eq!(eval_const(&a, f), None);
        assert!(depends_on_jets(&a, f));
        assert!(!depends_on_jets(&a, p));
    }
}
