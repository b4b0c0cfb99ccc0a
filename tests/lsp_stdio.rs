//! `pdec lsp` driven over stdio as an editor drives it: initialize, open a document with
//! an undeclared name, fix it, hover, complete, shut down and exit.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

fn read_message(reader: &mut BufReader<ChildStdout>) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pdec"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start pdec lsp");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            while let Some(message) = read_message(&mut stdout) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its result, skipping notifications on the way.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
        }
    }

    fn receive(&self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(30))
            .expect("a message from the server within 30 s")
    }

    /// The next `publishDiagnostics` notification.
    fn diagnostics(&self) -> Value {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics" {
                return message["params"].clone();
            }
        }
    }
}

const URI: &str = "file:///tmp/pdec-lsp-test/heat.pde";

#[test]
fn an_editor_session_over_stdio() {
    let mut client = Client::start();
    let init = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    let capabilities = &init["capabilities"];
    assert_eq!(capabilities["hoverProvider"], json!(true));
    assert_eq!(capabilities["definitionProvider"], json!(true));
    assert_eq!(capabilities["positionEncoding"], json!("utf-16"));
    client.notify("initialized", json!({}));

    // Line 4 holds `kapa` after a comment line with non-ASCII text.
    let text = "# Wärme 𝜅\nspace x in [0, 1]\nfield u\nconst kappa = 1\n-kappa*dxx(u) = kapa on interior\nu = 0 on boundary\n";
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "pde", "version": 1, "text": text } }),
    );
    let published = client.diagnostics();
    assert_eq!(published["uri"], URI);
    assert_eq!(published["version"], 1);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "E0101");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["range"]["start"], json!({ "line": 4, "character": 16 }));
    assert_eq!(d["range"]["end"], json!({ "line": 4, "character": 20 }));
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `kappa`?"),
        "{d}"
    );

    // The quick fix of the did-you-mean help replaces exactly `kapa` with `kappa`.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": d["range"],
            "context": { "diagnostics": [d] }
        }),
    );
    let edit = &actions[0]["edit"]["changes"][URI][0];
    assert_eq!(edit["newText"], "kappa", "{actions}");
    assert_eq!(edit["range"], d["range"]);

    // Fix the name with a ranged edit: `kapa` → `kappa`.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": URI, "version": 2 },
            "contentChanges": [{
                "range": { "start": { "line": 4, "character": 16 }, "end": { "line": 4, "character": 20 } },
                "text": "kappa"
            }]
        }),
    );
    let published = client.diagnostics();
    assert_eq!(published["version"], 2);
    assert_eq!(published["diagnostics"], json!([]));

    // Hover on `kappa` in the equation: a constant, its declaration, its value.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 4, "character": 2 } }),
    );
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(value.contains("**constant** `kappa`"), "{value}");
    assert!(value.contains("const kappa = 1"), "{value}");
    assert_eq!(
        hover["range"]["start"],
        json!({ "line": 4, "character": 1 })
    );

    // Hover on `dxx`: the derivative and its jet.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 4, "character": 8 } }),
    );
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(value.contains("∂²u/∂x²"), "{value}");

    // Completion after `on ` on a new line: regions.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": URI, "version": 3 },
            "contentChanges": [{
                "range": { "start": { "line": 6, "character": 0 }, "end": { "line": 6, "character": 0 } },
                "text": "u = 0 on bo"
            }]
        }),
    );
    client.diagnostics();
    let completion = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 6, "character": 11 } }),
    );
    let labels: Vec<&str> = completion
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"boundary"), "{labels:?}");
    assert!(
        !labels.contains(&"interior"),
        "`bo` does not match `interior`: {labels:?}"
    );

    // Go to definition of `u` in the new line.
    let definition = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 5, "character": 0 } }),
    );
    assert_eq!(
        definition["range"]["start"],
        json!({ "line": 2, "character": 6 })
    );

    // An unknown method is an error, not the end of the session.
    client
        .send(json!({ "jsonrpc": "2.0", "id": 99, "method": "textDocument/rename", "params": {} }));
    loop {
        let message = client.receive();
        if message["id"] == 99 {
            assert_eq!(message["error"]["code"], -32601);
            break;
        }
    }

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown, Value::Null);
    client.notify("exit", Value::Null);
    let status = wait(&mut client.child, Duration::from_secs(10));
    assert_eq!(
        status,
        Some(0),
        "pdec lsp exits with 0 after shutdown and exit"
    );
}

fn wait(child: &mut Child, timeout: Duration) -> Option<i32> {
    let start = std::time::Instant::now();
    while start.elapsed() < timeout {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}
