//! Expression DAGs of the residual IR: hash-consed nodes in an arena.
//!
//! Leaves are constants, coordinates, outward-normal components, jets
//! `D^α u_k`, params, data columns and grid coefficients. The arena
//! deduplicates structurally equal nodes, so a node id identifies an expression and shared
//! sub-expressions are computed once by the compiler.

use serde::Serialize;
use std::collections::HashMap;

/// Index of a node in an [`ExprArena`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ExprId(pub u32);

/// Index into [`crate::ir::Problem::jets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct JetId(pub u32);

/// Index into [`crate::ir::Problem::grid_terms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GridTermId(pub u32);

/// Elementwise functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Func {
    /// `-a`.
    Neg,
    /// `sin`.
    Sin,
    /// `cos`.
    Cos,
    /// `tan`.
    Tan,
    /// `exp`.
    Exp,
    /// Natural logarithm `log`.
    Log,
    /// `sqrt`.
    Sqrt,
    /// `tanh`.
    Tanh,
    /// `sinh`.
    Sinh,
    /// `cosh`.
    Cosh,
    /// `abs`.
    Abs,
    /// `sign` (−1, 0 or 1).
    Sign,
}

impl Func {
    /// The builtin function named `name` (not `Neg`, which is the unary minus).
    pub fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "sin" => Func::Sin,
            "cos" => Func::Cos,
            "tan" => Func::Tan,
            "exp" => Func::Exp,
            "log" => Func::Log,
            "sqrt" => Func::Sqrt,
            "tanh" => Func::Tanh,
            "sinh" => Func::Sinh,
            "cosh" => Func::Cosh,
            "abs" => Func::Abs,
            "sign" => Func::Sign,
            _ => return None,
        })
    }

    /// The name as written in `.pde` source (`-` for negation).
    pub fn name(self) -> &'static str {
        match self {
            Func::Neg => "-",
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Tanh => "tanh",
            Func::Sinh => "sinh",
            Func::Cosh => "cosh",
            Func::Abs => "abs",
            Func::Sign => "sign",
        }
    }

    /// Applies the function to a number.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Func::Neg => -x,
            Func::Sin => x.sin(),
            Func::Cos => x.cos(),
            Func::Tan => x.tan(),
            Func::Exp => x.exp(),
            Func::Log => x.ln(),
            Func::Sqrt => x.sqrt(),
            Func::Tanh => x.tanh(),
            Func::Sinh => x.sinh(),
            Func::Cosh => x.cosh(),
            Func::Abs => x.abs(),
            Func::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
        }
    }
}

impl BinaryOp {
    /// Applies the operator to two numbers (`a ^ b` by `powf`).
    pub fn apply(self, x: f64, y: f64) -> f64 {
        match self {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            BinaryOp::Pow => x.powf(y),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
/// A binary operator.
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// `a ^ b`; when `b` is a constant integer the compiler uses repeated products.
    Pow,
}

/// The comparison in the condition of a [`Node::Select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compare {
    /// `a < b`.
    Less,
    /// `a <= b`.
    LessEq,
    /// `a > b`.
    Greater,
    /// `a >= b`.
    GreaterEq,
}

impl Compare {
    /// Whether `a ⋈ b` holds (false when either is NaN).
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Compare::Less => a < b,
            Compare::LessEq => a <= b,
            Compare::Greater => a > b,
            Compare::GreaterEq => a >= b,
        }
    }

    /// The operator as written in `.pde` source.
    pub fn symbol(self) -> &'static str {
        match self {
            Compare::Less => "<",
            Compare::LessEq => "<=",
            Compare::Greater => ">",
            Compare::GreaterEq => ">=",
        }
    }
}

