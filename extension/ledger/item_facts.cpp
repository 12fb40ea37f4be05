#include "ledger/item_facts.hpp"

#include <unordered_map>

#include "platform/caches.hpp"
#include "platform/context.hpp"

namespace sk::ledger {
namespace {

constexpr const char* kTable = "sk.items";
constexpr size_t kMaxCached = 100000;  // a bound, not a working set: refilled on demand

constexpr const char* kFacts =
    "SELECT i.id, i.sku, i.track_lots, i.negative_stock = 'reject', i.archived_at IS NOT NULL, i.reorder_point "
    "FROM sk.items i WHERE i.id = ANY ($1::text[])";

// By tenant and item id: a pooled backend serves many tenants, and RLS decides what each
// may see.
std::unordered_map<std::string, ItemFacts> g_facts;

void forget() { g_facts.clear(); }

std::string cache_key(const context::Tenant& tenant, const std::string& id) {
  return tenant.account_id + (tenant.livemode ? "/live/" : "/test/") + id;
}

std::map<std::string, ItemFacts> query(const std::vector<std::string>& ids) {
  std::map<std::string, ItemFacts> out;
  auto q = pg::id_list(kFacts, ids);
  for (const auto& row : pg::exec(q.sql, {q.param}).rows)
    out[row.text(0)] = ItemFacts{row.text(1), row.text(2) == "t", row.text(3) == "t", row.text(4) == "t", row[5]};
  return out;
}

}  // namespace

std::map<std::string, ItemFacts> item_facts(const std::vector<std::string>& ids) {
  auto tenant = context::tenant();
  if (!tenant) return query(ids);  // a DBA: every tenant's items, uncached
  std::map<std::string, ItemFacts> out;
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    auto it = g_facts.find(cache_key(*tenant, id));
    if (it != g_facts.end()) out.emplace(id, it->second);
    else missing.push_back(id);
  }
  if (missing.empty()) return out;
  auto found = query(missing);
  caches::filled(kTable);
  if (g_facts.size() + found.size() > kMaxCached) g_facts.clear();
  for (auto& [id, facts] : found) {
    g_facts[cache_key(*tenant, id)] = facts;
    out.emplace(id, std::move(facts));
  }
  return out;
}

void register_item_facts_callbacks() { caches::watch(kTable, forget); }

}  // namespace sk::ledger
