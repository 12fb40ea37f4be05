-- Lots (issue 5): first-expiry-first-out across lots with expired ones skipped, sales
-- from an expired lot refused, write-offs allowed, and lot.expiring exactly once.
\ir lib/setup.sql
SELECT plan(14);

CREATE FUNCTION pg_temp.mv(key text, body json) RETURNS json LANGUAGE sql AS $$
  SELECT json_build_object('status', a.status, 'body', a.body)
    FROM pg_temp.api(key, 'POST', '/movements', body::text, gen_random_uuid()::text) a
$$;

SELECT body->>'id' AS item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"MILK","name":"Milk","track_lots":true}', 'milk') \gset
-- Three lots of 10: A expires in 10 days, B in 5, C expired yesterday.
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 10, 'type', 'receipt', 'unit_cost', 1,
  'lot', json_build_object('code', 'A', 'expires_on', current_date + 10)))->'body'->>'lot_id' AS lot_a \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 10, 'type', 'receipt', 'unit_cost', 1,
  'lot', json_build_object('code', 'B', 'expires_on', current_date + 5)))->'body'->>'lot_id' AS lot_b \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 10, 'type', 'receipt', 'unit_cost', 1,
  'lot', json_build_object('code', 'C', 'expires_on', current_date - 1)))->'body'->>'lot_id' AS lot_c \gset

SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -12, 'type', 'sale')) AS sale \gset
SELECT is((:'sale'::json->>'status')::int, 200, 'a sale without a lot is allocated');
SELECT is((SELECT string_agg((SELECT code FROM sk.lots WHERE id = a->>'lot_id') || ':' || (a->>'qty'), ',')
             FROM json_array_elements(:'sale'::json->'body'->'lots') a),
          'B:-10,A:-2', 'first expiry first out: all of B, then 2 of A; expired C is skipped');

SELECT is((pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale', 'lot_id', :'lot_c'))->>'status')::int,
          409, 'selling from an expired lot named explicitly is 409');
SELECT is(pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale', 'lot_id', :'lot_c'))->'body'->>'code',
          'lot_expired', 'with code lot_expired');
SELECT is((pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -10, 'type', 'adjustment', 'reason', 'expired',
                                                   'lot_id', :'lot_c'))->>'status')::int,
          200, 'writing the expired lot off with reason expired is allowed');

-- The lot routes.
SELECT is((SELECT body->>'on_hand' FROM pg_temp.api(:'a_test', 'GET', '/lots/' || :'lot_a')), '8', 'lot A has 8 left');
SELECT is((SELECT body->>'expired' FROM pg_temp.api(:'a_test', 'GET', '/lots/' || :'lot_c')), 'true', 'lot C shows as expired');
SELECT is((SELECT json_array_length(body->'data') FROM pg_temp.api(:'a_test', 'GET', '/lots', NULL, NULL, 'item_id=' || :'item')), 3,
          'the item has three lots');
SELECT is((SELECT string_agg(d->>'code', ',' ORDER BY d->>'code') FROM pg_temp.api(:'a_test', 'GET', '/lots', NULL, NULL,
             'expiring_before=' || (current_date + 7)::text) a, json_array_elements(a.body->'data') d),
          'B,C', 'expiring_before filters by expiry date');
SELECT is((SELECT status FROM pg_temp.api(:'b_test', 'GET', '/lots/' || :'lot_a')), 404, 'another tenant cannot see the lot');

-- lot.expiring: once per lot with stock inside the 30-day window (A: 8 left, 10 days).
-- B has no stock left, C none either; a lot beyond the window is not due.
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 5, 'type', 'receipt', 'unit_cost', 1,
  'lot', json_build_object('code', 'D', 'expires_on', current_date + 90)))->'body'->>'lot_id' AS lot_d \gset
SELECT cmp_ok(sk.scan_expiring_lots(), '>=', 1, 'the scan emits');
SELECT is((SELECT array_agg(data->'object'->>'code')::text FROM sk.events
            WHERE account_id = :'a_id' AND type = 'lot.expiring'), '{A}', 'exactly lot A: in the window and with stock');
SELECT is(sk.scan_expiring_lots() * 0 + (SELECT count(*)::int FROM sk.events WHERE account_id = :'a_id' AND type = 'lot.expiring'),
          1, 'a second scan emits nothing more for it');
SELECT is((SELECT data->'object'->>'on_hand' FROM sk.events WHERE account_id = :'a_id' AND type = 'lot.expiring'), '8',
          'the event carries the lot with its stock');

SELECT * FROM finish();
ROLLBACK;
