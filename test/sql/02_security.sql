-- The database enforces the security model: every table in schema sk has RLS enabled
-- and forced, is owned by a role that cannot bypass it, and the shim's role can only
-- execute the entry functions.
\ir lib/setup.sql
SELECT plan(11);

SELECT cmp_ok((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'sk' AND c.relkind IN ('r', 'p')), '>=', 7, 'schema sk has its tables');

SELECT is_empty($$
  SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'sk' AND c.relkind IN ('r', 'p') AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
$$, 'every table of schema sk has row-level security enabled and forced');

SELECT is_empty($$
  SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'sk' AND c.relkind IN ('r', 'p')
     AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid)
$$, 'every table of schema sk has at least one policy');

SELECT is_empty($$
  SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'sk' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> 'sk_owner'
$$, 'every table is owned by sk_owner');

SELECT is((SELECT rolsuper OR rolbypassrls OR rolcanlogin FROM pg_roles WHERE rolname = 'sk_owner'), false,
          'the owner role is not a superuser, cannot bypass RLS and cannot log in');

SELECT is_empty($$
  SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'sk' AND p.prosecdef
     AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
$$, 'every SECURITY DEFINER function pins search_path');

SELECT is_empty($$
  SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'sk' AND c.relkind IN ('r', 'p', 'v', 'm')
     AND (has_table_privilege('sk_api', c.oid, 'SELECT') OR has_table_privilege('sk_api', c.oid, 'INSERT')
       OR has_table_privilege('sk_api', c.oid, 'UPDATE') OR has_table_privilege('sk_api', c.oid, 'DELETE'))
$$, 'the shim role has no privilege on any table or view');

SELECT set_eq($$
  SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'sk' AND has_function_privilege('sk_api', p.oid, 'EXECUTE')
     AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
$$, ARRAY['invoke', 'openapi', 'metrics'], 'beyond what everyone may run, the shim role executes only the entry functions');

SELECT is_empty($$
  SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'sk' AND has_function_privilege('public', p.oid, 'EXECUTE')
     AND p.proname NOT IN ('current_account', 'current_livemode', 'auth_lookup_active', 'metrics_read_active',
                           'rfc3339', 'id_time', 'is_movement_type')
$$, 'PUBLIC executes only the read-only context, formatting and CHECK functions');

-- Policies and column defaults check EXECUTE on the tenant context for every statement; a
-- default ACL (NULL) is the cheapest to check and grants the same: owner and PUBLIC.
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE oid IN ('sk.current_account()'::regprocedure, 'sk.current_livemode()'::regprocedure)
              AND proacl IS NULL), 2,
          'the tenant context functions keep the default ACL');

SELECT is((SELECT count(*)::int FROM sk.api_keys WHERE secret_hash = sha256(convert_to(:'a_test', 'UTF8'))), 1,
          'keys are stored as their SHA-256 hash');

SELECT * FROM finish();
ROLLBACK;
