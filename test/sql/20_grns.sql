-- Goods received notes with landed cost (issue 5): the worked examples of the issue,
-- WAC on top of existing stock, the state machine and the grn.completed payload.
\ir lib/setup.sql
SELECT plan(24);

CREATE FUNCTION pg_temp.item(key text, sku text, lots boolean DEFAULT false) RETURNS text LANGUAGE sql AS $$
  SELECT a.body->>'id' FROM pg_temp.api(key, 'POST', '/items',
    json_build_object('sku', sku, 'name', sku, 'track_lots', lots)::text, 'item-' || sku) a
$$;
CREATE FUNCTION pg_temp.grn(key text, body json) RETURNS json LANGUAGE sql AS $$
  SELECT a.body FROM pg_temp.api(key, 'POST', '/grns', body::text, gen_random_uuid()::text) a
$$;
CREATE FUNCTION pg_temp.act(key text, grn text, action text) RETURNS json LANGUAGE sql AS $$
  SELECT json_build_object('status', a.status, 'body', a.body)
    FROM pg_temp.api(key, 'POST', '/grns/' || grn || '/' || action, NULL, gen_random_uuid()::text) a
$$;

SELECT pg_temp.item(:'a_test', 'X') AS x, pg_temp.item(:'a_test', 'Y') AS y \gset

-- By value: 10 @ 10.00 and 30 @ 5.00 with 50.00 landed → values 100 and 150 → 20 and 30.
SELECT pg_temp.grn(:'a_test', json_build_object('supplier', 'Acme', 'reference', 'DN-1',
  'lines', json_build_array(json_build_object('item_id', :'x', 'qty', 10, 'unit_cost', '10.00'),
                            json_build_object('item_id', :'y', 'qty', 30, 'unit_cost', '5.00')),
  'landed_costs', json_build_array(json_build_object('description', 'Freight', 'amount', '50.00', 'allocation', 'value')))) AS g1 \gset
SELECT is(:'g1'::json->>'status', 'draft', 'a new GRN is a draft');
SELECT is((SELECT count(*)::int FROM sk.movements WHERE account_id = :'a_id'), 0, 'a draft posts nothing');
SELECT pg_temp.act(:'a_test', :'g1'::json->>'id', 'complete') AS c1 \gset
SELECT is((:'c1'::json->>'status')::int, 200, 'completing the draft succeeds');
SELECT is(:'c1'::json->'body'->>'status', 'completed', 'and the GRN is completed');
SELECT is((SELECT array_agg(l->>'landed_unit_cost' ORDER BY n)::text FROM json_array_elements(:'c1'::json->'body'->'lines') WITH ORDINALITY x(l, n)),
          '{12.00,6.00}', 'by value: landed unit costs 12.00 and 6.00');
SELECT is((SELECT array_agg(sk.cost_text(m.unit_cost) ORDER BY m.item_id = :'x' DESC) FROM sk.movements m WHERE m.account_id = :'a_id'),
          '{12.00,6.00}'::text[], 'one receipt per line at the landed unit cost');
SELECT is((SELECT array_agg(m.reason || '/' || m.reference ORDER BY m.id) FROM sk.movements m WHERE m.account_id = :'a_id'),
          '{purchase_received/DN-1,purchase_received/DN-1}'::text[], 'receipts carry reason purchase_received and the GRN reference');
SELECT is((SELECT body->>'wac' FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'x' || '/stock')), '12.00', 'WAC of X is 12.00');
SELECT is((SELECT count(*)::int FROM json_array_elements(:'c1'::json->'body'->'lines') l WHERE l->>'movement_id' LIKE 'mov_%'), 2,
          'each line names its movement');

-- By quantity: 10 and 30 of 40 share 50.00 as 12.50 and 37.50 → 1.25 per unit each.
SELECT pg_temp.item(:'a_test', 'X2') AS x2, pg_temp.item(:'a_test', 'Y2') AS y2 \gset
SELECT pg_temp.grn(:'a_test', json_build_object(
  'lines', json_build_array(json_build_object('item_id', :'x2', 'qty', 10, 'unit_cost', 10),
                            json_build_object('item_id', :'y2', 'qty', 30, 'unit_cost', 5)),
  'landed_costs', json_build_array(json_build_object('amount', 50, 'allocation', 'quantity'))))->>'id' AS g2 \gset
SELECT is((SELECT array_agg(l->>'landed_unit_cost' ORDER BY n)::text
             FROM json_array_elements(pg_temp.act(:'a_test', :'g2', 'complete')->'body'->'lines') WITH ORDINALITY x(l, n)),
          '{11.25,6.25}', 'by quantity: landed unit costs 11.25 and 6.25');

-- On top of existing stock: 10 @ 4.00 on hand, GRN 10 @ 6.00 + 20.00 landed → 8.00; WAC (40 + 80) / 20 = 6.00.
SELECT pg_temp.item(:'a_test', 'Z') AS z \gset
SELECT status FROM pg_temp.api(:'a_test', 'POST', '/movements',
  json_build_object('item_id', :'z', 'qty', 10, 'type', 'receipt', 'unit_cost', 4)::text, 'z-open') \gset
