-- SK Inventory 0.1: platform (accounts, keys, idempotency, events) and catalogue
-- (items, locations). The C++ module holds the logic; this script holds the tables,
-- their row-level security, and the SQL renderers that turn a row into its API object.
\echo Use "CREATE EXTENSION sk_inventory" to load this file. \quit

-- Roles are cluster-wide, so they may already exist from another database.
--   sk_owner      owns every table; not a login role; subject to FORCE ROW LEVEL SECURITY.
--   sk_api        the shim's role: may only execute the entry functions.
--   sk_reporting  granted to reporting roles; reads tables and views, RLS limits the rows.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sk_owner') THEN
    CREATE ROLE sk_owner NOLOGIN NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sk_api') THEN
    CREATE ROLE sk_api NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sk_reporting') THEN
    CREATE ROLE sk_reporting NOLOGIN;
  END IF;
END
$roles$;

GRANT USAGE ON SCHEMA sk TO sk_owner, sk_api, sk_reporting;

------------------------------------------------------------------------------
-- Tenant context. Backend-local C++ state, set only after a key is verified; it is
-- not a GUC, so no SQL statement can set it.
------------------------------------------------------------------------------
-- Declared costly on purpose: every policy compares a column with them, and a high cost
-- steers the planner to index scans that evaluate them once per scan instead of a
-- sequential scan that evaluates them once per row (measured: +16% movements/s).
CREATE FUNCTION sk.current_account() RETURNS text
  AS 'MODULE_PATHNAME', 'sk_current_account' LANGUAGE C STABLE PARALLEL RESTRICTED COST 1000;
CREATE FUNCTION sk.current_livemode() RETURNS boolean
  AS 'MODULE_PATHNAME', 'sk_current_livemode' LANGUAGE C STABLE PARALLEL RESTRICTED COST 1000;
-- True only while the C++ key verification (or reporting-role lookup) is reading.
CREATE FUNCTION sk.auth_lookup_active() RETURNS boolean
  AS 'MODULE_PATHNAME', 'sk_auth_lookup_active' LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION sk.new_id(prefix text) RETURNS text
  AS 'MODULE_PATHNAME', 'sk_new_id' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
CREATE FUNCTION sk.id_time(id text) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'sk_id_time' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- RFC 3339 in UTC with microseconds: exact enough to round-trip into ?as_of= filters.
-- STABLE like to_char itself, so it is inlined where it is used.
CREATE FUNCTION sk.rfc3339(t timestamptz) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- A JSON array of rows, printed compactly (json_agg would add spaces).
CREATE FUNCTION sk.compact_array(elements text[]) RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
RETURN ('[' || array_to_string(elements, ',') || ']')::json;

