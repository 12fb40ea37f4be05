// GET /metrics (Prometheus text): the shim's own request metrics plus the webhook gauges
// that sk.metrics() counts in the database across every tenant: queue depth, attempts
// by outcome, dead letters.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, BASE, createAccount, eventually, sleep, startReceiver } from './lib.mjs';
import { request } from './agents.mjs';

// "name{labels}" -> value, for every sample line.
export function samples(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(base = BASE) {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return res.text();
}

const WEBHOOK = ['sk_webhook_queue_depth', 'sk_webhook_dead_letters', 'sk_webhook_attempts{outcome="succeeded"}',
  'sk_webhook_attempts{outcome="retrying"}', 'sk_webhook_attempts{outcome="dead"}'];

test('the webhook gauges are exposed, typed, and follow real deliveries', async () => {
  const text = await scrape();
  for (const name of ['sk_webhook_queue_depth', 'sk_webhook_attempts', 'sk_webhook_dead_letters']) {
    assert.match(text, new RegExp(`^# HELP ${name} `, 'm'));
    assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, 'm'));
  }
  const before = samples(text);
  for (const name of WEBHOOK) assert.ok(before.has(name), name);

  const acct = createAccount('Metrics');
  const failing = await startReceiver(() => 500);
  const slow = await startReceiver(async () => { await sleep(1500); return 200; });
  try {
    for (const url of [failing.url, slow.url])
      assert.equal((await api(acct.test, 'POST', '/webhook_endpoints', { body: { url, enabled_events: ['item.created'] }, idem: true })).status, 200);
    assert.equal((await api(acct.test, 'POST', '/items', { body: { sku: 'METRICS-1', name: 'm' }, idem: true })).status, 200);

    // While the slow receiver holds its delivery, it is queued (pending, leased).
    await slow.waitFor((r) => r.length >= 1, 10000, 'the slow delivery to start');
    assert.ok(samples(await scrape()).get('sk_webhook_queue_depth') >= 1, 'a delivery in flight is in the queue');

    const after = await eventually(async () => {
      const now = samples(await scrape());
      const grew = (name, by) => now.get(name) >= before.get(name) + by;
      return grew('sk_webhook_dead_letters', 1) && grew('sk_webhook_attempts{outcome="dead"}', 1) &&
        grew('sk_webhook_attempts{outcome="retrying"}', 3) && grew('sk_webhook_attempts{outcome="succeeded"}', 1) && now;
    }, 20000, 'the failing delivery to go dead and the slow one to succeed');
    assert.equal(failing.received.length, 4, 'the first attempt and three retries (test schedule)');
    assert.ok(after.get('sk_webhook_queue_depth') >= 0);
  } finally {
    await failing.close();
    await slow.close();
  }
});

test('requests are counted by route, method and status, MCP included; replays are counted', async () => {
  const acct = createAccount('Metrics requests');
  await request(acct.test, 'ping');
  const idem = `metrics-${Date.now()}`;
  await api(acct.test, 'POST', '/items', { body: { sku: 'METRICS-R', name: 'r' }, idem });
  const before = samples(await scrape()).get('sk_idempotent_replays_total');
  const replay = await api(acct.test, 'POST', '/items', { body: { sku: 'METRICS-R', name: 'r' }, idem });
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  const now = samples(await scrape());
  assert.ok(now.get('sk_http_requests_total{route="/mcp",method="POST",status="200"}') >= 1);
  assert.ok(now.get('sk_http_requests_total{route="/inventory/v1/items",method="POST",status="200"}') >= 2);
  assert.equal(now.get('sk_idempotent_replays_total'), before + 1);
  assert.ok(now.get('sk_http_request_duration_seconds_count{route="/mcp",method="POST"}') >= 1);
});

test('the read lanes are exposed: how many, how many connected, reads in flight', async () => {
  const acct = createAccount('Lane metrics');
  assert.equal((await api(acct.test, 'GET', '/items')).status, 200);  // a read: a lane is connected
  const text = await scrape();
  for (const name of ['sk_db_read_lanes', 'sk_db_read_lanes_connected', 'sk_db_read_lane_calls'])
    assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, 'm'));
  const s = samples(text);
  assert.ok(s.get('sk_db_read_lanes') >= 1, 'the test shim runs with its default of at least one lane');
  // Lanes connect when first used, and the first lane with room is used first.
  assert.ok(s.get('sk_db_read_lanes_connected') >= 1, 'the lane that carried the read is connected');
  assert.equal(s.get('sk_db_read_lane_calls'), 0, 'nothing is in flight between requests');
});

test('the write lanes and the workers are exposed: how many, connected, in flight, queued', async () => {
  const acct = createAccount('Write lane metrics');
  const post = await api(acct.test, 'POST', '/items', { body: { sku: 'WLANE-1', name: 'w' }, idem: true });
  assert.equal(post.status, 200);
  const text = await scrape();
  for (const name of ['sk_db_write_lanes', 'sk_db_write_lanes_connected', 'sk_db_write_calls', 'sk_db_writes_queued',
                      'sk_workers', 'sk_workers_queued'])
    assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, 'm'));
  const s = samples(text);
  assert.ok(s.get('sk_db_write_lanes') >= 8, 'one write lane per pooled connection (at least 8)');
  assert.ok(s.get('sk_db_write_lanes_connected') >= 1, 'the lane that carried the write is connected');
  assert.equal(s.get('sk_db_write_calls'), 0, 'nothing is in flight between requests');
  assert.equal(s.get('sk_db_writes_queued'), 0);
  assert.ok(s.get('sk_workers') >= 8, 'as many workers as pooled connections (at least 8)');
  assert.equal(s.get('sk_workers_queued'), 0);
});
