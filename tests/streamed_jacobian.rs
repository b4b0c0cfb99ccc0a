//! GN under a memory budget smaller than the Jacobian: J is streamed in row blocks
//! (docs/optimizers.md, "Memory budget"), and the run takes the steps it takes with J
//! stored.

use burn_ndarray::NdArray;
use pdec::solve::{ConfigScalar, OptimizerKind};
use pdec::{Problem, SolveOptions};
use std::ops::ControlFlow;
use std::path::Path;

type B = NdArray<f64>;

#[test]
fn gn_with_a_streamed_jacobian_follows_the_stored_run_on_heat1d() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/heat1d.pde");
    let problem = Problem::from_file(&path).expect("heat1d parses");
    let compiled = problem.compile::<B>(&Default::default()).unwrap();
    let options = SolveOptions {
        threads: 1,
        eval_every: Some(0),
        ..SolveOptions::default()
    }
    .optimizer(OptimizerKind::Gn)
    .iterations(8)
    .seed(0);
    let stored = compiled
        .solve(&options, |_| ControlFlow::Continue(()))
        .unwrap();
    // J is N·P·8 bytes; a quarter of that keeps an eighth of the rows and streams the
    // others in blocks of a thirty-second.
    let (n, p) = (1_000.0, compiled.program().n_params() as f64);
    let budget_mb = n * p * 8.0 / 4.0 / 1e6;
    let streamed = compiled
        .solve(
            &options
                .clone()
                .option("memory_budget", ConfigScalar::Number(budget_mb)),
            |_| ControlFlow::Continue(()),
        )
        .unwrap();
    assert_eq!(stored.history().len(), 8);
    assert_eq!(streamed.history().len(), 8);
    for (a, b) in stored.history().iter().zip(streamed.history()) {
        assert!(
            (a.loss - b.loss).abs() <= 1e-8 * a.loss,
            "iteration {}: {} stored, {} streamed",
            a.iteration,
            a.loss,
            b.loss
        );
        assert_eq!(
            a.cg_iterations, b.cg_iterations,
            "iteration {}",
            a.iteration
        );
        // J was streamed: every CG iteration and the step's `J d` passed over its rows.
        assert_eq!(a.jacobian_passes, None);
        let passes = b.jacobian_passes.expect("a streamed J reports its passes");
        assert!(
            passes > b.cg_iterations.unwrap(),
            "iteration {}",
            b.iteration
        );
    }
    assert!(streamed.final_loss() < 0.1 * stored.history()[0].loss);
}
