//! Elementwise values on tensors: the IR's unary and binary operations on
//! constants and columns, a DAG evaluated once per shared node, and the read
//! back of tensors to host vectors.

use crate::ir::{BinaryOp, Compare, ExprArena, ExprId, Func, Node};
use burn::tensor::{backend::Backend, Tensor};
use std::collections::HashMap;

/// An elementwise value: a constant or a column `[n, 1]` (or `[1, 1]`, broadcast).
#[derive(Debug, Clone)]
pub(super) enum Value<B: Backend> {
    Scalar(f64),
    Tensor(Tensor<B, 2>),
}

impl<B: Backend> Value<B> {
    pub(super) fn into_column(self, n: usize, device: &B::Device) -> Tensor<B, 2> {
        match self {
            Value::Scalar(v) => Tensor::full([n, 1], v, device),
            Value::Tensor(t) if t.dims()[0] != n => t.expand([n, 1]),
            Value::Tensor(t) => t,
        }
    }
}

fn unary<B: Backend>(func: Func, value: Value<B>) -> Value<B> {
    let t = match value {
        Value::Scalar(v) => return Value::Scalar(func.apply(v)),
        Value::Tensor(t) => t,
    };
    Value::Tensor(match func {
        Func::Neg => t.neg(),
        Func::Sin => t.sin(),
        Func::Cos => t.cos(),
        Func::Tan => t.clone().sin().div(t.cos()),
        Func::Exp => t.exp(),
        Func::Log => t.log(),
        Func::Sqrt => t.sqrt(),
        Func::Tanh => t.tanh(),
        Func::Sinh => t.clone().exp().sub(t.neg().exp()).mul_scalar(0.5),
        Func::Cosh => t.clone().exp().add(t.neg().exp()).mul_scalar(0.5),
        Func::Abs => t.abs(),
        Func::Sign => t.sign(),
    })
}

/// Brings two tensors to one shape when one of them is a broadcast `[1, 1]`.
fn align<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let (na, nb) = (a.dims()[0], b.dims()[0]);
    if na == nb {
        (a, b)
    } else if na == 1 {
        (a.expand([nb, 1]), b)
    } else {
        let b = b.expand([na, 1]);
        (a, b)
    }
}

/// `t^k` for an integer `k` by repeated products (exact derivatives, no log).
fn int_power<B: Backend>(t: Tensor<B, 2>, k: i64) -> Tensor<B, 2> {
    if k == 0 {
        return t.ones_like();
    }
    let mut acc = t.clone();
    for _ in 1..k.unsigned_abs() {
        acc = acc.mul(t.clone());
    }
    if k < 0 {
        acc.recip()
    } else {
        acc
    }
}

fn binary<B: Backend>(op: BinaryOp, a: Value<B>, b: Value<B>) -> Value<B> {
    use Value::{Scalar as S, Tensor as T};
    Value::Tensor(match (a, b) {
        (S(x), S(y)) => return S(op.apply(x, y)),
        (T(t), S(y)) => match op {
            BinaryOp::Add => t.add_scalar(y),
            BinaryOp::Sub => t.sub_scalar(y),
            BinaryOp::Mul => t.mul_scalar(y),
            BinaryOp::Div => t.div_scalar(y),
            BinaryOp::Pow if y.fract() == 0.0 && y.abs() <= 16.0 => int_power(t, y as i64),
            BinaryOp::Pow => t.powf_scalar(y),
        },
        (S(x), T(t)) => match op {
            BinaryOp::Add => t.add_scalar(x),
            BinaryOp::Sub => t.neg().add_scalar(x),
            BinaryOp::Mul => t.mul_scalar(x),
            BinaryOp::Div => t.recip().mul_scalar(x),
            BinaryOp::Pow => t.mul_scalar(x.ln()).exp(),
        },
        (T(a), T(b)) => {
            let (a, b) = align(a, b);
            match op {
                BinaryOp::Add => a.add(b),
                BinaryOp::Sub => a.sub(b),
                BinaryOp::Mul => a.mul(b),
                BinaryOp::Div => a.div(b),
                BinaryOp::Pow => b.mul(a.log()).exp(),
            }
        }
    })
}

/// `then` where `left ⋈ right` holds, `otherwise` elsewhere (and where it is NaN).
/// Gradients (burn-autodiff) flow only into the selected branch.
fn select<B: Backend>(
    compare: Compare,
    left: Value<B>,
    right: Value<B>,
    then: Value<B>,
    otherwise: Value<B>,
) -> Value<B> {
    // Tensor operands are `[n, 1]` or a broadcast `[1, 1]`: bring all to the longest.
    let mut column: Option<(usize, B::Device)> = None;
    for value in [&left, &right, &then, &otherwise] {
        if let Value::Tensor(t) = value {
            let rows = t.dims()[0];
            if column.as_ref().is_none_or(|(n, _)| rows > *n) {
                column = Some((rows, t.device()));
            }
        }
    }
    let Some((n, device)) = column else {
        let (Value::Scalar(a), Value::Scalar(b)) = (&left, &right) else {
            unreachable!("no operand is a tensor")
        };
        return if compare.holds(*a, *b) {
            then
        } else {
            otherwise
        };
    };
    let (left, right) = (left.into_column(n, &device), right.into_column(n, &device));
    let mask = match compare {
        Compare::Less => left.lower(right),
        Compare::LessEq => left.lower_equal(right),
        Compare::Greater => left.greater(right),
        Compare::GreaterEq => left.greater_equal(right),
    };
    let then = then.into_column(n, &device);
    Value::Tensor(otherwise.into_column(n, &device).mask_where(mask, then))
}

/// Evaluates `roots` of the DAG, each shared node once.
pub(super) fn eval_dag<B: Backend>(
    arena: &ExprArena,
    roots: &[ExprId],
    leaf: &mut dyn FnMut(Node) -> Value<B>,
) -> Vec<Value<B>> {
    let mut values: HashMap<ExprId, Value<B>> = HashMap::new();
    for id in arena.topo_order(roots) {
        let value = match arena.node(id) {
            Node::Const(bits) => Value::Scalar(f64::from_bits(bits)),
            Node::Unary(func, a) => unary(func, values[&a].clone()),
            Node::Binary(op, a, b) => binary(op, values[&a].clone(), values[&b].clone()),
            Node::Select {
                compare,
                left,
                right,
                then,
                otherwise,
            } => select(
                compare,
                values[&left].clone(),
                values[&right].clone(),
                values[&then].clone(),
                values[&otherwise].clone(),
            ),
            other => leaf(other),
        };
        values.insert(id, value);
    }
    roots.iter().map(|r| values[r].clone()).collect()
}

pub(super) fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    let n = t.shape().num_elements();
    t.reshape([n])
        .into_data()
        .into_vec::<f64>()
        .expect("f64 tensor")
}

pub(super) fn to_vec2<B: Backend>(t: Tensor<B, 2>) -> Vec<f64> {
    t.into_data().into_vec::<f64>().expect("f64 tensor")
}
