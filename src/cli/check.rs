//! `pdec check FILE`: checks a problem and prints a short summary of it.

use super::{diagnostics_json, load, print_diagnostics, print_json, Format, InputArgs, Status};
use pdec::ir::{describe, Problem};
use std::fmt::Write;

pub(super) fn run(args: &InputArgs) -> Status {
    let checked = match load(&args.file) {
        Ok(checked) => checked,
        Err(status) => return status,
    };
    let ok = checked.problem.is_some();
    match args.format {
        Format::Json => {
            let summary = checked
                .problem
                .as_ref()
                .map(|p| serde_json::to_value(summary(p)).unwrap_or_default());
            let status = print_json(&serde_json::json!({
                "file": checked.name,
                "ok": ok,
                "diagnostics": diagnostics_json(&checked),
                "summary": summary,
            }));
            if status != Status::Ok {
                return status;
            }
        }
        Format::Human => {
            print_diagnostics(&checked);
            if let Some(problem) = &checked.problem {
                print!("{}", human_summary(&checked.name, problem));
            }
        }
    }
    if ok {
        Status::Ok
    } else {
        Status::UserError
    }
}

/// [`describe::summary`] with the optimizer a file leaves to the size resolved.
fn summary(problem: &Problem) -> describe::Summary {
    let mut summary = describe::summary(problem);
    summary.solve = describe::solve_line(problem, Some(pdec::run::file_optimizer(problem)));
    summary
}

fn human_summary(name: &str, problem: &Problem) -> String {
    let s = summary(problem);
    let mut out = String::new();
    let _ = writeln!(out, "{name}: ok");
    let _ = writeln!(out, "  coordinates  {}", s.coordinates.join(", "));
    let _ = writeln!(out, "  domain       {}", s.domain);
    let _ = writeln!(out, "  fields       {}", s.fields.join(", "));
    if !s.params.is_empty() {
        let _ = writeln!(out, "  params       {}", s.params.join(", "));
    }
    if !s.data.is_empty() {
        let _ = writeln!(out, "  data         {}", s.data.join(", "));
    }
    let _ = writeln!(out, "  equations");
    for (i, eq) in s.equations.iter().enumerate() {
        let _ = writeln!(out, "    {:>2}. {}", i + 1, eq.equation);
        let _ = writeln!(
            out,
            "        on {}, order {}, {}, weight {}; jets: {}",
            eq.region,
            eq.order,
            if eq.linear { "linear" } else { "nonlinear" },
            eq.weight,
            eq.jets.join(", ")
        );
    }
    if !s.exact.is_empty() {
        let _ = writeln!(out, "  exact        {}", s.exact.join("; "));
    }
    let _ = writeln!(out, "  model        {}", s.model);
    for line in &s.ansatz {
        let _ = writeln!(out, "  ansatz       {line}");
    }
    for line in &s.soft {
        let _ = writeln!(out, "  penalty      {line}");
    }
    if describe::has_embedding(problem) {
        let _ = writeln!(out, "  inputs       {}", s.inputs.join("; "));
    }
    let _ = writeln!(out, "  sample       {}", s.sample);
    let _ = writeln!(out, "  solve        {}", s.solve);
    out
}
