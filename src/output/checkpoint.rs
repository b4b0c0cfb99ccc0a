//! `checkpoint.json`: everything needed to continue a run exactly where it stopped
//! (documented in `docs/outputs.md`), with a digest of the problem so that a
//! checkpoint is never applied to another problem.
//!
//! Floating-point numbers are stored as JSON strings holding Rust's shortest
//! round-trip decimal (`"0.1"`, `"1e-300"`, `"NaN"`) and read back with Rust's
//! correctly rounded parser: a JSON number would be read by `serde_json`'s
//! best-effort parser, which can be one unit in the last place off, and a resumed run
//! would then not repeat the uninterrupted one bit for bit.

use super::{write_atomic, OutputError};
use crate::ir::{ExactSource, ExprId, Node, Problem, SolveSettings};
use crate::run::{RunConfig, RunState};
use serde_json::{Number, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The checkpoint's file name inside a run folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";

/// The value of the `format` key.
pub const FORMAT: &str = "pdec-checkpoint";

/// The version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The content of `checkpoint.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub version: u32,
    /// The `.pde` file as given to `pdec solve`, relative to the folder it ran in.
    pub problem_file: String,
    /// The same file relative to the run folder, so that it is found from anywhere and
    /// when the run folder moves together with it (absent in checkpoints of older pdec
    /// versions, when either could not be located, and when no relative path joins them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_from_run: Option<String>,
    /// [`problem_digest`] of the problem the run solved (hex SHA-256).
    pub problem_digest: String,
    /// The run's settings: optimizer and stopping rules, seed, `eval_every`.
    pub config: RunConfig,
    /// A checkpoint is written every this many iterations (0: only at the end).
    pub checkpoint_every: usize,
    /// The last iteration done.
    pub iteration: usize,
    /// Parameters, optimizer state, point-set seed, histories, elapsed seconds.
    pub state: RunState,
}

/// Why a checkpoint could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The checkpoint file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a checkpoint this build understands.
    #[error("{} is not a valid checkpoint: {message}", path.display())]
    Garbled {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The checkpoint belongs to another problem.
    #[error(
        "{} was written for another problem: its digest {saved} (of `{saved_file}` when the \
         checkpoint was written) differs from {current} (of `{current_file}` now)",
        path.display()
    )]
    OtherProblem {
        /// The checkpoint file.
        path: PathBuf,
        /// The digest stored in the checkpoint.
        saved: String,
        /// The problem file named in the checkpoint.
        saved_file: String,
        /// The digest of the problem given now.
        current: String,
        /// The problem file given now.
        current_file: String,
    },
}

/// Hex SHA-256 of the lowered problem, in a canonical form: the IR serialized as JSON
/// (coordinates, domain, fields, params, the *contents* of data files, periodic
/// coordinates, jets, each equation's region, weight and residual expression tree,
/// exact solutions, model and sampling) without source positions, equation texts,
/// data-file locations and the `solve` block. So comments, spacing, moving the files
/// and the solver settings (which the checkpoint stores itself) keep the digest;
/// anything that changes what is solved changes it.
pub fn problem_digest(problem: &Problem) -> String {
    let mut canonical = problem.clone();
    canonical.solve = SolveSettings::default();
    for data in &mut canonical.data {
        data.path = PathBuf::new();
    }
    for grid in &mut canonical.grids {
        grid.path = PathBuf::new();
    }
    for exact in &mut canonical.exact {
        if let ExactSource::Data { set, .. } = &mut exact.source {
            set.path = PathBuf::new();
        }
    }
    let mut value = serde_json::to_value(&canonical).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        // Expression ids index the arena, whose numbering depends on the order of
        // lowering: replace each by its tree and drop the arena.
        map.remove("exprs");
        map.remove("solve");
        if let Some(Value::Array(blocks)) = map.get_mut("blocks") {
            for (block, lowered) in blocks.iter_mut().zip(&problem.blocks) {
                if let Value::Object(b) = block {
                    b.insert("residual".into(), expr_tree(problem, lowered.residual));
                    for derived in ["linearization", "param_derivatives", "label"] {
                        b.remove(derived);
                    }
                }
            }
        }
        if let Some(Value::Array(exact)) = map.get_mut("exact") {
            for (item, lowered) in exact.iter_mut().zip(&problem.exact) {
                if let (Value::Object(e), ExactSource::Expr(id)) = (item, &lowered.source) {
                    e.insert("source".into(), expr_tree(problem, *id));
                }
            }
        }
    }
    strip_spans(&mut value);
    let bytes = serde_json::to_vec(&value).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The expression `id` as a nested JSON tree (constants by their bits, jets spelled out).
