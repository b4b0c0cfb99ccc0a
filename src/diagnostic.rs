//! Diagnostics as plain data: every phase returns them, only the CLI renders them.
//!
//! A [`Diagnostic`] has a stable code (listed in `docs/diagnostics.md`), a
//! severity, a message, labelled spans and an optional one-line help. It is
//! turned into a miette report by [`Diagnostic::to_report`] together with the
//! source text.

use crate::span::{line_col, Span};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
/// Whether a diagnostic stops the problem from being solved.
pub enum Severity {
    /// Stops the problem from being solved.
    Error,
    /// Suspicious but valid; the problem is still solved.
    Warning,
}

/// A span with the text shown under it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    /// The labelled part of the source.
    pub span: Span,
    /// The text shown under it.
    pub message: String,
}

/// One message about the user's input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Stable code such as `E0101`; see `docs/diagnostics.md`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The one-line headline.
    pub message: String,
    /// The first label is the primary one (its position is the diagnostic's position).
    pub labels: Vec<Label>,
    /// A one-line suggestion, shown after the source excerpt.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with a stable `code` (see `docs/diagnostics.md`) and a headline.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// A warning with a stable `code` and a headline.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Adds a label; the first one added is the primary location.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the one-line help.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary span, if any.
    pub fn span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    /// 1-based (line, column) of the primary span in `source`.
    pub fn line_col(&self, source: &str) -> Option<(usize, usize)> {
        self.span().map(|s| line_col(source, s.start as usize))
    }

    /// A miette report over `source` (named `name`) for rendering.
    pub fn to_report(&self, name: &str, source: &str) -> miette::Report {
        let labels = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let span = visible_span(source, l.span);
                let text = Some(l.message.clone());
                if i == 0 {
                    // The header shows the primary label's position.
                    miette::LabeledSpan::new_primary_with_span(text, span)
                } else {
                    miette::LabeledSpan::new(text, span.start, span.len())
                }
            })
            .collect::<Vec<_>>();
        let severity = match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        };
        let mut diag = miette::MietteDiagnostic::new(self.message.clone())
            .with_code(self.code)
            .with_severity(severity)
            .with_labels(labels);
        if let Some(help) = &self.help {
            diag = diag.with_help(help.clone());
        }
        miette::Report::new(diag)
            .with_source_code(miette::NamedSource::new(name, source.to_string()))
    }

    /// Renders with miette's graphical handler: no colour, fixed width, unicode off.
    /// Used for snapshots and when stderr is not a terminal.
    pub fn render_plain(&self, name: &str, source: &str, width: usize) -> String {
        let report = self.to_report(name, source);
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::none())
            .with_width(width)
            .with_links(false);
        let mut out = String::new();
        // Rendering into a String cannot fail.
        let _ = handler.render_report(&mut out, report.as_ref());
        out
    }
}

/// miette drops the label of an empty span at end of input: widen it to one
/// character (or step back onto the last character) so the label shows.
fn visible_span(source: &str, span: Span) -> std::ops::Range<usize> {
    let len = source.len();
    let mut start = (span.start as usize).min(len);
    let mut end = (span.end as usize).min(len).max(start);
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    while !source.is_char_boundary(end) {
        end += 1;
    }
    if start == end {
        if end < len {
            end += source[end..].chars().next().map_or(1, char::len_utf8);
        } else if start > 0 {
            start -= source[..start]
                .chars()
                .next_back()
                .map_or(1, char::len_utf8);
        }
    }
    start..end
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            match self.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            self.code,
            self.message
        )
    }
}

/// Result of a front-end phase: the value (if one could be built) and every
/// diagnostic found on the way.
#[derive(Debug, Clone)]
pub struct Checked<T> {
    /// The value, when one could be built (possibly despite errors).
    pub value: Option<T>,
    /// Every diagnostic of the phase.
    pub diagnostics: Vec<Diagnostic>,
}

impl<T> Checked<T> {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_names_line_column_and_label() {
        let src = "field u\ndt(v) = 0 on interior\n";
        let d = Diagnostic::error("E0201", "unknown field `v`")
            .with_label(Span::new(11, 12), "not declared")
            .with_help("did you mean `u`?");
        let text = d.render_plain("heat.pde", src, 80);
        assert!(text.contains("heat.pde:2:4"), "{text}");
        assert!(text.contains("not declared"), "{text}");
        assert!(text.contains("did you mean `u`?"), "{text}");
        assert!(text.contains("E0201"), "{text}");
    }

    #[test]
    fn empty_span_at_end_still_shows_label() {
        let src = "field u\nu = (1";
        let d = Diagnostic::error("E0001", "unexpected end of file")
            .with_label(Span::new(src.len(), src.len()), "expected `)`");
        let text = d.render_plain("x.pde", src, 80);
        assert!(text.contains("expected `)`"), "{text}");
    }
}
