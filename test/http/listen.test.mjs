// sk-listen (build/sk-listen): forwards this account's test-mode webhook events to a
// local URL, like `stripe listen`. The receiver here verifies every forwarded request
// with the independent `standardwebhooks` package and the secret sk-listen printed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Webhook } from 'standardwebhooks';
import { api, BASE, createAccount, eventually, startReceiver } from './lib.mjs';
import { BUILD, lineReader, stockedItem } from './agents.mjs';

function verify(secret, delivery) {
  return new Webhook(secret).verify(delivery.body, {
    'webhook-id': delivery.headers['webhook-id'],
    'webhook-timestamp': delivery.headers['webhook-timestamp'],
    'webhook-signature': delivery.headers['webhook-signature'],
  });
}

function listen(key, args) {
  const child = spawn(`${BUILD}/sk-listen`, args, {
    env: { ...process.env, SK_API_KEY: key, SK_API_BASE: BASE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = lineReader(child);
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  return { child, out, stderr: () => stderr };
}

async function ready(l) {
  const line = await l.out.waitFor((s) => s.startsWith('Ready!'), 15000, 'the Ready! line');
  const secret = line.match(/Your webhook signing secret is (whsec_[A-Za-z0-9+/=]+)/)[1];
  const endpoint = (await l.out.waitFor((s) => s.includes('endpoint we_'))).match(/(we_[0-9A-Z]{26})/)[1];
  return { secret, endpoint };
}

async function stop(l) {
  const exited = once(l.child, 'exit');
  l.child.kill('SIGINT');
  const [code] = await exited;
  return code;
}

test('sk-listen forwards a real event unchanged; standardwebhooks verifies it with the printed secret', async () => {
  const acct = createAccount('Listen');
  const rx = await startReceiver();
  const l = listen(acct.test, ['--forward-to', rx.url]);
  try {
    const { secret, endpoint } = await ready(l);
    const ep = (await api(acct.test, 'GET', `/webhook_endpoints/${endpoint}`)).json;
    assert.equal(ep.livemode, false);
    assert.deepEqual(ep.enabled_events, ['*']);
    assert.match(ep.url, /^http:\/\/127\.0\.0\.1:\d+\//, 'an ephemeral loopback port');

    const item = await stockedItem(acct.test, 'LISTEN-1', { qty: 0 });
    const moved = await api(acct.test, 'POST', '/movements', { body: { item_id: item.id, qty: 3, type: 'receipt', unit_cost: '1.5' }, idem: true });
    assert.equal(moved.status, 200, moved.text);

    await rx.waitFor((r) => r.some((d) => JSON.parse(d.body).type === 'movement.recorded'), 15000, 'movement.recorded');
    const delivery = rx.received.find((d) => JSON.parse(d.body).type === 'movement.recorded');
    const event = verify(secret, delivery);
    assert.equal(event.data.object.id, moved.json.id);
    assert.equal(delivery.headers['webhook-id'], event.id);
    assert.equal(delivery.headers['content-type'], 'application/json');
    for (const d of rx.received) verify(secret, d);
    assert.throws(() => verify(secret, { ...delivery, body: delivery.body.replace('"3"', '"4"') }), 'tampering is detected');

    const line = await l.out.waitFor((s) => s.includes(event.id), 5000, 'the line for the event');
    assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}movement\.recorded {2}evt_[0-9A-Z]{26} {2}-> 200 {2}POST /);
    assert.ok(l.out.lines.some((s) => s.includes('item.created')), 'one line per event');

    assert.equal(await stop(l), 0, l.stderr());
    assert.ok(l.out.lines.some((s) => s === `Deleted webhook endpoint ${endpoint}.`));
    assert.equal((await api(acct.test, 'GET', `/webhook_endpoints/${endpoint}`)).status, 404, 'its endpoint is deleted on SIGINT');
  } finally {
    l.child.kill('SIGKILL');
    await rx.close();
  }
});

test("the worker gets the forward target's status: a failing target is retried, then delivered", async () => {
  const acct = createAccount('Listen retry');
  const rx = await startReceiver((_, n) => (n === 1 ? 500 : 204));
  const l = listen(acct.test, ['--forward-to', rx.url]);
  try {
    const { secret, endpoint } = await ready(l);
    await api(acct.test, 'POST', '/items', { body: { sku: 'LISTEN-R', name: 'Retry' }, idem: true });
    await rx.waitFor((r) => r.length >= 2, 15000, 'the retry');
    assert.equal(rx.received[0].headers['webhook-id'], rx.received[1].headers['webhook-id']);
    for (const d of rx.received) verify(secret, d);
    // The worker records an attempt after the receiver has answered it.
    const log = await eventually(async () => {
      const d = (await api(acct.test, 'GET', `/webhook_endpoints/${endpoint}/deliveries`)).json.data[0];
      return d.attempts.length >= 2 && d;
    }, 5000, 'the second attempt in the delivery log');
    assert.deepEqual(log.attempts.map((a) => a.status_code), [500, 204]);
    await l.out.waitFor((s) => s.includes('-> 204'), 5000);
    assert.ok(l.out.lines.some((s) => s.includes('-> 500')));
    assert.equal(await stop(l), 0);
  } finally {
    l.child.kill('SIGKILL');
    await rx.close();
  }
});

test('a target that cannot be reached is a 502 for the worker, so nothing is lost', async () => {
  const acct = createAccount('Listen down');
  const l = listen(acct.test, ['--forward-to', 'http://127.0.0.1:9/hook']);
  try {
    const { endpoint } = await ready(l);
    await api(acct.test, 'POST', '/items', { body: { sku: 'LISTEN-D', name: 'Down' }, idem: true });
    await l.out.waitFor((s) => s.includes('-> failed'), 15000, 'a failed forward');
    const log = await eventually(async () => {
      const d = (await api(acct.test, 'GET', `/webhook_endpoints/${endpoint}/deliveries`)).json.data[0];
      return d.attempts.length >= 1 && d;
    }, 5000, 'the attempt in the delivery log');
    assert.equal(log.attempts[0].status_code, 502);
    assert.equal(await stop(l), 0);
  } finally {
    l.child.kill('SIGKILL');
  }
});

test('live keys are refused; so is a missing key', async () => {
  const acct = createAccount('Listen live');
  const live = listen(acct.live, ['--forward-to', 'http://localhost:4242/hook']);
  const [code] = await once(live.child, 'exit');
  assert.equal(code, 2);
  assert.match(live.stderr(), /live key/);
  assert.deepEqual((await api(acct.live, 'GET', '/webhook_endpoints')).json.data, [], 'no live endpoint was created');
  const none = listen('', ['--forward-to', 'http://localhost:4242/hook']);
  assert.equal((await once(none.child, 'exit'))[0], 2);
  assert.match(none.stderr(), /SK_API_KEY/);
});
