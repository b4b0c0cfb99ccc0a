// The VS Code client of `pdec lsp`: starts the server over stdio for `.pde` files.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function createClient() {
  const command = vscode.workspace.getConfiguration("pdec").get("path", "pdec");
  const run = { command, args: ["lsp"], transport: TransportKind.stdio };
  return new LanguageClient(
    "pdec",
    "pdec",
    { run, debug: run },
    { documentSelector: [{ language: "pde" }] }
  );
}

async function activate(context) {
  client = createClient();
  context.subscriptions.push(
    vscode.commands.registerCommand("pdec.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      client = createClient();
      await client.start();
    })
  );
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `pdec: cannot start \`pdec lsp\` (${error}). Install pdec or set "pdec.path".`
    );
  }
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
