//! Hard constraints (ALGORITHMS.md §4.3): the conditions `u = g` on the whole
//! boundary, on faces and at the initial time built into the ansatz
//! `u = A + φ·N_θ`, under `constraints = hard` (the default).
//!
//! - The boundary of a domain whose spatial factors are boxes and balls has
//!   the distance factor `φ_b = Π` of normalised `4(x − a)(b − x)/(b − a)²`
//!   per non-periodic box coordinate (`(x − a)/(b − a)` or `(b − x)/(b − a)`
//!   for one face) and `(R² − |x − c|²)/R²` per ball; `A = g`. The two faces of
//!   one coordinate may carry different data, blended linearly in that
//!   coordinate; otherwise all faces must carry the same data.
//! - The initial time has `φ_t = (t − t₀)/(T − t₀)` and `A = g₀`; with boundary
//!   conditions as well, `A = g_b + g₀|_{t₀} − g_b|_{t₀}` and `φ = φ_b φ_t`,
//!   which needs the data to agree where both hold (checked on probe points).
//! - With `dt(u) = h on initial` as well (second order in time), `φ_t` is
//!   squared and `A` gains `(t − t₀)·(h − ∂_t g_b|_{t₀})` (no boundary
//!   conditions: `g_b = 0`), with `g₀` and `h` taken at `t₀`; `h` must agree
//!   with `∂_t g_b` on the constrained boundary at `t₀`.
//! - Under `periodic`, `A` must agree with itself at the two ends of every
//!   periodic coordinate up to the equations' order, or the conditions stay
//!   penalties: the network's inputs are periodic and cannot undo a kink in `A`.
//!
//! The conditions' blocks leave the loss; every other block sees `D^α u`
//! through [`crate::ir::ansatz::ansatz_jet`]. A condition of this form that
//! cannot be built in stays a penalty block and is listed with the reason
//! ([`crate::ir::SoftCondition`]).

use super::lowerer::Lowerer;
use super::{inside_probes, low_discrepancy, PROBES};
use crate::diagnostic::Diagnostic;
use crate::ir::ansatz::ansatz_jet;
use crate::ir::expr::{ExprId, Func, JetId, Node};
use crate::ir::symbolic::{eval_at, leaves, substitute};
use crate::ir::{Constraints, CoordKind, Deriv, FieldAnsatz, Region, Shape, Side, SoftCondition};
use std::collections::HashMap;

/// Largest disagreement, relative to `1 + max |g₀|`, between initial and
/// boundary data on the boundary at `t₀` that still counts as agreement.
const COMPATIBLE: f64 = 1e-9;

/// Whether the points of `region` come from the `boundary` count (the whole
/// boundary, a face, a shape's piece, or a part of these).
fn on_boundary(region: &Region) -> bool {
    matches!(
        region,
        Region::Boundary | Region::Face { .. } | Region::Piece { .. } | Region::Where { .. }
    )
}

/// Where a condition `u = g` holds (`Velocity`: `dt(u) = g` on `initial`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Boundary,
    Face(usize, Side),
    Initial,
    Velocity,
}

/// A condition `u = data` on `place`, from block `block`.
#[derive(Debug, Clone, Copy)]
struct Dirichlet {
    block: usize,
    place: Place,
    data: ExprId,
}

