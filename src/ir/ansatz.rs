//! The jets of a field built with hard constraints, `u = A + φ·N`, from the
//! jets of the network N by the Leibniz rule:
//! `D^α u = D^α A + Σ_{β ≤ α} C(α, β) · D^{α−β}φ · D^β N` with
//! `C(α, β) = Π_i C(α_i, β_i)`, and for the summed Laplacian channel
//! `Δu = ΔA + φ ΔN + 2 Σ_i ∂_iφ ∂_i N + N Δφ`. The derivatives of A and φ
//! are symbolic (exact); N's enter as leaves the caller provides.

use super::expr::{ExprArena, ExprId};
use super::symbolic::coordinate_partial;
use super::{Deriv, FieldAnsatz};

/// `n choose k` for the small orders of jets.
fn binomial(n: u8, k: u8) -> f64 {
    (0..k).fold(1.0, |c, i| c * f64::from(n - i) / f64::from(i + 1))
}

/// Every multi-index `β ≤ α`, componentwise.
fn below(alpha: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::with_capacity(alpha.len())];
    for &a in alpha {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..=a).map(move |b| {
                    let mut next = prefix.clone();
                    next.push(b);
                    next
                })
            })
            .collect();
    }
    out
}

/// `D^deriv u` for `u = ansatz.offset + ansatz.factor · N`, with `network(arena,
/// d)` giving the expression of the network's jet `D^d N`. `spatial` lists the
/// coordinates the Laplacian sums over, of `n_coords` in all.
pub fn ansatz_jet(
    arena: &mut ExprArena,
    ansatz: &FieldAnsatz,
    n_coords: usize,
    spatial: &[usize],
    deriv: &Deriv,
    network: &mut dyn FnMut(&mut ExprArena, Deriv) -> ExprId,
) -> ExprId {
    let (offset, factor) = (ansatz.offset, ansatz.factor);
    match deriv {
        Deriv::Partial(alpha) => {
            let mut sum = coordinate_partial(arena, offset, alpha);
            for beta in below(alpha) {
                let rest: Vec<u8> = alpha.iter().zip(&beta).map(|(a, b)| a - b).collect();
                let phi = coordinate_partial(arena, factor, &rest);
                if arena.as_const(phi) == Some(0.0) {
                    continue;
                }
                let weight: f64 = alpha
                    .iter()
                    .zip(&beta)
                    .map(|(&a, &b)| binomial(a, b))
                    .product();
                let jet = network(arena, Deriv::Partial(beta));
                let term = arena.mul(phi, jet);
                let weighted = arena.mul_const(weight, term);
                sum = arena.add(sum, weighted);
            }
            sum
        }
        Deriv::Laplacian => {
            let n = n_coords;
            let value = network(arena, Deriv::Partial(vec![0; n]));
            let laplacian = network(arena, Deriv::Laplacian);
            let mut sum = arena.mul(factor, laplacian);
            for &i in spatial {
                let mut first = vec![0u8; n];
                first[i] = 1;
                let mut second = vec![0u8; n];
                second[i] = 2;
                let a2 = coordinate_partial(arena, offset, &second);
                sum = arena.add(sum, a2);
                let phi2 = coordinate_partial(arena, factor, &second);
                let term = arena.mul(phi2, value);
                sum = arena.add(sum, term);
                let phi1 = coordinate_partial(arena, factor, &first);
                if arena.as_const(phi1) != Some(0.0) {
                    let jet = network(arena, Deriv::Partial(first));
                    let term = arena.mul(phi1, jet);
                    let twice = arena.mul_const(2.0, term);
                    sum = arena.add(sum, twice);
                }
            }
            sum
        }
    }
}
