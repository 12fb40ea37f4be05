-- SQL for reporting tools (issue 3, item 5) and the events routes (item 7): the views
-- apply the reader's row-level security; GET /events lists the outbox.
\ir lib/setup.sql
SELECT plan(21);

SELECT (body->>'id') AS ia FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"V-1","name":"A item","reorder_point":3}', 'i1') \gset
SELECT (body->>'id') AS ib FROM pg_temp.api(:'b_test', 'POST', '/items', '{"sku":"V-1","name":"B item"}', 'i1') \gset
SELECT (body->>'id') AS ial FROM pg_temp.api(:'a_live', 'POST', '/items', '{"sku":"V-1","name":"A live"}', 'i1') \gset
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'ia', 'qty', 4, 'type', 'receipt', 'unit_cost', '2.5')) AS m1 \gset
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'ia', 'qty', -2, 'type', 'sale')) AS m2 \gset
SELECT pg_temp.move(:'b_test', json_build_object('item_id', :'ib', 'qty', 7, 'type', 'receipt', 'unit_cost', 1)) \g /dev/null
SELECT pg_temp.move(:'a_live', json_build_object('item_id', :'ial', 'qty', 9, 'type', 'receipt', 'unit_cost', 1)) \g /dev/null

SELECT is_empty($$
  SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'sk' AND c.relkind = 'v' AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
$$, 'every view in schema sk runs with the reader''s rights (security_invoker), so RLS applies to the reader');

CREATE ROLE sk_test_ledger_reader;
SELECT sk.grant_reporting('sk_test_ledger_reader', :'a_id', false);
SET LOCAL ROLE sk_test_ledger_reader;
SELECT is((SELECT string_agg(sku || '=' || on_hand, ',') FROM sk.stock_on_hand), 'V-1=2', 'stock_on_hand shows A test''s stock only');
SELECT is((SELECT on_hand || ' @ ' || wac || ' = ' || value || ' ' || currency FROM sk.item_valuation), '2 @ 2.5 = 5.00 USD',
          'item_valuation: on-hand, WAC, value, currency');
SELECT is((SELECT below_reorder_point FROM sk.item_valuation), true, 'with the reorder flag');
SELECT is((SELECT string_agg(type || ':' || qty, ',' ORDER BY seq) FROM sk.movement_log), 'receipt:4,sale:-2', 'movement_log shows A test''s log');
SELECT is((SELECT count(*)::int FROM sk.movements), 2, 'the base tables are filtered the same way');
SELECT is((SELECT count(*)::int FROM sk.ledger_entries WHERE account_id <> :'a_id' OR livemode), 0, 'no other world leaks');
SELECT is((SELECT sk.stock_object(i)::jsonb - 'as_of' FROM sk.items i),
          jsonb_build_object('object', 'stock', 'item_id', :'ia', 'sku', 'V-1', 'livemode', false, 'on_hand', '2',
                             'wac', '2.50', 'value', '5.00', 'currency', 'USD', 'reorder_point', '3',
                             'locations', json_build_array(json_build_object('location_id', :'m1'::json->>'location_id', 'on_hand', '2')),
                             'lots', '[]'::jsonb),
          'sk.stock_object() gives a reporting role the API''s stock object');
SELECT is(sk.stock_json(:'ib')::text, NULL, 'and nothing for another tenant''s item');
SELECT throws_ok($$ SELECT sk.verify_balances() $$, '42501', NULL, 'reporting roles cannot run the DBA checks');
RESET ROLE;
CREATE ROLE sk_test_ledger_nobody IN ROLE sk_reporting;
SET LOCAL ROLE sk_test_ledger_nobody;
SELECT is((SELECT count(*)::int FROM sk.stock_on_hand) + (SELECT count(*)::int FROM sk.movement_log), 0,
          'an unmapped reporting role sees nothing');
RESET ROLE;
SET LOCAL ROLE sk_owner;
SELECT is((SELECT count(*)::int FROM sk.item_valuation), 0, 'the owner without a verified key sees nothing either');
RESET ROLE;

-- GET /events and GET /events/{id}.
SELECT d->>'id' AS evt FROM pg_temp.api(:'a_test', 'GET', '/events', NULL, NULL, 'type=movement.recorded&limit=1') a,
       json_array_elements(a.body->'data') d \gset
SELECT is((SELECT body->'data'->'object'->>'id' FROM pg_temp.api(:'a_test', 'GET', '/events/' || :'evt')), :'m2'::json->>'id',
          'the newest movement.recorded event carries the newest movement');
SELECT is((SELECT (body->'data'->'object')::jsonb FROM pg_temp.api(:'a_test', 'GET', '/events/' || :'evt')), :'m2'::jsonb,
          'data.object is the movement object exactly as the API returned it');
SELECT is((SELECT status FROM pg_temp.api(:'b_test', 'GET', '/events/' || :'evt')), 404, 'another tenant''s event is 404');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'GET', '/events/evt_01ARZ3NDEKTSV4RRFFQ69G5FAV')), 404, 'an unknown event is 404');
SELECT is((SELECT string_agg(d->>'type', ',') FROM pg_temp.api(:'a_test', 'GET', '/events') a, json_array_elements(a.body->'data') d),
          'stock.low,movement.recorded,movement.recorded,item.created', 'GET /events lists this world''s events, newest first');
SELECT is((SELECT json_array_length(body->'data') FROM pg_temp.api(:'a_test', 'GET', '/events', NULL, NULL, 'type=item.created')), 1,
          'filtered by type');
SELECT is((SELECT json_array_length(body->'data') FROM pg_temp.api(:'a_test', 'GET', '/events', NULL, NULL,
                  'created_gte=2999-01-01T00:00:00Z')), 0, 'created_gte excludes older events');
SELECT is((SELECT json_array_length(body->'data') FROM pg_temp.api(:'a_test', 'GET', '/events', NULL, NULL,
                  'created_lt=2999-01-01T00:00:00Z&limit=2')), 2, 'created_lt and limit');
SELECT is((SELECT body->>'param' FROM pg_temp.api(:'a_test', 'GET', '/events', NULL, NULL, 'type=Not%20a%20type')), '/type',
          'a malformed type is 400');

SELECT * FROM finish();
ROLLBACK;
