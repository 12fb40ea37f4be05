// Platform conventions through the real shim: idempotency headers and concurrency,
// problem JSON for bad bodies, pagination, rate limits, health and the OpenAPI drift check.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, createAccount, newKey, BASE, LIMITED } from './lib.mjs';

const acct = createAccount('Conventions');

test('a retry replays byte for byte with Idempotent-Replayed; a changed body is 409', async () => {
  const key = newKey();
  const body = { sku: 'IDEM-1', name: 'Idempotent', metadata: { color: 'red' } };
  const first = await api(acct.test, 'POST', '/items', { body, idem: key });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  const again = await api(acct.test, 'POST', '/items', { body, idem: key });
  assert.equal(again.status, 200);
  assert.equal(again.text, first.text);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.notEqual(again.headers.get('request-id'), first.headers.get('request-id'));
  const changed = await api(acct.test, 'POST', '/items', { body: { ...body, name: 'Changed' }, idem: key });
  assert.equal(changed.status, 409);
  assert.equal(changed.json.code, 'idempotency_key_reused');
});

test('20 concurrent identical requests create exactly one item', async () => {
  const key = newKey();
  const body = { sku: 'RACE-1', name: 'Raced' };
  const results = await Promise.all(Array.from({ length: 20 }, () => api(acct.test, 'POST', '/items', { body, idem: key })));
  for (const r of results) assert.equal(r.status, 200, r.text);
  assert.equal(new Set(results.map((r) => r.json.id)).size, 1, 'every response names the same item');
  assert.equal(new Set(results.map((r) => r.text)).size, 1, 'every response has the same bytes');
  assert.equal(results.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 19);
  const list = await api(acct.test, 'GET', '/items', { query: { sku: 'RACE-1' } });
  assert.equal(list.json.data.length, 1);
});

test('a mutation without Idempotency-Key is 400 idempotency_key_missing', async () => {
  const res = await api(acct.test, 'POST', '/items', { body: { sku: 'NOKEY', name: 'x' } });
  assert.equal(res.status, 400);
  assert.equal(res.json.code, 'idempotency_key_missing');
});

test('malformed JSON is a 400 problem', async () => {
  const res = await api(acct.test, 'POST', '/items', { body: '{"sku": "X", ', idem: true });
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type'), /^application\/problem\+json/);
  assert.equal(res.json.code, 'body_invalid_json');
  assert.equal(res.json.request_id, res.headers.get('request-id'));
  assert.doesNotMatch(res.text, /SELECT|INSERT|syntax error at|sk\./i, 'no SQL or internals leak');
});

test('an invalid field is a 400 naming it as a JSON Pointer', async () => {
  const res = await api(acct.test, 'POST', '/items', { body: { sku: 'V-1', name: 'x', reorder_point: '1e3' }, idem: true });
  assert.equal(res.status, 400);
  assert.equal(res.json.code, 'parameter_invalid');
  assert.equal(res.json.param, '/reorder_point');
  const unknown = await api(acct.test, 'POST', '/items', { body: { sku: 'V-2', name: 'x', colour: 'red' }, idem: true });
  assert.equal(unknown.json.code, 'parameter_unknown');
  assert.equal(unknown.json.param, '/colour');
  const nested = await api(acct.test, 'POST', '/items', { body: { sku: 'V-3', name: 'x', metadata: { a: 1 } }, idem: true });
  assert.equal(nested.json.param, '/metadata/a');
});

test('exact decimals: a long decimal round-trips without binary floating point', async () => {
  const res = await api(acct.test, 'POST', '/items', { body: '{"sku":"DEC-1","name":"x","reorder_point":123456789012345.123456}', idem: true });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.reorder_point, '123456789012345.123456');
});

test('a body over 1 MiB is 413', async () => {
  const big = JSON.stringify({ sku: 'BIG', name: 'x'.repeat(1024 * 1024 + 10) });
  const res = await api(acct.test, 'POST', '/items', { body: big, idem: true });
  assert.equal(res.status, 413);
  assert.equal(res.json.code, 'request_too_large');
  assert.ok(res.headers.get('request-id'));
});

test('unknown routes are 404 problems; wrong methods 405', async () => {
  const res = await api(acct.test, 'GET', '/nope');
  assert.equal(res.status, 404);
  assert.equal(res.json.code, 'route_not_found');
  const wrong = await api(acct.test, 'PUT', '/items', { body: {}, idem: true });
  assert.equal(wrong.status, 405);
});

