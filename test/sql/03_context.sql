-- The tenant context cannot be forged from SQL: it is C++ state set only after a key
-- is verified, and it does not outlive the call that verified the key.
\ir lib/setup.sql
SELECT plan(9);

SELECT throws_ok($$ SET sk.account = 'acct_01ARZ3NDEKTSV4RRFFQ69G5FAV' $$, NULL, NULL,
                 'no sk.* setting can be invented to carry a tenant');
SELECT throws_ok($$ SELECT set_config('sk.current_account', 'acct_01ARZ3NDEKTSV4RRFFQ69G5FAV', false) $$, NULL, NULL,
                 'set_config cannot create one either');
SELECT is(sk.current_account(), NULL, 'no tenant outside an API call');

SET LOCAL ROLE sk_shim;
SELECT is((SELECT status FROM sk.invoke('GET', '/inventory/v1/items', NULL, 'Bearer ' || :'a_test', NULL, 'req_x', NULL)), 200,
          'a verified key acts for its tenant inside the call');
SELECT is(sk.current_account(), NULL, 'the tenant is cleared when the call returns, even in the same transaction');
SELECT is(sk.current_livemode(), NULL, 'so is the mode');
RESET ROLE;

SET LOCAL ROLE sk_owner;
SELECT is((SELECT count(*)::int FROM sk.items), 0, 'after the call, the owner role sees nothing');
RESET ROLE;

SELECT is((SELECT status FROM pg_temp.api('sk_test_' || repeat('A', 32), 'GET', '/items')), 401,
          'a well-formed but unknown key gives no context');
SELECT is((SELECT status FROM sk.invoke('GET', '/inventory/v1/items', NULL, 'Bearer ' || :'a_test' || 'x', NULL, 'r', NULL)), 401,
          'a key with a suffix is unknown');

SELECT * FROM finish();
ROLLBACK;
