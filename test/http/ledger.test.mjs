// The stock ledger over real HTTP (issue 3): every route, the seed request, reversal,
// batch atomicity, stock queries, reason codes and events.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, createAccount, psql } from './lib.mjs';

const acct = createAccount('Ledger HTTP');
const other = createAccount('Ledger other', 'EUR');

async function item(key, body) {
  const res = await api(key, 'POST', '/items', { body, idem: true });
  assert.equal(res.status, 200, res.text);
  return res.json;
}
async function move(key, body, idem = true) {
  return api(key, 'POST', '/movements', { body, idem });
}

test('the seed request works as is and is idempotent', async () => {
  const it = await item(acct.test, { sku: 'SEED-1', name: 'Seed' });
  const body = { item_id: it.id, qty: -2, type: 'sale', reason: 'order_fulfilled' };
  const first = await move(acct.test, body, 'seed-sale-1');
  assert.equal(first.status, 200, first.text);
  assert.match(first.headers.get('request-id') ?? '', /.+/);
  assert.equal(first.json.object, 'movement');
  assert.match(first.json.id, /^mov_[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.equal(first.json.qty, '-2');
  assert.equal(first.json.on_hand_after, '-2');
  assert.equal(first.json.type, 'sale');
  assert.deepEqual(first.json.lots, []);

  const again = await move(acct.test, body, 'seed-sale-1');
  assert.equal(again.text, first.text, 'a retry replays byte for byte');
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  const stock = await api(acct.test, 'GET', `/items/${it.id}/stock`);
  assert.equal(stock.json.on_hand, '-2', 'the till synced twice, the sale counted once');

  const missingKey = await api(acct.test, 'POST', '/movements', { body });
  assert.equal(missingKey.status, 400);
  assert.equal(missingKey.json.code, 'idempotency_key_missing');
});

test('a retried sale replays its success even where running it again would now fail', async () => {
  const it = await item(acct.test, { sku: 'RETRY-STRICT', name: 'Strict', negative_stock: 'reject' });
  assert.equal((await move(acct.test, { item_id: it.id, qty: 3, type: 'receipt', unit_cost: '2.00' })).status, 200);
  const sale = { item_id: it.id, qty: -3, type: 'sale' };
  const first = await move(acct.test, sale, 'strict-sale-1');
  assert.equal(first.status, 200, first.text);
  const retry = await move(acct.test, sale, 'strict-sale-1');
  assert.equal(retry.status, 200, 'not 409 insufficient_stock: the stored response is replayed');
  assert.equal(retry.text, first.text);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  const other = await move(acct.test, sale, 'strict-sale-2');
  assert.equal(other.status, 409, 'a new key does run again, and the stock is gone');
  assert.equal(other.json.code, 'insufficient_stock');
});

test('20 concurrent identical movement requests record exactly one movement', async () => {
  const it = await item(acct.test, { sku: 'RETRY-RACE', name: 'Race' });
  const body = { item_id: it.id, qty: 5, type: 'receipt', unit_cost: '1.50' };
  const results = await Promise.all(Array.from({ length: 20 }, () => move(acct.test, body, 'race-receipt-1')));
  assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
  assert.equal(new Set(results.map((r) => r.text)).size, 1, 'every response is the one stored');
  assert.equal(results.filter((r) => r.headers.get('idempotent-replayed') !== 'true').length, 1);
  const list = await api(acct.test, 'GET', '/movements', { query: { item_id: it.id } });
  assert.equal(list.json.data.length, 1);
  assert.equal((await api(acct.test, 'GET', `/items/${it.id}/stock`)).json.on_hand, '5');
  const events = psql(`SELECT count(*) FROM sk.events WHERE account_id = '${acct.id}' AND type = 'movement.recorded' AND data->'object'->>'item_id' = '${it.id}'`);
  assert.equal(events, '1', 'one movement.recorded event');
});

test('a new default location takes effect at once for movements without location_id, on every pooled connection', async () => {
  const acct2 = createAccount('Default location moves');
  const it = await item(acct2.test, { sku: 'DEFLOC-1', name: 'Default location' });
  // Many concurrent requests spread over the shim's pool, so that most of its connections
  // have used (and remember) the first default location.
  const burst = () => Promise.all(Array.from({ length: 40 }, () => move(acct2.test, { item_id: it.id, qty: 1, type: 'receipt', unit_cost: '1.00' })));
  const first = await burst();
  assert.equal(new Set(first.map((r) => r.json.location_id)).size, 1);
  const original = first[0].json.location_id;
  const store = (await api(acct2.test, 'POST', '/locations', { body: { name: 'New default' }, idem: true })).json;
  const made = await api(acct2.test, 'PATCH', `/locations/${store.id}`, { body: { is_default: true }, idem: true });
  assert.equal(made.status, 200, made.text);
  const after = await burst();
  assert.deepEqual(new Set(after.map((r) => r.json.location_id)), new Set([store.id]), 'every later movement goes to the new default');
  const stock = (await api(acct2.test, 'GET', `/items/${it.id}/stock`)).json;
  assert.deepEqual(stock.locations.map((l) => [l.location_id, l.on_hand]).sort(),
                   [[original, '40'], [store.id, '40']].sort());
});

test('movements: types, signs, transfer legs, retrieval, list filters and pagination', async () => {
  const it = await item(acct.test, { sku: 'MOV-1', name: 'Bolt', reorder_point: '2' });
  const loc = (await api(acct.test, 'POST', '/locations', { body: { name: 'Annex', code: 'ANX' }, idem: true })).json;

  const r = await move(acct.test, { item_id: it.id, qty: '12.5', type: 'receipt', unit_cost: '1.20', reference: 'PO-1', metadata: { po: '1' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.unit_cost, '1.20');
  assert.equal(r.json.wac_after, '1.20');
  assert.equal(r.json.reference, 'PO-1');
  assert.deepEqual(r.json.metadata, { po: '1' });

  const wrong = await move(acct.test, { item_id: it.id, qty: 3, type: 'sale' });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.headers.get('content-type'), 'application/problem+json');
  assert.equal(wrong.json.param, '/qty');

  const transfer = { item_id: it.id, qty: 4, type: 'transfer', to_location_id: loc.id };
  const t = await move(acct.test, transfer, 'transfer-1');
  assert.equal(t.status, 200, t.text);
  assert.equal((await move(acct.test, transfer, 'transfer-1')).text, t.text, 'a retried transfer replays its source leg');
  assert.match(t.json.transfer_id, /^trf_/);
  assert.equal(t.json.qty, '-4');
  const legs = await api(acct.test, 'GET', '/movements', { query: { transfer_id: t.json.transfer_id } });
  assert.deepEqual(legs.json.data.map((m) => [m.location_id, m.qty]).sort(), [[loc.id, '4'], [t.json.location_id, '-4']].sort());

  const got = await api(acct.test, 'GET', `/movements/${r.json.id}`);
  assert.deepEqual(got.json, r.json);
  assert.equal((await api(acct.test, 'GET', '/movements/mov_01ARZ3NDEKTSV4RRFFQ69G5FAV')).status, 404);
  assert.equal((await api(other.test, 'GET', `/movements/${r.json.id}`)).status, 404, 'another tenant gets 404');
  assert.equal((await api(acct.test, 'GET', '/movements/nonsense')).status, 404);

  for (let i = 0; i < 5; i++) assert.equal((await move(acct.test, { item_id: it.id, qty: -1, type: 'sale' })).status, 200);
  const byType = await api(acct.test, 'GET', '/movements', { query: { item_id: it.id, type: 'sale', limit: 100 } });
  assert.equal(byType.json.data.length, 5);
  const atAnnex = await api(acct.test, 'GET', '/movements', { query: { location_id: loc.id } });
  assert.equal(atAnnex.json.data.length, 1);

  // Walk the item's movements two at a time: every one exactly once, newest first.
  const seen = [];
  let after;
  for (;;) {
    const page = await api(acct.test, 'GET', '/movements', { query: { item_id: it.id, limit: 2, ...(after ? { starting_after: after } : {}) } });
    assert.equal(page.status, 200, page.text);
    seen.push(...page.json.data.map((m) => m.id));
    if (!page.json.has_more) break;
    after = page.json.data.at(-1).id;
  }
  assert.equal(seen.length, 8);
  assert.deepEqual([...seen].sort().reverse(), seen, 'newest first');

  const window = await api(acct.test, 'GET', '/movements', { query: { item_id: it.id, created_gte: r.json.created_at, created_lt: t.json.created_at } });
  assert.deepEqual(window.json.data.map((m) => m.id), [r.json.id]);

  const stock = (await api(acct.test, 'GET', `/items/${it.id}/stock`)).json;
  assert.equal(stock.on_hand, '7.5');
  assert.equal(stock.wac, '1.20');
  assert.equal(stock.value, '9.00');
  assert.equal(stock.currency, 'USD');
  assert.deepEqual(stock.locations.map((l) => l.on_hand).sort(), ['3.5', '4']);
});

test('reversal: once; the second attempt is 409', async () => {
  const it = await item(acct.test, { sku: 'REV-1', name: 'Nut' });
  const r = await move(acct.test, { item_id: it.id, qty: 5, type: 'receipt', unit_cost: 2 });
  const s = await move(acct.test, { item_id: it.id, qty: -3, type: 'sale' });
  const rev = await api(acct.test, 'POST', `/movements/${s.json.id}/reverse`, { body: { reference: 'oops' }, idem: 'rev-1' });
  assert.equal(rev.status, 200, rev.text);
  const retried = await api(acct.test, 'POST', `/movements/${s.json.id}/reverse`, { body: { reference: 'oops' }, idem: 'rev-1' });
  assert.equal(retried.status, 200, 'a retried reversal replays its answer, not 409 movement_already_reversed');
  assert.equal(retried.text, rev.text);
  assert.equal(retried.headers.get('idempotent-replayed'), 'true');
  assert.equal(rev.json.reverses, s.json.id);
  assert.equal(rev.json.qty, '3');
  assert.equal(rev.json.on_hand_after, '5');
  assert.equal(rev.json.reference, 'oops');

  const twice = await api(acct.test, 'POST', `/movements/${s.json.id}/reverse`, { body: {}, idem: true });
  assert.equal(twice.status, 409);
  assert.equal(twice.json.code, 'movement_already_reversed');
  // Two concurrent reversals of one movement: exactly one wins.
  const race = await Promise.all([1, 2, 3].map(() => api(acct.test, 'POST', `/movements/${r.json.id}/reverse`, { body: {}, idem: true })));
  assert.deepEqual(race.map((x) => x.status).sort(), [200, 409, 409]);
  assert.equal((await api(acct.test, 'GET', `/items/${it.id}/stock`)).json.on_hand, '0');
  assert.equal((await api(other.test, 'POST', `/movements/${s.json.id}/reverse`, { body: {}, idem: true })).status, 404);
});

test('batch: all or nothing, params point into the array, response in order', async () => {
  const it = await item(acct.test, { sku: 'BAT-1', name: 'Washer', negative_stock: 'reject' });
  const stockBefore = (await api(acct.test, 'GET', `/items/${it.id}/stock`)).json;
  const eventsBefore = (await api(acct.test, 'GET', '/events', { query: { limit: 1 } })).json.data[0]?.id;

  const movements = Array.from({ length: 20 }, (_, i) => ({ item_id: it.id, qty: 1, type: 'receipt', unit_cost: i + 1 }));
  movements[17] = { item_id: it.id, qty: 1, type: 'sale' };
  const bad = await api(acct.test, 'POST', '/movements/batch', { body: { movements }, idem: true });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.param, '/movements/17/qty');
  movements[17] = { item_id: it.id, qty: -40, type: 'sale' };
  const short = await api(acct.test, 'POST', '/movements/batch', { body: { movements }, idem: true });
  assert.equal(short.status, 409);
  assert.equal(short.json.code, 'insufficient_stock');
  assert.equal(short.json.param, '/movements/17/qty');
  const stockAfter = (await api(acct.test, 'GET', `/items/${it.id}/stock`)).json;
  assert.equal(stockAfter.on_hand, stockBefore.on_hand, 'the 17 receipts before the bad element were not kept');
  assert.equal((await api(acct.test, 'GET', '/movements', { query: { item_id: it.id } })).json.data.length, 0);
  assert.equal((await api(acct.test, 'GET', '/events', { query: { limit: 1 } })).json.data[0]?.id, eventsBefore, 'and no event was written');

  movements[17] = { item_id: it.id, qty: -10, type: 'sale' };
  const ok = await api(acct.test, 'POST', '/movements/batch', { body: { movements }, idem: 'batch-http-1' });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.object, 'list');
  assert.equal(ok.json.data.length, 20);
  assert.deepEqual(ok.json.data.map((m) => m.qty), movements.map((m) => String(m.qty)));
  assert.equal(ok.json.data[16].wac_after, '9.00', 'WAC of 17 receipts at 1..17');
  assert.equal(ok.json.data[19].on_hand_after, '9');
  const replay = await api(acct.test, 'POST', '/movements/batch', { body: { movements }, idem: 'batch-http-1' });
  assert.equal(replay.text, ok.text);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  const tooMany = await api(acct.test, 'POST', '/movements/batch', {
    body: { movements: Array.from({ length: 1001 }, () => ({ item_id: it.id, qty: 1, type: 'return' })) }, idem: true });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.json.param, '/movements');
});