fn expr_tree(problem: &Problem, id: ExprId) -> Value {
    let tree = |id| expr_tree(problem, id);
    match problem.exprs.node(id) {
        Node::Const(bits) => serde_json::json!({ "const": bits }),
        Node::Coord(i) => serde_json::json!({ "coord": i }),
        Node::Normal(i) => serde_json::json!({ "normal": i }),
        Node::Jet(j) => serde_json::json!({ "jet": problem.jet(j) }),
        Node::Param(i) => serde_json::json!({ "param": i }),
        Node::Data { set, column } => serde_json::json!({ "data": [set, column] }),
        Node::Grid(id) => serde_json::json!({ "grid": problem.grid_terms[id.0 as usize] }),
        Node::Unary(f, a) => serde_json::json!([f, tree(a)]),
        Node::Binary(op, a, b) => serde_json::json!([op, tree(a), tree(b)]),
        Node::Select {
            compare,
            left,
            right,
            then,
            otherwise,
        } => serde_json::json!([
            "select",
            compare,
            tree(left),
            tree(right),
            tree(then),
            tree(otherwise)
        ]),
    }
}

fn strip_spans(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("span");
            map.values_mut().for_each(strip_spans);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_spans),
        _ => {}
    }
}

impl Checkpoint {
    /// A checkpoint of `state`, a run of `problem` (read from `problem_file`) with `config`.
    pub fn new(
        problem_file: &str,
        problem: &Problem,
        config: &RunConfig,
        checkpoint_every: usize,
        state: RunState,
    ) -> Self {
        Checkpoint {
            format: FORMAT.to_string(),
            version: FORMAT_VERSION,
            problem_file: problem_file.to_string(),
            problem_from_run: None,
            problem_digest: problem_digest(problem),
            config: config.clone(),
            checkpoint_every,
            iteration: state.iteration(),
            state,
        }
    }

    /// The checkpoint, noting where its problem file lies relative to `run_dir`, the
    /// folder it is written into (both must exist).
    #[must_use]
    pub fn in_run_folder(mut self, run_dir: &Path) -> Self {
        let located = |p: &Path| std::fs::canonicalize(p).ok();
        self.problem_from_run = located(Path::new(&self.problem_file))
            .zip(located(run_dir))
            .and_then(|(file, dir)| relative_path(&dir, &file))
            .map(|rel| rel.display().to_string());
        self
    }

    /// The problem file this checkpoint (read from `path`) names, as candidates in the
    /// order to try: relative to the run folder (`path`'s folder), then as given to
    /// `pdec solve`.
    #[must_use]
    pub fn problem_candidates(&self, path: &Path) -> Vec<PathBuf> {
        let run_dir = path.parent().unwrap_or(Path::new("."));
        self.problem_from_run
            .iter()
            .map(|rel| run_dir.join(rel))
            .chain(std::iter::once(PathBuf::from(&self.problem_file)))
            .collect()
    }

