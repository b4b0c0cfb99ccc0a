//! The `pdec` command line: parses arguments and dispatches to one subcommand.
//!
//! Exit codes: 0 success, 1 the input has errors, 2 an IO or internal failure (an
//! unwritable folder, a missing or garbled checkpoint, a bad `--at` file), 130 a solve
//! stopped by Ctrl-C (its files written).

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    pdec::keep_freed_memory();
    cli::run(cli::Cli::parse())
}
