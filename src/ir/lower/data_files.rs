//! `data` statements: reading the CSV file and matching its columns against
//! the coordinates and fields.

use super::lowerer::{Def, Lowerer};
use crate::ir::data::{match_columns, read_table};
use crate::ir::DataSet;
use crate::syntax::ast;

impl Lowerer<'_> {
    pub(super) fn data_item(
        &mut self,
        name: &ast::Ident,
        path: &ast::StrLit,
        kind: Option<&ast::Ident>,
    ) {
        let Some(binding) = self.names.get(&name.name).copied() else {
            return;
        };
        if binding.span != name.span {
            return;
        }
        match (binding.def, kind) {
            (Def::Data(i), None) => self.data[i] = self.load_data(&name.name, path),
            (Def::Grid(i), Some(kind)) => self.grids[i] = self.load_grid(&name.name, path, kind),
            _ => {}
        }
    }

    /// Reads a CSV and checks its columns against coordinates and fields.
    pub(super) fn load_data(&mut self, name: &str, path: &ast::StrLit) -> Option<DataSet> {
        let resolved = self.base_dir.join(&path.value);
        let table = match read_table(&resolved, &path.value, path.span) {
            Ok(t) => t,
            Err(d) => {
                self.error(d);
                return None;
            }
        };
        let coords: Vec<String> = self.coords.iter().map(|c| c.name.clone()).collect();
        let fields: Vec<String> = self.fields.iter().map(|f| f.name.clone()).collect();
        match match_columns(&table, &coords, &fields, &path.value, path.span) {
            Ok(coord_columns) => Some(DataSet {
                name: name.to_string(),
                path: resolved,
                columns: table.columns,
                values: table.values,
                coord_columns,
                span: path.span,
            }),
            Err(errors) => {
                self.diags.extend(errors);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::display::display_expr;
    use crate::ir::lower::lower;
    use crate::ir::testing::*;
    use crate::ir::Region;
    use crate::span::Span;
    use crate::syntax::ast;

    #[test]
    fn data_sets_are_loaded_and_their_columns_usable_only_on_them() {
        let dir = std::env::temp_dir().join(format!("pdec-ir-lower-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("obs.csv"), "x,u\n0.1,0.5\n0.2,0.7\n").expect("write");
        std::fs::write(dir.join("bad.csv"), "x,w\n0.1,0.5\n").expect("write");
        let data = |name: &str, file: &str| {
            item(ast::ItemKind::Data {
                name: ident(name),
                path: ast::StrLit {
                    value: file.to_string(),
                    span: Span::default(),
                },
                kind: None,
            })
        };
        let items = vec![
            space("x", 0.0, 1.0),
            fields(&["u"]),
            item(ast::ItemKind::Param {
                name: ident("k"),
                init: expr("1"),
            }),
            data("obs", "obs.csv"),
            equation("-k*dxx(u)", "1", "interior"),
            equation("u", "obs.u", "obs"),
        ];
        let (p, diags) = lower(
            &ast::File {
                items: items.clone(),
            },
            "",
            &dir,
        );
        assert!(diags.is_empty(), "{diags:#?}");
        let p = p.expect("problem");
        assert_eq!(p.data[0].n_rows(), 2);
        assert_eq!(p.data[0].coord_columns, vec![0]);
        assert_eq!(p.blocks[1].region, Region::Data { set: 0 });
        assert_eq!(display_expr(&p, p.blocks[1].residual), "u - obs.u");

        let mut items2 = items.clone();
        items2.push(equation("u", "obs.u", "interior"));
        items2.push(equation("u", "obs.v", "obs"));
        items2.push(data("missing", "nope.csv"));
        items2.push(data("bad", "bad.csv"));
        let (_, diags) = lower(&ast::File { items: items2 }, "", &dir);
        let got: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(got, vec!["E0301", "E0306", "E0210", "E0211"]);
    }
}