SELECT pg_temp.grn(:'a_test', json_build_object('lines', json_build_array(json_build_object('item_id', :'z', 'qty', 10, 'unit_cost', 6)),
  'landed_costs', json_build_array(json_build_object('amount', 20, 'allocation', 'value'))))->>'id' AS g3 \gset
SELECT pg_temp.act(:'a_test', :'g3', 'complete') AS c3 \gset
SELECT is((SELECT body->>'wac' FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'z' || '/stock')), '6.00',
          'WAC after a GRN on top of existing stock: (10 × 4.00 + 10 × 8.00) / 20 = 6.00');

-- Rounding: 10.00 over three equal lines is 3.33, 3.33 and the remainder 3.34 on the last.
SELECT pg_temp.item(:'a_test', 'R1') AS r1, pg_temp.item(:'a_test', 'R2') AS r2, pg_temp.item(:'a_test', 'R3') AS r3 \gset
SELECT pg_temp.grn(:'a_test', json_build_object('lines', json_build_array(
    json_build_object('item_id', :'r1', 'qty', 1, 'unit_cost', 1), json_build_object('item_id', :'r2', 'qty', 1, 'unit_cost', 1),
    json_build_object('item_id', :'r3', 'qty', 1, 'unit_cost', 1)),
  'landed_costs', json_build_array(json_build_object('amount', 10, 'allocation', 'value'))))->>'id' AS g4 \gset
SELECT is((SELECT array_agg(l->>'landed_unit_cost' ORDER BY n)::text
             FROM json_array_elements(pg_temp.act(:'a_test', :'g4', 'complete')->'body'->'lines') WITH ORDINALITY x(l, n)),
          '{4.33,4.33,4.34}', 'the rounding remainder of the landed cost goes to the last line');

-- The state machine.
SELECT is((pg_temp.act(:'a_test', :'g3', 'complete')->>'status')::int, 409, 'completing twice is 409');
SELECT is(pg_temp.act(:'a_test', :'g3', 'complete')->'body'->>'code', 'grn_not_draft', 'with code grn_not_draft');
SELECT is((pg_temp.act(:'a_test', :'g3', 'cancel')->>'status')::int, 409, 'cancelling a completed GRN is 409');
SELECT is((SELECT count(*)::int FROM sk.movements WHERE reference = :'g3' OR metadata->>'grn_id' = :'g3'), 1,
          'the second completion posted nothing');
SELECT pg_temp.grn(:'a_test', json_build_object('lines', json_build_array(json_build_object('item_id', :'x', 'qty', 1, 'unit_cost', 1))))->>'id' AS g5 \gset
SELECT is(pg_temp.act(:'a_test', :'g5', 'cancel')->'body'->>'status', 'cancelled', 'a draft can be cancelled');
SELECT is((pg_temp.act(:'a_test', :'g5', 'complete')->>'status')::int, 409, 'a cancelled GRN cannot be completed');

-- Validation: lot-tracked items need a lot; unknown items are 404 at their line.
SELECT pg_temp.item(:'a_test', 'LOTTED', true) AS lotted \gset
SELECT is((SELECT body->>'param' FROM pg_temp.api(:'a_test', 'POST', '/grns',
  json_build_object('lines', json_build_array(json_build_object('item_id', :'x', 'qty', 1, 'unit_cost', 1),
                                              json_build_object('item_id', :'lotted', 'qty', 1, 'unit_cost', 1)))::text, 'v1')),
          '/lines/1/lot', 'a lot-tracked line without a lot is refused at its lot');
SELECT is((SELECT body->>'param' FROM pg_temp.api(:'a_test', 'POST', '/grns',
  json_build_object('lines', json_build_array(json_build_object('item_id', 'itm_01ARZ3NDEKTSV4RRFFQ69G5FAV', 'qty', 1, 'unit_cost', 1)))::text, 'v2')),
          '/lines/0/item_id', 'an unknown item is refused at its line');

-- grn.completed carries quantities, lots and landed cost.
SELECT pg_temp.grn(:'a_test', json_build_object('lines', json_build_array(
    json_build_object('item_id', :'lotted', 'qty', 5, 'unit_cost', 2, 'lot', json_build_object('code', 'L-1', 'expires_on', '2030-01-31'))),
  'landed_costs', json_build_array(json_build_object('description', 'Duty', 'amount', '2.50', 'allocation', 'quantity'))))->>'id' AS g6 \gset
SELECT pg_temp.act(:'a_test', :'g6', 'complete') AS c6 \gset
SELECT data->'object' AS ev FROM sk.events WHERE account_id = :'a_id' AND type = 'grn.completed' AND data->'object'->>'id' = :'g6' \gset
SELECT is(:'ev'::json->'lines'->0->>'qty', '5', 'grn.completed carries the quantity');
SELECT is(:'ev'::json->'lines'->0->'lot'->>'code', 'L-1', 'the lot');
SELECT ok(:'ev'::json->'lines'->0->>'lot_id' LIKE 'lot_%', 'the created lot id');
SELECT is((:'ev'::json->'lines'->0->>'landed_unit_cost') || ' ' || (:'ev'::json->'landed_costs'->0->>'amount'), '2.50 2.50',
          'and the landed cost: 2.00 + 2.50 / 5 = 2.50 per unit');

SELECT * FROM finish();
ROLLBACK;
