// The stock object of items now: on-hand, WAC and value from the item's cache row, the
// split by location and by lot from its balances (or from this backend's rendering of
// them, while the item has not moved). Built here from plain index lookups
// rather than one SQL expression with grouped subqueries: GET /items/{id}/stock is the
// hottest read of the API, and executor start-up of aggregates dominated it.
// SQL reaches the same renderer through sk.stock_object(items) (reports, events, DBAs).
#include <algorithm>
#include <map>
#include <unordered_map>

#include "ledger/decimal.hpp"
#include "ledger/formats.hpp"
#include "ledger/catalog_facts.hpp"
#include "ledger/ledger.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "pg/tenant_rows.hpp"
#include "platform/caches.hpp"
#include "platform/context.hpp"
#include "platform/currency.hpp"

namespace sk::ledger {
namespace {

// RLS binds every statement to the verified tenant. Statements read plain columns;
// numbers and times are formatted here (ledger/formats, the SQL helpers' formats).
//
// A tenant's items: the stock row from item_stock (in a read, fetched by its key without
// a statement: pg/tenant_rows), the rest from the item facts cached per backend
// (ledger/catalog_facts, read after the statement) and the tenant's currency (cached
// too). A caller without a tenant (a DBA) reads sk.items, each item in its account's
// currency.
constexpr const char* kItemStock =
    "SELECT s.item_id, s.on_hand, s.wac, s.last_seq, s.xmin FROM sk.item_stock s WHERE s.item_id = ANY ($1::text[])";
constexpr const char* kItemsOfAnyTenant = R"SQL(
SELECT i.id, i.sku, i.livemode, s.on_hand, s.wac, i.reorder_point, i.track_lots, a.currency, sk.currency_exponent(a.currency)
  FROM sk.items i JOIN sk.accounts a ON a.id = i.account_id
  LEFT JOIN sk.item_stock s ON s.account_id = i.account_id AND s.livemode = i.livemode AND s.item_id = i.id
 WHERE i.id = ANY ($1::text[])
)SQL";

struct ItemRow {
  std::string sku;
  bool livemode = false;
  bool track_lots = false;
  pg::Text on_hand, wac, reorder_point;
  currency::Currency money;
  pg::Text version;  // a tenant's item that has moved: its stock row's last_seq/xmin
};

std::map<std::string, ItemRow> item_rows(const std::vector<std::string>& ids) {
  std::map<std::string, ItemRow> out;
  const auto tenant = context::tenant();
  const auto money = currency::of_tenant();
  if (!tenant || !money) {
    for (const auto& r : pg::exec_ids(kItemsOfAnyTenant, ids).rows)
      out[r.text(0)] = ItemRow{r.text(1), r.text(2) == "t", r.text(6) == "t", r[3], r[4], r[5],
                               currency::Currency{r.text(7), std::stoi(r.text(8))}};
    return out;
  }
  std::map<std::string, pg::Row> stock;  // item_id, on_hand, wac, last_seq, xmin
  auto rows = pg::ReadOnlyScope::active()
                  ? pg::tenant_rows("sk.item_stock", {{"item_id"}, {"on_hand"}, {"wac"}, {"last_seq"}},
                                    tenant->account_id, tenant->livemode, ids)
                  : pg::exec_ids(kItemStock, ids).rows;
  for (auto& r : rows) stock[r.text(0)] = std::move(r);
  for (auto& [id, facts] : item_facts(ids)) {
    ItemRow row{std::move(facts.sku), tenant->livemode, facts.track_lots, {}, {}, facts.reorder_point, *money, {}};
    if (auto s = stock.find(id); s != stock.end()) {
      row.on_hand = s->second[1];
      row.wac = s->second[2];
      row.version = s->second.text(3) + "/" + s->second.text(4);
    }
    out[id] = std::move(row);
  }
  return out;
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

// An item's split by location and by lot, rendered, for one state of its balances.
struct RenderedSplit {
  std::string version;  // of the item's stock row it was read with
  std::string locations;
  std::string lots;  // as if the item tracked lots
};

// An item's balances change only in a transaction that also writes its item_stock row:
// every movement updates the row (bumping last_seq) in the statement that changes the
// balances, and sk.rebuild_balances() deletes and inserts every row. So in any snapshot
// the row's version (last_seq and xmin) names one set of balances: an item whose row is
// the one its split was rendered with is answered from that row alone, without reading
// its balances and lots (a fifth of a GET's cost). The version, not an invalidation,
// keeps a split current: a read under a snapshot older than a rebuild may fill the cache
// after the rebuild's invalidation was processed, but only under the old row's version.
// Filled only by reads whose statements share one snapshot (a read-only scope: the row
// and the balances agree) in transactions that have written nothing, so never from a
// state that may not commit. Entries are copied out, never pointed to: the statements
// that read the rest may process an invalidation that clears the cache (a rebuild's
// delete of the balances does, to free what it made stale).
constexpr const char* kBalancesTable = "sk.stock_balances";
constexpr size_t kMaxSplits = 20000;  // a bound, not a working set: refilled on demand
std::unordered_map<std::string, RenderedSplit> g_splits;

void forget_splits() { g_splits.clear(); }

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

// Reads the balances (and lots) of `ids` and renders their splits; items without a
// balance get empty ones.
std::map<std::string, RenderedSplit> read_splits(const std::vector<std::string>& ids) {
  std::map<std::string, Split> splits;
  std::vector<std::string> lot_ids;
  for (const auto& row : pg::exec_ids(kBalances, ids).rows) {
    dec::Num qty = dec::parse(row.text(3));
    Split& split = splits[row.text(0)];
    dec::add_to(split.by_location, row.text(1), qty);
    if (row[2]) {
      dec::add_to(split.by_lot, *row[2], qty);
      lot_ids.push_back(*row[2]);
    }
  }
  std::map<std::string, Lot> lots;
  if (!lot_ids.empty())
    for (const auto& row : pg::exec_ids(kLots, lot_ids).rows) lots[row.text(0)] = Lot{row.text(1), row[2]};

  static const Split kNone;
  std::map<std::string, RenderedSplit> out;
  for (const auto& id : ids) {
    auto split = splits.find(id);
    const Split& s = split == splits.end() ? kNone : split->second;
    out[id] = RenderedSplit{"", locations_json(s.by_location), lots_json(s.by_lot, lots)};
  }
  return out;
}

}  // namespace

void register_stock_callbacks() { caches::watch(kBalancesTable, forget_splits); }

std::map<std::string, std::string> stock_objects(const std::vector<std::string>& item_ids) {
  std::map<std::string, std::string> out;
  if (item_ids.empty()) return out;
  const auto items = item_rows(item_ids);
  if (items.empty()) return out;

  // Splits from the cache where the item has not moved since; the rest read now.
  const auto tenant = context::tenant();
  std::map<std::string, RenderedSplit> splits;
  std::vector<std::string> unread;
  for (const auto& [id, item] : items) {
    auto cached = tenant && item.version ? g_splits.find(tenant->key(id)) : g_splits.end();
    if (cached != g_splits.end() && cached->second.version == *item.version) splits.emplace(id, cached->second);
    else unread.push_back(id);
  }
  if (!unread.empty()) {
    auto read = read_splits(unread);
    const bool fill = tenant && pg::ReadOnlyScope::active() && GetTopTransactionIdIfAny() == InvalidTransactionId;
    if (fill) {
      caches::filled(kBalancesTable);
      if (g_splits.size() + read.size() > kMaxSplits) g_splits.clear();
    }
    for (auto& [id, split] : read) {
      const ItemRow& item = items.at(id);
      if (fill && item.version) {
        split.version = *item.version;
        g_splits[tenant->key(id)] = split;
      }
      splits.emplace(id, std::move(split));
    }
  }

  const std::string as_of = formats::rfc3339_now();  // the instant of reading
  for (const auto& [id, item] : items) {
    const RenderedSplit& split = splits.at(id);
    dec::Num on_hand = dec::parse(item.on_hand.value_or("0"));
    dec::Num wac = dec::parse(item.wac.value_or("0"));
    std::string o = "{\"object\":\"stock\",\"item_id\":";
    json::append_quoted(o, id);
    append_field(o, "sku", item.sku);
    o += ",\"livemode\":";
    o += item.livemode ? "true" : "false";
    append_field(o, "on_hand", dec::str(on_hand));
    append_field(o, "wac", dec::cost_str(wac));
    append_field(o, "value", dec::money_str(dec::mul(on_hand, wac), item.money.exponent));
    append_field(o, "currency", item.money.code);
    append_field(o, "as_of", as_of);
    append_field(o, "reorder_point", item.reorder_point);
    o += ",\"locations\":" + split.locations;
    o += ",\"lots\":" + (item.track_lots ? split.lots : std::string("[]"));
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
