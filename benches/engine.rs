//! Engine benchmarks: residual + per-sample Jacobian on poisson2d
//! ([2,20,20,20,20,1], P = 1,341, N = 1,000) and heat1d_large
//! ([2,50,50,50,1], P = 5,301, N = 1,000), plus the gradient-only and
//! residual-only paths, and the bare matrix products of one residual+J pass
//! (to split the time between products and elementwise work).

use burn::tensor::{Tensor, TensorData};
use burn_ndarray::NdArray;
use criterion::{criterion_group, criterion_main, Criterion};
use pdec::compile::{BlockPoints, CompiledProblem, PointSet};
use pdec::ir::{
    Activation, Coord, CoordKind, Deriv, Domain, ExprArena, ExprId, Field, Func, Jet, JetId,
    ModelConfig, Node, Problem, Region, ResidualBlock, SampleConfig, SolveSettings,
};
use pdec::span::Span;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

type Be = NdArray<f64>;

fn coord(name: &str, kind: CoordKind) -> Coord {
    Coord {
        name: name.into(),
        kind,
        lo: 0.0,
        hi: 1.0,
        span: Span::default(),
    }
}

fn block(
    region: Region,
    residual: ExprId,
    linearization: Vec<(JetId, ExprId)>,
    order: usize,
) -> ResidualBlock {
    ResidualBlock {
        label: String::new(),
        span: Span::default(),
        region,
        weight: 1.0,
        residual,
        jets: linearization.iter().map(|(j, _)| *j).collect(),
        linearization,
        param_derivatives: Vec::new(),
        linear: true,
        order,
    }
}

fn problem(
    coords: Vec<Coord>,
    time: Option<usize>,
    jets: Vec<Jet>,
    exprs: ExprArena,
    blocks: Vec<ResidualBlock>,
    layers: Vec<usize>,
) -> Problem {
    Problem {
        coords,
        domain: Domain {
            factors: Vec::new(),
            time,
        },
        fields: vec![Field {
            name: "u".into(),
            coords: None,
            span: Span::default(),
        }],
        params: Vec::new(),
        data: Vec::new(),
        grids: Vec::new(),
        grid_terms: Vec::new(),
        periodic: Vec::new(),
        jets,
        exprs,
        blocks,
        exact: Vec::new(),
        model: ModelConfig {
            layers,
            activation: Activation::Tanh,
            shared: false,
            ..ModelConfig::default()
        },
        sample: SampleConfig::default(),
        solve: SolveSettings::default(),
        ansatz: Vec::new(),
        soft_conditions: Vec::new(),
    }
}

/// `lap(u) + 2π² sin(πx) sin(πy)` inside, `u` on the boundary.
fn poisson2d() -> Problem {
    let mut e = ExprArena::new();
    let jets = vec![
        Jet {
            field: 0,
            deriv: Deriv::Laplacian,
        },
        Jet {
            field: 0,
            deriv: Deriv::Partial(vec![0, 0]),
        },
    ];
    let lap = e.intern(Node::Jet(JetId(0)));
    let u = e.intern(Node::Jet(JetId(1)));
    let pi = e.constant(std::f64::consts::PI);
    let x = e.intern(Node::Coord(0));
    let y = e.intern(Node::Coord(1));
    let px = e.intern(Node::Binary(pdec::ir::BinaryOp::Mul, pi, x));
    let py = e.intern(Node::Binary(pdec::ir::BinaryOp::Mul, pi, y));
    let sx = e.intern(Node::Unary(Func::Sin, px));
    let sy = e.intern(Node::Unary(Func::Sin, py));
    let s = e.intern(Node::Binary(pdec::ir::BinaryOp::Mul, sx, sy));
    let k = e.constant(2.0 * std::f64::consts::PI.powi(2));
    let f = e.intern(Node::Binary(pdec::ir::BinaryOp::Mul, k, s));
    let r = e.intern(Node::Binary(pdec::ir::BinaryOp::Add, lap, f));
    let one = e.constant(1.0);
    let blocks = vec![
        block(Region::Interior, r, vec![(JetId(0), one)], 2),
        block(Region::Boundary, u, vec![(JetId(1), one)], 0),
    ];
    problem(
        vec![coord("x", CoordKind::Space), coord("y", CoordKind::Space)],
        None,
        jets,
        e,
        blocks,
        vec![20, 20, 20, 20],
    )
}

