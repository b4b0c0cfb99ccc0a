//! Test support: hand-built problems (with their symbolic linearizations) and
//! random point sets, so the engine is tested without the front end.

use crate::compile::points::{BlockPoints, PointSet};
use crate::compile::program::CompiledProblem;
use crate::ir::{
    Activation, BinaryOp, Coord, CoordKind, DataSet, Deriv, Domain, ExactSolution, ExactSource,
    ExprArena, ExprId, Field, Func, Jet, JetId, ModelConfig, Node, Param, Problem, Region,
    ResidualBlock, SampleConfig, SolveSettings,
};
use crate::span::Span;
use burn_ndarray::NdArray;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Builds a [`Problem`] by hand.
pub struct Builder {
    pub problem: Problem,
}

impl Builder {
    /// Coordinates `(name, is_time, lo, hi)`, fields, hidden widths, activation.
    pub fn new(
        coords: &[(&str, bool, f64, f64)],
        fields: &[&str],
        layers: &[usize],
        activation: Activation,
    ) -> Self {
        let time = coords.iter().position(|c| c.1);
        let problem = Problem {
            coords: coords
                .iter()
                .map(|&(name, is_time, lo, hi)| Coord {
                    name: name.into(),
                    kind: if is_time {
                        CoordKind::Time
                    } else {
                        CoordKind::Space
                    },
                    lo,
                    hi,
                    span: Span::default(),
                })
                .collect(),
            domain: Domain {
                factors: Vec::new(),
                time,
            },
            fields: fields
                .iter()
                .map(|&name| Field {
                    name: name.into(),
                    coords: None,
                    span: Span::default(),
                })
                .collect(),
            params: Vec::new(),
            data: Vec::new(),
            grids: Vec::new(),
            grid_terms: Vec::new(),
            periodic: Vec::new(),
            jets: Vec::new(),
            exprs: ExprArena::new(),
            blocks: Vec::new(),
            exact: Vec::new(),
            model: ModelConfig {
                layers: layers.to_vec(),
                activation,
                shared: false,
                ..ModelConfig::default()
            },
            sample: SampleConfig::default(),
            solve: SolveSettings::default(),
            ansatz: Vec::new(),
            soft_conditions: Vec::new(),
        };
        Builder { problem }
    }

    pub fn shared(mut self) -> Self {
        self.problem.model.shared = true;
        self
    }

    fn add_jet(&mut self, jet: Jet) -> ExprId {
        let id = match self.problem.jets.iter().position(|j| *j == jet) {
            Some(i) => i,
            None => {
                self.problem.jets.push(jet);
                self.problem.jets.len() - 1
            }
        };
        self.problem.exprs.intern(Node::Jet(JetId(id as u32)))
    }

    /// `D^α u_field`.
    pub fn d(&mut self, field: usize, alpha: &[u8]) -> ExprId {
        self.add_jet(Jet {
            field,
            deriv: Deriv::Partial(alpha.to_vec()),
        })
    }

    /// The value `u_field`.
    pub fn u(&mut self, field: usize) -> ExprId {
        let zero = vec![0; self.problem.coords.len()];
        self.d(field, &zero)
    }

    pub fn lap(&mut self, field: usize) -> ExprId {
        self.add_jet(Jet {
            field,
            deriv: Deriv::Laplacian,
        })
    }

    pub fn c(&mut self, v: f64) -> ExprId {
        self.problem.exprs.constant(v)
    }

    pub fn x(&mut self, i: usize) -> ExprId {
        self.problem.exprs.intern(Node::Coord(i))
    }

    pub fn normal(&mut self, i: usize) -> ExprId {
        self.problem.exprs.intern(Node::Normal(i))
    }

    pub fn param(&mut self, name: &str, init: f64) -> ExprId {
        let i = self.problem.params.len();
        self.problem.params.push(Param {
            name: name.into(),
            init,
            span: Span::default(),
        });
        self.problem.exprs.intern(Node::Param(i))
    }

