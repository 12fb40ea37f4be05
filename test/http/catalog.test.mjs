// Items and locations end to end (appendix A).
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, createAccount, psql } from './lib.mjs';

const acct = createAccount('Catalog');

test('items: create, retrieve, update with metadata merge, archive, filter', async () => {
  const created = await api(acct.test, 'POST', '/items', {
    body: { sku: 'CAT-1', name: 'Mug', unit: 'each', reorder_point: 4, negative_stock: 'reject', metadata: { color: 'blue', size: 'L' } },
    idem: true,
  });
  assert.equal(created.status, 200, created.text);
  const item = created.json;
  assert.match(item.id, /^itm_[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.equal(item.object, 'item');
  assert.equal(item.livemode, false);
  assert.match(item.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(item.reorder_point, '4');
  assert.equal(item.negative_stock, 'reject');

  assert.deepEqual((await api(acct.test, 'GET', `/items/${item.id}`)).json, item);

  const updated = await api(acct.test, 'PATCH', `/items/${item.id}`, { body: { name: 'Big mug', metadata: { size: '', origin: 'PT' }, reorder_point: null }, idem: true });
  assert.equal(updated.status, 200, updated.text);
  assert.equal(updated.json.name, 'Big mug');
  assert.deepEqual(updated.json.metadata, { color: 'blue', origin: 'PT' });
  assert.equal(updated.json.reorder_point, null);
  assert.equal(updated.json.sku, 'CAT-1');

  const dup = await api(acct.test, 'POST', '/items', { body: { sku: 'CAT-1', name: 'Dup' }, idem: true });
  assert.equal(dup.status, 409);
  assert.equal(dup.json.code, 'sku_already_exists');
  assert.equal(dup.json.param, '/sku');

  const archived = await api(acct.test, 'DELETE', `/items/${item.id}`, { idem: true });
  assert.equal(archived.status, 200);
  assert.equal(archived.json.archived, true);
  assert.equal((await api(acct.test, 'GET', `/items/${item.id}`)).json.archived, true, 'an archived item is still readable');
  const active = await api(acct.test, 'GET', '/items', { query: { archived: 'false', limit: 100 } });
  assert.ok(!active.json.data.some((i) => i.id === item.id));
  const onlyArchived = await api(acct.test, 'GET', '/items', { query: { archived: 'true' } });
  assert.deepEqual(onlyArchived.json.data.map((i) => i.id), [item.id]);

  const reuse = await api(acct.test, 'POST', '/items', { body: { sku: 'CAT-1', name: 'Successor' }, idem: true });
  assert.equal(reuse.status, 200, 'archiving frees the SKU');
  const restore = await api(acct.test, 'PATCH', `/items/${item.id}`, { body: { archived: false }, idem: true });
  assert.equal(restore.status, 409, 'restoring collides with the active successor');
});

test('items: the SKU filter and bad query parameters', async () => {
  const res = await api(acct.test, 'GET', '/items', { query: { limit: 0 } });
  assert.equal(res.status, 400);
  assert.equal(res.json.param, '/limit');
  const unknown = await api(acct.test, 'GET', '/items', { query: { colour: 'red' } });
  assert.equal(unknown.json.code, 'parameter_unknown');
});

test('locations: default exists, create, code uniqueness, move the default', async () => {
  const list = await api(acct.test, 'GET', '/locations');
  assert.equal(list.json.data.length, 1);
  const def = list.json.data[0];
  assert.equal(def.is_default, true);
  const store = await api(acct.test, 'POST', '/locations', { body: { name: 'Store 1', code: 'S1', type: 'store' }, idem: true });
  assert.equal(store.status, 200, store.text);
  assert.equal(store.json.object, 'location');
  const dup = await api(acct.test, 'POST', '/locations', { body: { name: 'Store 2', code: 'S1' }, idem: true });
  assert.equal(dup.json.code, 'location_code_already_exists');
  const moved = await api(acct.test, 'PATCH', `/locations/${store.json.id}`, { body: { is_default: true }, idem: true });
  assert.equal(moved.json.is_default, true);
  assert.equal((await api(acct.test, 'GET', `/locations/${def.id}`)).json.is_default, false, 'one default at a time');
  const bad = await api(acct.test, 'PATCH', `/locations/${store.json.id}`, { body: { type: 'moon' }, idem: true });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.param, '/type');
});

// Backends cache an item's rules and the default location (ledger/catalog_facts): these
// prove a change reaches every pooled connection at once. Each round spreads many
// concurrent movements over the shim's pool.
const sales = (key, item, n = 24) =>
  Promise.all(Array.from({ length: n }, () =>
    api(key, 'POST', '/movements', { body: { item_id: item, qty: -1, type: 'sale' }, idem: true })));

test('a new default location and a changed negative-stock rule apply at once on every pooled connection', async () => {
  const a = createAccount('Catalog caches');
  const item = (await api(a.test, 'POST', '/items', { body: { sku: 'CACHE-1', name: 'c' }, idem: true })).json;
  const first = await sales(a.test, item.id);
  const oldDefault = first[0].json.location_id;
  assert.deepEqual(new Set(first.map((r) => r.json.location_id)), new Set([oldDefault]));

  const store = (await api(a.test, 'POST', '/locations', { body: { name: 'New default' }, idem: true })).json;
  assert.equal((await api(a.test, 'PATCH', `/locations/${store.id}`, { body: { is_default: true }, idem: true })).status, 200);
  assert.deepEqual(new Set((await sales(a.test, item.id)).map((r) => r.json.location_id)), new Set([store.id]),
                   'every connection posts to the new default');

  psql(`UPDATE sk.locations SET is_default = false WHERE account_id = '${a.id}' AND NOT livemode AND is_default;
        UPDATE sk.locations SET is_default = true WHERE id = '${oldDefault}'`);
  assert.deepEqual(new Set((await sales(a.test, item.id)).map((r) => r.json.location_id)), new Set([oldDefault]),
                   'and to a default a DBA moved back');

  psql(`UPDATE sk.items SET negative_stock = 'reject' WHERE id = '${item.id}'`);
  const refused = await sales(a.test, item.id);
  assert.deepEqual(new Set(refused.map((r) => r.status)), new Set([409]), 'stock is negative: every sale is refused');
  assert.deepEqual(new Set(refused.map((r) => r.json.code)), new Set(['insufficient_stock']));
});