test('stock: one item now and as of an instant; several items by id or SKU', async () => {
  const a = await item(acct.test, { sku: 'STK-A', name: 'A' });
  const b = await item(acct.test, { sku: 'STK-B', name: 'B' });
  const r1 = await move(acct.test, { item_id: a.id, qty: 10, type: 'receipt', unit_cost: '5.00' });
  await move(acct.test, { item_id: a.id, qty: 10, type: 'receipt', unit_cost: '7.00' });
  await move(acct.test, { item_id: b.id, qty: 3, type: 'receipt', unit_cost: '1.005' });

  const now = (await api(acct.test, 'GET', `/items/${a.id}/stock`)).json;
  assert.deepEqual(Object.keys(now), ['object', 'item_id', 'sku', 'livemode', 'on_hand', 'wac', 'value', 'currency', 'as_of',
                                      'reorder_point', 'locations', 'lots']);
  assert.equal(now.object, 'stock');
  assert.equal(now.on_hand, '20');
  assert.equal(now.wac, '6.00');
  assert.equal(now.value, '120.00');
  const then = (await api(acct.test, 'GET', `/items/${a.id}/stock`, { query: { as_of: r1.json.created_at } })).json;
  assert.equal(then.on_hand, '10');
  assert.equal(then.wac, '5.00');
  assert.equal(then.as_of, r1.json.created_at);

  const byIds = await api(acct.test, 'GET', '/stock', { query: { item_ids: `${b.id},${a.id}` } });
  assert.equal(byIds.status, 200, byIds.text);
  assert.deepEqual(byIds.json.data.map((s) => [s.sku, s.on_hand, s.value]), [['STK-B', '3', '3.02'], ['STK-A', '20', '120.00']]);
  const bySkus = await api(acct.test, 'GET', '/stock', { query: { skus: 'STK-A, STK-B,UNKNOWN' } });
  assert.deepEqual(bySkus.json.data.map((s) => s.item_id), [a.id, b.id]);
  const tooMany = await api(acct.test, 'GET', '/stock', { query: { skus: Array.from({ length: 101 }, (_, i) => `S${i}`).join(',') } });
  assert.equal(tooMany.status, 400);
  assert.equal((await api(acct.test, 'GET', `/items/${a.id}/stock`, { query: { as_of: 'soon' } })).json.param, '/as_of');
  assert.equal((await api(other.test, 'GET', `/items/${a.id}/stock`)).status, 404);
  assert.equal((await api(acct.live, 'GET', `/items/${a.id}/stock`)).status, 404, 'the live world of the same account');
});

