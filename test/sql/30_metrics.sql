-- sk.metrics(): the webhook gauges of /metrics count across every tenant, yet RLS stays
-- forced: the metrics_read policies hold only while sk.metrics() runs, and only the
-- shim's role may call it.
\ir lib/setup.sql
SELECT plan(9);

CREATE TEMP TABLE before AS SELECT sk.metrics()::jsonb AS m;

-- Tenant A: a delivery that failed once, then succeeded. Tenant B (live): one dead
-- after two failures, one pending, one retrying after a failure.
INSERT INTO sk.webhook_deliveries (account_id, livemode, id, endpoint_id, event_id, status, attempt_count, next_attempt_at) VALUES
  (:'a_id', false, 'wd_01ARZ3NDEKTSV4RRFFQ69G5FA1', 'we_x', 'evt_x', 'succeeded', 2, NULL),
  (:'b_id', true,  'wd_01ARZ3NDEKTSV4RRFFQ69G5FA2', 'we_y', 'evt_y', 'dead', 2, NULL),
  (:'b_id', true,  'wd_01ARZ3NDEKTSV4RRFFQ69G5FA3', 'we_y', 'evt_z', 'pending', 0, now() + interval '1 hour'),
  (:'b_id', true,  'wd_01ARZ3NDEKTSV4RRFFQ69G5FA4', 'we_y', 'evt_w', 'retrying', 1, now() + interval '1 hour');
INSERT INTO sk.webhook_attempts (account_id, livemode, delivery_id, attempt, attempted_at, status_code, error, latency_ms) VALUES
  (:'a_id', false, 'wd_01ARZ3NDEKTSV4RRFFQ69G5FA1', 1, now(), 500, NULL, 3),
  (:'a_id', false, 'wd_01ARZ3NDEKTSV4RRFFQ69G5FA1', 2, now(), 200, NULL, 3),
  (:'b_id', true,  'wd_01ARZ3NDEKTSV4RRFFQ69G5FA2', 1, now(), 503, NULL, 3),
  (:'b_id', true,  'wd_01ARZ3NDEKTSV4RRFFQ69G5FA2', 2, now(), NULL, 'timeout', 10000),
  (:'b_id', true,  'wd_01ARZ3NDEKTSV4RRFFQ69G5FA4', 1, now(), 500, NULL, 3);

SET LOCAL ROLE sk_shim;
CREATE TEMP TABLE after AS SELECT sk.metrics()::jsonb AS m;
RESET ROLE;

SELECT is((SELECT (a.m ->> 'webhook_queue_depth')::int - (b.m ->> 'webhook_queue_depth')::int FROM before b, after a), 2,
          'queue depth counts pending and retrying deliveries of every tenant');
SELECT is((SELECT (a.m ->> 'webhook_dead_letters')::int - (b.m ->> 'webhook_dead_letters')::int FROM before b, after a), 1,
          'dead letters are counted');
SELECT is((SELECT jsonb_build_object(
                    'succeeded', (a.m #>> '{webhook_attempts,succeeded}')::int - (b.m #>> '{webhook_attempts,succeeded}')::int,
                    'retrying', (a.m #>> '{webhook_attempts,retrying}')::int - (b.m #>> '{webhook_attempts,retrying}')::int,
                    'dead', (a.m #>> '{webhook_attempts,dead}')::int - (b.m #>> '{webhook_attempts,dead}')::int)
             FROM before b, after a),
          '{"succeeded": 1, "retrying": 3, "dead": 1}'::jsonb,
          'attempts by outcome: 2xx succeeded, the failure that ended a dead delivery dead, other failures retrying');

SELECT is(sk.metrics_read_active(), false, 'the metrics policy is inactive outside sk.metrics()');
SET LOCAL ROLE sk_owner;
SELECT is((SELECT count(*)::int FROM sk.webhook_deliveries) + (SELECT count(*)::int FROM sk.webhook_attempts), 0,
          'so the owner role still reads no delivery or attempt without a tenant');
RESET ROLE;

SELECT ok(has_function_privilege('sk_api', 'sk.metrics()', 'EXECUTE'), 'the shim role may read the metrics');
SELECT ok(NOT has_function_privilege('public', 'sk.metrics()', 'EXECUTE'), 'PUBLIC may not');
SELECT ok((SELECT prosecdef FROM pg_proc WHERE oid = 'sk.metrics()'::regprocedure), 'sk.metrics() is SECURITY DEFINER');
SELECT is((SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = 'sk.metrics()'::regprocedure), 'sk_owner',
          'owned by sk_owner, which forced RLS binds');

SELECT * FROM finish();
ROLLBACK;