/// One node. Constants are stored by bit pattern so nodes can be hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Node {
    /// A finite constant (`f64::to_bits`).
    Const(u64),
    /// Coordinate number `i` of [`crate::ir::Problem::coords`].
    Coord(usize),
    /// Component `i` (coordinate index) of the outward unit normal at the sample
    /// point; only on boundary and face regions (from `dn`).
    Normal(usize),
    /// A jet `D^α u_k` (see [`crate::ir::Jet`]).
    Jet(JetId),
    /// Trainable param number `i` of [`crate::ir::Problem::params`].
    Param(usize),
    /// Column `column` of data set `set`, at the block's data rows.
    Data {
        /// Index of the data set (into `Problem::data`).
        set: usize,
        /// Column index within the data set.
        column: usize,
    },
    /// A grid coefficient or one of its derivatives, `D^α k` (see
    /// [`crate::ir::GridTerm`]): known at every point, independent of θ.
    Grid(GridTermId),
    /// A function or negation of a node.
    Unary(Func, ExprId),
    /// A binary operation of two nodes.
    Binary(BinaryOp, ExprId, ExprId),
    /// `if(left ⋈ right, then, otherwise)`, pointwise: `then` where the comparison
    /// holds, `otherwise` elsewhere (also where it is NaN). `min` and `max` lower to
    /// it (`min(a, b) = if(a <= b, a, b)`, `max(a, b) = if(a >= b, a, b)`). Its
    /// derivative is the selected branch's; the condition is piecewise constant.
    Select {
        /// The comparison.
        compare: Compare,
        /// Its left operand.
        left: ExprId,
        /// Its right operand.
        right: ExprId,
        /// The value where the comparison holds.
        then: ExprId,
        /// The value elsewhere.
        otherwise: ExprId,
    },
}

impl Node {
    /// Whether the node is an operation on other nodes (not a leaf).
    pub fn is_inner(self) -> bool {
        matches!(
            self,
            Node::Unary(..) | Node::Binary(..) | Node::Select { .. }
        )
    }
}

/// Arena of hash-consed expression nodes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExprArena {
    nodes: Vec<Node>,
    #[serde(skip)]
    index: HashMap<Node, ExprId>,
}

impl ExprArena {
    /// An empty arena.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `node` (or finds the equal node already there). No simplification.
    pub fn intern(&mut self, node: Node) -> ExprId {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = ExprId(self.nodes.len() as u32);
        self.nodes.push(node);
        self.index.insert(node, id);
        id
    }

    /// The node of a constant (interned: one node per value).
    pub fn constant(&mut self, value: f64) -> ExprId {
        // Normalise -0.0 to 0.0 so both intern to one node.
        let value = if value == 0.0 { 0.0 } else { value };
        self.intern(Node::Const(value.to_bits()))
    }

    /// The node with this id.
    pub fn node(&self, id: ExprId) -> Node {
        self.nodes[id.0 as usize]
    }

    /// The value of a constant node.
    pub fn as_const(&self, id: ExprId) -> Option<f64> {
        match self.node(id) {
            Node::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node ids reachable from `roots`, children before parents (a valid
    /// evaluation order), each once.
    pub fn topo_order(&self, roots: &[ExprId]) -> Vec<ExprId> {
        let mut seen = vec![false; self.nodes.len()];
        let mut order = Vec::new();
        // Iterative post-order so that deep expressions cannot overflow the stack.
        let mut stack: Vec<(ExprId, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((id, expanded)) = stack.pop() {
            let i = id.0 as usize;
            if expanded {
                if !seen[i] {
                    seen[i] = true;
                    order.push(id);
                }
                continue;
            }
            if seen[i] {
                continue;
            }
            stack.push((id, true));
            match self.node(id) {
                Node::Unary(_, a) => stack.push((a, false)),
                Node::Binary(_, a, b) => {
                    stack.push((b, false));
                    stack.push((a, false));
                }
                Node::Select {
                    left,
                    right,
                    then,
                    otherwise,
                    ..
                } => {
                    for child in [otherwise, then, right, left] {
                        stack.push((child, false));
                    }
                }
                _ => {}
            }
        }
        order
    }
}
