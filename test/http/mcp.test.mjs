// MCP at POST /mcp (DESIGN.md section 7): JSON-RPC 2.0 over Streamable HTTP, the same
// bearer keys as REST, tools generated from the routes' validators and run through the
// same pipeline. The official MCP Inspector CLI (pinned in package.json) drives it over
// HTTP and over stdio (build/sk-mcp).
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, BASE, createAccount, newKey } from './lib.mjs';
import { BUILD, callTool, inspector, request, restrictedKey, rpc, stockedItem } from './agents.mjs';

const acct = createAccount('MCP');
const withoutAsOf = ({ as_of, ...rest }) => rest;

// OpenAPI schemas with every $ref written inline, to compare with a tool's schema.
function inline(schema, doc, depth = 0) {
  if (depth > 32 || schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map((s) => inline(s, doc, depth + 1));
  if (schema.$ref) return inline(doc.components.schemas[schema.$ref.split('/').pop()], doc, depth + 1);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v, doc, depth + 1)]));
}

test('initialize negotiates the protocol version; notifications and responses get 202 with no body; ping', async () => {
  const init = await request(acct.test, 'initialize', {
    protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'test', version: '1' },
  });
  assert.equal(init.result.protocolVersion, '2025-03-26', 'a version the server speaks is answered as asked');
  assert.equal(init.result.serverInfo.name, 'sk-inventory');
  assert.deepEqual(init.result.capabilities, { tools: { listChanged: false } });
  const future = await request(acct.test, 'initialize', { protocolVersion: '2099-01-01', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  assert.equal(future.result.protocolVersion, '2025-06-18', 'otherwise the latest it speaks');

  const note = await rpc(acct.test, { jsonrpc: '2.0', method: 'notifications/initialized' });
  assert.equal(note.status, 202);
  assert.equal(note.text, '');
  const reply = await rpc(acct.test, { jsonrpc: '2.0', id: 'srv-1', result: {} });
  assert.equal(reply.status, 202, 'a response to a server request needs no answer either');

  const ping = await request(acct.test, 'ping');
  assert.deepEqual(ping.result, {});
  assert.equal((await rpc(acct.test, { jsonrpc: '2.0', id: 'abc', method: 'ping' })).json.id, 'abc', 'string ids are echoed');
});

test('every message needs a valid API key: 401 problem documents, as over REST', async () => {
  const none = await rpc(undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
  assert.equal(none.status, 401);
  assert.equal(none.json.code, 'api_key_missing');
  const bad = await rpc('sk_test_' + 'x'.repeat(32), { jsonrpc: '2.0', id: 1, method: 'tools/list' });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.code, 'api_key_invalid');
});

test('malformed messages get JSON-RPC errors; GET (no SSE stream) is 405', async () => {
  const parse = await rpc(acct.test, '{"jsonrpc":');
  assert.equal(parse.status, 400);
  assert.equal(parse.json.error.code, -32700);
  assert.equal(parse.json.id, null);
  const batch = await rpc(acct.test, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
  assert.equal(batch.status, 400);
  assert.equal(batch.json.error.code, -32600);
  assert.equal((await rpc(acct.test, { id: 1, method: 'ping' })).json.error.code, -32600, 'jsonrpc "2.0" is required');
  assert.equal((await rpc(acct.test, { jsonrpc: '2.0', id: null, method: 'ping' })).status, 400, 'null is not a request id');

  const unknown = await request(acct.test, 'resources/list');
  assert.equal(unknown.error.code, -32601);
  assert.equal((await request(acct.test, 'tools/call', { name: 'no_such_tool', arguments: {} })).error.code, -32602);
  assert.equal((await request(acct.test, 'tools/call', { name: 'get_stock', arguments: [1] })).error.code, -32602);
  assert.equal((await request(acct.test, 'tools/call', {})).error.code, -32602);

  const get = await fetch(`${BASE}/mcp`, { headers: { authorization: `Bearer ${acct.test}`, accept: 'text/event-stream' } });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
});

test('each tool input schema is generated from its route: the OpenAPI parameters or request body', async () => {
  const doc = (await api(undefined, 'GET', '/openapi.json')).json;
  const { tools } = (await request(acct.test, 'tools/list')).result;
  assert.deepEqual(tools.map((t) => t.name).sort(),
    ['get_stock', 'list_low_stock', 'list_movements', 'record_movement', 'search_items',
      ...(doc.paths['/lots']?.get ? ['list_expiring_lots'] : [])].sort());
  for (const tool of tools) {
    const [method, path] = tool._meta['sk-inventory/operation'].split(' ');
    const op = doc.paths[path]?.[method.toLowerCase()];
    assert.ok(op, `${tool.name} runs ${method} ${path}, an operation of the OpenAPI document`);
    assert.equal(tool._meta['sk-inventory/operation_id'], op.operationId);
    assert.ok(tool.description.startsWith(op.summary), `${tool.name}: the description starts with the route summary`);
    assert.equal(tool.annotations.readOnlyHint, op['x-sk-scope'] === 'read', `${tool.name}: read-only exactly when the route is`);
    const props = tool.inputSchema.properties;
    assert.equal(tool.inputSchema.type, 'object');
    assert.equal(tool.inputSchema.additionalProperties, false);
    if (method === 'GET') {
      for (const p of op.parameters.filter((p) => p.in === 'query'))
        assert.deepEqual(props[p.name], { ...inline(p.schema, doc), ...(p.description ? { description: p.description } : {}) },
          `${tool.name}.${p.name} is the query parameter's schema`);
      const pathParam = op.parameters.find((p) => p.in === 'path');
      if (pathParam) assert.equal(props.item_id.pattern, pathParam.schema.pattern, `${tool.name}: the {id} parameter's schema`);
    } else {
      const body = inline(op.requestBody.content['application/json'].schema, doc);
      for (const [name, schema] of Object.entries(body.properties))
        assert.deepEqual(props[name], schema, `${tool.name}.${name} is the request body's schema`);
      assert.deepEqual(tool.inputSchema.required, [...body.required, 'idempotency_key']);
      assert.ok(props.idempotency_key, 'writes take an idempotency_key argument');
    }
    assert.ok(!JSON.stringify(tool.inputSchema).includes('$ref'), `${tool.name}: the schema stands alone`);
  }
});

test('get_stock answers exactly what GET /items/{id}/stock answers, by id and by SKU', async () => {
  const item = await stockedItem(acct.test, 'MCP-STOCK-1', { qty: 7, unit_cost: '3.25' });
  await api(acct.test, 'POST', '/movements', { body: { item_id: item.id, qty: -2, type: 'sale' }, idem: true });
  const rest = (await api(acct.test, 'GET', `/items/${item.id}/stock`)).json;
  for (const args of [{ item_id: item.id }, { sku: 'MCP-STOCK-1' }]) {
    const r = await callTool(acct.test, 'get_stock', args);
    assert.equal(r.isError, false);
    assert.deepEqual(withoutAsOf(r.structuredContent), withoutAsOf(rest), JSON.stringify(args));
    assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent, 'the text is the API JSON');
    assert.equal(r.content[0].type, 'text');
  }
  assert.equal(rest.on_hand, '5');

  const past = await callTool(acct.test, 'get_stock', { item_id: item.id, as_of: '2000-01-01T00:00:00Z' });
  assert.equal(past.structuredContent.on_hand, '0', 'query parameters of the route are tool arguments (as_of)');

  const missing = await callTool(acct.test, 'get_stock', { sku: 'NO-SUCH-SKU' });
  assert.equal(missing.isError, true);
  assert.equal(missing.structuredContent.code, 'resource_missing');
  assert.match(missing.content[0].text, /resource_missing/);
  assert.match(missing.content[0].text, /NO-SUCH-SKU/, 'the text carries the detail');
  const both = await callTool(acct.test, 'get_stock', { item_id: item.id, sku: 'MCP-STOCK-1' });
  assert.equal(both.structuredContent.code, 'parameter_invalid');
  assert.equal((await callTool(acct.test, 'get_stock', {})).structuredContent.param, '/item_id');
  const other = createAccount('MCP other');
  const foreign = await callTool(other.test, 'get_stock', { item_id: item.id });
  assert.equal(foreign.structuredContent.code, 'resource_missing', "another tenant's item does not exist");
  const bad = await callTool(acct.test, 'get_stock', { item_id: item.id, as_of: 'yesterday' });
  assert.equal(bad.structuredContent.code, 'parameter_invalid');
  assert.equal(bad.structuredContent.param, '/as_of', 'validation errors point at the argument');
});

test('record_movement is idempotent on idempotency_key, exactly like POST /movements', async () => {
  const item = await stockedItem(acct.test, 'MCP-REC-1', { qty: 0 });
  const args = { item_id: item.id, qty: 10, type: 'receipt', unit_cost: '2.00', idempotency_key: newKey() };
  const first = await callTool(acct.test, 'record_movement', args);
  assert.equal(first.isError, false, first.content[0].text);
  assert.equal(first.structuredContent.object, 'movement');
  assert.equal(first.structuredContent.on_hand_after, '10');
  const again = await callTool(acct.test, 'record_movement', { ...args });
  assert.equal(again.content[0].text, first.content[0].text, 'a retry replays the first result byte for byte');
  assert.equal(again._meta['sk-inventory/idempotent_replayed'], true);
  assert.equal((await api(acct.test, 'GET', `/items/${item.id}/stock`)).json.on_hand, '10', 'and records nothing more');

  const reordered = Object.fromEntries(Object.entries(args).reverse());
  assert.equal((await callTool(acct.test, 'record_movement', reordered)).content[0].text, first.content[0].text,
    'argument order does not matter (canonical arguments)');
  const changed = await callTool(acct.test, 'record_movement', { ...args, qty: 11 });
  assert.equal(changed.isError, true);
  assert.equal(changed.structuredContent.code, 'idempotency_key_reused');
  const rest = await api(acct.test, 'POST', '/movements', { body: { ...args, idempotency_key: undefined }, idem: args.idempotency_key });
  assert.equal(rest.status, 409, 'a tool call and a REST request are different requests for one key');

  const missing = await callTool(acct.test, 'record_movement', { item_id: item.id, qty: 1, type: 'receipt', unit_cost: '1' });
  assert.equal(missing.structuredContent.code, 'idempotency_key_missing');
  assert.equal(missing.structuredContent.param, '/idempotency_key');
  const invalidArgs = { ...args, qty: 0, idempotency_key: newKey() };
  const invalid = await callTool(acct.test, 'record_movement', invalidArgs);
  assert.equal(invalid.structuredContent.code, 'parameter_invalid');
  assert.equal(invalid.structuredContent.param, '/qty');
  const stored = await callTool(acct.test, 'record_movement', invalidArgs);
  assert.equal(stored.content[0].text, invalid.content[0].text, 'a 4xx is stored with its key and replayed, as over REST');

  const sale = await callTool(acct.test, 'record_movement',
    { item_id: item.id, qty: -3, type: 'sale', reason: 'order_fulfilled', idempotency_key: newKey() });
  assert.equal(sale.structuredContent.on_hand_after, '7');
  const history = await callTool(acct.test, 'list_movements', { item_id: item.id });
  const restHistory = (await api(acct.test, 'GET', '/movements', { query: { item_id: item.id } })).json;
  assert.deepEqual(history.structuredContent, restHistory, 'list_movements is GET /movements');
  assert.deepEqual(history.structuredContent.data.map((m) => m.qty), ['-3', '10']);
});

test('search_items: q matches name substrings and SKU prefixes, with LIKE wildcards taken literally', async () => {
  const shop = createAccount('MCP search');
  for (const [sku, name] of [['MUG-BLUE', 'Blue mug'], ['MUG-RED', 'Red Mug'], ['TEA-1', 'Teapot'], ['COT-1', '100% cotton tea towel']])
    assert.equal((await api(shop.test, 'POST', '/items', { body: { sku, name }, idem: true })).status, 200);
  const skus = async (q) => (await callTool(shop.test, 'search_items', { q })).structuredContent.data.map((i) => i.sku).sort();
  assert.deepEqual(await skus('mug'), ['MUG-BLUE', 'MUG-RED'], 'case-insensitive name match');
  assert.deepEqual(await skus('MUG-B'), ['MUG-BLUE'], 'SKU prefix');
  assert.deepEqual(await skus('tea'), ['COT-1', 'TEA-1'], 'substring of names, prefix of SKUs');
  assert.deepEqual(await skus('%'), ['COT-1'], '% is a character, not a wildcard');
  assert.deepEqual(await skus('T_'), [], '_ is a character, not a wildcard');
  const viaRest = (await api(shop.test, 'GET', '/items', { query: { q: 'mug' } })).json;
  assert.deepEqual((await callTool(shop.test, 'search_items', { q: 'mug' })).structuredContent, viaRest, 'the same as GET /items?q=');
  const paged = await callTool(shop.test, 'search_items', { q: 'mug', limit: 1 });
  assert.equal(paged.structuredContent.data.length, 1);
  assert.equal(paged.structuredContent.has_more, true);
});

test('list_low_stock: items whose on-hand is below their reorder point (GET /stock/low)', async () => {
  const shop = createAccount('MCP low stock');
  const low = await stockedItem(shop.test, 'LOW-1', { qty: 3, reorder_point: 5 });
  await stockedItem(shop.test, 'OK-1', { qty: 10, reorder_point: 5 });
  await stockedItem(shop.test, 'NONE-1', { qty: 0 });
  const empty = await stockedItem(shop.test, 'EMPTY-1', { qty: 0, reorder_point: 1 });
  const exact = await stockedItem(shop.test, 'EXACT-1', { qty: 5, reorder_point: 5 });
  const r = await callTool(shop.test, 'list_low_stock', {});
  assert.equal(r.isError, false);
  assert.deepEqual(r.structuredContent.data.map((s) => s.sku).sort(), ['EMPTY-1', 'LOW-1']);
  const rest = (await api(shop.test, 'GET', '/stock/low')).json;
  assert.deepEqual(r.structuredContent.data.map(withoutAsOf), rest.data.map(withoutAsOf));
  const one = rest.data.find((s) => s.item_id === low.id);
  assert.equal(one.on_hand, '3');
  assert.equal(one.reorder_point, '5');
  assert.ok(!rest.data.some((s) => s.item_id === exact.id), 'at the reorder point is not below it');
  await api(shop.test, 'DELETE', `/items/${empty.id}`, { idem: true });
  assert.deepEqual((await api(shop.test, 'GET', '/stock/low')).json.data.map((s) => s.sku), ['LOW-1'], 'archived items are left out');
});

test('the MCP Inspector CLI lists the tools and calls get_stock over HTTP; the answer is the REST answer', async () => {
  const item = await stockedItem(acct.test, 'INSPECT-1', { qty: 4, unit_cost: '1.10' });
  const header = `Authorization: Bearer ${acct.test}`;
  const listed = await inspector([`${BASE}/mcp`, '--transport', 'http', '--method', 'tools/list', '--header', header]);
  const ours = (await request(acct.test, 'tools/list')).result.tools;
  assert.deepEqual(listed.tools.map((t) => t.name), ours.map((t) => t.name));
  assert.deepEqual(listed.tools.find((t) => t.name === 'record_movement').inputSchema,
    ours.find((t) => t.name === 'record_movement').inputSchema);

  const called = await inspector([`${BASE}/mcp`, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'get_stock',
    '--tool-arg', `item_id=${item.id}`, '--header', header]);
  const rest = (await api(acct.test, 'GET', `/items/${item.id}/stock`)).json;
  assert.equal(called.isError, false);
  assert.deepEqual(withoutAsOf(called.structuredContent), withoutAsOf(rest));
  assert.equal(called.structuredContent.on_hand, '4');
  assert.equal(called.structuredContent.value, '4.40');

  const bySku = await inspector([`${BASE}/mcp`, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'get_stock',
    '--tool-arg', 'sku=INSPECT-1', '--header', header]);
  assert.deepEqual(withoutAsOf(bySku.structuredContent), withoutAsOf(rest));
});

test('the MCP Inspector CLI: a read-only key calling record_movement gets a tool error with insufficient_scope', async () => {
  const item = await stockedItem(acct.test, 'INSPECT-RO', { qty: 1 });
  const readOnly = await restrictedKey(acct.test, ['read']);
  const refused = await inspector([`${BASE}/mcp`, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'record_movement',
    '--tool-arg', `item_id=${item.id}`, '--tool-arg', 'qty=-1', '--tool-arg', 'type=sale', '--tool-arg', 'idempotency_key=ro-1',
    '--header', `Authorization: Bearer ${readOnly}`], { toolError: true });
  assert.equal(refused.cliExitCode, 5, 'the Inspector reports a tool error');
  assert.equal(refused.isError, true);
  assert.equal(refused.structuredContent.code, 'insufficient_scope');
  assert.match(refused.content[0].text, /insufficient_scope/);
  assert.equal((await api(acct.test, 'GET', `/items/${item.id}/stock`)).json.on_hand, '1', 'nothing was recorded');
  const allowed = await inspector([`${BASE}/mcp`, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'get_stock',
    '--tool-arg', `item_id=${item.id}`, '--header', `Authorization: Bearer ${readOnly}`]);
  assert.equal(allowed.isError, false);
});

test('stdio mode: sk-mcp carries the same tools to a desktop agent (Inspector CLI over stdio)', async () => {
  const item = await stockedItem(acct.test, 'STDIO-1', { qty: 9 });
  const env = [`SK_API_KEY=${acct.test}`, `SK_API_BASE=${BASE}`];
  const listed = await inspector([`${BUILD}/sk-mcp`, '-e', env[0], '-e', env[1], '--method', 'tools/list']);
  assert.deepEqual(listed.tools.map((t) => t.name), (await request(acct.test, 'tools/list')).result.tools.map((t) => t.name));
  const called = await inspector([`${BUILD}/sk-mcp`, '-e', env[0], '-e', env[1], '--method', 'tools/call',
    '--tool-name', 'get_stock', '--tool-arg', 'sku=STDIO-1']);
  assert.deepEqual(withoutAsOf(called.structuredContent), withoutAsOf((await api(acct.test, 'GET', `/items/${item.id}/stock`)).json));
});

test('sk-mcp: one answer line per request, none for notifications; an unusable key is a JSON-RPC error', async () => {
  const { spawn } = await import('node:child_process');
  const { once } = await import('node:events');
  async function session(key, messages) {
    const child = spawn(`${BUILD}/sk-mcp`, [], { env: { ...process.env, SK_API_KEY: key, SK_API_BASE: BASE }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.stdin.end(messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\n') + '\n');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, err);
    return { lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr: err };
  }
  const ok = await session(acct.test, [
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    '',
    { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    '{not json',
  ]);
  assert.deepEqual(ok.lines.map((l) => l.id), [1, 2, null]);
  assert.equal(ok.lines[0].result.protocolVersion, '2025-06-18');
  assert.ok(ok.lines[1].result.tools.length >= 5);
  assert.equal(ok.lines[2].error.code, -32700);

  const refused = await session('sk_test_' + 'x'.repeat(32), [{ jsonrpc: '2.0', id: 7, method: 'tools/list' }]);
  assert.equal(refused.lines.length, 1);
  assert.equal(refused.lines[0].id, 7);
  assert.match(refused.lines[0].error.message, /HTTP 401.*api_key_invalid/);
});
