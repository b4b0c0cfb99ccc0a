//! Helpers shared by the integration tests: running the `pdec` binary from the crate
//! root, and scratch folders under the system's temporary folder.

// Every test crate compiles this module and uses its own subset of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The `pdec` binary with `args`, to be run from the crate root (so example paths
/// such as `examples/heat1d.pde` resolve).
pub fn pdec_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_pdec"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// Runs `command` to the end.
pub fn output_of(command: &mut Command) -> Output {
    command.output().expect("pdec runs")
}

/// The exit code (-1 when there is none), stdout and stderr of a finished run.
pub fn code_and_text(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `<temp>/pdec-<suite>-<pid>-<name>`, removed if it exists (and not created).
pub fn scratch_path(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pdec-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// [`scratch_path`], created empty.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = scratch_path(suite, name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
