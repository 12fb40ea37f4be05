-- Threshold events (issue 3, item 7): stock.low when the item's total crosses from at or
-- above its reorder_point to below it, stock.out when it goes from above zero to zero
-- or below; each exactly once per crossing, re-armed when stock rises again.
\ir lib/setup.sql
SELECT plan(24);

CREATE FUNCTION pg_temp.mv(key text, item text, qty numeric, type text, extra json DEFAULT '{}')
RETURNS json LANGUAGE sql AS $$
  SELECT a.body FROM pg_temp.api(key, 'POST', '/movements',
    (jsonb_build_object('item_id', item, 'qty', qty, 'type', type) ||
     CASE type WHEN 'receipt' THEN '{"unit_cost":"2.50"}'::jsonb WHEN 'adjustment' THEN '{"reason":"count_variance"}' ELSE '{}' END ||
     extra::jsonb)::text, gen_random_uuid()::text) a
$$;
-- Threshold events of one item so far, oldest first: "type@on_hand".
CREATE FUNCTION pg_temp.crossings(item text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(e.type || '@' || (e.data->'object'->>'on_hand'), ' ' ORDER BY e.id), '')
    FROM sk.events e WHERE e.type IN ('stock.low', 'stock.out') AND e.data->'object'->>'item_id' = item
$$;

SELECT (body->>'id') AS item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"T-1","name":"Tea","reorder_point":5}', 'i1') \gset

SELECT pg_temp.mv(:'a_test', :'item', 10, 'receipt') \g /dev/null
SELECT pg_temp.mv(:'a_test', :'item', -5, 'sale') \g /dev/null
SELECT is(pg_temp.crossings(:'item'), '', 'falling to exactly the reorder point is not below it');
SELECT pg_temp.mv(:'a_test', :'item', -0.001, 'sale') \g /dev/null
SELECT is(pg_temp.crossings(:'item'), 'stock.low@4.999', 'crossing below the reorder point fires stock.low once');
SELECT pg_temp.mv(:'a_test', :'item', -1, 'sale') \g /dev/null
SELECT pg_temp.mv(:'a_test', :'item', 1, 'return') \g /dev/null
SELECT pg_temp.mv(:'a_test', :'item', -2, 'adjustment') \g /dev/null
SELECT is(pg_temp.crossings(:'item'), 'stock.low@4.999', 'moving about below it fires nothing more');
SELECT pg_temp.mv(:'a_test', :'item', 2.001, 'receipt') \g /dev/null
SELECT is(pg_temp.crossings(:'item'), 'stock.low@4.999', 'rising back to the reorder point fires nothing (it re-arms)');
SELECT pg_temp.mv(:'a_test', :'item', -1, 'sale') \g /dev/null
SELECT is(pg_temp.crossings(:'item'), 'stock.low@4.999 stock.low@4', 'the next fall below fires again');
SELECT pg_temp.mv(:'a_test', :'item', -4, 'sale') \g /dev/null
SELECT is(pg_temp.crossings(:'item'), 'stock.low@4.999 stock.low@4 stock.out@0', 'reaching zero fires stock.out');
SELECT pg_temp.mv(:'a_test', :'item', -1, 'sale') \g /dev/null
SELECT pg_temp.mv(:'a_test', :'item', 0.5, 'return') \g /dev/null
SELECT is(pg_temp.crossings(:'item'), 'stock.low@4.999 stock.low@4 stock.out@0', 'below zero and still at or below zero: nothing more');
SELECT pg_temp.mv(:'a_test', :'item', 10.5, 'receipt') \g /dev/null
SELECT pg_temp.mv(:'a_test', :'item', -12, 'sale') \g /dev/null
SELECT is(pg_temp.crossings(:'item'), 'stock.low@4.999 stock.low@4 stock.out@0 stock.low@-2 stock.out@-2',
          'one movement from 10 to -2 crosses both thresholds and fires both events');
SELECT is((SELECT count(*)::int FROM sk.events e WHERE e.type IN ('stock.low', 'stock.out')
            AND e.data->'object'->>'item_id' = :'item'), 5, 'exactly five crossings, five events');

-- The event carries the stock object and the item's reorder_point.
SELECT e.data->'object' AS low FROM sk.events e WHERE e.type = 'stock.low' AND e.data->'object'->>'item_id' = :'item'
 ORDER BY e.id LIMIT 1 \gset
