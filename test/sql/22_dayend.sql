-- Stock counts and day-end close (issue 5): the variance is counted minus the on-hand
-- the log shows at the counting instant — not at closing — and is booked forward.
\ir lib/setup.sql
SELECT plan(14);

CREATE FUNCTION pg_temp.mv(key text, body json) RETURNS json LANGUAGE sql AS $$
  SELECT a.body FROM pg_temp.api(key, 'POST', '/movements', body::text, gen_random_uuid()::text) a
$$;

SELECT body->>'id' AS item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"CNT","name":"Counted"}', 'cnt-item') \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 10, 'type', 'receipt', 'unit_cost', 5)) IS NOT NULL AS ok \gset
SELECT sk.rfc3339(clock_timestamp()) AS counted_at \gset
-- After the count, 3 are sold: not a variance, the count predates it.
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -3, 'type', 'sale')) IS NOT NULL AS ok \gset

SELECT a.status, a.body AS count FROM pg_temp.api(:'a_test', 'POST', '/counts', json_build_object(
  'business_date', '2026-11-20', 'counted_at', :'counted_at',
  'lines', json_build_array(json_build_object('item_id', :'item', 'counted_qty', 8)))::text, 'count-1') a \gset
SELECT is(:status, 200, 'the count is recorded');
SELECT is(:'count'::json->'lines'->0->>'counted_qty', '8', 'with its lines');

SELECT a.status AS close_status, a.body AS close FROM pg_temp.api(:'a_test', 'POST', '/dayend_closes',
  '{"business_date":"2026-11-20"}', 'close-1') a \gset
SELECT is(:close_status, 200, 'the day closes');
SELECT is(:'close'::json->'variances'->0->>'expected_qty', '10', 'expected is the on-hand at the counting instant (10)');
SELECT is(:'close'::json->'variances'->0->>'variance_qty', '-2', 'variance = counted 8 − 10, not 8 − 7 at closing');
SELECT is(:'close'::json->'variances'->0->>'variance_value', '-10.00', 'valued at the WAC of 5.00');
SELECT (:'close'::json->'variances'->0->>'movement_id') AS adj \gset
SELECT is((SELECT type || '/' || reason || '/' || qty::text FROM sk.movements WHERE id = :'adj'), 'adjustment/count_variance/-2',
          'booked as a count_variance adjustment of -2');
SELECT cmp_ok((SELECT created_at FROM sk.movements WHERE id = :'adj'), '>', :'counted_at'::timestamptz,
              'dated now, after the count: history is not rewritten');
SELECT is((SELECT body->>'on_hand' FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'item' || '/stock')), '5',
          'on-hand: 10 − 3 sold − 2 variance');

SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/dayend_closes', '{"business_date":"2026-11-20"}', 'close-2')),
          'day_already_closed', 'closing the same day twice is 409');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/counts', json_build_object('business_date', '2026-11-20',
  'lines', json_build_array(json_build_object('item_id', :'item', 'counted_qty', 1)))::text, 'count-late')),
          409, 'a closed day takes no more counts');

SELECT data->'object' AS ev FROM sk.events WHERE account_id = :'a_id' AND type = 'dayend.closed' \gset
SELECT is(:'ev'::json->>'id', :'close'::json->>'id', 'dayend.closed is emitted with the close');
SELECT is((:'ev'::json->'variances'->0->>'variance_qty') || ' ' || (:'ev'::json->'variances'->0->>'variance_value'), '-2 -10.00',
          'carrying the variances in quantity and value');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/dayend_closes', '{"business_date":"2026-11-21"}', 'close-3')),
          200, 'a day without counts closes with no variances');

SELECT * FROM finish();
ROLLBACK;
