// The ledger's rules, applied leg by leg in order under the item locks:
//   lots      a named lot, a reversal's original allocation, a transfer's source
//             allocation mirrored, or first-expiry-first-out for issues without a lot;
//   negative  items with negative_stock "reject" never go below zero where stock leaves;
//   on-hand   each movement gets the next per-item sequence number and the running total;
//   WAC       DESIGN.md section 5 (see the comment at the ledger section of the SQL script);
//   crossings stock.low / stock.out when the total crosses the threshold downwards.
#include <algorithm>

#include "ledger/books.hpp"
#include "platform/api.hpp"

namespace sk::ledger {
namespace {

constexpr int kWacScale = 6;

dec::Num& balance(Books& books, const std::string& item, const std::string& location, const std::string& lot) {
  auto it = books.balances.find({item, location, lot});
  if (it == books.balances.end()) it = books.balances.emplace(BalanceKey{item, location, lot}, dec::zero()).first;
  return it->second;
}

dec::Num location_total(const Books& books, const std::string& item, const std::string& location) {
  dec::Num total = dec::zero();
  for (auto it = books.balances.lower_bound({item, location, ""});
       it != books.balances.end() && std::get<0>(it->first) == item && std::get<1>(it->first) == location; ++it)
    total = dec::add(total, it->second);
  return total;
}

[[noreturn]] void insufficient(const Leg& leg, const dec::Num& available, const std::string& where) {
  api::fail(409, "insufficient_stock",
            "Item '" + leg.item_id + "' rejects negative stock and " + where + " holds " + dec::str(available) +
                "; this movement takes " + dec::str(dec::neg(leg.qty)) + ".",
            leg.pointer + "/qty");
}

// Issues of lot-tracked items without a lot: the unexpired lots with stock at the
// location, soonest expiry first (no expiry last), then oldest lot. Whatever no lot
// covers stays unassigned (lot null) unless the item rejects negative stock.
std::vector<Allocation> allocate_fefo(const Leg& leg, Books& books, bool reject) {
  struct Candidate {
    std::string lot;
    std::optional<std::string> expires_on;
    dec::Num on_hand;
  };
  std::vector<Candidate> candidates;
  const std::string& loc = *leg.location_id;
  for (auto it = books.balances.lower_bound({leg.item_id, loc, ""});
       it != books.balances.end() && std::get<0>(it->first) == leg.item_id && std::get<1>(it->first) == loc; ++it) {
    const std::string& lot = std::get<2>(it->first);
    if (!lot.empty() && dec::sign(it->second) > 0) {
      auto e = books.lot_expiry.find(lot);
      std::optional<std::string> expires_on = e == books.lot_expiry.end() ? std::nullopt : e->second;
      if (expires_on && *expires_on < books.today) continue;  // expired stock is written off, not issued
      candidates.push_back({lot, expires_on, it->second});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.expires_on.has_value() != b.expires_on.has_value()) return a.expires_on.has_value();
    if (a.expires_on != b.expires_on) return *a.expires_on < *b.expires_on;  // ISO dates sort as text
    return a.lot < b.lot;                                                     // ULIDs: oldest first
  });
  std::vector<Allocation> out;
  dec::Num remaining = dec::neg(leg.qty);
  for (const auto& c : candidates) {
    if (dec::sign(remaining) <= 0) break;
    dec::Num take = dec::cmp(c.on_hand, remaining) < 0 ? c.on_hand : remaining;
    out.push_back({c.lot, dec::neg(take)});
    remaining = dec::sub(remaining, take);
  }
  if (dec::sign(remaining) > 0) {
    if (reject) insufficient(leg, location_total(books, leg.item_id, loc), "its lots at this location");
    out.push_back({std::nullopt, dec::neg(remaining)});
  }
  return out;
}

void allocate(std::vector<Leg>& legs, size_t k, Books& books, const ItemState& item) {
  Leg& leg = legs[k];
  if (leg.fixed_allocations) {
    leg.lots = *leg.fixed_allocations;
  } else if (leg.mirrors) {
    for (const auto& a : legs[*leg.mirrors].lots) leg.lots.push_back({a.lot_id, dec::neg(a.qty)});
  } else if (leg.lot_id) {
    // Selling expired stock is refused; writing it off (an adjustment) is how it leaves.
    auto e = books.lot_expiry.find(*leg.lot_id);
    if (leg.type == "sale" && e != books.lot_expiry.end() && e->second && *e->second < books.today)
      api::fail(409, "lot_expired", "Lot '" + *leg.lot_id + "' expired on " + *e->second +
                                        "; write it off with an adjustment (reason expired) instead of selling it.",
                leg.pointer + "/lot_id");
    leg.lots = {{leg.lot_id, leg.qty}};
  } else if (item.track_lots && dec::sign(leg.qty) < 0) {
    leg.lots = allocate_fefo(leg, books, item.reject_negative);
  }
}

void check_negative(const Leg& leg, Books& books, const ItemState& item) {
  if (!item.reject_negative || dec::sign(leg.qty) >= 0) return;
  const std::string& loc = *leg.location_id;
  if (leg.lots.empty()) {
    dec::Num available = location_total(books, leg.item_id, loc);
    if (dec::sign(dec::add(available, leg.qty)) < 0) insufficient(leg, available, "this location");
    return;
  }
  for (const auto& a : leg.lots) {
    dec::Num available = balance(books, leg.item_id, loc, a.lot_id.value_or(""));
    if (dec::sign(dec::add(available, a.qty)) < 0)
      insufficient(leg, available, a.lot_id ? "lot '" + *a.lot_id + "' at this location" : "this location");
  }
}

}  // namespace