SELECT is(:'low'::json->>'object', 'stock', 'data.object is a stock object');
SELECT is(:'low'::json->>'reorder_point', '5', 'with the item''s reorder_point');
SELECT is(:'low'::json->>'wac', '2.50', 'and the WAC');
SELECT is((SELECT count(*)::int FROM pg_temp.api(:'a_test', 'GET', '/events', NULL, NULL, 'type=stock.out') a,
                  json_array_elements(a.body->'data') d), 2, 'GET /events?type=stock.out lists them');

-- Transfers never change the total, so they never cross.
SELECT (body->>'id') AS loc2 FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"name":"Back room"}', 'l2') \gset
SELECT pg_temp.mv(:'a_test', :'item', 8, 'receipt') \g /dev/null
SELECT pg_temp.mv(:'a_test', :'item', 6, 'transfer', json_build_object('to_location_id', :'loc2')) \g /dev/null
SELECT is((SELECT count(*)::int FROM sk.events e WHERE e.type IN ('stock.low', 'stock.out')
            AND e.data->'object'->>'item_id' = :'item'), 5, 'a transfer moving most of the stock fires nothing');

-- Within one batch each crossing fires at its own movement, with the stock as it was then.
SELECT (body->>'id') AS bi FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"T-2","name":"Coffee","reorder_point":"3"}', 'i2') \gset
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/movements/batch', json_build_object('movements', json_build_array(
          json_build_object('item_id', :'bi', 'qty', 5, 'type', 'receipt', 'unit_cost', 1),
          json_build_object('item_id', :'bi', 'qty', -3, 'type', 'sale'),
          json_build_object('item_id', :'bi', 'qty', 4, 'type', 'receipt', 'unit_cost', 4),
          json_build_object('item_id', :'bi', 'qty', -5, 'type', 'sale')))::text, 'b1')), 200, 'a batch crossing twice');
SELECT is(pg_temp.crossings(:'bi'), 'stock.low@2 stock.low@1', 'fires one stock.low per crossing');
SELECT is((SELECT string_agg(e.data->'object'->>'wac', ',' ORDER BY e.id) FROM sk.events e
            WHERE e.type = 'stock.low' AND e.data->'object'->>'item_id' = :'bi'), '1.00,3.00',
          'each event shows the WAC at its crossing, mid-batch included');

-- Items without a reorder point only get stock.out.
SELECT (body->>'id') AS np FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"T-3","name":"Sugar"}', 'i3') \gset
SELECT pg_temp.mv(:'a_test', :'np', 2, 'receipt') \g /dev/null
SELECT pg_temp.mv(:'a_test', :'np', -2, 'sale') \g /dev/null
SELECT is(pg_temp.crossings(:'np'), 'stock.out@0', 'no reorder point: stock.out only');

-- A refused movement crosses nothing; changing the reorder point is not a crossing.
SELECT (body->>'id') AS rj FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"T-4","name":"Salt","reorder_point":2,"negative_stock":"reject"}', 'i4') \gset
SELECT pg_temp.mv(:'a_test', :'rj', 3, 'receipt') \g /dev/null
SELECT is(pg_temp.mv(:'a_test', :'rj', -4, 'sale')->>'code', 'insufficient_stock', 'a refused sale');
SELECT is(pg_temp.crossings(:'rj'), '', 'fires nothing');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'PATCH', '/items/' || :'rj', '{"reorder_point":10}', 'p1')), 200,
          'raising the reorder point above on-hand');
SELECT is(pg_temp.crossings(:'rj'), '', 'is not a crossing');
SELECT pg_temp.mv(:'a_test', :'rj', 8, 'receipt') \g /dev/null
SELECT pg_temp.mv(:'a_test', :'rj', -2, 'sale') \g /dev/null
SELECT is(pg_temp.crossings(:'rj'), 'stock.low@9', 'the new reorder point applies to the next fall');
SELECT is((SELECT count(*)::int FROM sk.events e WHERE e.type IN ('stock.low', 'stock.out') AND (e.account_id = :'b_id' OR e.livemode)), 0,
          'no other tenant or mode received any of these events');

SELECT * FROM finish();
ROLLBACK;
