// Keys through the real shim: 401 for missing/unknown/revoked keys, 403 for a
// restricted key outside its scope, 404 (not 403) for another tenant's objects.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, createAccount, psql, sleep } from './lib.mjs';

const a = createAccount('Auth A');
const b = createAccount('Auth B');

function assertProblem(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type'), /^application\/problem\+json/);
  assert.equal(res.json.code, code);
  assert.equal(res.json.status, status);
  assert.equal(res.json.request_id, res.headers.get('request-id'));
  assert.match(res.json.type, /^https:\/\/docs\.softknack\.com\/inventory\/errors\//);
}

test('a missing key is 401 api_key_missing', async () => {
  assertProblem(await api(null, 'GET', '/items'), 401, 'api_key_missing');
});

test('an unknown key is 401 api_key_invalid', async () => {
  assertProblem(await api('sk_test_' + 'Z'.repeat(32), 'GET', '/items'), 401, 'api_key_invalid');
  assertProblem(await api('not-a-key', 'GET', '/items'), 401, 'api_key_invalid');
});

test('a revoked key is 401, and the key list shows it expired', async () => {
  const created = await api(a.test, 'POST', '/api_keys', { body: { name: 'temp', scopes: ['read'] }, idem: true });
  assert.equal(created.status, 200, created.text);
  assert.match(created.json.secret, /^rk_test_[0-9A-Za-z]{32}$/);
  assert.equal((await api(created.json.secret, 'GET', '/items')).status, 200);
  const revoked = await api(a.test, 'DELETE', `/api_keys/${created.json.id}`, { idem: true });
  assert.equal(revoked.status, 200, revoked.text);
  assert.ok(revoked.json.expires_at);
  assert.equal(revoked.json.secret, undefined, 'a secret is never shown again');
  assertProblem(await api(created.json.secret, 'GET', '/items'), 401, 'api_key_invalid');
});

// Backends cache verified keys; these prove a change to a key reaches every pooled
// connection at once: many concurrent requests spread over the shim's pool first.
const everyConnection = (key) => Promise.all(Array.from({ length: 40 }, () => api(key, 'GET', '/items')));

test('a key revoked from SQL is refused at once on every pooled connection', async () => {
  const created = (await api(a.test, 'POST', '/api_keys', { body: { scopes: ['read'] }, idem: true })).json;
  assert.deepEqual(new Set((await everyConnection(created.secret)).map((r) => r.status)), new Set([200]));
  assert.equal(psql(`SELECT sk.revoke_api_key('${created.id}')`), 't');
  for (const res of await everyConnection(created.secret)) assertProblem(res, 401, 'api_key_invalid');
});

test('a rolled key stops working when its grace period ends, on every pooled connection', async () => {
  const created = (await api(a.test, 'POST', '/api_keys', { body: { scopes: ['read'] }, idem: true })).json;
  assert.deepEqual(new Set((await everyConnection(created.secret)).map((r) => r.status)), new Set([200]));
  psql(`SELECT sk.roll_api_key('${created.id}', '2 seconds')`);
  assert.deepEqual(new Set((await everyConnection(created.secret)).map((r) => r.status)), new Set([200]),
                   'within the grace period the old key still works');
  await sleep(2500);
  for (const res of await everyConnection(created.secret)) assertProblem(res, 401, 'api_key_invalid');
});

test('a read-only restricted key reads and is 403 for every write', async () => {
  const rk = (await api(a.test, 'POST', '/api_keys', { body: { name: 'agent', scopes: ['read'] }, idem: true })).json.secret;
  assert.equal((await api(rk, 'GET', '/items')).status, 200);
  assert.equal((await api(rk, 'GET', '/locations')).status, 200);
  assertProblem(await api(rk, 'POST', '/items', { body: { sku: 'RK', name: 'x' }, idem: true }), 403, 'insufficient_scope');
  assertProblem(await api(rk, 'POST', '/locations', { body: { name: 'x' }, idem: true }), 403, 'insufficient_scope');
  assertProblem(await api(rk, 'GET', '/api_keys'), 403, 'secret_key_required');
  assertProblem(await api(rk, 'POST', '/api_keys', { body: { scopes: ['read'] }, idem: true }), 403, 'secret_key_required');
});

test('a read-write restricted key writes but cannot manage keys', async () => {
  const rk = (await api(a.test, 'POST', '/api_keys', { body: { scopes: ['read', 'write'] }, idem: true })).json.secret;
  assert.equal((await api(rk, 'POST', '/items', { body: { sku: 'RW-1', name: 'x' }, idem: true })).status, 200);
  assertProblem(await api(rk, 'GET', '/api_keys'), 403, 'secret_key_required');
});

test('another tenant\'s object is 404, never 403, and looks like a missing one', async () => {
  const item = (await api(b.test, 'POST', '/items', { body: { sku: 'B-ONLY', name: 'B' }, idem: true })).json;
  const foreign = await api(a.test, 'GET', `/items/${item.id}`);
  assertProblem(foreign, 404, 'resource_missing');
  const missing = await api(a.test, 'GET', '/items/itm_01ARZ3NDEKTSV4RRFFQ69G5FAV');
  assertProblem(missing, 404, 'resource_missing');
  assertProblem(await api(a.test, 'PATCH', `/items/${item.id}`, { body: { name: 'hijack' }, idem: true }), 404, 'resource_missing');
  const rk = (await api(a.test, 'POST', '/api_keys', { body: { scopes: ['read'] }, idem: true })).json.secret;
  assertProblem(await api(rk, 'GET', `/items/${item.id}`), 404, 'resource_missing');
  assert.equal((await api(b.test, 'GET', `/items/${item.id}`)).json.name, 'B', 'B\'s item is untouched');
});

test('test and live keys are separate worlds', async () => {
  const live = (await api(a.live, 'POST', '/items', { body: { sku: 'LIVE-1', name: 'live' }, idem: true })).json;
  assert.equal(live.livemode, true);
  assert.equal((await api(a.test, 'GET', `/items/${live.id}`)).status, 404);
  const list = await api(a.test, 'GET', '/items', { query: { sku: 'LIVE-1' } });
  assert.deepEqual(list.json.data, []);
});

test('rolling a key retires the old secret and returns a working new one', async () => {
  const created = (await api(a.test, 'POST', '/api_keys', { body: { name: 'to roll', scopes: ['read'] }, idem: true })).json;
  const rolled = await api(a.test, 'POST', `/api_keys/${created.id}/roll`, { idem: true });
  assert.equal(rolled.status, 200, rolled.text);
  assert.notEqual(rolled.json.secret, created.secret);
  assert.equal(rolled.json.name, 'to roll');
  assert.deepEqual(rolled.json.scopes, ['read']);
  assert.equal((await api(created.secret, 'GET', '/items')).status, 401);
  assert.equal((await api(rolled.json.secret, 'GET', '/items')).status, 200);
  const list = await api(a.test, 'GET', '/api_keys', { query: { limit: 100 } });
  assert.ok(list.json.data.every((k) => k.secret === undefined && k.redacted.includes('…')));
});