    /// The checkpoint as pretty JSON, floats as exact strings.
    ///
    /// # Errors
    /// A value serde cannot represent (not expected for these types).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut value = serde_json::to_value(self)?;
        if let Value::Object(map) = &mut value {
            for key in ["config", "state"] {
                if let Some(v) = map.get_mut(key) {
                    encode_floats(v);
                }
            }
        }
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        Ok(text)
    }

    /// Parses a checkpoint written by [`Checkpoint::to_json`]; `path` names it in errors.
    ///
    /// # Errors
    /// [`CheckpointError::Garbled`] when the text is not JSON, not a checkpoint, or of
    /// another format version.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, CheckpointError> {
        let garbled = |message: String| CheckpointError::Garbled {
            path: path.to_path_buf(),
            message,
        };
        let mut value: Value = serde_json::from_str(text).map_err(|e| garbled(e.to_string()))?;
        let Value::Object(map) = &mut value else {
            return Err(garbled("expected a JSON object".to_string()));
        };
        if map.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(garbled(format!("the `format` key is not \"{FORMAT}\"")));
        }
        match map.get("version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(garbled(format!(
                    "format version {v}, this pdec reads version {FORMAT_VERSION}"
                )))
            }
            None => return Err(garbled("no format version".to_string())),
        }
        for key in ["config", "state"] {
            if let Some(v) = map.get_mut(key) {
                decode_floats(v);
            }
        }
        let checkpoint: Checkpoint =
            serde_json::from_value(value).map_err(|e| garbled(e.to_string()))?;
        if checkpoint.iteration != checkpoint.state.iteration() {
            return Err(garbled(format!(
                "`iteration` is {} but the history ends at {}",
                checkpoint.iteration,
                checkpoint.state.iteration()
            )));
        }
        Ok(checkpoint)
    }

    /// Checks that the checkpoint was written for `problem` (read from `problem_file`).
    ///
    /// # Errors
    /// [`CheckpointError::OtherProblem`] naming both digests and their files.
    pub fn check_problem(
        &self,
        problem: &Problem,
        problem_file: &str,
        path: &Path,
    ) -> Result<(), CheckpointError> {
        let current = problem_digest(problem);
        if current == self.problem_digest {
            Ok(())
        } else {
            Err(CheckpointError::OtherProblem {
                path: path.to_path_buf(),
                saved: self.problem_digest.clone(),
                saved_file: self.problem_file.clone(),
                current,
                current_file: problem_file.to_string(),
            })
        }
    }
}

/// `to` relative to the folder `from`, both absolute and free of `.` and `..`
/// (canonical): `../` for each of `from`'s components past the common prefix, then the
/// rest of `to`. None when they share no root (two Windows drives): no relative path
/// leads from one to the other.
fn relative_path(from: &Path, to: &Path) -> Option<PathBuf> {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c);
    }
    Some(rel)
}

/// Writes `checkpoint` to `path` atomically.
///
/// # Errors
/// The file cannot be written.
pub fn write_checkpoint(path: &Path, checkpoint: &Checkpoint) -> Result<(), OutputError> {
    let text = checkpoint
        .to_json()
        .map_err(|e| OutputError::invalid(path, e.to_string()))?;
    write_atomic(path, text.as_bytes())
}

