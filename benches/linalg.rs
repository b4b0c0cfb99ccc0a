//! Benchmarks of the dense kernels behind the natural-gradient optimizers at the size of
//! the poisson2d problem (N = 1,000 residual rows, P = 1,341 parameters), random J; and
//! the SNGD direction on poisson2d's own Jacobian part-way through a solve, whose
//! spectrum (sixteen decades) random matrices do not have.
//!
//! Run with `cargo bench --features bench --bench linalg` (the dense test problems are
//! built only for tests and this feature).
//!
//! Like the `pdec` command, the benchmarks keep freed memory in the process
//! (`pdec::keep_freed_memory`).

use burn_ndarray::{NdArray, NdArrayDevice};
use criterion::{criterion_group, Criterion};
use pdec::compile::{CompiledProblem, PdeLeastSquares};
use pdec::solve::engd::{self, EngdSolve, GramForm};
use pdec::solve::linalg;
use pdec::solve::sngd::{self, SketchPass, SngdConfig};
use pdec::solve::test_problems::random_matrix;
use pdec::solve::LeastSquares;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::ops::ControlFlow;

const N: usize = 1000;
const P: usize = 1341;

/// Threads of the dense kernels: `PDEC_BENCH_THREADS`, else 2.
fn bench_threads() -> usize {
    std::env::var("PDEC_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

fn kernels(c: &mut Criterion) {
    let threads = bench_threads();
    let par = linalg::parallelism(threads);
    let j = random_matrix(N, P, 1);
    let r = random_matrix(N, 1, 2);
    let jm = linalg::jacobian_view(&j, N, P);
    let g = linalg::mat_vec(jm.transpose(), &r, par);
    let kernel = linalg::gram_lower(jm, par);

    let mut group = c.benchmark_group("n1000_p1341");
    group.sample_size(10);
    group.bench_function("gram_lower_JJt", |b| {
        b.iter(|| black_box(linalg::gram_lower(jm, par)))
    });
    group.bench_function("gram_lower_JtJ_P1341", |b| {
        b.iter(|| black_box(linalg::gram_lower(jm.transpose(), par)))
    });
    group.bench_function("full_product_JJt", |b| {
        b.iter(|| black_box(linalg::mat_mul(jm, jm.transpose(), par)))
    });
    group.bench_function("cholesky_solve_1000", |b| {
        b.iter(|| {
            let mut y = r.clone();
            linalg::cholesky_solve_damped(
                kernel.as_ref(),
                1e-8,
                faer::MatMut::from_column_major_slice_mut(&mut y, N, 1),
                par,
            )
            .unwrap();
            black_box(y)
        })
    });
    group.bench_function("symmetric_eigen_1000", |b| {
        b.iter(|| black_box(linalg::symmetric_eigen(kernel.as_ref(), par).unwrap()))
    });
    group.bench_function("engd_step_kernel_cholesky", |b| {
        b.iter(|| {
            black_box(
                engd::direction(jm, &r, 1e-8, GramForm::Sample, EngdSolve::Cholesky, par).unwrap(),
            )
        })
    });
    for (name, pass) in [
        ("sngd_step_300_two_pass", SketchPass::Two),
        ("sngd_step_300_single_pass", SketchPass::One),
    ] {
        let config = SngdConfig {
            pass,
            ..SngdConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        group.bench_function(name, |b| {
            b.iter(|| black_box(sngd::direction(jm, &g, 300, &config, 0.0, &mut rng, par).unwrap()))
        });
    }
    // The form the solver uses: from the residual, SVD of JQ (two-pass), at the sketch
    // sizes seen on poisson2d (rank ≈ 215 + oversampling 100) and smaller.
    let rv: Vec<f64> = r.clone();
    for l in [150, 215, 315] {
        let config = SngdConfig::default();
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        group.bench_function(format!("sngd_residual_step_{l}_two_pass"), |b| {
            b.iter(|| {
                black_box(
                    sngd::direction_from_residual(jm, &rv, l, &config, 0.0, &mut rng, par).unwrap(),
                )
            })
        });
    }
    group.bench_function("matmul_J_M_1000x1341x315", |b| {
        let m = random_matrix(P, 315, 7);
        let mm = linalg::jacobian_view(&m, P, 315);
        b.iter(|| black_box(linalg::mat_mul(jm, mm, par)))
    });
    group.bench_function("thin_svd_1000x315", |b| {
        let a = random_matrix(N, 315, 8);
        let am = linalg::jacobian_view(&a, N, 315);
        b.iter(|| black_box(linalg::thin_svd(am, par).unwrap()))
    });
    group.bench_function("gaussian_sketch_1341x300", |b| {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        b.iter(|| black_box(sngd::gaussian_matrix(P, 300, &mut rng)))
    });
    group.bench_function("thin_q_1341x300", |b| {
        let a = random_matrix(P, 300, 5);
        let am = linalg::jacobian_view(&a, P, 300);
        b.iter(|| black_box(linalg::thin_q(am, par)))
    });
    group.finish();
}

/// Iterations of SNGD (seed 0) before the Jacobian is taken: by then the rank has
/// settled (≈ 210) and the loss is near 1e-15, as in most of a 2,000-iteration run.
const TRAINED_ITERATIONS: usize = 300;

/// The sketch size of the timed direction: fixed (rather than the run's rank + 100) so
/// that builds whose rounding leads to another rank still time the same work.
const TRAINED_SKETCH: usize = 320;

fn trained_poisson2d(c: &mut Criterion) {
    let threads = bench_threads();
    let par = linalg::parallelism(threads);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/poisson2d.pde");
    let problem = pdec::Problem::from_file(path).expect("examples/poisson2d.pde checks");
    let ir = problem.ir();
    let device = NdArrayDevice::Cpu;
    let mut config = pdec::SolveOptions::default()
        .optimizer(pdec::ir::OptimizerKind::Sngd)
        .iterations(TRAINED_ITERATIONS)
        .seed(0)
        .to_run_config(ir)
        .expect("default options");
    config.solve.threads = threads;
    let run = pdec::run::run::<NdArray<f64>>(ir, &device, &config, |_| ControlFlow::Continue(()))
        .expect("the solve runs");
    let program = CompiledProblem::<NdArray<f64>>::new(ir, &device).expect("compiles");
    let mut least_squares = PdeLeastSquares::new(program, run.points.clone()).expect("points");
    let (r, j) = least_squares.residual_and_jacobian(&run.theta);
    let (n, p) = (least_squares.n_residuals(), least_squares.n_params());
    let jm = linalg::jacobian_view(&j, n, p);
    let sngd_config = SngdConfig::default();
    let sketch = TRAINED_SKETCH;
    let damping = run
        .report
        .history
        .last()
        .and_then(|record| record.damping)
        .unwrap_or(0.0);

    let mut group = c.benchmark_group(format!(
        "poisson2d_after_{TRAINED_ITERATIONS}_sngd_iterations"
    ));
    group.sample_size(10);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    group.bench_function(format!("sngd_residual_step_sketch_{sketch}"), |b| {
        b.iter(|| {
            black_box(
                sngd::direction_from_residual(jm, &r, sketch, &sngd_config, damping, &mut rng, par)
                    .unwrap(),
            )
        })
    });
    // The solver's form: the next sketch is drawn beside the thin QR of A.
    let mut ahead = sngd::SketchAhead::default();
    group.bench_function(
        format!("sngd_residual_step_sketch_{sketch}_drawn_ahead"),
        |b| {
            b.iter(|| {
                black_box(
                    sngd::direction_from_residual_ahead(
                        jm,
                        &r,
                        sketch,
                        &sngd_config,
                        damping,
                        &mut rng,
                        &mut ahead,
                        par,
                    )
                    .unwrap(),
                )
            })
        },
    );
    group.bench_function("residual_and_jacobian", |b| {
        b.iter(|| black_box(least_squares.residual_and_jacobian(&run.theta)))
    });
    group.finish();
}

/// `J v` and `Jᵀ w` with a stored row-major J (the products of matrix-free
/// Gauss–Newton, bandwidth-bound): the blocked parallel kernels of
/// `solve::jacobian_ops`, faer's matrix–vector product and the plain loop; throughput
/// is the bytes of J read per product.
fn jacobian_products(c: &mut Criterion) {
    use criterion::Throughput;
    use pdec::solve::jacobian_ops::{self, JacobianRef};
    let threads = bench_threads();
    let par = linalg::parallelism(threads);
    for (n, p) in [(2000, 2000), (8000, 6000)] {
        let j = random_matrix(n, p, 11);
        let v = random_matrix(p, 1, 12);
        let w = random_matrix(n, 1, 13);
        let jr = JacobianRef::new(&j, n, p);
        let mut group = c.benchmark_group(format!("jacobian_products_{n}x{p}"));
        group.sample_size(10);
        group.throughput(Throughput::Bytes((n * p * 8) as u64));
        group.bench_function("Jv_blocked", |b| b.iter(|| black_box(jr.apply(&v, par))));
        group.bench_function("Jtw_blocked", |b| {
            b.iter(|| black_box(jr.apply_transpose(&w, par)))
        });
        group.bench_function("Jv_faer", |b| {
            b.iter(|| black_box(linalg::mat_vec(jr.view(), &v, par)))
        });
        group.bench_function("Jtw_faer", |b| {
            b.iter(|| black_box(linalg::mat_vec(jr.view().transpose(), &w, par)))
        });
        group.bench_function("Jv_naive", |b| {
            b.iter(|| black_box(jacobian_ops::naive_apply(&j, n, p, &v)))
        });
        group.bench_function("Jtw_naive", |b| {
            b.iter(|| black_box(jacobian_ops::naive_apply_transpose(&j, n, p, &w)))
        });
        group.finish();
    }
}

criterion_group!(benches, kernels, trained_poisson2d, jacobian_products);

fn main() {
    pdec::keep_freed_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