/// `dt(u) − ¼ dxx(u)` inside, `u − sin(πx)` at t = 0, `u` on x = 0, 1.
fn heat1d_large() -> Problem {
    let mut e = ExprArena::new();
    let partial = |a: Vec<u8>| Jet {
        field: 0,
        deriv: Deriv::Partial(a),
    };
    let jets = vec![
        partial(vec![1, 0]),
        partial(vec![0, 2]),
        partial(vec![0, 0]),
    ];
    let ut = e.intern(Node::Jet(JetId(0)));
    let uxx = e.intern(Node::Jet(JetId(1)));
    let u = e.intern(Node::Jet(JetId(2)));
    let q = e.constant(0.25);
    let mq = e.constant(-0.25);
    let one = e.constant(1.0);
    let d = e.intern(Node::Binary(pdec::ir::BinaryOp::Mul, q, uxx));
    let r = e.intern(Node::Binary(pdec::ir::BinaryOp::Sub, ut, d));
    let pi = e.constant(std::f64::consts::PI);
    let x = e.intern(Node::Coord(1));
    let px = e.intern(Node::Binary(pdec::ir::BinaryOp::Mul, pi, x));
    let s = e.intern(Node::Unary(Func::Sin, px));
    let r0 = e.intern(Node::Binary(pdec::ir::BinaryOp::Sub, u, s));
    let blocks = vec![
        block(
            Region::Interior,
            r,
            vec![(JetId(0), one), (JetId(1), mq)],
            2,
        ),
        block(Region::Initial, r0, vec![(JetId(2), one)], 0),
        block(Region::Boundary, u, vec![(JetId(2), one)], 0),
    ];
    problem(
        vec![coord("t", CoordKind::Time), coord("x", CoordKind::Space)],
        Some(0),
        jets,
        e,
        blocks,
        vec![50, 50, 50],
    )
}

/// Uniform points in [0,1]²; `fix` pins one coordinate of each point to a face.
fn points(n: usize, rng: &mut ChaCha8Rng, fix: Option<(usize, &[f64])>) -> BlockPoints {
    let mut pts = Vec::with_capacity(2 * n);
    for i in 0..n {
        let mut p = [rng.random_range(0.0..1.0), rng.random_range(0.0..1.0)];
        if let Some((c, values)) = fix {
            p[c] = values[i % values.len()];
        }
        pts.extend(p);
    }
    BlockPoints {
        n,
        points: pts,
        ..Default::default()
    }
}

fn bench_engine(c: &mut Criterion) {
    let device = Default::default();
    let mut rng = ChaCha8Rng::seed_from_u64(0);

    let poisson = poisson2d();
    let program = CompiledProblem::<Be>::new(&poisson, &device).unwrap();
    let theta = program.init_params(0);
    let mut boundary = points(100, &mut rng, Some((0, &[0.0, 1.0])));
    boundary.normals = Some(vec![0.0; 200]);
    let pts = PointSet {
        blocks: vec![points(900, &mut rng, None), boundary],
    };
    assert_eq!(program.n_params(), 1341);
    c.bench_function("poisson2d residual+J", |b| {
        b.iter(|| black_box(program.residual_and_jacobian(&theta, &pts)))
    });
    c.bench_function("poisson2d residual+J reused buffer", |b| {
        let mut jacobian = Vec::new();
        b.iter(|| black_box(program.residual_and_jacobian_into(&theta, &pts, &mut jacobian)))
    });
    c.bench_function("poisson2d gradient", |b| {
        b.iter(|| black_box(program.loss_and_gradient(&theta, &pts)))
    });
    c.bench_function("poisson2d residual", |b| {
        b.iter(|| black_box(program.residual(&theta, &pts)))
    });
    let device_program = program
        .clone()
        .with_assembly(pdec::compile::JacobianAssembly::Device);
    c.bench_function("poisson2d residual+J device assembly", |b| {
        b.iter(|| black_box(device_program.residual_and_jacobian(&theta, &pts)))
    });
    // The matrix products of one residual+J pass alone (host assembly): per
    // layer and channel the forward product `[M, in] × [in, out]` and the
    // reverse product `[M, out] × [out, in]`.
    let widths = [2usize, 20, 20, 20, 20, 1];
    let (n, channels) = (1000, 4);
    c.bench_function("poisson2d matmuls only", |b| {
        let full = |shape: [usize; 2]| {
            Tensor::<Be, 2>::from_data(
                TensorData::new(vec![0.5; shape[0] * shape[1]], shape),
                &device,
            )
        };
        let mats: Vec<_> = widths
            .windows(2)
            .map(|w| (full([n, w[0]]), full([w[1], w[0]]), full([n, w[1]])))
            .collect();
        b.iter(|| {
            for (l, (h, w, dz)) in mats.iter().enumerate() {
                for _ in 0..channels {
                    black_box(h.clone().matmul(w.clone().transpose()));
                    if l > 0 {
                        black_box(dz.clone().matmul(w.clone()));
                    }
                }
            }
        })
    });

    let heat = heat1d_large();
    let program = CompiledProblem::<Be>::new(&heat, &device).unwrap();
    let theta = program.init_params(0);
    assert_eq!(program.n_params(), 5301);
    let pts = PointSet {
        blocks: vec![
            points(800, &mut rng, None),
            points(100, &mut rng, Some((0, &[0.0]))),
            points(100, &mut rng, Some((1, &[0.0, 1.0]))),
        ],
    };
    c.bench_function("heat1d_large residual+J", |b| {
        b.iter(|| black_box(program.residual_and_jacobian(&theta, &pts)))
    });
    c.bench_function("heat1d_large residual+J reused buffer", |b| {
        let mut jacobian = Vec::new();
        b.iter(|| black_box(program.residual_and_jacobian_into(&theta, &pts, &mut jacobian)))
    });
    c.bench_function("heat1d_large gradient", |b| {
        b.iter(|| black_box(program.loss_and_gradient(&theta, &pts)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_engine
}
criterion_main!(benches);