test("reason codes: defaults plus the account's own", async () => {
  const list = await api(acct.test, 'GET', '/reason_codes', { query: { limit: 100 } });
  assert.equal(list.status, 200);
  const codes = list.json.data.map((r) => r.code);
  for (const c of ['order_fulfilled', 'purchase_received', 'customer_return', 'supplier_return', 'damaged', 'expired',
    'lost', 'found', 'count_variance', 'opening_balance', 'transfer']) assert.ok(codes.includes(c), c);
  const created = await api(acct.test, 'POST', '/reason_codes', { body: { code: 'sample_given', description: 'Given away as a sample' }, idem: true });
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.object, 'reason_code');
  assert.equal(created.json.default, false);
  assert.match(created.json.id, /^rsn_/);
  const own = await api(acct.test, 'GET', '/reason_codes', { query: { default: 'false' } });
  assert.deepEqual(own.json.data.map((r) => r.code), ['sample_given']);
  const it = await item(acct.test, { sku: 'RSN-1', name: 'Sample' });
  assert.equal((await move(acct.test, { item_id: it.id, qty: -1, type: 'adjustment', reason: 'sample_given' })).status, 200);
  const unknown = await move(acct.test, { item_id: it.id, qty: -1, type: 'adjustment', reason: 'sample_taken' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.code, 'reason_unknown');
  assert.equal((await api(other.test, 'GET', '/reason_codes', { query: { default: 'false' } })).json.data.length, 0);
});

