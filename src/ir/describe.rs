//! Human- and machine-readable descriptions of a lowered [`Problem`], for
//! `pdec check` and `pdec explain` (plain data: serializable, no printing).

use super::display::{display_block_expr, display_block_jet, display_expr, display_number};
use super::lower::inside_probes;
use super::symbolic::eval_at;
use super::{CoordKind, ExactSource, FieldAnsatz, Problem, Region, Sampler, Shape, Side};
use serde::Serialize;

/// What `pdec check` reports about a problem.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Each coordinate with its interval (`x in [0, 1]`).
    pub coordinates: Vec<String>,
    /// The domain, as text.
    pub domain: String,
    /// Field names.
    pub fields: Vec<String>,
    /// Trainable params with their initial values.
    pub params: Vec<String>,
    /// Data sets with their row counts, then grids with their lines.
    pub data: Vec<String>,
    /// One summary per equation.
    pub equations: Vec<EquationSummary>,
    /// Fields with an exact solution, and where it comes from.
    pub exact: Vec<String>,
    /// The ansatz, as text.
    pub model: String,
    /// Per field built with hard constraints: `u = A + φ·N_u` and the
    /// conditions it satisfies exactly ([`ansatz`]).
    pub ansatz: Vec<String>,
    /// Conditions `u = g` kept as penalty blocks under hard constraints, with
    /// the reason.
    pub soft: Vec<String>,
    /// What the networks see, as text: coordinates, the harmonics of periodic
    /// coordinates, Fourier features ([`inputs`]).
    pub inputs: Vec<String>,
    /// Number of trainable scalars: network weights and biases plus params.
    pub n_params: usize,
    /// The sampling settings, as text.
    pub sample: String,
    /// The solver settings, as text.
    pub solve: String,
}

#[derive(Debug, Clone, Serialize)]
/// One equation in `pdec check`'s summary.
pub struct EquationSummary {
    /// The equation's source text.
    pub equation: String,
    /// Where it holds.
    pub region: String,
    /// Highest derivative order.
    pub order: usize,
    /// Whether the residual is affine in the jets.
    pub linear: bool,
    /// Its weight in the loss.
    pub weight: f64,
    /// The jets it uses, as text.
    pub jets: Vec<String>,
}

/// One residual block as `pdec explain` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BlockDescription {
    /// The equation's source text.
    pub equation: String,
    /// Where it holds.
    pub region: String,
    /// Its weight in the loss.
    pub weight: f64,
    /// The residual `lhs − rhs`, simplified, as text.
    pub residual: String,
    /// Whether the residual is affine in the jets.
    pub linear: bool,
    /// Highest derivative order.
    pub order: usize,
    /// The jets it uses, as text.
    pub jets: Vec<String>,
    /// `∂residual/∂jet` for each jet used.
    pub linearization: Vec<Term>,
    /// `∂residual/∂param` for each param used.
    pub param_derivatives: Vec<Term>,
}

/// `∂F/∂jet = coefficient` (or `∂F/∂param`).
#[derive(Debug, Clone, Serialize)]
pub struct Term {
    /// The jet or param, as text.
    pub jet: String,
    /// Its coefficient, as text.
    pub coefficient: String,
}

/// Number of network weights and biases of the model, plus the params.
pub fn n_params(problem: &Problem) -> usize {
    let net = |n_in: usize, n_out: usize| {
        let mut widths = vec![n_in];
        widths.extend(&problem.model.layers);
        widths.push(n_out);
        widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum::<usize>()
    };
    // Fields of all coordinates (shared or not); each field of some
    // coordinates only has its own network.
    let n_full = problem.fields.iter().filter(|f| f.coords.is_none()).count();
    let full = if n_full == 0 {
        0
    } else if problem.model.shared {
        net(problem.n_network_inputs(), n_full)
    } else {
        n_full * net(problem.n_network_inputs(), 1)
    };
    let partial: usize = (0..problem.fields.len())
        .filter(|&k| problem.fields[k].coords.is_some())
        .map(|k| net(problem.field_network_inputs(k), 1))
        .sum();
    full + partial + problem.params.len()
}

