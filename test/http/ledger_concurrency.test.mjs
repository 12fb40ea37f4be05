// Many clients moving one item at once lose no update and keep WAC exact (issue 3,
// item 8): 8 concurrent clients × 200 movements each, over real HTTP.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, createAccount, inAnotherBackend, invokeSql, psql, psqlSession } from './lib.mjs';

const CLIENTS = 8;
const PER_CLIENT = 200;

test(`${CLIENTS} concurrent clients × ${PER_CLIENT} movements on one item`, async () => {
  const acct = createAccount('Ledger concurrency');
  const item = (await api(acct.test, 'POST', '/items', { body: { sku: 'HOT-1', name: 'Hot item', reorder_point: 50 }, idem: true })).json;
  const loc2 = (await api(acct.test, 'POST', '/locations', { body: { name: 'Second' }, idem: true })).json;

  // Each client: a deterministic mix of receipts (varying costs), sales, returns,
  // adjustments and transfers; retries of a few requests with the same key on top.
  const expected = { sum: 0 };
  async function client(c) {
    const statuses = [];
    for (let i = 0; i < PER_CLIENT; i++) {
      const k = (c * 7 + i) % 10;
      let body;
      if (k < 3) body = { item_id: item.id, qty: 3 + (i % 4), type: 'receipt', unit_cost: `${1 + ((c + i) % 9)}.${(i % 100).toString().padStart(2, '0')}` };
      else if (k < 7) body = { item_id: item.id, qty: -(1 + (i % 3)), type: 'sale' };
      else if (k < 8) body = { item_id: item.id, qty: 1, type: 'return' };
      else if (k < 9) body = { item_id: item.id, qty: -0.5, type: 'adjustment', reason: 'damaged' };
      else body = { item_id: item.id, qty: 2, type: 'transfer', to_location_id: loc2.id };
      const idem = `c${c}-m${i}`;
      const res = await api(acct.test, 'POST', '/movements', { body, idem });
      statuses.push(res.status);
      if (res.status === 200 && body.type !== 'transfer') expected.sum += Number(body.qty);
      if (i % 50 === 0) {
        const retry = await api(acct.test, 'POST', '/movements', { body, idem });
        assert.equal(retry.text, res.text, 'a retry replays instead of counting twice');
      }
    }
    return statuses;
  }
  const all = (await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))).flat();
  assert.equal(all.length, CLIENTS * PER_CLIENT);
  assert.deepEqual([...new Set(all)], [200], 'every movement was accepted');

  // The log: 1600 requests, transfers have two legs.
  const rows = Number(psql(`SELECT count(*) FROM sk.movements WHERE item_id = '${item.id}'`));
  const transfers = Number(psql(`SELECT count(DISTINCT transfer_id) FROM sk.movements WHERE item_id = '${item.id}'`));
  assert.equal(rows - transfers, CLIENTS * PER_CLIENT, 'one row per request (two per transfer), none lost, none doubled');
  const logSum = psql(`SELECT trim_scale(sum(qty)) FROM sk.movements WHERE item_id = '${item.id}'`);
  const stock = (await api(acct.test, 'GET', `/items/${item.id}/stock`)).json;
  assert.equal(stock.on_hand, logSum, 'on-hand equals the sum of the log');
  assert.equal(Number(logSum), Math.round(expected.sum * 10) / 10, 'and the sum of what the clients sent');
  assert.equal(psql(`SELECT string_agg(seq::text, ',' ORDER BY seq) = string_agg(g::text, ',' ORDER BY g) FROM sk.movements m
                      JOIN generate_series(1, ${rows}) g ON g = m.seq WHERE m.item_id = '${item.id}'`), 't',
               'the item\'s movements were applied one at a time: seq is 1..n without gaps');
  assert.equal(psql(`SELECT count(*) FROM sk.verify_balances()`), '0', 'the balance cache equals the log');
  assert.equal(psql(`SELECT bool_and(ok) FROM (SELECT id > lag(id) OVER (ORDER BY seq) AS ok FROM sk.movements
                      WHERE item_id = '${item.id}') x`), 't',
               'whichever backend recorded them, the item\'s movement ids rise with seq');

  // The item's history through the API, page by page, newest first: every movement once.
  const seen = [];
  let cursor;
  for (;;) {
    const page = await api(acct.test, 'GET', '/movements',
                           { query: { item_id: item.id, limit: 100, ...(cursor ? { starting_after: cursor } : {}) } });
    assert.equal(page.status, 200, page.text);
    seen.push(...page.json.data.map((m) => m.id));
    if (!page.json.has_more) break;
    cursor = seen[seen.length - 1];
  }
  const byId = psql(`SELECT string_agg(id, ',' ORDER BY id DESC) FROM sk.movements WHERE item_id = '${item.id}'`);
  assert.equal(seen.join(','), byId, 'pages cover the history once, in id order');
  const back = await api(acct.test, 'GET', '/movements', { query: { item_id: item.id, limit: 3, ending_before: seen[10] } });
  assert.deepEqual(back.json.data.map((m) => m.id), seen.slice(7, 10), 'ending_before pages back');
  const elsewhere = (await api(acct.test, 'POST', '/items', { body: { sku: 'HOT-2', name: 'Other item' }, idem: true })).json;
  const foreign = await api(acct.test, 'GET', '/movements', { query: { item_id: elsewhere.id, starting_after: seen[0] } });
  assert.equal(foreign.status, 400, 'a cursor from another item\'s history names no position in this one');
  assert.equal(foreign.json.param, '/starting_after');

  // WAC recomputed independently from the log in the order the movements were applied.
  const wacCheck = psql(`
    WITH RECURSIVE m AS (SELECT seq, type, qty, unit_cost, reverses, wac_after FROM sk.movements WHERE item_id = '${item.id}'),
    walk(seq, oh, w, ok) AS (
      SELECT 0::bigint, 0::numeric, 0::numeric, true
      UNION ALL
      SELECT m.seq, walk.oh + m.qty,
             CASE WHEN m.type = 'receipt' AND m.qty > 0 AND m.reverses IS NULL THEN
                    CASE WHEN walk.oh <= 0 THEN m.unit_cost
                         ELSE div(2 * (walk.oh * walk.w + m.qty * m.unit_cost) * 1000000 + (walk.oh + m.qty), 2 * (walk.oh + m.qty)) * 0.000001 END
                  ELSE walk.w END,
             walk.ok AND m.wac_after = CASE WHEN m.type = 'receipt' AND m.qty > 0 AND m.reverses IS NULL THEN
                    CASE WHEN walk.oh <= 0 THEN m.unit_cost
                         ELSE div(2 * (walk.oh * walk.w + m.qty * m.unit_cost) * 1000000 + (walk.oh + m.qty), 2 * (walk.oh + m.qty)) * 0.000001 END
                  ELSE walk.w END
        FROM walk JOIN m ON m.seq = walk.seq + 1)
    SELECT bool_and(ok) AND count(*) = ${rows + 1} FROM walk`);
  assert.equal(wacCheck, 't', 'every wac_after equals the WAC recomputed in application order');
  assert.equal(stock.wac, psql(`SELECT CASE WHEN scale(trim_scale(wac)) < 2 THEN round(wac, 2)::text ELSE trim_scale(wac)::text END
                                  FROM sk.item_stock WHERE item_id = '${item.id}'`));
});

