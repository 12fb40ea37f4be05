// The README quickstart runs as written. The commands are read from README.md's
// "Quickstart" section (its three ```sh blocks) and run with bash in the repository,
// against the test shim. Only the variables the README uses are substituted: the key
// (a fresh test account's, since `make run` is not started here), the API base, the
// whsec_… secret that sk-listen prints, and the receiver's port 4242 (a free one).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { api, BASE, createAccount } from './lib.mjs';
import { ROOT, lineReader } from './agents.mjs';

const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
const start = readme.indexOf('\n## Quickstart\n');
const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 1));
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);

// Commands of a block: continuation lines joined, comment lines and trailing comments dropped.
function commands(block) {
  return block.replace(/\\\n\s*/g, ' ').split('\n')
    .map((line) => line.replace(/\s{2,}#\s.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
}

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

// A command the README runs in the background (`… &`), in its own process group so a
// signal reaches the program whether or not bash execs it.
function background(command, env) {
  const child = spawn('bash', ['-c', command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const signal = (sig) => { try { process.kill(-child.pid, sig); } catch { /* already gone */ } };
  return { child, out: lineReader(child), signal };
}

async function run(script, env) {
  const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, `${script}\n${stderr}`);
  return stdout;
}

test("the quickstart is on README's first screen: three moves, each a shell block", () => {
  assert.ok(start >= 0 && readme.slice(0, start).split('\n').length < 20, 'the Quickstart follows the introduction');
  assert.equal(blocks.length, 3);
  const [key, listen, post] = blocks.map(commands);
  assert.equal(key[0], 'make run');
  assert.match(readFileSync(`${ROOT}/scripts/run.sh`, 'utf8'), /Your test secret key:/, 'make run prints the key');
  assert.deepEqual(key.slice(1).map((c) => c.split('=')[0]), ['export SK_API_KEY', 'export SK_API_BASE']);
  assert.match(listen[0], /^\.\/build\/sk-listen --forward-to http:\/\/localhost:4242\/hook &$/);
  assert.match(listen[1], /whsec_… node examples\/receiver\.mjs 4242 &$/);
  assert.ok(post.every((c) => /Idempotency-Key: /.test(c)), 'every POST is idempotent');
  assert.match(post[post.length - 1], /\/inventory\/v1\/movements/, 'the POST that matters records a movement');
});

test('the quickstart commands run as written: key, sk-listen and a verified movement.recorded webhook', async () => {
  const acct = createAccount('Quickstart');
  const port = String(await freePort());
  const env = { ...process.env };
  const [keyBlock, listenBlock, postBlock] = blocks.map(commands);

  for (const line of keyBlock.slice(1)) {
    const [, name, value] = line.match(/^export (\w+)=(\S+)$/);
    if (name === 'SK_API_KEY') { assert.equal(value, 'sk_test_…'); env[name] = acct.test; }
    if (name === 'SK_API_BASE') { assert.equal(value, 'http://127.0.0.1:8080'); env[name] = BASE; }
  }

  const started = [];
  try {
    const listener = background(listenBlock[0].replace(/ &$/, '').replaceAll('4242', port), env);
    started.push(listener);
    const ready = await listener.out.waitFor((l) => l.startsWith('Ready!'), 15000, 'sk-listen to be ready');
    const secret = ready.match(/(whsec_[A-Za-z0-9+/=]+)/)[1];
    const receiver = background(listenBlock[1].replace(/ &$/, '').replace('whsec_…', secret).replaceAll('4242', port), env);
    started.push(receiver);
    await receiver.out.waitFor((l) => l.startsWith('Listening on'), 10000, 'the receiver to listen');

    const script = postBlock.join('\n');
    const first = await run(script, env);
    const movement = JSON.parse(first);
    assert.equal(movement.object, 'movement');
    assert.equal(movement.qty, '12');
    assert.equal(movement.on_hand_after, '12');

    const verified = await receiver.out.waitFor((l) => l.startsWith('verified movement.recorded'), 15000, 'the verified webhook');
    const eventId = verified.split(' ')[2];
    const event = (await api(acct.test, 'GET', `/events/${eventId}`)).json;
    assert.equal(event.data.object.id, movement.id, 'the webhook is the event of this movement');
    await listener.out.waitFor((l) => l.includes(eventId) && l.includes('-> 204'), 5000, "sk-listen's line for it");
    assert.ok(!receiver.out.lines.some((l) => l.startsWith('rejected')), 'every forwarded request verified');

    const second = await run(script, env);
    assert.equal(second, first, 'run twice: the same answer, replayed');
    assert.equal((await api(acct.test, 'GET', `/items/${movement.item_id}/stock`)).json.on_hand, '12', 'stock moved once');
    const movements = (await api(acct.test, 'GET', '/events', { query: { type: 'movement.recorded' } })).json.data;
    assert.equal(movements.length, 1, 'one movement.recorded event');

    const exited = once(listener.child, 'exit');
    listener.signal('SIGINT');
    assert.equal((await exited)[0], 0);
    assert.deepEqual((await api(acct.test, 'GET', '/webhook_endpoints')).json.data, [], 'sk-listen cleaned up its endpoint');
  } finally {
    for (const p of started) p.signal('SIGKILL');
  }
});
