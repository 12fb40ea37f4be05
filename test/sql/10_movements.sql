-- Movements through the API (issue 3, item 1): types and signs, defaults, reason codes,
-- transfers, lots, reversal, batch atomicity, and the errors of each rule.
\ir lib/setup.sql
SELECT plan(71);

-- mv(): records one movement with a fresh idempotency key and returns the response.
CREATE FUNCTION pg_temp.mv(key text, body json)
RETURNS TABLE (status integer, body json) LANGUAGE sql AS $$
  SELECT a.status, a.body FROM pg_temp.api(key, 'POST', '/movements', body::text, gen_random_uuid()::text) a
$$;

SELECT (body->>'id') AS item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"M-1","name":"Widget"}', 'i1') \gset
SELECT (body->>'id') AS loc2 FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"name":"Store 2","type":"store"}', 'l2') \gset
SELECT id AS loc1 FROM sk.locations WHERE account_id = :'a_id' AND NOT livemode AND is_default \gset

-- Receipt: the default location, the default reason, unit_cost recorded as given.
SELECT body AS r1 FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 10, 'type', 'receipt', 'unit_cost', '5.00')) \gset
SELECT is(:'r1'::json->>'object', 'movement', 'a receipt answers with a movement object');
SELECT is(:'r1'::json->>'location_id', :'loc1', 'location_id defaults to the default location');
SELECT is(:'r1'::json->>'reason', 'purchase_received', 'a receipt''s reason defaults to purchase_received');
SELECT is(:'r1'::json->>'qty', '10', 'qty is a decimal string');
SELECT is(:'r1'::json->>'unit_cost', '5.00', 'unit_cost as received');
SELECT is(:'r1'::json->>'on_hand_after', '10', 'on_hand_after is the running total');
SELECT is(:'r1'::json->>'wac_after', '5.00', 'wac_after is the receipt cost on empty stock');
SELECT ok((:'r1'::json->>'id') ~ '^mov_[0-9A-HJKMNP-TV-Z]{26}$', 'movement ids are mov_ ULIDs');
SELECT is((SELECT string_agg(k, ',') FROM json_object_keys(:'r1'::json) k),
          'id,object,livemode,created_at,item_id,location_id,type,qty,reason,unit_cost,lot_id,lots,transfer_id,reverses,reference,metadata,on_hand_after,wac_after',
          'the movement object has the documented fields in order');

-- The seed request of appendix B works as is.
SELECT body AS s1 FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -2, 'type', 'sale', 'reason', 'order_fulfilled')) \gset
SELECT is(:'s1'::json->>'qty', '-2', 'the seed sale is recorded');
SELECT is(:'s1'::json->>'unit_cost', '5.00', 'a sale records the WAC as its cost');
SELECT is(:'s1'::json->>'on_hand_after', '8', 'and leaves 8 on hand');

-- Return, adjustment in both directions, reference and metadata.
SELECT is((SELECT body->>'reason' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 1, 'type', 'return'))),
          'customer_return', 'a return''s reason defaults to customer_return');
SELECT is((SELECT body->>'on_hand_after' FROM pg_temp.mv(:'a_test',
          json_build_object('item_id', :'item', 'qty', '-1.5', 'type', 'adjustment', 'reason', 'damaged'))), '7.5',
          'a negative adjustment with a decimal quantity');
SELECT is((SELECT body->>'on_hand_after' FROM pg_temp.mv(:'a_test',
          json_build_object('item_id', :'item', 'qty', '0.5', 'type', 'adjustment', 'reason', 'found', 'reference', 'cnt-7',
                            'metadata', json_build_object('by', 'ana')))), '8', 'a positive adjustment');
SELECT is((SELECT reference || '/' || (metadata->>'by') FROM sk.movements WHERE account_id = :'a_id' AND qty = 0.5),
          'cnt-7/ana', 'reference and metadata are stored');

-- Sign rules: a wrong sign is 400 naming /qty.
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 2, 'type', 'sale'))),
          '/qty', 'a positive sale is refused, naming /qty');