/// The summary `pdec check` prints.
pub fn summary(problem: &Problem) -> Summary {
    let coordinates = problem
        .coords
        .iter()
        .map(|c| {
            let kind = match c.kind {
                CoordKind::Space => "",
                CoordKind::Time => " (time)",
            };
            format!(
                "{} ∈ [{}, {}]{}",
                c.name,
                display_number(c.lo),
                display_number(c.hi),
                kind
            )
        })
        .collect();
    let fields = (0..problem.fields.len())
        .map(|k| problem.field_label(k))
        .collect();
    let params = problem
        .params
        .iter()
        .map(|p| format!("{} (initial {})", p.name, display_number(p.init)))
        .collect();
    let data = problem
        .data
        .iter()
        .map(|d| {
            format!(
                "{} from {} ({} rows; columns {})",
                d.name,
                d.path.display(),
                d.n_rows(),
                d.columns.join(", ")
            )
        })
        .chain(problem.grids.iter().map(|g| {
            let lines: Vec<String> = g
                .axes
                .iter()
                .zip(g.knots())
                .map(|(&c, k)| format!("{} {}", k.len(), problem.coords[c].name))
                .collect();
            format!(
                "{} from {} (grid of {} lines, cubic spline; columns {})",
                g.name,
                g.path.display(),
                lines.join(" × "),
                g.columns.join(", ")
            )
        }))
        .collect();
    let equations = problem
        .blocks
        .iter()
        .map(|b| EquationSummary {
            equation: b.label.clone(),
            region: region(problem, &b.region),
            order: b.order,
            linear: b.linear,
            weight: b.weight,
            jets: b
                .jets
                .iter()
                .map(|&j| display_block_jet(problem, j))
                .collect(),
        })
        .collect();
    let exact = problem
        .exact
        .iter()
        .map(|e| {
            let field = &problem.fields[e.field].name;
            match &e.source {
                ExactSource::Expr(id) => format!("{} = {}", field, display_expr(problem, *id)),
                ExactSource::Data { set, .. } => format!(
                    "{} from {} ({} rows)",
                    field,
                    set.path.display(),
                    set.n_rows()
                ),
            }
        })
        .collect();
    let n_params = n_params(problem);
    let n_full = problem.fields.iter().filter(|f| f.coords.is_none()).count();
    let partial: Vec<usize> = (0..problem.fields.len())
        .filter(|&k| problem.fields[k].coords.is_some())
        .collect();
    let widths_of = |n_in: usize, n_out: usize| {
        let mut widths = vec![n_in.to_string()];
        widths.extend(problem.model.layers.iter().map(usize::to_string));
        widths.push(n_out.to_string());
        format!("[{}]", widths.join(", "))
    };
    let mut nets = Vec::new();
    if n_full > 0 {
        nets.push(widths_of(
            problem.n_network_inputs(),
            if problem.model.shared { n_full } else { 1 },
        ));
    }
    for &k in &partial {
        nets.push(format!(
            "{} {}",
            problem.field_label(k),
            widths_of(problem.field_network_inputs(k), 1)
        ));
    }
    let n_networks = partial.len()
        + if problem.model.shared {
            usize::from(n_full > 0)
        } else {
            n_full
        };
    let model = format!(
        "mlp {}, {}, {}{} trainable scalars",
        nets.join(", "),
        serde_plain(&problem.model.activation),
        if n_networks <= 1 {
            String::new()
        } else if problem.model.shared || !partial.is_empty() {
            format!("{n_networks} networks, ")
        } else {
            format!("one network per field ({}), ", problem.fields.len())
        },
        n_params
    );
    Summary {
        coordinates,
        domain: domain(problem),
        fields,
        params,
        data,
        equations,
        exact,
        model,
        ansatz: ansatz(problem),
        soft: problem
            .soft_conditions
            .iter()
            .map(|c| format!("{}: {}", c.label, c.reason))
            .collect(),
        inputs: inputs(problem),
        n_params,
        sample: sample(problem),
        solve: solve(problem),
    }
}

