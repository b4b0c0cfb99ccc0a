//! `pdec explain FILE`: prints the lowered residual IR, per block its jets and linearization.

use super::{diagnostics_json, load, print_diagnostics, print_json, Format, InputArgs, Status};
use pdec::ir::describe;
use std::fmt::Write;

pub(super) fn run(args: &InputArgs) -> Status {
    let checked = match load(&args.file) {
        Ok(checked) => checked,
        Err(status) => return status,
    };
    let Some(problem) = &checked.problem else {
        return match args.format {
            Format::Json => {
                let status = print_json(&serde_json::json!({
                    "file": checked.name,
                    "ok": false,
                    "diagnostics": diagnostics_json(&checked),
                    "blocks": null,
                }));
                if status == Status::Ok {
                    Status::UserError
                } else {
                    status
                }
            }
            Format::Human => {
                print_diagnostics(&checked);
                Status::UserError
            }
        };
    };
    let blocks = describe::blocks(problem);
    let inputs = describe::inputs(problem);
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "file": checked.name,
            "ok": true,
            "diagnostics": diagnostics_json(&checked),
            "inputs": inputs,
            "ansatz": describe::ansatz(problem),
            "penalties": problem.soft_conditions,
            "blocks": blocks,
        })),
        Format::Human => {
            print_diagnostics(&checked);
            let mut out = String::new();
            // The coordinates as they are need no mention; an embedding does.
            if describe::has_embedding(problem) {
                let _ = writeln!(out, "network inputs: {}", inputs.join("; "));
                for &c in problem.embedded_periodic() {
                    let _ = writeln!(
                        out,
                        "  every field is periodic in {} with all its derivatives \
                         (no pair blocks; `constraints = soft` adds them instead)",
                        problem.coords[c].name
                    );
                }
                out.push('\n');
            }
            // Fields built with hard constraints: the ansatz, and the
            // conditions of that form left as penalties.
            let ansatz = describe::ansatz(problem);
            for line in &ansatz {
                let _ = writeln!(out, "ansatz: {line}");
            }
            for c in &problem.soft_conditions {
                let _ = writeln!(out, "penalty: {}: {}", c.label, c.reason);
            }
            if !ansatz.is_empty() || !problem.soft_conditions.is_empty() {
                out.push('\n');
            }
            // Fields of some coordinates only are named with them.
            if problem.fields.iter().any(|f| f.coords.is_some()) {
                let labels: Vec<String> = (0..problem.fields.len())
                    .map(|k| problem.field_label(k))
                    .collect();
                let _ = writeln!(out, "fields: {}\n", labels.join(", "));
            }
            for (i, block) in blocks.iter().enumerate() {
                let _ = writeln!(out, "block {}: {}", i + 1, block.equation);
                let _ = writeln!(out, "  region    {}", block.region);
                let _ = writeln!(out, "  weight    {}", block.weight);
                let _ = writeln!(out, "  residual  {}", block.residual);
                let _ = writeln!(
                    out,
                    "  {} in the jets, order {}",
                    if block.linear { "linear" } else { "nonlinear" },
                    block.order
                );
                let _ = writeln!(out, "  jets      {}", block.jets.join(", "));
                let _ = writeln!(out, "  linearization ∂F/∂jet:");
                for term in &block.linearization {
                    let _ = writeln!(out, "    ∂/∂{:<10} {}", term.jet, term.coefficient);
                }
                for term in &block.param_derivatives {
                    let _ = writeln!(out, "    ∂/∂{:<10} {}", term.jet, term.coefficient);
                }
                out.push('\n');
            }
            print!("{out}");
            Status::Ok
        }
    }
}
