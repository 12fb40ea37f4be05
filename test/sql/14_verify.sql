-- The balance cache equals the log (issue 3, item 3): after a randomized run of
-- thousands of movements (batches, single calls, transfers, lots, reversals, a
-- reject-negative item) sk.verify_balances() is empty, every WAC matches an independent
-- recomputation, and sk.rebuild_balances() repairs a damaged cache.
\ir lib/setup.sql
SELECT plan(21);

SELECT setseed(0.4242);
SELECT (body->>'id') AS loc2 FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"name":"North"}', 'l2') \gset
SELECT (body->>'id') AS loc3 FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"name":"South"}', 'l3') \gset
CREATE TEMP TABLE ctx AS
SELECT :'a_test'::text AS key, :'a_id'::text AS account,
       ARRAY[(SELECT id FROM sk.locations WHERE account_id = :'a_id' AND NOT livemode AND is_default), :'loc2', :'loc3'] AS locs,
       ARRAY(SELECT (a.body->>'id') FROM generate_series(1, 4) g,
             LATERAL pg_temp.api(:'a_test', 'POST', '/items', json_build_object('sku', 'RND-' || g, 'name', 'Random ' || g,
                                 'reorder_point', g * 10, 'track_lots', g = 4)::text, 'item-' || g) a ORDER BY g) AS items,
       (SELECT a.body->>'id' FROM pg_temp.api(:'a_test', 'POST', '/items',
               '{"sku":"RND-REJECT","name":"Strict","negative_stock":"reject","reorder_point":5}', 'item-r') a) AS strict_item;

-- One random, valid movement request (signs by type; lots for the lot-tracked item).
CREATE FUNCTION pg_temp.random_movement(item text, allow_transfer boolean DEFAULT true) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  c ctx;
  t float := random();
  q numeric := 1 + floor(random() * 20);
  lot_no int := 1 + floor(random() * 5)::int;
  lot jsonb;
  m jsonb;
BEGIN
  SELECT * INTO c FROM ctx;
  IF random() < 0.3 THEN q := q + round(random()::numeric, 3); END IF;
  lot := CASE WHEN item = c.items[4]
              THEN jsonb_build_object('lot', jsonb_build_object('code', 'LOT-' || lot_no,
                                      'expires_on', ('2030-01-01'::date + lot_no * 30)::text)) ELSE '{}' END;
  IF t < 0.30 THEN
    m := jsonb_build_object('type', 'receipt', 'qty', q, 'unit_cost', round((random() * 100)::numeric, floor(random() * 5)::int)) || lot;
  ELSIF t < 0.62 THEN
    m := jsonb_build_object('type', 'sale', 'qty', -q);
  ELSIF t < 0.72 THEN
    m := jsonb_build_object('type', 'return', 'qty', q) || lot;
  ELSIF t < 0.80 THEN
    m := jsonb_build_object('type', 'adjustment', 'qty', q, 'reason', 'found') || lot;
  ELSIF t < 0.90 OR NOT allow_transfer THEN
    m := jsonb_build_object('type', 'adjustment', 'qty', -q, 'reason', (ARRAY['damaged', 'lost', 'expired'])[1 + floor(random() * 3)::int]);
  ELSE
    m := jsonb_build_object('type', 'transfer', 'qty', q, 'to_location_id', c.locs[1 + floor(random() * 3)::int]);
  END IF;
  RETURN m || jsonb_build_object('item_id', item, 'location_id', c.locs[1 + floor(random() * 3)::int]);
END
$$;

CREATE TEMP TABLE responses (kind text, status integer, code text);
DO $run$
DECLARE
  c ctx;
  batch jsonb;
  r record;
