// DBA functions: accounts, keys and reporting roles, managed from SQL by a superuser.
// Each acts for exactly the tenant it manages by setting the context itself, so the
// rows it writes pass the same policies as API writes.
#include "pg/guard.hpp"
#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/api_keys.hpp"
#include "platform/auth.hpp"
#include "platform/context.hpp"
#include "platform/idempotency.hpp"
#include "platform/ulid.hpp"

extern "C" {
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
}

namespace sk::platform {
namespace {

using context::Tenant;
using context::TenantScope;

std::string arg_text(FunctionCallInfo fcinfo, int n) {
  text* t = PG_GETARG_TEXT_PP(n);
  return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// The tenant of a key, found through the auth_lookup policy.
Tenant key_tenant(const std::string& key_id) {
  context::AuthLookupScope lookup;
  auto r = pg::exec("SELECT account_id, livemode::text FROM sk.api_keys WHERE id = $1", {key_id});
  if (r.empty()) api::fail(404, "resource_missing", "No such API key: '" + key_id + "'.");
  return Tenant{r.rows[0].text(0), r.rows[0].text(1) == "true"};
}

void require_account(const std::string& account_id) {
  TenantScope scope(Tenant{account_id, false});
  if (pg::exec("SELECT 1 FROM sk.accounts WHERE id = $1", {account_id}).empty())
    api::fail(404, "resource_missing", "No such account: '" + account_id + "'.");
}

// A reporting role sees its tenant through RLS alone: a role that bypasses RLS would see
// every tenant, and the extension's own roles must never carry a tenant.
void require_rls_bound(Oid role, const std::string& name) {
  bool bypasses = pg::exec_value("SELECT (rolsuper OR rolbypassrls)::text FROM pg_roles WHERE oid = $1::oid",
                                 {std::to_string(role)}) == "true";
  if (bypasses || name == "sk_owner" || name == "sk_api" || name == "sk_reporting")
    api::fail(400, "role_not_bound_by_rls",
              "Role '" + name + "' bypasses row-level security or is one of the extension's own roles; map a role bound by RLS.");
}

// jsonb from text, converted outside the C++ frames (jsonb_in may raise).
Datum jsonb_result(Datum cstring) { return DirectFunctionCall1(jsonb_in, cstring); }

Datum cstring_datum(const std::string& s) {
  void* mem = palloc_extended(s.size() + 1, MCXT_ALLOC_NO_OOM);
  if (!mem) throw std::bad_alloc();
  memcpy(mem, s.data(), s.size());
  static_cast<char*>(mem)[s.size()] = '\0';
  return PointerGetDatum(mem);
}

}  // namespace

// Creates one mode's world for an account: its default location and first secret key.
std::string bootstrap_mode(const std::string& account_id, bool livemode) {
  TenantScope scope(Tenant{account_id, livemode});
  pg::exec("INSERT INTO sk.locations (name, type, is_default) VALUES ('Default', 'warehouse', true)");
  return auth::issue(false, {"read", "write"}, std::string("Default secret key")).secret;
}

}  // namespace sk::platform

using sk::pg::guarded;

extern "C" {
PG_FUNCTION_INFO_V1(sk_create_account);
PG_FUNCTION_INFO_V1(sk_create_api_key);
PG_FUNCTION_INFO_V1(sk_revoke_api_key);
PG_FUNCTION_INFO_V1(sk_roll_api_key);
PG_FUNCTION_INFO_V1(sk_grant_reporting);
PG_FUNCTION_INFO_V1(sk_revoke_reporting);
PG_FUNCTION_INFO_V1(sk_prune_idempotency_keys);

Datum sk_create_account(PG_FUNCTION_ARGS) {
  using namespace sk::platform;
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("name must not be null")));
  Datum out = guarded([&]() -> Datum {
    std::string name = arg_text(fcinfo, 0);
    std::string currency = PG_ARGISNULL(1) ? "USD" : arg_text(fcinfo, 1);
    for (auto& c : currency) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (currency.size() != 3 || currency.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
      sk::api::fail(400, "currency_invalid", "currency must be an ISO 4217 code such as USD");
    sk::pg::SpiSession spi;
    static sk::ulid::Generator ids;
    std::string account_id = ids.next_id("acct");
    {
      TenantScope scope(Tenant{account_id, false});
      sk::pg::exec("INSERT INTO sk.accounts (id, name, currency) VALUES ($1, $2, $3)", {account_id, name, currency});
    }
    std::string test_key = bootstrap_mode(account_id, false);
    std::string live_key = bootstrap_mode(account_id, true);
    sk::json::Value v = sk::json::Value::object({
        {"account_id", sk::json::Value::string(account_id)},
        {"test_secret_key", sk::json::Value::string(test_key)},
        {"live_secret_key", sk::json::Value::string(live_key)},
    });
    return cstring_datum(v.dump());
  });
  return jsonb_result(out);
}

Datum sk_create_api_key(PG_FUNCTION_ARGS) {
  using namespace sk::platform;
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("account_id, livemode, kind and scopes are required")));
  // array_to_text caches in fn_extra, so it needs a real FmgrInfo, not DirectFunctionCall.
  FmgrInfo array_to_text_info;
  fmgr_info(F_ARRAY_TO_STRING_ANYARRAY_TEXT, &array_to_text_info);
  Datum scopes_text = FunctionCall2(&array_to_text_info, PG_GETARG_DATUM(3), CStringGetTextDatum(","));
  Datum out = guarded([&]() -> Datum {
    std::string account_id = arg_text(fcinfo, 0);
    bool livemode = PG_GETARG_BOOL(1);
    std::string kind = arg_text(fcinfo, 2);
    text* st = DatumGetTextPP(scopes_text);
    std::string scopes(VARDATA_ANY(st), VARSIZE_ANY_EXHDR(st));
    if (kind != "secret" && kind != "restricted") sk::api::fail(400, "kind_invalid", "kind must be secret or restricted");
    if (scopes != "read" && scopes != "read,write")
      sk::api::fail(400, "scopes_invalid", "scopes must be {read} or {read,write}");
    std::optional<std::string> name;
    if (!PG_ARGISNULL(4)) name = arg_text(fcinfo, 4);
    sk::pg::SpiSession spi;
    require_account(account_id);
    TenantScope scope(Tenant{account_id, livemode});
    std::vector<std::string> list = scopes == "read" ? std::vector<std::string>{"read"} : std::vector<std::string>{"read", "write"};
    return cstring_datum(sk::auth::issue(kind == "restricted", list, name).object_json);
  });
  return jsonb_result(out);
}