/// Reads the checkpoint at `path`.
///
/// # Errors
/// [`CheckpointError::Read`] when the file cannot be read, [`CheckpointError::Garbled`]
/// when it is not a checkpoint of this format version.
pub fn read_checkpoint(path: &Path) -> Result<Checkpoint, CheckpointError> {
    let text = std::fs::read_to_string(path).map_err(|source| CheckpointError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Checkpoint::from_json(&text, path)
}

/// Replaces every floating-point number in `value` by a string of its shortest
/// round-trip decimal. Integers stay numbers.
fn encode_floats(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(x) = n.as_f64() {
                *value = Value::String(format!("{x:?}"));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(encode_floats),
        Value::Object(map) => map.values_mut().for_each(encode_floats),
        _ => {}
    }
}

/// The inverse of [`encode_floats`]: strings that read as a float become numbers.
/// The encoded subtrees hold no other strings that look like numbers (their other
/// strings are enum variant names such as `"max_iterations"`).
fn decode_floats(value: &mut Value) {
    match value {
        Value::String(text) if looks_like_float(text) => {
            if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
                *value = Value::Number(n);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(decode_floats),
        Value::Object(map) => map.values_mut().for_each(decode_floats),
        _ => {}
    }
}

fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    body.starts_with(|c: char| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::program::FieldError;
    use crate::run::BestIterate;
    use crate::solve::{IterationRecord, SolveConfig, Solver};
    use crate::solve::{OptimizerConfig, SngdConfig};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn heat_source() -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/heat1d.pde"))
            .expect("heat1d.pde")
    }

    fn problem(source: &str) -> Problem {
        crate::check_source(source, Path::new("."))
            .0
            .expect("checks")
    }

    /// Finite doubles with random bit patterns (all exponents, subnormals included),
    /// plus values whose shortest decimal has 17 digits.
    fn awkward_floats(n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut out = vec![
            0.1,
            -0.0,
            1e-300,
            5e-324,
            f64::MAX,
            0.1 + 0.2,
            2.0f64.sqrt(),
        ];
        while out.len() < n {
            let x = f64::from_bits(rng.random::<u64>());
            if x.is_finite() {
                out.push(x);
            }
        }
        out
    }

    #[test]
    fn a_path_relative_to_the_run_folder_climbs_out_of_it_then_down_to_the_file() {
        let rel = |from: &str, to: &str| relative_path(Path::new(from), Path::new(to)).unwrap();
        assert_eq!(rel("/a/b/run", "/a/b/p.pde"), Path::new("../p.pde"));
        assert_eq!(rel("/a/b/run", "/a/b/run/p.pde"), Path::new("p.pde"));
        assert_eq!(
            rel("/a/runs/r1", "/a/ex/p.pde"),
            Path::new("../../ex/p.pde")
        );
        assert_eq!(rel("/r", "/x/y/p.pde"), Path::new("../x/y/p.pde"));
        // A shared prefix of a name is not a shared folder.
        assert_eq!(rel("/a/bc", "/a/b/p.pde"), Path::new("../b/p.pde"));
        // Without a shared root (a run folder on one Windows drive, the file on another;
        // here two relative paths) there is no such path.
        assert_eq!(
            relative_path(Path::new("d/run"), Path::new("e/p.pde")),
            None
        );
    }

    fn sample_checkpoint(theta: Vec<f64>) -> Checkpoint {
        let solve = SolveConfig {
            optimizer: OptimizerConfig::Sngd(SngdConfig::default()),
            seed: 3,
            ..SolveConfig::default()
        };
        let config = RunConfig {
            solve: solve.clone(),
            eval_every: 10,
        };
        let history = (1..=3)
            .map(|i| IterationRecord {
                iteration: i,
                loss: theta[i].abs(),
                step_size: 0.5f64.powi(i as i32),
                damping: None,
                rank: Some(i + 10),
                retries: i - 1,
                accepted: i != 2,
                cg_iterations: (i == 3).then_some(17),
                jacobian_passes: (i == 3).then_some(5),
                wall_s: theta[i + 3].abs(),
            })
            .collect();
        let state = RunState {
            solver: Solver::new(solve).state(),
            points_seed: u64::MAX - 5,
            points_adapted_at: None,
            points_added: None,
            history,
            heldout_history: vec![(3, theta[9])],
            error_history: vec![(
                3,
                vec![FieldError {
                    field: 0,
                    relative_l2: theta[7],
                    max_abs: theta[8],
                }],
            )],
            elapsed_s: theta[9].abs(),
            best: Some(BestIterate {
                iteration: 2,
                heldout_loss: theta[10],
                theta: theta[..5].to_vec(),
            }),
            theta,
        };
        Checkpoint::new(
            "examples/heat1d.pde",
            &problem(&heat_source()),
            &config,
            50,
            state,
        )
    }

    #[test]
    fn every_float_round_trips_bit_for_bit() {
        let theta = awkward_floats(3000);
        let checkpoint = sample_checkpoint(theta.clone());
        let text = checkpoint.to_json().unwrap();
        let back = Checkpoint::from_json(&text, Path::new("c.json")).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.state.theta), bits(&theta));
        assert_eq!(back, checkpoint);
        // The sketch RNG (a u128 word position inside) survives too.
        assert_eq!(back.state.solver, checkpoint.state.solver);
        assert_eq!(back.iteration, 3);
    }

    #[test]
    fn a_checkpoint_without_the_heldout_history_reads_it_as_empty() {
        let checkpoint = sample_checkpoint(awkward_floats(20));
        assert!(!checkpoint.state.heldout_history.is_empty());
        let mut value: Value = serde_json::from_str(&checkpoint.to_json().unwrap()).unwrap();
        let state = value["state"].as_object_mut().unwrap();
        assert!(state.remove("heldout_history").is_some());
        let text = serde_json::to_string(&value).unwrap();
        let back = Checkpoint::from_json(&text, Path::new("c.json")).unwrap();
        assert!(back.state.heldout_history.is_empty());
        let mut expected = checkpoint;
        expected.state.heldout_history.clear();
        assert_eq!(back, expected);
    }

    #[test]
    fn garbled_files_and_other_versions_are_refused_with_the_path() {
        let path = Path::new("runs/x/checkpoint.json");
        let text = sample_checkpoint(awkward_floats(20)).to_json().unwrap();
        let cases = [
            String::new(),
            "{\"format\": \"pdec-checkpoint\"".to_string(),
            "[1, 2]".to_string(),
            text.replace("\"version\": 1", "\"version\": 99"),
            text.replace("\"format\": \"pdec-checkpoint\"", "\"format\": \"other\""),
            text.replace("\"points_seed\"", "\"seed_of_points\""),
            text.replacen("\"iteration\": 3", "\"iteration\": 4", 1),
        ];
        for case in cases {
            let err = Checkpoint::from_json(&case, path).unwrap_err();
            assert!(matches!(err, CheckpointError::Garbled { .. }), "{err:?}");
            assert!(err.to_string().contains("runs/x/checkpoint.json"), "{err}");
        }
    }

    #[test]
    fn digest_follows_the_equations_not_the_solver_settings() {
        let source = heat_source();
        let base = problem_digest(&problem(&source));
        assert_eq!(base.len(), 64);
        let other_solver = source.replace(
            "solve  iterations = 1000",
            "solve  optimizer = engd, iterations = 5",
        );
        assert_ne!(other_solver, source, "the example's solve line changed");
        assert_eq!(problem_digest(&problem(&other_solver)), base);
        let other_kappa = source.replace("kappa = 0.25", "kappa = 0.5");
        assert_ne!(problem_digest(&problem(&other_kappa)), base);
        let other_points = source.replace("interior = 900", "interior = 901");
        assert_ne!(problem_digest(&problem(&other_points)), base);
        let comments_and_spacing = format!("# a note\n{}", source.replace(" - kappa", "-kappa"));
        assert_eq!(problem_digest(&problem(&comments_and_spacing)), base);
        let other_exact = source.replace("exact u = exp(", "exact u = 1.0*exp(2*");
        assert_ne!(problem_digest(&problem(&other_exact)), base);
    }

    #[test]
    fn a_checkpoint_of_another_problem_is_refused_naming_both_digests() {
        let checkpoint = sample_checkpoint(awkward_floats(20));
        let source = heat_source().replace("kappa = 0.25", "kappa = 0.5");
        let other = problem(&source);
        let path = Path::new("run/checkpoint.json");
        let err = checkpoint
            .check_problem(&other, "changed.pde", path)
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&checkpoint.problem_digest), "{message}");
        assert!(message.contains(&problem_digest(&other)), "{message}");
        assert!(message.contains("examples/heat1d.pde"), "{message}");
        assert!(message.contains("changed.pde"), "{message}");
        assert!(checkpoint
            .check_problem(&problem(&heat_source()), "h.pde", path)
            .is_ok());
    }

    #[test]
    fn checkpoint_is_written_atomically() {
        let dir = super::super::test_util::ScratchDir::new("checkpoint");
        let path = dir.path().join(CHECKPOINT_FILE);
        let checkpoint = sample_checkpoint(awkward_floats(50));
        write_checkpoint(&path, &checkpoint).unwrap();
        assert_eq!(dir.entries(), vec![CHECKPOINT_FILE.to_string()]);
        assert_eq!(read_checkpoint(&path).unwrap(), checkpoint);
        let missing = read_checkpoint(&dir.path().join("none.json")).unwrap_err();
        assert!(matches!(missing, CheckpointError::Read { .. }));
        assert!(missing.to_string().contains("none.json"));
    }
}
