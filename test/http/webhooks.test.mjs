// Webhooks end to end: the background worker in PostgreSQL delivers to a real local
// receiver, and every signature is verified by the independent `standardwebhooks`
// package. The suite runs with sk.webhook_retry_schedule shortened (scripts/test.sh).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import { api, createAccount, startReceiver, eventually, sleep, psql } from './lib.mjs';

const root = process.env.SK_ROOT ?? new URL('../..', import.meta.url).pathname;

function verify(secret, delivery) {
  return new Webhook(secret).verify(delivery.body, {
    'webhook-id': delivery.headers['webhook-id'],
    'webhook-timestamp': delivery.headers['webhook-timestamp'],
    'webhook-signature': delivery.headers['webhook-signature'],
  });
}

async function endpoint(key, url, enabled_events = ['*']) {
  const res = await api(key, 'POST', '/webhook_endpoints', { body: { url, enabled_events }, idem: true });
  assert.equal(res.status, 200, res.text);
  assert.match(res.json.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  return res.json;
}

async function createItem(key, sku) {
  const res = await api(key, 'POST', '/items', { body: { sku, name: sku }, idem: true });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

test('an event is delivered, signed per Standard Webhooks, with the event id as webhook-id', async () => {
  const acct = createAccount('Webhooks');
  const rx = await startReceiver();
  try {
    const ep = await endpoint(acct.test, rx.url);
    assert.equal((await api(acct.test, 'GET', `/webhook_endpoints/${ep.id}`)).json.secret, undefined, 'the secret is shown once');
    const item = await createItem(acct.test, 'WH-1');
    const [d] = await rx.waitFor((r) => r.length >= 1);
    const event = verify(ep.secret, d);
    assert.equal(event.type, 'item.created');
    assert.equal(event.object, 'event');
    assert.equal(event.data.object.id, item.id);
    assert.equal(d.headers['webhook-id'], event.id);
    assert.match(event.id, /^evt_/);
    assert.ok(Math.abs(Number(d.headers['webhook-timestamp']) - Date.now() / 1000) < 30);
    assert.throws(() => verify(ep.secret, { ...d, body: d.body.replace('WH-1', 'WH-2') }), 'a tampered body fails');
    const stored = await api(acct.test, 'GET', `/events/${event.id}`);
    if (stored.status === 200) assert.deepEqual(stored.json, event, 'the body is the stored event object');
    const log = await eventually(async () => {
      const l = await api(acct.test, 'GET', `/webhook_endpoints/${ep.id}/deliveries`);
      return l.json.data[0]?.status === 'succeeded' && l.json;
    }, 5000, 'the delivery to be recorded');
    assert.equal(log.data[0].attempts.length, 1);
    assert.equal(log.data[0].attempts[0].status_code, 200);
    assert.equal(log.data[0].attempts[0].response_excerpt, 'status 200');
  } finally {
    await rx.close();
  }
});

test('fails twice then succeeds: three attempts on the schedule, one succeeded', async () => {
  const acct = createAccount('Retries');
  const rx = await startReceiver((_, n) => (n <= 2 ? 503 : 200));
  try {
    const ep = await endpoint(acct.test, rx.url);
    await createItem(acct.test, 'RETRY-1');
    await rx.waitFor((r) => r.length >= 3);
    const ids = new Set(rx.received.map((d) => d.headers['webhook-id']));
    assert.equal(ids.size, 1, 'every attempt carries the same webhook-id');
    for (const d of rx.received) verify(ep.secret, d);
    const delivery = await eventually(async () => {
      const l = await api(acct.test, 'GET', `/webhook_endpoints/${ep.id}/deliveries`);
      return l.json.data[0]?.status === 'succeeded' && l.json.data[0];
    }, 5000, 'the success to be recorded');
    assert.deepEqual(delivery.attempts.map((a) => a.status_code), [503, 503, 200]);
    assert.equal(delivery.attempt_count, 3);
    await sleep(800);
    assert.equal(rx.received.length, 3, 'no attempt after the success');
  } finally {
    await rx.close();
  }
});

test('receiver down for every attempt: dead letter, then replay delivers it', async () => {
  const acct = createAccount('Dead letters');
  let up = false;
  const rx = await startReceiver(() => (up ? 200 : 500));
  try {
    const ep = await endpoint(acct.test, rx.url);
    await createItem(acct.test, 'DEAD-1');
    const dead = await eventually(async () => {
      const l = await api(acct.test, 'GET', `/webhook_endpoints/${ep.id}/deliveries`, { query: { status: 'dead' } });
      return l.json.data[0];
    }, 15000, 'the delivery to go dead');
    assert.equal(dead.attempt_count, 4, 'the first attempt and the three retries of the test schedule');
    up = true;
    const replay = await api(acct.test, 'POST', `/webhook_endpoints/${ep.id}/replay`, { body: { status: 'dead' }, idem: true });
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.json.queued, 1);
    await rx.waitFor((r) => r.length >= 5);
    verify(ep.secret, rx.received[4]);
    assert.equal(rx.received[4].headers['webhook-id'], rx.received[0].headers['webhook-id']);
    await eventually(async () => (await api(acct.test, 'GET', `/webhook_endpoints/${ep.id}/deliveries`,
      { query: { status: 'succeeded' } })).json.data.length === 1, 5000, 'the replayed delivery to succeed');
  } finally {
    await rx.close();
  }
});

test('replaying a time window re-sends every matching event of the window, once per replay key', async () => {
  const acct = createAccount('Window replay');
  const rx = await startReceiver();
  try {
    const before = new Date().toISOString();
    await createItem(acct.test, 'WIN-1');
    await createItem(acct.test, 'WIN-2');
    const ep = await endpoint(acct.test, rx.url, ['item.created']);  // subscribed after the events
    await sleep(300);
    assert.equal(rx.received.length, 0, 'events before the subscription were not sent');
    const key = 'replay-window-' + ep.id;
    const body = { since: before, until: new Date(Date.now() + 1000).toISOString() };
    const replay = await api(acct.test, 'POST', `/webhook_endpoints/${ep.id}/replay`, { body, idem: key });
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.json.queued, 2);
    const again = await api(acct.test, 'POST', `/webhook_endpoints/${ep.id}/replay`, { body, idem: key });
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    await rx.waitFor((r) => r.length >= 2);
    await sleep(500);
    assert.equal(rx.received.length, 2, 'the retried replay request queued nothing more');
    assert.deepEqual(rx.received.map((d) => verify(ep.secret, d).data.object.sku).sort(), ['WIN-1', 'WIN-2']);
  } finally {
    await rx.close();
  }
});