SELECT is((SELECT status FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 2, 'type', 'sale'))),
          400, 'with status 400');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -2, 'type', 'receipt', 'unit_cost', 1))),
          '/qty', 'a negative receipt is refused');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -2, 'type', 'return'))),
          '/qty', 'a negative return is refused');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test',
          json_build_object('item_id', :'item', 'qty', -2, 'type', 'transfer', 'to_location_id', :'loc2'))),
          '/qty', 'a negative transfer is refused');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 0, 'type', 'adjustment', 'reason', 'lost'))),
          '/qty', 'a zero quantity is refused');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', '1e2', 'type', 'return'))),
          '/qty', 'an exponent is refused (decimals are exact)');

-- Field rules.
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 2, 'type', 'receipt'))),
          '/unit_cost', 'a receipt needs unit_cost');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -2, 'type', 'sale', 'unit_cost', 3))),
          '/unit_cost', 'only receipts take unit_cost');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 2, 'type', 'adjustment'))),
          '/reason', 'an adjustment must name its reason');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 2, 'type', 'transfer'))),
          '/to_location_id', 'a transfer needs to_location_id');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test',
          json_build_object('item_id', :'item', 'qty', 2, 'type', 'transfer', 'to_location_id', :'loc1'))),
          '/to_location_id', 'a transfer to its own source is refused');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 2, 'type', 'return', 'to_location_id', :'loc2'))),
          '/to_location_id', 'only transfers take to_location_id');
SELECT is((SELECT body->>'code' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale', 'reason', 'no_such_reason'))),
          'reason_unknown', 'an unknown reason code is refused');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale', 'reason', 'no_such_reason'))),
          '/reason', 'naming /reason');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale', 'colour', 'red'))),
          '/colour', 'unknown fields are refused');

-- References that do not resolve: 404, another tenant's exactly like a missing one.
SELECT (body->>'id') AS item_b FROM pg_temp.api(:'b_test', 'POST', '/items', '{"sku":"M-1","name":"B widget"}', 'ib') \gset
SELECT is((SELECT status FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item_b', 'qty', -1, 'type', 'sale'))),
          404, 'another tenant''s item is 404');
SELECT is((SELECT (body->>'code') || (body->>'param') FROM pg_temp.mv(:'a_test', json_build_object('item_id', 'itm_01ARZ3NDEKTSV4RRFFQ69G5FAV', 'qty', -1, 'type', 'sale'))),
          'resource_missing/item_id', 'an unknown item is resource_missing on /item_id');
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test',
          json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale', 'location_id', 'loc_01ARZ3NDEKTSV4RRFFQ69G5FAV'))),
          '/location_id', 'an unknown location is 404 on /location_id');
SELECT is((SELECT count(*)::int FROM sk.movements WHERE account_id = :'b_id'), 0, 'nothing was recorded for tenant B');

-- Account-defined reason codes.
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/reason_codes', '{"code":"shrinkage","description":"Shop theft"}', 'rc1')),
          200, 'an account defines a reason code');
SELECT is((SELECT body->>'reason' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -1, 'type', 'adjustment', 'reason', 'shrinkage'))),
          'shrinkage', 'and movements may use it');
SELECT is((SELECT body->>'code' FROM pg_temp.mv(:'b_test', json_build_object('item_id', :'item_b', 'qty', 1, 'type', 'adjustment', 'reason', 'shrinkage'))),
          'reason_unknown', 'another account cannot');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/reason_codes', '{"code":"shrinkage"}', 'rc2')),
          'reason_code_already_exists', 'a code is defined once');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/reason_codes', '{"code":"damaged"}', 'rc3')),
          409, 'default codes cannot be redefined');
SELECT is((SELECT body->>'param' FROM pg_temp.api(:'a_test', 'POST', '/reason_codes', '{"code":"Not Snake"}', 'rc4')),
          '/code', 'codes are snake_case');
SELECT is((SELECT string_agg(d->>'code', ',') FROM pg_temp.api(:'a_test', 'GET', '/reason_codes', NULL, NULL, 'limit=100') a,
                  json_array_elements(a.body->'data') d),
          'shrinkage,order_fulfilled,purchase_received,customer_return,supplier_return,damaged,expired,lost,found,count_variance,opening_balance,transfer',
          'the catalogue lists the account''s codes first, then the defaults');
