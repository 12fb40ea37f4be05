// What postings and stock reads need of an item besides its stock (SKU, lot tracking,
// the negative-stock rule, archived, reorder point), cached per backend and tenant. These
// change rarely (PATCH /items, archiving), and joining sk.items to the stock row cost a
// movement POST 8% of its instructions. sk.items' statement trigger drops the cache on
// every backend when an UPDATE or DELETE commits (platform/caches).
//
// Callers read the facts after the statement that locks or reads the items' stock: taking
// that statement's locks processes pending invalidations, so the facts are at least as
// fresh as that statement's snapshot, as they were when sk.items was part of it.
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

// From _PG_init.
void register_item_facts_callbacks();

}  // namespace sk::ledger
