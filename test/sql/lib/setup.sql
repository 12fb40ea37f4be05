-- Shared by every pgTAP file: quiet output, a transaction rolled back at the end, and
-- pg_temp.api(), which makes the same single call the shim makes for one request.
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;

CREATE FUNCTION pg_temp.api(key text, method text, path text, body text DEFAULT NULL,
                            idem text DEFAULT NULL, query text DEFAULT NULL)
RETURNS TABLE (status integer, body json, replayed boolean, raw text)
LANGUAGE sql AS $$
  SELECT r.status, r.body::json, r.replayed, r.body
    FROM sk.invoke(method, '/inventory/v1' || path, query, 'Bearer ' || key, idem, 'req_pgtap', body) r
$$;

-- move(): records one movement with a fresh Idempotency-Key; its response body.
CREATE FUNCTION pg_temp.move(key text, body json) RETURNS json LANGUAGE sql AS $$
  SELECT a.body FROM pg_temp.api(key, 'POST', '/movements', body::text, gen_random_uuid()::text) a
$$;

-- Two accounts, each with a test and a live secret key.
SELECT sk.create_account('Tenant A') AS acct_a \gset a_
SELECT sk.create_account('Tenant B', 'EUR') AS acct_b \gset b_
SELECT :'a_acct_a'::jsonb ->> 'account_id' AS a_id, :'a_acct_a'::jsonb ->> 'test_secret_key' AS a_test,
       :'a_acct_a'::jsonb ->> 'live_secret_key' AS a_live,
       :'b_acct_b'::jsonb ->> 'account_id' AS b_id, :'b_acct_b'::jsonb ->> 'test_secret_key' AS b_test,
       :'b_acct_b'::jsonb ->> 'live_secret_key' AS b_live \gset