test('events: movement.recorded and stock.low in the outbox, listed and retrieved', async () => {
  const it = await item(acct.test, { sku: 'EVT-1', name: 'Evented', reorder_point: 5 });
  await move(acct.test, { item_id: it.id, qty: 6, type: 'receipt', unit_cost: 1 });
  const sale = await move(acct.test, { item_id: it.id, qty: -2, type: 'sale' });
  const low = await api(acct.test, 'GET', '/events', { query: { type: 'stock.low', limit: 1 } });
  assert.equal(low.json.data[0].data.object.item_id, it.id);
  assert.equal(low.json.data[0].data.object.on_hand, '4');
  assert.equal(low.json.data[0].data.object.reorder_point, '5');
  const recorded = await api(acct.test, 'GET', '/events', { query: { type: 'movement.recorded', limit: 1 } });
  assert.deepEqual(recorded.json.data[0].data.object, sale.json);
  const one = await api(acct.test, 'GET', `/events/${recorded.json.data[0].id}`);
  assert.deepEqual(one.json, recorded.json.data[0]);
  assert.equal((await api(other.test, 'GET', `/events/${recorded.json.data[0].id}`)).status, 404);
  const since = await api(acct.test, 'GET', '/events', { query: { created_gte: '2999-01-01T00:00:00Z' } });
  assert.deepEqual(since.json.data, []);
});

