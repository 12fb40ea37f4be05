-- Two accounts × two modes: no path lets one world see or change another's rows.
\ir lib/setup.sql
SELECT plan(32);

-- One item per world, same SKU everywhere: SKUs are unique per account and mode only.
SELECT (body->>'id') AS item_at FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"S-1","name":"A test"}', 'k1') \gset
SELECT (body->>'id') AS item_al FROM pg_temp.api(:'a_live', 'POST', '/items', '{"sku":"S-1","name":"A live"}', 'k1') \gset
SELECT (body->>'id') AS item_bt FROM pg_temp.api(:'b_test', 'POST', '/items', '{"sku":"S-1","name":"B test"}', 'k1') \gset
SELECT (body->>'id') AS item_bl FROM pg_temp.api(:'b_live', 'POST', '/items', '{"sku":"S-1","name":"B live"}', 'k1') \gset

SELECT is((SELECT count(DISTINCT id)::int FROM sk.items WHERE account_id IN (:'a_id', :'b_id')), 4,
          'four items in four worlds with one SKU and one idempotency key');

-- Lists: each key sees exactly its own item.
SELECT is((SELECT json_agg(d->>'id')::text FROM pg_temp.api(:'a_test', 'GET', '/items') a, json_array_elements(a.body->'data') d),
          json_build_array(:'item_at')::text, 'A test lists only its item');
SELECT is((SELECT json_agg(d->>'id')::text FROM pg_temp.api(:'a_live', 'GET', '/items') a, json_array_elements(a.body->'data') d),
          json_build_array(:'item_al')::text, 'A live lists only its item');
SELECT is((SELECT json_agg(d->>'id')::text FROM pg_temp.api(:'b_test', 'GET', '/items') a, json_array_elements(a.body->'data') d),
          json_build_array(:'item_bt')::text, 'B test lists only its item');
SELECT is((SELECT (body->>'livemode') FROM pg_temp.api(:'b_live', 'GET', '/items/' || :'item_bl')), 'true', 'B live reads its live item');

-- Reads, updates and deletes of another world's id answer 404, exactly like an unknown id.
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'item_bt')), 404, 'A cannot read B''s item');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'item_al')), 404, 'test key cannot read live item');
SELECT is((SELECT status FROM pg_temp.api(:'a_live', 'GET', '/items/' || :'item_at')), 404, 'live key cannot read test item');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'PATCH', '/items/' || :'item_bt', '{"name":"x"}', 'k2')), 404, 'A cannot update B''s item');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'DELETE', '/items/' || :'item_bt', NULL, 'k3')), 404, 'A cannot archive B''s item');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'GET', '/items/' || :'item_bt')),
          (SELECT body->>'code' FROM pg_temp.api(:'a_test', 'GET', '/items/itm_01ARZ3NDEKTSV4RRFFQ69G5FAV')),
          'another tenant''s item and a non-existent one give the same error code');
SELECT is((SELECT name FROM sk.items WHERE id = :'item_bt'), 'B test', 'B''s item is unchanged');
SELECT is((SELECT archived_at FROM sk.items WHERE id = :'item_bt'), NULL, 'B''s item is not archived');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'GET', '/items', NULL, NULL, 'sku=S-1')), 200, 'SKU filter works');
SELECT is((SELECT json_array_length(body->'data') FROM pg_temp.api(:'a_test', 'GET', '/items', NULL, NULL, 'sku=S-1')), 1,
          'SKU filter finds only this world''s item');

-- Locations and events follow the same rule.
SELECT is((SELECT json_array_length(body->'data') FROM pg_temp.api(:'b_test', 'GET', '/locations')), 1, 'B test sees only its default location');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'GET', '/locations/' ||
          (SELECT id FROM sk.locations WHERE account_id = :'b_id' AND NOT livemode))), 404, 'A cannot read B''s location');

-- Idempotency keys are per (account, mode): the same key in B replays nothing of A.
SELECT is((SELECT replayed FROM pg_temp.api(:'b_test', 'POST', '/items', '{"sku":"S-2","name":"B"}', 'shared-key')), false, 'B first use of a key');
SELECT is((SELECT replayed FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"S-2","name":"B"}', 'shared-key')), false,
          'A''s use of the same key is a fresh request');

-- The table owner is bound by RLS too (FORCE), and sees nothing without a tenant.
SET LOCAL ROLE sk_owner;
SELECT is((SELECT count(*)::int FROM sk.items), 0, 'the owner role sees no rows without a verified key');
SELECT is((SELECT count(*)::int FROM sk.api_keys), 0, 'the owner role sees no keys without a verified key');
SELECT throws_ok($$ INSERT INTO sk.items (account_id, livemode, sku, name) VALUES ('acct_x', false, 'X', 'x') $$,
                 '42501', NULL, 'the owner cannot insert rows for a tenant it is not acting for');
RESET ROLE;

-- The shim's role has no table access at all: only the entry function.
SET LOCAL ROLE sk_shim;
SELECT throws_ok($$ SELECT * FROM sk.items $$, '42501', NULL, 'the shim role cannot read tables');
SELECT throws_ok($$ SELECT sk.create_account('x') $$, '42501', NULL, 'the shim role cannot create accounts');
RESET ROLE;

-- Reporting roles see exactly their mapped tenant through RLS.
CREATE ROLE sk_test_reporter_a;
CREATE ROLE sk_test_reporter_none IN ROLE sk_reporting;
SELECT lives_ok(format($$ SELECT sk.grant_reporting('sk_test_reporter_a', %L, false) $$, :'a_id'), 'map a reporting role to A test');
-- RLS is a reporting role's only fence: roles that bypass it, and the extension's own, are refused.
CREATE ROLE sk_test_reporter_bypass BYPASSRLS;
SELECT throws_ok(format($$ SELECT sk.grant_reporting('sk_test_reporter_bypass', %L, false) $$, :'a_id'), '22023', NULL,
                 'a BYPASSRLS role cannot be a reporting role');
SELECT throws_ok(format($$ SELECT sk.grant_reporting('postgres', %L, false) $$, :'a_id'), '22023', NULL,
                 'a superuser cannot be a reporting role');
SELECT throws_ok(format($$ SELECT sk.grant_reporting('sk_owner', %L, false) $$, :'a_id'), '22023', NULL,
                 'the owner role cannot carry a tenant');
SET LOCAL ROLE sk_test_reporter_a;
SELECT is((SELECT array_agg(id)::text FROM sk.items), ARRAY[:'item_at', (SELECT max(id) FROM sk.items)]::text,
          'the reporting role sees A test items only');
SELECT is((SELECT count(*)::int FROM sk.items WHERE livemode OR account_id <> :'a_id'), 0, 'no other world leaks to the reporting role');
SELECT throws_ok($$ SELECT * FROM sk.api_keys $$, '42501', NULL, 'reporting roles cannot read key hashes');
RESET ROLE;
SET LOCAL ROLE sk_test_reporter_none;
SELECT is((SELECT count(*)::int FROM sk.items), 0, 'an unmapped reporting role sees nothing');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
