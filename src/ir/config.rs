//! Interpreting the `model`, `sample` and `solve` statements into
//! [`ModelConfig`](super::ModelConfig), [`SampleConfig`](super::SampleConfig)
//! and [`SolveSettings`](super::SolveSettings).

use super::lower::{Def, Lowerer};
use super::names::did_you_mean;
use super::{
    Activation, AdaptiveSampling, ConfigScalar, Constraints, CoordKind, FourierFeatures, Growth,
    OptimizerKind, Sampler,
};
use crate::diagnostic::Diagnostic;
use crate::solve::registry::option_keys;
use crate::span::Span;
use crate::syntax::ast;
use std::collections::HashMap;

const MODEL_KEYS: [&str; 6] = [
    "layers",
    "activation",
    "shared",
    "constraints",
    "harmonics",
    "features",
];
const ACTIVATIONS: [&str; 5] = ["tanh", "sin", "sigmoid", "softplus", "silu"];
const CONSTRAINTS: [&str; 2] = ["hard", "soft"];
const FEATURES: [&str; 1] = ["fourier"];
/// More harmonics per periodic coordinate than this are certainly mistakes.
const MAX_HARMONICS: f64 = 100.0;
/// More Fourier features than this are certainly mistakes.
const MAX_FEATURES: f64 = 10_000.0;
const SAMPLE_KEYS: [&str; 9] = [
    "interior", "boundary", "initial", "periodic", "test", "sampler", "seed", "resample",
    "adaptive",
];
const ADAPTIVE_METHODS: [&str; 2] = ["rad", "rar"];
const ADAPTIVE_HELP: &str = "write e.g. `adaptive = rad(1, 1) every 100`: exponent k, uniform \
                             share c, period m (`adaptive = rad` takes k = 1, c = 1, every 25), \
                             or `adaptive = rar(2, 0, 0.1, 2)`, which adds points: k, c, the \
                             share `add` of the initial count added each time, and the \
                             `limit` of the count as a multiple of the initial one";
/// The largest `limit` of `rar`: the point count grows to at most this multiple.
const MAX_GROWTH: f64 = 100.0;
/// Where `every` may stand.
const EVERY_ONLY: &str = "`every` is only for `resample = every k` and `adaptive = ... every m`";
const SAMPLERS: [&str; 3] = ["uniform", "halton", "grid"];
/// Counts beyond this are certainly mistakes (and would not fit in memory).
const MAX_COUNT: f64 = 4_294_967_295.0;

