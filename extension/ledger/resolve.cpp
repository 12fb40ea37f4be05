// References of a posting, checked under the item locks: items (locked, in id order),
// locations (the default fills a missing location_id), reason codes, lots (found or
// created by code) and the balances the negative-stock rule and FEFO will read.
#include <set>

#include "ledger/books.hpp"
#include "ledger/catalog_facts.hpp"
#include "ledger/formats.hpp"
#include "pg/catching.hpp"
#include "pg/spi.hpp"
#include "pg/tenant_rows.hpp"
#include "platform/api.hpp"
#include "platform/context.hpp"

namespace sk::ledger {
namespace {

std::optional<dec::Num> num_or_null(const pg::Text& t) {
  if (!t) return std::nullopt;
  return dec::parse(*t);
}

char* rfc3339_text(uintptr_t t) { return formats::rfc3339_text(t); }

// The items' stock rows (ids in order), locked as by SELECT … ORDER BY item_id FOR UPDATE,
// by key without a statement (pg/tenant_rows); the rest of what the rules need of an
// item, and the default location, come from catalog_facts (read after the lock, see
// there). Only a tenant posts: its rows carry the tenant's columns.
std::vector<pg::Row> lock_stock_rows(const std::vector<std::string>& ids) {
  const auto tenant = context::tenant();
  if (!tenant) throw std::logic_error("posting without a tenant");
  return pg::lock_tenant_rows("sk.item_stock",
                              {{"item_id"}, {"on_hand"}, {"wac"}, {"last_seq"}, {"last_movement_at", rfc3339_text},
                               {"last_movement_id"}},
                              tenant->account_id, tenant->livemode, ids);
}

std::string today() { return pg::catching_text(formats::current_date_text); }

// The default location (cached, catalog_facts) and today (read with the locks) are in
// the books; named locations are looked up.
void resolve_locations(std::vector<Leg>& legs, Books& books) {
  std::set<std::string> wanted;
  for (const auto& leg : legs)
    if (leg.location_id) wanted.insert(*leg.location_id);
  std::set<std::string> found;
  if (!wanted.empty())
    for (const auto& row : pg::exec_ids("SELECT l.id FROM sk.locations l WHERE l.id = ANY ($1::text[])", {wanted.begin(), wanted.end()}).rows)
      found.insert(row.text(0));
  for (auto& leg : legs) {
    if (!leg.location_id) {
      if (books.default_location.empty())
        api::fail(409, "default_location_missing", "This account has no default location; name a location_id.",
                  leg.pointer + "/location_id");
      leg.location_id = books.default_location;
    } else if (!found.count(*leg.location_id)) {
      api::fail(404, "resource_missing", "No such location: '" + *leg.location_id + "'.", leg.pointer + leg.location_param);
    }
  }
  for (size_t k = 0; k < legs.size(); ++k)
    if (legs[k].mirrors && *legs[k].location_id == *legs[*legs[k].mirrors].location_id)
      api::fail(400, "parameter_invalid", "A transfer's to_location_id must differ from its source location.",
                legs[k].pointer + "/to_location_id");
}

void resolve_lots(std::vector<Leg>& legs, Books& books) {
  std::vector<std::string> lot_ids;
  json::Value by_code = json::Value::array();
  std::set<std::pair<std::string, std::string>> seen_codes;
  for (auto& leg : legs) {
    const ItemState& item = books.items.at(leg.item_id);
    leg.lot_tracked = item.track_lots;
    if (!item.track_lots) {
      if (leg.lot_id || leg.lot_code)
        api::fail(400, "parameter_invalid", "Item '" + leg.item_id + "' does not track lots.",
                  leg.pointer + (leg.lot_id ? "/lot_id" : "/lot"));
      continue;
    }
    if (leg.lot_id) lot_ids.push_back(*leg.lot_id);
    if (leg.lot_code && seen_codes.insert({leg.item_id, *leg.lot_code}).second)
      by_code.push(json::Value::object({{"item_id", json::Value::string(leg.item_id)},
                                        {"code", json::Value::string(*leg.lot_code)},
                                        {"expires_on", leg.lot_expires_on ? json::Value::string(*leg.lot_expires_on)
                                                                          : json::Value::null()}}));
    bool inbound = dec::sign(leg.qty) > 0;
    if (inbound && !leg.lot_id && !leg.lot_code && !leg.mirrors && !leg.fixed_allocations)
      api::fail(400, "parameter_missing", "Item '" + leg.item_id + "' tracks lots: name the lot (lot_id, or lot with its code).",
                leg.pointer + (leg.type == "receipt" ? "/lot" : "/lot_id"));
  }

  if (!lot_ids.empty()) {
    auto rows = pg::exec_ids("SELECT l.id, l.item_id, l.expires_on::text FROM sk.lots l WHERE l.id = ANY ($1::text[])", lot_ids);
    std::map<std::string, std::string> lot_item;
    for (const auto& row : rows.rows) {
      lot_item[row.text(0)] = row.text(1);
      books.lot_expiry[row.text(0)] = row[2];
    }
    for (const auto& leg : legs)
      if (leg.lot_id && (!lot_item.count(*leg.lot_id) || lot_item[*leg.lot_id] != leg.item_id))
        api::fail(404, "resource_missing", "No such lot of item '" + leg.item_id + "': '" + *leg.lot_id + "'.",
                  leg.pointer + "/lot_id");
  }

  if (!by_code.items().empty()) {
    // Found or created by (item, code); concurrent creators meet on the unique index.
    pg::exec(
        "INSERT INTO sk.lots (item_id, code, expires_on) "
        "SELECT x.item_id, x.code, x.expires_on FROM json_to_recordset($1::json) AS x(item_id text, code text, expires_on date) "
        "ORDER BY x.item_id, x.code ON CONFLICT (account_id, livemode, item_id, code) DO NOTHING",
        {by_code.dump()});
    auto rows = pg::exec(
        "SELECT l.item_id, l.code, l.id, l.expires_on::text FROM sk.lots l "
        "JOIN json_to_recordset($1::json) AS x(item_id text, code text) ON l.item_id = x.item_id AND l.code = x.code",
        {by_code.dump()});
    std::map<std::pair<std::string, std::string>, std::pair<std::string, pg::Text>> lots;
    for (const auto& row : rows.rows) lots[{row.text(0), row.text(1)}] = {row.text(2), row[3]};
    for (auto& leg : legs) {
      if (!leg.lot_code) continue;
      const auto& [id, expires_on] = lots.at({leg.item_id, *leg.lot_code});
      if (leg.lot_expires_on && expires_on != leg.lot_expires_on)
        api::fail(409, "lot_expiry_mismatch",
                  "Lot '" + *leg.lot_code + "' of this item expires on " + expires_on.value_or("no date") + ", not " +
                      *leg.lot_expires_on + ".",
                  leg.pointer + "/lot/expires_on");
      leg.lot_id = id;
      books.lot_expiry[id] = expires_on;
    }
  }
}

// Balances the rules will read: every (item, location) where stock leaves a
// reject-negative item, or where an issue is allocated first-expiry-first-out.
void load_balances(const std::vector<Leg>& legs, Books& books) {
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& leg : legs) {
    const ItemState& item = books.items.at(leg.item_id);
    bool outbound = dec::sign(leg.qty) < 0;
    bool fefo = item.track_lots && outbound && !leg.lot_id && !leg.fixed_allocations;
    if (outbound && (item.reject_negative || fefo)) pairs.insert({leg.item_id, *leg.location_id});
  }
  if (pairs.empty()) return;
  json::Value keys = json::Value::array();
  for (const auto& [item, location] : pairs)
    keys.push(json::Value::array({json::Value::string(item), json::Value::string(location)}));
  auto rows = pg::exec(
      "SELECT b.item_id, b.location_id, b.lot_id, b.on_hand::text, l.expires_on::text FROM sk.stock_balances b "
      "LEFT JOIN sk.lots l ON l.account_id = b.account_id AND l.livemode = b.livemode AND l.id = b.lot_id "
      "WHERE (b.item_id, b.location_id) IN (SELECT k->>0, k->>1 FROM json_array_elements($1::json) k)",
      {keys.dump()});
  for (const auto& row : rows.rows) {
    std::string lot = row[2].value_or("");
    books.balances[{row.text(0), row.text(1), lot}] = dec::parse(row.text(3));
    if (!lot.empty()) books.lot_expiry[lot] = row[4];
  }
}

}  // namespace

