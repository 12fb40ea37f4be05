// Shared by the HTTP tests: they talk to the real shim over real HTTP (SK_BASE_URL)
// and create accounts with the DBA function through psql (SK_PSQL), as an operator would.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export const BASE = process.env.SK_BASE_URL ?? 'http://127.0.0.1:8080';
export const LIMITED = process.env.SK_LIMITED_URL;

const PSQL = process.env.SK_PSQL ?? 'psql';

// Several statements in one session (one backend), each in its own transaction unless
// it opens one; returns each statement's output.
export function psqlSession(...statements) {
  const [cmd, ...args] = PSQL.split(' ');
  const out = execFileSync(cmd, [...args, '-tA', '-v', 'ON_ERROR_STOP=1', ...statements.flatMap((s) => ['-c', s])],
    { encoding: 'utf8' });
  return out.trim().split('\n');
}

export const psql = (sql) => psqlSession(sql).join('\n');

// A psql meta-command for psqlSession: `sql` run by another backend, in the foreground
// or in the background (where it may wait for this session's locks).
export function inAnotherBackend(sql, { background = false } = {}) {
  const cmd = `${PSQL} -c "${sql.replace(/"/g, '\\"')}"`;
  return background ? `\\! (${cmd} >/dev/null 2>&1 &)` : `\\! ${cmd}`;
}

// sk.invoke() as one SQL statement, for tests that need a request on a given backend.
export const invokeSql = (key, method, path, { body, idem, select = 'body' } = {}) =>
  `SELECT ${select} FROM sk.invoke('${method}', '/inventory/v1${path}', NULL, 'Bearer ${key}', ` +
  `${idem ? `'${idem}'` : 'NULL'}, 'sql-test', ${body ? `'${JSON.stringify(body)}'` : 'NULL'})`;

// A fresh account; returns { id, test, live } with its two secret keys.
export function createAccount(name = 'HTTP test', currency = 'USD') {
  const out = JSON.parse(psql(`SELECT sk.create_account('${name.replace(/'/g, "''")}', '${currency}')`));
  return { id: out.account_id, test: out.test_secret_key, live: out.live_secret_key };
}

export const newKey = () => randomUUID();

// One request. `idem: true` draws a fresh Idempotency-Key; a string uses that key.
export async function api(key, method, path, { body, idem, query, headers = {}, base = BASE, rawBody } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  if (idem === true) h['idempotency-key'] = newKey();
  else if (typeof idem === 'string') h['idempotency-key'] = idem;
  let payload = rawBody;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  const url = `${base}/inventory/v1${path}${query ? `?${new URLSearchParams(query)}` : ''}`;
  const res = await fetch(url, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

// A real local webhook receiver. `respond(req, n)` returns the status to answer the
// n-th request (1-based); every request is recorded with its raw body and headers.
import { createServer } from 'node:http';

export async function startReceiver(respond = () => 200) {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const entry = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      received.push(entry);
      const out = await respond(entry, received.length);
      const status = typeof out === 'number' ? out : out.status;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(typeof out === 'number' ? `status ${status}` : out.body ?? '');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  return {
    url,
    received,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
    async waitFor(predicate, timeoutMs = 15000, what = 'webhook deliveries') {
      const start = Date.now();
      while (Date.now() - start < timeoutMs) {
        if (predicate(received)) return received;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`timed out waiting for ${what}; received ${received.length}`);
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `fn` until it returns a truthy value.
export async function eventually(fn, timeoutMs = 15000, what = 'condition') {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
