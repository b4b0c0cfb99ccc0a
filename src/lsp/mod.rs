//! The language service behind `pdec lsp`: open documents, their diagnostics (exactly
//! those of `pdec check`), hover, completion, go to definition, document symbols and
//! did-you-mean quick fixes, as Language Server Protocol values.
//!
//! Everything here is plain functions of the document text; the message loop over
//! stdio lives in the CLI (`src/cli/lsp.rs`). Positions are converted with
//! [`position::LineIndex`] (UTF-16 columns, as the protocol requires). No request
//! panics on any text: names are read from the AST, which exists for every input, and
//! the lowered [`Problem`] adds what only lowering knows when the file has no error.

mod completion;
pub mod docs;
mod hover;
pub mod position;
pub mod symbols;

use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::Problem;
use crate::span::Span;
use crate::syntax::ast::{File, ItemKind};
use lsp_types as lsp;
use position::LineIndex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use symbols::{DeclKind, Symbols};

pub use completion::completion;
pub use hover::hover;

/// One open `.pde` document, checked.
#[derive(Debug, Clone)]
pub struct Document {
    /// Its text.
    pub text: String,
    /// The editor's version number of the text.
    pub version: i32,
    /// Folder that relative `data` paths resolve against.
    pub base_dir: PathBuf,
    /// Line starts of `text`.
    pub index: LineIndex,
    /// The parsed file (statements that failed to parse are `ItemKind::Error`).
    pub file: File,
    /// The diagnostics of `pdec check`.
    pub diagnostics: Vec<Diagnostic>,
    /// The lowered problem, when there is no error.
    pub problem: Option<Problem>,
    /// Declarations and occurrences of names.
    pub symbols: Symbols,
}

impl Document {
    /// Checks `text`, with relative paths resolved against `base_dir`.
    pub fn new(text: String, version: i32, base_dir: PathBuf) -> Self {
        let (problem, diagnostics) = crate::check_source(&text, &base_dir);
        let (file, _) = crate::syntax::parse(&text);
        let symbols = Symbols::new(&file);
        Document {
            index: LineIndex::new(&text),
            text,
            version,
            base_dir,
            file,
            diagnostics,
            problem,
            symbols,
        }
    }

    /// The byte offset of an LSP position.
    pub fn offset(&self, position: lsp::Position) -> usize {
        self.index.offset(&self.text, position)
    }

    /// The LSP range of a byte span.
    pub fn range(&self, span: Span) -> lsp::Range {
        self.index.range(&self.text, span)
    }

    /// The source text of a span (empty when it is not a valid range of the text).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// Applies the editor's changes in order (full or ranged) and checks the new text.
    pub fn apply_changes(
        &mut self,
        version: i32,
        changes: Vec<lsp::TextDocumentContentChangeEvent>,
    ) {
        let mut text = std::mem::take(&mut self.text);
        for change in changes {
            match change.range {
                None => text = change.text,
                Some(range) => {
                    let index = LineIndex::new(&text);
                    let start = index.offset(&text, range.start);
                    let end = index.offset(&text, range.end).max(start);
                    text.replace_range(start..end, &change.text);
                }
            }
        }
        *self = Document::new(text, version, std::mem::take(&mut self.base_dir));
    }

    /// The diagnostics as LSP diagnostics of the document `uri`.
    pub fn lsp_diagnostics(&self, uri: &lsp::Uri) -> Vec<lsp::Diagnostic> {
        self.diagnostics
            .iter()
            .map(|d| to_lsp_diagnostic(self, uri, d))
            .collect()
    }
}

