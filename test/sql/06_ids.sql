-- Prefixed ULIDs: format, monotonicity within a backend, time readable off the id.
\ir lib/setup.sql
SELECT plan(6);

SELECT (body->>'id') AS item_id FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"ID-1","name":"x"}', 'id1') \gset
SELECT matches(:'item_id'::text, '^itm_[0-9A-HJKMNP-TV-Z]{26}$', 'item ids are itm_ + 26 Crockford base32 characters');
SELECT matches(:'a_id'::text, '^acct_[0-9A-HJKMNP-TV-Z]{26}$', 'account ids are acct_ + ULID');
SELECT is((SELECT bool_and(id > prev) FROM (
             SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM (SELECT n, sk.new_id('evt') AS id FROM generate_series(1, 5000) n) s
           ) t WHERE prev IS NOT NULL), true, '5000 ids from one backend are strictly increasing');
SELECT cmp_ok(abs(extract(epoch FROM sk.id_time(:'item_id') - now()))::numeric, '<', 5::numeric,
              'the creation time reads off the id');
SELECT is(sk.id_time('itm_not-a-ulid'), NULL, 'a malformed id has no time');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'GET', '/items/itm_lowercase0000000000000000000')), 404,
          'a malformed id is simply not found');

SELECT * FROM finish();
ROLLBACK;