    pub fn bin(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> ExprId {
        self.problem.exprs.intern(Node::Binary(op, a, b))
    }

    pub fn add(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.bin(BinaryOp::Add, a, b)
    }

    pub fn sub(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.bin(BinaryOp::Sub, a, b)
    }

    pub fn mul(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.bin(BinaryOp::Mul, a, b)
    }

    pub fn f(&mut self, func: Func, a: ExprId) -> ExprId {
        self.problem.exprs.intern(Node::Unary(func, a))
    }

    /// `∂e/∂leaf`, unsimplified except for zero propagation.
    fn diff(&mut self, e: ExprId, leaf: Node) -> Option<ExprId> {
        let node = self.problem.exprs.node(e);
        if node == leaf {
            return Some(self.c(1.0));
        }
        match node {
            Node::Unary(func, a) => {
                let da = self.diff(a, leaf)?;
                let outer = match func {
                    Func::Neg => self.c(-1.0),
                    Func::Sin => self.f(Func::Cos, a),
                    Func::Cos => {
                        let s = self.f(Func::Sin, a);
                        self.f(Func::Neg, s)
                    }
                    Func::Exp => self.f(Func::Exp, a),
                    Func::Tanh => {
                        let t = self.f(Func::Tanh, a);
                        let t2 = self.mul(t, t);
                        let one = self.c(1.0);
                        self.sub(one, t2)
                    }
                    Func::Log => {
                        let one = self.c(1.0);
                        self.bin(BinaryOp::Div, one, a)
                    }
                    other => panic!("test builder cannot differentiate {other:?}"),
                };
                Some(self.mul(outer, da))
            }
            Node::Binary(op, a, b) => {
                let (da, db) = (self.diff(a, leaf), self.diff(b, leaf));
                match op {
                    BinaryOp::Add | BinaryOp::Sub => match (da, db) {
                        (Some(x), Some(y)) => Some(self.bin(op, x, y)),
                        (Some(x), None) => Some(x),
                        (None, Some(y)) if op == BinaryOp::Add => Some(y),
                        (None, Some(y)) => Some(self.f(Func::Neg, y)),
                        (None, None) => None,
                    },
                    BinaryOp::Mul => {
                        let left = da.map(|x| self.mul(x, b));
                        let right = db.map(|y| self.mul(a, y));
                        match (left, right) {
                            (Some(l), Some(r)) => Some(self.add(l, r)),
                            (l, r) => l.or(r),
                        }
                    }
                    BinaryOp::Pow => {
                        assert!(db.is_none(), "test builder: exponent must be constant");
                        let k = self.problem.exprs.as_const(b).expect("constant exponent");
                        let da = da?;
                        let km1 = self.c(k - 1.0);
                        let p = self.bin(BinaryOp::Pow, a, km1);
                        let kc = self.c(k);
                        let kp = self.mul(kc, p);
                        Some(self.mul(kp, da))
                    }
                    BinaryOp::Div => {
                        assert!(db.is_none(), "test builder: divisor must be leaf-free");
                        let da = da?;
                        Some(self.bin(BinaryOp::Div, da, b))
                    }
                }
            }
            Node::Select { .. } => panic!("test builder cannot differentiate a select"),
            _ => None,
        }
    }

    /// Adds the block `residual = 0` on `region` with its linearization.
    pub fn block(&mut self, region: Region, weight: f64, residual: ExprId) {
        let order = self.problem.exprs.topo_order(&[residual]);
        let mut jets: Vec<JetId> = Vec::new();
        let mut params: Vec<usize> = Vec::new();
        for id in &order {
            match self.problem.exprs.node(*id) {
                Node::Jet(j) => jets.push(j),
                Node::Param(p) => params.push(p),
                _ => {}
            }
        }
        jets.sort();
        params.sort();
        let linearization: Vec<(JetId, ExprId)> = jets
            .iter()
            .filter_map(|&j| self.diff(residual, Node::Jet(j)).map(|e| (j, e)))
            .collect();
        let linear = linearization.iter().all(|&(_, e)| {
            self.problem
                .exprs
                .topo_order(&[e])
                .iter()
                .all(|&id| !matches!(self.problem.exprs.node(id), Node::Jet(_)))
        });
        let param_derivatives = params
            .iter()
            .filter_map(|&p| self.diff(residual, Node::Param(p)).map(|e| (p, e)))
            .collect();
        let max_order = jets
            .iter()
            .map(|j| self.problem.jet(*j).order())
            .max()
            .unwrap_or(0);
        self.problem.blocks.push(ResidualBlock {
            label: format!("block {}", self.problem.blocks.len()),
            span: Span::default(),
            region,
            weight,
            residual,
            jets,
            linearization,
            param_derivatives,
            linear,
            order: max_order,
        });
    }

    pub fn exact(&mut self, field: usize, expr: ExprId) {
        self.problem.exact.push(ExactSolution {
            field,
            source: ExactSource::Expr(expr),
            span: Span::default(),
        });
    }
}

/// Random points for every block: uniform in the coordinate box; boundary
/// and face blocks get a random face of the first spatial coordinate and its
/// normal; periodic blocks get the partner on the opposite face.
pub fn random_points(problem: &Problem, n: usize, seed: u64) -> PointSet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = problem.coords.len();
    let blocks = problem
        .blocks
        .iter()
        .map(|block| {
            let mut points = Vec::with_capacity(n * d);
            let mut normals = Vec::new();
            let mut partner = Vec::new();
            for _ in 0..n {
                let mut p: Vec<f64> = problem
                    .coords
                    .iter()
                    .map(|c| rng.random_range(c.lo..c.hi))
                    .collect();
                let mut normal = vec![0.0; d];
                match &block.region {
                    Region::Boundary => {
                        let i = problem.spatial_coords()[0];
                        let hi = rng.random_bool(0.5);
                        p[i] = if hi {
                            problem.coords[i].hi
                        } else {
                            problem.coords[i].lo
                        };
                        normal[i] = if hi { 1.0 } else { -1.0 };
                    }
                    Region::Initial => {
                        let t = problem.domain.time.expect("time coordinate");
                        p[t] = problem.coords[t].lo;
                    }
                    Region::Periodic { coord } => {
                        p[*coord] = problem.coords[*coord].lo;
                        let mut q = p.clone();
                        q[*coord] = problem.coords[*coord].hi;
                        partner.extend(q);
                    }
                    _ => {}
                }
                points.extend(p);
                normals.extend(normal);
            }
            let data_rows = match block.region {
                Region::Data { set } => {
                    // Row r of the data set at its own coordinates.
                    let rows: Vec<usize> = (0..n)
                        .map(|i| (3 * i + 1) % problem.data[set].n_rows())
                        .collect();
                    for (i, &r) in rows.iter().enumerate() {
                        for (c, &col) in problem.data[set].coord_columns.iter().enumerate() {
                            points[i * d + c] = problem.data[set].values[col][r];
                        }
                    }
                    Some(rows)
                }
                _ => None,
            };
            BlockPoints {
                n,
                points,
                normals: matches!(block.region, Region::Boundary).then_some(normals),
                partner: matches!(block.region, Region::Periodic { .. }).then_some(partner),
                data_rows,
            }
        })
        .collect();
    PointSet { blocks }
}

