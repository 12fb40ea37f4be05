-- Stock as of any past instant, answered from the log (issue 3, item 5), against a
-- history computed by hand.
\ir lib/setup.sql
SELECT plan(25);

CREATE FUNCTION pg_temp.mv(key text, body json) RETURNS json LANGUAGE sql AS $$
  SELECT a.body FROM pg_temp.api(key, 'POST', '/movements', body::text, gen_random_uuid()::text) a
$$;
-- The stock object at an instant, reduced to what the history below fixes.
CREATE FUNCTION pg_temp.at(key text, item text, instant text) RETURNS text LANGUAGE sql AS $$
  SELECT (a.body->>'on_hand') || ' @ ' || (a.body->>'wac') || ' = ' || (a.body->>'value') || ' ' ||
         coalesce((SELECT string_agg(l.name || ':' || (x->>'on_hand'), ',' ORDER BY l.name)
                     FROM json_array_elements(a.body->'locations') x JOIN sk.locations l ON l.id = x->>'location_id'), '-')
    FROM pg_temp.api(key, 'GET', '/items/' || item || '/stock', NULL, NULL, 'as_of=' || replace(instant, '+', '%2B')) a
$$;

SELECT (body->>'id') AS item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"H-1","name":"History"}', 'i1') \gset
SELECT (body->>'id') AS north FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"name":"North"}', 'l2') \gset
UPDATE sk.locations SET name = 'Main' WHERE account_id = :'a_id' AND NOT livemode AND is_default;
SELECT sk.rfc3339(clock_timestamp()) AS t0 \gset

SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 10, 'type', 'receipt', 'unit_cost', 4))->>'created_at' AS c1 \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 10, 'type', 'receipt', 'unit_cost', 6, 'location_id', :'north'))->>'created_at' AS c2 \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -3, 'type', 'sale'))->>'created_at' AS c3 \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 2, 'type', 'transfer', 'location_id', :'north',
                                               'to_location_id', (SELECT id FROM sk.locations WHERE account_id = :'a_id' AND NOT livemode AND is_default)))->>'created_at' AS c4 \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 5, 'type', 'receipt', 'unit_cost', 8))->>'created_at' AS c5 \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -4, 'type', 'adjustment', 'reason', 'damaged', 'location_id', :'north'))->>'created_at' AS c6 \gset

-- Hand-computed history: on-hand @ WAC = value, by location.
SELECT is(pg_temp.at(:'a_test', :'item', :'t0'), '0 @ 0.00 = 0.00 -', 'before the first movement: nothing');
SELECT is(pg_temp.at(:'a_test', :'item', :'c1'), '10 @ 4.00 = 40.00 Main:10', 'at the first receipt: 10 @ 4.00');
SELECT is(pg_temp.at(:'a_test', :'item', :'c2'), '20 @ 5.00 = 100.00 Main:10,North:10', 'at the second receipt: 20 @ 5.00');
SELECT is(pg_temp.at(:'a_test', :'item', :'c3'), '17 @ 5.00 = 85.00 Main:7,North:10', 'after the sale of 3');
SELECT is(pg_temp.at(:'a_test', :'item', :'c4'), '17 @ 5.00 = 85.00 Main:9,North:8', 'after moving 2 from North to Main');
SELECT is(pg_temp.at(:'a_test', :'item', sk.rfc3339(:'c5'::timestamptz - interval '1 microsecond')), '17 @ 5.00 = 85.00 Main:9,North:8',
          'one microsecond before the third receipt nothing has changed');
SELECT is(pg_temp.at(:'a_test', :'item', :'c5'), '22 @ 5.681818 = 125.00 Main:14,North:8',
          'at the third receipt: (17 × 5 + 5 × 8) / 22 = 5.681818, value 124.999996 → 125.00');
SELECT is(pg_temp.at(:'a_test', :'item', :'c6'), '18 @ 5.681818 = 102.27 Main:14,North:4', 'after writing off 4 at North');
SELECT is(pg_temp.at(:'a_test', :'item', '2999-01-01T00:00:00Z'), '18 @ 5.681818 = 102.27 Main:14,North:4', 'a future instant answers now');
SELECT is((SELECT (body::jsonb - 'as_of') FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'item' || '/stock', NULL, NULL, 'as_of=' || :'c6')),
          (SELECT (body::jsonb - 'as_of') FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'item' || '/stock')),
          'the log at the last movement and the cache agree field for field');

