// Lookups shared by GRNs, counts and day-end: items with their lot tracking, locations.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pg/spi.hpp"

namespace sk::purchasing {

struct ItemInfo {
  bool track_lots = false;
  bool archived = false;
};

// Items by id; the first missing one is a 404 whose param is `params[i]` of its use.
std::map<std::string, ItemInfo> load_items(const std::vector<std::string>& ids, const std::vector<std::string>& params);

// The given location (404 at `param` if unknown) or the account's default.
std::string location_or_default(const pg::Text& location_id, const std::string& param);

// The minor-unit exponent of the account's currency (2 for USD).
int currency_exponent();

// The id member of an object rendered by the ledger.
std::string member_text(const std::string& object_json, const char* name);

}  // namespace sk::purchasing
