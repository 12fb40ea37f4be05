// The stock object of items now: on-hand, WAC and value from the item's cache row, the
// split by location and by lot from its balances. Built here from plain index lookups
// rather than one SQL expression with grouped subqueries: GET /items/{id}/stock is the
// hottest read of the API, and executor start-up of aggregates dominated it.
// SQL reaches the same renderer through sk.stock_object(items) (reports, events, DBAs).
#include <algorithm>
#include <map>

#include "ledger/decimal.hpp"
#include "ledger/formats.hpp"
#include "ledger/ledger.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "platform/currency.hpp"

namespace sk::ledger {
namespace {

// RLS binds every statement to the verified tenant. The statement reads plain columns;
// numbers and times are formatted here (ledger/formats, the SQL helpers' formats). The
// currency is the tenant's (cached per backend), or each item's account's for a caller
// without a tenant (a DBA).
constexpr const char* kItems = R"SQL(
SELECT i.id, i.sku, i.livemode, s.on_hand, s.wac, i.reorder_point, i.track_lots%CURRENCY%
  FROM sk.items i%ACCOUNTS%
  LEFT JOIN sk.item_stock s ON s.account_id = i.account_id AND s.livemode = i.livemode AND s.item_id = i.id
 WHERE i.id = ANY ($1::text[])
)SQL";
enum ItemColumn { kId, kSku, kLivemode, kOnHand, kWac, kReorderPoint, kTrackLots, kCurrency, kExponent };

const std::string& items_statement(bool tenant_currency) {
  static std::string variants[2];
  std::string& sql = variants[tenant_currency];
  if (sql.empty()) {
    sql = kItems;
    sql.replace(sql.find("%CURRENCY%"), 10, tenant_currency ? "" : ", a.currency, sk.currency_exponent(a.currency)");
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
  const auto tenant_currency = currency::of_tenant();
  auto item_rows = pg::id_list(items_statement(tenant_currency.has_value()), item_ids);
  auto items = pg::exec(item_rows.sql, {item_rows.param});
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

  char as_of[formats::kRfc3339Size];
  formats::rfc3339(GetCurrentTimestamp(), as_of);  // clock_timestamp(): the instant of reading
  static const Split kNone;
  for (const auto& row : items.rows) {
    const std::string& id = row.text(kId);
    auto split = splits.find(id);
    const Split& s = split == splits.end() ? kNone : split->second;
    currency::Currency money = tenant_currency ? *tenant_currency
                                               : currency::Currency{row.text(kCurrency), std::stoi(row.text(kExponent))};
    dec::Num on_hand = dec::parse(row[kOnHand].value_or("0"));
    dec::Num wac = dec::parse(row[kWac].value_or("0"));
    std::string o = "{\"object\":\"stock\",\"item_id\":";
    json::append_quoted(o, id);
    append_field(o, "sku", row[kSku]);
    o += ",\"livemode\":";
    o += row.text(kLivemode) == "t" ? "true" : "false";
    append_field(o, "on_hand", dec::str(on_hand));
    append_field(o, "wac", dec::cost_str(wac));
    append_field(o, "value", dec::money_str(dec::mul(on_hand, wac), money.exponent));
    append_field(o, "currency", money.code);
    append_field(o, "as_of", std::string(as_of));
    append_field(o, "reorder_point", row[kReorderPoint]);
    o += ",\"locations\":" + locations_json(s.by_location);
    o += ",\"lots\":" + (row.text(kTrackLots) == "t" ? lots_json(s.by_lot, lots) : std::string("[]"));
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
