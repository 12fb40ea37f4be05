// What postings and stock reads need of the catalogue besides stock: an item's SKU, lot
// tracking, negative-stock rule, archived flag and reorder point, and the tenant's
// default location. Cached per backend and tenant: these change rarely (PATCH /items,
// archiving, a new default location), and reading sk.items and sk.locations in the lock
// statement cost a movement POST a tenth of its instructions. The tables' statement
// triggers drop the caches on every backend when a change commits (platform/caches).
//
// Callers read the facts after the statement that locks or reads the items' stock: taking
// that statement's first locks, before its snapshot, processes pending invalidations, so
// the facts reflect every change committed before that statement started.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "pg/spi.hpp"

namespace sk::ledger {

struct ItemFacts {
  std::string sku;
  bool track_lots = false;
  bool reject_negative = false;  // negative_stock: "reject"
  bool archived = false;
  pg::Text reorder_point;        // numeric text, or NULL
};

// The facts of the current tenant's items among `ids`; an id it has no item for is absent.
std::map<std::string, ItemFacts> item_facts(const std::vector<std::string>& ids);

// The current tenant's default location; "" when it has none.
std::string default_location();

// From _PG_init.
void register_catalog_facts_callbacks();

}  // namespace sk::ledger
