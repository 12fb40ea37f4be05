// Writing a posting: the log rows, their movement.recorded events, the balance cache,
// the item states and the answer's key row, written row by row without a statement
// (pg/tenant_writes), then the events' deliveries and the threshold events.
//
// It was one statement of five data-modifying CTEs; its executor start-up, the policies'
// checks and the projections of its RETURNING and CTE scans were two thirds of a movement
// POST's instructions inside PostgreSQL, and more than the inserts in a batch.
#include <tuple>

#include "ledger/books.hpp"
#include "ledger/formats.hpp"
#include "ledger/ledger.hpp"
#include "ledger/movement_json.hpp"
#include "pg/catching.hpp"
#include "pg/spi.hpp"
#include "pg/tenant_tables.hpp"
#include "pg/tenant_writes.hpp"
#include "platform/context.hpp"
#include "platform/events.hpp"
#include "platform/idempotency.hpp"
#include "platform/ids.hpp"

extern "C" {
#include "utils/jsonb.h"
#include "utils/snapmgr.h"
}

namespace sk::ledger {
namespace {

using json::Value;

Value opt(const std::optional<std::string>& s) { return s ? Value::string(*s) : Value::null(); }

// The columns each table is written with, in order (an enum names their positions):
// pg/tenant_writes refuses a table with a column not named here, or of another type.
enum MovementColumn { kMovId, kMovItem, kMovLocation, kMovType, kMovQty, kMovReason, kMovUnitCost, kMovLot, kMovLots,
                      kMovTransfer, kMovReverses, kMovReference, kMovMetadata, kMovSeq, kMovOnHandAfter,
                      kMovWacAfter, kMovCreatedAt, kMovementWidth };
constexpr pg::WriterColumn kMovementColumns[kMovementWidth] = {
    {"id", TEXTOID},           {"item_id", TEXTOID},     {"location_id", TEXTOID},
    {"type", TEXTOID},         {"qty", NUMERICOID},      {"reason", TEXTOID},
    {"unit_cost", NUMERICOID}, {"lot_id", TEXTOID},      {"lots", JSONOID},
    {"transfer_id", TEXTOID},  {"reverses", TEXTOID},    {"reference", TEXTOID},
    {"metadata", JSONBOID},    {"seq", INT8OID},         {"on_hand_after", NUMERICOID},
    {"wac_after", NUMERICOID}, {"created_at", TIMESTAMPTZOID}};
enum EventColumn { kEventId, kEventType, kEventData, kEventCreatedAt, kEventWidth };
constexpr pg::WriterColumn kEventColumns[kEventWidth] = {
    {"id", TEXTOID}, {"type", TEXTOID}, {"data", JSONOID}, {"created_at", TIMESTAMPTZOID}};
enum BalanceColumn { kBalItem, kBalLocation, kBalLot, kBalOnHand, kBalUpdatedAt, kBalanceWidth };
constexpr int kBalanceKey = 3;  // item, location, lot: the unique key after the tenant's columns
constexpr pg::WriterColumn kBalanceColumns[kBalanceWidth] = {{"item_id", TEXTOID}, {"location_id", TEXTOID},
                                                             {"lot_id", TEXTOID}, {"on_hand", NUMERICOID},
                                                             {"updated_at", TIMESTAMPTZOID}};
enum ItemColumn { kItemId, kItemOnHand, kItemWac, kItemLastSeq, kItemLastAt, kItemLastMovement, kItemWidth };
constexpr pg::WriterColumn kItemColumns[kItemWidth] = {{"item_id", TEXTOID},   {"on_hand", NUMERICOID},
                                                       {"wac", NUMERICOID},    {"last_seq", INT8OID},
                                                       {"last_movement_at", TIMESTAMPTZOID}, {"last_movement_id", TEXTOID}};

// Rows of Datums for one table, `width` wide; NULL unless set.
class Grid {
 public:
  Grid(size_t rows, int width) : width_(width), values_(rows * width), nulls_(new bool[rows * width]) {
    std::fill_n(nulls_.get(), rows * width, true);
  }
  void set(size_t row, int column, uintptr_t value) {
    values_[row * width_ + column] = value;
    nulls_[row * width_ + column] = false;
  }
  void set_text(size_t row, int column, const std::optional<std::string>& s) {
    if (s) set(row, column, pg::text_datum(*s));
  }
  Datum* values(size_t row) { return &values_[row * width_]; }
  bool* nulls(size_t row) { return &nulls_[row * width_]; }