SELECT is((SELECT count(*)::int FROM pg_temp.api(:'a_test', 'GET', '/reason_codes', NULL, NULL, 'limit=100') a,
                  json_array_elements(a.body->'data') d
            WHERE (SELECT status FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 1, 'type', 'adjustment', 'reason', d->>'code'))) = 200),
          12, 'every listed code is accepted by POST /movements');

-- Transfers: two legs, one transfer id, total unchanged.
SELECT sum(qty) AS before_total FROM sk.movements WHERE item_id = :'item' \gset
SELECT body AS t1 FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', 3, 'type', 'transfer', 'to_location_id', :'loc2')) \gset
SELECT is(:'t1'::json->>'qty', '-3', 'a transfer answers with its source leg');
SELECT ok((:'t1'::json->>'transfer_id') ~ '^trf_', 'which carries a trf_ transfer id');
SELECT is((SELECT array_agg(location_id || ':' || qty ORDER BY seq)::text FROM sk.movements WHERE transfer_id = :'t1'::json->>'transfer_id'),
          ARRAY[:'loc1' || ':-3', :'loc2' || ':3']::text, 'two legs: out of the source, into the destination');
SELECT is((SELECT array_agg(DISTINCT on_hand_after) FROM sk.movements WHERE transfer_id = :'t1'::json->>'transfer_id'),
          ARRAY[:'before_total'::numeric], 'both legs show the unchanged total');
SELECT is((SELECT json_array_length(body->'data') FROM pg_temp.api(:'a_test', 'GET', '/movements', NULL, NULL, 'transfer_id=' || (:'t1'::json->>'transfer_id'))),
          2, 'GET /movements?transfer_id= lists both legs');
SELECT is((SELECT count(*)::int FROM sk.events WHERE account_id = :'a_id' AND type = 'movement.recorded'
             AND data->'object'->>'transfer_id' = :'t1'::json->>'transfer_id'), 2, 'one movement.recorded event per leg');

-- Reversal: once; the opposite quantity at the same location.
SELECT body AS rv FROM pg_temp.api(:'a_test', 'POST', '/movements/' || (:'s1'::json->>'id') || '/reverse', '{}', 'rev1') \gset
SELECT is(:'rv'::json->>'reverses', :'s1'::json->>'id', 'the reversal names what it reverses');
SELECT is(:'rv'::json->>'qty', '2', 'with the opposite quantity');
SELECT is(:'rv'::json->>'type' || '/' || (:'rv'::json->>'reason'), 'sale/order_fulfilled', 'of the same type and reason');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/movements/' || (:'s1'::json->>'id') || '/reverse', '{}', 'rev2')),
          'movement_already_reversed', 'a second reversal is 409 movement_already_reversed');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/movements/' || (:'rv'::json->>'id') || '/reverse', '{}', 'rev3')),
          'movement_is_reversal', 'a reversal cannot itself be reversed');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/movements/mov_01ARZ3NDEKTSV4RRFFQ69G5FAV/reverse', '{}', 'rev4')),
          404, 'reversing an unknown movement is 404');
SELECT body AS trv FROM pg_temp.api(:'a_test', 'POST', '/movements/' || (:'t1'::json->>'id') || '/reverse', '{"reason":"transfer","reference":"undo"}', 'rev5') \gset
SELECT is((SELECT array_agg(location_id || ':' || qty ORDER BY seq)::text FROM sk.movements WHERE transfer_id = :'trv'::json->>'transfer_id'),
          ARRAY[:'loc2' || ':-3', :'loc1' || ':3']::text, 'reversing a transfer reverses both legs, out of the destination first');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/movements/' ||
             (SELECT id FROM sk.movements WHERE transfer_id = :'t1'::json->>'transfer_id' AND qty > 0) || '/reverse', '{}', 'rev6')),
          'movement_already_reversed', 'after which neither leg can be reversed again');