std::map<std::string, ItemState> lock_items(const std::vector<std::string>& item_ids,
                                            const std::map<std::string, std::string>& param_for_item,
                                            AccountFacts* facts) {
  std::set<std::string> unique(item_ids.begin(), item_ids.end());
  const std::vector<std::string> ids(unique.begin(), unique.end());
  auto rows = lock_stock_rows(ids);
  if (rows.size() < unique.size()) {
    // First movement of an item: its state row is created here, in id order.
    pg::exec_ids("INSERT INTO sk.item_stock (item_id) SELECT i.id FROM sk.items i "
                 "WHERE i.id = ANY ($1::text[]) ORDER BY i.id ON CONFLICT DO NOTHING",
                 ids);
    rows = lock_stock_rows(ids);
  }
  const auto facts_of = item_facts(ids);
  std::map<std::string, ItemState> items;
  for (const auto& row : rows) {
    auto known = facts_of.find(row.text(0));
    if (known == facts_of.end()) continue;  // its item is gone: reported below
    ItemState s;
    s.track_lots = known->second.track_lots;
    s.reject_negative = known->second.reject_negative;
    s.archived = known->second.archived;
    s.reorder_point = num_or_null(known->second.reorder_point);
    s.on_hand = dec::parse(row.text(1));
    s.wac = dec::parse(row.text(2));
    s.last_seq = std::stoll(row.text(3));
    s.last_movement_at = row[4];
    s.last_movement_id = row[5];
    s.locked_tid = row.text(7);  // after the row's xmin
    items.emplace(row.text(0), std::move(s));
  }
  if (facts) facts->today = today();
  if (facts) facts->default_location = default_location();
  for (const auto& id : unique)
    if (!items.count(id)) {
      auto p = param_for_item.find(id);
      api::fail(404, "resource_missing", "No such item: '" + id + "'.",
                p == param_for_item.end() ? std::optional<std::string>() : p->second);
    }
  return items;
}

void resolve(std::vector<Leg>& legs, Books& books) {
  std::vector<std::string> ids;
  std::map<std::string, std::string> param_for_item;
  for (const auto& leg : legs) {
    ids.push_back(leg.item_id);
    param_for_item.emplace(leg.item_id, leg.pointer + "/item_id");
  }
  AccountFacts facts;
  books.items = lock_items(ids, param_for_item, &facts);
  books.default_location = std::move(facts.default_location);
  books.today = std::move(facts.today);
  for (const auto& leg : legs)
    if (books.items.at(leg.item_id).archived && !leg.reverses)
      api::fail(409, "item_archived", "Item '" + leg.item_id + "' is archived; restore it (archived: false) to move stock.",
                leg.pointer + "/item_id");

  resolve_locations(legs, books);

  std::vector<std::pair<std::string, std::string>> reasons;
  for (const auto& leg : legs)
    if (leg.primary) reasons.emplace_back(leg.reason, leg.pointer + "/reason");
  check_reasons(reasons);

  resolve_lots(legs, books);
  load_balances(legs, books);
}

}  // namespace sk::ledger