 private:
  int width_;
  std::vector<Datum> values_;
  std::unique_ptr<bool[]> nulls_;
};

// Everything the writing needs, in PostgreSQL's form, so that it runs as one guarded call
// on plain values (DESIGN.md section 9).
struct Writes {
  const char* account;
  bool livemode;
  Oid* movements_oid;
  Oid* events_oid;
  Oid* balances_oid;
  Oid* items_oid;
  Oid* keys_oid;
  size_t legs;
  Grid* movements;
  const Datum* event_ids;
  Datum event_type;
  TimestampTz now;
  size_t deltas;
  Grid* balance_keys;        // item, location, lot
  const Datum* delta_qty;    // numeric
  TimestampTz at;
  size_t items;
  Grid* item_rows;
  const ItemPointerData* item_tids;  // the versions the posting's locks took
  idempotency::RowValues* key_row;   // or null
  size_t answer_leg;
  text** objects;                    // out: each leg's movement object
};

// PostgreSQL-level: inside pg::catching.
Datum write_rows(Writes* w) {
  CommandCounterIncrement();  // after the posting's reads and earlier writes, as a new statement
  pg::TenantWriter* movements = pg::open_tenant_writer("sk.movements", w->movements_oid, kMovementColumns,
                                                       kMovementWidth, w->account, w->livemode);
  pg::TenantWriter* events = pg::open_tenant_writer("sk.events", w->events_oid, kEventColumns, kEventWidth, w->account, w->livemode);
  for (size_t k = 0; k < w->legs; ++k) {
    HeapTuple row = pg::insert_tenant_row(movements, w->movements->values(k), w->movements->nulls(k));
    w->objects[k] = movement_json(pg::tenant_writer_desc(movements), row);
    Datum event[kEventWidth] = {w->event_ids[k], w->event_type, PointerGetDatum(events::event_data(w->objects[k])),
                                TimestampTzGetDatum(w->now)};
    bool no_nulls[kEventWidth] = {};
    pg::insert_tenant_row(events, event, no_nulls);
  }
  pg::close_tenant_writer(events);
  pg::close_tenant_writer(movements);

  // The balances: the item locks serialize their writers, so the version found under a
  // snapshot taken after the locks is the latest, and it is updated, or the key inserted.
  pg::TenantWriter* balances =
      pg::open_tenant_writer("sk.stock_balances", w->balances_oid, kBalanceColumns, kBalanceWidth, w->account, w->livemode);
  Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
  for (size_t d = 0; d < w->deltas; ++d) {
    Datum row[kBalanceWidth];
    bool nulls[kBalanceWidth];
    ItemPointerData tid;
    const Datum* key = w->balance_keys->values(d);
    const bool* key_nulls = w->balance_keys->nulls(d);
    if (pg::find_tenant_row(balances, "stock_balances_key", key, key_nulls, kBalanceKey, snapshot, row, nulls, &tid)) {
      row[kBalOnHand] = DirectFunctionCall2(numeric_add, row[kBalOnHand], w->delta_qty[d]);
      row[kBalUpdatedAt] = TimestampTzGetDatum(w->at);
      pg::update_tenant_row(balances, &tid, row, nulls);
    } else {
      for (int c = 0; c < kBalanceKey; ++c) {
        row[c] = key[c];
        nulls[c] = key_nulls[c];
      }
      row[kBalOnHand] = w->delta_qty[d];
      row[kBalUpdatedAt] = TimestampTzGetDatum(w->at);
      nulls[kBalOnHand] = nulls[kBalUpdatedAt] = false;
      pg::insert_tenant_row(balances, row, nulls);
    }
  }
  pg::close_tenant_writer(balances);
  UnregisterSnapshot(snapshot);

  pg::TenantWriter* items =
      pg::open_tenant_writer("sk.item_stock", w->items_oid, kItemColumns, kItemWidth, w->account, w->livemode);
  for (size_t i = 0; i < w->items; ++i) {
    ItemPointerData tid = w->item_tids[i];
    pg::update_tenant_row(items, &tid, w->item_rows->values(i), w->item_rows->nulls(i));
  }
  pg::close_tenant_writer(items);

  if (w->key_row) {
    w->key_row->values[idempotency::kRowBody] = PointerGetDatum(w->objects[w->answer_leg]);
    w->key_row->nulls[idempotency::kRowBody] = false;
    pg::TenantWriter* keys = pg::open_tenant_writer("sk.idempotency_keys", w->keys_oid, idempotency::kRowColumns,
                                                    idempotency::kRowWidth, w->account, w->livemode);
    pg::insert_tenant_row(keys, w->key_row->values, w->key_row->nulls);
    pg::close_tenant_writer(keys);
  }
  return 0;
}

// A leg's lot allocations as stored (and shown in the movement object); NULL when it
// has none and its item tracks no lots.
bool has_lots(const Leg& leg) { return leg.lot_tracked || !leg.lots.empty(); }
Value lots_json(const Leg& leg) {
  Value lots = Value::array();
  for (const auto& a : leg.lots) lots.push(Value::object({{"lot_id", opt(a.lot_id)}, {"qty", Value::string(dec::str(a.qty))}}));
  return lots;
}

// Numbers are stored as they were when they went through dec::str ("2.50" as 2.5).
uintptr_t numeric(dec::Num n) { return dec::trimmed(n).datum; }

// A jsonb value from its text (metadata, validated as JSON by the request's schema).
uintptr_t jsonb(const std::string& text) {
  const char* s = text.c_str();
  return pg::catching([s] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(s)); });
}