test('a single dead delivery can be retried by id', async () => {
  const acct = createAccount('Retry one');
  let up = false;
  const rx = await startReceiver(() => (up ? 200 : 500));
  try {
    const ep = await endpoint(acct.test, rx.url);
    await createItem(acct.test, 'RETRY-ONE');
    const dead = await eventually(async () => (await api(acct.test, 'GET', `/webhook_endpoints/${ep.id}/deliveries`,
      { query: { status: 'dead' } })).json.data[0], 15000, 'a dead delivery');
    up = true;
    const retried = await api(acct.test, 'POST', `/webhook_deliveries/${dead.id}/retry`, { idem: true });
    assert.equal(retried.status, 200, retried.text);
    await eventually(async () => (await api(acct.test, 'GET', `/webhook_endpoints/${ep.id}/deliveries`,
      { query: { status: 'succeeded' } })).json.data.length === 1, 5000, 'the retried delivery to succeed');
    const again = await api(acct.test, 'POST', `/webhook_deliveries/${dead.id}/retry`, { idem: true });
    assert.equal(again.status, 409);
    const other = createAccount('Other');
    assert.equal((await api(other.test, 'POST', `/webhook_deliveries/${dead.id}/retry`, { idem: true })).status, 404);
  } finally {
    await rx.close();
  }
});

test('rotation: during the grace period both the old and the new secret verify', async () => {
  const acct = createAccount('Rotation');
  const rx = await startReceiver();
  try {
    const ep = await endpoint(acct.test, rx.url);
    const rotated = await api(acct.test, 'POST', `/webhook_endpoints/${ep.id}/rotate_secret`, { idem: true });
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.json.secret, ep.secret);
    await createItem(acct.test, 'ROT-1');
    const [d] = await rx.waitFor((r) => r.length >= 1);
    assert.equal(d.headers['webhook-signature'].split(' ').length, 2, 'two signatures, space-separated');
    verify(rotated.json.secret, d);
    verify(ep.secret, d);
  } finally {
    await rx.close();
  }
});

