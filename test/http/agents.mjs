// Shared by the agent-facing tests (MCP, read-only agent keys, sk-listen, quickstart):
// JSON-RPC over the real shim, restricted keys, the official MCP Inspector CLI and the
// C++ developer tools from build/.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api, BASE } from './lib.mjs';

export const ROOT = process.env.SK_ROOT ?? new URL('../..', import.meta.url).pathname;
export const BUILD = `${ROOT}/build`;
const here = new URL('.', import.meta.url).pathname;

let nextId = 1;

// One JSON-RPC message to POST /mcp. Returns { status, json, text, headers }.
export async function rpc(key, message, { base = BASE } = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${base}/mcp`, {
    method: 'POST', headers, body: typeof message === 'string' ? message : JSON.stringify(message),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

// A request (with an id); returns the JSON-RPC response object.
export async function request(key, method, params) {
  const res = await rpc(key, { jsonrpc: '2.0', id: nextId++, method, ...(params === undefined ? {} : { params }) });
  if (res.status !== 200) throw new Error(`POST /mcp ${method}: HTTP ${res.status} ${res.text}`);
  return res.json;
}

export async function callTool(key, name, args) {
  const res = await request(key, 'tools/call', { name, arguments: args });
  if (!res.result) throw new Error(`tools/call ${name}: ${JSON.stringify(res)}`);
  return res.result;
}

// A restricted key (rk_test_…) of the account of `secretKey`.
export async function restrictedKey(secretKey, scopes = ['read']) {
  const res = await api(secretKey, 'POST', '/api_keys', { body: { name: 'agent', scopes }, idem: true });
  if (res.status !== 200) throw new Error(`POST /api_keys: ${res.status} ${res.text}`);
  return res.json.secret;
}

// The official MCP Inspector in CLI mode (pinned in package.json). Its catalog file goes
// to a throwaway HOME, so the tests leave nothing behind. Returns the parsed result; a
// tool result with isError makes the CLI exit with 5 after printing it, and is returned
// with `cliExitCode: 5` only when `toolError` is set.
const inspectorHome = mkdtempSync(join(tmpdir(), 'sk-inspector-'));
export async function inspector(args, { env = {}, toolError = false } = {}) {
  const bin = join(here, 'node_modules/.bin/mcp-inspector');
  try {
    const { stdout } = await promisify(execFile)(bin, ['--cli', ...args], {
      env: { ...process.env, HOME: inspectorHome, NO_COLOR: '1', ...env },
      timeout: 60000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout);
  } catch (e) {
    if (toolError && e.code === 5) return { ...JSON.parse(e.stdout), cliExitCode: 5 };
    throw e;
  }
}

// An item with some stock, through REST.
export async function stockedItem(key, sku, { qty = 12, unit_cost = '6.50', reorder_point } = {}) {
  const item = await api(key, 'POST', '/items', { body: { sku, name: `Item ${sku}`, ...(reorder_point === undefined ? {} : { reorder_point }) }, idem: true });
  if (item.status !== 200) throw new Error(item.text);
  if (qty) {
    const m = await api(key, 'POST', '/movements', { body: { item_id: item.json.id, qty, type: 'receipt', unit_cost }, idem: true });
    if (m.status !== 200) throw new Error(m.text);
  }
  return item.json;
}

// Collects a child's stdout lines from the start; waitFor(predicate) resolves with the
// first line (seen so far or later) that matches.
export function lineReader(child) {
  const lines = [];
  let stderr = '';
  child.stderr?.on('data', (c) => { stderr += c; });
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  return {
    lines,
    async waitFor(predicate, timeoutMs = 15000, what = 'a line') {
      const start = Date.now();
      for (;;) {
        const found = lines.find(predicate);
        if (found !== undefined) return found;
        if (Date.now() - start > timeoutMs)
          throw new Error(`timed out waiting for ${what}; stdout ${JSON.stringify(lines)}, stderr ${JSON.stringify(stderr)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
