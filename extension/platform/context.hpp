// The tenant context: which (account, mode) this backend acts for. Backend-local C++
// state set only by key verification (or by the DBA functions for the account they
// manage) and cleared at transaction end; never a GUC, so SQL cannot forge it.
#pragma once
#include <optional>
#include <string>

namespace sk::context {

struct Tenant {
  std::string account_id;
  bool livemode = false;

  // A key for what a backend caches per tenant ("acct_…/test/itm_…"): a pooled backend
  // serves many tenants, and RLS decides what each may see.
  std::string key(const std::string& id = "") const { return account_id + (livemode ? "/live/" : "/test/") + id; }
};

void set_tenant(const Tenant& t);
void clear();
std::optional<Tenant> tenant();

// Scoped: set on construction, restored on destruction.
class TenantScope {
 public:
  explicit TenantScope(const Tenant& t);
  ~TenantScope();
  TenantScope(const TenantScope&) = delete;
  TenantScope& operator=(const TenantScope&) = delete;

 private:
  std::optional<Tenant> previous_;
};

// While alive, policies named auth_lookup let the owner read keys and role mappings.
class AuthLookupScope {
 public:
  AuthLookupScope();
  ~AuthLookupScope();
  AuthLookupScope(const AuthLookupScope&) = delete;
  AuthLookupScope& operator=(const AuthLookupScope&) = delete;
};

bool auth_lookup_active();

void register_callbacks();  // from _PG_init

}  // namespace sk::context
