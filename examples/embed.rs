//! Embedding pdec: a 1-D Poisson problem defined as a string, solved with ENGD on the
//! CPU backend, and the trained solution read at a point next to the exact value.
//!
//! Run with `cargo run --example embed`; `tests/embed_example.rs` runs it in the test
//! suite and checks the value.

use burn_ndarray::{NdArray, NdArrayDevice};
use std::ops::ControlFlow;

/// −u'' = π² sin(πx) on (0, 1), u(0) = u(1) = 0; the solution is sin(πx).
const POISSON: &str = "
space x in [0, 1]
field u
-dxx(u) = pi^2*sin(pi*x)   on interior
u = 0                      on boundary
exact u = sin(pi*x)
model  mlp(layers = [16], activation = tanh)
sample interior = 60, boundary = 2, seed = 1
solve  optimizer = engd, iterations = 100, tol = 1e-14
";

/// The point where the solution is read.
pub const X: f64 = 0.3;

/// Solves the problem and returns `(u(X), exact u(X))`.
///
/// # Errors
/// A problem that does not check, compile or solve (none of which happens here).
pub fn solve_and_read() -> Result<(f64, f64), pdec::Error> {
    let problem = pdec::Problem::from_str(POISSON)?;
    let compiled = problem.compile::<NdArray<f64>>(&NdArrayDevice::Cpu)?;
    let options = pdec::SolveOptions::default();
    let report = compiled.solve(&options, |progress| {
        if progress.record.iteration % 25 == 0 {
            println!(
                "iteration {:>3}: loss {:.3e}",
                progress.record.iteration, progress.record.loss
            );
        }
        ControlFlow::Continue(())
    })?;
    println!(
        "{} iterations ({}), final loss {:.3e}",
        report.iterations(),
        report.stop_reason().as_str(),
        report.final_loss()
    );
    for error in report.errors() {
        println!(
            "{}: relative L2 error {:.2e}",
            error.field, error.relative_l2
        );
    }
    let value = report.value("u", &[X])?;
    Ok((value, (std::f64::consts::PI * X).sin()))
}

fn main() -> Result<(), pdec::Error> {
    let (value, exact) = solve_and_read()?;
    println!(
        "u({X}) = {value:.8}, exact {exact:.8}, error {:.1e}",
        (value - exact).abs()
    );
    Ok(())
}
