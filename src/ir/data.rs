//! Reading and checking the CSV files named by `data` and `exact ... from`.
//!
//! A data file has a header line of column names and one numeric row per
//! observation. Lines starting with `#` are comments; cells are trimmed.

use super::names::did_you_mean;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use std::path::Path;

/// A CSV file read into columns.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Table {
    pub columns: Vec<String>,
    /// `values[column][row]`.
    pub values: Vec<Vec<f64>>,
}

/// Reads `path` (shown to the user as `shown`), reporting at `span` (the
/// string literal) on failure.
///
/// # Errors
/// E0301 missing or unreadable file, E0302 malformed CSV (bad UTF-8, ragged
/// rows), E0303 no header or no rows, E0304 duplicate column, E0308 a cell that
/// is not a finite number.
pub(super) fn read_table(path: &Path, shown: &str, span: Span) -> Result<Table, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|err| {
        Diagnostic::error("E0301", format!("cannot read data file `{shown}`: {err}"))
            .with_label(span, "this file")
            .with_help(format!(
                "the path is resolved relative to the .pde file: {}",
                path.display()
            ))
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes.as_slice());
    let malformed = |err: csv::Error| {
        let line = err.position().map(|p| p.line());
        let what = match err.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("a row has {len} cells but the header has {expected_len}"),
            csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8".to_string(),
            _ => err.to_string(),
        };
        let at = line.map_or(String::new(), |l| format!(" (line {l})"));
        Diagnostic::error(
            "E0302",
            format!("malformed data file `{shown}`: {what}{at}"),
        )
        .with_label(span, "this file")
    };
    let header = reader.headers().map_err(malformed)?.clone();
    let columns: Vec<String> = header.iter().map(str::to_string).collect();
    if columns.is_empty() || columns.iter().all(String::is_empty) {
        return Err(
            Diagnostic::error("E0303", format!("data file `{shown}` is empty"))
                .with_label(span, "this file")
                .with_help("the first line must name the columns, e.g. `x,u`"),
        );
    }
    for (i, name) in columns.iter().enumerate() {
        if columns[..i].contains(name) {
            return Err(Diagnostic::error(
                "E0304",
                format!("data file `{shown}` has the column `{name}` twice"),
            )
            .with_label(span, "this file"));
        }
    }
    let mut values = vec![Vec::new(); columns.len()];
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        let line = record.position().map_or(0, |p| p.line());
        for (col, cell) in record.iter().enumerate() {
            let value = cell.parse::<f64>().ok().filter(|v| v.is_finite());
            match value {
                Some(v) => values[col].push(v),
                None => {
                    return Err(Diagnostic::error(
                        "E0308",
                        format!(
                            "data file `{shown}`, line {line}, column `{}`: `{cell}` is not a finite number",
                            columns[col]
                        ),
                    )
                    .with_label(span, "this file"))
                }
            }
        }
    }
    if values[0].is_empty() {
        return Err(
            Diagnostic::error("E0303", format!("data file `{shown}` has no rows"))
                .with_label(span, "this file"),
        );
    }
    Ok(Table { columns, values })
}

