//! Grammar-aware fuzzing of the front end: token-level mutations (delete, insert,
//! replace, duplicate, swap, splice from another file, truncate) of `examples/*.pde` and
//! `tests/bad/*.pde`, each run through the lexer, the parser, lowering (`check_source`)
//! and the language service (hover, completion, definition, symbols at a random place).
//! No input may panic.
//!
//! The normal suite runs a few thousand inputs. The long run (see `docs/fuzzing.md`):
//!
//! ```text
//! PDEC_FUZZ_INPUTS=1000000 nice -n 19 cargo test --release --test fuzz_front_end -- --ignored --nocapture
//! ```
//!
//! `PDEC_FUZZ_SEED` picks another stream of inputs. Inputs that panic are written to
//! `target/fuzz-failures/` and make the test fail; the slowest input is written there too.

use pdec::lsp::Document;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The corpus: every example and every malformed test file.
fn corpus() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["examples", "tests/bad"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("corpus folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "pde"))
            .collect();
        paths.sort();
        files.extend(
            paths
                .iter()
                .map(|p| std::fs::read_to_string(p).expect("corpus file")),
        );
    }
    assert!(files.len() >= 20, "corpus too small: {}", files.len());
    files
}

/// Splits text into tokens such that concatenating them gives the text back:
/// whitespace runs, newlines, comments, strings, words, numbers and single characters.
fn tokenize(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = match c {
            '\n' => 1,
            ' ' | '\t' | '\r' => rest
                .find(|c| !matches!(c, ' ' | '\t' | '\r'))
                .unwrap_or(rest.len()),
            '#' => rest.find('\n').unwrap_or(rest.len()),
            '"' => rest[1..]
                .find(['"', '\n'])
                .map_or(rest.len(), |i| (i + 2).min(rest.len())),
            c if c.is_ascii_alphanumeric() || c == '_' || c == '.' => rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(rest.len()),
            c => c.len_utf8(),
        };
        let len = len.max(1);
        let len = (0..=len)
            .rev()
            .find(|&l| rest.is_char_boundary(l))
            .unwrap_or(len);
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

/// Tokens worth inserting besides those of the corpus: edge cases of every phase.
const EXTRA: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "\n",
    " ",
    ",",
    "=",
    ":",
    ".",
    "&",
    "^",
    "-",
    "+",
    "*",
    "/",
    "\"",
    "#",
    "@",
    "'",
    "é",
    "𝜅",
    "\r\n",
    "1e999",
    "0",
    "1/0",
    "0.0",
    "1e-320",
    "-1",
    "4294967296",
    "18446744073709551616",
    "dxxxxx",
    "dtttt",
    "d",
    "dn",
    "lap",
    "grad",
    "div",
    "dq",
    "dz",
    "on",
    "in",
    "from",
    "every",
    "shape",
    "of",
    "where",
    "and",
    "weight",
    "periodic",
    "interior",
    "boundary",
    "initial",
    "disk",
    "ball",
    "box",
    "mlp",
    "layers",
    "activation",
    "shared",
    "sampler",
    "halton",
    "grid",
    "resample",
    "optimizer",
    "iterations",
    "tol",
    "patience",
    "obs",
    "obs.u",
    "u",
    "v",
    "x",
    "t",
    "y",
    "pi",
    "e",
    "sin",
    "log",
    "sqrt",
    "time",
    "space",
    "field",
    "const",
    "param",
    "let",
    "data",
    "exact",
    "model",
    "sample",
    "solve",
    "((((((((((",
    "))))))))))",
    "[[[[",
    "]]]]",
    "--------",
    "^^^^",
    "\"missing.csv\"",
    "\"data/burgers_ref.csv\"",
    "\"data/inverse_poisson1d_obs.csv\"",
    "\"../Cargo.toml\"",
    "\"\"",
];

/// One mutated input.
fn mutate(rng: &mut ChaCha8Rng, files: &[Vec<&str>], pool: &[&str]) -> String {
    let mut tokens: Vec<&str> = files[rng.random_range(0..files.len())].clone();
    let n_ops = rng.random_range(1..=6);
    for _ in 0..n_ops {
        let len = tokens.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..len)
        };
        match rng.random_range(0..8) {
            0 if len > 0 => {
                let n = rng.random_range(1..=3).min(len - at);
                tokens.drain(at..at + n);
            }
            1 => tokens.insert(at.min(len), pool[rng.random_range(0..pool.len())]),
            2 if len > 0 => tokens[at] = pool[rng.random_range(0..pool.len())],
            3 if len > 0 => {
                let n = rng.random_range(1..=12).min(len - at);
                let copy: Vec<&str> = tokens[at..at + n].to_vec();
                let to = rng.random_range(0..=len);
                tokens.splice(to..to, copy);
            }
            4 if len > 1 => {
                let other = rng.random_range(0..len);
                tokens.swap(at, other);
            }
            5 => {
                let source = &files[rng.random_range(0..files.len())];
                if !source.is_empty() {
                    let from = rng.random_range(0..source.len());
                    let n = rng.random_range(1..=20).min(source.len() - from);
                    tokens.splice(at..at, source[from..from + n].iter().copied());
                }
            }
            6 if len > 0 => tokens.truncate(at),
            _ => {
                // Repeat one token many times (deep nesting, long chains).
                if len > 0 {
                    let token = tokens[at];
                    let n = rng.random_range(2..=300);
                    tokens.splice(at..at, std::iter::repeat_n(token, n));
                }
            }
        }
    }
    tokens.concat()
}