std::vector<std::pair<std::string, size_t>> apply(std::vector<Leg>& legs, Books& books) {
  std::vector<std::pair<std::string, size_t>> crossings;
  for (size_t k = 0; k < legs.size(); ++k) {
    Leg& leg = legs[k];
    ItemState& item = books.items.at(leg.item_id);
    allocate(legs, k, books, item);
    check_negative(leg, books, item);

    if (leg.lots.empty()) {
      dec::Num& b = balance(books, leg.item_id, *leg.location_id, "");
      b = dec::add(b, leg.qty);
    }
    for (const auto& a : leg.lots) {
      dec::Num& b = balance(books, leg.item_id, *leg.location_id, a.lot_id.value_or(""));
      b = dec::add(b, a.qty);
    }

    const dec::Num before = item.on_hand;
    item.on_hand = dec::add(before, leg.qty);
    leg.seq = ++item.last_seq;
    if (leg.receipt_cost && !leg.reverses && dec::sign(leg.qty) > 0) {
      // The only movement that changes WAC.
      const dec::Num& cost = *leg.receipt_cost;
      if (dec::sign(before) <= 0)
        item.wac = cost;
      else
        item.wac = dec::div_round(dec::add(dec::mul(before, item.wac), dec::mul(leg.qty, cost)), item.on_hand, kWacScale);
      leg.unit_cost = cost;
    } else {
      leg.unit_cost = item.wac;
    }
    leg.wac_after = item.wac;
    // Both legs of a transfer show the total after the whole transfer (it is unchanged).
    const bool transfer_out = leg.transfer_id && dec::sign(leg.qty) < 0;
    leg.on_hand_after = transfer_out ? before : item.on_hand;

    if (leg.transfer_id) continue;  // a transfer never changes the total
    if (item.reorder_point && dec::cmp(before, *item.reorder_point) >= 0 && dec::cmp(item.on_hand, *item.reorder_point) < 0)
      crossings.emplace_back("stock.low", k);
    if (dec::sign(before) > 0 && dec::sign(item.on_hand) <= 0) crossings.emplace_back("stock.out", k);
  }
  return crossings;
}

}  // namespace sk::ledger
