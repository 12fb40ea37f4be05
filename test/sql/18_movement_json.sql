-- The movement object is rendered in C (sk.movement_json). Every movement below, with
-- lots, metadata, awkward text, many decimals and both signs, must render exactly as
-- row_to_json over the SQL format helpers (sk.qty_text, sk.cost_text, sk.rfc3339) does.
\ir lib/setup.sql
SELECT plan(5);

CREATE TYPE pg_temp.movement_fields AS (
  id text, object text, livemode boolean, created_at text, item_id text, location_id text, type text, qty text,
  reason text, unit_cost text, lot_id text, lots json, transfer_id text, reverses text, reference text, metadata jsonb,
  on_hand_after text, wac_after text);
CREATE FUNCTION pg_temp.reference_json(m sk.movements) RETURNS text LANGUAGE sql STABLE RETURN row_to_json(ROW(
  m.id, 'movement', m.livemode, sk.rfc3339(m.created_at), m.item_id, m.location_id, m.type, sk.qty_text(m.qty), m.reason,
  sk.cost_text(m.unit_cost), m.lot_id, coalesce(m.lots, '[]'::json), m.transfer_id, m.reverses, m.reference, m.metadata,
  sk.qty_text(m.on_hand_after), sk.cost_text(m.wac_after))::pg_temp.movement_fields)::text;

SELECT (body->>'id') AS item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"J-1","name":"Plain"}', 'j1') \gset
SELECT (body->>'id') AS lotted FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"J-2","name":"Lots","track_lots":true}', 'j2') \gset
SELECT (body->>'id') AS loc2 FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"name":"Back"}', 'jl2') \gset

SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'item', 'qty', 3, 'type', 'receipt', 'unit_cost', '1.123456',
  'reference', E'quote " backslash \\ tab \t newline \n é ✓', 'metadata', json_build_object('a', 'b', 'quote', 'he said "hi"', 'unicode', 'é ✓ \u0001'))) \gset ignored_
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'item', 'qty', 7, 'type', 'receipt', 'unit_cost', '2')) \gset ignored_
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'item', 'qty', '-0.5', 'type', 'sale')) \gset ignored_
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'item', 'qty', '1000000.000100', 'type', 'adjustment', 'reason', 'count_variance')) \gset ignored_
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'item', 'qty', 2, 'type', 'transfer', 'to_location_id', :'loc2')) \gset ignored_
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'lotted', 'qty', 5, 'type', 'receipt', 'unit_cost', '0.10',
  'lot', json_build_object('code', 'L-"1"', 'expires_on', '2030-01-31'))) \gset ignored_
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'lotted', 'qty', 2, 'type', 'receipt', 'unit_cost', '9.999',
  'lot', json_build_object('code', 'L-2'))) \gset ignored_
SELECT pg_temp.move(:'a_test', json_build_object('item_id', :'lotted', 'qty', -6, 'type', 'sale')) \gset ignored_
SELECT (body->>'id') AS sold FROM pg_temp.api(:'a_test', 'POST', '/movements',
  json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale')::text, 'j-sale') \gset
SELECT status AS rev_status FROM pg_temp.api(:'a_test', 'POST', '/movements/' || :'sold' || '/reverse', '{"reference":"undo"}', 'j-rev') \gset

SELECT is((SELECT count(*)::int FROM sk.movements WHERE account_id = :'a_id' AND NOT livemode), 11,
          'eleven movements, a transfer''s two legs and a reversal among them');
SELECT is((SELECT count(*)::int FROM sk.movements m WHERE account_id = :'a_id'
             AND sk.movement_object(m)::text IS DISTINCT FROM pg_temp.reference_json(m)), 0,
          'every movement renders exactly as row_to_json over the SQL format helpers');
SELECT is((SELECT sk.movement_object(m)->'metadata'->>'quote' FROM sk.movements m
            WHERE account_id = :'a_id' AND m.reference LIKE 'quote%'), 'he said "hi"', 'metadata as stored');
SELECT is((SELECT count(*)::int FROM sk.movements m WHERE account_id = :'a_id'
             AND (sk.movement_object(m)->>'id') = m.id AND (sk.movement_object(m)->>'created_at') = sk.rfc3339(m.created_at)), 11,
          'and parses back to its own id and instant');

-- The numbers' formats on their own, over values no API call would store as such:
-- trailing zeros, none, zero, integers ending in zeros, signs, one or two decimals, NaN.
SELECT is((SELECT count(*)::int
             FROM (SELECT m FROM sk.movements m WHERE account_id = :'a_id' LIMIT 1) one,
                  unnest('{0, 0.000, 100, 100.00, -100.10, 0.5, -0.50, 4.5, 4.50, 6, 6.000000, 1.123400, 1000000.000100,
                           0.01, 0.001, -0.001, 12345678901234.123456, NaN}'::numeric[]) AS v,
                  LATERAL (SELECT (one.m).*) r,
                  LATERAL (SELECT (ROW(r.account_id, r.livemode, r.id, r.item_id, r.location_id, r.type, v, r.reason, v,
                                       r.lot_id, r.lots, r.transfer_id, r.reverses, r.reference, r.metadata, r.seq, v, v,
                                       r.created_at)::sk.movements) AS edge) e
            WHERE sk.movement_object(e.edge)::text IS DISTINCT FROM pg_temp.reference_json(e.edge)), 0,
          'quantities and costs format as sk.qty_text and sk.cost_text for edge values');

SELECT * FROM finish();
ROLLBACK;
