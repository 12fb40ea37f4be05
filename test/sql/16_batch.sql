-- Batch sync (issue 3, item 6): up to 1000 movements under one Idempotency-Key, all or
-- nothing; a bad element is refused with a param pointing into it.
\ir lib/setup.sql
SELECT plan(26);

CREATE FUNCTION pg_temp.batch(key text, movements json, idem text DEFAULT NULL)
RETURNS TABLE (status integer, body json, raw text, replayed boolean) LANGUAGE sql AS $$
  SELECT a.status, a.body, a.raw, a.replayed FROM pg_temp.api(key, 'POST', '/movements/batch',
         json_build_object('movements', movements)::text, coalesce(idem, gen_random_uuid()::text)) a
$$;
-- What the ledger holds for the account: movements, events, balance rows.
CREATE FUNCTION pg_temp.footprint(account text) RETURNS text LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM sk.movements WHERE account_id = account) || '/' ||
         (SELECT count(*) FROM sk.events WHERE account_id = account) || '/' ||
         (SELECT coalesce(sum(on_hand), 0) FROM sk.stock_balances WHERE account_id = account)
$$;

SELECT (body->>'id') AS i1 FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"B-1","name":"One"}', 'i1') \gset
SELECT (body->>'id') AS i2 FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"B-2","name":"Two","negative_stock":"reject"}', 'i2') \gset
SELECT (body->>'id') AS loc2 FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"name":"Two"}', 'l2') \gset

SELECT status AS st, body AS ok, raw AS ok_raw FROM pg_temp.batch(:'a_test', json_build_array(
  json_build_object('item_id', :'i1', 'qty', 10, 'type', 'receipt', 'unit_cost', 2, 'reference', 'first'),
  json_build_object('item_id', :'i2', 'qty', 4, 'type', 'receipt', 'unit_cost', 3),
  json_build_object('item_id', :'i1', 'qty', 3, 'type', 'transfer', 'to_location_id', :'loc2'),
  json_build_object('item_id', :'i1', 'qty', -1, 'type', 'sale', 'reference', 'last')), 'batch-ok') \gset
SELECT is(:st, 200, 'a valid batch is recorded');
SELECT is(:'ok'::json->>'object', 'list', 'the answer is a list');
SELECT is((SELECT string_agg(d->>'type' || ':' || (d->>'qty'), ',') FROM json_array_elements(:'ok'::json->'data') d),
          'receipt:10,receipt:4,transfer:-3,sale:-1', 'one movement per element, in request order (a transfer by its source leg)');
SELECT is((SELECT count(*)::int FROM sk.movements WHERE account_id = :'a_id'), 5, 'five rows: the transfer has two legs');
SELECT is((SELECT string_agg((e.data->'object'->>'type') || ':' || (e.data->'object'->>'qty'), ',' ORDER BY e.id)
             FROM sk.events e WHERE e.account_id = :'a_id' AND NOT e.livemode AND e.type = 'movement.recorded'),
          'receipt:10,receipt:4,transfer:-3,transfer:3,sale:-1', 'its movement.recorded events follow the request order');
SELECT is((SELECT string_agg(on_hand_after::text, ',' ORDER BY seq) FROM sk.movements WHERE item_id = :'i1'), '10,10,10,9',
          'running totals follow the batch order');
SELECT is((SELECT raw FROM pg_temp.batch(:'a_test', json_build_array(
  json_build_object('item_id', :'i1', 'qty', 10, 'type', 'receipt', 'unit_cost', 2, 'reference', 'first'),
  json_build_object('item_id', :'i2', 'qty', 4, 'type', 'receipt', 'unit_cost', 3),
  json_build_object('item_id', :'i1', 'qty', 3, 'type', 'transfer', 'to_location_id', :'loc2'),
  json_build_object('item_id', :'i1', 'qty', -1, 'type', 'sale', 'reference', 'last')), 'batch-ok')), :'ok_raw',
  'a retry with the same key replays the batch byte for byte');
SELECT is((SELECT count(*)::int FROM sk.movements WHERE account_id = :'a_id'), 5, 'and records nothing twice');

SELECT pg_temp.footprint(:'a_id') AS before \gset
-- A sign error in element 3: 400 naming /movements/3/qty, nothing recorded.
SELECT status AS st, body AS bad FROM pg_temp.batch(:'a_test', json_build_array(
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'receipt', 'unit_cost', 2),
  json_build_object('item_id', :'i1', 'qty', -1, 'type', 'sale'),
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'return'),
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'sale'),
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'return'))) \gset
SELECT is(:st, 400, 'a wrong sign in one element fails the batch');
SELECT is(:'bad'::json->>'param', '/movements/3/qty', 'param points at the element: /movements/3/qty');
SELECT is(pg_temp.footprint(:'a_id'), :'before', 'nothing of the batch was recorded');

