// The stock object of items now: on-hand, WAC and value from the item's cache row, the
// split by location and by lot from its balances. Built here from plain index lookups
// rather than one SQL expression with grouped subqueries: GET /items/{id}/stock is the
// hottest read of the API, and executor start-up of aggregates dominated it.
// SQL reaches the same renderer through sk.stock_object(items) (reports, events, DBAs).
#include <algorithm>
#include <map>

#include "ledger/decimal.hpp"
#include "ledger/ledger.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "platform/currency.hpp"

namespace sk::ledger {
namespace {

// RLS binds every statement to the verified tenant. Numbers are formatted by the same
// SQL helpers the other renderers use (sk.qty_text, sk.cost_text, sk.money_text). The
// currency is the tenant's ($2, cached per backend), or each item's account's for a
// caller without a tenant (a DBA).
constexpr const char* kItems = R"SQL(
SELECT i.id, i.sku, i.livemode::text, sk.qty_text(coalesce(s.on_hand, 0)), sk.cost_text(coalesce(s.wac, 0)),
       sk.money_text(coalesce(s.on_hand, 0) * coalesce(s.wac, 0), %CURRENCY%), %CURRENCY%,
       sk.rfc3339(clock_timestamp()), i.reorder_point::text, i.track_lots::text
  FROM sk.items i%ACCOUNTS%
  LEFT JOIN sk.item_stock s ON s.account_id = i.account_id AND s.livemode = i.livemode AND s.item_id = i.id
 WHERE i.id = ANY ($1::text[])
)SQL";

const std::string& items_statement(bool tenant_currency) {
  static std::string variants[2];
  std::string& sql = variants[tenant_currency];
  if (sql.empty()) {
    sql = kItems;
    for (size_t at; (at = sql.find("%CURRENCY%")) != std::string::npos;)
      sql.replace(at, 10, tenant_currency ? "$2" : "a.currency");
    sql.replace(sql.find("%ACCOUNTS%"), 10, tenant_currency ? "" : "\n  JOIN sk.accounts a ON a.id = i.account_id");
  }
  return sql;
}

constexpr const char* kBalances = R"SQL(
SELECT b.item_id, b.location_id, b.lot_id, b.on_hand::text FROM sk.stock_balances b
 WHERE b.item_id = ANY ($1::text[]) AND b.on_hand <> 0
)SQL";

constexpr const char* kLots = R"SQL(
SELECT l.id, l.code, to_char(l.expires_on, 'YYYY-MM-DD') FROM sk.lots l WHERE l.id = ANY ($1::text[])
)SQL";

struct Split {
  std::map<std::string, dec::Num> by_location;  // ordered by location id
  std::map<std::string, dec::Num> by_lot;
};

void append_field(std::string& out, const char* name, const pg::Text& value) {
  out += ",\"";
  out += name;
  out += "\":";
  if (value) json::append_quoted(out, *value);
  else out += "null";
}

struct Lot {
  std::string code;
  pg::Text expires_on;
};

std::string lots_json(const std::map<std::string, dec::Num>& by_lot, const std::map<std::string, Lot>& lots) {
  // Soonest expiry first (FEFO order), lots without one last, then by id.
  std::vector<std::pair<const std::string*, const dec::Num*>> order;
  for (const auto& [id, qty] : by_lot)
    if (lots.count(id) && dec::sign(qty) != 0) order.emplace_back(&id, &qty);
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    const pg::Text& ea = lots.at(*a.first).expires_on;
    const pg::Text& eb = lots.at(*b.first).expires_on;
    if (ea.has_value() != eb.has_value()) return ea.has_value();
    return ea && *ea < *eb;
  });
  std::string out = "[";
  for (const auto& [id, qty] : order) {
    const Lot& lot = lots.at(*id);
    if (out.size() > 1) out += ',';
    out += "{\"lot_id\":";
    json::append_quoted(out, *id);
    append_field(out, "code", lot.code);
    append_field(out, "expires_on", lot.expires_on);
    append_field(out, "on_hand", dec::str(*qty));
    out += '}';
  }
  return out + "]";
}

std::string locations_json(const std::map<std::string, dec::Num>& by_location) {
  std::string out = "[";
  for (const auto& [id, qty] : by_location) {
    if (dec::sign(qty) == 0) continue;
    if (out.size() > 1) out += ',';
    out += "{\"location_id\":";
    json::append_quoted(out, id);
    append_field(out, "on_hand", dec::str(qty));
    out += '}';
  }
  return out + "]";
}

}  // namespace

std::map<std::string, std::string> stock_objects(const std::vector<std::string>& item_ids) {
  std::map<std::string, std::string> out;
  if (item_ids.empty()) return out;
  const auto currency = currency::of_tenant();
  auto item_rows = pg::id_list(items_statement(currency.has_value()), item_ids);
  std::vector<pg::Text> params{item_rows.param};
  if (currency) params.push_back(currency);
  auto items = pg::exec(item_rows.sql, params);
  if (items.empty()) return out;

  std::map<std::string, Split> splits;
  std::vector<std::string> lot_ids;
  auto balances = pg::id_list(kBalances, item_ids);
  for (const auto& row : pg::exec(balances.sql, {balances.param}).rows) {
    dec::Num qty = dec::parse(row.text(3));
    Split& split = splits[row.text(0)];
    dec::add_to(split.by_location, row.text(1), qty);
    if (row[2]) {
      dec::add_to(split.by_lot, *row[2], qty);
      lot_ids.push_back(*row[2]);
    }
  }
  std::map<std::string, Lot> lots;
  if (!lot_ids.empty()) {
    auto q = pg::id_list(kLots, lot_ids);
    for (const auto& row : pg::exec(q.sql, {q.param}).rows) lots[row.text(0)] = Lot{row.text(1), row[2]};
  }

  static const Split kNone;
  for (const auto& row : items.rows) {
    const std::string& id = row.text(0);
    auto split = splits.find(id);
    const Split& s = split == splits.end() ? kNone : split->second;
    std::string o = "{\"object\":\"stock\",\"item_id\":";
    json::append_quoted(o, id);
    append_field(o, "sku", row[1]);
    o += ",\"livemode\":";
    o += row.text(2);
    append_field(o, "on_hand", row[3]);
    append_field(o, "wac", row[4]);
    append_field(o, "value", row[5]);
    append_field(o, "currency", row[6]);
    append_field(o, "as_of", row[7]);
    append_field(o, "reorder_point", row[8]);
    o += ",\"locations\":" + locations_json(s.by_location);
    o += ",\"lots\":" + (row.text(9) == "true" ? lots_json(s.by_lot, lots) : std::string("[]"));
    o += '}';
    out.emplace(id, std::move(o));
  }
  return out;
}

}  // namespace sk::ledger

extern "C" {
PG_FUNCTION_INFO_V1(sk_stock_json);

// sk.stock_json(item_id): the renderer above for SQL callers; NULL for an unknown item.
Datum sk_stock_json(PG_FUNCTION_ARGS) {
  text* t = PG_GETARG_TEXT_PP(0);
  std::string id(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  bool found = false;
  Datum result = sk::pg::guarded([&]() -> Datum {
    std::map<std::string, std::string> objects;
    {
      sk::pg::SpiSession spi;  // its memory goes at SPI_finish: the result is made after
      objects = sk::ledger::stock_objects({id});
    }
    if (objects.empty()) return 0;
    found = true;
    return sk::pg::text_datum(objects.begin()->second);
  });
  if (!found) PG_RETURN_NULL();
  return result;
}
}
