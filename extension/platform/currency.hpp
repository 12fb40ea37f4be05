// The current tenant's currency, per backend. An account's currency is set when it is
// created and the API never changes it, so the stock renderer need not join sk.accounts
// on every read; a DBA's change to sk.accounts drops the cache when it commits
// (sk.invalidate_backend_caches, platform/caches).
#pragma once
#include <optional>
#include <string>

namespace sk::currency {

struct Currency {
  std::string code;  // ISO 4217
  int exponent;      // decimals of its minor unit (sk.currency_exponent)
};

// The currency of the account this backend acts for; nullopt outside a tenant (a DBA).
std::optional<Currency> of_tenant();

// From _PG_init.
void register_callbacks();

}  // namespace sk::currency
