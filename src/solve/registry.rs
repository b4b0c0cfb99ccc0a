//! The list of optimizers: one line per method. Everything that depends on the set of
//! methods — [`OptimizerKind`] (what a `.pde` file or `--optimizer` names),
//! [`OptimizerConfig`] (a method with its settings, as saved in checkpoints), the
//! option catalogue ([`option_catalogue`]) and the construction of an optimizer — is
//! derived from it.

use super::driver::SolveConfig;
use super::optimizer::{Method, Optimizer};
use super::options::{self, ConfigScalar, OptionSpec};
use super::report::SolveError;
use super::spectrum::Spectrum;
use super::state::SolverState;
use super::{adam, anagram, engd, lbfgs, sngd};

macro_rules! optimizers {
    ($($(#[$doc:meta])* $variant:ident($config:ty),)*) => {
        /// Which optimizer a `solve` block or `--optimizer` names.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum OptimizerKind {
            $($(#[$doc])* $variant,)*
        }

        impl OptimizerKind {
            /// Every optimizer, in the registry's order.
            pub const ALL: &'static [OptimizerKind] = &[$(OptimizerKind::$variant,)*];

            /// The short name (`engd`, `sngd`, …).
            pub fn name(self) -> &'static str {
                match self {
                    $(OptimizerKind::$variant => <$config as Method>::NAME,)*
                }
            }

            /// The optimizer with its default settings.
            pub fn default_config(self) -> OptimizerConfig {
                match self {
                    $(OptimizerKind::$variant => {
                        OptimizerConfig::$variant(<$config>::default())
                    })*
                }
            }

            /// The method's own `solve` options.
            pub fn options(self) -> &'static [OptionSpec] {
                match self {
                    $(OptimizerKind::$variant => <$config as Method>::OPTIONS,)*
                }
            }

            /// Whether the method uses the shared line search (`line_search` option).
            pub fn uses_line_search(self) -> bool {
                match self {
                    $(OptimizerKind::$variant => <$config as Method>::LINE_SEARCH,)*
                }
            }

            /// Whether the shared trust region can globalize the method's step.
            pub fn uses_trust_region(self) -> bool {
                match self {
                    $(OptimizerKind::$variant => <$config as Method>::TRUST_REGION,)*
                }
            }

            /// Whether the method works on the Gramian (its spectrum is drawn).
            pub fn has_spectrum(self) -> bool {
                match self {
                    $(OptimizerKind::$variant => <$config as Method>::HAS_SPECTRUM,)*
                }
            }
        }

        /// Which optimizer runs, with its settings.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum OptimizerConfig {
            $($(#[$doc])* $variant($config),)*
        }

        impl OptimizerConfig {
            /// Which optimizer this is.
            pub fn kind(&self) -> OptimizerKind {
                match self {
                    $(OptimizerConfig::$variant(_) => OptimizerKind::$variant,)*
                }
            }

            /// Sets one of the method's own options.
            fn set_method_option(&mut self, key: &str, value: &ConfigScalar) -> Result<(), String> {
                match self {
                    $(OptimizerConfig::$variant(c) => c.set_option(key, value),)*
                }
            }

            /// The optimizer for a run with `config` (whose `optimizer` is `self`),
            /// fresh or continuing from `state`.
            ///
            /// # Errors
            /// [`SolveError::IncompatibleState`] when `state` belongs to another
            /// optimizer or does not read.
            pub fn build(
                &self,
                config: &SolveConfig,
                state: Option<&SolverState>,
            ) -> Result<Box<dyn Optimizer>, SolveError> {
                match self {
                    $(OptimizerConfig::$variant(c) => c.build(config, state),)*
                }
            }

            /// Checks that `state` is a state of this optimizer for `n_params`
            /// parameters.
            ///
            /// # Errors
            /// [`SolveError::IncompatibleState`] saying what does not fit.
            pub fn check_state(&self, state: &SolverState, n_params: usize) -> Result<(), SolveError> {
                if state.optimizer_name() != self.name() {
                    return Err(SolveError::IncompatibleState {
                        reason: format!(
                            "it is a {} state, the run uses {}",
                            state.optimizer_name(),
                            self.name()
                        ),
                    });
                }
                match self {
                    $(OptimizerConfig::$variant(_) => {
                        <$config as Method>::check_state(state, n_params)
                    })*
                }
            }

            /// The threshold below which the method drops (or damps away) an
            /// eigenvalue of the Gramian, at the damping of the last step.
            pub fn spectrum_cutoff(&self, spectrum: &Spectrum, damping: Option<f64>) -> Option<f64> {
                match self {
                    $(OptimizerConfig::$variant(c) => c.spectrum_cutoff(spectrum, damping),)*
                }
            }
        }
    };
}

optimizers! {
    /// Energy natural gradient.
    Engd(engd::EngdConfig),
    /// Sketchy natural gradient (Algorithm 1 of Best McKay et al.).
    Sngd(sngd::SngdConfig),
    /// Truncated-SVD natural gradient.
    Anagram(anagram::AnagramConfig),
    /// Adam.
    Adam(adam::AdamConfig),
    /// L-BFGS with strong-Wolfe line search.
    Lbfgs(lbfgs::LbfgsConfig),
    /// Plain gradient descent with the shared line search.
    Gd(super::gd::GdConfig),
    /// Matrix-free Gauss–Newton (Nyström-preconditioned CG) with a trust region.
    Gn(super::gn::GnConfig),
}

/// The optimizer a run uses when neither the file nor the caller names one.
pub const DEFAULT_OPTIMIZER: OptimizerKind = OptimizerKind::Sngd;

/// The number of Jacobian entries `N·P` from which [`default_optimizer_for`] picks GN:
/// 2·10⁷ entries, a stored J of 160 MB. Measured (docs/optimizers.md, "Default by
/// size"): on Kovasznay (N = 8,703, P = 7,953; 6.9·10⁷ entries) SNGD's kept rank grows
/// by about a hundred per step and a step costs 27 s, where GN's Nyström-preconditioned
/// CG step costs a few seconds and reaches 10⁻³–10⁻⁴ in 20 minutes; every other example
/// (at most 6·10⁶ entries) is solved more accurately by SNGD's line search.
pub const MATRIX_FREE_MIN_ENTRIES: usize = 20_000_000;

/// The optimizer for an `n_rows × n_params` Jacobian when none is named: GN from
/// [`MATRIX_FREE_MIN_ENTRIES`] entries on, else [`DEFAULT_OPTIMIZER`].
pub fn default_optimizer_for(n_rows: usize, n_params: usize) -> OptimizerKind {
    if n_rows.saturating_mul(n_params) >= MATRIX_FREE_MIN_ENTRIES {
        OptimizerKind::Gn
    } else {
        DEFAULT_OPTIMIZER
    }
}

impl Default for OptimizerKind {
    fn default() -> Self {
        DEFAULT_OPTIMIZER
    }
}

impl std::fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl OptimizerKind {
    /// The optimizer named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }
}

impl OptimizerConfig {
    /// The optimizer's short name (`engd`, `sngd`, `anagram`, `adam`, `lbfgs`).
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// One key of the option catalogue: its description and the methods that take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The key.
    pub key: &'static str,
    /// One description per method that takes the key (methods sharing a description
    /// appear together).
    pub uses: Vec<(Vec<OptimizerKind>, OptionSpec)>,
}

impl CatalogueEntry {
    /// A one-line help text: `ENGD: …; SNGD: …`, or the description alone when every
    /// method that takes the key shares it.
    pub fn help(&self) -> String {
        self.uses
            .iter()
            .map(|(kinds, spec)| {
                let names: Vec<String> = kinds.iter().map(|k| k.name().to_uppercase()).collect();
                format!("{}: {}", names.join(", "), spec.help)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The default: `1e-10`, or per method (`engd 1e-10, sngd adaptive`) when they
    /// differ.
    pub fn default_text(&self) -> String {
        let mut defaults: Vec<&str> = self.uses.iter().map(|(_, spec)| spec.default).collect();
        defaults.dedup();
        if defaults.len() == 1 {
            return defaults[0].to_string();
        }
        self.uses
            .iter()
            .map(|(kinds, spec)| {
                let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                format!("{} {}", names.join(", "), spec.default)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The bare words the key takes (`adaptive`, `off`, …), from the value kinds.
    pub fn words(&self) -> Vec<&'static str> {
        let mut words: Vec<&'static str> = self
            .uses
            .iter()
            .flat_map(|(_, spec)| spec.value.split('|'))
            .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !w.is_empty())
            .collect();
        words.dedup();
        words
    }

    /// The value kinds the key takes, for help texts.
    pub fn value_name(&self) -> String {
        let mut values: Vec<&str> = Vec::new();
        for value in self.uses.iter().flat_map(|(_, spec)| spec.value.split('|')) {
            if !values.contains(&value) {
                values.push(value);
            }
        }
        values.join("|")
    }
}

/// Every optimizer option key (the methods' own options and `line_search`), in the
/// order the methods list them.
pub fn option_catalogue() -> Vec<CatalogueEntry> {
    let mut entries: Vec<CatalogueEntry> = Vec::new();
    for &kind in OptimizerKind::ALL {
        let line_search = kind.uses_line_search().then_some(&options::LINE_SEARCH);
        for spec in kind.options().iter().chain(line_search) {
            let index = match entries.iter().position(|e| e.key == spec.key) {
                Some(index) => index,
                None => {
                    entries.push(CatalogueEntry {
                        key: spec.key,
                        uses: Vec::new(),
                    });
                    entries.len() - 1
                }
            };
            let uses = &mut entries[index].uses;
            match uses.iter_mut().find(|(_, s)| s == spec) {
                Some((kinds, _)) => kinds.push(kind),
                None => uses.push((vec![kind], *spec)),
            }
        }
    }
    entries
}

/// Every optimizer option key.
pub fn option_keys() -> Vec<&'static str> {
    option_catalogue().iter().map(|e| e.key).collect()
}

/// Sets one optimizer option (`damping`, `sketch`, …, `line_search`) on `config`.
/// Options that do not apply to the chosen optimizer are errors, so that a misplaced
/// knob is never silently ignored.
///
/// # Errors
/// A message: an unknown key, a value of the wrong kind, or a key of another
/// optimizer (`does not apply to adam`).
pub fn apply_option(
    config: &mut SolveConfig,
    key: &str,
    value: &ConfigScalar,
) -> Result<(), String> {
    let kind = config.optimizer.kind();
    if kind.options().iter().any(|spec| spec.key == key) {
        return config.optimizer.set_method_option(key, value);
    }
    if key == options::LINE_SEARCH.key && kind.uses_line_search() {
        let word = options::word(value, &["region", "off", "grid", "golden"])?;
        if word == "off" && !kind.uses_trust_region() {
            return Err(format!(
                "{} always searches a line: expected `grid` or `golden`",
                kind.name()
            ));
        }
        if word == "region" && !kind.uses_trust_region() {
            return Err(format!(
                "{} always searches the grid: expected `grid` or `golden`",
                kind.name()
            ));
        }
        let (trust_region, golden_section, region) = match word {
            "off" => (Some(config.trust_region.unwrap_or_default()), None, None),
            "golden" => (None, Some(20), None),
            "grid" => (None, None, None),
            _ => (None, None, Some(Default::default())),
        };
        config.trust_region = trust_region;
        config.line_search.golden_section = golden_section;
        config.line_search.region = region;
        return Ok(());
    }
    if option_catalogue().iter().any(|e| e.key == key) {
        Err(format!("does not apply to {}", kind.name()))
    } else {
        Err("unknown option".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_optimizer_switches_to_gn_at_the_threshold() {
        let n = MATRIX_FREE_MIN_ENTRIES;
        assert_eq!(default_optimizer_for(1_000, 1_341), DEFAULT_OPTIMIZER);
        assert_eq!(default_optimizer_for(n - 1, 1), DEFAULT_OPTIMIZER);
        assert_eq!(default_optimizer_for(n, 1), OptimizerKind::Gn);
        assert_eq!(default_optimizer_for(1, n), OptimizerKind::Gn);
        // No overflow for absurd sizes.
        assert_eq!(default_optimizer_for(usize::MAX, 3), OptimizerKind::Gn);
        assert_eq!(default_optimizer_for(0, usize::MAX), DEFAULT_OPTIMIZER);
    }

    #[test]
    fn names_match_the_serialized_variants_and_read_back() {
        for &kind in OptimizerKind::ALL {
            let json = serde_json::to_value(kind.default_config()).unwrap();
            let object = json.as_object().expect("an externally tagged variant");
            assert_eq!(object.keys().collect::<Vec<_>>(), vec![kind.name()]);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
            assert_eq!(OptimizerKind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.default_config().kind(), kind);
        }
        assert_eq!(OptimizerKind::from_name("newton"), None);
    }

    #[test]
    fn the_catalogue_merges_shared_keys_and_rejects_misplaced_ones() {
        let catalogue = option_catalogue();
        let keys: Vec<&str> = catalogue.iter().map(|e| e.key).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "each key once: {keys:?}");
        let damping = catalogue.iter().find(|e| e.key == "damping").unwrap();
        let users: Vec<OptimizerKind> = damping.uses.iter().flat_map(|(k, _)| k.clone()).collect();
        assert!(users.contains(&OptimizerKind::Engd) && users.contains(&OptimizerKind::Sngd));
        assert!(damping.help().contains("ENGD") && damping.help().contains("SNGD"));
        assert_eq!(damping.value_name(), "NUMBER|adaptive|off");
        let cutoff = catalogue.iter().find(|e| e.key == "cutoff").unwrap();
        assert_eq!(cutoff.value_name(), "NUMBER|adaptive");
        assert_eq!(cutoff.words(), ["adaptive"]);
        let line_search = catalogue.iter().find(|e| e.key == "line_search").unwrap();
        assert_eq!(line_search.uses.len(), 1, "one shared description");

        let mut config = SolveConfig {
            optimizer: OptimizerKind::Adam.default_config(),
            ..SolveConfig::default()
        };
        let number = ConfigScalar::Number(5.0);
        assert_eq!(
            apply_option(&mut config, "sketch", &number),
            Err("does not apply to adam".to_string())
        );
        assert_eq!(
            apply_option(
                &mut config,
                "line_search",
                &ConfigScalar::Word("golden".into())
            ),
            Err("does not apply to adam".to_string())
        );
        assert_eq!(
            apply_option(&mut config, "sketchy", &number),
            Err("unknown option".to_string())
        );
        assert_eq!(
            apply_option(&mut config, "lr", &ConfigScalar::Number(0.5)),
            Ok(())
        );
        let OptimizerConfig::Adam(adam) = &config.optimizer else {
            unreachable!()
        };
        assert_eq!(adam.learning_rate, 0.5);
    }
}
