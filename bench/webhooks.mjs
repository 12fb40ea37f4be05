// Webhook figures for `make bench`: deliveries per second from the background worker to
// a local receiver, and the latency from a movement's 200 to its signed delivery.
// Usage: node bench/webhooks.mjs <api base> <test key> <items file>
// Prints one line: SKWEBHOOK deliveries=… deliveries_per_s=… p50_ms=… p99_ms=…
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

const [base, key, itemsFile] = process.argv.slice(2);
const items = readFileSync(itemsFile, 'utf8').split('\n').filter(Boolean);
const BATCHES = 10;  // of 1000 movements
const LATENCY_SAMPLES = 200;

const arrivals = new Map();  // movement id -> arrival time (ms)
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (!arrivals.has(event.data.object.id)) arrivals.set(event.data.object.id, performance.now());
    res.writeHead(200).end();
  });
});
server.keepAliveTimeout = 60000;
await new Promise((r) => server.listen(0, '127.0.0.1', r));

async function api(method, path, body) {
  const res = await fetch(`${base}/inventory/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function until_(predicate, timeoutMs) {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out; ${arrivals.size} deliveries arrived`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// Throughput: 10,000 movement.recorded events are committed first, then one replay of
// their time window queues 10,000 deliveries at once, so the figure is the worker's
// delivery rate and not the rate at which the API records movements.
const pick = (i) => items[i % items.length];
const batch = (b) => ({ movements: Array.from({ length: 1000 }, (_, i) => ({ item_id: pick(b * 1000 + i), qty: -1, type: 'sale' })) });
const since = new Date(Date.now() - 1000).toISOString();
for (let b = 0; b < BATCHES; b++) await api('POST', '/movements/batch', batch(b));
const until = new Date(Date.now() + 1000).toISOString();
const endpoint = await api('POST', '/webhook_endpoints', {
  url: `http://127.0.0.1:${server.address().port}/hook`, enabled_events: ['movement.recorded'],
});
const t0 = performance.now();
const replay = await api('POST', `/webhook_endpoints/${endpoint.id}/replay`, { since, until });
await until_(() => arrivals.size >= replay.queued, 120000);
const seconds = (Math.max(...arrivals.values()) - t0) / 1000;
const deliveries = arrivals.size;

// Latency: one movement at a time, from its 200 to its delivery.
const latencies = [];
for (let i = 0; i < LATENCY_SAMPLES; i++) {
  const movement = await api('POST', '/movements', { item_id: pick(i), qty: -1, type: 'sale' });
  const answered = performance.now();
  await until_(() => arrivals.has(movement.id), 10000);
  latencies.push(arrivals.get(movement.id) - answered);
}
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];

await api('DELETE', `/webhook_endpoints/${endpoint.id}`);
server.close();
console.log(`SKWEBHOOK deliveries=${deliveries} deliveries_per_s=${(deliveries / seconds).toFixed(1)} ` +
            `p50_ms=${pct(50).toFixed(2)} p99_ms=${pct(99).toFixed(2)}`);
process.exit(0);