const HIDDEN: [usize; 2] = [6, 5];

/// Heat 1+1D: `dt(u) − 0.25 dxx(u)` inside, `u − sin(πx)` at t = 0, `u` on x = 0, 1.
pub fn heat() -> Problem {
    let mut b = Builder::new(
        &[("t", true, 0.0, 1.0), ("x", false, 0.0, 1.0)],
        &["u"],
        &HIDDEN,
        Activation::Tanh,
    );
    let ut = b.d(0, &[1, 0]);
    let uxx = b.d(0, &[0, 2]);
    let q = b.c(0.25);
    let diff = b.mul(q, uxx);
    let r = b.sub(ut, diff);
    b.block(Region::Interior, 1.0, r);
    let u = b.u(0);
    let x = b.x(1);
    let pi = b.c(std::f64::consts::PI);
    let pix = b.mul(pi, x);
    let s = b.f(Func::Sin, pix);
    let r = b.sub(u, s);
    b.block(Region::Initial, 2.0, r);
    b.block(Region::Boundary, 3.0, u);
    b.problem
}

/// Poisson 2D with the Laplacian: `lap(u) + 2π² sin(πx) sin(πy)`, `u` on the boundary.
pub fn poisson(layers: &[usize], activation: Activation) -> Problem {
    let mut b = Builder::new(
        &[("x", false, 0.0, 1.0), ("y", false, 0.0, 1.0)],
        &["u"],
        layers,
        activation,
    );
    let lap = b.lap(0);
    let x = b.x(0);
    let y = b.x(1);
    let pi = b.c(std::f64::consts::PI);
    let px = b.mul(pi, x);
    let py = b.mul(pi, y);
    let sx = b.f(Func::Sin, px);
    let sy = b.f(Func::Sin, py);
    let src = b.mul(sx, sy);
    let k = b.c(2.0 * std::f64::consts::PI.powi(2));
    let f = b.mul(k, src);
    let r = b.add(lap, f);
    b.block(Region::Interior, 1.0, r);
    let u = b.u(0);
    b.block(Region::Boundary, 1.0, u);
    let exact = b.mul(sx, sy);
    b.exact(0, exact);
    b.problem
}

