//! Equations and regions: one [`ResidualBlock`] per equation (its jets,
//! linearization and parameter derivatives), the region words and faces, and
//! the blocks of `periodic` coordinates.

use super::lowerer::{Ctx, Def, Lowerer, State};
use crate::diagnostic::Diagnostic;
use crate::ir::expr::{ExprId, JetId, Node};
use crate::ir::names::did_you_mean;
use crate::ir::symbolic::{depends_on_jets, derivative, leaves};
use crate::ir::{Condition, Constraints, CoordKind, Deriv, Region, Relation, ResidualBlock, Side};
use crate::span::Span;
use crate::syntax::ast;

const REGION_WORDS: [&str; 3] = ["interior", "boundary", "initial"];

impl Lowerer<'_> {
    pub(super) fn equation(
        &mut self,
        span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        region: &ast::Region,
        weight: Option<&ast::Expr>,
    ) {
        let lowered_region = self.region(region);
        let ctx = match &lowered_region {
            Some(
                Region::Boundary
                | Region::Piece { .. }
                | Region::Where { .. }
                | Region::Face { .. },
            ) => Ctx::Equation {
                normal_ok: true,
                data: None,
            },
            Some(Region::Data { set }) => Ctx::Equation {
                normal_ok: false,
                data: Some(*set),
            },
            Some(_) => Ctx::Equation {
                normal_ok: false,
                data: None,
            },
            // The region was reported; check the expressions without region rules.
            None => Ctx::Let,
        };
        let l = self.lower_expr(lhs, ctx);
        let r = self.lower_expr(rhs, ctx);
        let w = match weight {
            None => Some(1.0),
            Some(w) => {
                let value = self.const_value(w, "a weight");
                match value {
                    Some(v) if v <= 0.0 => {
                        self.error(
                            Diagnostic::error("E0217", format!("weight {v} is not positive"))
                                .with_label(w.span, "must be > 0"),
                        );
                        None
                    }
                    other => other,
                }
            }
        };
        let (Some(region), Some(l), Some(r), Some(weight)) = (lowered_region, l, r, w) else {
            return;
        };
        let residual = self.arena.sub(l, r);
        // `lhs = rhs` as written, without the region and weight.
        let label = self
            .source
            .get(lhs.span.to(rhs.span).range())
            .unwrap_or("")
            .trim()
            .to_string();
        let block = self.block(label, span, region, weight, residual);
        if block.jets.is_empty() && !self.fields.is_empty() {
            self.error(
                Diagnostic::warning("W0502", "this equation involves no field")
                    .with_label(span, "constant residual")
                    .with_help("it cannot be satisfied by training; check for a missing field"),
            );
        }
        self.blocks.push(block);
    }

    /// Builds a block: jets used, linearization, param derivatives, order.
    pub(in crate::ir) fn block(
        &mut self,
        label: String,
        span: Span,
        region: Region,
        weight: f64,
        residual: ExprId,
    ) -> ResidualBlock {
        let used = leaves(&self.arena, &[residual]);
        let mut jets: Vec<JetId> = used
            .iter()
            .filter_map(|n| match n {
                Node::Jet(j) => Some(*j),
                _ => None,
            })
            .collect();
        jets.sort_unstable();
        jets.dedup();
        let mut params: Vec<usize> = used
            .iter()
            .filter_map(|n| match n {
                Node::Param(p) => Some(*p),
                _ => None,
            })
            .collect();
        params.sort_unstable();
        params.dedup();
        let zero = self.arena.constant(0.0);
        let mut linearization = Vec::new();
        for &j in &jets {
            let d = derivative(&mut self.arena, residual, Node::Jet(j));
            if d != zero {
                linearization.push((j, d));
            }
        }
        let mut param_derivatives = Vec::new();
        for &p in &params {
            let d = derivative(&mut self.arena, residual, Node::Param(p));
            if d != zero {
                param_derivatives.push((p, d));
            }
        }
        let linear = linearization
            .iter()
            .all(|&(_, c)| !depends_on_jets(&self.arena, c));
        let order = jets
            .iter()
            .map(|j| self.jets[j.0 as usize].order())
            .max()
            .unwrap_or(0);
        ResidualBlock {
            label,
            span,
            region,
            weight,
            residual,
            jets,
            linearization,
            param_derivatives,
            linear,
            order,
        }
    }

    pub(super) fn region(&mut self, region: &ast::Region) -> Option<Region> {
        match &region.kind {
            ast::RegionKind::Named(ident) => {
                let name = ident.name.as_str();
                match name {
                    "interior" => return Some(Region::Interior),
                    "boundary" => {
                        if self.time_only() {
                            self.needs_space("boundary", ident.span);
                            return None;
                        }
                        return Some(Region::Boundary);
                    }
                    "initial" => {
                        if self.domain.time.is_some() {
                            return Some(Region::Initial);
                        }
                        if self.time_span.is_none() {
                            self.error(
                                Diagnostic::error("E0214", "`initial` needs a `time` coordinate")
                                    .with_label(ident.span, "no time declared")
                                    .with_help("declare one, e.g. `time t in [0, 1]`"),
                            );
                        }
                        return None;
                    }
                    _ => {}
                }
                match self.names.get(name).map(|b| b.def) {
                    Some(Def::Data(set)) => Some(Region::Data { set }),
                    Some(Def::Coord(_)) => {
                        self.error(
                            Diagnostic::error(
                                "E0105",
                                format!("`{name}` is a coordinate, not a region"),
                            )
                            .with_label(ident.span, "not a region")
                            .with_help(format!(
                                "a face is written `{name} = c` with `c` an end of `{name}`"
                            )),
                        );
                        None
                    }
                    other => {
                        let mut d = Diagnostic::error(
                            "E0105",
                            match other {
                                Some(def) => {
                                    format!("`{name}` is a {}, not a region", def.kind_name())
                                }
                                None => format!("unknown region `{name}`"),
                            },
                        )
                        .with_label(ident.span, "not a region");
                        let mut candidates: Vec<String> =
                            REGION_WORDS.iter().map(|s| s.to_string()).collect();
                        candidates.extend(
                            self.names
                                .iter()
                                .filter(|(_, b)| matches!(b.def, Def::Data(_)))
                                .map(|(n, _)| n.clone()),
                        );
                        d = match did_you_mean(name, candidates.iter().map(String::as_str)) {
                            Some(h) => d.with_help(h),
                            None => d.with_help(
                                "regions are `interior`, `boundary`, `initial`, a face `x = c`, or a data set",
                            ),
                        };
                        self.error(d);
                        None
                    }
                }
            }
            ast::RegionKind::Face { coord, value } => {
                let (i, side) = self.face(coord, value)?;
                Some(Region::Face { coord: i, side })
            }
            ast::RegionKind::BoundaryOf { word, shape } => self.piece(word, shape, region.span),
            ast::RegionKind::Where { base, conditions } => self.where_region(base, conditions),
        }
    }

    /// `boundary where …` and `boundary of NAME where …`: the base region and the
    /// conditions, each side an expression of coordinates and constants (`E0240`);
    /// other regions take no condition (`E0241`).
    fn where_region(
        &mut self,
        base: &ast::Region,
        conditions: &[ast::Condition],
    ) -> Option<Region> {
        let lowered_base = self.region(base);
        let mut lowered = Vec::with_capacity(conditions.len());
        for condition in conditions {
            let left = self.lower_expr(&condition.lhs, Ctx::Condition);
            let right = self.lower_expr(&condition.rhs, Ctx::Condition);
            let relation = match condition.relation {
                ast::Relation::Less => Relation::Less,
                ast::Relation::LessEq => Relation::LessEq,
                ast::Relation::Greater => Relation::Greater,
                ast::Relation::GreaterEq => Relation::GreaterEq,
                ast::Relation::Equal => Relation::Equal,
            };
            if let (Some(left), Some(right)) = (left, right) {
                lowered.push(Condition {
                    left,
                    relation,
                    right,
                });
            }
        }
        let base_region = lowered_base?;
        if !matches!(base_region, Region::Boundary | Region::Piece { .. }) {
            let what = match &base.kind {
                ast::RegionKind::Named(ident) => format!("`{}`", ident.name),
                ast::RegionKind::Face { .. } => "a face".to_string(),
                _ => "this region".to_string(),
            };
            let help = match base_region {
                Region::Face { .. } => {
                    "a face is one side already; to narrow it, write `on boundary where x = c and ...`"
                }
                Region::Data { .. } => "a data set's points are its rows; keep the rows you want in its file",
                _ => {
                    "`where` narrows `boundary` and `boundary of NAME`; inside the domain, make the \
                     equation piecewise with `if(x < c, ..., ...)`"
                }
            };
            self.error(
                Diagnostic::error("E0241", format!("{what} cannot be narrowed by `where`"))
                    .with_label(base.span, "takes no condition")
                    .with_help(help),
            );
            return None;
        }
        if lowered.len() != conditions.len() {
            // A side was reported.
            return None;
        }
        let span = conditions.first()?.span.to(conditions.last()?.span);
        let text = self
            .source
            .get(span.range())
            .unwrap_or("")
            .trim()
            .to_string();
        Some(Region::Where {
            base: Box::new(base_region),
            conditions: lowered,
            text,
            span,
        })
    }

    /// `boundary of NAME`: the part of the domain's boundary on the boundary of
    /// the named shape, which must be part of exactly one `space` domain.
    fn piece(&mut self, word: &ast::Ident, shape: &ast::Ident, span: Span) -> Option<Region> {
        if word.name != "boundary" {
            self.error(
                Diagnostic::error("E0105", format!("`{} of` is not a region", word.name))
                    .with_label(word.span, "expected `boundary`")
                    .with_help(format!(
                        "a part of the boundary is written `boundary of {}`",
                        shape.name
                    )),
            );
            return None;
        }
        if self.time_only() {
            self.needs_space("boundary of", span);
            return None;
        }
        let name = shape.name.as_str();
        let binding = match self.names.get(name).copied() {
            Some(binding) => binding,
            None if self.rejected.contains(name) => return None,
            None => {
                let mut d = Diagnostic::error("E0229", format!("unknown shape `{name}`"))
                    .with_label(shape.span, "not a declared shape");
                let shape_names = self.shape_names();
                d = match did_you_mean(name, shape_names.iter().map(String::as_str)) {
                    Some(h) => d.with_help(h),
                    None => d.with_help(format!(
                        "name the shape with `shape {name} = ...` and use it in the `space` line"
                    )),
                };
                self.error(d);
                return None;
            }
        };
        let Def::Shape(index) = binding.def else {
            self.error(
                Diagnostic::error(
                    "E0229",
                    format!("`{name}` is a {}, not a shape", binding.def.kind_name()),
                )
                .with_label(shape.span, "not a shape")
                .with_help("`boundary of` takes a name declared by `shape`"),
            );
            return None;
        };
        let State::Done(Some(piece)) = &self.shapes[index].state else {
            // Its declaration was reported.
            return None;
        };
        let piece = piece.clone();
        let domains = self.shapes[index].domains.clone();
        let coords = match domains.as_slice() {
            [coords] => coords,
            [] => {
                self.error(
                    Diagnostic::error("E0230", format!("`{name}` is not part of the domain"))
                        .with_label(shape.span, "no `space` line uses this shape")
                        .with_label(binding.span, "declared here")
                        .with_help(format!(
                            "its boundary is part of the domain's only where the domain is built from it, e.g. `space (x, y) in box([-1, 1], [-1, 1]) - {name}`"
                        )),
                );
                return None;
            }
            _ => {
                self.error(
                    Diagnostic::error(
                        "E0230",
                        format!("`{name}` is part of {} domains", domains.len()),
                    )
                    .with_label(shape.span, "which domain's boundary is meant")
                    .with_help("declare a shape of its own for each `space` line"),
                );
                return None;
            }
        };
        let factor = self
            .domain
            .factors
            .iter()
            .position(|f| &f.coords == coords)?;
        Some(Region::Piece {
            name: name.to_string(),
            factor,
            shape: piece,
        })
    }

    /// A face `x = c`: the coordinate and which end `c` is.
    pub(in crate::ir) fn face(
        &mut self,
        coord: &ast::Ident,
        value: &ast::Expr,
    ) -> Option<(usize, Side)> {
        let i = self.coordinate(coord)?;
        let c = self.const_value(value, "a face value");
        let info = self.coord_info[i];
        if !info.interval {
            self.error(
                Diagnostic::error(
                    "E0215",
                    format!(
                        "`{}` is declared by a shape; faces exist only for interval coordinates",
                        coord.name
                    ),
                )
                .with_label(coord.span, "not an interval coordinate")
                .with_help(format!(
                    "for the part of the boundary where `{}` has a value, write `on boundary where {} = ...`",
                    coord.name, coord.name
                )),
            );
            return None;
        }
        let c = c?;
        if !info.ok {
            return None;
        }
        let (lo, hi) = (self.coords[i].lo, self.coords[i].hi);
        let tol = 1e-12 * lo.abs().max(hi.abs()).max(1.0);
        if (c - lo).abs() <= tol {
            Some((i, Side::Lo))
        } else if (c - hi).abs() <= tol {
            Some((i, Side::Hi))
        } else {
            let (lo_s, hi_s) = (
                crate::ir::display::display_number(lo),
                crate::ir::display::display_number(hi),
            );
            self.error(
                Diagnostic::error(
                    "E0216",
                    format!(
                        "`{} = {}` is not a face",
                        coord.name,
                        crate::ir::display::display_number(c)
                    ),
                )
                .with_label(value.span, format!("not an end of `{}`", coord.name))
                .with_help(format!(
                    "the ends of `{}` are {lo_s} and {hi_s}",
                    coord.name
                )),
            );
            None
        }
    }

    pub(super) fn periodic_item(&mut self, coords: &[ast::Ident]) {
        for ident in coords {
            let Some(i) = self.coordinate(ident) else {
                continue;
            };
            let info = self.coord_info[i];
            if self.coords[i].kind != CoordKind::Space || !info.interval {
                self.error(
                    Diagnostic::error(
                        "E0224",
                        format!(
                            "`{}` cannot be periodic: only spatial interval coordinates can",
                            ident.name
                        ),
                    )
                    .with_label(ident.span, "not a spatial interval"),
                );
                continue;
            }
            if self.periodic.contains(&i) {
                self.error(
                    Diagnostic::warning(
                        "W0503",
                        format!("`{}` is declared periodic twice", ident.name),
                    )
                    .with_label(ident.span, "already periodic"),
                );
                continue;
            }
            self.periodic.push(i);
        }
    }

    /// For every periodic coordinate and every field, the blocks
    /// `u(lo) - u(hi)` and `∂u(lo) - ∂u(hi)` (the residual is the jet; the
    /// region pairs the points) — under `constraints = soft` only: otherwise
    /// the network's inputs make every field periodic.
    pub(super) fn periodic_blocks(&mut self, file: &ast::File) {
        if self.model.constraints == Constraints::Hard {
            return;
        }
        let spans: Vec<Span> = file
            .items
            .iter()
            .filter(|i| matches!(i.kind, ast::ItemKind::Periodic { .. }))
            .map(|i| i.span)
            .collect();
        for p in 0..self.periodic.len() {
            let coord = self.periodic[p];
            let coord_name = self.coords[coord].name.clone();
            // The periodic line naming this coordinate.
            let span = spans
                .iter()
                .copied()
                .find(|s| {
                    self.source.get(s.range()).is_some_and(|t| {
                        t.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .any(|w| w == coord_name)
                    })
                })
                .unwrap_or_default();
            for k in 0..self.fields.len() {
                // A field that does not depend on the coordinate is periodic in it.
                if !self.fields[k].depends_on(coord) {
                    continue;
                }
                let field_name = self.fields[k].name.clone();
                let mut alpha = vec![0u8; self.coords.len()];
                for (order, label) in [
                    (0u8, field_name.clone()),
                    (
                        1u8,
                        if coord_name.chars().count() == 1 {
                            format!("d{coord_name}({field_name})")
                        } else {
                            format!("d({field_name}, {coord_name})")
                        },
                    ),
                ] {
                    alpha[coord] = order;
                    let jet = self.jet(k, Deriv::Partial(alpha.clone()));
                    let residual = self.arena.intern(Node::Jet(jet));
                    let block = self.block(
                        format!("periodic {coord_name}: {label}"),
                        span,
                        Region::Periodic { coord },
                        1.0,
                        residual,
                    );
                    self.blocks.push(block);
                }
            }
        }
    }

    /// The model's input settings against the coordinates: Fourier features
    /// need a coordinate that is not embedded as periodic, and `harmonics`
    /// needs a periodic coordinate under hard constraints.
    /// W0505: a `sample` count that draws no points (no equation on its region, the
    /// one initial point of a time-only problem, no periodic pairs).
    pub(super) fn sample_usage_checks(&mut self) {
        let used = |pred: &dyn Fn(&Region) -> bool| self.blocks.iter().any(|b| pred(&b.region));
        let mut unused = Vec::new();
        for (key, &span) in &self.sample_keys {
            let why = match key.as_str() {
                "interior" if !used(&|r| matches!(r, Region::Interior)) => {
                    "no equation holds `on interior`"
                }
                "boundary"
                    if !used(&|r| {
                        matches!(
                            r,
                            Region::Boundary | Region::Piece { .. } | Region::Face { .. }
                        )
                    }) =>
                {
                    "no equation holds on the boundary, a piece of it or a face"
                }
                "initial" if self.time_only() => {
                    "a time-only problem has one initial point, t = t0"
                }
                "initial" if !used(&|r| matches!(r, Region::Initial)) => {
                    "no equation holds `on initial`"
                }
                // (A shape outside the domain is E0230 already.)
                shape
                    if matches!(self.names.get(shape).map(|b| b.def),
                        Some(Def::Shape(i)) if self.shapes[i].domains.len() == 1)
                        && !used(&|r| {
                            let r = match r {
                                Region::Where { base, .. } => base,
                                r => r,
                            };
                            matches!(r, Region::Piece { name, .. } if name == shape)
                        }) =>
                {
                    "no equation holds on `boundary of` this shape"
                }
                "periodic" if !used(&|r| matches!(r, Region::Periodic { .. })) => {
                    if self.periodic.is_empty() {
                        "no coordinate is periodic"
                    } else {
                        "periodicity is built into the networks' inputs (`constraints = hard`), so no point pairs are drawn"
                    }
                }
                _ => continue,
            };
            unused.push((span, key.clone(), why));
        }
        unused.sort_by_key(|(span, ..)| span.start);
        for (span, key, why) in unused {
            self.error(
                Diagnostic::warning("W0505", format!("`sample {key}` has no effect"))
                    .with_label(span, why)
                    .with_help("remove it, or add the equation that needs these points"),
            );
        }
    }

    pub(super) fn embedding_checks(&mut self) {
        let hard = self.model.constraints == Constraints::Hard;
        let n_periodic = if hard { self.periodic.len() } else { 0 };
        if let Some(span) = self.features_span {
            if !self.coords.is_empty() && n_periodic == self.coords.len() {
                self.error(
                    Diagnostic::error("E0409", "no coordinate is left for Fourier features")
                        .with_label(span, "every coordinate is periodic")
                        .with_help(
                            "periodic coordinates enter the network through their harmonics; \
                             remove `features`, or write `constraints = soft`",
                        ),
                );
            }
        }
        if let Some(span) = self.harmonics_span {
            if n_periodic == 0 {
                let why = if self.periodic.is_empty() {
                    "no coordinate is periodic"
                } else {
                    "`constraints = soft` keeps the periodic coordinates as they are"
                };
                self.error(
                    Diagnostic::warning("W0504", "`harmonics` has no effect")
                        .with_label(span, why)
                        .with_help("harmonics are the inputs of a `periodic` coordinate under hard constraints"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::display::{display_expr, display_jet};
    use crate::ir::testing::*;
    use crate::ir::{CoordKind, Deriv, Jet, Region, ResidualBlock, Shape, Side};
    use crate::syntax::ast;

    #[test]
    fn sample_counts_that_draw_nothing_warn() {
        let warnings = |source: &str| -> Vec<String> {
            let (problem, diags) = crate::check_source(source, std::path::Path::new("."));
            assert!(problem.is_some(), "{diags:?}");
            diags
                .iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect()
        };
        let heat = "time t in [0, 1]\nspace x in [0, 1]\nfield u\n\
                    dt(u) = dxx(u) on interior\nu = 0 on x = 0\n";
        // `boundary` feeds faces, so it is used here; `initial` is not.
        assert_eq!(
            warnings(&format!("{heat}sample boundary = 10, initial = 20\n")),
            vec!["W0505 `sample initial` has no effect"]
        );
        assert!(warnings(&format!("{heat}u = 0 on initial\nsample initial = 20\n")).is_empty());
        let ode = "time t in [0, 1]\nfield u\ndt(u) = -u on interior\nu = 1 on initial\n";
        assert_eq!(
            warnings(&format!("{ode}sample initial = 5\n")),
            vec!["W0505 `sample initial` has no effect"]
        );
        // Hard periodicity draws no pairs; soft does.
        let periodic = "space x in [0, 1]\nperiodic x\nfield u\n-dxx(u) + u = 1 on interior\n\
                        sample periodic = 30\n";
        assert_eq!(
            warnings(periodic),
            vec!["W0505 `sample periodic` has no effect"]
        );
        assert!(warnings(&format!("{periodic}model mlp(constraints = soft)\n")).is_empty());
        // (`boundary` draws nothing either: its condition is built into the ansatz.)
        assert_eq!(
            warnings("space x in [0, 1]\nfield u\n-dxx(u) = 1 on interior\nu = 0 on boundary\nsample interior = 50, boundary = 4, periodic = 3\n"),
            vec![
                "W0505 `sample boundary` has no effect",
                "W0505 `sample periodic` has no effect"
            ]
        );
        // A shape's own count: kept in the config, warned about when no equation
        // holds on its piece, an error for a shape outside the domain.
        let holes = "shape hole = disk((0, 0), 0.3)\nshape far = disk((5, 5), 1)\n\
                     space (x, y) in box([-1, 1], [-1, 1]) - hole\nfield u\n\
                     -lap(u) = 1 on interior\nu = 0 on boundary\n";
        let (problem, diags) = crate::check_source(
            &format!("{holes}dn(u) = 0 on boundary of hole where x > 0\nsample hole = 40\n"),
            std::path::Path::new("."),
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            problem.unwrap().sample.pieces,
            vec![("hole".to_string(), 40)]
        );
        assert_eq!(
            warnings(&format!("{holes}sample hole = 40\n")),
            vec!["W0505 `sample hole` has no effect"]
        );
        let (_, diags) = crate::check_source(
            &format!("{holes}sample far = 40\n"),
            std::path::Path::new("."),
        );
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["E0230"]);
    }

    #[test]
    fn burgers_linearizes_the_product_into_two_terms() {
        let p = ok(burgers());
        let b = &p.blocks[0];
        assert!(!b.linear);
        assert_eq!(b.order, 2);
        assert_eq!(b.region, Region::Interior);
        let lin = linearization(&p, 0);
        let get = |jet: &str| {
            lin.iter()
                .find(|(j, _)| j == jet)
                .map(|(_, c)| c.clone())
                .unwrap_or_else(|| panic!("no coefficient for {jet}: {lin:?}"))
        };
        assert_eq!(get("u"), "dx(u)");
        assert_eq!(get("dx(u)"), "u");
        assert_eq!(get("dt(u)"), "1");
        let c = b
            .linearization
            .iter()
            .find(|(j, _)| display_jet(&p, *j) == "dxx(u)")
            .and_then(|&(_, c)| p.exprs.as_const(c))
            .expect("constant coefficient on dxx(u)");
        assert!((c + 0.01 / std::f64::consts::PI).abs() < 1e-15, "{c}");
        assert_eq!(lin.len(), 4);
        assert_eq!(
            display_expr(&p, b.residual),
            "dt(u) + u*dx(u) - 0.003183098861837907*dxx(u)"
        );
        // Initial and face blocks are linear with coefficient 1 on u.
        assert!(p.blocks[1..].iter().all(|b| b.linear));
        assert_eq!(
            linearization(&p, 2),
            vec![("u".to_string(), "1".to_string())]
        );
        assert_eq!(
            p.blocks[2].region,
            Region::Face {
                coord: 1,
                side: Side::Lo
            }
        );
        assert_eq!(
            p.blocks[3].region,
            Region::Face {
                coord: 1,
                side: Side::Hi
            }
        );
        // Jets are shared: the value jet of u is JetId(0) everywhere.
        assert_eq!(
            p.jets[0],
            Jet {
                field: 0,
                deriv: Deriv::Partial(vec![0, 0])
            }
        );
        assert_eq!(p.jets.len(), 4);
    }

    #[test]
    fn heat_is_linear_with_constant_coefficients() {
        let p = ok(vec![
            time("t", 0.0, 1.0),
            space("x", 0.0, 1.0),
            fields(&["u"]),
            konst("kappa", "0.25"),
            equation("dt(u) - kappa*dxx(u)", "0", "interior"),
            equation("u", "sin(pi*x)", "initial"),
            soft(),
        ]);
        let b = &p.blocks[0];
        assert!(b.linear);
        assert_eq!(
            linearization(&p, 0),
            vec![
                ("dt(u)".to_string(), "1".to_string()),
                ("dxx(u)".to_string(), "-0.25".to_string())
            ]
        );
        assert_eq!(p.coords[0].kind, CoordKind::Time);
        assert_eq!(p.domain.time, Some(0));
        assert_eq!(p.domain.factors.len(), 1);
        assert_eq!(p.domain.factors[0].shape, Shape::Box(vec![(0.0, 1.0)]));
        assert_eq!(p.blocks[1].region, Region::Initial);
        // The initial block's residual keeps the coordinate: u - sin(pi*x).
        assert_eq!(
            display_expr(&p, p.blocks[1].residual),
            "u - sin(3.141592653589793*x)"
        );
    }

    #[test]
    fn nonlinear_terms_and_params() {
        let p = ok(vec![
            space("x", -1.0, 1.0),
            fields(&["u"]),
            item(ast::ItemKind::Param {
                name: ident("k"),
                init: expr("2"),
            }),
            equation("-k*dxx(u) + u^3", "cos(pi*x)", "interior"),
        ]);
        assert_eq!(p.params[0].init, 2.0);
        let b = &p.blocks[0];
        assert!(!b.linear);
        let lin = linearization(&p, 0);
        assert!(
            lin.contains(&("u".to_string(), "3*u^2".to_string())),
            "{lin:?}"
        );
        assert!(
            lin.contains(&("dxx(u)".to_string(), "-k".to_string())),
            "{lin:?}"
        );
        assert_eq!(b.param_derivatives.len(), 1);
        assert_eq!(display_expr(&p, b.param_derivatives[0].1), "-dxx(u)");
        // Only the equations on interior: no W0501.
    }

    #[test]
    fn periodic_adds_two_blocks_per_field_under_soft_constraints() {
        let p = ok(vec![
            time("t", 0.0, 1.0),
            space("x", 0.0, 6.0),
            fields(&["u", "v"]),
            item(ast::ItemKind::Periodic {
                coords: vec![ident("x")],
            }),
            equation("dt(u) + 30*dx(u)", "0", "interior"),
            equation("dt(v) - dx(u)", "0", "interior"),
            equation("u", "sin(x)", "initial"),
            item(ast::ItemKind::Model {
                value: expr("mlp(constraints = soft)"),
            }),
        ]);
        assert_eq!(p.periodic, vec![1]);
        let periodic: Vec<&ResidualBlock> = p
            .blocks
            .iter()
            .filter(|b| b.region == Region::Periodic { coord: 1 })
            .collect();
        assert_eq!(periodic.len(), 4);
        let jets: Vec<String> = periodic
            .iter()
            .map(|b| display_jet(&p, b.jets[0]))
            .collect();
        assert_eq!(jets, vec!["u", "dx(u)", "v", "dx(v)"]);
        assert!(periodic.iter().all(|b| b.linear && b.weight == 1.0));
        assert_eq!(periodic[1].label, "periodic x: dx(u)");
    }
}
