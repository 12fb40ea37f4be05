// Purchasing, lots and day-end over HTTP, with their events delivered by the worker and
// verified by `standardwebhooks`: grn.completed, lot.expiring (from the worker's own
// scheduler) and dayend.closed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { api, createAccount, psql, startReceiver, sleep } from './lib.mjs';

function isoDate(daysFromToday) {
  return new Date(Date.now() + daysFromToday * 86400000).toISOString().slice(0, 10);
}

async function setup(name, events) {
  const acct = createAccount(name);
  const rx = await startReceiver();
  const ep = await api(acct.test, 'POST', '/webhook_endpoints', { body: { url: rx.url, enabled_events: events }, idem: true });
  assert.equal(ep.status, 200, ep.text);
  const verify = (d) => new Webhook(ep.json.secret).verify(d.body, d.headers);
  return { acct, rx, verify };
}

test('a GRN completes into receipts at landed cost and grn.completed is delivered', async () => {
  const { acct, rx, verify } = await setup('GRN', ['grn.completed']);
  try {
    const a = (await api(acct.test, 'POST', '/items', { body: { sku: 'G-A', name: 'A' }, idem: true })).json;
    const b = (await api(acct.test, 'POST', '/items', { body: { sku: 'G-B', name: 'B' }, idem: true })).json;
    const grn = await api(acct.test, 'POST', '/grns', {
      body: {
        supplier: 'Acme', reference: 'PO-7',
        lines: [{ item_id: a.id, qty: 10, unit_cost: '10.00' }, { item_id: b.id, qty: 30, unit_cost: '5.00' }],
        landed_costs: [{ description: 'Freight', amount: '50.00', allocation: 'value' }],
      },
      idem: true,
    });
    assert.equal(grn.status, 200, grn.text);
    assert.equal(grn.json.status, 'draft');
    const key = 'complete-' + grn.json.id;
    const done = await api(acct.test, 'POST', `/grns/${grn.json.id}/complete`, { idem: key });
    assert.equal(done.status, 200, done.text);
    assert.deepEqual(done.json.lines.map((l) => l.landed_unit_cost), ['12.00', '6.00']);
    const again = await api(acct.test, 'POST', `/grns/${grn.json.id}/complete`, { idem: key });
    assert.equal(again.text, done.text, 'a retry of the completion replays it');
    assert.equal((await api(acct.test, 'POST', `/grns/${grn.json.id}/complete`, { idem: true })).json.code, 'grn_not_draft');
    const stock = await api(acct.test, 'GET', `/items/${a.id}/stock`);
    assert.equal(stock.json.on_hand, '10');
    assert.equal(stock.json.wac, '12.00');
    const [d] = await rx.waitFor((r) => r.length >= 1);
    const event = verify(d);
    assert.equal(event.type, 'grn.completed');
    assert.equal(event.data.object.id, grn.json.id);
    assert.deepEqual(event.data.object.lines.map((l) => [l.qty, l.landed_unit_cost]), [['10', '12.00'], ['30', '6.00']]);
    assert.equal(event.data.object.landed_costs[0].amount, '50.00');
  } finally {
    await rx.close();
  }
});

