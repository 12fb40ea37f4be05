// The in-memory view of the ledger a posting works on, under the item locks: item
// states, the balances the rules need, and what is known about lots.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ledger/posting.hpp"

namespace sk::ledger {

// (item, location, lot); lot "" is stock not assigned to a lot (lot ids are never empty).
using BalanceKey = std::tuple<std::string, std::string, std::string>;

struct Books {
  std::map<std::string, ItemState> items;
  std::string default_location;
  std::string today;                                       // current_date (ISO), for lot expiry
  std::map<BalanceKey, dec::Num> balances;                 // only keys the rules read, plus what the posting adds
  std::map<std::string, std::optional<std::string>> lot_expiry;  // lot id -> expires_on
};

// Loads references and checks them; fills legs' location ids and lot ids. Throws the
// request's 4xx on the first problem (param points into the request).
void resolve(std::vector<Leg>& legs, Books& books);

// Runs the rules leg by leg, in order: lot allocation (first-expiry-first-out),
// the negative-stock rule, on-hand, WAC, sequence numbers. Returns the threshold
// crossings as (event type, leg index).
std::vector<std::pair<std::string, size_t>> apply(std::vector<Leg>& legs, Books& books);

// Writes the log rows, the balance cache, the item states and the movement.recorded
// events (and the answer's key row) in one statement, then the threshold events.
// Returns each leg's movement object.
std::vector<std::string> record(const std::vector<Leg>& legs, const Books& books,
                                const std::vector<std::pair<std::string, size_t>>& crossings, const Answer& answer);

}  // namespace sk::ledger
