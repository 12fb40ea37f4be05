-- Weighted average cost, exactly as DESIGN.md section 5 (issue 3, item 4): worked
-- examples, rounding, stock at or below zero, and negative_stock "reject".
\ir lib/setup.sql
SELECT plan(50);

CREATE FUNCTION pg_temp.mv(key text, body json)
RETURNS json LANGUAGE sql AS $$
  SELECT a.body FROM pg_temp.api(key, 'POST', '/movements', body::text, gen_random_uuid()::text) a
$$;
CREATE FUNCTION pg_temp.item(key text, sku text, extra json DEFAULT '{}')
RETURNS text LANGUAGE sql AS $$
  SELECT a.body->>'id' FROM pg_temp.api(key, 'POST', '/items',
         (jsonb_build_object('sku', sku, 'name', sku) || extra::jsonb)::text, gen_random_uuid()::text) a
$$;
CREATE FUNCTION pg_temp.receipt(key text, item text, qty numeric, cost numeric, loc text DEFAULT NULL)
RETURNS json LANGUAGE sql AS $$
  SELECT pg_temp.mv(key, json_strip_nulls(json_build_object('item_id', item, 'qty', qty, 'type', 'receipt',
                                                           'unit_cost', cost, 'location_id', loc)))
$$;
CREATE FUNCTION pg_temp.issue(key text, item text, qty numeric, type text DEFAULT 'sale', loc text DEFAULT NULL)
RETURNS json LANGUAGE sql AS $$
  SELECT pg_temp.mv(key, json_strip_nulls(json_build_object('item_id', item, 'qty', -qty, 'type', type, 'location_id', loc,
                                                           'reason', CASE WHEN type = 'adjustment' THEN 'lost' END)))
$$;
CREATE FUNCTION pg_temp.stock(key text, item text)
RETURNS json LANGUAGE sql AS $$ SELECT a.body FROM pg_temp.api(key, 'GET', '/items/' || item || '/stock') a $$;

-- The worked example: 10 @ 5.00 and 10 @ 7.00 give 6.00; a sale keeps it.
SELECT pg_temp.item(:'a_test', 'W-1') AS w1 \gset
SELECT is(pg_temp.receipt(:'a_test', :'w1', 10, 5.00)->>'wac_after', '5.00', 'first receipt: WAC is its cost');
SELECT is(pg_temp.receipt(:'a_test', :'w1', 10, 7.00)->>'wac_after', '6.00', '10 @ 5.00 + 10 @ 7.00: WAC 6.00');
SELECT is(pg_temp.stock(:'a_test', :'w1')->>'value', '120.00', 'value 20 × 6.00 = 120.00');
SELECT pg_temp.issue(:'a_test', :'w1', 5) AS sale \gset
SELECT is(:'sale'::json->>'wac_after', '6.00', 'a sale leaves WAC unchanged');
SELECT is(:'sale'::json->>'unit_cost', '6.00', 'and is costed at the WAC');
SELECT is(pg_temp.stock(:'a_test', :'w1')->>'value', '90.00', 'value 15 × 6.00 = 90.00');
SELECT is(pg_temp.mv(:'a_test', json_build_object('item_id', :'w1', 'qty', 2, 'type', 'return'))->>'unit_cost', '6.00',
          'a return comes back at the current WAC');
SELECT is(pg_temp.stock(:'a_test', :'w1')->>'wac', '6.00', 'which leaves WAC unchanged');
SELECT is(pg_temp.receipt(:'a_test', :'w1', 3, 9.40)->>'wac_after', '6.51', '17 @ 6.00 + 3 @ 9.40: 130.20 / 20 = 6.51');

-- WAC is per item across locations, and transfers do not change it.
SELECT (body->>'id') AS loc2 FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"name":"Shop"}', 'l2') \gset
SELECT pg_temp.item(:'a_test', 'W-2') AS w2 \gset
SELECT pg_temp.receipt(:'a_test', :'w2', 10, 5) \g /dev/null
SELECT is(pg_temp.receipt(:'a_test', :'w2', 10, 7, :'loc2')->>'wac_after', '6.00', 'receipts at two locations average into one WAC');
SELECT is(pg_temp.mv(:'a_test', json_build_object('item_id', :'w2', 'qty', 4, 'type', 'transfer', 'to_location_id', :'loc2'))->>'wac_after',
          '6.00', 'a transfer leaves WAC unchanged');
SELECT is((pg_temp.stock(:'a_test', :'w2')->'locations')::jsonb,
          jsonb_build_array(jsonb_build_object('location_id', (SELECT id FROM sk.locations WHERE account_id = :'a_id' AND NOT livemode AND is_default), 'on_hand', '6'),
                            jsonb_build_object('location_id', :'loc2', 'on_hand', '14')),
          'the stock object splits on-hand by location');