// Each leg's row of sk.movements, in the order of kMovementColumns.
void movement_rows(Grid& rows, const std::vector<Leg>& legs, const std::vector<std::string>& ids, TimestampTz at) {
  std::optional<uintptr_t> empty_metadata;
  for (size_t k = 0; k < legs.size(); ++k) {
    const Leg& leg = legs[k];
    std::optional<std::string> lot, lots;
    if (has_lots(leg)) lots = lots_json(leg).dump();
    if (leg.lots.size() == 1) lot = leg.lots[0].lot_id;
    uintptr_t metadata;
    if (!leg.metadata.is_null()) {
      metadata = jsonb(leg.metadata.dump());
    } else {
      if (!empty_metadata) empty_metadata = jsonb("{}");  // the column's default
      metadata = *empty_metadata;
    }
    rows.set_text(k, kMovId, ids[k]);
    rows.set_text(k, kMovItem, leg.item_id);
    rows.set_text(k, kMovLocation, leg.location_id);
    rows.set_text(k, kMovType, leg.type);
    rows.set(k, kMovQty, numeric(leg.qty));
    rows.set_text(k, kMovReason, leg.reason);
    rows.set(k, kMovUnitCost, numeric(leg.unit_cost));
    rows.set_text(k, kMovLot, lot);
    rows.set_text(k, kMovLots, lots);  // json is stored as its text
    rows.set_text(k, kMovTransfer, leg.transfer_id);
    rows.set_text(k, kMovReverses, leg.reverses);
    rows.set_text(k, kMovReference, leg.reference);
    rows.set(k, kMovMetadata, metadata);
    rows.set(k, kMovSeq, Int64GetDatum(leg.seq));
    rows.set(k, kMovOnHandAfter, numeric(leg.on_hand_after));
    rows.set(k, kMovWacAfter, numeric(leg.wac_after));
    rows.set(k, kMovCreatedAt, TimestampTzGetDatum(at));
  }
}

