// The API reference page at GET /docs: docs/index.html compiled into the shim, rendering
// the served OpenAPI document with inline CSS and JS only. Headless Chromium (Debian
// package `chromium`) loads it and the rendered DOM must show every operation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api, BASE } from './lib.mjs';
import { ROOT } from './agents.mjs';

async function renderedDom(url) {
  const profile = mkdtempSync(join(tmpdir(), 'sk-chromium-'));
  try {
    const { stdout } = await promisify(execFile)('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
      // Lets the page's fetch of the OpenAPI document and its rendering finish first.
      '--virtual-time-budget=10000', '--dump-dom', url,
    ], { timeout: 90000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

test('GET /docs serves the checked-in page, self-contained, with a policy that forbids fetching elsewhere', async () => {
  const res = await fetch(`${BASE}/docs`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  const html = await res.text();
  assert.equal(html, readFileSync(`${ROOT}/docs/index.html`, 'utf8'), 'the binary embeds docs/index.html as it is');
  assert.doesNotMatch(html, /<script[^>]+src=/i, 'no external script');
  assert.doesNotMatch(html, /<link[^>]+href=/i, 'no stylesheet or font link');
  assert.doesNotMatch(html, /@import|@font-face|url\(/i, 'no CSS import, font or image URL');
  assert.doesNotMatch(html, /https?:\/\//, 'no absolute URL at all');
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'self'/);
  assert.equal((await fetch(`${BASE}/docs`, { method: 'POST' })).status, 405);
});

test('headless Chromium renders every operation of the OpenAPI document, the movements endpoints among them', async () => {
  const doc = (await api(undefined, 'GET', '/openapi.json')).json;
  const dom = await renderedDom(`${BASE}/docs`);
  assert.match(dom, /<body[^>]*data-state="ready"/, 'the page loaded the document and rendered it');
  let expected = 0;
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) {
      expected++;
      const section = new RegExp(`<section class="op" id="${op.operationId}" data-path="${path.replace(/[{}]/g, '\\$&')}" data-method="${method.toUpperCase()}"`);
      assert.match(dom, section, `${method.toUpperCase()} ${path} is rendered`);
    }
  assert.match(dom, new RegExp(`data-operations="${expected}"`));
  assert.match(dom, /data-path="\/movements" data-method="POST"/, 'POST /movements');
  assert.match(dom, /<code class="op-path">\/movements<\/code>/, 'the path is shown');
  assert.match(dom, />Record a movement</, 'with its summary');
  assert.match(dom, /<code>Idempotency-Key<\/code>/, 'its parameters');
  assert.match(dom, /<code>unit_cost<\/code>/, 'its request body fields');
  assert.match(dom, /idempotency key reused|Conflict/i, 'its error responses');
});
