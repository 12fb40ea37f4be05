// Reads share pipelined database connections (shim/read_lanes): many requests' calls are
// in flight on one connection at once, and each answer must reach its own request.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, createAccount } from './lib.mjs';

test('concurrent reads on shared lanes each get their own answer', async () => {
  const acct = createAccount('Read lanes');
  const items = [];
  for (let i = 1; i <= 20; i++) {
    const item = await api(acct.test, 'POST', '/items', { body: { sku: `LANE-${i}`, name: `Lane ${i}` }, idem: true });
    assert.equal(item.status, 200, item.text);
    const receipt = await api(acct.test, 'POST', '/movements', {
      body: { item_id: item.json.id, qty: i, type: 'receipt', unit_cost: '1.00' }, idem: true });
    assert.equal(receipt.status, 200, receipt.text);
    items.push({ id: item.json.id, qty: String(i) });
  }
  // Waves of 100 reads at once (more than a lane holds, fewer than the shim's connection
  // limit), mixing two routes, an unknown id (404) and another tenant's view (404).
  const other = createAccount('Read lanes, other tenant');
  const read = (n) => {
    const item = items[(n * 7) % items.length];
    switch (n % 4) {
      case 0: return api(acct.test, 'GET', `/items/${item.id}/stock`).then((r) => ({ r, item, want: 'stock' }));
      case 1: return api(acct.test, 'GET', `/items/${item.id}`).then((r) => ({ r, item, want: 'item' }));
      case 2: return api(other.test, 'GET', `/items/${item.id}/stock`).then((r) => ({ r, want: 404 }));
      default: return api(acct.test, 'GET', '/items/itm_00000000000000000000000000/stock').then((r) => ({ r, want: 404 }));
    }
  };
  const answers = [];
  for (let wave = 0; wave < 4; wave++)
    answers.push(...await Promise.all(Array.from({ length: 100 }, (_, i) => read(wave * 100 + i))));
  for (const { r, item, want } of answers) {
    if (want === 404) {
      assert.equal(r.status, 404, r.text);
      assert.equal(r.json.code, 'resource_missing');
      continue;
    }
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, want);
    assert.equal(want === 'stock' ? r.json.item_id : r.json.id, item.id);
    if (want === 'stock') assert.equal(r.json.on_hand, item.qty);
  }
});