test('scopes: a read-only key reads stock but cannot move it', async () => {
  const key = await api(acct.test, 'POST', '/api_keys', { body: { name: 'agent', scopes: ['read'] }, idem: true });
  assert.equal(key.status, 200, key.text);
  const it = await item(acct.test, { sku: 'SCP-1', name: 'Scoped' });
  assert.equal((await api(key.json.secret, 'GET', `/items/${it.id}/stock`)).status, 200);
  const denied = await move(key.json.secret, { item_id: it.id, qty: -1, type: 'sale' });
  assert.equal(denied.status, 403);
  assert.equal((await api(key.json.secret, 'POST', '/movements/batch', { body: { movements: [] }, idem: true })).status, 403);
});

test('the ledger routes are in the OpenAPI document', async () => {
  const doc = (await api(null, 'GET', '/openapi.json')).json;
  for (const p of ['/movements', '/movements/batch', '/movements/{id}', '/movements/{id}/reverse', '/items/{id}/stock', '/stock',
    '/reason_codes', '/events', '/events/{id}']) assert.ok(doc.paths[p], p);
  assert.ok(doc.components.schemas.Movement);
  assert.ok(doc.components.schemas.Stock);
  assert.equal(psql("SELECT count(*) FROM sk.verify_balances()"), '0', 'the cache equals the log after all of this');
});
