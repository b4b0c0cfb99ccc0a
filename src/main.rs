//! The `pdec` command line: parses arguments and dispatches to one subcommand.
//!
//! Exit codes: 0 success, 1 the input has errors, 2 an IO or internal failure.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    cli::run(cli::Cli::parse())
}