/// 1-D nonlinear residuals: `u dx(u) − dxx(u)`, `u³ − dxx(u)`, `sin(u) + dx(u)`.
pub fn nonlinear(kind: usize) -> Problem {
    let mut b = Builder::new(
        &[("x", false, -1.0, 1.0)],
        &["u"],
        &HIDDEN,
        Activation::Tanh,
    );
    let u = b.u(0);
    let ux = b.d(0, &[1]);
    let uxx = b.d(0, &[2]);
    let r = match kind {
        0 => {
            let p = b.mul(u, ux);
            b.sub(p, uxx)
        }
        1 => {
            let three = b.c(3.0);
            let cube = b.bin(BinaryOp::Pow, u, three);
            b.sub(cube, uxx)
        }
        _ => {
            let s = b.f(Func::Sin, u);
            b.add(s, ux)
        }
    };
    b.block(Region::Interior, 1.0, r);
    b.block(Region::Boundary, 1.0, ux);
    b.problem
}

/// Two fields coupled: `dx(u) − v`, `dy(v) + u v`, `u` and `v` on the boundary.
pub fn system(shared: bool) -> Problem {
    let mut b = Builder::new(
        &[("x", false, 0.0, 1.0), ("y", false, 0.0, 1.0)],
        &["u", "v"],
        &HIDDEN,
        Activation::Sin,
    );
    if shared {
        b = b.shared();
    }
    let u = b.u(0);
    let v = b.u(1);
    let ux = b.d(0, &[1, 0]);
    let vy = b.d(1, &[0, 1]);
    let r = b.sub(ux, v);
    b.block(Region::Interior, 1.0, r);
    let uv = b.mul(u, v);
    let r = b.add(vy, uv);
    b.block(Region::Interior, 0.5, r);
    let r = b.add(u, v);
    b.block(Region::Boundary, 1.0, r);
    b.problem
}