BEGIN
  SELECT * INTO c FROM ctx;
  -- 8 batches of 400 over the items that allow negative stock (a transfer to its own
  -- source is skipped by the generator's caller: those elements are regenerated).
  FOR b IN 1..8 LOOP
    SELECT jsonb_agg(m) INTO batch FROM (
      SELECT m FROM generate_series(1, 600) g,
             LATERAL pg_temp.random_movement(c.items[1 + floor(random() * 4)::int]) m
       WHERE m->>'type' <> 'transfer' OR m->>'location_id' <> m->>'to_location_id' LIMIT 400) s;
    INSERT INTO responses SELECT 'batch', a.status, a.body->>'code'
      FROM pg_temp.api(c.key, 'POST', '/movements/batch', jsonb_build_object('movements', batch)::text, 'batch-' || b) a;
  END LOOP;
  -- 300 single calls, a third of them on the reject-negative item.
  FOR i IN 1..300 LOOP
    INSERT INTO responses SELECT 'single', a.status, a.body->>'code'
      FROM pg_temp.api(c.key, 'POST', '/movements',
             pg_temp.random_movement(CASE WHEN i % 3 = 0 THEN c.strict_item ELSE c.items[1 + floor(random() * 4)::int] END, false)::text,
             'single-' || i) a;
  END LOOP;
  -- 60 reversals of random movements.
  FOR r IN SELECT id FROM sk.movements WHERE account_id = c.account AND reverses IS NULL ORDER BY random() LIMIT 60 LOOP
    INSERT INTO responses SELECT 'reverse', a.status, a.body->>'code'
      FROM pg_temp.api(c.key, 'POST', '/movements/' || r.id || '/reverse', '{}', 'rev-' || r.id) a;
  END LOOP;
END
$run$;

SELECT is((SELECT count(*)::int FROM responses WHERE kind = 'batch' AND status = 200), 8, 'all 8 batches of 400 were recorded');
SELECT is((SELECT count(*)::int FROM responses WHERE kind = 'single' AND status NOT IN (200, 409)), 0,
          'single movements were recorded or refused by the negative-stock rule');
SELECT is((SELECT count(*)::int FROM responses WHERE status = 409 AND code NOT IN ('insufficient_stock', 'movement_already_reversed')), 0,
          'the only refusals are insufficient_stock and double reversals');
SELECT cmp_ok((SELECT count(*)::int FROM responses WHERE kind = 'single' AND status = 409), '>', 0,
              'the reject-negative item did refuse some sales');
SELECT cmp_ok((SELECT count(*)::int FROM responses WHERE kind = 'reverse' AND status = 200), '>=', 40, 'most reversals went through');
SELECT cmp_ok((SELECT count(*)::int FROM sk.movements WHERE account_id = :'a_id'), '>=', 3500, 'thousands of movements in the log');
SELECT cmp_ok((SELECT count(*)::int FROM sk.movements WHERE account_id = :'a_id' AND transfer_id IS NOT NULL), '>', 200, 'including transfers');
SELECT cmp_ok((SELECT count(*)::int FROM sk.movements WHERE account_id = :'a_id' AND json_array_length(lots) > 1), '>', 0,
              'and FEFO allocations across several lots');

SELECT is_empty('SELECT * FROM sk.verify_balances()', 'verify_balances() finds no difference between the cache and the log');

-- An independent recomputation of on-hand and WAC from the log, movement by movement.
CREATE FUNCTION pg_temp.recompute_mismatches() RETURNS TABLE (movement_id text, what text) LANGUAGE plpgsql AS $$
DECLARE r record; cur text; oh numeric; w numeric; n numeric; d numeric;
BEGIN
  FOR r IN SELECT m.* FROM sk.movements m JOIN ctx ON m.account_id = ctx.account AND NOT m.livemode ORDER BY m.item_id, m.seq LOOP
    IF cur IS DISTINCT FROM r.item_id THEN cur := r.item_id; oh := 0; w := 0; END IF;
    IF r.type = 'receipt' AND r.qty > 0 AND r.reverses IS NULL THEN
      IF oh <= 0 THEN
        w := r.unit_cost;
      ELSE
        n := oh * w + r.qty * r.unit_cost;  -- never negative
        d := oh + r.qty;
        w := div(2 * n * 1000000 + d, 2 * d) * 0.000001;  -- half up to 6 decimals, exactly
      END IF;
    ELSIF r.unit_cost <> w THEN
      movement_id := r.id; what := 'unit_cost ' || r.unit_cost || ' <> wac ' || w; RETURN NEXT;
    END IF;
    oh := oh + r.qty;
    IF r.wac_after <> w THEN movement_id := r.id; what := 'wac_after ' || r.wac_after || ' <> ' || w; RETURN NEXT; END IF;
    IF r.on_hand_after <> oh - (CASE WHEN r.transfer_id IS NOT NULL AND r.qty < 0 THEN r.qty ELSE 0 END) THEN
      movement_id := r.id; what := 'on_hand_after'; RETURN NEXT;
    END IF;
  END LOOP;
END
$$;
SELECT is_empty('SELECT * FROM pg_temp.recompute_mismatches()', 'every movement''s wac_after, unit_cost and on_hand_after match a recomputation');

SELECT is_empty($$
  SELECT location_id FROM (
    SELECT m.location_id, sum(m.qty) OVER (PARTITION BY m.location_id ORDER BY m.seq) AS running
      FROM sk.movements m JOIN ctx ON m.item_id = ctx.strict_item) s
   WHERE running < 0
$$, 'the reject-negative item never went below zero at any location');
SELECT is_empty($$
  SELECT m.id FROM sk.movements m JOIN ctx ON m.account_id = ctx.account
   WHERE json_array_length(m.lots) > 0 AND (SELECT sum((a->>'qty')::numeric) FROM json_array_elements(m.lots) a) <> m.qty
$$, 'every lot allocation adds up to its movement''s quantity');
SELECT is_empty($$
  SELECT i.id FROM sk.items i JOIN ctx ON i.account_id = ctx.account AND NOT i.livemode
   WHERE (sk.stock_object(i)::jsonb - 'as_of') <> (sk.stock_object_at(i, NULL)::jsonb - 'as_of')
$$, 'for every item the stock object from the cache equals the one derived from the log');
SELECT is((SELECT count(*)::int FROM sk.events e JOIN ctx ON e.account_id = ctx.account WHERE e.type = 'movement.recorded'),
          (SELECT count(*)::int FROM sk.movements m JOIN ctx ON m.account_id = ctx.account), 'one movement.recorded event per movement');

-- A damaged cache is found and repaired.
SELECT item_id AS damaged_item, location_id AS damaged_loc, coalesce(lot_id, '') AS damaged_lot, on_hand AS damaged_on_hand
  FROM sk.stock_balances WHERE account_id = :'a_id' ORDER BY item_id, location_id LIMIT 1 \gset
UPDATE sk.stock_balances SET on_hand = on_hand + 1
 WHERE item_id = :'damaged_item' AND location_id = :'damaged_loc' AND lot_id IS NOT DISTINCT FROM nullif(:'damaged_lot', '');
UPDATE sk.item_stock SET wac = wac + 0.01 WHERE item_id = (SELECT items[2] FROM ctx);
SELECT set_eq('SELECT kind, item_id FROM sk.verify_balances()',
              format('VALUES (%L, %L), (%L, %L)', 'balance', :'damaged_item', 'item_wac', (SELECT items[2] FROM ctx)),
              'verify_balances() reports exactly the two damaged values');
SELECT is((SELECT cached - derived FROM sk.verify_balances() WHERE kind = 'balance'), 1::numeric, 'with the cached and derived values');
SELECT cmp_ok(sk.rebuild_balances(), '>', 0::bigint, 'rebuild_balances() rewrites the cache');
SELECT is_empty('SELECT * FROM sk.verify_balances()', 'after which verify_balances() is empty again');

-- An item's movement ids rise with seq (its history pages along seq); one out of that
-- order is reported. A superuser may rewrite the log; nobody else can.
SELECT m.id AS first_id, m.item_id AS ordered_item, (SELECT n.id FROM sk.movements n WHERE n.item_id = m.item_id AND n.seq = 2) AS second_id
  FROM sk.movements m WHERE m.account_id = :'a_id' AND m.seq = 1
   AND EXISTS (SELECT FROM sk.movements n WHERE n.item_id = m.item_id AND n.seq = 2) ORDER BY m.item_id LIMIT 1 \gset
UPDATE sk.movements SET id = 'mov_7ZZZZZZZZZZZZZZZZZZZZZZZZZ' WHERE id = :'first_id';
SELECT set_eq('SELECT kind, movement_id FROM sk.verify_balances()',
              format('VALUES (%L, %L)', 'movement_order', :'second_id'),
              'verify_balances() reports a movement whose id does not rise with its item''s seq');
UPDATE sk.movements SET id = :'first_id' WHERE id = 'mov_7ZZZZZZZZZZZZZZZZZZZZZZZZZ';

-- Both are DBA functions.
SELECT ok(NOT has_function_privilege('sk_owner', 'sk.verify_balances()', 'EXECUTE')
          AND NOT has_function_privilege('sk_api', 'sk.verify_balances()', 'EXECUTE')
          AND NOT has_function_privilege('sk_reporting', 'sk.verify_balances()', 'EXECUTE'),
          'verify_balances() is for superusers only');
SELECT ok(NOT has_function_privilege('sk_owner', 'sk.rebuild_balances()', 'EXECUTE')
          AND NOT has_function_privilege('sk_api', 'sk.rebuild_balances()', 'EXECUTE'),
          'rebuild_balances() is for superusers only');

SELECT * FROM finish();
ROLLBACK;
