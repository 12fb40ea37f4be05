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
CREATE FUNCTION sk.current_account() RETURNS text
  AS 'MODULE_PATHNAME', 'sk_current_account' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION sk.current_livemode() RETURNS boolean
  AS 'MODULE_PATHNAME', 'sk_current_livemode' LANGUAGE C STABLE PARALLEL RESTRICTED;
-- True only while the C++ key verification (or reporting-role lookup) is reading.
CREATE FUNCTION sk.auth_lookup_active() RETURNS boolean
  AS 'MODULE_PATHNAME', 'sk_auth_lookup_active' LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION sk.new_id(prefix text) RETURNS text
  AS 'MODULE_PATHNAME', 'sk_new_id' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
CREATE FUNCTION sk.id_time(id text) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'sk_id_time' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- RFC 3339 in UTC with microseconds: exact enough to round-trip into ?as_of= filters.
CREATE FUNCTION sk.rfc3339(t timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

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
  body         text,
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
CREATE INDEX events_type_idx ON sk.events (account_id, livemode, type, id);

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

------------------------------------------------------------------------------
-- Row-level security: enabled and forced on every table, so even the owner sees
-- only the tenant of the verified key.
------------------------------------------------------------------------------
DO $rls$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['api_keys', 'reporting_roles', 'idempotency_keys', 'events', 'locations', 'items'] LOOP
    EXECUTE format('ALTER TABLE sk.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE sk.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant ON sk.%I
                       USING (account_id = sk.current_account() AND livemode = sk.current_livemode())
                       WITH CHECK (account_id = sk.current_account() AND livemode = sk.current_livemode())$p$, t);
  END LOOP;
END
$rls$;

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
CREATE FUNCTION sk.item_object(i sk.items) RETURNS json LANGUAGE sql STABLE
RETURN (SELECT row_to_json(o) FROM (SELECT
  i.id, 'item' AS object, i.livemode, sk.rfc3339(i.created_at) AS created_at,
  i.sku, i.name, i.unit, i.reorder_point::text AS reorder_point, i.track_lots, i.negative_stock,
  i.archived_at IS NOT NULL AS archived, i.metadata, sk.rfc3339(i.updated_at) AS updated_at) o);

CREATE FUNCTION sk.location_object(l sk.locations) RETURNS json LANGUAGE sql STABLE
RETURN (SELECT row_to_json(o) FROM (SELECT
  l.id, 'location' AS object, l.livemode, sk.rfc3339(l.created_at) AS created_at,
  l.name, l.code, l.type, l.is_default, l.metadata, sk.rfc3339(l.updated_at) AS updated_at) o);

CREATE FUNCTION sk.api_key_object(k sk.api_keys) RETURNS json LANGUAGE sql STABLE
RETURN (SELECT row_to_json(o) FROM (SELECT
  k.id, 'api_key' AS object, k.livemode, sk.rfc3339(k.created_at) AS created_at,
  k.name, k.kind AS type, k.scopes, k.redacted, sk.rfc3339(k.expires_at) AS expires_at) o);

CREATE FUNCTION sk.event_object(e sk.events) RETURNS json LANGUAGE sql STABLE
RETURN (SELECT row_to_json(o) FROM (SELECT
  e.id, 'event' AS object, e.type, e.livemode, sk.rfc3339(e.created_at) AS created_at, e.data) o);

-- Merges metadata the Stripe way: a key set to "" is removed.
CREATE FUNCTION sk.merge_metadata(current jsonb, patch jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE
RETURN CASE WHEN patch IS NULL THEN current
       ELSE (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
               FROM jsonb_each(current || patch) WHERE value <> '""'::jsonb) END;

------------------------------------------------------------------------------
-- Entry point of the API: one call per HTTP request (DESIGN.md section 1).
------------------------------------------------------------------------------
CREATE FUNCTION sk.invoke(method text, path text, query text, authorization text,
                          idempotency_key text, request_id text, body text,
                          OUT status integer, OUT content_type text, OUT body text, OUT replayed boolean)
  AS 'MODULE_PATHNAME', 'sk_invoke' LANGUAGE C VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp;

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
-- Ownership and privileges.
------------------------------------------------------------------------------
ALTER TABLE sk.accounts OWNER TO sk_owner;
ALTER TABLE sk.api_keys OWNER TO sk_owner;
ALTER TABLE sk.reporting_roles OWNER TO sk_owner;
ALTER TABLE sk.idempotency_keys OWNER TO sk_owner;
ALTER TABLE sk.events OWNER TO sk_owner;
ALTER TABLE sk.locations OWNER TO sk_owner;
ALTER TABLE sk.items OWNER TO sk_owner;
ALTER FUNCTION sk.invoke(text, text, text, text, text, text, text) OWNER TO sk_owner;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA sk FROM PUBLIC;
-- Policies call these as whichever role runs the query.
GRANT EXECUTE ON FUNCTION sk.current_account(), sk.current_livemode(), sk.auth_lookup_active(),
                          sk.rfc3339(timestamptz), sk.id_time(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION sk.new_id(text), sk.item_object(sk.items), sk.location_object(sk.locations),
                          sk.api_key_object(sk.api_keys), sk.event_object(sk.events),
                          sk.merge_metadata(jsonb, jsonb) TO sk_owner;
GRANT EXECUTE ON FUNCTION sk.invoke(text, text, text, text, text, text, text), sk.openapi() TO sk_api;

-- Reporting roles read; RLS decides which rows. Key hashes are not theirs to read.
GRANT SELECT ON sk.accounts, sk.events, sk.locations, sk.items TO sk_reporting;
GRANT EXECUTE ON FUNCTION sk.item_object(sk.items), sk.location_object(sk.locations),
                          sk.event_object(sk.events) TO sk_reporting;