-- Retrieval and list filters.
SELECT is((SELECT body->>'id' FROM pg_temp.api(:'a_test', 'GET', '/movements/' || (:'r1'::json->>'id'))), :'r1'::json->>'id',
          'GET /movements/{id}');
SELECT is((SELECT status FROM pg_temp.api(:'b_test', 'GET', '/movements/' || (:'r1'::json->>'id'))), 404,
          'another tenant''s movement is 404');
SELECT is((SELECT count(*)::int FROM pg_temp.api(:'a_test', 'GET', '/movements', NULL, NULL, 'type=transfer&limit=100') a,
                  json_array_elements(a.body->'data') d WHERE d->>'type' = 'transfer'), 4, 'GET /movements?type= filters');
SELECT is((SELECT count(*)::int FROM pg_temp.api(:'a_test', 'GET', '/movements', NULL, NULL, 'location_id=' || :'loc2' || '&limit=100') a,
                  json_array_elements(a.body->'data') d), 2, 'GET /movements?location_id= filters');
SELECT is((SELECT count(*)::int FROM pg_temp.api(:'a_test', 'GET', '/movements', NULL, NULL,
                  'item_id=' || :'item' || '&created_gte=' || (:'r1'::json->>'created_at') || '&created_lt=' || (:'s1'::json->>'created_at')) a,
                  json_array_elements(a.body->'data') d), 1, 'created_gte / created_lt bound the window');

-- Archived items take no new movements.
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'DELETE', '/items/' || :'item', NULL, 'arch')), 200, 'archive the item');
SELECT is((SELECT body->>'code' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale'))),
          'item_archived', 'an archived item refuses movements with 409 item_archived');

-- Lots: receipts of a lot-tracked item name the lot, issues are allocated FEFO.
SELECT (body->>'id') AS lot_item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"L-1","name":"Milk","track_lots":true}', 'il') \gset
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'lot_item', 'qty', 5, 'type', 'receipt', 'unit_cost', 1))),
          '/lot', 'a lot-tracked receipt must name its lot');
SELECT body AS lr1 FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'lot_item', 'qty', 5, 'type', 'receipt', 'unit_cost', 1,
                                   'lot', json_build_object('code', 'B2', 'expires_on', '2031-02-01'))) \gset
SELECT body AS lr2 FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'lot_item', 'qty', 4, 'type', 'receipt', 'unit_cost', 1,
                                   'lot', json_build_object('code', 'B1', 'expires_on', '2031-01-01'))) \gset
SELECT ok((:'lr1'::json->>'lot_id') ~ '^lot_', 'the lot is created on first use');
SELECT body AS li FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'lot_item', 'qty', -6, 'type', 'sale')) \gset
SELECT is((SELECT string_agg((a->>'lot_id') || '=' || (a->>'qty'), ',') FROM json_array_elements(:'li'::json->'lots') a),
          (:'lr2'::json->>'lot_id') || '=-4,' || (:'lr1'::json->>'lot_id') || '=-2',
          'a sale without a lot is allocated first-expiry-first-out and the allocation is recorded');
SELECT is((SELECT body->>'code' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'lot_item', 'qty', 1, 'type', 'receipt', 'unit_cost', 1,
                                   'lot', json_build_object('code', 'B1', 'expires_on', '2031-06-01')))),
          'lot_expiry_mismatch', 'a known lot code with another expiry is refused');
SELECT (body->>'id') AS plain FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"P-1","name":"Plain"}', 'ip') \gset
SELECT is((SELECT body->>'param' FROM pg_temp.mv(:'a_test', json_build_object('item_id', :'plain', 'qty', 1, 'type', 'return',
                                   'lot_id', :'lr1'::json->>'lot_id'))),
          '/lot_id', 'an item that does not track lots refuses a lot');
SELECT is((SELECT (body->'lots')::jsonb FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'lot_item' || '/stock')),
          jsonb_build_array(jsonb_build_object('lot_id', :'lr1'::json->>'lot_id', 'code', 'B2', 'expires_on', '2031-02-01', 'on_hand', '3')),
          'the stock object shows the remaining lot (the emptied one is left out)');

SELECT * FROM finish();
ROLLBACK;