// The stock object for a threshold event: the state right after the crossing leg.
// From the cache when no later leg of the posting moved the item, else from the log.
std::string stock_after(const std::vector<Leg>& legs, size_t k) {
  bool last_of_item = true;
  for (size_t j = k + 1; j < legs.size(); ++j) last_of_item = last_of_item && legs[j].item_id != legs[k].item_id;
  if (last_of_item)
    return stock_objects({legs[k].item_id}).at(legs[k].item_id);
  return *pg::exec_value("SELECT sk.stock_object_at(i, NULL, $2::bigint)::text FROM sk.items i WHERE i.id = $1",
                         {legs[k].item_id, std::to_string(legs[k].seq)});
}

// What the posting adds to each balance (item, location, lot or none), summed.
using DeltaKey = std::tuple<std::string, std::string, std::optional<std::string>>;
std::map<DeltaKey, dec::Num> balance_deltas(const std::vector<Leg>& legs) {
  std::map<DeltaKey, dec::Num> sums;
  for (const auto& leg : legs) {
    if (leg.lots.empty()) dec::add_to(sums, DeltaKey{leg.item_id, *leg.location_id, std::nullopt}, leg.qty);
    for (const auto& a : leg.lots) dec::add_to(sums, DeltaKey{leg.item_id, *leg.location_id, a.lot_id}, a.qty);
  }
  return sums;
}

// Each item's last leg in the posting (its state after the posting).
std::map<std::string, size_t> last_legs(const std::vector<Leg>& legs) {
  std::map<std::string, size_t> last;
  for (size_t k = 0; k < legs.size(); ++k) {
    auto [it, fresh] = last.try_emplace(legs[k].item_id, k);
    if (!fresh && legs[k].seq > legs[it->second].seq) it->second = k;
  }
  return last;
}

// The item_stock version a lock took ("(block,offset)", pg::lock_tenant_rows).
ItemPointerData tid_of(const std::string& ctid) {
  unsigned block = 0, offset = 0;
  if (std::sscanf(ctid.c_str(), "(%u,%u)", &block, &offset) != 2) throw std::logic_error("bad ctid " + ctid);
  ItemPointerData tid;
  ItemPointerSet(&tid, block, static_cast<OffsetNumber>(offset));
  return tid;
}

// Movement ids in leg order, each above the previous movement of its item, so an item's
// history sorts the same by id as by seq whichever backend recorded it.
std::vector<std::string> movement_ids(const std::vector<Leg>& legs, const Books& books) {
  std::map<std::string, std::optional<std::string>> floor;
  for (const auto& [item, state] : books.items) floor[item] = state.last_movement_id;
  std::vector<std::string> ids;
  for (const auto& leg : legs) {
    auto& last = floor[leg.item_id];
    ids.push_back(ids::next_after("mov", last));
    last = ids.back();
  }
  return ids;
}

// An item's last_movement_at (sk.rfc3339 text) as a timestamptz.
TimestampTz posting_time(const std::string& rfc3339) {
  const char* text = rfc3339.c_str();
  return DatumGetTimestampTz(pg::catching([text] {
    return DirectFunctionCall3(timestamptz_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
  }));
}

std::string text_of(const text* t) { return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)); }

}  // namespace

