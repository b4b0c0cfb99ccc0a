//! Grid data (`data k from "k.csv" as grid`): loading the file as a grid, the
//! check that it covers the domain, and its uses in expressions (`k`, `k.a`,
//! `k(x, y)` and their derivatives, which become [`Node::Grid`] leaves).

use super::lowerer::{Ctx, Def, Lowerer};
use crate::diagnostic::Diagnostic;
use crate::ir::data::read_table;
use crate::ir::expr::{ExprId, GridTermId, Node};
use crate::ir::grid::{grid_values, GridData, GridShapeError, GridTerm, GridValues, TensorSpline};
use crate::ir::names::did_you_mean;
use crate::span::Span;
use crate::syntax::ast;

/// The help of a table that is not a full grid.
const FULL_GRID: &str =
    "every combination of the coordinates' values must appear in exactly one row";

/// Most spline coefficients one grid column may need (`Π 4·(lines − 1)`, 128 MiB).
const MAX_GRID_COEFFICIENTS: usize = 1 << 24;

impl Lowerer<'_> {
    /// Reads a grid file: the columns named like coordinates are its axes, the
    /// others its values; the rows must be every point of the grid once.
    pub(super) fn load_grid(
        &mut self,
        name: &str,
        path: &ast::StrLit,
        kind: &ast::Ident,
    ) -> Option<GridData> {
        if kind.name != "grid" {
            self.error(
                Diagnostic::error(
                    "E0309",
                    format!("unknown kind of data `{}`", kind.name),
                )
                .with_label(kind.span, "not a kind of data")
                .with_help(
                    "`as grid` reads values on a grid, usable as a function of the coordinates; \
                     without `as`, the file holds observations",
                ),
            );
            return None;
        }
        let shown = &path.value;
        let resolved = self.base_dir.join(shown);
        let table = match read_table(&resolved, shown, path.span) {
            Ok(t) => t,
            Err(d) => {
                self.error(d);
                return None;
            }
        };
        let coord_of = |column: &str| self.coords.iter().position(|c| c.name == column);
        let (mut axis_columns, mut axes, mut value_columns) = (Vec::new(), Vec::new(), Vec::new());
        for (i, column) in table.columns.iter().enumerate() {
            match coord_of(column) {
                Some(c) => {
                    axis_columns.push(i);
                    axes.push(c);
                }
                None => value_columns.push(i),
            }
        }
        let header = table.columns.join(",");
        let coords: Vec<&str> = self.coords.iter().map(|c| c.name.as_str()).collect();
        if axes.is_empty() || value_columns.is_empty() {
            let what = if axes.is_empty() {
                format!("no column named like a coordinate ({})", coords.join(", "))
            } else {
                "no value column".to_string()
            };
            let mut d = Diagnostic::error("E0310", format!("grid file `{shown}` has {what}"))
                .with_label(path.span, "this file")
                .with_help(format!(
                    "its header is `{header}`; a grid file has one column per coordinate the \
                 values vary with, then the value columns (e.g. `x,y,k`)"
                ));
            if axes.is_empty() {
                let close = table
                    .columns
                    .iter()
                    .find_map(|c| did_you_mean(c, coords.iter().copied()));
                if let Some(help) = close {
                    d = d.with_help(format!("{help} (the header is `{header}`)"));
                }
            }
            self.error(d);
            return None;
        }
        let GridValues { knots, values } = match grid_values(
            &table.values,
            &axis_columns,
            &value_columns,
        ) {
            Ok(grid) => grid,
            Err(err) => {
                let axis_name = |axis: usize| table.columns[axis_columns[axis]].clone();
                let (message, help) = match err {
                    GridShapeError::OneLine { axis, value } => (
                        format!(
                            "grid file `{shown}` has one value of `{}` ({value}); a grid needs at least two lines per coordinate",
                            axis_name(axis)
                        ),
                        format!(
                            "drop the column `{}` if the values do not vary with it",
                            axis_name(axis)
                        ),
                    ),
                    GridShapeError::RowCount { lines, rows } => {
                        let counts: Vec<String> = lines
                            .iter()
                            .enumerate()
                            .map(|(a, n)| format!("{n} values of `{}`", axis_name(a)))
                            .collect();
                        (
                            format!(
                                "grid file `{shown}` is not a full grid: {} make {} points, but it has {rows} rows",
                                counts.join(" and "),
                                lines.iter().product::<usize>()
                            ),
                            format!("{FULL_GRID} (write each grid line's coordinate the same way in every row)"),
                        )
                    }
                    GridShapeError::Repeated { point, rows } => {
                        let at: Vec<String> = point
                            .iter()
                            .enumerate()
                            .map(|(a, v)| format!("{} = {v}", axis_name(a)))
                            .collect();
                        (
                            format!(
                                "grid file `{shown}` has the point {} twice (data rows {} and {})",
                                at.join(", "),
                                rows.0 + 1,
                                rows.1 + 1
                            ),
                            FULL_GRID.to_string(),
                        )
                    }
                };
                self.error(
                    Diagnostic::error("E0311", message)
                        .with_label(path.span, "this file")
                        .with_help(help),
                );
                return None;
            }
        };
        let coefficients = knots
            .iter()
            .try_fold(1usize, |acc, k| acc.checked_mul(4 * (k.len() - 1)));
        if coefficients.is_none_or(|c| c > MAX_GRID_COEFFICIENTS) {
            let lines: Vec<String> = knots.iter().map(|k| k.len().to_string()).collect();
            self.error(
                Diagnostic::error(
                    "E0311",
                    format!(
                        "grid file `{shown}` is too large: {} grid lines need more than {MAX_GRID_COEFFICIENTS} spline coefficients per column",
                        lines.join(" × ")
                    ),
                )
                .with_label(path.span, "this file")
                .with_help("use a coarser grid"),
            );
            return None;
        }
        let splines = values
            .iter()
            .map(|v| TensorSpline::new(knots.clone(), v))
            .collect();
        Some(GridData {
            name: name.to_string(),
            path: resolved,
            axes,
            columns: value_columns
                .iter()
                .map(|&c| table.columns[c].clone())
                .collect(),
            knots,
            values,
            splines,
            span: path.span,
        })
    }

    /// Every grid must span its coordinates' ranges: the spline is meant for
    /// interpolation, not extrapolation.
    pub(super) fn grid_coverage(&mut self) {
        let mut errors = Vec::new();
        for grid in self.grids.iter().flatten() {
            for (axis, &c) in grid.axes.iter().enumerate() {
                if !self.coord_info[c].ok {
                    continue;
                }
                let coord = &self.coords[c];
                let lines = &grid.knots()[axis];
                let (first, last) = (lines[0], lines[lines.len() - 1]);
                let tolerance = 1e-9 * (coord.hi - coord.lo).abs().max(1.0);
                if first > coord.lo + tolerance || last < coord.hi - tolerance {
                    errors.push(
                        Diagnostic::error(
                            "E0312",
                            format!(
                                "the grid `{}` spans {} ∈ [{first}, {last}], but the domain has {} ∈ [{}, {}]",
                                grid.name, coord.name, coord.name, coord.lo, coord.hi
                            ),
                        )
                        .with_label(grid.span, "this file")
                        .with_label(coord.span, "declared here")
                        .with_help(
                            "a grid is interpolated, not extrapolated: its lines must reach the ends \
                             of the coordinate's range (of its shape's bounding box)",
                        ),
                    );
                }
            }
        }
        self.diags.extend(errors);
    }

    /// The node of `D^α k.column`, added once; `alpha` is over all coordinates.
    /// A derivative in a coordinate that is not an axis of the grid is 0.
    pub(super) fn grid_term(&mut self, grid: usize, column: usize, alpha: Vec<u8>) -> ExprId {
        let axes = match &self.grids[grid] {
            Some(g) => &g.axes,
            None => return self.arena.constant(0.0),
        };
        if alpha
            .iter()
            .enumerate()
            .any(|(c, &order)| order > 0 && !axes.contains(&c))
        {
            return self.arena.constant(0.0);
        }
        let term = GridTerm {
            grid,
            column,
            alpha,
        };
        let id = match self.grid_term_index.get(&term) {
            Some(&id) => id,
            None => {
                let id = GridTermId(self.grid_terms.len() as u32);
                self.grid_terms.push(term.clone());
                self.grid_term_index.insert(term, id);
                id
            }
        };
        self.arena.intern(Node::Grid(id))
    }

    /// Which column a use of grid `grid` names: `column` (`k.a`), or the only
    /// one for a bare `k`. `None` when it is wrong (reported) or the grid did not
    /// load (already reported).
    pub(super) fn grid_column(
        &mut self,
        grid: usize,
        name: &str,
        column: Option<&ast::Ident>,
        span: Span,
        ctx: Ctx,
    ) -> Option<usize> {
        if matches!(ctx, Ctx::Const(_) | Ctx::Exact | Ctx::Condition) {
            let what = match column {
                Some(c) => format!("the grid column `{name}.{}`", c.name),
                None => format!("the grid `{name}`"),
            };
            self.not_allowed(ctx, what, span);
            return None;
        }
        let columns = self.grids[grid].as_ref()?.columns.clone();
        match column {
            None if columns.len() == 1 => Some(0),
            None => {
                self.error(
                    Diagnostic::error(
                        "E0313",
                        format!(
                            "the grid `{name}` has {} value columns; name one",
                            columns.len()
                        ),
                    )
                    .with_label(span, "which column?")
                    .with_help(format!("write `{name}.{}`", columns[0])),
                );
                None
            }
            Some(member) => match columns.iter().position(|c| *c == member.name) {
                Some(i) => Some(i),
                None => {
                    let mut d = Diagnostic::error(
                        "E0211",
                        format!("the grid `{name}` has no column `{}`", member.name),
                    )
                    .with_label(member.span, "no such column");
                    d = match did_you_mean(&member.name, columns.iter().map(String::as_str)) {
                        Some(h) => d.with_help(h),
                        None => {
                            d.with_help(format!("its value columns are {}", columns.join(", ")))
                        }
                    };
                    self.error(d);
                    None
                }
            },
        }
    }

    /// `k` or `k.a` as a value.
    pub(super) fn grid_value(
        &mut self,
        grid: usize,
        name: &str,
        column: Option<&ast::Ident>,
        span: Span,
        ctx: Ctx,
    ) -> Option<ExprId> {
        let column = self.grid_column(grid, name, column, span, ctx)?;
        let zero = vec![0; self.coords.len()];
        Some(self.grid_term(grid, column, zero))
    }

    /// `k(x, y)`: the arguments must be the grid's coordinates, in its file's
    /// column order (the call form only makes the dependence visible).
    pub(super) fn grid_call(
        &mut self,
        grid: usize,
        func: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        ctx: Ctx,
    ) -> Option<ExprId> {
        let axes = self.grids[grid].as_ref()?.axes.clone();
        let names: Vec<String> = axes.iter().map(|&c| self.coords[c].name.clone()).collect();
        let matches = args.len() == axes.len()
            && args.iter().zip(&axes).all(|(arg, &c)| {
                arg.name.is_none()
                    && matches!(&arg.value.kind, ast::ExprKind::Name(n)
                        if self.names.get(n).map(|b| b.def) == Some(Def::Coord(c)))
            });
        if !matches {
            let at = match (args.first(), args.last()) {
                (Some(first), Some(last)) => first.value.span.to(last.value.span),
                _ => span,
            };
            self.error(
                Diagnostic::error(
                    "E0313",
                    format!(
                        "`{}` is a grid over ({}); call it with exactly those coordinates",
                        func.name,
                        names.join(", ")
                    ),
                )
                .with_label(at, "not the grid's coordinates")
                .with_help(format!(
                    "write `{}({})` or just `{}`; a grid is evaluated at the point itself, so \
                     other arguments (shifted or scaled coordinates) are not supported",
                    func.name,
                    names.join(", "),
                    func.name
                )),
            );
            return None;
        }
        self.grid_value(grid, &func.name, None, span, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::display::display_expr;
    use crate::ir::Problem;

    /// Lowers `source` next to a grid file `k.csv` with `text`.
    fn lower(source: &str, text: &str) -> (Option<Problem>, Vec<&'static str>) {
        let dir = std::env::temp_dir().join(format!(
            "pdec-ir-grid-{}-{:x}",
            std::process::id(),
            text.len() * 31 + source.len()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("k.csv"), text).expect("write");
        let (problem, diags) = crate::check_source(source, &dir);
        (problem, diags.iter().map(|d| d.code).collect())
    }

    /// k(x, y) = 1 + x + 2y + xy on the 4 × 3 grid x = 0, 1/3, 2/3, 1 and y = 0, 1/2, 1,
    /// given in a scrambled row order; a second column a = x³.
    fn grid_text() -> String {
        let mut rows = Vec::new();
        for j in [2, 0, 1] {
            for i in [1, 3, 0, 2] {
                let (x, y) = (i as f64 / 3.0, j as f64 / 2.0);
                rows.push(format!(
                    "{y},{x},{},{}",
                    1.0 + x + 2.0 * y + x * y,
                    x * x * x
                ));
            }
        }
        format!("y,x,k,a\n{}\n", rows.join("\n"))
    }

    const HEAD: &str = "space x in [0, 1]\nspace y in [0, 1]\ntime t in [0, 1]\nfield u\n\
                        data g from \"k.csv\" as grid\n";

    #[test]
    fn grid_columns_and_their_derivatives_lower_to_grid_leaves() {
        let source = format!(
            "{HEAD}dt(u) - g.k*lap(u) - dx(g.k)*dx(u) - d(g.a, x, x) = lap(g.k) + dt(g.k)  on interior\n\
             u = 0 on boundary\nu = 0 on initial\nmodel mlp(constraints = soft)\n"
        );
        let (problem, codes) = lower(&source, &grid_text());
        assert!(codes.is_empty(), "{codes:?}");
        let p = problem.expect("lowers");
        // Axes in the file's column order: y, then x.
        assert_eq!(p.grids[0].axes, vec![1, 0]);
        assert_eq!(p.grids[0].columns, vec!["k", "a"]);
        assert_eq!(p.grids[0].knots()[0], vec![0.0, 0.5, 1.0]);
        // `dt(g.k)` is 0 (no t axis) and `lap(g.k)` the sum of the second derivatives.
        assert_eq!(
            display_expr(&p, p.blocks[0].residual),
            "dt(u) - g.k*lap(u) - dx(g.k)*dx(u) - dxx(g.a) - (dxx(g.k) + dyy(g.k))"
        );
        // The values: k is bilinear, a = x³ cubic in x, so the spline is exact.
        let at = |term: usize, x: f64, y: f64| {
            p.eval_grid(crate::ir::GridTermId(term as u32), &[x, y, 0.3])
        };
        let id = |display: &str| {
            (0..p.grid_terms.len())
                .find(|&i| {
                    crate::ir::display::display_grid_term(&p, crate::ir::GridTermId(i as u32))
                        == display
                })
                .unwrap_or_else(|| panic!("no term {display}"))
        };
        let (x, y) = (0.37, 0.81);
        assert!((at(id("g.k"), x, y) - (1.0 + x + 2.0 * y + x * y)).abs() < 1e-13);
        assert!((at(id("dx(g.k)"), x, y) - (1.0 + y)).abs() < 1e-13);
        assert!((at(id("dxx(g.a)"), x, y) - 6.0 * x).abs() < 1e-12);
        assert!(at(id("dyy(g.k)"), x, y).abs() < 1e-12);
    }

    #[test]
    fn a_single_column_grid_is_its_name_and_a_call_of_its_coordinates() {
        let text = "x,k\n0,1\n0.5,2\n1,4\n";
        let source = "space x in [0, 1]\nfield u\ndata k from \"k.csv\" as grid\n\
                      -dxx(u) = k + k(x) + dx(k) on interior\nu = dn(k) on boundary\n";
        let (problem, codes) = lower(source, text);
        assert!(codes.is_empty(), "{codes:?}");
        let p = problem.expect("lowers");
        assert_eq!(
            display_expr(&p, p.blocks[0].residual),
            "-dxx(u) - (2*k + dx(k))"
        );
        assert_eq!(display_expr(&p, p.blocks[1].residual), "u - n_x*dx(k)");
    }

    #[test]
    fn misuses_are_reported() {
        let text = grid_text();
        let case = |extra: &str| lower(&format!("{HEAD}{extra}\nu = 0 on boundary\n"), &text).1;
        // Two value columns: the bare name is ambiguous.
        assert_eq!(case("dt(u) = g on interior"), vec!["E0313"]);
        // The call form takes the grid's coordinates in the file's order.
        assert_eq!(case("dt(u) = g(x, y) on interior"), vec!["E0313"]);
        assert_eq!(case("dt(u) = g.z on interior"), vec!["E0211"]);
        assert_eq!(case("dt(u) = 0 on interior\nexact u = g.k"), vec!["E0213"]);
        assert_eq!(case("const c = g.k\ndt(u) = c on interior"), vec!["E0204"]);
        // A `where` condition picks points before training: coordinates only.
        assert_eq!(
            case("dt(u) = 0 on interior\nu = 1 on boundary where g.k > 2"),
            vec!["E0240"]
        );
        // A grid is not a region.
        assert_eq!(case("dt(u) = 0 on interior\nu = 1 on g"), vec!["E0105"]);
        // The grid must cover the domain.
        let short = "x,k\n0,1\n0.5,2\n0.9,4\n";
        let (_, codes) = lower(
            "space x in [0, 1]\nfield u\ndata k from \"k.csv\" as grid\n-dxx(u) = k on interior\n",
            short,
        );
        assert_eq!(codes, vec!["E0312"]);
    }
}