/// A trainable param: `dxx(u) + k u` with `k` a param, `u − 1` on the boundary.
pub fn with_param() -> Problem {
    let mut b = Builder::new(
        &[("x", false, 0.0, 2.0)],
        &["u"],
        &HIDDEN,
        Activation::Sigmoid,
    );
    let u = b.u(0);
    let uxx = b.d(0, &[2]);
    let k = b.param("k", 1.3);
    let ku = b.mul(k, u);
    let r = b.add(uxx, ku);
    b.block(Region::Interior, 1.0, r);
    let one = b.c(1.0);
    let kk = b.mul(k, k);
    let r = b.sub(u, one);
    let r = b.add(r, kk);
    b.block(Region::Boundary, 1.0, r);
    b.problem
}

/// Transport with a periodic x: `dt(u) + 3 dx(u)`, periodic in x (value and dx).
pub fn periodic() -> Problem {
    let mut b = Builder::new(
        &[("x", false, 0.0, 6.0), ("t", true, 0.0, 1.0)],
        &["u"],
        &HIDDEN,
        Activation::Softplus,
    );
    let ut = b.d(0, &[0, 1]);
    let ux = b.d(0, &[1, 0]);
    let k = b.c(3.0);
    let kux = b.mul(k, ux);
    let r = b.add(ut, kux);
    b.block(Region::Interior, 1.0, r);
    let u = b.u(0);
    b.block(Region::Periodic { coord: 0 }, 1.0, u);
    let e = b.f(Func::Exp, u);
    let r = b.add(e, ux);
    b.block(Region::Periodic { coord: 0 }, 2.0, r);
    b.problem
}

/// A fourth-order mixed jet: `d²x d²y u + u dxxx(u) − x` (silu).
pub fn fourth_order() -> Problem {
    let mut b = Builder::new(
        &[("x", false, 0.0, 1.0), ("y", false, 0.0, 1.0)],
        &["u"],
        &HIDDEN,
        Activation::Silu,
    );
    let u22 = b.d(0, &[2, 2]);
    let u30 = b.d(0, &[3, 0]);
    let u = b.u(0);
    let x = b.x(0);
    let p = b.mul(u, u30);
    let r = b.add(u22, p);
    let r = b.sub(r, x);
    b.block(Region::Interior, 1.0, r);
    b.block(Region::Boundary, 1.0, u);
    b.problem
}

/// A Neumann condition with normals: `n·∇u − 1` on the boundary, `lap(u)` inside (3-D, with time).
pub fn normals() -> Problem {
    let mut b = Builder::new(
        &[
            ("x", false, 0.0, 1.0),
            ("t", true, 0.0, 1.0),
            ("y", false, 0.0, 1.0),
        ],
        &["u"],
        &HIDDEN,
        Activation::Tanh,
    );
    let lap = b.lap(0);
    let ut = b.d(0, &[0, 1, 0]);
    let r = b.sub(ut, lap);
    b.block(Region::Interior, 1.0, r);
    let ux = b.d(0, &[1, 0, 0]);
    let uy = b.d(0, &[0, 0, 1]);
    let nx = b.normal(0);
    let ny = b.normal(2);
    let a = b.mul(nx, ux);
    let c = b.mul(ny, uy);
    let flux = b.add(a, c);
    let one = b.c(1.0);
    let r = b.sub(flux, one);
    b.block(Region::Boundary, 1.0, r);
    b.problem
}

/// Fitting data: `u − data.v` on the rows of a data set, plus `dx(u)·u` inside.
pub fn with_data() -> Problem {
    let mut b = Builder::new(&[("x", false, 0.0, 1.0)], &["u"], &HIDDEN, Activation::Tanh);
    b.problem.data.push(DataSet {
        name: "obs".into(),
        path: "obs.csv".into(),
        columns: vec!["x".into(), "v".into()],
        values: vec![
            (0..10).map(|i| i as f64 / 10.0).collect(),
            (0..10).map(|i| (i as f64).sqrt()).collect(),
        ],
        coord_columns: vec![0],
        span: Span::default(),
    });
    let u = b.u(0);
    let v = b.problem.exprs.intern(Node::Data { set: 0, column: 1 });
    let r = b.sub(u, v);
    b.block(Region::Data { set: 0 }, 1.0, r);
    let ux = b.d(0, &[1]);
    let r = b.mul(ux, u);
    b.block(Region::Interior, 1.0, r);
    b.problem
}

