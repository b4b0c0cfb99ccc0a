//! The short texts the language service shows for keywords, builtins, regions and
//! configuration keys (what `docs/language.md` says about each, in one line).

/// Statement keywords with the form of their statement.
pub const STATEMENT_KEYWORDS: [(&str, &str); 13] = [
    ("space", "`space x in [a, b]` or `space (x, y) in disk((0, 0), 1)`: spatial coordinates and their domain"),
    ("time", "`time t in [t0, t1]`: the time coordinate (at most one)"),
    ("field", "`field u` or `field u, v`: unknown scalar fields, functions of all coordinates"),
    ("const", "`const name = value`: a named constant, folded at compile time"),
    ("param", "`param name = initial value`: a trainable scalar (inverse problems)"),
    ("let", "`let name = expression`: a named expression, inlined where it is used"),
    ("data", "`data name from \"file.csv\"`: observations (the header names coordinates and fields); `... as grid`: coefficients known on a grid, usable as functions"),
    ("periodic", "`periodic x`: opposite faces of `x` are identified (values and first derivatives)"),
    ("exact", "`exact u = expression` or `exact u from \"ref.csv\"`: the known solution, for error reports"),
    ("shape", "`shape hole = disk((0, 0), 0.3)`: a named shape, for `space` lines and `on boundary of hole`"),
    ("model", "`model mlp(layers = [20, 20], activation = tanh)`: the neural ansatz"),
    ("sample", "`sample interior = 1000, boundary = 200`: training points per region"),
    ("solve", "`solve optimizer = engd, iterations = 1000`: the solver defaults"),
];

/// Keywords inside statements.
pub const OTHER_KEYWORDS: [(&str, &str); 9] = [
    ("on", "`lhs = rhs on region`: where an equation holds"),
    ("in", "`space x in [a, b]`: the domain of a coordinate"),
    (
        "from",
        "`data name from \"file.csv\"`: the CSV file of a data set",
    ),
    (
        "weight",
        "`... on region weight w`: scales the equation's block of the loss (default 1)",
    ),
    (
        "every",
        "`resample = every k`: draw fresh points every k iterations; `adaptive = rad every m`: redraw them by their residual; `adaptive = rar every m`: add points where the residual is large",
    ),
    (
        "of",
        "`on boundary of hole`: the part of the boundary on the boundary of the named shape `hole`",
    ),
    (
        "where",
        "`on boundary where x = 1`: the part of the boundary where comparisons of coordinates and constants hold (`=` within 1e-9 of the domain's size)",
    ),
    (
        "and",
        "`on boundary where x > 0 and y < 1`: both conditions hold",
    ),
    (
        "as",
        "`data k from \"k.csv\" as grid`: a coefficient known on a grid, interpolated by a cubic spline",
    ),
];

/// Builtin constants.
pub const BUILTIN_CONSTANTS: [(&str, &str); 2] =
    [("pi", "π = 3.14159…"), ("e", "Euler's number e = 2.71828…")];

/// Builtin functions.
pub const BUILTIN_FUNCTIONS: [(&str, &str); 14] = [
    ("sin", "sine"),
    ("cos", "cosine"),
    ("tan", "tangent"),
    ("exp", "exponential"),
    ("log", "natural logarithm"),
    ("sqrt", "square root"),
    ("tanh", "hyperbolic tangent"),
    ("sinh", "hyperbolic sine"),
    ("cosh", "hyperbolic cosine"),
    ("abs", "absolute value"),
    ("sign", "sign: -1, 0 or 1"),
    (
        "min",
        "`min(a, b)`: the smaller value; its derivative is that of the selected argument (`a` on a tie)",
    ),
    (
        "max",
        "`max(a, b)`: the larger value; its derivative is that of the selected argument (`a` on a tie)",
    ),
    (
        "if",
        "`if(a < b, p, q)`: `p` where the comparison (`<`, `<=`, `>`, `>=`) holds, else `q`; its derivative is that of the selected value",
    ),
];

/// Shapes of `space (x, y) in ...`.
pub const SHAPES: [(&str, &str); 3] = [
    ("disk", "`disk((cx, cy), r)`: a 2-D disk"),
    ("ball", "`ball((c1, …, cd), r)`: a ball in any dimension"),
    ("box", "`box([a1, b1], …, [ad, bd])`: an axis-aligned box"),
];

/// Region words after `on`.
pub const REGIONS: [(&str, &str); 3] = [
    ("interior", "the open space-time domain"),
    (
        "boundary",
        "the whole spatial boundary, times the time interval",
    ),
    (
        "initial",
        "the initial time `t = t0`, times the spatial domain",
    ),
];

/// A configuration key: its statement, name, default and meaning.
#[derive(Debug, Clone, Copy)]
pub struct ConfigKey {
    /// The key.
    pub name: &'static str,
    /// Its default.
    pub default: &'static str,
    /// What it sets.
    pub meaning: &'static str,
    /// Bare-word values it takes, if any.
    pub words: &'static [&'static str],
}