impl Lowerer<'_> {
    /// `model mlp(layers = [..], activation = .., shared)`.
    pub(super) fn model_item(&mut self, span: Span, value: &ast::Expr) {
        if let Some(first) = self.model_span {
            self.error(
                Diagnostic::error("E0404", "`model` is given twice")
                    .with_label(span, "second `model`")
                    .with_label(first, "first given here"),
            );
            return;
        }
        self.model_span = Some(span);
        let (func, args): (&ast::Ident, &[ast::Arg]) = match &value.kind {
            ast::ExprKind::Call { func, args } => (func, args),
            ast::ExprKind::Name(name) if name == "mlp" => return,
            ast::ExprKind::Error => return,
            _ => {
                self.error(
                    Diagnostic::error("E0401", "expected a model such as `mlp(layers = [20, 20])`")
                        .with_label(value.span, "not a model"),
                );
                return;
            }
        };
        if func.name != "mlp" {
            let mut d = Diagnostic::error("E0401", format!("unknown model `{}`", func.name))
                .with_label(func.span, "not a model");
            d = match did_you_mean(&func.name, ["mlp"]) {
                Some(h) => d.with_help(h),
                None => d.with_help("the available model is `mlp`"),
            };
            self.error(d);
            return;
        }
        let mut seen: HashMap<String, Span> = HashMap::new();
        for arg in args {
            let (key, key_span) = match (&arg.name, &arg.value.kind) {
                (Some(n), _) => (n.name.clone(), n.span),
                // A bare word is a flag (`shared`).
                (None, ast::ExprKind::Name(word)) => (word.clone(), arg.value.span),
                (None, ast::ExprKind::Error) => continue,
                (None, _) => {
                    self.error(
                        Diagnostic::error("E0403", "expected `key = value` or `shared`")
                            .with_label(arg.value.span, "unnamed argument"),
                    );
                    continue;
                }
            };
            if !self.first_key(&mut seen, &key, key_span) {
                continue;
            }
            match (key.as_str(), arg.name.is_some()) {
                ("shared", false) => self.model.shared = true,
                ("layers", true) => {
                    if let Some(layers) = self.layers(&arg.value) {
                        self.model.layers = layers;
                    }
                }
                ("activation", true) => {
                    if let Some(word) = self.word(&arg.value, &ACTIVATIONS, "activation") {
                        self.model.activation = match word.as_str() {
                            "sin" => Activation::Sin,
                            "sigmoid" => Activation::Sigmoid,
                            "softplus" => Activation::Softplus,
                            "silu" => Activation::Silu,
                            _ => Activation::Tanh,
                        };
                    }
                }
                ("constraints", true) => {
                    if let Some(word) = self.word(&arg.value, &CONSTRAINTS, "constraint mode") {
                        self.model.constraints = match word.as_str() {
                            "soft" => Constraints::Soft,
                            _ => Constraints::Hard,
                        };
                    }
                }
                ("harmonics", true) => {
                    self.harmonics_span = Some(arg.value.span);
                    if let Some(k) = self.bounded_count(&arg.value, "`harmonics`", MAX_HARMONICS) {
                        self.model.harmonics = k;
                    }
                }
                ("features", true) => {
                    self.features_span = Some(arg.value.span);
                    if let Some(features) = self.features(&arg.value) {
                        self.model.features = Some(features);
                    }
                }
                ("shared", true) => self.error(
                    Diagnostic::error("E0403", "`shared` is a flag and takes no value")
                        .with_label(key_span, "write just `shared`"),
                ),
                (_, _) => self.unknown_key(&key, key_span, &MODEL_KEYS, "model"),
            }
        }
    }

    /// `fourier(m, sigma)`.
    fn features(&mut self, expr: &ast::Expr) -> Option<FourierFeatures> {
        let shape_help = "write `features = fourier(m, sigma)`, e.g. `fourier(32, 1)`";
        let (func, args) = match &expr.kind {
            ast::ExprKind::Call { func, args } => (func, args),
            ast::ExprKind::Error => return None,
            ast::ExprKind::Name(word) if !FEATURES.contains(&word.as_str()) => {
                self.word(expr, &FEATURES, "feature map");
                return None;
            }
            _ => {
                self.error(
                    Diagnostic::error("E0405", "expected features such as `fourier(32, 1)`")
                        .with_label(expr.span, "not a feature map")
                        .with_help(shape_help),
                );
                return None;
            }
        };
        if !FEATURES.contains(&func.name.as_str()) {
            let name = ast::Expr {
                kind: ast::ExprKind::Name(func.name.clone()),
                span: func.span,
            };
            self.word(&name, &FEATURES, "feature map");
            return None;
        }
        let positional: Vec<&ast::Expr> = args
            .iter()
            .filter(|a| a.name.is_none())
            .map(|a| &a.value)
            .collect();
        if positional.len() != 2 || positional.len() != args.len() {
            self.error(
                Diagnostic::error(
                    "E0405",
                    "`fourier` takes two arguments: the number of features and sigma",
                )
                .with_label(expr.span, format!("{} argument(s)", args.len()))
                .with_help(shape_help),
            );
            return None;
        }
        let count = self.bounded_count(
            positional[0],
            "the number of Fourier features",
            MAX_FEATURES,
        );
        let sigma = self.const_value(positional[1], "sigma");
        let sigma = match sigma {
            Some(v) if v > 0.0 => Some(v),
            Some(v) => {
                self.error(
                    Diagnostic::error("E0405", "sigma must be positive")
                        .with_label(positional[1].span, format!("found {v}"))
                        .with_help("sigma is the standard deviation of the frequencies, e.g. 1"),
                );
                None
            }
            None => None,
        };
        Some(FourierFeatures {
            count: count?,
            sigma: sigma?,
        })
    }

    /// A positive integer at most `max`.
    fn bounded_count(&mut self, expr: &ast::Expr, what: &'static str, max: f64) -> Option<usize> {
        let v = self.const_value(expr, what)?;
        if v < 1.0 || v.fract() != 0.0 || v > max {
            self.error(
                Diagnostic::error(
                    "E0405",
                    format!("{what} must be a positive integer up to {max}"),
                )
                .with_label(expr.span, format!("found {v}")),
            );
            return None;
        }
        Some(v as usize)
    }

    fn layers(&mut self, expr: &ast::Expr) -> Option<Vec<usize>> {
        let ast::ExprKind::List(items) = &expr.kind else {
            if expr.kind != ast::ExprKind::Error {
                self.error(
                    Diagnostic::error("E0405", "`layers` must be a list of widths")
                        .with_label(expr.span, "expected e.g. `[20, 20]`"),
                );
            }
            return None;
        };
        if items.is_empty() {
            self.error(
                Diagnostic::error("E0405", "`layers` needs at least one hidden layer")
                    .with_label(expr.span, "empty list"),
            );
            return None;
        }
        let widths: Vec<Option<usize>> = items
            .iter()
            .map(|e| self.count(e, "a layer width"))
            .collect();
        widths.into_iter().collect()
    }

    /// A positive integer.
    pub(super) fn count(&mut self, expr: &ast::Expr, what: &'static str) -> Option<usize> {
        let v = self.const_value(expr, what)?;
        if v < 1.0 || v.fract() != 0.0 || v > MAX_COUNT {
            self.error(
                Diagnostic::error("E0405", format!("{what} must be a positive integer"))
                    .with_label(expr.span, format!("found {v}")),
            );
            return None;
        }
        Some(v as usize)
    }

    /// A word from `choices`.
    fn word(&mut self, expr: &ast::Expr, choices: &[&str], what: &str) -> Option<String> {
        let ast::ExprKind::Name(word) = &expr.kind else {
            if expr.kind != ast::ExprKind::Error {
                self.error(
                    Diagnostic::error(
                        "E0405",
                        format!("expected a {what}: {}", choices.join(", ")),
                    )
                    .with_label(expr.span, "not a word"),
                );
            }
            return None;
        };
        if choices.contains(&word.as_str()) {
            return Some(word.clone());
        }
        let mut d = Diagnostic::error("E0402", format!("unknown {what} `{word}`"))
            .with_label(expr.span, format!("not a known {what}"));
        d = match did_you_mean(word, choices.iter().copied()) {
            Some(h) => d.with_help(format!("{h} (choices: {})", choices.join(", "))),
            None => d.with_help(format!("choices: {}", choices.join(", "))),
        };
        self.error(d);
        None
    }

    /// Records `key` as given; reports a repeat. True for the first time.
    fn first_key(&mut self, seen: &mut HashMap<String, Span>, key: &str, span: Span) -> bool {
        if let Some(&first) = seen.get(key) {
            self.error(
                Diagnostic::error("E0408", format!("`{key}` is given twice"))
                    .with_label(span, "given again here")
                    .with_label(first, "first given here"),
            );
            return false;
        }
        seen.insert(key.to_string(), span);
        true
    }

    fn unknown_key(&mut self, key: &str, span: Span, known: &[&str], statement: &str) {
        let mut d = Diagnostic::error("E0403", format!("unknown `{statement}` key `{key}`"))
            .with_label(span, "unknown key");
        d = match did_you_mean(key, known.iter().copied()) {
            Some(h) => d.with_help(h),
            None => d.with_help(format!("known keys: {}", known.join(", "))),
        };
        self.error(d);
    }

    fn no_count(&mut self, entry: &ast::ConfigEntry) {
        if let Some(count) = &entry.count {
            self.error(
                Diagnostic::error(
                    "E0407",
                    format!("`: n` is only for faces, not for `{}`", entry.key.name),
                )
                .with_label(count.span, "unexpected count"),
            );
        }
    }

    /// `sample interior = N, boundary = M, x = 0 : n, sampler = .., seed = ..`.
    pub(super) fn sample_item(&mut self, entries: &[ast::ConfigEntry]) {
        let mut seen = std::mem::take(&mut self.sample_keys);
        for entry in entries {
            let key = entry.key.name.as_str();
            let def = self.names.get(key).map(|b| b.def);
            if let Some(Def::Coord(_)) = def {
                self.sample_face(entry, &mut seen);
                continue;
            }
            if let Some(Def::Shape(shape)) = def {
                self.sample_piece(entry, shape, &mut seen);
                continue;
            }
            if !self.first_key(&mut seen, key, entry.key.span) {
                continue;
            }
            self.no_count(entry);
            if key == "resample" || key == "adaptive" {
                self.one_redraw_rule(key, entry.key.span, &seen);
            }
            if key == "adaptive" {
                let (method, every) = match &entry.value {
                    ast::ConfigValue::Expr(e) => (e, None),
                    ast::ConfigValue::WithEvery(e, every) => (e, Some(every)),
                    ast::ConfigValue::Every(_) => {
                        self.error(
                            Diagnostic::error("E0405", "`adaptive` needs a method before `every`")
                                .with_label(entry.span, "no method")
                                .with_help(ADAPTIVE_HELP),
                        );
                        continue;
                    }
                };
                if let Some(adaptive) = self.adaptive(method, every) {
                    self.sample.adaptive = Some(adaptive);
                }
                continue;
            }
            let value = match &entry.value {
                ast::ConfigValue::Expr(e) => e,
                ast::ConfigValue::WithEvery(..) => {
                    self.error(
                        Diagnostic::error("E0405", EVERY_ONLY)
                            .with_label(entry.span, "unexpected `every`"),
                    );
                    continue;
                }
                ast::ConfigValue::Every(e) => {
                    if key == "resample" {
                        if let Some(k) = self.count(e, "`resample = every k`") {
                            self.sample.resample = Some(k);
                        }
                    } else {
                        self.error(
                            Diagnostic::error("E0405", EVERY_ONLY)
                                .with_label(entry.span, "unexpected `every`"),
                        );
                    }
                    continue;
                }
            };
            match key {
                "interior" => {
                    if let Some(n) = self.count(value, "`interior`") {
                        self.sample.interior = n;
                    }
                }
                "boundary" => {
                    if let Some(n) = self.count(value, "`boundary`") {
                        self.sample.boundary = n;
                    }
                }
                "initial" => {
                    if let Some(n) = self.count(value, "`initial`") {
                        self.sample.initial = n;
                    }
                }
                "periodic" => {
                    if let Some(n) = self.count(value, "`periodic`") {
                        self.sample.periodic = n;
                    }
                }
                "test" => {
                    if let Some(n) = self.count(value, "`test`") {
                        self.sample.test = n;
                    }
                }
                "resample" => {
                    if let Some(n) = self.count(value, "`resample`") {
                        self.sample.resample = Some(n);
                    }
                }
                "seed" => {
                    if let Some(v) = self.const_value(value, "`seed`") {
                        if v < 0.0 || v.fract() != 0.0 || v > 9.007_199_254_740_992e15 {
                            self.error(
                                Diagnostic::error("E0405", "`seed` must be a non-negative integer")
                                    .with_label(value.span, format!("found {v}")),
                            );
                        } else {
                            self.sample.seed = v as u64;
                        }
                    }
                }
                "sampler" => {
                    if let Some(w) = self.word(value, &SAMPLERS, "sampler") {
                        self.sample.sampler = match w.as_str() {
                            "halton" => Sampler::Halton,
                            "grid" => Sampler::Grid,
                            _ => Sampler::Uniform,
                        };
                    }
                }
                _ => {
                    let mut known: Vec<&str> = SAMPLE_KEYS.to_vec();
                    let coords: Vec<String> = self.coords.iter().map(|c| c.name.clone()).collect();
                    known.extend(coords.iter().map(String::as_str));
                    self.unknown_key(key, entry.key.span, &known, "sample");
                }
            }
        }
        self.sample_keys = seen;
    }

    /// `resample` and `adaptive` both say when the points are redrawn: only one may be
    /// given (`key` is the second of them, if `seen` holds the other).
    fn one_redraw_rule(&mut self, key: &str, span: Span, seen: &HashMap<String, Span>) {
        let other = if key == "resample" {
            "adaptive"
        } else {
            "resample"
        };
        if let Some(&first) = seen.get(other) {
            self.error(
                Diagnostic::error(
                    "E0410",
                    "`resample` and `adaptive` both say when to redraw the points",
                )
                .with_label(span, format!("`{key}` here"))
                .with_label(first, format!("`{other}` given here"))
                .with_help(
                    "keep one: `resample = every k` draws fresh uniform points, \
                     `adaptive = rad every m` draws them by the residual",
                ),
            );
        }
    }

    /// `rad`, `rad(k)`, `rad(k, c)` or `rad(k = .., c = ..)`, and `rar` the same with
    /// two more arguments `add` and `limit`; then an optional `every m`.
    fn adaptive(
        &mut self,
        method: &ast::Expr,
        every: Option<&ast::Expr>,
    ) -> Option<AdaptiveSampling> {
        let every = match every {
            Some(e) => self.count(e, "the period `every m` of `adaptive`"),
            None => Some(AdaptiveSampling::DEFAULT_EVERY),
        };
        let (name, args): (String, &[ast::Arg]) = match &method.kind {
            ast::ExprKind::Name(_) => (
                self.word(method, &ADAPTIVE_METHODS, "adaptive sampling method")?,
                &[],
            ),
            ast::ExprKind::Call { func, args } => {
                let name = ast::Expr {
                    kind: ast::ExprKind::Name(func.name.clone()),
                    span: func.span,
                };
                (
                    self.word(&name, &ADAPTIVE_METHODS, "adaptive sampling method")?,
                    args,
                )
            }
            ast::ExprKind::Error => return None,
            _ => {
                self.error(
                    Diagnostic::error(
                        "E0405",
                        "expected an adaptive sampling method such as `rad`",
                    )
                    .with_label(method.span, "not a method")
                    .with_help(ADAPTIVE_HELP),
                );
                return None;
            }
        };
        let grows = name == "rar";
        let mut adaptive = AdaptiveSampling::default();
        if grows {
            adaptive.k = Growth::DEFAULT_K;
            adaptive.c = Growth::DEFAULT_C;
            adaptive.growth = Some(Growth::default());
        }
        let keys: &[&str] = if grows {
            &["k", "c", "add", "limit"]
        } else {
            &["k", "c"]
        };
        if args.len() > keys.len() {
            let message = if grows {
                "`rar` takes at most four arguments: k, c, add and limit"
            } else {
                "`rad` takes at most two arguments: k and c"
            };
            self.error(
                Diagnostic::error("E0405", message)
                    .with_label(method.span, format!("{} arguments", args.len()))
                    .with_help(ADAPTIVE_HELP),
            );
            return None;
        }
        let mut ok = true;
        let mut seen: HashMap<String, Span> = HashMap::new();
        for (position, arg) in args.iter().enumerate() {
            let key = match &arg.name {
                Some(n) if keys.contains(&n.name.as_str()) => n.name.as_str(),
                Some(n) => {
                    self.unknown_key(&n.name, n.span, keys, &name);
                    ok = false;
                    continue;
                }
                None => keys[position],
            };
            let key_span = arg.name.as_ref().map_or(arg.value.span, |n| n.span);
            if !self.first_key(&mut seen, key, key_span) {
                ok = false;
                continue;
            }
            let what = if grows {
                "an argument of `rar`"
            } else {
                "an argument of `rad`"
            };
            let Some(v) = self.const_value(&arg.value, what) else {
                ok = false;
                continue;
            };
            let span = arg.value.span;
            let growth = adaptive.growth.get_or_insert_with(Growth::default);
            let problem = match key {
                "k" if v > 0.0 && v <= AdaptiveSampling::MAX_K => {
                    adaptive.k = v;
                    None
                }
                "k" => Some((
                    format!("the exponent `k` of `{name}` must be in (0, 10]"),
                    if grows {
                        "the density is |r|^k / mean(|r|^k) + c; k = 2 is the default of \
                         `rar`, larger k puts more points where the residual is large"
                    } else {
                        "the density is |r|^k / mean(|r|^k) + c; k = 1 is the robust \
                         default, larger k puts more points where the residual is large"
                    },
                )),
                // `rar` keeps the points it has, so the added ones may all follow r.
                "c" if v > 0.0 || (grows && v == 0.0) => {
                    adaptive.c = v;
                    None
                }
                "c" if grows => Some((
                    "the uniform share `c` of `rar` must not be negative".to_string(),
                    "c = 0 puts every added point where the residual is large; c = 1 draws \
                     half of them uniformly",
                )),
                "c" => Some((
                    "the uniform share `c` of `rad` must be positive".to_string(),
                    "with c = 0 a part of the region where the residual is small gets \
                     no points at all; c = 1 is the robust default",
                )),
                "add" if v > 0.0 && v <= 1.0 => {
                    growth.add = v;
                    None
                }
                "add" => Some((
                    "the share `add` of `rar` must be in (0, 1]".to_string(),
                    "each refinement adds this share of a block's initial point count; \
                     0.1 is the default",
                )),
                _ if v > 1.0 && v <= MAX_GROWTH => {
                    growth.limit = v;
                    None
                }
                _ => Some((
                    format!("the limit of `rar` must be above 1 and at most {MAX_GROWTH}"),
                    "the blocks grow to this multiple of their initial point count; 2 is \
                     the default",
                )),
            };
            if let Some((message, help)) = problem {
                ok = false;
                self.error(
                    Diagnostic::error("E0405", message)
                        .with_label(span, format!("found {v}"))
                        .with_help(help),
                );
            }
        }
        if !grows {
            adaptive.growth = None;
        }
        adaptive.every = every?;
        ok.then_some(adaptive)
    }

    /// `x = 0 : 50`: the number of points on one face.
    fn sample_face(&mut self, entry: &ast::ConfigEntry, seen: &mut HashMap<String, Span>) {
        let ast::ConfigValue::Expr(value) = &entry.value else {
            self.error(
                Diagnostic::error("E0405", EVERY_ONLY).with_label(entry.span, "unexpected `every`"),
            );
            return;
        };
        let Some(count_expr) = &entry.count else {
            self.error(
                Diagnostic::error(
                    "E0406",
                    format!("the face `{} = ...` needs a point count", entry.key.name),
                )
                .with_label(entry.span, "missing `: n`")
                .with_help(format!("write e.g. `{} = 0 : 50`", entry.key.name)),
            );
            return;
        };
        let face = self.face(&entry.key, value);
        let count = self.count(count_expr, "a face's point count");
        let (Some((coord, side)), Some(count)) = (face, count) else {
            return;
        };
        let side_name = match side {
            super::Side::Lo => "lo",
            super::Side::Hi => "hi",
        };
        if !self.first_key(seen, &format!("{}={side_name}", entry.key.name), entry.span) {
            return;
        }
        self.sample.faces.push((coord, side, count));
    }

    /// `hole = n` in `sample`: the point count of `boundary of hole`.
    fn sample_piece(
        &mut self,
        entry: &ast::ConfigEntry,
        shape: usize,
        seen: &mut HashMap<String, Span>,
    ) {
        let name = entry.key.name.as_str();
        if !self.first_key(seen, name, entry.key.span) {
            return;
        }
        self.no_count(entry);
        let ast::ConfigValue::Expr(value) = &entry.value else {
            self.error(
                Diagnostic::error("E0405", EVERY_ONLY).with_label(entry.span, "unexpected `every`"),
            );
            return;
        };
        let Some(count) = self.count(value, "a piece's point count") else {
            return;
        };
        if self.shapes[shape].domains.len() != 1 {
            self.error(
                Diagnostic::error(
                    "E0230",
                    format!(
                        "`sample {name}`: the shape `{name}` is not part of the domain of one `space` line"
                    ),
                )
                .with_label(entry.key.span, "no boundary piece to count")
                .with_help(format!(
                    "a count names a shape whose boundary holds equations `on boundary of {name}`"
                )),
            );
            return;
        }
        self.sample.pieces.push((name.to_string(), count));
    }

    /// `solve optimizer = .., iterations = .., tol = .., patience = ..,
    /// min_improvement = .., <option> = ..`.
    pub(super) fn solve_item(&mut self, entries: &[ast::ConfigEntry]) {
        let mut seen = std::mem::take(&mut self.solve_keys);
        for entry in entries {
            let key = entry.key.name.as_str();
            if !self.first_key(&mut seen, key, entry.key.span) {
                continue;
            }
            self.no_count(entry);
            let ast::ConfigValue::Expr(value) = &entry.value else {
                self.error(
                    Diagnostic::error("E0405", EVERY_ONLY)
                        .with_label(entry.span, "unexpected `every`"),
                );
                continue;
            };
            match key {
                "optimizer" => {
                    let names: Vec<&str> = OptimizerKind::ALL.iter().map(|k| k.name()).collect();
                    if let Some(w) = self.word(value, &names, "optimizer") {
                        if let Some(kind) = OptimizerKind::from_name(&w) {
                            self.solve.optimizer = Some(kind);
                        }
                    }
                }
                "iterations" => {
                    if let Some(n) = self.count(value, "`iterations`") {
                        self.solve.iterations = n;
                    }
                }
                "tol" => {
                    if let Some(v) = self.const_value(value, "`tol`") {
                        if v > 0.0 {
                            self.solve.tol = Some(v);
                        } else {
                            self.error(
                                Diagnostic::error("E0405", "`tol` must be positive")
                                    .with_label(value.span, format!("found {v}")),
                            );
                        }
                    }
                }
                "patience" => {
                    if let Some(v) = self.const_value(value, "`patience`") {
                        if v >= 0.0 && v.fract() == 0.0 && v <= MAX_COUNT {
                            self.solve.patience = Some(v as usize);
                        } else {
                            self.error(
                                Diagnostic::error(
                                    "E0405",
                                    "`patience` must be a whole number of iterations \
                                     (0: never stop for a stall)",
                                )
                                .with_label(value.span, format!("found {v}")),
                            );
                        }
                    }
                }
                "causal" => self.causal_entry(value),
                "min_improvement" => {
                    if let Some(v) = self.const_value(value, "`min_improvement`") {
                        if (0.0..1.0).contains(&v) {
                            self.solve.min_improvement = Some(v);
                        } else {
                            self.error(
                                Diagnostic::error("E0405", "`min_improvement` must be in [0, 1)")
                                    .with_label(value.span, format!("found {v}")),
                            );
                        }
                    }
                }
                _ if option_keys().contains(&key) => {
                    let scalar = match &value.kind {
                        ast::ExprKind::Name(word)
                            if !self.names.contains_key(word) && word != "pi" && word != "e" =>
                        {
                            Some(ConfigScalar::Word(word.clone()))
                        }
                        _ => self
                            .const_value(value, "a `solve` option")
                            .map(ConfigScalar::Number),
                    };
                    if let Some(scalar) = scalar {
                        self.solve.options.push((key.to_string(), scalar));
                    }
                }
                _ => {
                    let mut known = vec![
                        "optimizer",
                        "iterations",
                        "tol",
                        "patience",
                        "min_improvement",
                        "causal",
                    ];
                    known.extend(option_keys());
                    self.unknown_key(key, entry.key.span, &known, "solve");
                }
            }
        }
        self.solve_keys = seen;
    }

    /// `causal = ε | off`: causal weighting by time slab; a problem without a time
    /// coordinate has no slabs to weight.
    fn causal_entry(&mut self, value: &ast::Expr) {
        let epsilon = match &value.kind {
            ast::ExprKind::Name(word) if word == "off" => None,
            ast::ExprKind::Name(word) if !self.names.contains_key(word) => {
                self.error(
                    Diagnostic::error("E0402", format!("unknown `causal` setting `{word}`"))
                        .with_label(value.span, "not a number or `off`")
                        .with_help(
                            "`causal = 1` weights the time slabs with ε = 1; `off` turns it off",
                        ),
                );
                return;
            }
            _ => {
                let Some(v) = self.const_value(value, "`causal`") else {
                    return;
                };
                if !(v > 0.0 && v.is_finite()) {
                    self.error(
                        Diagnostic::error("E0405", "`causal` must be a positive number or `off`")
                            .with_label(value.span, format!("found {v}")),
                    );
                    return;
                }
                Some(v)
            }
        };
        if epsilon.is_some() && !self.coords.iter().any(|c| c.kind == CoordKind::Time) {
            self.error(
                Diagnostic::error("E0405", "`causal` weighting needs a time coordinate")
                    .with_label(value.span, "the problem has no `time` declaration")
                    .with_help("causal weighting orders the residuals by time slab; remove it for a steady problem"),
            );
            return;
        }
        self.solve.causal = epsilon;
    }
}