std::vector<std::string> record(const std::vector<Leg>& legs, const Books& books,
                                const std::vector<std::pair<std::string, size_t>>& crossings, const Answer& answer) {
  const std::optional<context::Tenant> tenant = context::tenant();
  if (!tenant) throw std::logic_error("posting without a tenant");
  const std::vector<std::string> ids = movement_ids(legs, books);
  // The posting's time is taken once, after the locks were granted, and never earlier than
  // the items' previous movements (their latest last_movement_at): per item, created_at
  // follows seq, so ?as_of= cuts the log exactly where the items' histories were at that
  // instant. RFC 3339 UTC text of one width: the latest sorts last.
  TimestampTz at = GetCurrentTimestamp();  // after the locks
  const std::string now = formats::rfc3339_string(at);
  const std::string* latest = &now;
  for (const auto& [_, item] : books.items)
    if (item.last_movement_at && *item.last_movement_at > *latest) latest = &*item.last_movement_at;
  if (latest != &now) at = posting_time(*latest);  // the clock is behind an item's last movement

  static Oid* const oids[] = {pg::tenant_table_oid("sk.movements"), pg::tenant_table_oid("sk.events"),
                              pg::tenant_table_oid("sk.stock_balances"), pg::tenant_table_oid("sk.item_stock"),
                              pg::tenant_table_oid("sk.idempotency_keys")};
  Grid movements(legs.size(), kMovementWidth);
  movement_rows(movements, legs, ids, at);
  std::vector<std::string> event_ids;
  std::vector<Datum> event_id_datums;
  for (size_t k = 0; k < legs.size(); ++k) {
    event_ids.push_back(ids::next_after("evt", std::nullopt));
    event_id_datums.push_back(pg::text_datum(event_ids.back()));
  }

  const auto deltas = balance_deltas(legs);
  Grid balance_keys(deltas.size(), kBalanceKey);
  std::vector<Datum> delta_qty;
  size_t d = 0;
  for (const auto& [key, qty] : deltas) {
    balance_keys.set_text(d, 0, std::get<0>(key));
    balance_keys.set_text(d, 1, std::get<1>(key));
    balance_keys.set_text(d, 2, std::get<2>(key));
    delta_qty.push_back(numeric(qty));
    ++d;
  }

  const auto last = last_legs(legs);
  Grid item_rows(last.size(), kItemWidth);
  std::vector<ItemPointerData> item_tids;
  size_t i = 0;
  for (const auto& [item, k] : last) {
    item_rows.set_text(i, kItemId, item);
    item_rows.set(i, kItemOnHand, numeric(legs[k].on_hand_after));
    item_rows.set(i, kItemWac, numeric(legs[k].wac_after));
    item_rows.set(i, kItemLastSeq, Int64GetDatum(legs[k].seq));
    item_rows.set(i, kItemLastAt, TimestampTzGetDatum(at));
    item_rows.set_text(i, kItemLastMovement, ids[k]);
    item_tids.push_back(tid_of(books.items.at(item).locked_tid));
    ++i;
  }

  api::Response reply = api::json_response("");
  std::optional<idempotency::RowValues> key_row;
  if (answer.claim) key_row = idempotency::row_values(*answer.claim, reply);

  std::vector<text*> objects(legs.size());
  Writes w{tenant->account_id.c_str(), tenant->livemode, oids[0], oids[1], oids[2], oids[3], oids[4],
           legs.size(), &movements, event_id_datums.data(), pg::text_datum("movement.recorded"),
           GetCurrentTransactionStartTimestamp(),  // now(), the events' default
           deltas.size(), &balance_keys, delta_qty.data(), at,
           last.size(), &item_rows, item_tids.data(), key_row ? &*key_row : nullptr, answer.leg, objects.data()};
  pg::catching([&w] { return write_rows(&w); });

  std::vector<std::string> out;
  out.reserve(legs.size());
  for (text* object : objects) out.push_back(text_of(object));
  if (answer.claim) {
    reply.body = out.at(answer.leg);
    answer.claim->stored = std::move(reply);
  }
  events::deliver("movement.recorded", event_ids);
  for (const auto& [type, k] : crossings) events::emit(type, stock_after(legs, k));
  return out;
}

}  // namespace sk::ledger
