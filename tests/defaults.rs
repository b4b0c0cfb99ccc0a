//! `pdec solve` and the library follow one rule for a run's settings — what is given
//! over the file's `solve` block over the defaults — and so agree on every default.
//! The settings the command line used are read back from its checkpoint.

mod common;

use pdec::output::checkpoint::read_checkpoint;
use pdec::run::RunConfig;
use pdec::solve::{ConfigScalar, OptimizerKind};
use pdec::{Problem, SolveOptions};
use std::path::Path;

/// The run settings `pdec solve FILE ARGS… --iterations 0` used.
fn cli_config(file: &str, args: &[&str]) -> RunConfig {
    let name = format!("{}{}", file.replace(['/', '.'], "_"), args.join("_"));
    let dir = common::scratch_path("defaults", &name.replace(['-', '.'], ""));
    let (code, _, stderr) = common::code_and_text(&common::output_of(
        common::pdec_command(["solve", file, "--iterations", "0", "--quiet", "--no-plots"])
            .arg("--out")
            .arg(&dir)
            .args(args),
    ));
    assert_eq!(code, 0, "{stderr}");
    let checkpoint = read_checkpoint(&dir.join("checkpoint.json")).expect("a checkpoint");
    let _ = std::fs::remove_dir_all(&dir);
    checkpoint.config
}

fn library_config(file: &str, options: SolveOptions) -> RunConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let problem = Problem::from_file(path).expect("the example checks");
    options
        .iterations(0)
        .to_run_config(problem.ir())
        .expect("valid")
}

#[test]
fn the_command_line_and_the_library_agree_on_every_default() {
    for file in [
        "examples/heat1d.pde",
        "examples/transport.pde",
        "examples/laplace5d.pde",
    ] {
        let cli = cli_config(file, &[]);
        let library = library_config(file, SolveOptions::default());
        assert_eq!(cli, library, "{file}");
    }
}

#[test]
fn flags_and_library_options_override_the_file_alike() {
    let file = "examples/heat1d.pde";
    // Another optimizer than the file's starts from its defaults; its own options apply.
    let cli = cli_config(
        file,
        &[
            "--optimizer",
            "engd",
            "--damping",
            "1e-6",
            "--seed",
            "9",
            "--patience",
            "0",
        ],
    );
    let library = library_config(
        file,
        SolveOptions {
            patience: Some(0),
            ..SolveOptions::default()
        }
        .optimizer(OptimizerKind::Engd)
        .option("damping", ConfigScalar::Number(1e-6))
        .seed(9),
    );
    assert_eq!(cli, library);
    assert_eq!(cli.solve.optimizer.name(), "engd");
    assert_eq!((cli.seed(), cli.solve.patience), (9, None));
    // A flag of another optimizer is refused by both, naming the option.
    let (code, _, stderr) = common::code_and_text(&common::output_of(&mut common::pdec_command([
        "solve",
        file,
        "--optimizer",
        "adam",
        "--sketch",
        "40",
        "--iterations",
        "0",
    ])));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--sketch: does not apply to adam"),
        "{stderr}"
    );
    let refused = SolveOptions::default()
        .optimizer(OptimizerKind::Adam)
        .option("sketch", ConfigScalar::Number(40.0))
        .to_run_config(
            Problem::from_file(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                .unwrap()
                .ir(),
        );
    assert!(refused.is_err());
}

#[test]
fn causal_weighting_is_set_alike_from_the_command_line_and_the_library() {
    let file = "examples/heat1d.pde";
    let cli = cli_config(file, &["--causal", "0.5"]);
    let library = library_config(
        file,
        SolveOptions {
            causal: Some(0.5),
            ..SolveOptions::default()
        },
    );
    assert_eq!(cli, library);
    assert_eq!(cli.solve.causal, Some(0.5));
    assert_eq!(cli_config(file, &["--causal", "off"]).solve.causal, None);
    assert_eq!(
        library_config(file, SolveOptions::default()).solve.causal,
        None
    );
}
