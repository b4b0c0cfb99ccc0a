//! `exact` statements: an exact solution as a formula or read from a file.

use super::lowerer::{Ctx, Def, Lowerer};
use crate::diagnostic::Diagnostic;
use crate::ir::{ExactSolution, ExactSource};
use crate::syntax::ast;

impl Lowerer<'_> {
    pub(super) fn exact_item(&mut self, field: &ast::Ident, source: &ast::ExactSource) {
        let k = match self.names.get(&field.name).map(|b| b.def) {
            Some(Def::Field(k)) => Some(k),
            Some(def) => {
                self.error(
                    Diagnostic::error(
                        "E0104",
                        format!(
                            "`exact` names a field, but `{}` is a {}",
                            field.name,
                            def.kind_name()
                        ),
                    )
                    .with_label(field.span, "not a field"),
                );
                None
            }
            None => {
                self.unknown_field(&field.name, field.span);
                None
            }
        };
        let lowered = match source {
            ast::ExactSource::Expr(expr) => {
                self.lower_expr(expr, Ctx::Exact).map(ExactSource::Expr)
            }
            ast::ExactSource::File(path) => {
                let field_name = k.map(|k| self.fields[k].name.clone());
                self.load_data(&field.name, path).and_then(|set| {
                    let column = set
                        .columns
                        .iter()
                        .position(|c| Some(c) == field_name.as_ref());
                    match (column, &field_name) {
                        (Some(column), _) => Some(ExactSource::Data { set, column }),
                        (None, Some(name)) => {
                            self.error(
                                Diagnostic::error(
                                    "E0305",
                                    format!(
                                        "reference file `{}` has no column for the field `{name}`",
                                        path.value
                                    ),
                                )
                                .with_label(path.span, "this file")
                                .with_help(format!("its header is `{}`", set.columns.join(","))),
                            );
                            None
                        }
                        (None, None) => None,
                    }
                })
            }
        };
        let (Some(k), Some(source)) = (k, lowered) else {
            return;
        };
        if let Some(first) = self.exact.iter().find(|e| e.field == k) {
            let first = first.span;
            self.error(
                Diagnostic::error("E0225", format!("two exact solutions for `{}`", field.name))
                    .with_label(field.span, "declared again here")
                    .with_label(first, "first declared here"),
            );
            return;
        }
        self.exact.push(ExactSolution {
            field: k,
            source,
            span: field.span,
        });
    }
}