SELECT is((SELECT body->>'param' FROM pg_temp.batch(:'a_test', json_build_array(
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'return'),
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'refund')))), '/movements/1/type', 'schema errors point into the array too');
SELECT is((SELECT (body->>'code') || ' ' || (body->>'param') FROM pg_temp.batch(:'a_test', json_build_array(
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'return'),
  json_build_object('item_id', 'itm_01ARZ3NDEKTSV4RRFFQ69G5FAV', 'qty', 1, 'type', 'return')))),
  'resource_missing /movements/1/item_id', 'an unknown item names its element');
SELECT is((SELECT (body->>'code') || ' ' || (body->>'param') FROM pg_temp.batch(:'a_test', json_build_array(
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'return', 'location_id', :'loc2'),
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'transfer', 'to_location_id', 'loc_01ARZ3NDEKTSV4RRFFQ69G5FAV')))),
  'resource_missing /movements/1/to_location_id', 'an unknown destination names its element''s to_location_id');

-- The negative-stock rule sees the earlier elements of the same batch.
SELECT status AS st, body AS rej FROM pg_temp.batch(:'a_test', json_build_array(
  json_build_object('item_id', :'i1', 'qty', 50, 'type', 'receipt', 'unit_cost', 9),
  json_build_object('item_id', :'i2', 'qty', -3, 'type', 'sale'),
  json_build_object('item_id', :'i2', 'qty', -2, 'type', 'sale'))) \gset
SELECT is(:st, 409, 'the second sale would take the reject item below zero');
SELECT is((:'rej'::json->>'code') || ' ' || (:'rej'::json->>'param'), 'insufficient_stock /movements/2/qty', 'naming that element');
SELECT is(pg_temp.footprint(:'a_id'), :'before', 'and the whole batch, its valid receipt included, left no trace');
SELECT is((SELECT wac FROM sk.item_stock WHERE item_id = :'i1'), 2::numeric, 'WAC did not move either');

-- Limits: 1 to 1000 elements.
SELECT is((SELECT body->>'param' FROM pg_temp.batch(:'a_test', '[]'::json)), '/movements', 'an empty batch is refused');
SELECT is((SELECT body->>'param' FROM pg_temp.batch(:'a_test',
          (SELECT json_agg(json_build_object('item_id', :'i1', 'qty', 1, 'type', 'return')) FROM generate_series(1, 1001)))),
          '/movements', 'more than 1000 elements are refused');
SELECT is((SELECT status FROM pg_temp.batch(:'a_test',
          (SELECT json_agg(json_build_object('item_id', CASE WHEN g % 2 = 0 THEN :'i1' ELSE :'i2' END, 'qty', 1, 'type', 'return'))
             FROM generate_series(1, 1000) g))), 200, '1000 elements are accepted');
SELECT is((SELECT on_hand FROM sk.item_stock WHERE item_id = :'i2'), 504::numeric, 'and all applied');
SELECT is_empty('SELECT * FROM sk.verify_balances()', 'the cache still equals the log');

-- A batch's events go through the outbox in one statement (events::emit_many): one
-- delivery per event and matching endpoint.
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/webhook_endpoints',
          '{"url":"http://127.0.0.1:9/hook","enabled_events":["movement.recorded"]}', 'we1')), 200, 'an endpoint for movement.recorded');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/webhook_endpoints',
          '{"url":"http://127.0.0.1:9/other","enabled_events":["stock.out"]}', 'we2')), 200, 'and one for stock.out only');
SELECT pg_temp.batch(:'a_test', json_build_array(
  json_build_object('item_id', :'i1', 'qty', 1, 'type', 'return'),
  json_build_object('item_id', :'i1', 'qty', 2, 'type', 'transfer', 'to_location_id', :'loc2'))) \g /dev/null
SELECT is((SELECT count(*)::int FROM sk.webhook_deliveries d JOIN sk.events e ON e.id = d.event_id
            WHERE d.account_id = :'a_id' AND e.type = 'movement.recorded'), 3,
          'three movement.recorded events (a return, two transfer legs), one delivery each, none for the other endpoint');

SELECT * FROM finish();
ROLLBACK;
