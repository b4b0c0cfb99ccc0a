//! The state an optimizer carries between iterations, as one opaque, serializable
//! value ([`SolverState`]), and where a continued run starts ([`SolveStart`]).

use super::driver::SolveConfig;
use super::report::{IterationRecord, SolveError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The state an optimizer carries between iterations (ENGD damping and momentum,
/// SNGD sketch size and sketch RNG, Adam moments, L-BFGS memory and cached point),
/// opaque but serializable: saved in checkpoints and restored with
/// [`super::driver::Solver::with_state`].
///
/// Serialized as `{"<optimizer>": <its state>}`, or as the bare name for a method
/// without state (`"anagram"`).
#[derive(Debug, Clone, PartialEq)]
pub struct SolverState {
    name: String,
    value: Value,
}

impl SolverState {
    /// The state `state` of the optimizer `name`.
    pub(crate) fn new<S: Serialize>(name: &str, state: &S) -> Self {
        Self {
            name: name.to_string(),
            // Plain data (numbers, vectors, RNG words): serializing cannot fail.
            value: serde_json::to_value(state).unwrap_or(Value::Null),
        }
    }

    /// The state of the optimizer `name`, which keeps none.
    pub(crate) fn stateless(name: &str) -> Self {
        Self {
            name: name.to_string(),
            value: Value::Null,
        }
    }

    /// The short name of the optimizer this state belongs to.
    pub fn optimizer_name(&self) -> &str {
        &self.name
    }

    /// The state as the optimizer `name`'s type `S`.
    ///
    /// # Errors
    /// [`SolveError::IncompatibleState`] when it belongs to another optimizer or does
    /// not read as an `S`.
    pub(crate) fn decode<S: DeserializeOwned>(&self, name: &str) -> Result<S, SolveError> {
        if self.name != name {
            return Err(SolveError::IncompatibleState {
                reason: format!("it is a {} state, the run uses {name}", self.name),
            });
        }
        serde_json::from_value(self.value.clone()).map_err(|e| SolveError::IncompatibleState {
            reason: format!("the {name} state does not read: {e}"),
        })
    }

    /// Checks that the state belongs to `config`'s optimizer and that its vectors have
    /// `n_params` entries.
    ///
    /// # Errors
    /// [`SolveError::IncompatibleState`] saying what does not fit.
    pub fn check(&self, config: &SolveConfig, n_params: usize) -> Result<(), SolveError> {
        config.optimizer.check_state(self, n_params)
    }
}

/// Checks `(what, length)` pairs of a saved state against `n_params`.
///
/// # Errors
/// [`SolveError::IncompatibleState`] naming the first vector of another length.
pub(crate) fn check_lengths<'a>(
    lengths: impl IntoIterator<Item = (&'a str, usize)>,
    n_params: usize,
) -> Result<(), SolveError> {
    for (what, len) in lengths {
        if len != n_params {
            return Err(SolveError::IncompatibleState {
                reason: format!("{what} has length {len}, expected {n_params}"),
            });
        }
    }
    Ok(())
}

impl Serialize for SolverState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.value.is_null() {
            return serializer.serialize_str(&self.name);
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&self.name, &self.value)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for SolverState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(deserializer)? {
            Value::String(name) => Ok(Self::stateless(&name)),
            Value::Object(map) if map.len() == 1 => {
                let Some((name, value)) = map.into_iter().next() else {
                    unreachable!("a map of one entry")
                };
                Ok(Self { name, value })
            }
            other => Err(D::Error::custom(format!(
                "expected an optimizer state such as {{\"engd\": {{...}}}}, found {other}"
            ))),
        }
    }
}

/// Where [`super::driver::solve_from`] starts: a saved optimizer state with the
/// history that led to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveStart {
    /// The optimizer state after the last recorded iteration.
    pub state: SolverState,
    /// Every iteration done so far; the run continues at the next iteration number.
    pub history: Vec<IterationRecord>,
    /// Seconds already spent (added to the records' `wall_s` and to the time budget).
    pub elapsed_s: f64,
}
