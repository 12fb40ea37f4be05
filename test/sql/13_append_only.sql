-- The log is append-only, enforced by the database (issue 3, item 2): UPDATE, DELETE and
-- TRUNCATE of movements fail for every role but a superuser — the owner included —
-- through privileges, policies (SELECT and INSERT only) and a statement trigger.
\ir lib/setup.sql
SELECT plan(19);

SELECT (body->>'id') AS item FROM pg_temp.api(:'a_test', 'POST', '/items', '{"sku":"A-1","name":"Anvil"}', 'i1') \gset
SELECT (body->>'id') AS mov FROM pg_temp.api(:'a_test', 'POST', '/movements',
        json_build_object('item_id', :'item', 'qty', 4, 'type', 'receipt', 'unit_cost', 10)::text, 'm1') \gset
SELECT md5(string_agg(m::text, '')) AS log_before FROM sk.movements m \gset

-- The owner role holds neither UPDATE nor DELETE nor TRUNCATE on the log.
SELECT ok(NOT has_table_privilege('sk_owner', 'sk.movements', 'UPDATE'), 'the owner has no UPDATE privilege on movements');
SELECT ok(NOT has_table_privilege('sk_owner', 'sk.movements', 'DELETE'), 'nor DELETE');
SELECT ok(NOT has_table_privilege('sk_owner', 'sk.movements', 'TRUNCATE'), 'nor TRUNCATE');
SELECT ok(has_table_privilege('sk_owner', 'sk.movements', 'INSERT'), 'only INSERT (and SELECT)');
SELECT set_eq($$ SELECT polcmd::text FROM pg_policy WHERE polrelid = 'sk.movements'::regclass $$, ARRAY['r', 'a'],
              'policies exist for SELECT and INSERT only');

SET LOCAL ROLE sk_owner;
SELECT throws_ok($$ UPDATE sk.movements SET qty = 400 $$, '42501', NULL, 'the owner cannot UPDATE movements');
SELECT throws_ok($$ DELETE FROM sk.movements $$, '42501', NULL, 'the owner cannot DELETE movements');
SELECT throws_ok($$ TRUNCATE sk.movements $$, '42501', NULL, 'the owner cannot TRUNCATE movements');
RESET ROLE;

-- Even if someone granted the owner those privileges and a policy showed it every row,
-- the trigger still refuses: the log is append-only for every role but a superuser.
GRANT UPDATE, DELETE, TRUNCATE ON sk.movements TO sk_owner;
CREATE POLICY test_everything ON sk.movements TO sk_owner USING (true) WITH CHECK (true);
SET LOCAL ROLE sk_owner;
SELECT is((SELECT count(*)::int FROM sk.movements WHERE id = :'mov'), 1, 'with the extra policy the owner sees the movement');
SELECT throws_ok(format($$ UPDATE sk.movements SET qty = 400 WHERE id = %L $$, :'mov'), '42501',
                 'sk.movements is append-only: UPDATE is not allowed; record a reversing movement instead',
                 'the trigger refuses an UPDATE by the owner of a visible row');
SELECT throws_ok(format($$ DELETE FROM sk.movements WHERE id = %L $$, :'mov'), '42501',
                 'sk.movements is append-only: DELETE is not allowed; record a reversing movement instead',
                 'the trigger refuses a DELETE by the owner');
SELECT throws_ok($$ TRUNCATE sk.movements $$, '42501',
                 'sk.movements is append-only: TRUNCATE is not allowed; record a reversing movement instead',
                 'the trigger refuses a TRUNCATE by the owner');
SELECT throws_ok($$ UPDATE sk.movements SET qty = 1 WHERE false $$, '42501', NULL,
                 'the trigger is statement-level: it fires even when no row is touched');
RESET ROLE;

-- Reporting roles read the log and nothing more.
SELECT ok(NOT has_table_privilege('sk_reporting', 'sk.movements', 'UPDATE,DELETE,TRUNCATE,INSERT'),
          'reporting roles cannot change the log');

SELECT is((SELECT md5(string_agg(m::text, '')) FROM sk.movements m), :'log_before', 'the log is exactly as it was');

-- Whatever writes a row, even a superuser past every policy, the table's CHECKs hold:
-- a known type (sk.is_movement_type, the API's own list) and a quantity that is not zero.
PREPARE raw_insert(text, numeric) AS
  INSERT INTO sk.movements (account_id, livemode, id, item_id, location_id, type, qty, reason, unit_cost, seq,
                            on_hand_after, wac_after)
  SELECT m.account_id, m.livemode, m.id || 'x', m.item_id, m.location_id, $1, $2, m.reason, m.unit_cost, m.seq + 1,
         m.on_hand_after, m.wac_after
    FROM sk.movements m WHERE m.id = :'mov';
SELECT throws_ok('EXECUTE raw_insert(''gift'', 1)', '23514', NULL, 'an unknown movement type is refused');
SELECT throws_ok('EXECUTE raw_insert(''sale'', 0)', '23514', NULL, 'a zero quantity is refused');
SELECT is(ARRAY(SELECT t FROM unnest(ARRAY['receipt', 'sale', 'return', 'adjustment', 'transfer', 'Sale', '']) t
                 WHERE sk.is_movement_type(t)), ARRAY['receipt', 'sale', 'return', 'adjustment', 'transfer'],
          'sk.is_movement_type accepts exactly the five types, case-sensitively');

-- A superuser (the DBA) is the one exception, e.g. for a legal erasure.
SELECT lives_ok(format($$ UPDATE sk.movements SET reference = 'dba' WHERE id = %L $$, :'mov'), 'a superuser may change the log');

SELECT * FROM finish();
ROLLBACK;
