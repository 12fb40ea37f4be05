#include "ledger/catalog_facts.hpp"

#include <unordered_map>

#include "platform/caches.hpp"
#include "platform/context.hpp"

namespace sk::ledger {
namespace {

constexpr const char* kItems = "sk.items";
constexpr const char* kLocations = "sk.locations";
constexpr size_t kMaxCached = 100000;  // a bound, not a working set: refilled on demand

constexpr const char* kFacts =
    "SELECT i.id, i.sku, i.track_lots, i.negative_stock = 'reject', i.archived_at IS NOT NULL, i.reorder_point "
    "FROM sk.items i WHERE i.id = ANY ($1::text[])";

constexpr const char* kDefaultLocation = "SELECT l.id FROM sk.locations l WHERE l.is_default";

// By tenant (and item id): a pooled backend serves many tenants, and RLS decides what each
// may see.
std::unordered_map<std::string, ItemFacts> g_facts;
std::unordered_map<std::string, std::string> g_default_location;

void forget_items() { g_facts.clear(); }
void forget_locations() { g_default_location.clear(); }

std::map<std::string, ItemFacts> query(const std::vector<std::string>& ids) {
  std::map<std::string, ItemFacts> out;
  for (const auto& row : pg::exec_ids(kFacts, ids).rows)
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
    auto it = g_facts.find(tenant->key(id));
    if (it != g_facts.end()) out.emplace(id, it->second);
    else missing.push_back(id);
  }
  if (missing.empty()) return out;
  auto found = query(missing);
  caches::filled(kItems);
  if (g_facts.size() + found.size() > kMaxCached) g_facts.clear();
  for (auto& [id, facts] : found) {
    g_facts[tenant->key(id)] = facts;
    out.emplace(id, std::move(facts));
  }
  return out;
}

std::string default_location() {
  auto tenant = context::tenant();
  if (!tenant) return pg::exec_value(kDefaultLocation).value_or("");
  std::string key = tenant->key();
  if (auto it = g_default_location.find(key); it != g_default_location.end()) return it->second;
  std::string id = pg::exec_value(kDefaultLocation).value_or("");
  caches::filled(kLocations);
  if (g_default_location.size() >= kMaxCached) g_default_location.clear();
  return g_default_location[key] = id;
}

void register_catalog_facts_callbacks() {
  caches::watch(kItems, forget_items);
  caches::watch(kLocations, forget_locations);
}

}  // namespace sk::ledger
