-- Idempotency-Key semantics of DESIGN.md section 4, through the entry function.
\ir lib/setup.sql
SELECT plan(17);

SELECT raw AS first_body FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-1","name":"One","metadata":{"a":"1","b":"2"}}', 'idem-1') \gset
SELECT is((SELECT raw FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-1","name":"One","metadata":{"a":"1","b":"2"}}', 'idem-1')),
          :'first_body', 'a retry returns the stored body byte for byte');
SELECT is((SELECT replayed FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-1","name":"One","metadata":{"a":"1","b":"2"}}', 'idem-1')),
          true, 'and says it was replayed');
SELECT is((SELECT raw FROM pg_temp.api(:'a_test', 'POST', '/items', E'{ "metadata": {"b":"2", "a":"1"},\n "name":"One", "sku":"I-1" }', 'idem-1')),
          :'first_body', 'key order and whitespace do not make a different request');
SELECT is((SELECT count(*)::int FROM sk.items WHERE sku = 'I-1'), 1, 'one item, however often it was sent');
SELECT is((SELECT count(*)::int FROM sk.events WHERE type = 'item.created' AND account_id = :'a_id'), 1, 'one item.created event');

SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-1","name":"Other"}', 'idem-1')),
          'idempotency_key_reused', 'the same key with another body is 409 idempotency_key_reused');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/locations', '{"sku":"I-1","name":"One"}', 'idem-1')),
          409, 'the same key on another path is 409');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-2","name":"Two"}')),
          'idempotency_key_missing', 'a mutation without a key is 400 idempotency_key_missing');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-2","name":"Two"}', repeat('k', 256))),
          'idempotency_key_invalid', 'a 256-character key is refused');
SELECT is((SELECT status FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-2","name":"Two"}', repeat('k', 255))),
          200, 'a 255-character key is accepted');

-- Validation failures inside the handler are stored and replayed too.
SELECT is((SELECT body->>'param' FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-3"}', 'idem-bad')),
          '/name', 'a validation error names the field');
SELECT is((SELECT replayed FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-3"}', 'idem-bad')),
          true, 'and is replayed on retry');
SELECT is((SELECT body->>'code' FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-1","name":"Dup"}', 'idem-dup')),
          'sku_already_exists', 'a duplicate SKU is 409 sku_already_exists');
SELECT is((SELECT count(*)::int FROM sk.events WHERE type = 'item.created' AND account_id = :'a_id'), 2,
          'the refused duplicate left no event behind');

-- The key is scoped to (account, mode).
SELECT is((SELECT replayed FROM pg_temp.api(:'a_live', 'POST', '/items', '{"sku":"I-1","name":"One","metadata":{"a":"1","b":"2"}}', 'idem-1')),
          false, 'the same key in live mode is a new request');

-- Retention: keys older than sk.idempotency_retention are pruned.
UPDATE sk.idempotency_keys SET created_at = now() - interval '31 days' WHERE key = 'idem-1';
SELECT is(sk.prune_idempotency_keys(), 2::bigint, 'keys past the 30-day retention are pruned (both modes)');
SELECT is((SELECT replayed FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"I-9","name":"Nine"}', 'idem-1')),
          false, 'a pruned key can be used again');

SELECT * FROM finish();
ROLLBACK;
