//! The optimizer options a `solve` block (and the command line) may set: their values
//! ([`ConfigScalar`]), their descriptions ([`OptionSpec`]) and the parsers the methods
//! share. Each method lists its own options ([`super::Method::OPTIONS`]); the catalogue
//! of every key ([`super::registry::option_catalogue`]) is derived from those lists, and
//! the `.pde` check, the run configuration and the CLI flags all read it.

use serde::Serialize;

/// A value of an optimizer-specific `solve` key.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ConfigScalar {
    /// A number.
    Number(f64),
    /// A bare word (`adaptive`, `grid`).
    Word(String),
}

impl ConfigScalar {
    /// A command-line value: a number when it parses as one, else a word.
    pub fn parse(text: &str) -> Self {
        match text.parse::<f64>() {
            Ok(v) => ConfigScalar::Number(v),
            Err(_) => ConfigScalar::Word(text.to_string()),
        }
    }
}

/// One optimizer option: its key (as in `.pde` files; the CLI flag is the key with
/// `-` for `_`), what it takes, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The key, e.g. `damping`.
    pub key: &'static str,
    /// The kind of value, for help texts (`NUMBER`, `adaptive|off`, …).
    pub value: &'static str,
    /// The default, for help texts.
    pub default: &'static str,
    /// One line on what it does.
    pub help: &'static str,
}

/// The option every natural-gradient method takes: how its step is globalized.
pub const LINE_SEARCH: OptionSpec = OptionSpec {
    key: "line_search",
    value: "region|grid|golden|off",
    default: "region",
    help: "`region`: one trial per step along the method's direction at the radius of a trust \
           region on the step length, moved by the gain ratio (ENGD, SNGD, ANaGRAM); `grid`: a \
           line search on the step sizes 1, 1/2, …, 2^-30; `golden`: that grid refined by \
           golden section; `off`: Levenberg–Marquardt trust-region steps instead (one trial \
           point, gain ratio, Nielsen's damping update)",
};

/// A number.
///
/// # Errors
/// A word.
pub fn number(value: &ConfigScalar) -> Result<f64, String> {
    match value {
        ConfigScalar::Number(v) => Ok(*v),
        ConfigScalar::Word(w) => Err(format!("expected a number, found `{w}`")),
    }
}

/// A positive whole number below 10⁹.
///
/// # Errors
/// Anything else.
pub fn count(value: &ConfigScalar) -> Result<usize, String> {
    let v = number(value)?;
    if v >= 1.0 && v.fract() == 0.0 && v < 1e9 {
        Ok(v as usize)
    } else {
        Err("expected a positive integer".to_string())
    }
}

/// A positive finite number.
///
/// # Errors
/// Anything else.
pub fn positive(value: &ConfigScalar) -> Result<f64, String> {
    let v = number(value)?;
    if v > 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err("expected a positive number".to_string())
    }
}

/// The word `value` if it is one of `choices`.
///
/// # Errors
/// A number or another word, with the choices in the message.
pub fn word<'a>(value: &ConfigScalar, choices: &[&'a str]) -> Result<&'a str, String> {
    let found = match value {
        ConfigScalar::Word(w) => choices.iter().find(|c| **c == w.as_str()).copied(),
        ConfigScalar::Number(_) => None,
    };
    found.ok_or_else(|| {
        let quoted: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
        match quoted.as_slice() {
            [a, b] => format!("expected {a} or {b}"),
            [init @ .., last] => format!("expected {} or {last}", init.join(", ")),
            [] => "expected nothing".to_string(),
        }
    })
}