-- Rounding: the division is rounded to 6 decimals, half away from zero, exactly.
SELECT pg_temp.item(:'a_test', 'R-1') AS r1 \gset
SELECT pg_temp.receipt(:'a_test', :'r1', 1, 1) \g /dev/null
SELECT is(pg_temp.receipt(:'a_test', :'r1', 2, 2)->>'wac_after', '1.666667', '(1 + 4) / 3 = 1.6666… rounds to 1.666667');
SELECT is((SELECT wac FROM sk.item_stock WHERE item_id = :'r1'), 1.666667, 'and that rounded value is what is stored');
SELECT is(pg_temp.stock(:'a_test', :'r1')->>'value', '5.00', 'value 3 × 1.666667 = 5.000001 shows as 5.00');
SELECT is(pg_temp.receipt(:'a_test', :'r1', 3, 1)->>'wac_after', '1.333334', 'the next receipt builds on the stored value: (3 × 1.666667 + 3) / 6');
SELECT pg_temp.item(:'a_test', 'R-2') AS r2 \gset
SELECT pg_temp.receipt(:'a_test', :'r2', 1, 0.000001) \g /dev/null
SELECT is(pg_temp.receipt(:'a_test', :'r2', 1, 0)->>'wac_after', '0.000001', 'an exact half (0.0000005) rounds away from zero');
SELECT pg_temp.item(:'a_test', 'R-3') AS r3 \gset
SELECT pg_temp.receipt(:'a_test', :'r3', 2, 0.000001) \g /dev/null
SELECT is(pg_temp.receipt(:'a_test', :'r3', 1, 0)->>'wac_after', '0.000001', '0.000002 / 3 = 0.00000066… rounds up to 0.000001');
SELECT pg_temp.item(:'a_test', 'R-4') AS r4 \gset
SELECT pg_temp.receipt(:'a_test', :'r4', 999999999999999, 999999.999999) \g /dev/null
SELECT is(pg_temp.receipt(:'a_test', :'r4', 1, 0.000001)->>'wac_after',
          '999999.999999', 'large quantities and costs stay exact: 999999.999998999000…0002 rounds up');
SELECT is(pg_temp.stock(:'a_test', :'r4')->>'on_hand', '1000000000000000', 'on-hand is never rounded');

-- Stock at or below zero (negative_stock "allow", the default).
SELECT pg_temp.item(:'a_test', 'N-1') AS n1 \gset
SELECT pg_temp.issue(:'a_test', :'n1', 5) AS neg \gset
SELECT is(:'neg'::json->>'on_hand_after', '-5', 'a sale beyond on-hand is recorded (the till already sold it)');
SELECT is(:'neg'::json->>'unit_cost', '0.00', 'an item never received has WAC 0');
SELECT is(pg_temp.receipt(:'a_test', :'n1', 3, 4)->>'wac_after', '4.00', 'a receipt with on-hand -5 takes the receipt''s cost');
SELECT is(pg_temp.receipt(:'a_test', :'n1', 4, 10)->>'wac_after', '10.00', 'still at -2 before it: the receipt''s cost again');
SELECT is(pg_temp.receipt(:'a_test', :'n1', 2, 6)->>'wac_after', '8.00', 'with on-hand 2 > 0 the average applies: (20 + 12) / 4');
SELECT pg_temp.issue(:'a_test', :'n1', 4) \g /dev/null
SELECT is(pg_temp.receipt(:'a_test', :'n1', 5, 9)->>'wac_after', '9.00', 'at exactly zero the receipt''s cost becomes the WAC');
SELECT is(pg_temp.stock(:'a_test', :'n1')->>'value', '45.00', 'value 5 × 9.00');
SELECT pg_temp.issue(:'a_test', :'n1', 7) \g /dev/null
SELECT is(pg_temp.stock(:'a_test', :'n1')->>'value', '-18.00', 'negative stock has a negative value at the WAC');

-- Reversal of a receipt takes the stock out at the current WAC (it does not rewrite WAC).
SELECT pg_temp.item(:'a_test', 'V-1') AS v1 \gset
SELECT pg_temp.receipt(:'a_test', :'v1', 10, 5) \g /dev/null
SELECT pg_temp.receipt(:'a_test', :'v1', 10, 7) AS vr \gset
SELECT body AS vrev FROM pg_temp.api(:'a_test', 'POST', '/movements/' || (:'vr'::json->>'id') || '/reverse', '{}', 'vrev') \gset
SELECT is(:'vrev'::json->>'qty' || ' @ ' || (:'vrev'::json->>'unit_cost'), '-10 @ 6.00', 'the reversal of a receipt leaves at the WAC');
SELECT is(:'vrev'::json->>'wac_after' || ' / ' || (:'vrev'::json->>'on_hand_after'), '6.00 / 10', 'WAC unchanged, on-hand restored');

-- negative_stock "reject": 409 insufficient_stock and nothing recorded.
SELECT pg_temp.item(:'a_test', 'X-1', '{"negative_stock":"reject","reorder_point":1}') AS x1 \gset
SELECT pg_temp.receipt(:'a_test', :'x1', 3, 2) \g /dev/null
SELECT count(*) AS events_before FROM sk.events WHERE account_id = :'a_id' \gset
SELECT status AS rej_status, body AS rej FROM pg_temp.api(:'a_test', 'POST', '/movements',
       json_build_object('item_id', :'x1', 'qty', -4, 'type', 'sale')::text, 'rej-1') \gset
