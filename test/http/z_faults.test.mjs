// Faults: the shim survives PostgreSQL going away (503 while down, reconnects after),
// and SIGTERM lets an in-flight request finish. Each test runs its own shim process.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { api, createAccount, psql } from './lib.mjs';

const root = process.env.SK_ROOT ?? new URL('../..', import.meta.url).pathname;
let nextPort = 18180;

async function startShim(extraEnv = {}) {
  const port = nextPort++;
  const child = spawn(`${root}/build/sk-shim`, [], {
    env: { ...process.env, SK_HTTP_PORT: String(port), SK_POOL_SIZE: '2', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.resume();
  child.stderr.resume();
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet listening */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, base };
}

function cluster(...args) {
  execFileSync(`${root}/scripts/cluster.sh`, args, { stdio: 'ignore', env: process.env });
}

// Holds a lock on `table` for `seconds` from another session; resolves once it is held
// (300 ms on), to { done }: a promise of that session's end.
async function holdLock(table, mode, seconds) {
  const [cmd, ...args] = process.env.SK_PSQL.split(' ');
  const locker = spawn(cmd, [...args, '-c',
    `BEGIN; LOCK TABLE ${table} IN ${mode} MODE; SELECT pg_sleep(${seconds}); COMMIT;`], { stdio: 'ignore' });
  const done = once(locker, 'exit');
  await new Promise((r) => setTimeout(r, 300));
  return { done };
}

test('PostgreSQL stopped: 503 problem, never a crash; started again: requests succeed', async () => {
  const acct = createAccount('Faults');
  const { child, base } = await startShim();
  try {
    assert.equal((await api(acct.test, 'GET', '/items', { base })).status, 200);
    cluster('stop', 'immediate');
    const down = await api(acct.test, 'GET', '/items', { base });
    assert.equal(down.status, 503, down.text);
    assert.equal(down.json.code, 'service_unavailable');
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'the process is alive');
    cluster('start');
    const up = await api(acct.test, 'GET', '/items', { base });
    assert.equal(up.status, 200, 'the first request after the restart succeeds on a fresh connection');
    const write = await api(acct.test, 'POST', '/items', { body: { sku: 'AFTER-RESTART', name: 'x' }, idem: true, base });
    assert.equal(write.status, 200, write.text);
    assert.equal(child.exitCode, null, 'the shim kept running');
  } finally {
    child.kill('SIGKILL');
  }
});

test('SIGTERM: the in-flight request completes, then the shim exits 0', async () => {
  const acct = createAccount('Shutdown');
  const { child, base } = await startShim();
  // Hold a lock that the item insert must wait for, so the request is in flight.
  const lock = await holdLock('sk.items', 'SHARE', 1.5);
  const shimExited = once(child, 'exit');
  const inFlight = api(acct.test, 'POST', '/items', { body: { sku: 'SLOW-1', name: 'slow' }, idem: true, base });
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGTERM');
  const res = await inFlight;
  assert.equal(res.status, 200, res.text);
  const [code] = await shimExited;
  assert.equal(code, 0);
  await lock.done;
  assert.equal(psql(`SELECT count(*) FROM sk.items WHERE sku = 'SLOW-1' AND account_id = '${acct.id}'`), '1');
});

test('a request that outlives the timeout is cancelled with 503 and changes nothing; its retry applies once', async () => {
  const acct = createAccount('Timeouts');
  const { child, base } = await startShim({ SK_REQUEST_TIMEOUT_MS: '700' });
  const lock = await holdLock('sk.items', 'SHARE', 2);
  try {
    const key = 'timeout-' + acct.id;
    const body = { sku: 'TIMEOUT-1', name: 'slow' };
    const started = Date.now();
    const slow = await api(acct.test, 'POST', '/items', { body, idem: key, base });
    assert.equal(slow.status, 503, slow.text);
    assert.equal(slow.json.code, 'request_timeout');
    assert.ok(Date.now() - started < 1900, 'answered at the timeout, not when the lock went away');
    await lock.done;
    const retry = await api(acct.test, 'POST', '/items', { body, idem: key, base });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.headers.get('idempotent-replayed'), null, 'the cancelled attempt stored nothing to replay');
    assert.equal(psql(`SELECT count(*) FROM sk.items WHERE sku = 'TIMEOUT-1' AND account_id = '${acct.id}'`), '1');
  } finally {
    child.kill('SIGKILL');
  }
});

test('writes stuck behind a lock, more than there are write lanes, hold up no read, /healthz or /metrics', async () => {
  const acct = createAccount('Stalled writes');
  const { child, base } = await startShim();  // SK_POOL_SIZE=2: two write lanes
  try {
    const item = await api(acct.test, 'POST', '/items', { body: { sku: 'WSTALL-1', name: 'x' }, idem: true, base });
    assert.equal(item.status, 200, item.text);
    const lock = await holdLock('sk.locations', 'ACCESS EXCLUSIVE', 3);
    let writesAnswered = 0;
    const writes = [1, 2, 3].map((i) =>
      api(acct.test, 'POST', '/locations', { body: { code: `WSTALL-${i}`, name: 'x' }, idem: true, base })
        .then((r) => { writesAnswered++; return r; }));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const stock = await api(acct.test, 'GET', `/items/${item.json.id}/stock`, { base });
      assert.equal(stock.status, 200, stock.text);
    }
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    const queued = Number((await metrics.text()).match(/^sk_db_writes_queued (\S+)$/m)[1]);
    assert.equal(queued, 1, 'two writes hold the two write lanes; the third waits for one');
    assert.ok(Date.now() - started < 2000, 'answered while the writes waited, not after the lock went away');
    assert.equal(writesAnswered, 0, 'the writes were still waiting');
    for (const w of await Promise.all(writes)) assert.equal(w.status, 200, w.text);
    await lock.done;
  } finally {
    child.kill('SIGKILL');
  }
});