/// Runs every front-end entry point and the language service on `text`.
fn exercise(text: &str, base_dir: &Path, rng_position: u64) {
    let (file, _) = pdec::syntax::parse(text);
    let _ = pdec::ir::lower(&file, text, base_dir);
    let doc = Document::new(text.to_string(), 0, base_dir.to_path_buf());
    let lines = doc.text.lines().count().max(1) as u64;
    let position = lsp_types::Position::new(
        (rng_position % (lines + 1)) as u32,
        ((rng_position / 7) % 40) as u32,
    );
    let _ = pdec::lsp::hover(&doc, position);
    let _ = pdec::lsp::completion(&doc, position);
    let _ = pdec::lsp::definition(&doc, position);
    let _ = pdec::lsp::document_symbols(&doc);
    let uri: lsp_types::Uri = "file:///fuzz.pde".parse().expect("uri");
    let _ = doc.lsp_diagnostics(&uri);
}

struct Outcome {
    inputs: usize,
    panics: Vec<String>,
    slowest: (Duration, String),
    elapsed: Duration,
}

fn fuzz(n_inputs: usize, seed: u64) -> Outcome {
    let texts = corpus();
    let files: Vec<Vec<&str>> = texts.iter().map(|t| tokenize(t)).collect();
    for (text, tokens) in texts.iter().zip(&files) {
        assert_eq!(&tokens.concat(), text, "the tokenizer must be lossless");
    }
    let mut pool: Vec<&str> = files.iter().flatten().copied().collect();
    pool.sort_unstable();
    pool.dedup();
    pool.extend_from_slice(EXTRA);
    let base_dir = root().join("examples");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut panics = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for _ in 0..n_inputs {
        let text = mutate(&mut rng, &files, &pool);
        let position = rng.random::<u64>();
        let began = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| exercise(&text, &base_dir, position)));
        let took = began.elapsed();
        if took > slowest.0 {
            slowest = (took, text.clone());
        }
        if result.is_err() {
            panics.push(text);
        }
    }
    std::panic::set_hook(previous_hook);
    Outcome {
        inputs: n_inputs,
        panics,
        slowest,
        elapsed: start.elapsed(),
    }
}

fn report(outcome: &Outcome, seed: u64) {
    let dir = root().join("target").join("fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    for (k, text) in outcome.panics.iter().enumerate() {
        let _ = std::fs::write(dir.join(format!("seed{seed}-{k}.pde")), text);
    }
    // The slowest input, to look at when the time is far above the others'.
    let _ = std::fs::write(
        dir.join(format!("slowest-seed{seed}.pde")),
        &outcome.slowest.1,
    );
    eprintln!(
        "fuzz: {} inputs (seed {seed}) in {:.1} s, {} panics; slowest input {:.1} ms",
        outcome.inputs,
        outcome.elapsed.as_secs_f64(),
        outcome.panics.len(),
        outcome.slowest.0.as_secs_f64() * 1e3
    );
    assert!(
        outcome.panics.is_empty(),
        "{} inputs panicked; written to {}; first:\n{}",
        outcome.panics.len(),
        dir.display(),
        outcome.panics[0]
    );
}

fn seed() -> u64 {
    std::env::var("PDEC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn mutated_examples_never_panic() {
    let seed = seed();
    let outcome = fuzz(3_000, seed);
    report(&outcome, seed);
}

#[test]
#[ignore = "the long run: PDEC_FUZZ_INPUTS=1000000, in release mode (docs/fuzzing.md)"]
fn mutated_examples_never_panic_long_run() {
    let n = std::env::var("PDEC_FUZZ_INPUTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let seed = seed();
    let outcome = fuzz(n, seed);
    report(&outcome, seed);
}

#[test]
fn mutations_change_the_input() {
    let texts = corpus();
    let files: Vec<Vec<&str>> = texts.iter().map(|t| tokenize(t)).collect();
    let pool: Vec<&str> = EXTRA.to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let changed = (0..200)
        .filter(|_| {
            let text = mutate(&mut rng, &files, &pool);
            !texts.contains(&text)
        })
        .count();
    assert!(
        changed > 150,
        "only {changed} of 200 inputs differ from the corpus"
    );
}