SELECT is(:rej_status, 409, 'a sale beyond on-hand of a reject item is 409');
SELECT is(:'rej'::json->>'code', 'insufficient_stock', 'insufficient_stock');
SELECT is(:'rej'::json->>'param', '/qty', 'naming /qty');
SELECT is((SELECT count(*)::int FROM sk.movements WHERE item_id = :'x1'), 1, 'no movement was recorded');
SELECT is((SELECT on_hand FROM sk.item_stock WHERE item_id = :'x1'), 3::numeric, 'on-hand is unchanged');
SELECT is((SELECT count(*)::int FROM sk.events WHERE account_id = :'a_id'), :events_before, 'and no event was written');
SELECT is((SELECT replayed FROM pg_temp.api(:'a_test', 'POST', '/movements',
          json_build_object('item_id', :'x1', 'qty', -4, 'type', 'sale')::text, 'rej-1')), true, 'the 409 is stored for replay');
SELECT is(pg_temp.issue(:'a_test', :'x1', 3)->>'on_hand_after', '0', 'selling exactly what is there is fine');
SELECT is(pg_temp.issue(:'a_test', :'x1', 1, 'adjustment')->>'code', 'insufficient_stock', 'a negative adjustment below zero is refused too');
SELECT pg_temp.receipt(:'a_test', :'x1', 5, 2) \g /dev/null
SELECT is(pg_temp.issue(:'a_test', :'x1', 1, 'sale', :'loc2')->>'code', 'insufficient_stock',
          'the rule holds per location: stock elsewhere does not count');
SELECT is(pg_temp.mv(:'a_test', json_build_object('item_id', :'x1', 'qty', 6, 'type', 'transfer', 'to_location_id', :'loc2'))->>'code',
          'insufficient_stock', 'a transfer cannot take more than the source holds');
SELECT is(pg_temp.mv(:'a_test', json_build_object('item_id', :'x1', 'qty', 5, 'type', 'transfer', 'to_location_id', :'loc2'))->>'qty',
          '-5', 'but may take all of it');

-- Backends cache an item's rules (ledger/catalog_facts); a change applies to the next
-- movement, through the API or from SQL.
SELECT pg_temp.item(:'a_test', 'X-2') AS x2 \gset
SELECT pg_temp.receipt(:'a_test', :'x2', 2, 1) \g /dev/null
SELECT is(pg_temp.issue(:'a_test', :'x2', 1)->>'on_hand_after', '1', 'an item that allows negative stock (its rules now cached)');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'PATCH', '/items/' || :'x2', '{"negative_stock":"reject"}', 'x2-reject')), 200,
          'PATCH it to reject');
SELECT is(pg_temp.issue(:'a_test', :'x2', 2)->>'code', 'insufficient_stock', 'the next sale beyond on-hand is refused at once');
UPDATE sk.items SET negative_stock = 'allow' WHERE id = :'x2';
SELECT is(pg_temp.issue(:'a_test', :'x2', 2)->>'on_hand_after', '-1', 'and a DBA''s change back to allow applies at once too');
SELECT pg_temp.stock(:'a_test', :'x2') \g /dev/null
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'PATCH', '/items/' || :'x2', '{"reorder_point":7}', 'x2-rp')), 200, 'PATCH its reorder point');
UPDATE sk.items SET sku = 'X-2-RENAMED' WHERE id = :'x2';
SELECT id AS loc_default FROM sk.locations WHERE account_id = :'a_id' AND NOT livemode AND is_default \gset
SELECT is(pg_temp.stock(:'a_test', :'x2')::jsonb - 'as_of',
          jsonb_build_object('object', 'stock', 'item_id', :'x2', 'sku', 'X-2-RENAMED', 'livemode', false, 'on_hand', '-1',
                             'wac', '1.00', 'value', '-1.00', 'currency', 'USD', 'reorder_point', '7',
                             'locations', jsonb_build_array(jsonb_build_object('location_id', :'loc_default', 'on_hand', '-1')), 'lots', '[]'::jsonb),
          'the stock object shows both changes at once (the item''s facts are cached per backend)');

-- Money is shown in the currency's minor unit.
SELECT sk.create_account('Yen shop', 'JPY')::json->>'test_secret_key' AS jpy_key \gset
SELECT pg_temp.item(:'jpy_key', 'J-1') AS j1 \gset
SELECT pg_temp.receipt(:'jpy_key', :'j1', 3, 100.5) \g /dev/null
SELECT is(pg_temp.stock(:'jpy_key', :'j1')->>'value' || ' ' || (pg_temp.stock(:'jpy_key', :'j1')->>'currency'), '302 JPY',
          'JPY values have no decimals (301.5 rounds to 302)');
-- Backends cache an account's currency; a DBA's change to it applies to the next read.
UPDATE sk.accounts SET currency = 'KWD' WHERE name = 'Yen shop';
SELECT is(pg_temp.stock(:'jpy_key', :'j1')->>'value' || ' ' || (pg_temp.stock(:'jpy_key', :'j1')->>'currency'), '301.500 KWD',
          'a changed currency is read at once, not from the backend''s cache');

SELECT * FROM finish();
ROLLBACK;