-- Instants in any offset, echoed in UTC.
SELECT is(pg_temp.at(:'a_test', :'item', to_char(:'c3'::timestamptz AT TIME ZONE INTERVAL '02:00', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+02:00'),
          '17 @ 5.00 = 85.00 Main:7,North:10', 'an instant with an offset means the same instant');
SELECT is((SELECT body->>'as_of' FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'item' || '/stock', NULL, NULL, 'as_of=' || :'c3')),
          :'c3', 'as_of is echoed in UTC');
SELECT is((SELECT body->>'param' FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'item' || '/stock', NULL, NULL, 'as_of=yesterday')),
          '/as_of', 'a malformed as_of is 400 on /as_of');
SELECT is((SELECT status FROM pg_temp.api(:'b_test', 'GET', '/items/' || :'item' || '/stock', NULL, NULL, 'as_of=' || :'c3')),
          404, 'another tenant''s item is 404, as of any time');

-- Lots as of an instant.
SELECT (body->>'id') AS lot_item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"H-2","name":"Yoghurt","track_lots":true}', 'i2') \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'lot_item', 'qty', 5, 'type', 'receipt', 'unit_cost', 1,
       'lot', json_build_object('code', 'LATE', 'expires_on', '2031-03-01')))->>'created_at' AS l1 \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'lot_item', 'qty', 3, 'type', 'receipt', 'unit_cost', 1,
       'lot', json_build_object('code', 'SOON', 'expires_on', '2031-01-01')))->>'created_at' AS l2 \gset
SELECT pg_temp.mv(:'a_test', json_build_object('item_id', :'lot_item', 'qty', -4, 'type', 'sale'))->>'created_at' AS l3 \gset
CREATE FUNCTION pg_temp.lots_at(key text, item text, instant text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg((x->>'code') || ':' || (x->>'on_hand'), ',' ORDER BY n), '-')
    FROM pg_temp.api(key, 'GET', '/items/' || item || '/stock', NULL, NULL, 'as_of=' || instant) a,
         json_array_elements(a.body->'lots') WITH ORDINALITY AS l(x, n)
$$;
SELECT is(pg_temp.lots_at(:'a_test', :'lot_item', :'l1'), 'LATE:5', 'lots after the first receipt');
SELECT is(pg_temp.lots_at(:'a_test', :'lot_item', :'l2'), 'SOON:3,LATE:5', 'after the second, soonest expiry first');
SELECT is(pg_temp.lots_at(:'a_test', :'lot_item', :'l3'), 'LATE:4', 'the sale of 4 took SOON (3) first, then 1 of LATE');

-- GET /stock: several items at once, by id or SKU, now or as of an instant.
SELECT is((SELECT string_agg((d->>'sku') || '=' || (d->>'on_hand'), ',') FROM pg_temp.api(:'a_test', 'GET', '/stock', NULL, NULL,
                  'item_ids=' || :'lot_item' || ',' || :'item') a, json_array_elements(a.body->'data') d),
          'H-2=4,H-1=18', 'GET /stock?item_ids= answers in the order asked');
SELECT is((SELECT string_agg((d->>'sku') || '=' || (d->>'on_hand'), ',') FROM pg_temp.api(:'a_test', 'GET', '/stock', NULL, NULL,
                  'skus=H-1,NOPE,H-2&as_of=' || :'c3') a, json_array_elements(a.body->'data') d),
          'H-1=17,H-2=0', 'GET /stock?skus=&as_of= answers from the log; unknown SKUs are left out');
SELECT is((SELECT body->>'object' FROM pg_temp.api(:'a_test', 'GET', '/stock', NULL, NULL, 'skus=H-1')), 'list', 'a list envelope');
SELECT is((SELECT json_array_length(body->'data') FROM pg_temp.api(:'b_test', 'GET', '/stock', NULL, NULL, 'item_ids=' || :'item')), 0,
          'another tenant''s items are not found');
SELECT is((SELECT body->>'param' FROM pg_temp.api(:'a_test', 'GET', '/stock', NULL, NULL, 'item_ids=itm_1,' || :'item')), '/item_ids',
          'a malformed id is 400 on /item_ids');
SELECT is((SELECT body->>'param' FROM pg_temp.api(:'a_test', 'GET', '/stock', NULL, NULL,
                  'skus=' || (SELECT string_agg('S' || g, ',') FROM generate_series(1, 101) g))), '/skus', 'at most 100 values');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'GET', '/stock', NULL, NULL, 'skus=H-1&item_ids=' || :'item')), 400,
          'item_ids and skus together are refused');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'GET', '/stock')), 'parameter_missing', 'one of them is required');

SELECT * FROM finish();
ROLLBACK;