test('410 Gone disables the endpoint', async () => {
  const acct = createAccount('Gone');
  const rx = await startReceiver(() => 410);
  try {
    const ep = await endpoint(acct.test, rx.url);
    await createItem(acct.test, 'GONE-1');
    await rx.waitFor((r) => r.length >= 1);
    const disabled = await eventually(async () => {
      const e = (await api(acct.test, 'GET', `/webhook_endpoints/${ep.id}`)).json;
      return e.status === 'disabled' && e;
    }, 5000, 'the endpoint to be disabled');
    assert.match(disabled.disabled_reason, /410/);
    await createItem(acct.test, 'GONE-2');
    await sleep(500);
    assert.equal(rx.received.length, 1, 'a disabled endpoint receives nothing more');
    const replay = await api(acct.test, 'POST', `/webhook_endpoints/${ep.id}/replay`, { body: { status: 'dead' }, idem: true });
    assert.equal(replay.status, 409, 'nothing can be queued for a disabled endpoint');
    assert.equal(replay.json.code, 'endpoint_disabled');
  } finally {
    await rx.close();
  }
});

test('disabling an endpoint while a send is in flight leaves that delivery a dead letter, not queued', async () => {
  const acct = createAccount('Disabled in flight');
  let release;
  const answered = new Promise((r) => { release = r; });
  const rx = await startReceiver(async () => { await answered; return 500; });
  try {
    const ep = await endpoint(acct.test, rx.url);
    await createItem(acct.test, 'INFLIGHT-1');
    await rx.waitFor((r) => r.length >= 1);  // the worker is waiting for the answer
    const off = await api(acct.test, 'PATCH', `/webhook_endpoints/${ep.id}`, { body: { status: 'disabled' }, idem: true });
    assert.equal(off.status, 200, off.text);
    release();  // a 500, which would otherwise schedule a retry
    const statuses = () => psql(`SELECT string_agg(status || ':' || attempt_count, ',') FROM sk.webhook_deliveries WHERE endpoint_id = '${ep.id}'`);
    await eventually(() => statuses() === 'dead:1', 5000, 'the attempt to be recorded');
    await sleep(300);
    assert.equal(statuses(), 'dead:1', 'nothing is left pending or retrying for a disabled endpoint');
  } finally {
    release();
    await rx.close();
  }
});

test('an endpoint added or disabled while movements flow takes effect at once on every pooled connection', async () => {
  // Backends remember whether an account has an endpoint; many concurrent requests spread
  // over the shim's pool so that most of its connections have seen "none" first.
  const acct = createAccount('Endpoint appears');
  const item = await createItem(acct.test, 'APPEARS-1');
  const burst = (tag) => Promise.all(Array.from({ length: 40 }, (_, i) =>
    api(acct.test, 'POST', '/movements', { body: { item_id: item.id, qty: 1, type: 'receipt', unit_cost: '1.00', reference: `${tag}-${i}` }, idem: true })));
  assert.deepEqual(new Set((await burst('before')).map((r) => r.status)), new Set([200]));
  const rx = await startReceiver();
  try {
    const ep = await endpoint(acct.test, rx.url, ['movement.recorded']);
    assert.deepEqual(new Set((await burst('during')).map((r) => r.status)), new Set([200]));
    await rx.waitFor((r) => r.length >= 40, 15000, '40 movement.recorded deliveries');
    const references = rx.received.map((d) => JSON.parse(d.body).data.object.reference);
    assert.deepEqual(new Set(references.map((r) => r.split('-')[0])), new Set(['during']), 'only movements after the endpoint');
    const queued = () => psql(`SELECT count(*) FROM sk.webhook_deliveries WHERE endpoint_id = '${ep.id}'`);
    assert.equal(queued(), '40', 'every movement after the endpoint was created has its delivery');
    assert.equal((await api(acct.test, 'PATCH', `/webhook_endpoints/${ep.id}`, { body: { status: 'disabled' }, idem: true })).status, 200);
    await burst('after');
    assert.equal(queued(), '40', 'nothing is queued for it once disabled');
  } finally {
    await rx.close();
  }
});

test('an event type the endpoint did not enable is not sent', async () => {
  const acct = createAccount('Filtered');
  const rx = await startReceiver();
  try {
    const ep = await endpoint(acct.test, rx.url, ['item.updated']);
    const item = await createItem(acct.test, 'FILTER-1');
    await api(acct.test, 'PATCH', `/items/${item.id}`, { body: { name: 'renamed' }, idem: true });
    const [d] = await rx.waitFor((r) => r.length >= 1);
    assert.equal(verify(ep.secret, d).type, 'item.updated');
    await sleep(500);
    assert.equal(rx.received.length, 1, 'item.created was not sent');
    const bad = await api(acct.test, 'POST', '/webhook_endpoints', { body: { url: rx.url, enabled_events: ['stock.levitated'] }, idem: true });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.param, '/enabled_events/0');
  } finally {
    await rx.close();
  }
});