// A shim with one write lane (and no read lane) whose backend is frozen by SIGSTOP after
// a first write: it neither answers nor closes, and its statement timeout cannot fire.
async function withFrozenWriteLane(name, fn) {
  const acct = createAccount(name);
  const app = `sk-shim-${name.toLowerCase().replace(/\W+/g, '-')}`;
  const { child, base } = await startShim({
    SK_POOL_SIZE: '1', SK_REQUEST_TIMEOUT_MS: '1000', SK_READ_LANES: '0',
    SK_DATABASE_URL: `${process.env.SK_DATABASE_URL} application_name=${app}`,
  });
  let frozen = null;
  const thaw = () => { if (frozen) process.kill(frozen, 'SIGCONT'); frozen = null; };
  try {
    const first = await api(acct.test, 'POST', '/locations', { body: { code: `${app}-0`, name: 'x' }, idem: true, base });
    assert.equal(first.status, 200, first.text);
    frozen = Number(psql(`SELECT pid FROM pg_stat_activity WHERE application_name = '${app}'`));
    assert.ok(frozen > 0);
    process.kill(frozen, 'SIGSTOP');
    await fn({ acct, base, thaw });
  } finally {
    thaw();
    child.kill('SIGKILL');
  }
}

test('a write queued for a busy write lane past the request timeout is a 503 and never runs', async () => {
  await withFrozenWriteLane('Queued write', async ({ acct, base, thaw }) => {
    const busy = api(acct.test, 'POST', '/locations', { body: { code: 'WQ-A', name: 'x' }, idem: true, base });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const queued = await api(acct.test, 'POST', '/locations', { body: { code: 'WQ-B', name: 'x' }, idem: true, base });
    const waited = Date.now() - started;
    assert.equal(queued.status, 503, queued.text);
    assert.equal(queued.json.code, 'service_unavailable');
    assert.equal(queued.headers.get('retry-after'), '1');
    assert.ok(waited >= 900 && waited < 5000, `answered at the timeout (${waited} ms)`);
    thaw();
    assert.equal((await busy).status, 200, 'the write on the lane completes once its backend runs again');
    assert.equal(psql(`SELECT count(*) FROM sk.locations WHERE account_id = '${acct.id}' AND code = 'WQ-B'`), '0', 'the queued write never ran');
  });
});

test('a write lane whose backend stops answering is given up; the write is retried once and applies once', async () => {
  await withFrozenWriteLane('Silent lane', async ({ acct, base, thaw }) => {
    const started = Date.now();
    const write = await api(acct.test, 'POST', '/locations', { body: { code: 'SIL-1', name: 'x' }, idem: true, base });
    const waited = Date.now() - started;
    assert.equal(write.status, 200, write.text);
    assert.ok(waited >= 5000 && waited < 15000, `given up after the timeout and 5 s (${waited} ms)`);
    // Resumed, the old backend reads the write the shim gave up on: the same Idempotency-Key.
    thaw();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(psql(`SELECT count(*) FROM sk.locations WHERE account_id = '${acct.id}' AND code = 'SIL-1'`), '1', 'applied once');
    const next = await api(acct.test, 'POST', '/locations', { body: { code: 'SIL-2', name: 'x' }, idem: true, base });
    assert.equal(next.status, 200, 'the lane reconnects');
  });
});

test('a read stuck behind a lock holds up no other read: its lane takes no new call, the pool answers them', async () => {
  const acct = createAccount('Stalled read');
  const { child, base } = await startShim({ SK_READ_LANES: '1' });
  try {
    const item = await api(acct.test, 'POST', '/items', { body: { sku: 'STALL-1', name: 'x' }, idem: true, base });
    assert.equal(item.status, 200, item.text);
    const lock = await holdLock('sk.webhook_endpoints', 'ACCESS EXCLUSIVE', 3);
    // The only read in flight, so it goes on the one lane, and waits there for the lock.
    let stuckAnswered = false;
    const stuck = api(acct.test, 'GET', '/webhook_endpoints', { base }).then((r) => { stuckAnswered = true; return r; });
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 5; i++) {
      const stock = await api(acct.test, 'GET', `/items/${item.json.id}/stock`, { base });
      assert.equal(stock.status, 200, stock.text);
      assert.equal(stock.json.item_id, item.json.id);
    }
    assert.equal(stuckAnswered, false, 'the reads after it were answered while it still waited for the lock');
    const answered = await stuck;
    assert.equal(answered.status, 200, answered.text);
    await lock.done;
  } finally {
    child.kill('SIGKILL');
  }
});