// An item's stock row is locked and read for a movement by key, without a statement
// (pg/tenant_rows), with SELECT … FOR UPDATE's isolation.
const waitFor = async (what, probe) => {
  for (let i = 0; i < 300; i++) {  // up to 15 s
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
};

async function isolationSetup(sku) {
  const acct = createAccount('Ledger isolation');
  const item = (await api(acct.test, 'POST', '/items', { body: { sku, name: sku }, idem: true })).json;
  const receipt = (qty) => ({ item_id: item.id, qty, type: 'receipt', unit_cost: '1.00' });
  assert.equal((await api(acct.test, 'POST', '/movements', { body: receipt(1), idem: true })).status, 200);
  const invoke = (body, idem) => invokeSql(acct.test, 'POST', '/movements', { body, idem, select: 'status' });
  const count = () => psql(`SELECT count(*) FROM sk.movements WHERE item_id = '${item.id}'`);
  return { acct, item, receipt, invoke, count };
}

test('REPEATABLE READ: locking an item moved after the snapshot fails to serialize, before anything is written', async () => {
  const { acct, item, receipt, invoke, count } = await isolationSetup('RR-1');
  let failure;
  try {
    psqlSession(
      'BEGIN ISOLATION LEVEL REPEATABLE READ', 'SELECT 1',  // the snapshot
      inAnotherBackend(invoke(receipt(2), 'rr-other')),    // a movement of the item, committed after it
      invoke(receipt(4), 'rr-late'),
    );
  } catch (e) {
    failure = String(e.stderr);
  }
  assert.match(failure ?? 'no error', /could not serialize access due to concurrent update/);
  // Raised by the lock, not by a later statement of the posting (which would name its SQL).
  assert.doesNotMatch(failure, /SQL statement/);
  assert.equal((await api(acct.test, 'GET', `/items/${item.id}/stock`)).json.on_hand, '3');
  assert.equal(count(), '2', 'the first two receipts, not the one that failed');
});

test('READ COMMITTED: a movement waiting for the item\'s lock applies to the row its holder committed', async () => {
  const { acct, item, receipt, invoke, count } = await isolationSetup('RC-1');
  psqlSession(
    'BEGIN',
    invoke(receipt(2), 'rc-holder'),                        // holds the item's lock, row updated
    inAnotherBackend(invoke(receipt(4), 'rc-waiter'), { background: true }),  // its lock waits for ours
    'SELECT pg_sleep(0.5)',
    'COMMIT',                                               // the waiter locks the row as committed now
  );
  await waitFor('the waiting movement', () => count() === '3');
  const stock = (await api(acct.test, 'GET', `/items/${item.id}/stock`)).json;
  assert.equal(stock.on_hand, '7', 'no update lost: 1 + 2 + 4');
  assert.equal(psql(`SELECT string_agg(seq::text || ':' || on_hand_after::text, ',' ORDER BY seq) FROM sk.movements
                      WHERE item_id = '${item.id}'`), '1:1,2:3,3:7');
  assert.equal(psql(`SELECT count(*) FROM sk.verify_balances() WHERE item_id = '${item.id}'`), '0');
});

// Per item, created_at follows seq (so ?as_of= cuts an item's history where it was): a
// movement is never stamped earlier than the item's last one, even when this backend's
// clock is behind the one that recorded it.
test('a movement is never stamped earlier than its item\'s last movement', async () => {
  const { acct, item, receipt } = await isolationSetup('CLOCK-1');
  const ahead = '2099-01-02T03:04:05.678901Z';
  psql(`UPDATE sk.item_stock SET last_movement_at = '${ahead}' WHERE item_id = '${item.id}'`);
  const late = await api(acct.test, 'POST', '/movements', { body: receipt(1), idem: true });
  assert.equal(late.status, 200, late.text);
  assert.equal(late.json.created_at, ahead, 'stamped at the item\'s last movement, not before it');
  const other = (await api(acct.test, 'POST', '/items', { body: { sku: 'CLOCK-2', name: 'CLOCK-2' }, idem: true })).json;
  const now = await api(acct.test, 'POST', '/movements', { body: { ...receipt(1), item_id: other.id }, idem: true });
  assert.ok(Math.abs(Date.parse(now.json.created_at) - Date.now()) < 60_000, 'an item without one is stamped now');
});
