// Agent keys (issue 6): a restricted rk_ key with ["read"] reads everything and writes
// nothing. Checked exhaustively: every operation of the route table (the served OpenAPI
// document is generated from it) and every MCP tool, not a sample.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, createAccount, newKey } from './lib.mjs';
import { callTool, request, restrictedKey, stockedItem } from './agents.mjs';

const acct = createAccount('Agent keys');
const doc = (await api(undefined, 'GET', '/openapi.json')).json;
const readOnly = await restrictedKey(acct.test, ['read']);
const readWrite = await restrictedKey(acct.test, ['read', 'write']);
const item = await stockedItem(acct.test, 'AGENT-1', { qty: 5, reorder_point: 10 });
// The route sweep may archive or change this one (with the read-write key).
const swept = await stockedItem(acct.test, 'AGENT-SWEPT', { qty: 1 });

// Every operation, with its {id} filled by a well-formed id of the right type (an unknown
// one: what matters here is whether the key may ask).
const operations = [];
for (const [path, methods] of Object.entries(doc.paths))
  for (const [method, op] of Object.entries(methods)) {
    const idParam = (op.parameters ?? []).find((p) => p.in === 'path');
    const prefix = idParam?.schema.pattern.match(/^\^([a-z]+)_/)[1];
    const concrete = prefix === 'itm' ? path.replace('{id}', swept.id) : path.replace('{id}', `${prefix}_01ARZ3NDEKTSV4RRFFQ69G5FAV`);
    operations.push({ method: method.toUpperCase(), path, concrete, scope: op['x-sk-scope'], open: op.security?.length === 0 });
  }

async function send(key, op) {
  const mutation = op.method !== 'GET';
  return api(key, op.method, op.concrete, mutation ? { body: {}, idem: newKey() } : {});
}

test('the route table is what is checked', () => {
  assert.ok(operations.length >= 30, `${operations.length} operations`);
  assert.deepEqual(new Set(operations.map((o) => o.scope)), new Set(['read', 'write', 'secret']));
});

test('a read-only key may call every read route and is refused (403) on every write route', async () => {
  for (const op of operations) {
    const res = await send(readOnly, op);
    const label = `${op.method} ${op.path} (${op.scope}) → ${res.status} ${res.text.slice(0, 200)}`;
    if (op.scope === 'read' || op.open) {
      assert.ok(![401, 403].includes(res.status), label);
    } else {
      assert.equal(res.status, 403, label);
      assert.equal(res.json.code, op.scope === 'write' ? 'insufficient_scope' : 'secret_key_required', label);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
    }
  }
});

test('the same routes with a read-write restricted key: only secret-key routes are refused', async () => {
  for (const op of operations) {
    const res = await send(readWrite, op);
    const label = `${op.method} ${op.path} (${op.scope}) → ${res.status} ${res.text.slice(0, 200)}`;
    if (op.scope === 'secret') assert.equal(res.json.code, 'secret_key_required', label);
    else assert.ok(![401, 403].includes(res.status), label);
  }
});

test('a refused write has no effect', async () => {
  const res = await api(readOnly, 'POST', '/movements', { body: { item_id: item.id, qty: -1, type: 'sale' }, idem: true });
  assert.equal(res.status, 403);
  assert.equal((await api(acct.test, 'GET', `/items/${item.id}/stock`)).json.on_hand, '5');
  const created = await api(readOnly, 'POST', '/items', { body: { sku: 'AGENT-NEW', name: 'x' }, idem: true });
  assert.equal(created.status, 403);
  assert.deepEqual((await api(acct.test, 'GET', '/items', { query: { sku: 'AGENT-NEW' } })).json.data, []);
});

// Arguments that make each tool's call valid for this account: the item for item_id,
// a fresh key for idempotency_key, and a complete movement for the write tool.
function argumentsFor(tool) {
  const props = tool.inputSchema.properties;
  const args = {};
  if (props.item_id) args.item_id = item.id;
  if (props.idempotency_key) Object.assign(args, { idempotency_key: newKey(), qty: 1, type: 'receipt', unit_cost: '1.00' });
  return args;
}

test('MCP: a read-only key calls every read tool successfully; every write tool is a tool error with insufficient_scope', async () => {
  const { tools } = (await request(readOnly, 'tools/list')).result;
  assert.ok(tools.length >= 5);
  const writes = tools.filter((t) => !t.annotations.readOnlyHint);
  assert.ok(writes.length >= 1, 'there is a write tool to refuse');
  for (const tool of tools) {
    for (const [args, valid] of [[argumentsFor(tool), true], [{}, false]]) {
      const r = await callTool(readOnly, tool.name, args);
      const label = `${tool.name}(${JSON.stringify(args)}) → ${r.content[0].text.slice(0, 200)}`;
      if (tool.annotations.readOnlyHint) {
        assert.notEqual(r.structuredContent.code, 'insufficient_scope', label);
        if (valid) assert.equal(r.isError, false, label);
      } else {
        assert.equal(r.isError, true, label);
        assert.equal(r.structuredContent.code, 'insufficient_scope', label);
        assert.match(r.content[0].text, /insufficient_scope/);
        assert.equal(r.structuredContent.status, 403);
      }
    }
  }
  assert.equal((await api(acct.test, 'GET', `/items/${item.id}/stock`)).json.on_hand, '5', 'no write went through');
});

test('MCP: with write scope the same write calls go through (the refusal was the scope)', async () => {
  const { tools } = (await request(readWrite, 'tools/list')).result;
  for (const tool of tools.filter((t) => !t.annotations.readOnlyHint)) {
    const r = await callTool(readWrite, tool.name, argumentsFor(tool));
    assert.equal(r.isError, false, `${tool.name}: ${r.content[0].text}`);
    const empty = await callTool(readWrite, tool.name, {});
    assert.notEqual(empty.structuredContent.code, 'insufficient_scope');
  }
  assert.equal((await api(acct.test, 'GET', `/items/${item.id}/stock`)).json.on_hand, '6');
});
