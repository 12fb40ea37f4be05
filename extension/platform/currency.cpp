#include "platform/currency.hpp"

#include <map>

#include "pg/spi.hpp"
#include "platform/caches.hpp"
#include "platform/context.hpp"

namespace sk::currency {
namespace {

constexpr const char* kTable = "sk.accounts";
std::map<std::string, Currency> g_currency;  // by account id

void forget() { g_currency.clear(); }

}  // namespace

std::optional<Currency> of_tenant() {
  auto tenant = context::tenant();
  if (!tenant) return std::nullopt;
  if (auto it = g_currency.find(tenant->account_id); it != g_currency.end()) return it->second;
  auto found = pg::exec("SELECT a.currency, sk.currency_exponent(a.currency) FROM sk.accounts a WHERE a.id = $1",
                        {tenant->account_id});
  if (found.empty()) return std::nullopt;
  caches::filled(kTable);
  const pg::Row& row = found.rows[0];
  return g_currency[tenant->account_id] = Currency{row.text(0), std::stoi(row.text(1))};
}

void register_callbacks() { caches::watch(kTable, forget); }

}  // namespace sk::currency