impl Lowerer<'_> {
    /// Builds the conditions it can into the fields' ansatz and rewrites the
    /// remaining blocks (see the module documentation).
    pub(super) fn hard_constraints(&mut self) {
        if self.model.constraints != Constraints::Hard {
            return;
        }
        let mut removed = Vec::new();
        for k in 0..self.fields.len() {
            let mut found = Vec::new();
            for b in 0..self.blocks.len() {
                match self.dirichlet(b, k) {
                    None => {}
                    Some(Ok(condition)) => found.push(condition),
                    Some(Err(reason)) => self.keep_soft(b, reason),
                }
            }
            if found.is_empty() {
                continue;
            }
            if self.fields[k].coords.is_some() {
                for c in &found {
                    self.keep_soft(
                        c.block,
                        "a field of some of the coordinates keeps its conditions as penalties"
                            .into(),
                    );
                }
                continue;
            }
            if let Some((offset, factor, imposed)) = self.field_ansatz(&found) {
                let conditions = imposed.iter().map(|&b| self.condition_text(b)).collect();
                removed.extend(imposed);
                self.ansatz.push(FieldAnsatz {
                    field: k,
                    offset,
                    factor,
                    conditions,
                });
            }
        }
        if self.ansatz.is_empty() {
            return;
        }
        self.give_points_to_the_interior(&removed);
        self.counts_left_without_points(&removed);
        self.rewrite_blocks(&removed);
    }

    /// W0505 for a `boundary`, `initial` or face count whose region lost every
    /// block to the ansatz while the file sets `sample interior` itself (otherwise
    /// [`Self::give_points_to_the_interior`] moves the count there): no point is
    /// drawn for it, and the count is only misleading. A count whose region never
    /// had a block is W0505 already.
    fn counts_left_without_points(&mut self, removed: &[usize]) {
        if !self.sample_keys.contains_key("interior") {
            return;
        }
        let kept: Vec<&Region> = self
            .blocks
            .iter()
            .enumerate()
            .filter(|(b, _)| !removed.contains(b))
            .map(|(_, block)| &block.region)
            .collect();
        let lost: Vec<&Region> = removed.iter().map(|&b| &self.blocks[b].region).collect();
        let mut unused = Vec::new();
        for (key, &span) in &self.sample_keys {
            // (the count's name in the message, where its points would be)
            let (lost_here, kept_here, name, place) = match key.as_str() {
                "boundary" => (
                    lost.iter().any(|r| on_boundary(r)),
                    kept.iter().any(|r| on_boundary(r)),
                    key.clone(),
                    "the boundary".to_string(),
                ),
                "initial" => (
                    lost.contains(&&Region::Initial),
                    kept.contains(&&Region::Initial),
                    key.clone(),
                    "the initial time".to_string(),
                ),
                face => {
                    // A face's key is `x=lo` or `x=hi`; the entry `x = 1 : 100`
                    // is named by its face, `x = 1`.
                    let Some((coord_name, side)) = face.split_once('=') else {
                        continue;
                    };
                    let Some(coord) = self.coords.iter().position(|c| c.name == coord_name) else {
                        continue;
                    };
                    let side = if side == "lo" { Side::Lo } else { Side::Hi };
                    let here = Region::Face { coord, side };
                    let text = self.source.get(span.range()).unwrap_or(coord_name);
                    let name = text.split(':').next().unwrap_or(text).trim().to_string();
                    let place = format!("`{name}`");
                    (lost.contains(&&here), kept.contains(&&here), name, place)
                }
            };
            if lost_here && !kept_here {
                unused.push((span, name, place));
            }
        }
        unused.sort_by_key(|(span, ..)| span.start);
        for (span, key, place) in unused {
            self.error(
                Diagnostic::warning("W0505", format!("`sample {key}` has no effect"))
                    .with_label(
                        span,
                        format!(
                            "the conditions on {place} are built into the ansatz \
                             (`constraints = hard`), so no points are drawn there"
                        ),
                    )
                    .with_help(
                        "remove it; or remove `interior`, and the count goes to the interior; \
                         or write `constraints = soft` in `model` to keep the conditions as \
                         penalties",
                    ),
            );
        }
    }

    /// When the file leaves `sample interior` at its default, the points the
    /// built-in conditions' regions would have had (`boundary`, `initial`, a
    /// face's own count) go to the interior, where no other block still uses
    /// that region: the problem keeps the rows it had, and N stays above P
    /// where it was (fewer rows let the network interpolate the interior points).
    fn give_points_to_the_interior(&mut self, removed: &[usize]) {
        if self.sample_keys.contains_key("interior") {
            return;
        }
        let kept = |region: &Region| {
            self.blocks
                .iter()
                .enumerate()
                .any(|(b, block)| !removed.contains(&b) && &block.region == region)
        };
        let boundary_kept = self
            .blocks
            .iter()
            .enumerate()
            .any(|(b, block)| !removed.contains(&b) && on_boundary(&block.region));
        let mut freed = 0;
        let mut boundary_freed = false;
        let mut initial_freed = false;
        for &b in removed {
            let region = self.blocks[b].region.clone();
            match region {
                Region::Initial if !initial_freed && !kept(&Region::Initial) => {
                    initial_freed = true;
                    freed += self.sample.initial;
                }
                Region::Face { coord, side } => {
                    match self
                        .sample
                        .faces
                        .iter()
                        .find(|f| f.0 == coord && f.1 == side)
                    {
                        Some(&(_, _, n)) => freed += n,
                        None if !boundary_freed && !boundary_kept => {
                            boundary_freed = true;
                            freed += self.sample.boundary;
                        }
                        None => {}
                    }
                }
                Region::Boundary if !boundary_freed && !boundary_kept => {
                    boundary_freed = true;
                    freed += self.sample.boundary;
                }
                _ => {}
            }
        }
        self.sample.interior += freed;
    }

    /// Block `b` as a condition `u_k = g`: `None` when it is not of that form
    /// (it uses derivatives, other fields, or holds inside or on data), an
    /// error with the reason when it is but cannot be built in.
    fn dirichlet(&mut self, b: usize, k: usize) -> Option<Result<Dirichlet, String>> {
        let block = &self.blocks[b];
        if block.jets.len() != 1 || block.linearization.len() != 1 {
            return None;
        }
        let value = block.jets[0];
        let velocity = match &self.jets[value.0 as usize] {
            jet if jet.field != k => return None,
            jet => match (&jet.deriv, self.domain.time) {
                (Deriv::Partial(alpha), _) if alpha.iter().all(|&a| a == 0) => false,
                (Deriv::Partial(alpha), Some(t))
                    if alpha[t] == 1 && alpha.iter().sum::<u8>() == 1 =>
                {
                    true
                }
                _ => return None,
            },
        };
        let coefficient = self.arena.as_const(block.linearization[0].1)?;
        let at_t0 = matches!(&block.region, Region::Initial)
            || matches!(&block.region, Region::Face { coord, side: Side::Lo }
                if Some(*coord) == self.domain.time);
        if velocity && !at_t0 {
            return None;
        }
        let place = match &block.region {
            _ if velocity => Place::Velocity,
            Region::Boundary => Place::Boundary,
            Region::Initial => Place::Initial,
            Region::Face { coord, side } if Some(*coord) == self.domain.time => match side {
                Side::Lo => Place::Initial,
                Side::Hi => {
                    return Some(Err(
                        "a condition at the final time is not built into the ansatz".into(),
                    ))
                }
            },
            Region::Face { coord, side } => Place::Face(*coord, *side),
            Region::Piece { .. } | Region::Where { .. } => {
                return Some(Err(
                    "it holds on part of the boundary (`boundary of NAME`, \
                     `where`): distance functions for parts are not built"
                        .into(),
                ))
            }
            _ => return None,
        };
        let residual = block.residual;
        let zero = self.arena.constant(0.0);
        let rest = substitute(&mut self.arena, residual, &|leaf| {
            (leaf == Node::Jet(value)).then_some(zero)
        });
        let data = self.arena.mul_const(-1.0 / coefficient, rest);
        for leaf in leaves(&self.arena, &[data]) {
            let reason = match leaf {
                Node::Coord(_) => continue,
                Node::Param(_) => "its data depend on a trainable param",
                Node::Data { .. } => {
                    "its data come from a data set, which does not extend into the domain"
                }
                Node::Grid(_) => "its data come from a grid data set",
                Node::Normal(_) => "its data use the normal",
                _ => return None,
            };
            return Some(Err(reason.into()));
        }
        let rough =
            self.arena
                .topo_order(&[data])
                .into_iter()
                .any(|id| match self.arena.node(id) {
                    Node::Select { .. } => true,
                    Node::Unary(func, _) => matches!(func, Func::Abs | Func::Sign),
                    _ => false,
                });
        if rough {
            return Some(Err(
                "its data are not smooth (`if`, `min`, `max`, `abs`, `sign`): \
                 extended into the domain they would put a kink or a jump into the field"
                    .into(),
            ));
        }
        Some(Ok(Dirichlet {
            block: b,
            place,
            data,
        }))
    }

    /// The condition as written, with its region.
    fn condition_text(&self, b: usize) -> String {
        let block = &self.blocks[b];
        let region = match &block.region {
            Region::Boundary => "boundary".to_string(),
            Region::Initial => "initial".to_string(),
            Region::Face { coord, side } => crate::ir::describe::face(&self.coords, *coord, *side),
            Region::Piece { name, .. } => format!("boundary of {name}"),
            Region::Where { text, .. } => format!("boundary where {text}"),
            _ => "its region".to_string(),
        };
        format!("{} on {region}", block.label)
    }

    fn keep_soft(&mut self, b: usize, reason: String) {
        let label = self.condition_text(b);
        self.soft_conditions.push(SoftCondition { label, reason });
    }

    /// `A`, `φ` and the blocks built in for one field's conditions, or `None`
    /// when none can be (the reasons are recorded).
    fn field_ansatz(&mut self, found: &[Dirichlet]) -> Option<(ExprId, ExprId, Vec<usize>)> {
        let (velocity, found): (Vec<Dirichlet>, Vec<Dirichlet>) =
            found.iter().partition(|c| c.place == Place::Velocity);
        let (initial, sides): (Vec<Dirichlet>, Vec<Dirichlet>) =
            found.iter().partition(|c| c.place == Place::Initial);
        let initial = match initial.as_slice() {
            [single] => Some(*single),
            several => {
                for c in several {
                    self.keep_soft(c.block, "the field has several initial conditions".into());
                }
                None
            }
        };
        let velocity = match (velocity.as_slice(), initial) {
            ([], _) => None,
            ([single], Some(_)) => Some(*single),
            ([_], None) => {
                self.keep_soft(
                    velocity[0].block,
                    "a condition on dt(u) at the initial time is built in only with \
                     one `u = g on initial`"
                        .into(),
                );
                None
            }
            (several, _) => {
                for c in several {
                    self.keep_soft(
                        c.block,
                        "the field has several conditions on dt(u) at the initial time".into(),
                    );
                }
                None
            }
        };
        let boundary = if sides.is_empty() {
            None
        } else {
            match self.boundary_part(&sides) {
                Ok(part) => Some(part),
                Err(reason) => {
                    for c in &sides {
                        self.keep_soft(c.block, reason.clone());
                    }
                    None
                }
            }
        };
        let one = self.arena.constant(1.0);
        let (offset, factor, mut imposed) = match (boundary, initial) {
            (None, None) => return None,
            (Some((g, phi)), None) => (g, phi, sides.iter().map(|c| c.block).collect()),
            (None, Some(init)) => match velocity {
                None => {
                    let phi = self.time_factor();
                    (init.data, phi, vec![init.block])
                }
                Some(v) => {
                    // A = g₀|t₀ + (t − t₀)·h|t₀, φ = φ_t².
                    let zero = self.arena.constant(0.0);
                    let g0 = self.at_initial_time(init.data);
                    let (gap, _) = self.velocity_gap(zero, v.data);
                    let offset = self.with_velocity(g0, gap);
                    let phi_t = self.time_factor();
                    let phi = self.arena.mul(phi_t, phi_t);
                    (offset, phi, vec![init.block, v.block])
                }
            },
            (Some((g, phi_b)), Some(init)) => {
                let blocks: Vec<usize> = sides.iter().map(|c| c.block).collect();
                match self.initial_blend(g, init.data, &sides) {
                    Ok(blend) => {
                        let phi_t = self.time_factor();
                        let mut all = blocks;
                        all.push(init.block);
                        let velocity = velocity.and_then(|v| {
                            match self.velocity_blend(blend, g, v.data, &sides) {
                                Ok(offset) => Some((offset, v.block)),
                                Err(reason) => {
                                    self.keep_soft(v.block, reason);
                                    None
                                }
                            }
                        });
                        match velocity {
                            None => (blend, self.arena.mul(phi_b, phi_t), all),
                            Some((offset, block)) => {
                                all.push(block);
                                let phi_t2 = self.arena.mul(phi_t, phi_t);
                                (offset, self.arena.mul(phi_b, phi_t2), all)
                            }
                        }
                    }
                    Err(reason) => {
                        self.keep_soft(init.block, reason);
                        if let Some(v) = velocity {
                            self.keep_soft(
                                v.block,
                                "the initial value it goes with stays a penalty".into(),
                            );
                        }
                        (g, phi_b, blocks)
                    }
                }
            }
        };
        if factor == one {
            return None;
        }
        if let Err(reason) = self.periodic_offset(offset) {
            for &b in &imposed {
                self.keep_soft(b, reason.clone());
            }
            return None;
        }
        if let Err(reason) = self.finite_inside(offset, factor) {
            for &b in &imposed {
                self.keep_soft(b, reason.clone());
            }
            return None;
        }
        imposed.sort_unstable();
        Some((offset, factor, imposed))
    }

    /// `(g_b, φ_b)` for the conditions on the boundary or on faces.
    fn boundary_part(&mut self, sides: &[Dirichlet]) -> Result<(ExprId, ExprId), String> {
        if sides.iter().any(|c| c.place == Place::Boundary) {
            if sides.len() > 1 {
                return Err("the field has several conditions on the boundary".into());
            }
            return Ok((sides[0].data, self.boundary_factor()?));
        }
        let mut faces: Vec<(usize, Side)> = Vec::new();
        for c in sides {
            if let Place::Face(coord, side) = c.place {
                if faces.contains(&(coord, side)) {
                    return Err("the field has several conditions on one face".into());
                }
                faces.push((coord, side));
            }
        }
        let mut phi = self.arena.constant(1.0);
        let mut coords: Vec<usize> = faces.iter().map(|f| f.0).collect();
        coords.sort_unstable();
        coords.dedup();
        for &c in &coords {
            let lo = faces.contains(&(c, Side::Lo));
            let hi = faces.contains(&(c, Side::Hi));
            let f = self.interval_factor(c, lo, hi);
            phi = self.arena.mul(phi, f);
        }
        let first = sides[0].data;
        if sides.iter().all(|c| c.data == first) {
            return Ok((first, phi));
        }
        if sides.len() == 2 && coords.len() == 1 {
            // u = g_lo (b − x)/(b − a) + g_hi (x − a)/(b − a).
            let c = coords[0];
            let data_at = |side: Side| {
                sides
                    .iter()
                    .find(|s| s.place == Place::Face(c, side))
                    .map(|s| s.data)
                    .expect("both faces")
            };
            let (g_lo, g_hi) = (data_at(Side::Lo), data_at(Side::Hi));
            let to_hi = self.interval_factor(c, true, false);
            let to_lo = self.interval_factor(c, false, true);
            let a = self.arena.mul(g_lo, to_lo);
            let b = self.arena.mul(g_hi, to_hi);
            return Ok((self.arena.add(a, b), phi));
        }
        Err("faces of different coordinates carry different data: \
             the blend that matches them all is not built"
            .into())
    }

    /// `(x − a)/(b − a)` (lo face), `(b − x)/(b − a)` (hi face), or
    /// `4(x − a)(b − x)/(b − a)²` (both).
    fn interval_factor(&mut self, coord: usize, lo: bool, hi: bool) -> ExprId {
        let (a, b) = (self.coords[coord].lo, self.coords[coord].hi);
        let x = self.arena.intern(Node::Coord(coord));
        let ca = self.arena.constant(a);
        let cb = self.arena.constant(b);
        let from_lo = self.arena.sub(x, ca);
        let from_hi = self.arena.sub(cb, x);
        match (lo, hi) {
            (true, true) => {
                let p = self.arena.mul(from_lo, from_hi);
                self.arena.mul_const(4.0 / ((b - a) * (b - a)), p)
            }
            (true, false) => self.arena.mul_const(1.0 / (b - a), from_lo),
            (false, true) => self.arena.mul_const(1.0 / (b - a), from_hi),
            (false, false) => self.arena.constant(1.0),
        }
    }

    /// The distance factor of the whole spatial boundary.
    fn boundary_factor(&mut self) -> Result<ExprId, String> {
        let mut phi = self.arena.constant(1.0);
        for factor in self.domain.factors.clone() {
            match &factor.shape {
                Shape::Box(_) => {
                    for &c in &factor.coords {
                        if !self.periodic.contains(&c) {
                            let f = self.interval_factor(c, true, true);
                            phi = self.arena.mul(phi, f);
                        }
                    }
                }
                Shape::Ball { center, radius } => {
                    let mut r2 = self.arena.constant(radius * radius);
                    for (&c, &x0) in factor.coords.iter().zip(center) {
                        let x = self.arena.intern(Node::Coord(c));
                        let cx = self.arena.constant(x0);
                        let d = self.arena.sub(x, cx);
                        let two = self.arena.constant(2.0);
                        let d2 = self.arena.pow(d, two);
                        r2 = self.arena.sub(r2, d2);
                    }
                    let f = self.arena.mul_const(1.0 / (radius * radius), r2);
                    phi = self.arena.mul(phi, f);
                }
                _ => {
                    return Err("the domain is built from shapes (union, difference, \
                         intersection): their distance functions are not built"
                        .into())
                }
            }
        }
        Ok(phi)
    }

    /// `(t − t₀)/(T − t₀)`.
    fn time_factor(&mut self) -> ExprId {
        let t = self.domain.time.expect("an initial condition has a time");
        self.interval_factor(t, true, false)
    }

    /// `e` at `t = t₀`.
    fn at_initial_time(&mut self, e: ExprId) -> ExprId {
        let t = self.domain.time.expect("an initial condition has a time");
        let t0 = self.arena.constant(self.coords[t].lo);
        substitute(&mut self.arena, e, &|leaf| {
            (leaf == Node::Coord(t)).then_some(t0)
        })
    }

    /// `(h|_{t₀} − ∂_t g_b|_{t₀}, h|_{t₀})`.
    fn velocity_gap(&mut self, boundary: ExprId, h: ExprId) -> (ExprId, ExprId) {
        let t = self.domain.time.expect("an initial condition has a time");
        let mut alpha = vec![0u8; self.coords.len()];
        alpha[t] = 1;
        let dg = crate::ir::symbolic::coordinate_partial(&mut self.arena, boundary, &alpha);
        let dg0 = self.at_initial_time(dg);
        let h0 = self.at_initial_time(h);
        (self.arena.sub(h0, dg0), h0)
    }

    /// `base + (t − t₀)·gap`: with `gap` from [`Self::velocity_gap`], the offset
    /// whose time derivative at `t₀` is `h` where `∂_t base|_{t₀} = ∂_t g_b|_{t₀}`.
    fn with_velocity(&mut self, base: ExprId, gap: ExprId) -> ExprId {
        let t = self.domain.time.expect("an initial condition has a time");
        let x = self.arena.intern(Node::Coord(t));
        let t0 = self.arena.constant(self.coords[t].lo);
        let since = self.arena.sub(x, t0);
        let ramp = self.arena.mul(since, gap);
        self.arena.add(base, ramp)
    }

    /// The offset for `u = g₀` and `dt(u) = h` at `t₀` with the boundary data
    /// `g_b`, from the blend `A₀ = g_b + g₀|_{t₀} − g_b|_{t₀}`: `A₀ + (t − t₀)·(h|_{t₀}
    /// − ∂_t g_b|_{t₀})`, when `h` and `∂_t g_b` agree on the constrained boundary
    /// at `t₀`; else the reason.
    fn velocity_blend(
        &mut self,
        blend: ExprId,
        boundary: ExprId,
        h: ExprId,
        sides: &[Dirichlet],
    ) -> Result<ExprId, String> {
        let (gap, h0) = self.velocity_gap(boundary, h);
        if let Some((worst, at)) = self.disagreement(gap, h0, sides) {
            let t = self.domain.time.expect("an initial condition has a time");
            return Err(format!(
                "its data differ from the time derivative of the boundary data at {} = {} \
                 (by {worst:.1e} at {at}): both cannot hold exactly there",
                self.coords[t].name,
                crate::ir::display::display_number(self.coords[t].lo),
            ));
        }
        Ok(self.with_velocity(blend, gap))
    }

    /// The largest `|gap|` on the constrained boundary at `t₀` and where, when it
    /// exceeds [`COMPATIBLE`] relative to `1 + max |reference|` there.
    fn disagreement(
        &self,
        gap: ExprId,
        reference: ExprId,
        sides: &[Dirichlet],
    ) -> Option<(f64, String)> {
        let mut worst = (0.0f64, Vec::new());
        let mut scale = 0.0f64;
        for point in self.boundary_probes(sides) {
            let d = eval_at(&self.arena, gap, &point).abs();
            scale = scale.max(eval_at(&self.arena, reference, &point).abs());
            if d.is_nan() || d > worst.0 {
                worst = (if d.is_nan() { f64::INFINITY } else { d }, point);
            }
        }
        if worst.0 <= COMPATIBLE * (1.0 + scale) {
            return None;
        }
        let at: Vec<String> = worst
            .1
            .iter()
            .zip(&self.coords)
            .filter(|(_, c)| c.kind == CoordKind::Space)
            .map(|(v, c)| format!("{} = {}", c.name, crate::ir::display::display_number(*v)))
            .collect();
        Some((worst.0, at.join(", ")))
    }

    /// `A = g_b + g₀|_{t₀} − g_b|_{t₀}` when `g₀` and `g_b` agree on the
    /// constrained boundary at `t₀`; else the reason.
    fn initial_blend(
        &mut self,
        boundary: ExprId,
        initial: ExprId,
        sides: &[Dirichlet],
    ) -> Result<ExprId, String> {
        let t = self.domain.time.expect("an initial condition has a time");
        let t0 = self.arena.constant(self.coords[t].lo);
        let at_t0 = |arena: &mut crate::ir::ExprArena, e: ExprId| {
            substitute(arena, e, &|leaf| (leaf == Node::Coord(t)).then_some(t0))
        };
        let g0 = at_t0(&mut self.arena, initial);
        let gb0 = at_t0(&mut self.arena, boundary);
        let gap = self.arena.sub(g0, gb0);
        if let Some((worst, at)) = self.disagreement(gap, g0, sides) {
            return Err(format!(
                "its data differ from the boundary data at {} = {} (by {worst:.1e} at {at}): \
                 both cannot hold exactly there",
                self.coords[t].name,
                crate::ir::display::display_number(self.coords[t].lo),
            ));
        }
        Ok(self.arena.add(boundary, gap))
    }

    /// Points at `t₀` on the constrained boundary (all coordinates): on every
    /// constrained box face its two extreme corners and [`PROBES`] points spread
    /// over the free coordinates; on a ball's sphere the axis directions and
    /// [`PROBES`] spread ones. A ball factor's coordinates sit at its centre
    /// while another factor's face is probed.
    fn boundary_probes(&self, sides: &[Dirichlet]) -> Vec<Vec<f64>> {
        let n = self.coords.len();
        let spread = |k: usize, c: usize| {
            let (a, b) = (self.coords[c].lo, self.coords[c].hi);
            match k {
                0 => a,
                1 => b,
                _ => a + (b - a) * low_discrepancy(k, c),
            }
        };
        let free_point = |k: usize| -> Vec<f64> {
            let mut p: Vec<f64> = (0..n).map(|c| spread(k, c)).collect();
            for factor in &self.domain.factors {
                if let Shape::Ball { center, .. } = &factor.shape {
                    for (&c, &x0) in factor.coords.iter().zip(center) {
                        p[c] = x0;
                    }
                }
            }
            if let Some(t) = self.domain.time {
                p[t] = self.coords[t].lo;
            }
            p
        };
        let mut faces: Vec<(usize, Side)> = Vec::new();
        let mut balls = Vec::new();
        for c in sides {
            match c.place {
                Place::Face(coord, side) => faces.push((coord, side)),
                Place::Boundary => {
                    for factor in &self.domain.factors {
                        match &factor.shape {
                            Shape::Ball { center, radius } => {
                                balls.push((factor.coords.clone(), center.clone(), *radius))
                            }
                            _ => {
                                for &coord in &factor.coords {
                                    if !self.periodic.contains(&coord) {
                                        faces.push((coord, Side::Lo));
                                        faces.push((coord, Side::Hi));
                                    }
                                }
                            }
                        }
                    }
                }
                Place::Initial | Place::Velocity => {}
            }
        }
        let mut out = Vec::new();
        for (coord, side) in faces {
            let value = match side {
                Side::Lo => self.coords[coord].lo,
                Side::Hi => self.coords[coord].hi,
            };
            for k in 0..PROBES + 2 {
                let mut q = free_point(k);
                q[coord] = value;
                out.push(q);
            }
        }
        for (coords, center, radius) in balls {
            let d = coords.len();
            let mut directions = Vec::new();
            for j in 0..d {
                for s in [-1.0, 1.0] {
                    let mut e = vec![0.0; d];
                    e[j] = s;
                    directions.push(e);
                }
            }
            for k in 0..PROBES {
                let e: Vec<f64> = (0..d).map(|j| 2.0 * low_discrepancy(k, j) - 1.0).collect();
                let norm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
                if norm > 1e-3 {
                    directions.push(e.iter().map(|v| v / norm).collect());
                }
            }
            for (k, e) in directions.iter().enumerate() {
                let mut q = free_point(k + 2);
                for j in 0..d {
                    q[coords[j]] = center[j] + radius * e[j];
                }
                out.push(q);
            }
        }
        out
    }

    /// Checks that `A` and its derivatives in every periodic coordinate, up to
    /// the equations' order, agree on the two ends of that coordinate (at probe
    /// points): the network's inputs are periodic, so a mismatch in `A` would stay
    /// in `u` at every time. (`x² cos πx` on `[−1, 1]` agrees in value, not in
    /// slope: built in, its kink at `x = ±1` would never diffuse away.)
    fn periodic_offset(&mut self, offset: ExprId) -> Result<(), String> {
        let n = self.coords.len();
        let order = self
            .blocks
            .iter()
            .map(|b| b.order)
            .max()
            .unwrap_or(0)
            .max(1);
        for p in self.periodic.clone() {
            let (lo, hi) = (self.coords[p].lo, self.coords[p].hi);
            for k in 0..=order {
                let mut alpha = vec![0u8; n];
                alpha[p] = k as u8;
                let e = crate::ir::symbolic::coordinate_partial(&mut self.arena, offset, &alpha);
                let mut worst = (0.0f64, 0.0f64);
                for mut point in inside_probes(&self.coords) {
                    point[p] = lo;
                    let at_lo = eval_at(&self.arena, e, &point);
                    point[p] = hi;
                    let at_hi = eval_at(&self.arena, e, &point);
                    let gap = (at_hi - at_lo).abs();
                    worst.1 = worst.1.max(at_lo.abs()).max(at_hi.abs());
                    if gap.is_nan() || gap > worst.0 {
                        worst.0 = if gap.is_nan() { f64::INFINITY } else { gap };
                    }
                }
                if worst.0 > COMPATIBLE * (1.0 + worst.1) {
                    let name = &self.coords[p].name;
                    let what = match k {
                        0 => "values".to_string(),
                        1 => format!("slopes d{name}"),
                        _ => format!("derivatives of order {k} in {name}"),
                    };
                    return Err(format!(
                        "its data are not periodic in {name}: their {what} differ between \
                         {name} = {} and {name} = {} (by {:.1e}); built in, the mismatch would \
                         stay in the field at every time",
                        crate::ir::display::display_number(lo),
                        crate::ir::display::display_number(hi),
                        worst.0
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that `A`, `φ` and their derivatives up to order 2 are finite at
    /// interior probe points.
    fn finite_inside(&mut self, offset: ExprId, factor: ExprId) -> Result<(), String> {
        let n = self.coords.len();
        let mut exprs = vec![offset, factor];
        for i in 0..n {
            for j in i..n {
                let mut first = vec![0u8; n];
                first[i] = 1;
                let mut second = first.clone();
                second[j] += 1;
                for alpha in [first, second] {
                    for e in [offset, factor] {
                        exprs.push(crate::ir::symbolic::coordinate_partial(
                            &mut self.arena,
                            e,
                            &alpha,
                        ));
                    }
                }
            }
        }
        for point in &inside_probes(&self.coords) {
            for &e in &exprs {
                if !eval_at(&self.arena, e, point).is_finite() {
                    let at: Vec<String> = point
                        .iter()
                        .zip(&self.coords)
                        .map(|(v, c)| {
                            format!("{} = {}", c.name, crate::ir::display::display_number(*v))
                        })
                        .collect();
                    return Err(format!(
                        "its data, extended into the domain, are not finite at {}",
                        at.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }

    /// Drops the built-in conditions' blocks and rewrites every other block
    /// with the ansatz's jets.
    fn rewrite_blocks(&mut self, removed: &[usize]) {
        let n = self.coords.len();
        let spatial: Vec<usize> = (0..n)
            .filter(|&i| self.coords[i].kind == CoordKind::Space)
            .collect();
        let mut arena = std::mem::take(&mut self.arena);
        let mut replace: HashMap<Node, ExprId> = HashMap::new();
        for ansatz in self.ansatz.clone() {
            let k = ansatz.field;
            let jets: Vec<(JetId, Deriv)> = self
                .jets
                .iter()
                .enumerate()
                .filter(|(_, j)| j.field == k)
                .map(|(i, j)| (JetId(i as u32), j.deriv.clone()))
                .collect();
            for (id, deriv) in jets {
                let expr = ansatz_jet(&mut arena, &ansatz, n, &spatial, &deriv, &mut |a, d| {
                    let jet = self.jet(k, d);
                    a.intern(Node::Jet(jet))
                });
                replace.insert(Node::Jet(id), expr);
            }
        }
        self.arena = arena;
        let blocks = std::mem::take(&mut self.blocks);
        for (b, block) in blocks.into_iter().enumerate() {
            if removed.contains(&b) {
                continue;
            }
            let residual = substitute(&mut self.arena, block.residual, &|leaf| {
                replace.get(&leaf).copied()
            });
            let rebuilt = self.block(
                block.label,
                block.span,
                block.region,
                block.weight,
                residual,
            );
            self.blocks.push(rebuilt);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::check_source;
    use crate::ir::symbolic::eval_at;
    use crate::ir::{Problem, Region};
    use std::f64::consts::PI;
    use std::path::Path;

    fn ok(source: &str) -> Problem {
        let (problem, diagnostics) = check_source(source, Path::new("."));
        problem.unwrap_or_else(|| panic!("{diagnostics:?}"))
    }

    /// An expression of the coordinates at `point`.
    fn at(problem: &Problem, id: crate::ir::ExprId, point: &[f64]) -> f64 {
        eval_at(&problem.exprs, id, point)
    }

    const HEAT: &str = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                        dt(u) - dxx(u) = 0 on interior\n\
                        u = sin(pi*x) on initial\nu = 0 on boundary\n";

    #[test]
    fn heat_conditions_are_built_into_the_ansatz() {
        let p = ok(HEAT);
        assert_eq!(p.blocks.len(), 1);
        assert_eq!(p.blocks[0].region, Region::Interior);
        assert!(p.soft_conditions.is_empty());
        let a = &p.ansatz[0];
        assert_eq!(
            a.conditions,
            ["u = sin(pi*x) on initial", "u = 0 on boundary"]
        );
        for x in [0.0, 0.13, 0.5, 0.77, 1.0] {
            assert!((at(&p, a.offset, &[0.0, x]) - (PI * x).sin()).abs() < 1e-15);
            assert_eq!(at(&p, a.factor, &[0.0, x]), 0.0);
        }
        for t in [0.0, 0.4, 1.0] {
            for x in [0.0, 1.0] {
                assert!(at(&p, a.offset, &[t, x]).abs() < 1e-15, "A({t}, {x})");
                assert_eq!(at(&p, a.factor, &[t, x]), 0.0);
            }
            for x in [0.01, 0.5, 0.99] {
                if t > 0.0 {
                    assert!(at(&p, a.factor, &[t, x]) > 0.0);
                }
            }
        }
    }

    /// Left at its default, `interior` takes the built-in regions' counts
    /// (1,000 + 200 boundary + 200 initial); a count the file gives stays; a
    /// region another block still uses keeps its points.
    #[test]
    fn the_interior_takes_the_points_of_built_in_conditions() {
        assert_eq!(ok(HEAT).sample.interior, 1400);
        assert_eq!(
            ok(&format!("{HEAT}sample interior = 900\n"))
                .sample
                .interior,
            900
        );
        let neumann = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                       dt(u) - dxx(u) = 0 on interior\nu = sin(pi*x) on initial\n\
                       u = 0 on x = 0\ndx(u) = 0 on x = 1\n";
        let p = ok(neumann);
        assert_eq!(
            p.ansatz[0].conditions,
            ["u = sin(pi*x) on initial", "u = 0 on x = 0"]
        );
        assert_eq!(p.sample.interior, 1200);
    }

    /// With `interior` given, a count whose region's conditions are all built in
    /// draws nothing and is W0505, labelled with the reason; a count whose region
    /// keeps a penalty block, a count that goes to the interior, and soft
    /// constraints are silent.
    #[test]
    fn counts_of_built_in_regions_warn_when_interior_is_given() {
        let warnings = |source: &str| -> Vec<(String, String)> {
            let (problem, diags) = check_source(source, Path::new("."));
            assert!(problem.is_some(), "{diags:?}");
            diags
                .iter()
                .map(|d| {
                    let label = d.labels.first().map(|l| l.message.clone());
                    (d.message.clone(), label.unwrap_or_default())
                })
                .collect()
        };
        let both = warnings(&format!(
            "{HEAT}sample interior = 900, boundary = 120, initial = 60\n"
        ));
        assert_eq!(
            both.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
            [
                "`sample boundary` has no effect",
                "`sample initial` has no effect"
            ]
        );
        assert!(both[0]
            .1
            .contains("on the boundary are built into the ansatz"));
        assert!(both[1]
            .1
            .contains("on the initial time are built into the ansatz"));
        // Without `interior` the counts go to the interior: they have an effect.
        assert!(warnings(&format!("{HEAT}sample boundary = 120, initial = 60\n")).is_empty());
        assert!(warnings(&format!(
            "{HEAT}model mlp(constraints = soft)\nsample interior = 900, boundary = 120, initial = 60\n"
        ))
        .is_empty());
        // A Neumann face keeps the boundary's points; the built-in face's own
        // count draws nothing and is named by its face.
        let faces = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                     dt(u) - dxx(u) = 0 on interior\nu = sin(pi*x) on initial\n\
                     u = 0 on x = 0\ndx(u) = 0 on x = 1\n\
                     sample interior = 900, boundary = 40, x = 0 : 20, initial = 60\n";
        let found = warnings(faces);
        assert_eq!(
            found.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
            [
                "`sample x = 0` has no effect",
                "`sample initial` has no effect"
            ]
        );
        assert!(
            found[0].1.contains("on `x = 0` are built into"),
            "{found:?}"
        );
    }

    #[test]
    fn soft_constraints_keep_the_blocks() {
        let p = ok(&format!("{HEAT}model mlp(constraints = soft)\n"));
        assert!(p.ansatz.is_empty());
        assert_eq!(p.blocks.len(), 3);
    }

    #[test]
    fn incompatible_initial_data_stay_a_penalty() {
        let p = ok("time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                    dt(u) - dxx(u) = 0 on interior\n\
                    u = 1 on initial\nu = 0 on boundary\n");
        assert_eq!(p.ansatz[0].conditions, ["u = 0 on boundary"]);
        assert_eq!(p.blocks.len(), 2);
        assert_eq!(p.blocks[1].region, Region::Initial);
        let soft = &p.soft_conditions[0];
        assert_eq!(soft.label, "u = 1 on initial");
        assert!(
            soft.reason.contains("differ from the boundary data"),
            "{}",
            soft.reason
        );
    }

    /// `∂_t e` at `point` by a central difference (h = 1e-5).
    fn dt_at(problem: &Problem, id: crate::ir::ExprId, point: &[f64], t: usize) -> f64 {
        let (mut up, mut down) = (point.to_vec(), point.to_vec());
        up[t] += 1e-5;
        down[t] -= 1e-5;
        (at(problem, id, &up) - at(problem, id, &down)) / 2e-5
    }

    #[test]
    fn an_initial_velocity_is_built_in_with_the_initial_value() {
        // The wave equation with u = sin(πx)(cos πt + sin πt).
        let p = ok("time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                    dtt(u) - pi^2*dxx(u) = 0 on interior\n\
                    u = sin(pi*x) on initial\ndt(u) = pi*sin(pi*x) on initial\n\
                    u = 0 on boundary\n");
        assert!(p.soft_conditions.is_empty(), "{:?}", p.soft_conditions);
        assert_eq!(p.blocks.len(), 1);
        let a = &p.ansatz[0];
        assert_eq!(a.conditions.len(), 3);
        for k in 0..9 {
            let x = 0.05 + 0.1 * k as f64;
            let (u0, v0) = ((PI * x).sin(), PI * (PI * x).sin());
            // (t, x): t is declared first.
            let start = [0.0, x];
            assert!((at(&p, a.offset, &start) - u0).abs() < 1e-14);
            assert!((dt_at(&p, a.offset, &start, 0) - v0).abs() < 1e-8);
            assert_eq!(at(&p, a.factor, &start), 0.0);
            assert!(dt_at(&p, a.factor, &start, 0).abs() < 1e-9, "φ ∝ t²");
            assert!(at(&p, a.factor, &[0.5, x]) > 0.0);
        }
        for t in [0.2, 0.7] {
            for x in [0.0, 1.0] {
                assert!(at(&p, a.offset, &[t, x]).abs() < 1e-14);
                assert_eq!(at(&p, a.factor, &[t, x]), 0.0);
            }
        }
        // With moving boundary data: u = t·x on boundary, the initial velocity x
        // agrees with ∂_t(t·x) there.
        let p = ok("time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                    dtt(u) - dxx(u) = 0 on interior\n\
                    u = 0 on initial\ndt(u) = x + x*(1 - x) on initial\n\
                    u = t*x on boundary\n");
        assert!(p.soft_conditions.is_empty(), "{:?}", p.soft_conditions);
        let a = &p.ansatz[0];
        for x in [0.0, 0.3, 1.0] {
            assert!(at(&p, a.offset, &[0.0, x]).abs() < 1e-14);
            let v = dt_at(&p, a.offset, &[0.0, x], 0);
            assert!((v - (x + x * (1.0 - x))).abs() < 1e-8, "{v} at {x}");
        }
        for t in [0.3, 0.9] {
            for x in [0.0, 1.0] {
                assert!((at(&p, a.offset, &[t, x]) - t * x).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn an_initial_velocity_that_cannot_be_built_in_stays_a_penalty() {
        let base = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                    dtt(u) - dxx(u) = 0 on interior\n";
        // Alone, without the initial value.
        let p = ok(&format!("{base}dt(u) = 0 on initial\nu = 0 on boundary\n"));
        assert_eq!(p.ansatz[0].conditions, ["u = 0 on boundary"]);
        assert!(p.soft_conditions[0]
            .reason
            .contains("only with one `u = g on initial`"));
        // Against the boundary data: ∂_t(t) = 1 at x = 0 and 1, the velocity says 0.
        let p = ok(&format!(
            "{base}u = 0 on initial\ndt(u) = 0 on initial\nu = t on boundary\n"
        ));
        assert_eq!(
            p.ansatz[0].conditions,
            ["u = 0 on initial", "u = t on boundary"]
        );
        assert_eq!(p.soft_conditions.len(), 1);
        assert_eq!(p.soft_conditions[0].label, "dt(u) = 0 on initial");
        assert!(
            p.soft_conditions[0]
                .reason
                .contains("time derivative of the boundary data"),
            "{}",
            p.soft_conditions[0].reason
        );
        // Its initial value stays a penalty, so the velocity does too.
        let p = ok(&format!(
            "{base}u = 1 on initial\ndt(u) = 0 on initial\nu = 0 on boundary\n"
        ));
        assert_eq!(p.soft_conditions.len(), 2);
        assert_eq!(p.blocks.len(), 3);
    }

    #[test]
    fn initial_data_must_be_periodic_to_the_equations_order_to_be_built_in() {
        let base = "time t in [0, 1]\nspace x in [-1, 1]\nfield u\nperiodic x\n\
                    dt(u) - 0.0001*dxx(u) + 5*u^3 - 5*u = 0 on interior\n";
        // Periodic with every derivative: built in.
        let p = ok(&format!("{base}u = sin(pi*x) + cos(2*pi*x) on initial\n"));
        assert!(p.soft_conditions.is_empty(), "{:?}", p.soft_conditions);
        assert_eq!(p.blocks.len(), 1);
        // Equal values at x = ±1, slopes −2 and 2: a penalty, with the reason.
        let p = ok(&format!("{base}u = x^2*cos(pi*x) on initial\n"));
        assert!(p.ansatz.is_empty());
        assert_eq!(p.blocks.len(), 2);
        let reason = &p.soft_conditions[0].reason;
        assert!(
            reason.contains("slopes dx differ") && reason.contains("4.0e0"),
            "{reason}"
        );
        // Equal values and slopes, second derivatives 16 and 32 at x = −1 and 1: the
        // equation's order counts.
        let p = ok(&format!("{base}u = (x^2 - 1)^2*(x + 3) on initial\n"));
        let reason = &p.soft_conditions[0].reason;
        assert!(reason.contains("order 2"), "{reason}");
    }

    #[test]
    fn rough_or_param_data_and_parts_stay_penalties() {
        let cases = [
            ("u = if(x < 0.5, 0, 1) on boundary", "not smooth"),
            ("u = a on boundary", "param"),
            ("u = 0 on boundary where x = 0", "part of the boundary"),
        ];
        for (condition, why) in cases {
            let p = ok(&format!(
                "space x in [0, 1]\nfield u\nparam a = 1\n-dxx(u) = 1 on interior\n{condition}\n"
            ));
            assert!(p.ansatz.is_empty(), "{condition}");
            assert_eq!(p.blocks.len(), 2, "{condition}");
            assert!(
                p.soft_conditions[0].reason.contains(why),
                "{condition}: {:?}",
                p.soft_conditions
            );
        }
    }

    #[test]
    fn two_faces_blend_their_data() {
        let p = ok("space x in [0, 2]\nfield u\n-dxx(u) = 0 on interior\n\
                    u = 1 on x = 0\nu = 3 on x = 2\n");
        let a = &p.ansatz[0];
        assert_eq!(p.blocks.len(), 1);
        assert!((at(&p, a.offset, &[0.0]) - 1.0).abs() < 1e-15);
        assert!((at(&p, a.offset, &[2.0]) - 3.0).abs() < 1e-15);
        assert_eq!(at(&p, a.factor, &[0.0]), 0.0);
        assert_eq!(at(&p, a.factor, &[2.0]), 0.0);
        assert!((at(&p, a.factor, &[1.0]) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn faces_of_two_coordinates_with_different_data_stay_penalties() {
        let p = ok(
            "space x in [0, 1]\nspace y in [0, 1]\nfield u\n-lap(u) = 0 on interior\n\
                    u = 1 on x = 0\nu = 2 on y = 0\n",
        );
        assert!(p.ansatz.is_empty());
        assert_eq!(p.soft_conditions.len(), 2);
        assert!(p.soft_conditions[0].reason.contains("different data"));
    }

    #[test]
    fn a_disk_has_its_distance_factor() {
        let p = ok(
            "space (x, y) in disk((1, 0), 2)\nfield u\n-lap(u) = 1 on interior\n\
                    u = x on boundary\n",
        );
        let a = &p.ansatz[0];
        for angle in [0.0, 1.0, 2.5, 4.0] {
            let point = [1.0 + 2.0 * f64::cos(angle), 2.0 * f64::sin(angle)];
            assert!(at(&p, a.factor, &point).abs() < 1e-15);
            assert!((at(&p, a.offset, &point) - point[0]).abs() < 1e-15);
        }
        assert!((at(&p, a.factor, &[1.0, 0.0]) - 1.0).abs() < 1e-15);
    }
}
