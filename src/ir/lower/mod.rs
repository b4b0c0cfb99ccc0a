//! Checking and lowering: [`ast::File`] → [`Problem`].
//!
//! Lowering runs in passes so that declaration order matters only where the
//! language says it does:
//! 1. every declared name is registered (duplicates and builtin names reported);
//! 2. `const`s are folded in source order (a `const` may use earlier ones);
//! 3. domains, params, data files, `let`s (each may use earlier `let`s),
//!    periodic coordinates, equations, exact solutions and configuration.
//!
//! Every lowering function returns `Option`: `None` means an error was already
//! reported, and callers propagate it silently so one mistake yields one
//! diagnostic, while independent mistakes are all reported.
//!
//! `Lowerer` holds the state of one lowering and runs the passes
//! (`lowerer.rs`); its methods are grouped by what they lower: declarations and
//! name resolution (`resolve.rs`), expressions (`expression.rs`), derivative
//! operators → jets and `dn` (`derivative.rs`), equations, regions and the
//! periodic blocks (`equation.rs`), data files (`data_files.rs`), grid data and
//! its uses (`grids.rs`) and exact solutions (`exact.rs`). Domains and configuration are read in
//! `ir/domain.rs` and `ir/config.rs`.
//!
//! [`ast::File`]: crate::syntax::ast::File
//! [`Problem`]: crate::ir::Problem

mod data_files;
mod derivative;
mod equation;
mod exact;
mod expression;
mod grids;
mod hard;
mod lowerer;
mod resolve;

/// Probe points for checks on formulas: inside the bounding box, and per constrained
/// face (`hard`).
const PROBES: usize = 64;

/// The k-th point of an additive recurrence in [0, 1) for coordinate `c`
/// (fractional parts of multiples of √p for the c-th prime p): well spread in
/// every dimension, and the same on every run.
fn low_discrepancy(k: usize, c: usize) -> f64 {
    const PRIMES: [f64; 12] = [2., 3., 5., 7., 11., 13., 17., 19., 23., 29., 31., 37.];
    let alpha = PRIMES[c % PRIMES.len()].sqrt() + (c / PRIMES.len()) as f64;
    ((k + 1) as f64 * alpha).fract()
}

/// [`PROBES`] points spread inside the bounding box of `coords` (all coordinates).
pub(crate) fn inside_probes(coords: &[crate::ir::Coord]) -> Vec<Vec<f64>> {
    (0..PROBES)
        .map(|k| {
            coords
                .iter()
                .enumerate()
                .map(|(c, coord)| {
                    let (a, b) = (coord.lo, coord.hi);
                    a + (b - a) * (0.02 + 0.96 * low_discrepancy(k, c))
                })
                .collect()
        })
        .collect()
}

pub use derivative::MAX_DERIVATIVE_ORDER;
pub use lowerer::{lower, lower_as_written};
pub(super) use lowerer::{Def, Lowerer, State};
pub(super) use resolve::{self_reference, used_before_definition};