/// The fields built with hard constraints, one line each:
/// `u = A + φ·N_u (exact: u = 0 on boundary; u = sin(pi*x) on initial)`, with a
/// remark where `A` is the field's exact solution ([`offset_is_exact`]).
pub fn ansatz(problem: &Problem) -> Vec<String> {
    problem
        .ansatz
        .iter()
        .map(|a| {
            let name = &problem.fields[a.field].name;
            let offset = display_expr(problem, a.offset);
            let factor = display_expr(problem, a.factor);
            let sum = if offset == "0" {
                format!("{factor}·N_{name}")
            } else {
                format!("{offset} + {factor}·N_{name}")
            };
            let line = format!("{name} = {sum} (exact: {})", a.conditions.join("; "));
            if offset_is_exact(problem, a) {
                format!(
                    "{line}; the offset is `exact {name}`, so the network only has to \
                     learn N_{name} = 0"
                )
            } else {
                line
            }
        })
        .collect()
}

/// Whether the offset `A` of a built-in condition is the field's `exact` formula (the
/// two agree to 1e-12 of its size at 64 points spread over the coordinates' box,
/// `inside_probes`). The boundary data are then the solution itself, as in
/// manufactured problems, and the network only has to learn `N = 0`: a run measures
/// little of the solver (docs/language.md, *Hard constraints*). Params, data and grids
/// in either formula make it unknown here: false.
pub fn offset_is_exact(problem: &Problem, ansatz: &FieldAnsatz) -> bool {
    let Some(ExactSource::Expr(formula)) = problem
        .exact
        .iter()
        .find(|e| e.field == ansatz.field)
        .map(|e| &e.source)
    else {
        return false;
    };
    let mut size = 0.0_f64;
    let mut gap = 0.0_f64;
    for point in inside_probes(&problem.coords) {
        let exact = eval_at(&problem.exprs, *formula, &point);
        let offset = eval_at(&problem.exprs, ansatz.offset, &point);
        if !(exact.is_finite() && offset.is_finite()) {
            return false;
        }
        size = size.max(exact.abs());
        gap = gap.max((exact - offset).abs());
    }
    gap <= 1e-12 * (1.0 + size)
}

/// What the networks see, one entry per coordinate or group of features:
/// `t`, `cos(x), sin(x)` (a periodic coordinate under hard constraints),
/// `cos(k*x), sin(k*x), k = 1..3`, the Fourier features.
pub fn inputs(problem: &Problem) -> Vec<String> {
    let name = |i: usize| problem.coords[i].name.as_str();
    let mut out: Vec<String> = problem
        .plain_inputs()
        .into_iter()
        .map(|i| name(i).to_string())
        .collect();
    let k = problem.model.harmonics;
    for &c in problem.embedded_periodic() {
        let coord = &problem.coords[c];
        let omega = 2.0 * std::f64::consts::PI / (coord.hi - coord.lo);
        let shifted = if coord.lo == 0.0 {
            coord.name.clone()
        } else if coord.lo < 0.0 {
            format!("({} + {})", coord.name, display_number(-coord.lo))
        } else {
            format!("({} - {})", coord.name, display_number(coord.lo))
        };
        let arg = if omega == 1.0 {
            shifted
        } else {
            format!("{}*{shifted}", display_number(omega))
        };
        out.push(if k == 1 {
            format!("cos({arg}), sin({arg})")
        } else {
            format!("cos(k*{arg}), sin(k*{arg}), k = 1..{k}")
        });
    }
    if let Some(f) = problem.model.features {
        let over: Vec<&str> = problem.fourier_inputs().into_iter().map(name).collect();
        out.push(format!(
            "cos(2π B z), sin(2π B z) with z = ({}), B {} × {} drawn from N(0, {}²) (seed {})",
            over.join(", "),
            f.count,
            over.len(),
            display_number(f.sigma),
            problem.sample.seed
        ));
    }
    out
}

/// True when the networks see anything but the coordinates themselves.
pub fn has_embedding(problem: &Problem) -> bool {
    problem.model.features.is_some() || !problem.embedded_periodic().is_empty()
}

/// The per-equation description `pdec explain` prints.
pub fn blocks(problem: &Problem) -> Vec<BlockDescription> {
    problem
        .blocks
        .iter()
        .map(|b| BlockDescription {
            equation: b.label.clone(),
            region: region(problem, &b.region),
            weight: b.weight,
            residual: display_block_expr(problem, b.residual),
            linear: b.linear,
            order: b.order,
            jets: b
                .jets
                .iter()
                .map(|&j| display_block_jet(problem, j))
                .collect(),
            linearization: b
                .linearization
                .iter()
                .map(|&(jet, coefficient)| Term {
                    jet: display_block_jet(problem, jet),
                    coefficient: display_block_expr(problem, coefficient),
                })
                .collect(),
            param_derivatives: b
                .param_derivatives
                .iter()
                .map(|&(param, coefficient)| Term {
                    jet: problem.params[param].name.clone(),
                    coefficient: display_block_expr(problem, coefficient),
                })
                .collect(),
        })
        .collect()
}

