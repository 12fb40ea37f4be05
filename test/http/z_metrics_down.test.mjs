// /metrics with the database down: the scrape still succeeds, promptly, with the shim's
// own metrics; the webhook gauges (read from the database) are left out until it is back.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { ROOT } from './agents.mjs';
import { eventually } from './lib.mjs';

test('PostgreSQL stopped: /metrics answers 200 without the webhook gauges; started again: they are back', async () => {
  const port = 18199;
  const child = spawn(`${ROOT}/build/sk-shim`, [], {
    env: { ...process.env, SK_HTTP_PORT: String(port), SK_POOL_SIZE: '2' }, stdio: ['ignore', 'ignore', 'ignore'],
  });
  const base = `http://127.0.0.1:${port}`;
  const cluster = (...args) => execFileSync(`${ROOT}/scripts/cluster.sh`, args, { stdio: 'ignore', env: process.env });
  try {
    const up = await eventually(async () => {
      try {
        const text = await (await fetch(`${base}/metrics`)).text();
        return text.includes('sk_webhook_queue_depth') && text;
      } catch { return false; }
    }, 10000, 'the shim to serve metrics');
    assert.match(up, /^sk_webhook_dead_letters \d+$/m);

    cluster('stop', 'immediate');
    const started = Date.now();
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    const down = await res.text();
    assert.ok(Date.now() - started < 3000, 'the scrape does not hang on the database');
    assert.match(down, /^sk_db_pool_size 2$/m, "the shim's own metrics are there");
    assert.match(down, /^# TYPE sk_http_requests_total counter$/m);
    assert.doesNotMatch(down, /sk_webhook_/, 'the webhook gauges are left out, not reported as zero');

    cluster('start');
    await eventually(async () => (await (await fetch(`${base}/metrics`)).text()).includes('sk_webhook_queue_depth'),
      10000, 'the webhook gauges to return');
  } finally {
    child.kill('SIGKILL');
  }
});
