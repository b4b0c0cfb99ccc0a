//! Command-line front: argument types, input loading, diagnostic rendering, exit codes.
//!
//! Only this module prints or decides exit codes; each subcommand has its own file.

mod bench;
mod check;
mod eval;
mod explain;
mod lsp;
mod plot;
mod run_dir;
mod solve;

use clap::{Parser, Subcommand, ValueEnum};
use pdec::diagnostic::{Diagnostic, Severity};
use pdec::ir::Problem;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// pdec: compile and solve physics-informed losses.
#[derive(Debug, Parser)]
#[command(name = "pdec", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a .pde file and print a summary of the problem.
    Check(InputArgs),
    /// Print the lowered residual IR: per equation, its jets and linearization.
    Explain(InputArgs),
    /// Train the ansatz and write the run folder (summary.json, history.csv,
    /// checkpoint.json, figures); `--resume RUN_DIR` continues a stopped run.
    Solve(Box<solve::SolveArgs>),
    /// Write the trained fields (and derivatives, `--jet dx(u)`) at given points.
    Eval(eval::EvalArgs),
    /// Redraw a run's figures and solution.csv from its checkpoint.
    Plot(plot::PlotArgs),
    /// Benchmark: solve files over seeds and thread counts, each run a fresh process,
    /// and tabulate median and worst errors, successes and time to accuracy.
    Bench(bench::BenchArgs),
    /// Run the language server (Language Server Protocol over stdin/stdout) for editors.
    Lsp(lsp::LspArgs),
}

#[derive(Debug, clap::Args)]
struct InputArgs {
    /// The .pde file.
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// Exit status of a subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    UserError,
    Failure,
    /// A solve stopped by Ctrl-C after writing its files.
    Interrupted,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(match status {
            Status::Ok => 0,
            Status::UserError => 1,
            Status::Failure => 2,
            Status::Interrupted => solve::INTERRUPTED_EXIT_CODE as u8,
        })
    }
}

pub fn run(cli: Cli) -> ExitCode {
    let status = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Solve(args) => solve::run_solve(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Lsp(args) => lsp::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    status.into()
}

/// A source file and the result of checking it.
struct Checked {
    name: String,
    source: String,
    problem: Option<Problem>,
    diagnostics: Vec<Diagnostic>,
}

/// Reads and checks `path`. IO failures are reported here and give `Err(Status::Failure)`.
fn load(path: &Path) -> Result<Checked, Status> {
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: cannot read `{name}`: {err}");
            return Err(Status::Failure);
        }
    };
    let source = match String::from_utf8(bytes) {
        Ok(source) => source,
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let (line, col) = pdec::span::line_col(&prefix, prefix.len());
            let diagnostic = Diagnostic::error(
                "E0000",
                format!("`{name}` is not valid UTF-8 (at line {line}, column {col}, byte {valid})"),
            )
            .with_help("save the file as UTF-8");
            return Ok(Checked {
                name,
                source: prefix,
                problem: None,
                diagnostics: vec![diagnostic],
            });
        }
    };
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let (problem, diagnostics) = pdec::check_source(&source, base_dir);
    Ok(Checked {
        name,
        source,
        problem,
        diagnostics,
    })
}

/// Prints every diagnostic to stderr (human format) and a count line.
fn print_diagnostics(checked: &Checked) {
    let plain = !std::io::stderr().is_terminal() || std::env::var_os("NO_COLOR").is_some();
    for diagnostic in &checked.diagnostics {
        if plain {
            eprint!(
                "{}",
                diagnostic.render_plain(&checked.name, &checked.source, 100)
            );
        } else {
            eprint!("{:?}", diagnostic.to_report(&checked.name, &checked.source));
        }
        eprintln!();
    }
    let errors = count(&checked.diagnostics, Severity::Error);
    let warnings = count(&checked.diagnostics, Severity::Warning);
    if errors > 0 {
        eprintln!(
            "{}: {} error{}{}",
            checked.name,
            errors,
            plural(errors),
            if warnings > 0 {
                format!(", {} warning{}", warnings, plural(warnings))
            } else {
                String::new()
            }
        );
    }
}

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .count()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Diagnostics as JSON values with line and column positions.
fn diagnostics_json(checked: &Checked) -> serde_json::Value {
    let items = checked
        .diagnostics
        .iter()
        .map(|d| {
            let position = |offset: u32| {
                let (line, column) = pdec::span::line_col(&checked.source, offset as usize);
                serde_json::json!({ "line": line, "column": column })
            };
            serde_json::json!({
                "code": d.code,
                "severity": d.severity,
                "message": d.message,
                "help": d.help,
                "labels": d.labels.iter().map(|l| serde_json::json!({
                    "message": l.message,
                    "start": position(l.span.start),
                    "end": position(l.span.end),
                })).collect::<Vec<_>>(),
            })
        })
        .collect::<Vec<_>>();
    serde_json::Value::Array(items)
}

/// Prints a JSON document to stdout.
fn print_json(value: &serde_json::Value) -> Status {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            println!("{text}");
            Status::Ok
        }
        Err(err) => {
            eprintln!("error: cannot serialize output: {err}");
            Status::Failure
        }
    }
}