const fn key(
    name: &'static str,
    default: &'static str,
    meaning: &'static str,
    words: &'static [&'static str],
) -> ConfigKey {
    ConfigKey {
        name,
        default,
        meaning,
        words,
    }
}

/// Keys of `model mlp(...)`.
pub const MODEL_KEYS: [ConfigKey; 6] = [
    key("layers", "[20, 20, 20, 20]", "hidden layer widths", &[]),
    key(
        "activation",
        "tanh",
        "activation function",
        &["tanh", "sin", "sigmoid", "softplus", "silu"],
    ),
    key(
        "shared",
        "off",
        "one network with one output per field (instead of one network per field)",
        &[],
    ),
    key(
        "constraints",
        "hard",
        "`hard`: periodic coordinates enter through their harmonics, and Dirichlet and initial conditions `u = g` are built into the ansatz u = A + φ·N where they can be; `soft`: every condition a penalty block",
        &["hard", "soft"],
    ),
    key(
        "harmonics",
        "1",
        "harmonics K per periodic coordinate (cos and sin of 2πk(x − a)/L, k = 1..K)",
        &[],
    ),
    key(
        "features",
        "none",
        "`fourier(m, sigma)`: random Fourier features cos(2πBz), sin(2πBz), B ~ N(0, sigma²)",
        &["fourier"],
    ),
];

/// Keys of `sample` (besides per-face counts `x = 0 : n`).
pub const SAMPLE_KEYS: [ConfigKey; 9] = [
    key("interior", "1000", "points in the interior", &[]),
    key(
        "boundary",
        "200",
        "points on the whole spatial boundary",
        &[],
    ),
    key("initial", "200", "points at t = t0", &[]),
    key(
        "periodic",
        "100",
        "paired points per periodic coordinate (under `constraints = soft`)",
        &[],
    ),
    key("test", "10000", "points of the held-out test set", &[]),
    key(
        "sampler",
        "uniform",
        "how points are drawn",
        &["uniform", "halton", "grid"],
    ),
    key("seed", "0", "seed of the point sampler", &[]),
    key(
        "resample",
        "none",
        "`every k`: draw fresh points every k iterations",
        &["every"],
    ),
    key(
        "adaptive",
        "none",
        "`rad(k, c) every m`: every m iterations (default 25) redraw the points with density ∝ |r|^k / mean(|r|^k) + c (default k = 1, c = 1); `rar(k, c, add, limit) every m`: add `add` times the initial count with that density (default k = 2, c = 0, add = 0.1) until the count is `limit` times the initial one (default 2)",
        &["rad", "rar"],
    ),
];

/// Keys of `solve` that every optimizer shares; the optimizer options follow from the
/// option catalogue ([`solve_keys`]).
const SOLVE_RUN_KEYS: [ConfigKey; 6] = [
    key("optimizer", "by size", "the optimizer", &[]),
    key("iterations", "1000", "maximal number of iterations", &[]),
    key("tol", "none", "stop when the loss falls below this", &[]),
    key(
        "patience",
        "100; 200 with `sample adaptive`",
        "stop when the best loss has not improved for this many iterations (0: never)",
        &[],
    ),
    key(
        "min_improvement",
        "1e-3",
        "relative decrease that counts as progress for `patience`",
        &[],
    ),
    key(
        "causal",
        "off",
        "ε: weight the interior rows of time slab i by exp(−ε · the loss of the slabs before it)",
        &["off"],
    ),
];

/// Keys of `solve`: the shared ones, then every optimizer option of the catalogue
/// ([`crate::solve::option_catalogue`]) with its defaults and words; the optimizer names
/// come from the registry.
pub fn solve_keys() -> &'static [ConfigKey] {
    static KEYS: std::sync::LazyLock<Vec<ConfigKey>> = std::sync::LazyLock::new(|| {
        // Built once per process: the leaked texts live as long as the tables would.
        let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
        let names: Vec<&'static str> = crate::solve::OptimizerKind::ALL
            .iter()
            .map(|k| k.name())
            .collect();
        let mut keys = SOLVE_RUN_KEYS.to_vec();
        keys[0].default = leak(format!(
            "{} or {} by sampling and size",
            crate::solve::DEFAULT_OPTIMIZER.name(),
            crate::solve::OptimizerKind::Gn.name()
        ));
        keys[0].words = Box::leak(names.into_boxed_slice());
        for entry in crate::solve::option_catalogue() {
            keys.push(ConfigKey {
                name: entry.key,
                default: leak(entry.default_text()),
                meaning: leak(entry.help()),
                words: Box::leak(entry.words().into_boxed_slice()),
            });
        }
        keys
    });
    &KEYS
}

/// The keys of a configuration statement.
pub fn keys(section: super::symbols::Section) -> &'static [ConfigKey] {
    use super::symbols::Section;
    match section {
        Section::Model => &MODEL_KEYS,
        Section::Sample => &SAMPLE_KEYS,
        Section::Solve => solve_keys(),
    }
}

/// The text of the first entry of `table` named `name`.
pub fn lookup(table: &[(&'static str, &'static str)], name: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