/// Checks a table's header against the problem's names: every coordinate must
/// have a column, and every column must be a coordinate or a field. Returns
/// the column of each coordinate.
///
/// # Errors
/// E0305 a coordinate without a column, E0306 a column that is neither a
/// coordinate nor a field (one diagnostic per problem found).
pub(super) fn match_columns(
    table: &Table,
    coords: &[String],
    fields: &[String],
    shown: &str,
    span: Span,
) -> Result<Vec<usize>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let header = table.columns.join(",");
    let mut coord_columns = Vec::new();
    for coord in coords {
        match table.columns.iter().position(|c| c == coord) {
            Some(i) => coord_columns.push(i),
            None => errors.push(
                Diagnostic::error(
                    "E0305",
                    format!("data file `{shown}` has no column for the coordinate `{coord}`"),
                )
                .with_label(span, "this file")
                .with_help(format!(
                    "its header is `{header}`; every coordinate needs a column"
                )),
            ),
        }
    }
    for column in &table.columns {
        if !coords.contains(column) && !fields.contains(column) {
            let mut d = Diagnostic::error(
                "E0306",
                format!(
                    "data file `{shown}` has the column `{column}`, which is neither a coordinate nor a field"
                ),
            )
            .with_label(span, "this file");
            let known = coords.iter().chain(fields).map(String::as_str);
            d = match did_you_mean(column, known) {
                Some(help) => d.with_help(help),
                None => d.with_help(format!(
                    "columns must be coordinates ({}) or fields ({}); for a coefficient known on a \
                     grid, read the file with `data NAME from \"{shown}\" as grid`",
                    coords.join(", "),
                    fields.join(", ")
                )),
            };
            errors.push(d);
        }
    }
    if errors.is_empty() {
        Ok(coord_columns)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("pdec-ir-data-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(name);
        std::fs::write(&path, text).expect("temp dir is writable");
        path
    }

    fn read(name: &str, text: &str) -> Result<Table, Diagnostic> {
        read_table(&temp_file(name, text), name, Span::new(0, 1))
    }

    #[test]
    fn reads_columns_with_comments_and_spaces() {
        let t = read(
            "ok.csv",
            "# source: exact solution\nx, u\n0, 1\n0.5 ,2e-1\n",
        )
        .unwrap();
        assert_eq!(t.columns, vec!["x", "u"]);
        assert_eq!(t.values, vec![vec![0.0, 0.5], vec![1.0, 0.2]]);
    }

    #[test]
    fn reports_each_kind_of_bad_file() {
        let missing = read_table(Path::new("/nonexistent/x.csv"), "x.csv", Span::new(0, 1));
        assert_eq!(missing.unwrap_err().code, "E0301");
        assert_eq!(read("empty.csv", "").unwrap_err().code, "E0303");
        assert_eq!(read("norows.csv", "x,u\n").unwrap_err().code, "E0303");
        assert_eq!(read("dup.csv", "x,x\n1,2\n").unwrap_err().code, "E0304");
        let ragged = read("ragged.csv", "x,u\n1,2\n3\n").unwrap_err();
        assert_eq!(ragged.code, "E0302");
        assert!(ragged.message.contains("line 3"), "{}", ragged.message);
        let bad = read("bad.csv", "x,u\n1,2\n3,abc\n").unwrap_err();
        assert_eq!(bad.code, "E0308");
        assert!(
            bad.message.contains("line 3") && bad.message.contains("`abc`"),
            "{}",
            bad.message
        );
        assert_eq!(read("nan.csv", "x,u\n1,nan\n").unwrap_err().code, "E0308");
    }

    #[test]
    fn columns_must_be_coordinates_or_fields() {
        let t = Table {
            columns: vec!["t".into(), "x".into(), "uu".into()],
            values: vec![vec![0.0]; 3],
        };
        let coords = ["t".to_string(), "x".to_string()];
        let fields = ["u".to_string()];
        let errs = match_columns(&t, &coords, &fields, "o.csv", Span::new(0, 1)).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].code, "E0306");
        assert_eq!(errs[0].help.as_deref(), Some("did you mean `u`?"));
        let coords = ["y".to_string(), "x".to_string()];
        let errs = match_columns(&t, &coords, &fields, "o.csv", Span::new(0, 1)).unwrap_err();
        assert!(errs.iter().any(|d| d.code == "E0305"));
        let t = Table {
            columns: vec!["x".into(), "t".into(), "u".into()],
            values: vec![vec![0.0]; 3],
        };
        let coords = ["t".to_string(), "x".to_string()];
        assert_eq!(
            match_columns(&t, &coords, &fields, "o.csv", Span::new(0, 1)).unwrap(),
            vec![1, 0]
        );
    }
}