Datum sk_revoke_api_key(PG_FUNCTION_ARGS) {
  using namespace sk::platform;
  return guarded([&]() -> Datum {
    std::string key_id = arg_text(fcinfo, 0);
    sk::pg::SpiSession spi;
    TenantScope scope(key_tenant(key_id));
    auto r = sk::pg::exec(
        "UPDATE sk.api_keys SET expires_at = now() WHERE id = $1 AND (expires_at IS NULL OR expires_at > now()) RETURNING 1",
        {key_id});
    return BoolGetDatum(!r.empty());
  });
}

Datum sk_roll_api_key(PG_FUNCTION_ARGS) {
  using namespace sk::platform;
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("key_id is required")));
  Datum grace = PG_ARGISNULL(1) ? (Datum)0 : DirectFunctionCall1(interval_out, PG_GETARG_DATUM(1));
  Datum out = guarded([&]() -> Datum {
    std::string key_id = arg_text(fcinfo, 0);
    std::string grace_text = grace ? DatumGetCString(grace) : "0";
    sk::pg::SpiSession spi;
    TenantScope scope(key_tenant(key_id));
    return cstring_datum(roll_key(key_id, grace_text));
  });
  return jsonb_result(out);
}

Datum sk_grant_reporting(PG_FUNCTION_ARGS) {
  using namespace sk::platform;
  Oid role = PG_GETARG_OID(0);
  char* role_name = GetUserNameFromId(role, false);
  return guarded([&]() -> Datum {
    std::string account_id = arg_text(fcinfo, 1);
    bool livemode = PG_GETARG_BOOL(2);
    sk::pg::SpiSession spi;
    require_account(account_id);
    require_rls_bound(role, role_name);
    sk::pg::exec("DELETE FROM sk.reporting_roles WHERE role_name = $1", {std::string(role_name)});
    {
      TenantScope scope(Tenant{account_id, livemode});
      sk::pg::exec("INSERT INTO sk.reporting_roles (role_name) VALUES ($1)", {std::string(role_name)});
    }
    sk::pg::exec_utility("GRANT sk_reporting TO " + sk::pg::quote_identifier(role_name));
    return 0;
  });
}

Datum sk_revoke_reporting(PG_FUNCTION_ARGS) {
  Oid role = PG_GETARG_OID(0);
  char* role_name = GetUserNameFromId(role, false);
  return guarded([&]() -> Datum {
    sk::pg::SpiSession spi;
    sk::pg::exec("DELETE FROM sk.reporting_roles WHERE role_name = $1", {std::string(role_name)});
    sk::pg::exec_utility("REVOKE sk_reporting FROM " + sk::pg::quote_identifier(role_name));
    return 0;
  });
}

Datum sk_prune_idempotency_keys(PG_FUNCTION_ARGS) {
  return guarded([&]() -> Datum {
    sk::pg::SpiSession spi;
    return Int64GetDatum(static_cast<int64>(sk::idempotency::prune()));
  });
}
}
