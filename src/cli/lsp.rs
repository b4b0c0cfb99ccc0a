//! `pdec lsp`: a Language Server Protocol server over stdin/stdout for editors.
//!
//! The loop only moves messages: every answer comes from [`pdec::lsp::Workspace`]. A
//! request whose handler fails is answered with an error instead of ending the session.

use super::Status;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest,
    Request as _,
};
use pdec::lsp::Workspace;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[derive(Debug, clap::Args)]
pub(super) struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long)]
    stdio: bool,
}

pub(super) fn run(_args: &LspArgs) -> Status {
    let (connection, io_threads) = Connection::stdio();
    let status = match serve(&connection) {
        Ok(()) => Status::Ok,
        Err(message) => {
            eprintln!("pdec lsp: {message}");
            Status::Failure
        }
    };
    drop(connection);
    if let Err(e) = io_threads.join() {
        eprintln!("pdec lsp: {e}");
        return Status::Failure;
    }
    status
}

fn serve(connection: &Connection) -> Result<(), String> {
    let (id, _params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let result = lsp_types::InitializeResult {
        capabilities: pdec::lsp::server_capabilities(),
        server_info: Some(lsp_types::ServerInfo {
            name: "pdec".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut workspace = Workspace::new();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let response = answer(&workspace, request);
                send(connection, Message::Response(response))?;
            }
            Message::Notification(notification) => {
                let published =
                    catch_unwind(AssertUnwindSafe(|| notify(&mut workspace, notification)));
                match published {
                    Ok(Some(params)) => send(
                        connection,
                        Message::Notification(Notification::new(
                            PublishDiagnostics::METHOD.to_string(),
                            params,
                        )),
                    )?,
                    Ok(None) => {}
                    Err(_) => eprintln!("pdec lsp: internal error while handling a notification"),
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

fn send(connection: &Connection, message: Message) -> Result<(), String> {
    connection.sender.send(message).map_err(|e| e.to_string())
}

/// Applies a document notification; returns the diagnostics to publish.
fn notify(
    workspace: &mut Workspace,
    notification: Notification,
) -> Option<lsp_types::PublishDiagnosticsParams> {
    let params = notification.params;
    match notification.method.as_str() {
        DidOpenTextDocument::METHOD => Some(workspace.open(serde_json::from_value(params).ok()?)),
        DidChangeTextDocument::METHOD => workspace.change(serde_json::from_value(params).ok()?),
        DidCloseTextDocument::METHOD => Some(workspace.close(serde_json::from_value(params).ok()?)),
        _ => None,
    }
}

/// The response to one request.
fn answer(workspace: &Workspace, request: Request) -> Response {
    let id = request.id.clone();
    let result = catch_unwind(AssertUnwindSafe(|| dispatch(workspace, request)));
    match result {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
        Err(_) => Response::new_err(
            id,
            ErrorCode::InternalError as i32,
            "internal error in pdec lsp".to_string(),
        ),
    }
}

type Answer = Result<serde_json::Value, (ErrorCode, String)>;

fn dispatch(workspace: &Workspace, request: Request) -> Answer {
    fn params<P: serde::de::DeserializeOwned>(request: Request) -> Result<P, (ErrorCode, String)> {
        serde_json::from_value(request.params)
            .map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
    }
    fn json(value: impl serde::Serialize) -> Answer {
        serde_json::to_value(value).map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }
    match request.method.as_str() {
        HoverRequest::METHOD => json(workspace.hover(&params(request)?)),
        Completion::METHOD => json(workspace.completion(&params(request)?)),
        GotoDefinition::METHOD => json(workspace.definition(&params(request)?)),
        DocumentSymbolRequest::METHOD => json(workspace.document_symbols(&params(request)?)),
        CodeActionRequest::METHOD => json(workspace.code_actions(&params(request)?)),
        method => Err((
            ErrorCode::MethodNotFound,
            format!("pdec lsp does not handle `{method}`"),
        )),
    }
}