/// One diagnostic of `pdec check` as the protocol's: the code, the primary label's range,
/// the headline followed by the primary label's text and the help, and the other labels
/// as related information.
pub fn to_lsp_diagnostic(doc: &Document, uri: &lsp::Uri, d: &Diagnostic) -> lsp::Diagnostic {
    let primary = d.labels.first();
    let range = doc.range(primary.map_or(Span::new(0, 0), |l| l.span));
    let mut message = d.message.clone();
    if let Some(label) = primary.filter(|l| !l.message.is_empty()) {
        message.push_str(&format!("\n{}", label.message));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .skip(1)
        .map(|label| lsp::DiagnosticRelatedInformation {
            location: lsp::Location::new(uri.clone(), doc.range(label.span)),
            message: label.message.clone(),
        })
        .collect();
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        source: Some("pdec".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        data: d
            .help
            .as_ref()
            .map(|help| serde_json::json!({ "help": help })),
        ..Default::default()
    }
}

/// The folder of a `file://` URI's path (percent-decoded), for relative data paths;
/// the current folder for any other URI.
pub fn base_dir_of(uri: &lsp::Uri) -> PathBuf {
    let text = uri.as_str();
    let Some(rest) = text.strip_prefix("file://") else {
        return PathBuf::from(".");
    };
    // `file:///path` or `file://host/path`: the path starts at the first `/`.
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let decoded = percent_decode(path);
    Path::new(&decoded)
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The open documents of an editor session.
#[derive(Debug, Default)]
pub struct Workspace {
    documents: HashMap<lsp::Uri, Document>,
}

impl Workspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Workspace::default()
    }

    /// The open document `uri`.
    pub fn document(&self, uri: &lsp::Uri) -> Option<&Document> {
        self.documents.get(uri)
    }

    /// Opens a document; returns its diagnostics to publish.
    pub fn open(
        &mut self,
        params: lsp::DidOpenTextDocumentParams,
    ) -> lsp::PublishDiagnosticsParams {
        let item = params.text_document;
        let doc = Document::new(item.text, item.version, base_dir_of(&item.uri));
        let published = publish(&item.uri, &doc);
        self.documents.insert(item.uri, doc);
        published
    }

    /// Applies changes to an open document; returns its new diagnostics to publish
    /// (`None` for a document that is not open).
    pub fn change(
        &mut self,
        params: lsp::DidChangeTextDocumentParams,
    ) -> Option<lsp::PublishDiagnosticsParams> {
        let uri = params.text_document.uri;
        let doc = self.documents.get_mut(&uri)?;
        doc.apply_changes(params.text_document.version, params.content_changes);
        Some(publish(&uri, doc))
    }

    /// Closes a document; returns the empty diagnostics that clear its markers.
    pub fn close(
        &mut self,
        params: lsp::DidCloseTextDocumentParams,
    ) -> lsp::PublishDiagnosticsParams {
        let uri = params.text_document.uri;
        self.documents.remove(&uri);
        lsp::PublishDiagnosticsParams::new(uri, Vec::new(), None)
    }

    /// `textDocument/hover`.
    pub fn hover(&self, params: &lsp::HoverParams) -> Option<lsp::Hover> {
        let at = &params.text_document_position_params;
        let doc = self.documents.get(&at.text_document.uri)?;
        hover(doc, at.position)
    }

    /// `textDocument/completion`.
    pub fn completion(&self, params: &lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
        let at = &params.text_document_position;
        let doc = self.documents.get(&at.text_document.uri)?;
        Some(lsp::CompletionResponse::Array(completion(doc, at.position)))
    }

    /// `textDocument/definition`.
    pub fn definition(
        &self,
        params: &lsp::GotoDefinitionParams,
    ) -> Option<lsp::GotoDefinitionResponse> {
        let at = &params.text_document_position_params;
        let doc = self.documents.get(&at.text_document.uri)?;
        let span = definition(doc, at.position)?;
        Some(lsp::GotoDefinitionResponse::Scalar(lsp::Location::new(
            at.text_document.uri.clone(),
            doc.range(span),
        )))
    }

    /// `textDocument/documentSymbol`.
    pub fn document_symbols(
        &self,
        params: &lsp::DocumentSymbolParams,
    ) -> Option<lsp::DocumentSymbolResponse> {
        let doc = self.documents.get(&params.text_document.uri)?;
        Some(lsp::DocumentSymbolResponse::Nested(document_symbols(doc)))
    }
}

impl Workspace {
    /// `textDocument/codeAction`: a quick fix for each diagnostic whose help suggests a
    /// name (`did you mean `kappa`?`), replacing the diagnostic's range with it.
    pub fn code_actions(&self, params: &lsp::CodeActionParams) -> Option<lsp::CodeActionResponse> {
        self.documents.get(&params.text_document.uri)?;
        Some(code_actions(
            &params.text_document.uri,
            &params.context.diagnostics,
        ))
    }
}