-- Makes a table a tenant table: owned by sk_owner, row-level security enabled and
-- forced (so the owner is bound too), one policy comparing (account_id, livemode) with
-- the verified tenant. Every tenant table of every version goes through it.
CREATE FUNCTION sk.protect_tenant_table(t regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format('ALTER TABLE %s OWNER TO sk_owner', t);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
  EXECUTE format('CREATE POLICY tenant ON %s '
                 'USING (account_id = sk.current_account() AND livemode = sk.current_livemode()) '
                 'WITH CHECK (account_id = sk.current_account() AND livemode = sk.current_livemode())', t);
END
$fn$;

------------------------------------------------------------------------------
-- Tables. Every tenant row and index leads with account_id (section 13: shardable).
------------------------------------------------------------------------------
CREATE TABLE sk.accounts (
  id                      text PRIMARY KEY,
  name                    text NOT NULL,
  currency                text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  lot_expiry_warning_days integer NOT NULL DEFAULT 30 CHECK (lot_expiry_warning_days BETWEEN 0 AND 3650),
  created_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sk.api_keys (
  account_id  text NOT NULL DEFAULT sk.current_account() REFERENCES sk.accounts,
  livemode    boolean NOT NULL DEFAULT sk.current_livemode(),
  id          text NOT NULL DEFAULT sk.new_id('key'),
  kind        text NOT NULL CHECK (kind IN ('secret', 'restricted')),
  name        text,
  scopes      text[] NOT NULL,
  secret_hash bytea NOT NULL,          -- SHA-256 of the key; the key itself is never stored
  redacted    text NOT NULL,           -- e.g. sk_test_…WXYZ, for lists
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,             -- set when revoked or rolled
  PRIMARY KEY (account_id, livemode, id)
);
CREATE UNIQUE INDEX api_keys_secret_hash_key ON sk.api_keys (secret_hash);
-- Backends cache what some tables hold (verified keys here, an account's currency, an
-- item's SKU and rules, the default location, whether a tenant has a webhook endpoint):
-- this trigger makes every backend drop those caches when a change to the table commits.
-- Where inserting a row changes nothing cached, inserts do not fire it.
CREATE FUNCTION sk.invalidate_backend_caches() RETURNS trigger
  AS 'MODULE_PATHNAME', 'sk_invalidate_backend_caches' LANGUAGE C;
CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE OR TRUNCATE ON sk.api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION sk.invalidate_backend_caches();
CREATE TRIGGER accounts_changed AFTER UPDATE OR DELETE OR TRUNCATE ON sk.accounts
  FOR EACH STATEMENT EXECUTE FUNCTION sk.invalidate_backend_caches();

-- Database roles that read one tenant's data through RLS (sk.grant_reporting).
CREATE TABLE sk.reporting_roles (
  account_id text NOT NULL DEFAULT sk.current_account() REFERENCES sk.accounts,
  livemode   boolean NOT NULL DEFAULT sk.current_livemode(),
  role_name  name NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, role_name)
);
CREATE UNIQUE INDEX reporting_roles_role_name_key ON sk.reporting_roles (role_name);

-- One row per Idempotency-Key, written in the same transaction as the request's effects.
CREATE TABLE sk.idempotency_keys (
  account_id   text NOT NULL DEFAULT sk.current_account(),
  livemode     boolean NOT NULL DEFAULT sk.current_livemode(),
  key          text NOT NULL,
  request_hash bytea NOT NULL,          -- SHA-256 of method, path, query and canonical body
  status       integer,
  content_type text,
  -- A batch's response is ~0.5 MB of JSON: lz4 compresses it several times faster than
  -- the default pglz, and each one is written once and rarely read.
  body         text COMPRESSION lz4,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, key)
);

CREATE TABLE sk.events (
  account_id text NOT NULL DEFAULT sk.current_account(),
  livemode   boolean NOT NULL DEFAULT sk.current_livemode(),
  id         text NOT NULL DEFAULT sk.new_id('evt'),
  type       text NOT NULL,
  data       json NOT NULL,             -- {"object": …}; json keeps the object's key order
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
-- GET /events?type=: movement.recorded, most of the log, is listed along the primary key;
-- every other type has this index (the listing adds the same predicate, so a generic
-- plan can use it). Each movement then writes one index entry less.
CREATE INDEX events_type_idx ON sk.events (account_id, livemode, type, id) WHERE type <> 'movement.recorded';

CREATE TABLE sk.locations (
  account_id text NOT NULL DEFAULT sk.current_account(),
  livemode   boolean NOT NULL DEFAULT sk.current_livemode(),
  id         text NOT NULL DEFAULT sk.new_id('loc'),
  name       text NOT NULL,
  code       text,
  type       text NOT NULL DEFAULT 'warehouse' CHECK (type IN ('warehouse', 'store', 'bin', 'other')),
  is_default boolean NOT NULL DEFAULT false,
  metadata   jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
CREATE UNIQUE INDEX locations_default_key ON sk.locations (account_id, livemode) WHERE is_default;
CREATE UNIQUE INDEX locations_code_key ON sk.locations (account_id, livemode, code) WHERE code IS NOT NULL;
-- Postings cache the tenant's default location per backend (ledger/catalog_facts); a new
-- location can be the first default, so inserts count too.
CREATE TRIGGER locations_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sk.locations
  FOR EACH STATEMENT EXECUTE FUNCTION sk.invalidate_backend_caches();

CREATE TABLE sk.items (
  account_id     text NOT NULL DEFAULT sk.current_account(),
  livemode       boolean NOT NULL DEFAULT sk.current_livemode(),
  id             text NOT NULL DEFAULT sk.new_id('itm'),
  sku            text NOT NULL,
  name           text NOT NULL,
  unit           text NOT NULL DEFAULT 'each',
  reorder_point  numeric,
  track_lots     boolean NOT NULL DEFAULT false,
  negative_stock text NOT NULL DEFAULT 'allow' CHECK (negative_stock IN ('allow', 'reject')),
  metadata       jsonb NOT NULL DEFAULT '{}',
  archived_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
-- A SKU names one active item; archiving frees it.
CREATE UNIQUE INDEX items_sku_key ON sk.items (account_id, livemode, sku) WHERE archived_at IS NULL;
-- Postings and stock reads cache an item's SKU and rules per backend (ledger/catalog_facts).
CREATE TRIGGER items_changed AFTER UPDATE OR DELETE OR TRUNCATE ON sk.items
  FOR EACH STATEMENT EXECUTE FUNCTION sk.invalidate_backend_caches();

------------------------------------------------------------------------------
-- Row-level security: enabled and forced on every table, so even the owner sees
-- only the tenant of the verified key.
------------------------------------------------------------------------------
SELECT sk.protect_tenant_table(t)
  FROM unnest(ARRAY['sk.api_keys', 'sk.reporting_roles', 'sk.idempotency_keys', 'sk.events',
                    'sk.locations', 'sk.items']::regclass[]) t;

ALTER TABLE sk.accounts OWNER TO sk_owner;
ALTER TABLE sk.accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE sk.accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON sk.accounts USING (id = sk.current_account()) WITH CHECK (id = sk.current_account());

-- Key verification and the reporting-role lookup read before any tenant is known.
CREATE POLICY auth_lookup ON sk.api_keys FOR SELECT USING (sk.auth_lookup_active());
CREATE POLICY auth_lookup ON sk.reporting_roles FOR SELECT USING (sk.auth_lookup_active());

------------------------------------------------------------------------------
-- Renderers: one SQL function per object type, so every route shows one shape.
-- Decimals are rendered as strings: exact in every client language.
------------------------------------------------------------------------------
-- row_to_json keeps column order and prints compactly: the object reads like the docs.
-- Each renderer is one expression over a typed ROW, so PostgreSQL inlines it into the
-- statement that calls it (a renderer with a subquery would be planned on every call).
CREATE TYPE sk.item_fields AS (
  id text, object text, livemode boolean, created_at text, sku text, name text, unit text, reorder_point text,
  track_lots boolean, negative_stock text, archived boolean, metadata jsonb, updated_at text);
CREATE FUNCTION sk.item_object(i sk.items) RETURNS json LANGUAGE sql STABLE
RETURN row_to_json(ROW(
  i.id, 'item', i.livemode, sk.rfc3339(i.created_at), i.sku, i.name, i.unit, i.reorder_point::text, i.track_lots,
  i.negative_stock, i.archived_at IS NOT NULL, i.metadata, sk.rfc3339(i.updated_at))::sk.item_fields);

CREATE TYPE sk.location_fields AS (
  id text, object text, livemode boolean, created_at text, name text, code text, type text, is_default boolean,
  metadata jsonb, updated_at text);
CREATE FUNCTION sk.location_object(l sk.locations) RETURNS json LANGUAGE sql STABLE
RETURN row_to_json(ROW(
  l.id, 'location', l.livemode, sk.rfc3339(l.created_at), l.name, l.code, l.type, l.is_default, l.metadata,
  sk.rfc3339(l.updated_at))::sk.location_fields);

CREATE TYPE sk.api_key_fields AS (
  id text, object text, livemode boolean, created_at text, name text, type text, scopes text[], redacted text,
  expires_at text);
CREATE FUNCTION sk.api_key_object(k sk.api_keys) RETURNS json LANGUAGE sql STABLE
RETURN row_to_json(ROW(
  k.id, 'api_key', k.livemode, sk.rfc3339(k.created_at), k.name, k.kind, k.scopes, k.redacted,
  sk.rfc3339(k.expires_at))::sk.api_key_fields);

CREATE TYPE sk.event_fields AS (id text, object text, type text, livemode boolean, created_at text, data json);
CREATE FUNCTION sk.event_object(e sk.events) RETURNS json LANGUAGE sql STABLE
RETURN row_to_json(ROW(e.id, 'event', e.type, e.livemode, sk.rfc3339(e.created_at), e.data)::sk.event_fields);

-- Merges metadata the Stripe way: a key set to "" is removed.
CREATE FUNCTION sk.merge_metadata(current jsonb, patch jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE
RETURN CASE WHEN patch IS NULL THEN current
       ELSE (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
               FROM jsonb_each(current || patch) WHERE value <> '""'::jsonb) END;

------------------------------------------------------------------------------
-- Entry point of the API: one call per HTTP request (DESIGN.md section 1).
------------------------------------------------------------------------------
-- A named row type rather than OUT parameters: PostgreSQL rebuilds an OUT-parameter
-- row's descriptor from pg_proc on every call (twice: for the caller's scan and for the
-- function's own result), where a named type's comes from the type cache.
CREATE TYPE sk.response AS (status integer, content_type text, body text, replayed boolean);

CREATE FUNCTION sk.invoke(method text, path text, query text, authorization text,
                          idempotency_key text, request_id text, body text)
  RETURNS sk.response AS 'MODULE_PATHNAME', 'sk_invoke' LANGUAGE C VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp;  -- API statements get generic plans: pg::prepare

CREATE FUNCTION sk.openapi() RETURNS text
  AS 'MODULE_PATHNAME', 'sk_openapi' LANGUAGE C STABLE;

------------------------------------------------------------------------------
-- DBA functions. Superuser only (EXECUTE is revoked from PUBLIC below).
------------------------------------------------------------------------------
CREATE FUNCTION sk.create_account(name text, currency text DEFAULT 'USD') RETURNS jsonb
  AS 'MODULE_PATHNAME', 'sk_create_account' LANGUAGE C VOLATILE;
CREATE FUNCTION sk.create_api_key(account_id text, livemode boolean, kind text DEFAULT 'secret',
                                  scopes text[] DEFAULT ARRAY['read', 'write'], name text DEFAULT NULL)
  RETURNS jsonb AS 'MODULE_PATHNAME', 'sk_create_api_key' LANGUAGE C VOLATILE;
CREATE FUNCTION sk.revoke_api_key(key_id text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'sk_revoke_api_key' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION sk.roll_api_key(key_id text, expires_in interval DEFAULT '0'::interval) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'sk_roll_api_key' LANGUAGE C VOLATILE;
CREATE FUNCTION sk.grant_reporting(role regrole, account_id text, livemode boolean) RETURNS void
  AS 'MODULE_PATHNAME', 'sk_grant_reporting' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION sk.revoke_reporting(role regrole) RETURNS void
  AS 'MODULE_PATHNAME', 'sk_revoke_reporting' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION sk.prune_idempotency_keys() RETURNS bigint
  AS 'MODULE_PATHNAME', 'sk_prune_idempotency_keys' LANGUAGE C VOLATILE;

------------------------------------------------------------------------------
-- Webhooks (DESIGN.md section 6). Deliveries are created in the transaction that
-- writes the event (events::emit_many), so the outbox and the change commit together;
-- the background worker claims due deliveries with a lease and records each attempt.
------------------------------------------------------------------------------
CREATE TABLE sk.webhook_endpoints (
  account_id          text NOT NULL DEFAULT sk.current_account(),
  livemode            boolean NOT NULL DEFAULT sk.current_livemode(),
  id                  text NOT NULL DEFAULT sk.new_id('we'),
  url                 text NOT NULL,
  description         text,
  enabled_events      text[] NOT NULL,         -- {'*'} or event types
  status              text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  disabled_reason     text,
  secret              text NOT NULL,           -- whsec_…; needed in clear to sign
  previous_secret     text,                    -- still signs until previous_secret_expires_at
  previous_secret_expires_at timestamptz,
  metadata            jsonb NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  deleted_at          timestamptz,
  PRIMARY KEY (account_id, livemode, id)
);
CREATE TRIGGER webhook_endpoints_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sk.webhook_endpoints
  FOR EACH STATEMENT EXECUTE FUNCTION sk.invalidate_backend_caches();

CREATE TABLE sk.webhook_deliveries (
  account_id      text NOT NULL DEFAULT sk.current_account(),
  livemode        boolean NOT NULL DEFAULT sk.current_livemode(),
  id              text NOT NULL DEFAULT sk.new_id('wd'),
  endpoint_id     text NOT NULL,
  event_id        text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'retrying', 'dead')),
  attempt_count   integer NOT NULL DEFAULT 0,  -- attempts over the delivery's life
  tries           integer NOT NULL DEFAULT 0,  -- attempts since it was (re)queued: the schedule position
  next_attempt_at timestamptz DEFAULT now(),   -- null once final
  lease_until     timestamptz,                 -- a worker is sending it until then
  lease_owner     integer,                     -- that worker's pid
  last_status_code integer,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
CREATE INDEX webhook_deliveries_endpoint_idx ON sk.webhook_deliveries (account_id, livemode, endpoint_id, id);
-- The worker's queue: only deliveries still to be sent are in this index.
CREATE INDEX webhook_deliveries_due_idx ON sk.webhook_deliveries (next_attempt_at)
  WHERE status IN ('pending', 'retrying');

CREATE TABLE sk.webhook_attempts (
  account_id   text NOT NULL,
  livemode     boolean NOT NULL,
  delivery_id  text NOT NULL,
  attempt      integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  status_code  integer,                 -- null when no HTTP response arrived
  error        text,                    -- timeout, connection refused, …
  latency_ms   integer NOT NULL,
  response_excerpt text,                -- first 1 KiB of the response body
  PRIMARY KEY (account_id, livemode, delivery_id, attempt)
);

SELECT sk.protect_tenant_table(t)
  FROM unnest(ARRAY['sk.webhook_endpoints', 'sk.webhook_deliveries', 'sk.webhook_attempts']::regclass[]) t;

CREATE FUNCTION sk.webhook_endpoint_object(w sk.webhook_endpoints) RETURNS json LANGUAGE sql STABLE
RETURN (SELECT row_to_json(o) FROM (SELECT
  w.id, 'webhook_endpoint' AS object, w.livemode, sk.rfc3339(w.created_at) AS created_at,
  w.url, w.description, w.enabled_events, w.status, w.disabled_reason, w.metadata,
  sk.rfc3339(w.updated_at) AS updated_at) o);

CREATE FUNCTION sk.webhook_delivery_object(d sk.webhook_deliveries) RETURNS json LANGUAGE sql STABLE
RETURN (SELECT row_to_json(o) FROM (SELECT
  d.id, 'webhook_delivery' AS object, d.livemode, sk.rfc3339(d.created_at) AS created_at,
  d.endpoint_id, d.event_id, (SELECT e.type FROM sk.events e WHERE e.id = d.event_id) AS event_type,
  d.status, d.attempt_count, sk.rfc3339(d.next_attempt_at) AS next_attempt_at,
  d.last_status_code, d.last_error,
  coalesce((SELECT sk.compact_array(array_agg(row_to_json(a)::text ORDER BY a.attempt)) FROM (
     SELECT at.attempt, sk.rfc3339(at.attempted_at) AS attempted_at, at.status_code, at.error,
            at.latency_ms, at.response_excerpt
       FROM sk.webhook_attempts at
      WHERE (at.account_id, at.livemode, at.delivery_id) = (d.account_id, d.livemode, d.id)) a), '[]'::json)
    AS attempts) o);

-- The outbox rules, shared by every statement that writes events: the events module's
-- own, and the ledger's, which writes a posting's movements and their movement.recorded
-- events in one statement.
-- An event's data, {"object": <object>}, built without parsing the object again (it is
-- json already): a batch writes 1000 of them.
CREATE FUNCTION sk.event_data(object json) RETURNS json
  AS 'MODULE_PATHNAME', 'sk_event_data' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The endpoints that receive events now (every tenant's, for the worker), the current
-- tenant's, and those of its endpoints an event of this type is delivered to (all
-- inlined into the caller). The tenant is named, not left to RLS alone: the worker and
-- DBAs, who bypass RLS, emit events too (lot.expiring), and their deliveries must stay
-- within the event's tenant.
CREATE FUNCTION sk.receiving_endpoints() RETURNS SETOF sk.webhook_endpoints LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT * FROM sk.webhook_endpoints w WHERE w.status = 'enabled' AND w.deleted_at IS NULL;
END;
CREATE FUNCTION sk.tenant_receiving_endpoints() RETURNS SETOF sk.webhook_endpoints LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT * FROM sk.receiving_endpoints() w
   WHERE w.account_id = sk.current_account() AND w.livemode = sk.current_livemode();
END;
CREATE FUNCTION sk.subscribers(event_type text) RETURNS TABLE (endpoint_id text) LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT w.id FROM sk.tenant_receiving_endpoints() w
   WHERE w.enabled_events = '{*}' OR event_type = ANY (w.enabled_events);
END;

-- An endpoint that will not receive its queue (disabled by PATCH or DELETE, or by the
-- worker after 410 Gone): the queued deliveries become dead letters, replayable once it
-- is enabled again. A send in flight loses its lease; its result only counts if it
-- succeeded (see the worker). One rule for the API and the worker.
CREATE FUNCTION sk.stop_queued_deliveries(account_id text, livemode boolean, endpoint_id text, reason text)
RETURNS void LANGUAGE sql
BEGIN ATOMIC
  UPDATE sk.webhook_deliveries d
     SET status = 'dead', next_attempt_at = NULL, lease_until = NULL, lease_owner = NULL, last_error = reason,
         updated_at = now()
   WHERE d.account_id = stop_queued_deliveries.account_id AND d.livemode = stop_queued_deliveries.livemode
     AND d.endpoint_id = stop_queued_deliveries.endpoint_id AND d.status IN ('pending', 'retrying');
END;

GRANT EXECUTE ON FUNCTION sk.webhook_endpoint_object(sk.webhook_endpoints),
                          sk.webhook_delivery_object(sk.webhook_deliveries),
                          sk.event_data(json), sk.receiving_endpoints(), sk.tenant_receiving_endpoints(),
                          sk.subscribers(text),
                          sk.stop_queued_deliveries(text, boolean, text, text) TO sk_owner;
-- Reporting roles see the delivery log, not the endpoints (which hold signing secrets).
GRANT SELECT ON sk.webhook_deliveries, sk.webhook_attempts TO sk_reporting;

-- Operational metrics for the shim's /metrics: counts across every tenant, nothing
-- else. RLS stays forced: the metrics_read policies hold only while sk.metrics() runs
-- its own aggregate statements (backend-local C++ state, like auth_lookup).
CREATE FUNCTION sk.metrics_read_active() RETURNS boolean
  AS 'MODULE_PATHNAME', 'sk_metrics_read_active' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE POLICY metrics_read ON sk.webhook_deliveries FOR SELECT USING (sk.metrics_read_active());
CREATE POLICY metrics_read ON sk.webhook_attempts FOR SELECT USING (sk.metrics_read_active());
-- {"webhook_queue_depth": n, "webhook_dead_letters": n, "webhook_attempts": {"succeeded": n, "retrying": n, "dead": n}}
CREATE FUNCTION sk.metrics() RETURNS text
  AS 'MODULE_PATHNAME', 'sk_metrics' LANGUAGE C VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION sk.metrics() OWNER TO sk_owner;

------------------------------------------------------------------------------
-- Ownership and privileges.
------------------------------------------------------------------------------
ALTER FUNCTION sk.invoke(text, text, text, text, text, text, text) OWNER TO sk_owner;
ALTER TYPE sk.response OWNER TO sk_owner;
ALTER TYPE sk.item_fields OWNER TO sk_owner;
ALTER TYPE sk.location_fields OWNER TO sk_owner;
ALTER TYPE sk.api_key_fields OWNER TO sk_owner;
ALTER TYPE sk.event_fields OWNER TO sk_owner;

-- Every function so far is closed to PUBLIC (later ones are closed where they are made),
-- but for the tenant context: policies and column defaults call sk.current_account() and
-- sk.current_livemode() as whichever role runs the statement, so PUBLIC executes them, and
-- they keep PostgreSQL's default ACL, which says exactly that. Stored as NULL, it is the
-- cheapest ACL to check, and every statement checks them once per policy and default: an
-- explicit ACL, read from late in the pg_proc row, cost a movement POST 3% of its work.
DO $revoke$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid FROM pg_proc p
            WHERE p.pronamespace = 'sk'::regnamespace
              AND p.oid NOT IN ('sk.current_account()'::regprocedure, 'sk.current_livemode()'::regprocedure)
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END
$revoke$;
-- Policies call these as whichever role runs the query.
GRANT EXECUTE ON FUNCTION sk.auth_lookup_active(), sk.metrics_read_active(), sk.rfc3339(timestamptz),
                          sk.id_time(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION sk.new_id(text), sk.item_object(sk.items), sk.location_object(sk.locations),
                          sk.api_key_object(sk.api_keys), sk.event_object(sk.events),
                          sk.merge_metadata(jsonb, jsonb) TO sk_owner;
GRANT EXECUTE ON FUNCTION sk.invoke(text, text, text, text, text, text, text), sk.openapi(), sk.metrics() TO sk_api;

-- Reporting roles read; RLS decides which rows. Key hashes are not theirs to read.
GRANT SELECT ON sk.accounts, sk.events, sk.locations, sk.items TO sk_reporting;
GRANT EXECUTE ON FUNCTION sk.item_object(sk.items), sk.location_object(sk.locations),
                          sk.event_object(sk.events) TO sk_reporting;

-- ==== Ledger (issue 3) ====
-- Append-only movements, the balance cache derived from them, per-item weighted
-- average cost (WAC), lots, reason codes, reporting views and the DBA checks.
--
-- How WAC is computed, rounded and stored (all numeric, never floating point):
--   * Only a receipt (type 'receipt', qty > 0, not a reversal) changes WAC:
--       on-hand before > 0:  wac = (on_hand·wac + qty·unit_cost) / (on_hand + qty)
--       on-hand before <= 0: wac = unit_cost
--     Every other movement (sales, returns, adjustments, transfers, reversals) leaves WAC
--     unchanged and records the WAC current at that moment as its unit_cost.
--   * The division is rounded exactly (half away from zero) to 6 decimal places and the
--     rounded value is what is stored (item_stock.wac, movements.wac_after) and what the
--     next receipt builds on. Products and sums are exact; on-hand is never rounded.
--   * A stock value is on_hand × wac rounded to the currency's minor unit (2 decimals for
--     USD/EUR, 0 for JPY, 3 for KWD...). Unit costs and WAC are rendered with at least 2
--     and at most 6 decimals ("6.00", "5.123457"); quantities without trailing zeros.
--   * An item that was never received has WAC 0.

-- Account-defined reason codes; the default catalogue is built in (sk.reason_code_catalogue).
CREATE TABLE sk.reason_codes (
  account_id  text NOT NULL DEFAULT sk.current_account(),
  livemode    boolean NOT NULL DEFAULT sk.current_livemode(),
  id          text NOT NULL DEFAULT sk.new_id('rsn'),
  code        text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
  description text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
CREATE UNIQUE INDEX reason_codes_code_key ON sk.reason_codes (account_id, livemode, code);

-- Lots of lot-tracked items (issue 5 adds GRNs and the lot routes on top).
CREATE TABLE sk.lots (
  account_id text NOT NULL DEFAULT sk.current_account(),
  livemode   boolean NOT NULL DEFAULT sk.current_livemode(),
  id         text NOT NULL DEFAULT sk.new_id('lot'),
  item_id    text NOT NULL,
  code       text NOT NULL,
  expires_on date,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
CREATE UNIQUE INDEX lots_item_code_key ON sk.lots (account_id, livemode, item_id, code);

-- The log. Append-only: no UPDATE/DELETE/TRUNCATE privilege (not even for the owner),
-- policies for SELECT and INSERT only, and a statement trigger that refuses every role
-- but a superuser.
-- The movement types the API accepts, from the same list as its validators.
CREATE FUNCTION sk.is_movement_type(type text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'sk_is_movement_type' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
GRANT EXECUTE ON FUNCTION sk.is_movement_type(text) TO PUBLIC;  -- a CHECK runs as whoever inserts

CREATE TABLE sk.movements (
  account_id    text NOT NULL DEFAULT sk.current_account(),
  livemode      boolean NOT NULL DEFAULT sk.current_livemode(),
  id            text NOT NULL DEFAULT sk.new_id('mov'),
  item_id       text NOT NULL,
  location_id   text NOT NULL,
  type          text NOT NULL CHECK (sk.is_movement_type(type)),  -- receipt, sale, return, adjustment, transfer
  qty           numeric NOT NULL CHECK (qty <> 0),
  reason        text NOT NULL,
  unit_cost     numeric NOT NULL,     -- receipts: the cost received at; others: the WAC at the time
  lot_id        text,                 -- the lot, when the movement touches exactly one
  lots          json,                 -- lot allocations as shown: [{"lot_id":…,"qty":"-4"}]; NULL when none
  transfer_id   text,                 -- both legs of a transfer share it
  reverses      text,                 -- the movement this one reverses
  reference     text,
  metadata      jsonb NOT NULL DEFAULT '{}',
  seq           bigint NOT NULL,      -- per item: the order in which movements were applied
  on_hand_after numeric NOT NULL,     -- the item's total on-hand after this movement
  wac_after     numeric NOT NULL,     -- the item's WAC after this movement
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
-- An item's history: seq order, which is also id order (ids of an item's movements are
-- issued above its previous one, sk.item_stock.last_movement_id), so this one index
-- serves both, and lists by item page through it. It leads with the tenant's columns, as
-- every tenant index does (DESIGN.md section 13), though they cost every insert's descent
-- a comparison of equal values at each step: keyed by (item_id, seq), a batch of 1000
-- cost 140M instructions instead of 156M.
CREATE UNIQUE INDEX movements_item_seq_key ON sk.movements (account_id, livemode, item_id, seq);
CREATE INDEX movements_transfer_idx ON sk.movements (account_id, livemode, transfer_id) WHERE transfer_id IS NOT NULL;
CREATE UNIQUE INDEX movements_reverses_key ON sk.movements (account_id, livemode, reverses) WHERE reverses IS NOT NULL;

-- The balance cache: on-hand per (item, location, lot), maintained in the transaction of
-- each movement. sk.verify_balances() proves it equals the log.
CREATE TABLE sk.stock_balances (
  account_id  text NOT NULL DEFAULT sk.current_account(),
  livemode    boolean NOT NULL DEFAULT sk.current_livemode(),
  item_id     text NOT NULL,
  location_id text NOT NULL,
  lot_id      text,
  on_hand     numeric NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT stock_balances_key UNIQUE NULLS NOT DISTINCT (account_id, livemode, item_id, location_id, lot_id)
) WITH (fillfactor = 50);  -- every movement updates a balance: room for HOT updates

-- One row per item: total on-hand and WAC. Every movement locks it (FOR UPDATE), so the
-- movements of one item apply one at a time, in `seq` order, and WAC stays exact.
CREATE TABLE sk.item_stock (
  account_id       text NOT NULL DEFAULT sk.current_account(),
  livemode         boolean NOT NULL DEFAULT sk.current_livemode(),
  item_id          text NOT NULL,
  on_hand          numeric NOT NULL DEFAULT 0,
  wac              numeric NOT NULL DEFAULT 0,
  last_seq         bigint NOT NULL DEFAULT 0,
  last_movement_at timestamptz,
  last_movement_id text,
  PRIMARY KEY (account_id, livemode, item_id)
) WITH (fillfactor = 50);  -- every movement updates its item's row: room for HOT updates

-- Stock objects cache an item's split by location and lot per version of its item_stock
-- row, which every transaction that changes its balances writes (ledger/stock_object).
-- sk.rebuild_balances() deletes the balances first: this frees the splits it made stale
-- on every backend.
CREATE TRIGGER stock_balances_rebuilt AFTER DELETE OR TRUNCATE ON sk.stock_balances
  FOR EACH STATEMENT EXECUTE FUNCTION sk.invalidate_backend_caches();

CREATE FUNCTION sk.movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user), false) THEN
    RAISE EXCEPTION 'sk.movements is append-only: % is not allowed; record a reversing movement instead', tg_op
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END
$$;
-- Statement-level, so it fires even when row-level security leaves no row to touch.
CREATE TRIGGER movements_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON sk.movements
  FOR EACH STATEMENT EXECUTE FUNCTION sk.movements_append_only();

SELECT sk.protect_tenant_table(t)
  FROM unnest(ARRAY['sk.reason_codes', 'sk.lots', 'sk.stock_balances', 'sk.item_stock']::regclass[]) t;
ALTER TABLE sk.movements ENABLE ROW LEVEL SECURITY;
ALTER TABLE sk.movements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON sk.movements FOR SELECT
  USING (account_id = sk.current_account() AND livemode = sk.current_livemode());
CREATE POLICY tenant_append ON sk.movements FOR INSERT
  WITH CHECK (account_id = sk.current_account() AND livemode = sk.current_livemode());

-- The built-in reason codes (fixed ids, creation time 0: listed after the account's
-- own) and the account's codes, as one catalogue.
CREATE VIEW sk.reason_code_catalogue WITH (security_invoker = true) AS
SELECT d.id, d.code, d.description, true AS is_default, 'epoch'::timestamptz AS created_at
  FROM (VALUES
    ('rsn_0000000000000000000000000B', 'order_fulfilled',   'Stock left to fulfil an order.'),
    ('rsn_0000000000000000000000000A', 'purchase_received', 'Stock received from a supplier.'),
    ('rsn_00000000000000000000000009', 'customer_return',   'A customer returned stock.'),
    ('rsn_00000000000000000000000008', 'supplier_return',   'Stock sent back to a supplier.'),
    ('rsn_00000000000000000000000007', 'damaged',           'Stock written off as damaged.'),
    ('rsn_00000000000000000000000006', 'expired',           'Stock written off as expired.'),
    ('rsn_00000000000000000000000005', 'lost',              'Stock that went missing.'),
    ('rsn_00000000000000000000000004', 'found',             'Stock that turned up.'),
    ('rsn_00000000000000000000000003', 'count_variance',    'Difference found by a stock count.'),
    ('rsn_00000000000000000000000002', 'opening_balance',   'Stock on hand when the ledger started.'),
    ('rsn_00000000000000000000000001', 'transfer',          'Stock moved between locations.')
  ) AS d(id, code, description)
UNION ALL
SELECT r.id, r.code, r.description, false, r.created_at FROM sk.reason_codes r;

-- One row per (movement, lot allocation): the log in the grain of the balance cache.
CREATE VIEW sk.ledger_entries WITH (security_invoker = true) AS
SELECT m.account_id, m.livemode, m.id AS movement_id, m.item_id, m.location_id, l.lot_id,
       coalesce(l.qty, m.qty) AS qty, m.seq, m.created_at
  FROM sk.movements m
  LEFT JOIN LATERAL json_to_recordset(m.lots) AS l(lot_id text, qty numeric) ON true;

------------------------------------------------------------------------------
-- Renderers of the ledger's objects.
------------------------------------------------------------------------------

-- Quantities print without trailing zeros; unit costs with 2 to 6 decimals; money in the
-- currency's minor unit.
CREATE FUNCTION sk.qty_text(q numeric) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN trim_scale(q)::text;
CREATE FUNCTION sk.cost_text(c numeric) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN scale(trim_scale(c)) < 2 THEN round(c, 2)::text ELSE trim_scale(c)::text END;
CREATE FUNCTION sk.currency_exponent(currency text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX',
                              'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
            WHEN currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
            ELSE 2 END;
CREATE FUNCTION sk.money_text(amount numeric, currency text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN round(amount, sk.currency_exponent(currency))::text;

-- The movement object, rendered in C with the formats of sk.qty_text, sk.cost_text and
-- sk.rfc3339 (lots are stored in their rendered form): every movement is rendered when it
-- is recorded, 1000 in a batch, and row_to_json over those helpers cost a batch more than
-- its heap inserts.
CREATE FUNCTION sk.movement_json(m sk.movements) RETURNS json
  AS 'MODULE_PATHNAME', 'sk_movement_json' LANGUAGE C STABLE STRICT;
CREATE FUNCTION sk.movement_object(m sk.movements) RETURNS json LANGUAGE sql STABLE
RETURN sk.movement_json(m);

-- The stock renderers are PL/pgSQL so their plans are prepared once per backend (an SQL
-- function with subqueries is planned again on every call).
CREATE FUNCTION sk.reason_code_object(r sk.reason_code_catalogue) RETURNS json LANGUAGE sql STABLE
RETURN (SELECT row_to_json(o) FROM (SELECT
  r.id, 'reason_code' AS object, sk.current_livemode() AS livemode, sk.rfc3339(r.created_at) AS created_at,
  r.code, r.description, r.is_default AS "default") o);

-- The stock object from the balance cache: on-hand, WAC and value now, by location and
-- by lot (non-zero balances only). Rendered in C++ from index lookups (the API's hottest
-- read); SQL callers reach the same renderer through sk.stock_object.
CREATE FUNCTION sk.stock_json(item_id text) RETURNS json
  AS 'MODULE_PATHNAME', 'sk_stock_json' LANGUAGE C STABLE STRICT;
CREATE FUNCTION sk.stock_object(i sk.items) RETURNS json LANGUAGE sql STABLE
RETURN sk.stock_json(i.id);

-- The same object derived from the log alone: as of an instant (movements created at or
-- before it) and/or up to a per-item sequence number. NULL means no limit.
CREATE FUNCTION sk.stock_object_at(i sk.items, as_of timestamptz, upto_seq bigint DEFAULT NULL) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
RETURN (SELECT row_to_json(o) FROM (SELECT
  'stock' AS object, i.id AS item_id, i.sku, i.livemode,
  sk.qty_text(t.on_hand) AS on_hand, sk.cost_text(t.wac) AS wac,
  sk.money_text(t.on_hand * t.wac, a.currency) AS value, a.currency, sk.rfc3339(coalesce(as_of, clock_timestamp())) AS as_of,
  i.reorder_point::text AS reorder_point,
  (SELECT coalesce(sk.compact_array(array_agg(row_to_json(x)::text ORDER BY x.location_id)), '[]') FROM
     (SELECT e.location_id, sk.qty_text(sum(e.qty)) AS on_hand FROM sk.ledger_entries e
       WHERE e.account_id = i.account_id AND e.livemode = i.livemode AND e.item_id = i.id
         AND (as_of IS NULL OR e.created_at <= as_of) AND (upto_seq IS NULL OR e.seq <= upto_seq)
       GROUP BY e.location_id HAVING sum(e.qty) <> 0) x) AS locations,
  (SELECT coalesce(sk.compact_array(array_agg(row_to_json(x)::text ORDER BY x.expires_on NULLS LAST, x.lot_id)), '[]') FROM
     (SELECT e.lot_id, l.code, l.expires_on, sk.qty_text(sum(e.qty)) AS on_hand
        FROM sk.ledger_entries e JOIN sk.lots l ON l.account_id = e.account_id AND l.livemode = e.livemode AND l.id = e.lot_id
       WHERE e.account_id = i.account_id AND e.livemode = i.livemode AND e.item_id = i.id
         AND (as_of IS NULL OR e.created_at <= as_of) AND (upto_seq IS NULL OR e.seq <= upto_seq)
       GROUP BY e.lot_id, l.code, l.expires_on HAVING sum(e.qty) <> 0) x) AS lots
  FROM (SELECT coalesce(sum(m.qty), 0) AS on_hand, coalesce((array_agg(m.wac_after ORDER BY m.seq DESC))[1], 0) AS wac
          FROM sk.movements m
         WHERE m.account_id = i.account_id AND m.livemode = i.livemode AND m.item_id = i.id
           AND (as_of IS NULL OR m.created_at <= as_of) AND (upto_seq IS NULL OR m.seq <= upto_seq)) t,
       sk.accounts a
 WHERE a.id = i.account_id) o);
END
$$;

------------------------------------------------------------------------------
-- Reporting views (RLS of the reader applies: security_invoker).
------------------------------------------------------------------------------
CREATE VIEW sk.stock_on_hand WITH (security_invoker = true) AS
SELECT b.account_id, b.livemode, b.item_id, i.sku, i.name AS item_name, b.location_id, loc.name AS location_name,
       b.lot_id, l.code AS lot_code, l.expires_on, b.on_hand, b.updated_at
  FROM sk.stock_balances b
  JOIN sk.items i ON i.account_id = b.account_id AND i.livemode = b.livemode AND i.id = b.item_id
  JOIN sk.locations loc ON loc.account_id = b.account_id AND loc.livemode = b.livemode AND loc.id = b.location_id
  LEFT JOIN sk.lots l ON l.account_id = b.account_id AND l.livemode = b.livemode AND l.id = b.lot_id
 WHERE b.on_hand <> 0;

CREATE VIEW sk.item_valuation WITH (security_invoker = true) AS
SELECT i.account_id, i.livemode, i.id AS item_id, i.sku, i.name, coalesce(s.on_hand, 0) AS on_hand,
       coalesce(s.wac, 0) AS wac, round(coalesce(s.on_hand, 0) * coalesce(s.wac, 0), sk.currency_exponent(a.currency)) AS value,
       a.currency, i.reorder_point, coalesce(s.on_hand, 0) < i.reorder_point AS below_reorder_point,
       i.archived_at IS NOT NULL AS archived
  FROM sk.items i
  JOIN sk.accounts a ON a.id = i.account_id
  LEFT JOIN sk.item_stock s ON s.account_id = i.account_id AND s.livemode = i.livemode AND s.item_id = i.id;

CREATE VIEW sk.movement_log WITH (security_invoker = true) AS
SELECT m.account_id, m.livemode, m.id AS movement_id, m.created_at, m.item_id, i.sku, m.location_id, m.type, m.qty,
       m.reason, m.unit_cost, m.qty * m.unit_cost AS cost_value, m.lot_id, m.lots, m.transfer_id, m.reverses,
       m.reference, m.metadata, m.seq, m.on_hand_after, m.wac_after
  FROM sk.movements m
  JOIN sk.items i ON i.account_id = m.account_id AND i.livemode = m.livemode AND i.id = m.item_id;

------------------------------------------------------------------------------
-- DBA checks: the cache against the log.
------------------------------------------------------------------------------
-- Every difference between the balance cache and the log (none, ever). Kinds:
--   balance        on-hand of one (item, location, lot)
--   item_on_hand   an item's total on-hand
--   item_wac       an item's WAC against the wac_after of its last movement
--   item_seq       an item's last sequence number
--   on_hand_after  a movement's on_hand_after against the running sum of the log
--                  (both legs of a transfer show the total after the whole transfer)
--   movement_order a movement whose id does not sort after its item's previous one
--                  (an item's ids rise with seq; its history pages along seq)
CREATE FUNCTION sk.verify_balances()
RETURNS TABLE (account_id text, livemode boolean, kind text, item_id text, location_id text, lot_id text,
               movement_id text, cached numeric, derived numeric)
LANGUAGE sql STABLE AS $$
  WITH derived AS (
    SELECT e.account_id, e.livemode, e.item_id, e.location_id, e.lot_id, sum(e.qty) AS on_hand
      FROM sk.ledger_entries e GROUP BY 1, 2, 3, 4, 5
  ), item_log AS (
    SELECT m.account_id, m.livemode, m.item_id, sum(m.qty) AS on_hand, max(m.seq) AS last_seq,
           (array_agg(m.wac_after ORDER BY m.seq DESC))[1] AS wac
      FROM sk.movements m GROUP BY 1, 2, 3
  ), running AS (
    SELECT m.account_id, m.livemode, m.item_id, m.id, m.seq, m.on_hand_after,
           sum(m.qty) OVER w - CASE WHEN m.transfer_id IS NOT NULL AND m.qty < 0 THEN m.qty ELSE 0 END AS expected,
           lag(m.id) OVER w AS previous_id
      FROM sk.movements m
    WINDOW w AS (PARTITION BY m.account_id, m.livemode, m.item_id ORDER BY m.seq)
  )
  SELECT coalesce(b.account_id, d.account_id), coalesce(b.livemode, d.livemode), 'balance',
         coalesce(b.item_id, d.item_id), coalesce(b.location_id, d.location_id), coalesce(b.lot_id, d.lot_id), NULL,
         coalesce(b.on_hand, 0), coalesce(d.on_hand, 0)
    FROM sk.stock_balances b
    FULL JOIN derived d ON d.account_id = b.account_id AND d.livemode = b.livemode AND d.item_id = b.item_id
                       AND d.location_id = b.location_id AND coalesce(d.lot_id, '') = coalesce(b.lot_id, '')
   WHERE coalesce(b.on_hand, 0) <> coalesce(d.on_hand, 0)
  UNION ALL
  SELECT coalesce(s.account_id, l.account_id), coalesce(s.livemode, l.livemode), 'item_on_hand',
         coalesce(s.item_id, l.item_id), NULL, NULL, NULL, coalesce(s.on_hand, 0), coalesce(l.on_hand, 0)
    FROM sk.item_stock s
    FULL JOIN item_log l ON l.account_id = s.account_id AND l.livemode = s.livemode AND l.item_id = s.item_id
   WHERE coalesce(s.on_hand, 0) <> coalesce(l.on_hand, 0)
  UNION ALL
  SELECT s.account_id, s.livemode, 'item_wac', s.item_id, NULL, NULL, NULL, s.wac, coalesce(l.wac, 0)
    FROM sk.item_stock s
    LEFT JOIN item_log l ON l.account_id = s.account_id AND l.livemode = s.livemode AND l.item_id = s.item_id
   WHERE s.wac <> coalesce(l.wac, 0)
  UNION ALL
  SELECT s.account_id, s.livemode, 'item_seq', s.item_id, NULL, NULL, NULL, s.last_seq, coalesce(l.last_seq, 0)
    FROM sk.item_stock s
    LEFT JOIN item_log l ON l.account_id = s.account_id AND l.livemode = s.livemode AND l.item_id = s.item_id
   WHERE s.last_seq <> coalesce(l.last_seq, 0)
  UNION ALL
  SELECT r.account_id, r.livemode, 'on_hand_after', r.item_id, NULL, NULL, r.id, r.on_hand_after, r.expected
    FROM running r WHERE r.on_hand_after <> r.expected
  UNION ALL
  SELECT r.account_id, r.livemode, 'movement_order', r.item_id, NULL, NULL, r.id, r.seq, NULL
    FROM running r WHERE r.id <= r.previous_id
$$;

-- Rebuilds the whole cache from the log; returns the number of balance rows written.
-- Blocks new movements meanwhile (they lock item_stock rows).
CREATE FUNCTION sk.rebuild_balances() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  LOCK TABLE sk.item_stock, sk.stock_balances IN EXCLUSIVE MODE;
  DELETE FROM sk.stock_balances;
  INSERT INTO sk.stock_balances (account_id, livemode, item_id, location_id, lot_id, on_hand)
  SELECT e.account_id, e.livemode, e.item_id, e.location_id, e.lot_id, sum(e.qty)
    FROM sk.ledger_entries e GROUP BY 1, 2, 3, 4, 5;
  GET DIAGNOSTICS n = ROW_COUNT;
  DELETE FROM sk.item_stock;
  INSERT INTO sk.item_stock (account_id, livemode, item_id, on_hand, wac, last_seq, last_movement_at, last_movement_id)
  SELECT m.account_id, m.livemode, m.item_id, sum(m.qty), (array_agg(m.wac_after ORDER BY m.seq DESC))[1],
         max(m.seq), max(m.created_at), max(m.id)
    FROM sk.movements m GROUP BY 1, 2, 3;
  RETURN n;
END
$$;

------------------------------------------------------------------------------
-- Ownership and privileges of the ledger.
------------------------------------------------------------------------------
ALTER TABLE sk.movements OWNER TO sk_owner;
ALTER VIEW sk.reason_code_catalogue OWNER TO sk_owner;
ALTER VIEW sk.ledger_entries OWNER TO sk_owner;
ALTER VIEW sk.stock_on_hand OWNER TO sk_owner;
ALTER VIEW sk.item_valuation OWNER TO sk_owner;
ALTER VIEW sk.movement_log OWNER TO sk_owner;
-- The owner may append to the log and read it; nobody but a superuser changes it.
REVOKE UPDATE, DELETE, TRUNCATE ON sk.movements FROM sk_owner;

REVOKE ALL ON FUNCTION sk.movements_append_only(), sk.qty_text(numeric), sk.cost_text(numeric),
  sk.currency_exponent(text), sk.money_text(numeric, text), sk.compact_array(text[]),
  sk.movement_json(sk.movements), sk.movement_object(sk.movements), sk.reason_code_object(sk.reason_code_catalogue),
  sk.stock_json(text), sk.stock_object(sk.items), sk.stock_object_at(sk.items, timestamptz, bigint),
  sk.verify_balances(), sk.rebuild_balances() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sk.qty_text(numeric), sk.cost_text(numeric), sk.currency_exponent(text),
  sk.money_text(numeric, text), sk.compact_array(text[]), sk.movement_json(sk.movements), sk.movement_object(sk.movements),
  sk.reason_code_object(sk.reason_code_catalogue), sk.stock_json(text), sk.stock_object(sk.items),
  sk.stock_object_at(sk.items, timestamptz, bigint) TO sk_owner, sk_reporting;

GRANT SELECT ON sk.reason_codes, sk.lots, sk.movements, sk.stock_balances, sk.item_stock,
  sk.reason_code_catalogue, sk.ledger_entries, sk.stock_on_hand, sk.item_valuation, sk.movement_log TO sk_reporting;
-- ==== Purchasing, lots and day-end (issue 5) ====
-- Goods received notes with landed cost, the lot expiry warning, stock counts and the
-- day-end close that books count variances forward as current-dated adjustments.

CREATE TABLE sk.grns (
  account_id   text NOT NULL DEFAULT sk.current_account(),
  livemode     boolean NOT NULL DEFAULT sk.current_livemode(),
  id           text NOT NULL DEFAULT sk.new_id('grn'),
  status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'completed', 'cancelled')),
  supplier     text,
  reference    text,
  location_id  text NOT NULL,
  metadata     jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  cancelled_at timestamptz,
  PRIMARY KEY (account_id, livemode, id)
);

CREATE TABLE sk.grn_lines (
  account_id       text NOT NULL DEFAULT sk.current_account(),
  livemode         boolean NOT NULL DEFAULT sk.current_livemode(),
  grn_id           text NOT NULL,
  line_no          integer NOT NULL,
  item_id          text NOT NULL,
  qty              numeric NOT NULL CHECK (qty > 0),
  unit_cost        numeric NOT NULL CHECK (unit_cost >= 0),
  lot_code         text,
  lot_expires_on   date,
  landed_unit_cost numeric,            -- set on completion: unit cost plus allocated landed cost
  lot_id           text,               -- set on completion for lot-tracked items
  movement_id      text,               -- the receipt posted for this line
  PRIMARY KEY (account_id, livemode, grn_id, line_no)
);

CREATE TABLE sk.grn_landed_costs (
  account_id  text NOT NULL DEFAULT sk.current_account(),
  livemode    boolean NOT NULL DEFAULT sk.current_livemode(),
  grn_id      text NOT NULL,
  line_no     integer NOT NULL,
  description text,
  amount      numeric NOT NULL CHECK (amount >= 0),
  allocation  text NOT NULL CHECK (allocation IN ('value', 'quantity')),
  PRIMARY KEY (account_id, livemode, grn_id, line_no)
);

CREATE TABLE sk.counts (
  account_id    text NOT NULL DEFAULT sk.current_account(),
  livemode      boolean NOT NULL DEFAULT sk.current_livemode(),
  id            text NOT NULL DEFAULT sk.new_id('cnt'),
  business_date date NOT NULL,
  counted_at    timestamptz NOT NULL,
  reference     text,
  metadata      jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
CREATE INDEX counts_business_date_idx ON sk.counts (account_id, livemode, business_date);

CREATE TABLE sk.count_lines (
  account_id  text NOT NULL DEFAULT sk.current_account(),
  livemode    boolean NOT NULL DEFAULT sk.current_livemode(),
  count_id    text NOT NULL,
  line_no     integer NOT NULL,
  item_id     text NOT NULL,
  location_id text NOT NULL,
  lot_id      text,
  counted_qty numeric NOT NULL CHECK (counted_qty >= 0),
  PRIMARY KEY (account_id, livemode, count_id, line_no)
);

CREATE TABLE sk.dayend_closes (
  account_id    text NOT NULL DEFAULT sk.current_account(),
  livemode      boolean NOT NULL DEFAULT sk.current_livemode(),
  id            text NOT NULL DEFAULT sk.new_id('dec'),
  business_date date NOT NULL,
  location_id   text,                  -- null: the whole account
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, livemode, id)
);
CREATE UNIQUE INDEX dayend_closes_scope_key ON sk.dayend_closes (account_id, livemode, business_date, location_id)
  NULLS NOT DISTINCT;

CREATE TABLE sk.dayend_variances (
  account_id     text NOT NULL DEFAULT sk.current_account(),
  livemode       boolean NOT NULL DEFAULT sk.current_livemode(),
  close_id       text NOT NULL,
  line_no        integer NOT NULL,
  count_id       text NOT NULL,
  item_id        text NOT NULL,
  location_id    text NOT NULL,
  lot_id         text,
  counted_at     timestamptz NOT NULL,
  counted_qty    numeric NOT NULL,
  expected_qty   numeric NOT NULL,     -- on-hand from the log at the counting instant
  variance_qty   numeric NOT NULL,     -- counted - expected
  variance_value numeric NOT NULL,     -- variance_qty at the item's WAC when booked
  movement_id    text,                 -- the count_variance adjustment; null when no variance
  PRIMARY KEY (account_id, livemode, close_id, line_no)
);

-- lot.expiring fires once per lot: the scan marks the lot.
ALTER TABLE sk.lots ADD COLUMN expiring_notified_at timestamptz;

SELECT sk.protect_tenant_table(t)
  FROM unnest(ARRAY['sk.grns', 'sk.grn_lines', 'sk.grn_landed_costs', 'sk.counts', 'sk.count_lines',
                    'sk.dayend_closes', 'sk.dayend_variances']::regclass[]) t;

-- Renderers (PL/pgSQL: their plans are prepared once per backend).
CREATE FUNCTION sk.grn_object(g sk.grns) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
RETURN (SELECT row_to_json(o) FROM (SELECT
  g.id, 'grn' AS object, g.livemode, sk.rfc3339(g.created_at) AS created_at, g.status, g.supplier, g.reference,
  g.location_id, a.currency,
  (SELECT coalesce(sk.compact_array(array_agg(row_to_json(x)::text ORDER BY x.n)), '[]') FROM (SELECT
      l.line_no AS n, l.item_id, sk.qty_text(l.qty) AS qty, sk.cost_text(l.unit_cost) AS unit_cost,
      CASE WHEN l.lot_code IS NOT NULL THEN
        (SELECT row_to_json(z) FROM (SELECT l.lot_code AS code, l.lot_expires_on AS expires_on) z) END AS lot,
      l.lot_id, sk.cost_text(l.landed_unit_cost) AS landed_unit_cost, l.movement_id
     FROM sk.grn_lines l WHERE (l.account_id, l.livemode, l.grn_id) = (g.account_id, g.livemode, g.id)) x) AS lines,
  (SELECT coalesce(sk.compact_array(array_agg(row_to_json(x)::text ORDER BY x.n)), '[]') FROM (SELECT
      c.line_no AS n, c.description, sk.money_text(c.amount, a.currency) AS amount, c.allocation
     FROM sk.grn_landed_costs c WHERE (c.account_id, c.livemode, c.grn_id) = (g.account_id, g.livemode, g.id)) x)
    AS landed_costs,
  g.metadata, sk.rfc3339(g.completed_at) AS completed_at, sk.rfc3339(g.cancelled_at) AS cancelled_at,
  sk.rfc3339(g.updated_at) AS updated_at
  FROM sk.accounts a WHERE a.id = g.account_id) o);
END
$$;

CREATE FUNCTION sk.count_object(c sk.counts) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
RETURN (SELECT row_to_json(o) FROM (SELECT
  c.id, 'count' AS object, c.livemode, sk.rfc3339(c.created_at) AS created_at, c.business_date,
  sk.rfc3339(c.counted_at) AS counted_at, c.reference,
  (SELECT coalesce(sk.compact_array(array_agg(row_to_json(x)::text ORDER BY x.n)), '[]') FROM (SELECT
      l.line_no AS n, l.item_id, l.location_id, l.lot_id, sk.qty_text(l.counted_qty) AS counted_qty
     FROM sk.count_lines l WHERE (l.account_id, l.livemode, l.count_id) = (c.account_id, c.livemode, c.id)) x) AS lines,
  c.metadata) o);
END
$$;

CREATE FUNCTION sk.dayend_close_object(d sk.dayend_closes) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
RETURN (SELECT row_to_json(o) FROM (SELECT
  d.id, 'dayend_close' AS object, d.livemode, sk.rfc3339(d.created_at) AS created_at, d.business_date,
  d.location_id, a.currency,
  (SELECT coalesce(sk.compact_array(array_agg(row_to_json(x)::text ORDER BY x.n)), '[]') FROM (SELECT
      v.line_no AS n, v.count_id, v.item_id, v.location_id, v.lot_id, sk.rfc3339(v.counted_at) AS counted_at,
      sk.qty_text(v.counted_qty) AS counted_qty, sk.qty_text(v.expected_qty) AS expected_qty,
      sk.qty_text(v.variance_qty) AS variance_qty, sk.money_text(v.variance_value, a.currency) AS variance_value,
      v.movement_id
     FROM sk.dayend_variances v WHERE (v.account_id, v.livemode, v.close_id) = (d.account_id, d.livemode, d.id)) x)
    AS variances,
  sk.money_text(coalesce((SELECT sum(v.variance_value) FROM sk.dayend_variances v
                           WHERE (v.account_id, v.livemode, v.close_id) = (d.account_id, d.livemode, d.id)), 0),
                a.currency) AS variance_value_total
  FROM sk.accounts a WHERE a.id = d.account_id) o);
END
$$;

-- A lot with its stock: on-hand in total and by location.
CREATE FUNCTION sk.lot_stock_object(l sk.lots) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
RETURN (SELECT row_to_json(o) FROM (SELECT
  l.id, 'lot' AS object, l.livemode, sk.rfc3339(l.created_at) AS created_at, l.item_id, l.code, l.expires_on,
  l.expires_on < current_date AS expired,
  sk.qty_text(coalesce((SELECT sum(b.on_hand) FROM sk.stock_balances b
                         WHERE (b.account_id, b.livemode, b.lot_id) = (l.account_id, l.livemode, l.id)), 0)) AS on_hand,
  (SELECT coalesce(sk.compact_array(array_agg(row_to_json(x)::text ORDER BY x.location_id)), '[]') FROM (SELECT
      b.location_id, sk.qty_text(b.on_hand) AS on_hand FROM sk.stock_balances b
     WHERE (b.account_id, b.livemode, b.lot_id) = (l.account_id, l.livemode, l.id) AND b.on_hand <> 0) x) AS locations) o);
END
$$;

-- On-hand of one (item, location, lot) from the log at an instant.
CREATE FUNCTION sk.on_hand_at(item text, location text, lot text, at timestamptz) RETURNS numeric
LANGUAGE sql STABLE
RETURN coalesce((SELECT sum(e.qty) FROM sk.ledger_entries e
                  WHERE e.item_id = item AND e.location_id = location AND e.lot_id IS NOT DISTINCT FROM lot
                    AND e.created_at <= at), 0);

CREATE FUNCTION sk.scan_expiring_lots() RETURNS integer
  AS 'MODULE_PATHNAME', 'sk_scan_expiring_lots' LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION sk.scan_expiring_lots() FROM PUBLIC;
REVOKE ALL ON FUNCTION sk.grn_object(sk.grns), sk.count_object(sk.counts), sk.dayend_close_object(sk.dayend_closes),
                       sk.lot_stock_object(sk.lots), sk.on_hand_at(text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sk.grn_object(sk.grns), sk.count_object(sk.counts), sk.dayend_close_object(sk.dayend_closes),
                          sk.lot_stock_object(sk.lots), sk.on_hand_at(text, text, text, timestamptz) TO sk_owner;
GRANT SELECT ON sk.grns, sk.grn_lines, sk.grn_landed_costs, sk.counts, sk.count_lines, sk.dayend_closes,
                sk.dayend_variances TO sk_reporting;
