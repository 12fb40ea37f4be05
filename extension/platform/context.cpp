#include "platform/context.hpp"

#include "pg/guard.hpp"
#include "pg/postgres.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "utils/lsyscache.h"
}

namespace sk::context {
namespace {

std::optional<Tenant> g_tenant;
bool g_auth_lookup = false;

// Reporting roles: the mapping of the current role, cached for one transaction.
struct ReportingCache {
  bool valid = false;
  Oid role = InvalidOid;
  std::optional<Tenant> tenant;
} g_reporting;

void on_xact_end(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_PREPARE:
      g_tenant.reset();
      g_auth_lookup = false;
      g_reporting = ReportingCache{};
      break;
    default:
      break;
  }
}

// Looks up the role's reporting mapping as the extension's owner, the way a
// SECURITY DEFINER function would, so reporting roles need no access to the mapping.
const std::optional<Tenant>& reporting_tenant() {
  Oid role = GetUserId();
  if (g_reporting.valid && g_reporting.role == role) return g_reporting.tenant;
  Oid owner = get_role_oid("sk_owner", true);
  std::optional<Tenant> found;
  if (OidIsValid(owner)) {
    Oid saved_user;
    int saved_sec;
    GetUserIdAndSecContext(&saved_user, &saved_sec);
    SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
    try {
      pg::SpiSession spi;
      AuthLookupScope lookup;
      char* name = GetUserNameFromId(role, true);
      if (name) {
        auto r = pg::exec("SELECT account_id, livemode::text FROM sk.reporting_roles WHERE role_name = $1", {std::string(name)});
        if (!r.empty()) found = Tenant{r.rows[0].text(0), r.rows[0].text(1) == "true"};
      }
    } catch (...) {
      SetUserIdAndSecContext(saved_user, saved_sec);
      throw;
    }
    SetUserIdAndSecContext(saved_user, saved_sec);
  }
  g_reporting = ReportingCache{true, role, found};
  return g_reporting.tenant;
}

// Not a copy: policies and column defaults call sk.current_account() and
// sk.current_livemode() a dozen times per movement, and a copied account id is a heap
// allocation each time. Valid until the tenant or the role changes.
const Tenant* effective_tenant() {
  if (g_tenant) return &*g_tenant;
  // During a lookup the policies of the mapping table itself call us: no recursion.
  if (g_auth_lookup || !IsTransactionState()) return nullptr;
  const std::optional<Tenant>& reporting = reporting_tenant();
  return reporting ? &*reporting : nullptr;
}

}  // namespace

void set_tenant(const Tenant& t) { g_tenant = t; }
void clear() { g_tenant.reset(); }
std::optional<Tenant> tenant() { return g_tenant; }

TenantScope::TenantScope(const Tenant& t) : previous_(g_tenant) { g_tenant = t; }
TenantScope::~TenantScope() { g_tenant = previous_; }

AuthLookupScope::AuthLookupScope() { g_auth_lookup = true; }
AuthLookupScope::~AuthLookupScope() { g_auth_lookup = false; }

bool auth_lookup_active() { return g_auth_lookup; }

void register_callbacks() { RegisterXactCallback(on_xact_end, nullptr); }

}  // namespace sk::context

using sk::pg::guarded;

extern "C" {
PG_FUNCTION_INFO_V1(sk_current_account);
PG_FUNCTION_INFO_V1(sk_current_livemode);
PG_FUNCTION_INFO_V1(sk_auth_lookup_active);

Datum sk_current_account(PG_FUNCTION_ARGS) {
  return guarded([&]() -> Datum {
    const sk::context::Tenant* t = sk::context::effective_tenant();
    if (!t) PG_RETURN_NULL();
    return PointerGetDatum(cstring_to_text_with_len(t->account_id.data(), static_cast<int>(t->account_id.size())));
  });
}

Datum sk_current_livemode(PG_FUNCTION_ARGS) {
  return guarded([&]() -> Datum {
    const sk::context::Tenant* t = sk::context::effective_tenant();
    if (!t) PG_RETURN_NULL();
    return BoolGetDatum(t->livemode);
  });
}

Datum sk_auth_lookup_active(PG_FUNCTION_ARGS) { return BoolGetDatum(sk::context::auth_lookup_active()); }
}
