// The access log: one JSON object per line on stdout, written in batches. Lines must
// stay valid JSON whatever bytes a client puts in the request line, must appear without
// waiting for a batch to fill, and must all be written when the shim stops.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

const root = process.env.SK_ROOT ?? new URL('../..', import.meta.url).pathname;

async function startShim(port) {
  const child = spawn(`${root}/build/sk-shim`, [], {
    env: { ...process.env, SK_HTTP_PORT: String(port), SK_POOL_SIZE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => { out += chunk; });
  child.stderr.resume();
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet listening */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, base, lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

// Sends raw bytes as the request line: fetch would percent-encode them.
function rawRequest(port, target) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end(Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    });
    let reply = '';
    socket.on('data', (d) => { reply += d; });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

test('access lines are JSON whatever the path holds, appear within a moment, and are all written at exit', async () => {
  const port = 18240;
  const { child, base, lines } = await startShim(port);
  try {
    const reply = await rawRequest(port, Buffer.from([...Buffer.from('/odd"\\path\x01'), 0xff, 0xfe]));
    assert.match(reply, /^HTTP\/1\.1 404/);
    await new Promise((r) => setTimeout(r, 400));  // a few flush periods, far from a full batch
    const odd = lines().find((l) => l.path.startsWith('/odd'));
    assert.ok(odd, 'the line is written without waiting for more traffic');
    assert.equal(odd.path, '/odd"\\path\x01\ufffd\ufffd', 'quote, backslash and control escaped; invalid UTF-8 replaced');
    assert.equal(odd.status, 404);
    assert.equal(odd.route, '{unmatched}');
    assert.equal(odd.method, 'GET');
    assert.match(odd.request_id, /^req_[0-9A-Z]{26}$/);
    assert.match(odd.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof odd.duration_ms, 'number');

    const many = 200;
    await Promise.all(Array.from({ length: many }, () => fetch(`${base}/healthz`).then((r) => r.text())));
    const exited = once(child, 'close');  // after stdout is drained
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
    const health = lines().filter((l) => l.path === '/healthz' && l.status === 200);
    assert.ok(health.length >= many + 1, `every request is logged by exit (${health.length})`);
    assert.equal(new Set(lines().map((l) => l.request_id)).size, lines().length, 'no line is written twice');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