/// A random small problem: 2-D, a random activation and widths, and an
/// interior residual `a·D^α u + b·D^β u·D^γ u + sin(D^δ u) + x` with random
/// multi-indices of order ≤ 3 and coefficients, plus `u` on the boundary.
pub fn random_problem(seed: u64) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let activations = [
        Activation::Tanh,
        Activation::Sin,
        Activation::Sigmoid,
        Activation::Softplus,
        Activation::Silu,
    ];
    let activation = activations[rng.random_range(0..activations.len())];
    let n_hidden = rng.random_range(1..=3);
    let layers: Vec<usize> = (0..n_hidden).map(|_| rng.random_range(2..=6)).collect();
    let mut b = Builder::new(
        &[("x", false, 0.0, 1.0), ("y", false, 0.0, 1.0)],
        &["u"],
        &layers,
        activation,
    );
    let mut alpha = || {
        let order = rng.random_range(0..=3u8);
        let first = rng.random_range(0..=order);
        [first, order - first]
    };
    let (a1, a2, a3, a4) = (alpha(), alpha(), alpha(), alpha());
    let j1 = b.d(0, &a1);
    let j2 = b.d(0, &a2);
    let j3 = b.d(0, &a3);
    let j4 = b.d(0, &a4);
    let ca = b.c(rng.random_range(-2.0..2.0));
    let cb = b.c(rng.random_range(-2.0..2.0));
    let t1 = b.mul(ca, j1);
    let p = b.mul(j2, j3);
    let t2 = b.mul(cb, p);
    let t3 = b.f(Func::Sin, j4);
    let x = b.x(0);
    let r = b.add(t1, t2);
    let r = b.add(r, t3);
    let r = b.add(r, x);
    b.block(Region::Interior, rng.random_range(0.5..2.0), r);
    let u = b.u(0);
    b.block(Region::Boundary, 1.0, u);
    b.problem
}

/// Piecewise functions through the whole front end (parsed and lowered, so the
/// linearization is the IR's own): `min`, `max` and `if` whose switches depend on
/// the fields, a derivative, a coordinate and a param.
pub fn piecewise() -> Problem {
    const SOURCE: &str = "
space x in [0, 1]
field u, v
param k = 0.7
-dxx(u) + max(u, v + x - 0.5)^2 - min(dx(u), 4*k*(x - 0.5)) = if(x < 0.5, sin(x), x^2) on interior
v - if(u >= x - 0.5, u^2, k*exp(v)) = 0 on interior
u = 0 on boundary
v = 0 on boundary
model mlp(layers = [4, 3], activation = tanh, constraints = soft)
";
    let (problem, diagnostics) = crate::check_source(SOURCE, std::path::Path::new("."));
    problem.unwrap_or_else(|| panic!("the piecewise problem lowers: {diagnostics:?}"))
}

/// The value of `expr` at each point of block `block`, evaluated on the host
/// ([`crate::ir::symbolic::eval`]) from the program's jets, coordinates and params:
/// a reference for the tensor evaluation.
pub fn host_values(
    problem: &Problem,
    program: &CompiledProblem<NdArray<f64>>,
    points: &PointSet,
    theta: &[f64],
    block: usize,
    expr: ExprId,
) -> Vec<f64> {
    let d = problem.coords.len();
    let n_network = theta.len() - problem.params.len();
    let pts = &points.blocks[block];
    let jets: Vec<Vec<f64>> = problem
        .jets
        .iter()
        .map(|jet| program.network_jet(theta, &pts.points, jet))
        .collect();
    (0..pts.n)
        .map(|i| {
            let leaf = |node: Node| match node {
                Node::Coord(c) => pts.points[i * d + c],
                Node::Jet(j) => jets[j.0 as usize][i],
                Node::Param(p) => theta[n_network + p],
                Node::Grid(g) => problem.eval_grid(g, &pts.points[i * d..(i + 1) * d]),
                other => panic!("unexpected leaf {other:?}"),
            };
            crate::ir::symbolic::eval(&problem.exprs, expr, &leaf)
        })
        .collect()
}