/// A region in words.
pub fn region(problem: &Problem, region: &Region) -> String {
    let coord = |i: usize| problem.coords[i].name.as_str();
    match region {
        Region::Interior => "interior".to_string(),
        Region::Boundary => "boundary".to_string(),
        Region::Piece { name, .. } => format!("boundary of {name}"),
        Region::Where { base, text, .. } => format!("{} where {text}", self::region(problem, base)),
        Region::Initial => match problem.domain.time {
            Some(t) => format!(
                "initial ({} = {})",
                coord(t),
                display_number(problem.coords[t].lo)
            ),
            None => "initial".to_string(),
        },
        Region::Face { coord: c, side } => face(&problem.coords, *c, *side),
        Region::Data { set } => format!(
            "data `{}` ({} rows)",
            problem.data[*set].name,
            problem.data[*set].n_rows()
        ),
        Region::Periodic { coord: c } => format!(
            "periodic pairs {} = {} ↔ {} = {}",
            coord(*c),
            display_number(problem.coords[*c].lo),
            coord(*c),
            display_number(problem.coords[*c].hi)
        ),
    }
}

/// A face in words: `x = 0`.
pub fn face(coords: &[super::Coord], coord: usize, side: Side) -> String {
    let value = match side {
        Side::Lo => coords[coord].lo,
        Side::Hi => coords[coord].hi,
    };
    format!("{} = {}", coords[coord].name, display_number(value))
}

fn domain(problem: &Problem) -> String {
    let mut parts: Vec<String> = problem
        .domain
        .factors
        .iter()
        .map(|f| {
            let names: Vec<&str> = f
                .coords
                .iter()
                .map(|&i| problem.coords[i].name.as_str())
                .collect();
            let lhs = if names.len() == 1 {
                names[0].to_string()
            } else {
                format!("({})", names.join(", "))
            };
            format!("{} ∈ {}", lhs, shape_text(&f.shape))
        })
        .collect();
    if let Some(t) = problem.domain.time {
        let c = &problem.coords[t];
        parts.push(format!(
            "{} ∈ [{}, {}]",
            c.name,
            display_number(c.lo),
            display_number(c.hi)
        ));
    }
    let mut text = parts.join(" × ");
    if !problem.periodic.is_empty() {
        let names: Vec<&str> = problem
            .periodic
            .iter()
            .map(|&i| problem.coords[i].name.as_str())
            .collect();
        text.push_str(&format!(", periodic in {}", names.join(", ")));
    }
    text
}

