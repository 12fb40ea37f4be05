-- A posting writes its rows without a statement (pg/tenant_writes): each row carries the
-- verified tenant, the objects answered are rendered from the rows written, a balance
-- keyed with a NULL lot is found again and updated, and a table the writer cannot write
-- whole (a column it does not name, a trigger it would skip) is refused, not half-written.
\ir lib/setup.sql
SELECT plan(15);

SELECT (body->>'id') AS item FROM pg_temp.api(:'a_live', 'POST', '/items', '{"sku":"W-1","name":"Wrench"}', 'i1') \gset
SELECT raw AS r1 FROM pg_temp.api(:'a_live', 'POST', '/movements',
       json_build_object('item_id', :'item', 'qty', 10, 'type', 'receipt', 'unit_cost', '2.50',
                         'metadata', json_build_object('po', '7'))::text, 'w1') \gset
SELECT (:'r1'::json)->>'id' AS mov \gset
SELECT raw AS r2 FROM pg_temp.api(:'a_live', 'POST', '/movements',
       json_build_object('item_id', :'item', 'qty', -3, 'type', 'sale')::text, 'w2') \gset

-- Every row carries the live key's tenant.
SELECT is((SELECT array_agg(DISTINCT (account_id, livemode)::text) FROM sk.movements WHERE item_id = :'item'),
          ARRAY[(:'a_id', true)::text], 'the movements carry the key''s account, live');
SELECT is((SELECT (account_id, livemode)::text FROM sk.events WHERE account_id = :'a_id' AND livemode AND data->'object'->>'id' = :'mov'),
          (:'a_id', true)::text, 'so does their event');
SELECT is((SELECT (account_id, livemode)::text FROM sk.stock_balances WHERE item_id = :'item'),
          (:'a_id', true)::text, 'and the balance');
SELECT is((SELECT (account_id, livemode)::text FROM sk.idempotency_keys WHERE key = 'w1'),
          (:'a_id', true)::text, 'and the key row');

-- What was answered is what was written.
SELECT is((SELECT sk.movement_object(m)::text FROM sk.movements m WHERE m.id = :'mov'), :'r1',
          'the movement answered is the row written, byte for byte');
SELECT is((SELECT data::text FROM sk.events WHERE account_id = :'a_id' AND livemode AND data->'object'->>'id' = :'mov'), '{"object":' || :'r1' || '}',
          'its event holds the same object');
SELECT is((SELECT body FROM sk.idempotency_keys WHERE key = 'w1'), :'r1', 'the key row stores the same body');
SELECT is((SELECT metadata FROM sk.movements WHERE id = :'mov'), '{"po": "7"}'::jsonb, 'metadata is stored as jsonb');

-- One balance per (item, location, no lot): the second movement found and updated it.
SELECT is((SELECT count(*)::int FROM sk.stock_balances WHERE item_id = :'item'), 1, 'one balance row for the item');
SELECT is((SELECT on_hand FROM sk.stock_balances WHERE item_id = :'item'), 7::numeric, 'holding 10 - 3');
SELECT is((SELECT (on_hand, last_seq, last_movement_id)::text FROM sk.item_stock WHERE item_id = :'item'),
          (7::numeric, 2::bigint, (:'r2'::json)->>'id')::text, 'the item''s state follows its last movement');

-- A column the writer does not name would be left to its default: refused, nothing written.
ALTER TABLE sk.stock_balances ADD COLUMN note text DEFAULT 'n/a';
SELECT throws_ok(format($$ SELECT * FROM pg_temp.api(%L, 'POST', '/movements', %L, 'w3') $$, :'a_live',
                        json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale')::text),
                 'XX000', NULL, 'a table with a column its writer does not name is refused');
ALTER TABLE sk.stock_balances DROP COLUMN note;

-- A trigger the writer would skip: refused too.
CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER noop BEFORE INSERT ON sk.events FOR EACH ROW EXECUTE FUNCTION pg_temp.noop();
SELECT throws_ok(format($$ SELECT * FROM pg_temp.api(%L, 'POST', '/movements', %L, 'w4') $$, :'a_live',
                        json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale')::text),
                 'XX000', NULL, 'a table with an insert trigger is refused');
DROP TRIGGER noop ON sk.events;

-- A column of another type than the writer gives would be coerced by a statement: refused.
ALTER TABLE sk.idempotency_keys ALTER COLUMN status TYPE bigint;
SELECT throws_ok(format($$ SELECT * FROM pg_temp.api(%L, 'POST', '/movements', %L, 'w5') $$, :'a_live',
                        json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale')::text),
                 'XX000', NULL, 'a column of another type is refused');
ALTER TABLE sk.idempotency_keys ALTER COLUMN status TYPE integer;

-- The writer needs the privilege the statement would: without INSERT on the events, no posting.
REVOKE INSERT ON sk.events FROM sk_owner;
SELECT throws_ok(format($$ SELECT * FROM pg_temp.api(%L, 'POST', '/movements', %L, 'w6') $$, :'a_live',
                        json_build_object('item_id', :'item', 'qty', -1, 'type', 'sale')::text),
                 '42501', NULL, 'a writer without the INSERT privilege is refused');
GRANT INSERT ON sk.events TO sk_owner;

SELECT * FROM finish();
ROLLBACK;