/// For every `if`/`min`/`max` node in `problem`'s residuals, evaluated at the
/// block's points: the smallest `|left − right|` of its comparison, and how many
/// points took each branch. Lets tests show that finite differences stay away
/// from the switches and that both branches are exercised.
pub fn select_margins(
    problem: &Problem,
    program: &CompiledProblem<NdArray<f64>>,
    points: &PointSet,
    theta: &[f64],
) -> Vec<(f64, usize, usize)> {
    let mut out = Vec::new();
    for (b, block) in problem.blocks.iter().enumerate() {
        for id in problem.exprs.topo_order(&[block.residual]) {
            let Node::Select {
                compare,
                left,
                right,
                ..
            } = problem.exprs.node(id)
            else {
                continue;
            };
            let lefts = host_values(problem, program, points, theta, b, left);
            let rights = host_values(problem, program, points, theta, b, right);
            let (mut margin, mut taken, mut not_taken) = (f64::INFINITY, 0, 0);
            for (a, b) in lefts.into_iter().zip(rights) {
                margin = margin.min((a - b).abs());
                if compare.holds(a, b) {
                    taken += 1;
                } else {
                    not_taken += 1;
                }
            }
            out.push((margin, taken, not_taken));
        }
    }
    out
}

/// Every hand-built problem with a name.
pub fn all_problems() -> Vec<(&'static str, Problem)> {
    vec![
        ("heat", heat()),
        ("poisson", poisson(&HIDDEN, Activation::Tanh)),
        ("u_dx_u", nonlinear(0)),
        ("u_cubed", nonlinear(1)),
        ("sin_u", nonlinear(2)),
        ("system", system(false)),
        ("system_shared", system(true)),
        ("param", with_param()),
        ("periodic", periodic()),
        ("fourth_order", fourth_order()),
        ("normals", normals()),
        ("data", with_data()),
        ("random0", random_problem(0)),
        ("random1", random_problem(1)),
        ("random2", random_problem(2)),
        ("random3", random_problem(3)),
        ("random4", random_problem(4)),
        ("piecewise", piecewise()),
        ("hard", hard()),
    ]
}

/// A problem with hard constraints, lowered from source: Dirichlet data on the
/// faces `x = 0` and `x = 1` (different, blended), a compatible initial
/// condition, a Robin-type face that stays a block, and an interior equation
/// with a product, a param, the Laplacian and a mixed derivative.
pub fn hard() -> Problem {
    let source = "time t in [0, 1]\n\
                  space x in [0, 1]\n\
                  space y in [-1, 1]\n\
                  field u\n\
                  param a = 0.7\n\
                  dt(u) + u*dx(u) - a*lap(u) + dxy(u) = sin(x)*y   on interior\n\
                  u = cos(y)*exp(-t)         on x = 0\n\
                  u = cos(y)*exp(-t) + t     on x = 1\n\
                  u = cos(y) + sin(pi*x)*y   on initial\n\
                  dy(u) + u = x              on y = 1\n\
                  model mlp(layers = [6, 5])\n";
    let (problem, diagnostics) = crate::check::check_source(source, std::path::Path::new("."));
    let problem = problem.unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(problem.ansatz.len(), 1, "u is built with hard constraints");
    assert_eq!(problem.blocks.len(), 2, "interior and y = 1 remain");
    problem
}

/// `problem` compiled on the CPU backend.
pub fn compile(problem: &Problem) -> CompiledProblem<NdArray<f64>> {
    CompiledProblem::new(problem, &Default::default()).expect("compiles")
}
