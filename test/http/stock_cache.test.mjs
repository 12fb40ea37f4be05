// The stock object's per-backend cache of an item's split by location and lot (issue 3):
// keyed by the item's last_seq, it must follow every movement, never keep a state that
// rolled back, and be dropped by sk.rebuild_balances().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createAccount, inAnotherBackend, invokeSql, psql, psqlSession } from './lib.mjs';

const split = (stock) => Object.fromEntries(stock.locations.map((l) => [l.location_id, l.on_hand]));

async function setup(sku) {
  const acct = createAccount('Stock cache');
  const it = (await api(acct.test, 'POST', '/items', { idem: true, body: { sku, name: sku } })).json;
  const b = (await api(acct.test, 'POST', '/locations', { idem: true, body: { name: `${sku} B` } })).json;
  const home = psql(`SELECT id FROM sk.locations WHERE account_id = '${acct.id}' AND NOT livemode AND is_default`);
  return { acct, it, b: b.id, home };
}

async function move(acct, body) {
  const r = await api(acct.test, 'POST', '/movements', { idem: true, body });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const stock = async (acct, it) => (await api(acct.test, 'GET', `/items/${it.id}/stock`)).json;

test('stock: the split read again follows every movement of the item', async () => {
  const { acct, it, b, home } = await setup('CACHE-1');
  await move(acct, { item_id: it.id, qty: 10, type: 'receipt', unit_cost: '2.00' });
  assert.deepEqual(split(await stock(acct, it)), { [home]: '10' });
  assert.deepEqual(split(await stock(acct, it)), { [home]: '10' }, 'read twice, unchanged');
  await move(acct, { item_id: it.id, qty: 5, type: 'receipt', unit_cost: '2.00', location_id: b });
  assert.deepEqual(split(await stock(acct, it)), { [home]: '10', [b]: '5' });
  await move(acct, { item_id: it.id, qty: 3, type: 'transfer', location_id: home, to_location_id: b });
  const after = await stock(acct, it);
  assert.deepEqual(split(after), { [home]: '7', [b]: '8' });
  assert.equal(after.on_hand, '15');
  const many = (await api(acct.test, 'GET', '/stock', { query: { item_ids: it.id } })).json.data[0];
  assert.deepEqual(split(many), split(after), 'GET /stock renders the same split');
});

test('stock: a split read inside a transaction that rolls back is never served later', async () => {
  const { acct, it, b, home } = await setup('CACHE-2');
  await move(acct, { item_id: it.id, qty: 10, type: 'receipt', unit_cost: '2.00' });
  const invoke = (method, path, body, idem) => invokeSql(acct.test, method, path, { body, idem });
  // One backend throughout: the cache is per backend.
  const out = psqlSession(
    invoke('GET', `/items/${it.id}/stock`),                                           // fills the cache (seq 1)
    'BEGIN',
    invoke('POST', '/movements', { item_id: it.id, qty: 4, type: 'receipt', unit_cost: '2.00', location_id: b }, 'rolled-back'),
    invoke('GET', `/items/${it.id}/stock`),                                           // seq 2, uncommitted
    'ROLLBACK',
    invoke('POST', '/movements', { item_id: it.id, qty: -1, type: 'sale' }, 'committed'), // another seq 2
    invoke('GET', `/items/${it.id}/stock`),
  ).filter((line) => line.startsWith('{'));
  assert.deepEqual(split(JSON.parse(out[2])), { [home]: '10', [b]: '4' }, 'the transaction saw its own receipt');
  assert.deepEqual(split(JSON.parse(out[4])), { [home]: '9' }, 'the committed sale, not the rolled-back receipt');
  assert.deepEqual(split(await stock(acct, it)), { [home]: '9' });
});

test('stock: after rebuild_balances() no split of the damaged balances is served, even one read under an older snapshot', async () => {
  const { acct, it, b, home } = await setup('CACHE-3');
  await move(acct, { item_id: it.id, qty: 10, type: 'receipt', unit_cost: '2.00' });
  await move(acct, { item_id: it.id, qty: 5, type: 'receipt', unit_cost: '2.00', location_id: b });
  const get = invokeSql(acct.test, 'GET', `/items/${it.id}/stock`);
  try {
    // Damage a balance, then move the item: reads render the damage, as stored.
    psql(`UPDATE sk.stock_balances SET on_hand = on_hand + 100 WHERE item_id = '${it.id}' AND location_id = '${b}'`);
    await move(acct, { item_id: it.id, qty: -1, type: 'sale' });
    assert.equal(psql(`SELECT count(*) FROM sk.verify_balances() WHERE item_id = '${it.id}'`), '1');
    const out = psqlSession(
      get,                                                      // caches the damaged split
      'BEGIN ISOLATION LEVEL REPEATABLE READ', 'SELECT 1',      // a snapshot from before the repair
      inAnotherBackend('SELECT sk.rebuild_balances()'),         // repaired by another backend
      get,                  // the old snapshot, after the repair's invalidation: reads and caches the damage again
      'COMMIT',
      get,                                                      // a snapshot after the repair
    ).filter((line) => line.startsWith('{'));
    assert.deepEqual(split(JSON.parse(out[0])), { [home]: '9', [b]: '105' }, 'the damaged balance, as stored');
    assert.deepEqual(split(JSON.parse(out[1])), { [home]: '9', [b]: '105' }, 'the old snapshot still reads the damage');
    assert.deepEqual(split(JSON.parse(out[2])), { [home]: '9', [b]: '5' }, 'the repaired balances, not a split cached from before');
    assert.deepEqual(split(await stock(acct, it)), { [home]: '9', [b]: '5' }, 'over HTTP too');
  } finally {
    psql('SELECT sk.rebuild_balances()');  // later suites start from an undamaged ledger
  }
});
