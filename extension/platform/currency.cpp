#include "platform/currency.hpp"

#include <map>

#include "pg/spi.hpp"
#include "platform/caches.hpp"
#include "platform/context.hpp"

namespace sk::currency {
namespace {

constexpr const char* kTable = "sk.accounts";
std::map<std::string, std::string> g_currency;  // by account id

void forget() { g_currency.clear(); }

}  // namespace

std::optional<std::string> of_tenant() {
  auto tenant = context::tenant();
  if (!tenant) return std::nullopt;
  if (auto it = g_currency.find(tenant->account_id); it != g_currency.end()) return it->second;
  auto currency = pg::exec_value("SELECT a.currency FROM sk.accounts a WHERE a.id = $1", {tenant->account_id});
  if (!currency) return std::nullopt;
  caches::filled(kTable);
  return g_currency[tenant->account_id] = *currency;
}

void register_callbacks() { caches::watch(kTable, forget); }

}  // namespace sk::currency