test('pagination over HTTP: limit, starting_after, has_more, url', async () => {
  const own = createAccount('Pages');
  const ids = [];
  for (let i = 0; i < 12; i++) ids.push((await api(own.test, 'POST', '/items', { body: { sku: `PG-${i}`, name: `p${i}` }, idem: true })).json.id);
  const page1 = await api(own.test, 'GET', '/items', { query: { limit: 5 } });
  assert.equal(page1.json.object, 'list');
  assert.equal(page1.json.url, '/inventory/v1/items');
  assert.equal(page1.json.has_more, true);
  assert.deepEqual(page1.json.data.map((i) => i.id), ids.slice(-5).reverse());
  const page2 = await api(own.test, 'GET', '/items', { query: { limit: 5, starting_after: page1.json.data[4].id } });
  assert.deepEqual(page2.json.data.map((i) => i.id), ids.slice(2, 7).reverse());
  const page3 = await api(own.test, 'GET', '/items', { query: { limit: 5, starting_after: page2.json.data[4].id } });
  assert.deepEqual(page3.json.data.map((i) => i.id), ids.slice(0, 2).reverse());
  assert.equal(page3.json.has_more, false);
  const both = await api(own.test, 'GET', '/items', { query: { starting_after: ids[0], ending_before: ids[1] } });
  assert.equal(both.status, 400);
});

test('rate limit: 429 with Retry-After and RateLimit headers', { skip: !LIMITED }, async () => {
  const own = createAccount('Limited');
  let limited;
  for (let i = 0; i < 30 && !limited; i++) {
    const r = await api(own.test, 'GET', '/items', { base: LIMITED });
    assert.match(r.headers.get('ratelimit-policy'), /q=5/);
    assert.match(r.headers.get('ratelimit'), /r=\d+/);
    if (r.status === 429) limited = r;
  }
  assert.ok(limited, 'a burst beyond 5/s was limited');
  assert.equal(limited.json.code, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
});

test('healthz, readyz and metrics', async () => {
  assert.equal((await fetch(`${BASE}/healthz`)).status, 200);
  assert.equal((await fetch(`${BASE}/readyz`)).status, 200);
  const metrics = await (await fetch(`${BASE}/metrics`)).text();
  assert.match(metrics, /sk_http_requests_total\{[^}]*route="\/inventory\/v1\/items"/);
  assert.match(metrics, /sk_http_request_duration_seconds_bucket/);
  assert.match(metrics, /sk_idempotent_replays_total \d+/);
});

test('answers given at once go out at once, on one keep-alive connection and on many', async () => {
  // /healthz and a refused body are answered by the HTTP thread itself, inside MHD's run:
  // if such an answer waited for the next event, each would take up to a second here.
  const started = Date.now();
  for (let i = 0; i < 10; i++) assert.equal((await fetch(`${BASE}/healthz`)).status, 200);
  const bad = await Promise.all(Array.from({ length: 10 }, () =>
    fetch(`${BASE}/inventory/v1/items`, { method: 'POST', body: Buffer.from([0xff, 0xfe]),
                                          headers: { 'content-type': 'application/json' } })));
  for (const r of bad) assert.equal((await r.json()).code, 'body_invalid_json');
  assert.ok(Date.now() - started < 3000, `20 immediate answers took ${Date.now() - started} ms`);
});

test('the served OpenAPI document is the checked-in docs/openapi.json (no drift)', async () => {
  const res = await fetch(`${BASE}/inventory/v1/openapi.json`);
  assert.equal(res.status, 200);
  const served = await res.text();
  const checkedIn = readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8');
  assert.equal(served, checkedIn, 'docs/openapi.json is stale: run `make openapi` and commit it');
  const doc = JSON.parse(served);
  assert.equal(doc.openapi, '3.1.0');
  for (const path of ['/items', '/items/{id}', '/locations', '/locations/{id}', '/api_keys', '/api_keys/{id}/roll'])
    assert.ok(doc.paths[path], `documents ${path}`);
  const create = doc.paths['/items'].post;
  assert.deepEqual(create.requestBody.content['application/json'].schema.required, ['sku', 'name']);
  assert.ok(create.parameters.some((p) => p.$ref === '#/components/parameters/IdempotencyKey'));
});