test('the worker\'s scheduler emits lot.expiring once for a lot entering the warning window', async () => {
  const { acct, rx, verify } = await setup('Expiring', ['lot.expiring']);
  // Another tenant listening for the same type: the worker bypasses RLS, and its fan-out
  // must still stay within the lot's tenant.
  const bystander = await setup('Expiring bystander', ['lot.expiring']);
  try {
    const item = (await api(acct.test, 'POST', '/items', { body: { sku: 'YOG', name: 'Yoghurt', track_lots: true }, idem: true })).json;
    const soon = await api(acct.test, 'POST', '/movements', {
      body: { item_id: item.id, qty: 12, type: 'receipt', unit_cost: 1, lot: { code: 'Y-1', expires_on: isoDate(3) } }, idem: true });
    assert.equal(soon.status, 200, soon.text);
    await api(acct.test, 'POST', '/movements', {
      body: { item_id: item.id, qty: 5, type: 'receipt', unit_cost: 1, lot: { code: 'Y-2', expires_on: isoDate(200) } }, idem: true });
    const [d] = await rx.waitFor((r) => r.length >= 1, 15000, 'lot.expiring');
    const event = verify(d);
    assert.equal(event.type, 'lot.expiring');
    assert.equal(event.data.object.id, soon.json.lot_id);
    assert.equal(event.data.object.on_hand, '12');
    await sleep(1500);  // three more scheduler rounds at the test interval
    assert.equal(rx.received.length, 1, 'once per lot; the lot beyond the window is not due');
    assert.equal(bystander.rx.received.length, 0, "another tenant's endpoint gets nothing");
    assert.equal(psql(`SELECT count(*) FROM sk.webhook_deliveries d JOIN sk.webhook_endpoints w ON w.id = d.endpoint_id
                        WHERE d.event_id = '${event.id}' AND (w.account_id, w.livemode) <> (d.account_id, d.livemode)`), '0',
                 'no delivery of the event is queued for an endpoint of another tenant');
    const lots = await api(acct.test, 'GET', '/lots', { query: { item_id: item.id, expiring_before: isoDate(30) } });
    assert.deepEqual(lots.json.data.map((l) => l.code), ['Y-1']);
  } finally {
    await rx.close();
    await bystander.rx.close();
  }
});

test('count, sell, close: the variance is against the counting instant and dayend.closed is delivered', async () => {
  const { acct, rx, verify } = await setup('Day-end', ['dayend.closed']);
  try {
    const item = (await api(acct.test, 'POST', '/items', { body: { sku: 'DE-1', name: 'Counted' }, idem: true })).json;
    await api(acct.test, 'POST', '/movements', { body: { item_id: item.id, qty: 20, type: 'receipt', unit_cost: '2.50' }, idem: true });
    const count = await api(acct.test, 'POST', '/counts', {
      body: { business_date: '2026-11-25', lines: [{ item_id: item.id, counted_qty: 18 }] }, idem: true });
    assert.equal(count.status, 200, count.text);
    await sleep(5);
    const impossible = await api(acct.test, 'POST', '/counts', {
      body: { business_date: '2026-02-30', lines: [{ item_id: item.id, counted_qty: 1 }] }, idem: true });
    assert.equal(impossible.status, 400, 'a date that is not in the calendar is a 400, not a database error');
    assert.equal(impossible.json.param, '/business_date');
    await api(acct.test, 'POST', '/movements', { body: { item_id: item.id, qty: -4, type: 'sale' }, idem: true });
    const close = await api(acct.test, 'POST', '/dayend_closes', { body: { business_date: '2026-11-25' }, idem: true });
    assert.equal(close.status, 200, close.text);
    const [v] = close.json.variances;
    assert.deepEqual([v.counted_qty, v.expected_qty, v.variance_qty, v.variance_value], ['18', '20', '-2', '-5.00']);
    assert.equal((await api(acct.test, 'GET', `/items/${item.id}/stock`)).json.on_hand, '14');
    const late = await api(acct.test, 'POST', '/counts', {
      body: { business_date: '2026-11-25', lines: [{ item_id: item.id, counted_qty: 1 }] }, idem: true });
    assert.equal(late.status, 409);
    assert.equal(late.json.code, 'day_closed');
    const [d] = await rx.waitFor((r) => r.length >= 1);
    const event = verify(d);
    assert.equal(event.type, 'dayend.closed');
    assert.deepEqual(event.data.object.variances.map((x) => x.variance_value), ['-5.00']);
    assert.equal((await api(acct.test, 'GET', `/dayend_closes/${close.json.id}`)).text, close.text);
  } finally {
    await rx.close();
  }
});