/// The quick fixes for `diagnostics` (as the editor sends them back) of document `uri`.
// `WorkspaceEdit` keys its changes by `Uri`, whose only interior mutability is a cache
// that takes no part in hashing or equality.
#[allow(clippy::mutable_key_type)]
pub fn code_actions(uri: &lsp::Uri, diagnostics: &[lsp::Diagnostic]) -> lsp::CodeActionResponse {
    diagnostics
        .iter()
        .filter_map(|diagnostic| {
            let help = diagnostic.data.as_ref()?.get("help")?.as_str()?;
            let name = help.strip_prefix("did you mean `")?.strip_suffix("`?")?;
            let edit = lsp::TextEdit::new(diagnostic.range, name.to_string());
            let changes = HashMap::from([(uri.clone(), vec![edit])]);
            Some(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title: format!("Replace with `{name}`"),
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(lsp::WorkspaceEdit::new(changes)),
                is_preferred: Some(true),
                ..Default::default()
            }))
        })
        .collect()
}

fn publish(uri: &lsp::Uri, doc: &Document) -> lsp::PublishDiagnosticsParams {
    lsp::PublishDiagnosticsParams::new(uri.clone(), doc.lsp_diagnostics(uri), Some(doc.version))
}

/// What the server offers, for the `initialize` response.
pub fn server_capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(lsp::PositionEncodingKind::UTF16),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
            lsp::TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".to_string(), "(".to_string()]),
            ..Default::default()
        }),
        definition_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        ..Default::default()
    }
}

/// The span of the declaration of the name at `position`: a declared name, the data set
/// of `obs.u`, or a coordinate of a face.
pub fn definition(doc: &Document, position: lsp::Position) -> Option<Span> {
    let occurrence = doc.symbols.at(doc.offset(position))?;
    let name = match &occurrence.role {
        symbols::Role::Member { base } => base.as_str(),
        symbols::Role::ConfigKey(_) | symbols::Role::ConfigWord { .. } => return None,
        _ => occurrence.name.as_str(),
    };
    doc.symbols.declaration(name).map(|d| d.name_span)
}

/// The outline: every declaration, equation and configuration statement.
// `DocumentSymbol::deprecated` must be written out even though it is deprecated.
#[allow(deprecated)]
pub fn document_symbols(doc: &Document) -> Vec<lsp::DocumentSymbol> {
    let mut out = Vec::new();
    for (index, item) in doc.file.items.iter().enumerate() {
        let range = doc.range(item.span);
        let symbol = |name: String, detail: &str, kind: lsp::SymbolKind, selection: Span| {
            lsp::DocumentSymbol {
                name: if name.is_empty() {
                    "?".to_string()
                } else {
                    name
                },
                detail: Some(detail.to_string()),
                kind,
                tags: None,
                deprecated: None,
                range,
                selection_range: doc.range(selection),
                children: None,
            }
        };
        match &item.kind {
            ItemKind::Equation { region, .. } => {
                let text = one_line(doc.slice(item.span), 60);
                let where_ = one_line(doc.slice(region.span), 30);
                out.push(symbol(
                    text,
                    &format!("equation on {where_}"),
                    lsp::SymbolKind::EVENT,
                    item.span,
                ));
            }
            ItemKind::Model { .. } | ItemKind::Sample { .. } | ItemKind::Solve { .. } => {
                let word = doc.slice(item.span).split_whitespace().next().unwrap_or("");
                out.push(symbol(
                    word.to_string(),
                    "configuration",
                    lsp::SymbolKind::PROPERTY,
                    item.span,
                ));
            }
            ItemKind::Exact { field, .. } => out.push(symbol(
                format!("exact {}", field.name),
                "exact solution",
                lsp::SymbolKind::OBJECT,
                field.span,
            )),
            _ => {
                for decl in doc.symbols.declarations.iter().filter(|d| d.item == index) {
                    let kind = match decl.kind {
                        DeclKind::Space | DeclKind::Time => lsp::SymbolKind::VARIABLE,
                        DeclKind::Field => lsp::SymbolKind::FUNCTION,
                        DeclKind::Const => lsp::SymbolKind::CONSTANT,
                        DeclKind::Param => lsp::SymbolKind::TYPE_PARAMETER,
                        DeclKind::Let => lsp::SymbolKind::VARIABLE,
                        DeclKind::Data => lsp::SymbolKind::STRUCT,
                        DeclKind::Grid => lsp::SymbolKind::FUNCTION,
                        DeclKind::Shape => lsp::SymbolKind::CLASS,
                    };
                    out.push(symbol(
                        decl.name.clone(),
                        decl.kind.describe(),
                        kind,
                        decl.name_span,
                    ));
                }
            }
        }
    }
    out
}

/// `text` on one line (whitespace runs collapsed), cut at `max` characters with `…`.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max {
        joined
    } else {
        let mut cut: String = joined.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests;
