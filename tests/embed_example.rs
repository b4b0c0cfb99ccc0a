//! Runs `examples/embed.rs` in the test suite: the value it reads must match the exact
//! solution closely (a broken solver or a wrong evaluation cannot get this close).

#[allow(dead_code)] // the example's `main` is run by `cargo run --example embed`
#[path = "../examples/embed.rs"]
mod embed;

#[test]
fn embed_example_reads_the_solution_at_a_point() {
    let (value, exact) = embed::solve_and_read().expect("the example solves");
    // sin(0.3π) ≈ 0.809; ENGD reaches a relative L2 error of about 2e-7 here.
    assert!(
        (value - exact).abs() < 1e-5,
        "u({}) = {value}, exact {exact}",
        embed::X
    );
}