test('queued deliveries that cannot be sent hold up neither the queue nor the worker, and become dead letters', async () => {
  const acct = createAccount('Unsendable');
  const rx = await startReceiver();
  try {
    const ep = await endpoint(acct.test, rx.url);
    const item = await createItem(acct.test, 'UNSENDABLE-1');
    const event = verify(ep.secret, (await rx.waitFor((r) => r.length >= 1))[0]);
    // More overdue rows than the worker claims at once, at the head of the queue, for an
    // endpoint that does not exist (what an older version's cross-tenant fan-out left).
    psql(`INSERT INTO sk.webhook_deliveries (account_id, livemode, endpoint_id, event_id, next_attempt_at)
          SELECT '${acct.id}', false, 'we_gone_' || g, '${event.id}', now() - interval '1 hour'
            FROM generate_series(1, 600) g`);
    try {
      await api(acct.test, 'PATCH', `/items/${item.id}`, { body: { name: 'renamed' }, idem: true });
      const [, next] = await rx.waitFor((r) => r.length >= 2);
      assert.equal(verify(ep.secret, next).type, 'item.updated', 'the sendable delivery behind them is sent');
      await eventually(() => psql(`SELECT count(*) FROM sk.webhook_deliveries WHERE account_id = '${acct.id}'
                                     AND endpoint_id LIKE 'we_gone_%' AND status = 'dead'
                                     AND last_error = 'endpoint not receiving'`) === '600',
                       15000, 'the unsendable deliveries to become dead letters');
    } finally {
      psql(`DELETE FROM sk.webhook_deliveries WHERE account_id = '${acct.id}' AND endpoint_id LIKE 'we_gone_%'`);
    }
  } finally {
    await rx.close();
  }
});

test('a live-mode endpoint on 127.0.0.1 is refused; test mode may use loopback', async () => {
  const acct = createAccount('SSRF');
  const res = await api(acct.live, 'POST', '/webhook_endpoints', { body: { url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] }, idem: true });
  assert.equal(res.status, 400);
  assert.equal(res.json.code, 'url_not_allowed');
  assert.equal(res.json.param, '/url');
  for (const url of ['http://169.254.169.254/latest', 'http://10.1.2.3/x', 'http://[::1]:8080/x', 'http://localhost/x'])
    assert.equal((await api(acct.live, 'POST', '/webhook_endpoints', { body: { url, enabled_events: ['*'] }, idem: true })).status, 400, url);
  assert.equal((await api(acct.test, 'POST', '/webhook_endpoints', { body: { url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] }, idem: true })).status, 200);
});

test('a ping reaches only the tested endpoint', async () => {
  const acct = createAccount('Ping');
  const rx = await startReceiver();
  try {
    const ep = await endpoint(acct.test, rx.url, ['item.updated']);
    const ping = await api(acct.test, 'POST', `/webhook_endpoints/${ep.id}/test`, { idem: true });
    assert.equal(ping.status, 200, ping.text);
    const [d] = await rx.waitFor((r) => r.length >= 1);
    const event = verify(ep.secret, d);
    assert.equal(event.type, 'ping');
    assert.equal(event.data.object.endpoint_id, ep.id);
  } finally {
    await rx.close();
  }
});

test('PostgreSQL stopped (immediate) during a burst: every event is delivered at least once, ids stable', async () => {
  const acct = createAccount('Crash');
  const rx = await startReceiver(async () => { await sleep(150); return 200; });
  try {
    const ep = await endpoint(acct.test, rx.url);
    const items = await Promise.all(Array.from({ length: 40 }, (_, i) => createItem(acct.test, `BURST-${i}`)));
    const expected = new Set(psql(`SELECT id FROM sk.events WHERE account_id = '${acct.id}' AND type = 'item.created'`).split('\n'));
    assert.equal(expected.size, items.length);
    await rx.waitFor((r) => r.length >= 1, 5000, 'the burst to start');
    execFileSync(`${root}/scripts/cluster.sh`, ['stop', 'immediate'], { stdio: 'ignore', env: process.env });
    execFileSync(`${root}/scripts/cluster.sh`, ['start'], { stdio: 'ignore', env: process.env });
    await rx.waitFor((r) => {
      const seen = new Set(r.map((d) => d.headers['webhook-id']));
      return [...expected].every((id) => seen.has(id));
    }, 60000, 'every event of the burst');
    for (const d of rx.received) {
      const event = verify(ep.secret, d);
      assert.equal(event.id, d.headers['webhook-id'], 'the id is the event id on every attempt');
    }
  } finally {
    await rx.close();
  }
});
