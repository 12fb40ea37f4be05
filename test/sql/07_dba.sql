-- The DBA functions for keys: create, revoke and roll from SQL (DESIGN.md section 8).
\ir lib/setup.sql
SELECT plan(8);

SELECT sk.create_api_key(:'a_id', false, 'restricted', ARRAY['read'], 'reporting agent') AS rk \gset
SELECT matches(:'rk'::jsonb->>'secret', '^rk_test_[0-9A-Za-z]{32}$', 'a restricted test key is issued once, in full');
SELECT is((SELECT status FROM pg_temp.api(:'rk'::jsonb->>'secret', 'GET', '/items')), 200, 'it reads');
SELECT is((SELECT status FROM pg_temp.api(:'rk'::jsonb->>'secret', 'POST', '/items', '{"sku":"D","name":"d"}', 'd1')), 403,
          'it cannot write');
SELECT throws_ok(format($$ SELECT sk.create_api_key(%L, true, 'restricted', ARRAY['write']) $$, :'a_id'), '22023', NULL,
                 'scopes must include read');

SELECT sk.roll_api_key(:'rk'::jsonb->>'id', '1 hour') AS rolled \gset
SELECT is((SELECT status FROM pg_temp.api(:'rolled'::jsonb->>'secret', 'GET', '/items')), 200, 'the rolled key works');
SELECT is((SELECT status FROM pg_temp.api(:'rk'::jsonb->>'secret', 'GET', '/items')), 200,
          'the old key keeps working during the grace period');
SELECT is(sk.revoke_api_key(:'rolled'::jsonb->>'id'), true, 'a key can be revoked');
SELECT is((SELECT status FROM pg_temp.api(:'rolled'::jsonb->>'secret', 'GET', '/items')), 401, 'a revoked key is refused');

SELECT * FROM finish();
ROLLBACK;