/// A shape as written: `box([-1, 1], [-1, 1])`, `(box(...) - disk((0, 0), 0.3))`.
pub fn shape_text(s: &Shape) -> String {
    match s {
        Shape::Box(sides) if sides.len() == 1 => {
            format!(
                "[{}, {}]",
                display_number(sides[0].0),
                display_number(sides[0].1)
            )
        }
        Shape::Box(sides) => format!(
            "box({})",
            sides
                .iter()
                .map(|(a, b)| format!("[{}, {}]", display_number(*a), display_number(*b)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Shape::Ball { center, radius } => format!(
            "{}(({}), {})",
            if center.len() == 2 { "disk" } else { "ball" },
            center
                .iter()
                .map(|c| display_number(*c))
                .collect::<Vec<_>>()
                .join(", "),
            display_number(*radius)
        ),
        Shape::Union(a, b) => format!("({} + {})", shape_text(a), shape_text(b)),
        Shape::Difference(a, b) => format!("({} - {})", shape_text(a), shape_text(b)),
        Shape::Intersection(a, b) => format!("({} & {})", shape_text(a), shape_text(b)),
    }
}

/// The sample counts of the regions some equation uses (nothing is drawn for the
/// others), then the sampler settings. `boundary` is listed also when a face
/// without a count of its own takes its share of it.
fn sample(problem: &Problem) -> String {
    let s = &problem.sample;
    let uses = |wanted: fn(&Region) -> bool| problem.blocks.iter().any(|b| wanted(&b.region));
    // A face with no free coordinate (one coordinate in all) is one point.
    let face_uses_boundary_share = problem.blocks.iter().any(|b| match b.region {
        Region::Face { coord, side } => {
            problem.coords.len() > 1 && !s.faces.iter().any(|&(c, f, _)| c == coord && f == side)
        }
        _ => false,
    });
    let mut parts = Vec::new();
    if uses(|r| matches!(r, Region::Interior)) {
        parts.push(format!("interior {}", s.interior));
    }
    if uses(|r| {
        matches!(
            r,
            Region::Boundary | Region::Piece { .. } | Region::Where { .. }
        )
    }) || face_uses_boundary_share
    {
        parts.push(format!("boundary {}", s.boundary));
    }
    if uses(|r| matches!(r, Region::Initial)) {
        parts.push(format!("initial {}", problem.initial_count()));
    }
    for &(c, side, n) in &s.faces {
        let used = problem
            .blocks
            .iter()
            .any(|b| b.region == Region::Face { coord: c, side });
        if !used {
            continue;
        }
        let value = match side {
            Side::Lo => problem.coords[c].lo,
            Side::Hi => problem.coords[c].hi,
        };
        parts.push(format!(
            "{} = {}: {}",
            problem.coords[c].name,
            display_number(value),
            n
        ));
    }
    // Pairs are drawn only for the penalty blocks of soft constraints.
    if problem
        .blocks
        .iter()
        .any(|b| matches!(b.region, Region::Periodic { .. }))
    {
        parts.push(format!("periodic {}", s.periodic));
    }
    parts.push(format!(
        "sampler {}",
        match s.sampler {
            Sampler::Uniform => "uniform",
            Sampler::Halton => "halton",
            Sampler::Grid => "grid",
        }
    ));
    parts.push(format!("seed {}", s.seed));
    if let Some(k) = s.resample {
        parts.push(format!("resample every {k}"));
    }
    if let Some(a) = s.adaptive {
        parts.push(match a.growth {
            None => format!("adaptive rad({}, {}) every {}", a.k, a.c, a.every),
            Some(g) => format!(
                "adaptive rar({}, {}, {}, {}) every {}",
                a.k, a.c, g.add, g.limit, a.every
            ),
        });
    }
    parts.push(format!("test {}", s.test));
    parts.join(", ")
}

fn solve(problem: &Problem) -> String {
    solve_line(problem, None)
}

/// The `solve` line of the summary. A file that names no optimizer (nor options) gets
/// it by size at run time: `chosen` is that choice where the caller has made it
/// ([`crate::run::file_optimizer`]), else both candidates are named.
pub fn solve_line(problem: &Problem, chosen: Option<crate::solve::OptimizerKind>) -> String {
    let s = &problem.solve;
    let optimizer = match (s.optimizer, chosen) {
        (Some(kind), _) => serde_plain(&kind),
        (None, _) if !s.options.is_empty() => crate::solve::DEFAULT_OPTIMIZER.name().to_string(),
        (None, Some(kind)) if problem.sample.adaptive.is_some() => {
            format!("{} (for adaptive sampling)", kind.name())
        }
        (None, Some(kind)) => format!("{} (by size)", kind.name()),
        (None, None) => format!(
            "{} or {} by sampling and size",
            crate::solve::DEFAULT_OPTIMIZER.name(),
            crate::solve::OptimizerKind::Gn.name()
        ),
    };
    let mut parts = vec![optimizer, format!("{} iterations", s.iterations)];
    if let Some(tol) = s.tol {
        parts.push(format!("tol {tol:e}"));
    }
    if let Some(patience) = s.patience {
        parts.push(format!("patience {patience}"));
    }
    if let Some(min_improvement) = s.min_improvement {
        parts.push(format!(
            "min_improvement {}",
            display_number(min_improvement)
        ));
    }
    if let Some(epsilon) = s.causal {
        parts.push(format!("causal weighting ε = {}", display_number(epsilon)));
    }
    for (key, value) in &s.options {
        let value = match value {
            super::ConfigScalar::Number(v) => display_number(*v),
            super::ConfigScalar::Word(w) => w.clone(),
        };
        parts.push(format!("{key} {value}"));
    }
    parts.join(", ")
}

/// The lowercase serde name of a unit enum variant.
fn serde_plain<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
