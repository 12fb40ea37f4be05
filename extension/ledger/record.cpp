// Writing a posting: the log rows, the balance cache, the item states and the
// movement.recorded events with their deliveries in one set-based statement (one SPI
// round however many legs); threshold events follow in the same transaction.
#include <tuple>

#include "ledger/books.hpp"
#include "ledger/formats.hpp"
#include "ledger/ledger.hpp"
#include "pg/catching.hpp"
#include "pg/spi.hpp"
#include "platform/ids.hpp"
#include "platform/events.hpp"
#include "platform/idempotency.hpp"

namespace sk::ledger {
namespace {

using json::Value;

Value opt(const std::optional<std::string>& s) { return s ? Value::string(*s) : Value::null(); }

// The posting's time ($2) is taken once, after the locks were granted, and never earlier
// than the items' previous movements (their latest last_movement_at): per item,
// created_at follows seq, so ?as_of= cuts the log exactly where the items' histories
// were at that instant.
//
// Balance deltas and final item states are summed in C++ from the legs, so the statement
// needs no grouping, and item_stock is reached through its key: its cost follows the
// size of the posting, never the size of the catalogue.
const char* kRecord = R"SQL(
WITH %AT_CTE%ins AS (
  INSERT INTO sk.movements (id, item_id, location_id, type, qty, reason, unit_cost, lot_id, lots, transfer_id, reverses,
                            reference, metadata, seq, on_hand_after, wac_after, created_at)
  SELECT l.id, l.i, l.l, l.t, l.q, l.r, l.c, l.lot, l.lots, l.trf, l.rev, l.ref, coalesce(l.md, '{}'), l.s, l.oh, l.w,
         %AT%
    FROM %LEGS%
  RETURNING id, item_id, seq, sk.movement_object(movements) AS object
), ev AS (
  INSERT INTO sk.events (type, data)       -- in the order of the legs, as ins returns them
  SELECT 'movement.recorded', sk.event_data(ins.object) FROM ins%EVENTS_RETURNING%
)%FAN_OUT%, bal AS (
  INSERT INTO sk.stock_balances AS b (item_id, location_id, lot_id, on_hand, updated_at)
  SELECT x.i, x.l, x.lot, x.q, %AT% FROM %DELTAS%
  ON CONFLICT ON CONSTRAINT stock_balances_key
  DO UPDATE SET on_hand = b.on_hand + excluded.on_hand, updated_at = excluded.updated_at
), st AS (%ITEM_STATES%)%ANSWER%
SELECT item_id, seq::text, object::text, %DELIVERIES%::text FROM ins
)SQL";

// The statement's inputs are parameters, one per column: scalars for one row, arrays
// read by unnest for many. (json_to_recordset was the alternative: its start-up, its
// parsing and a hash table per record cost a batch more than the inserts.)
struct Column {
  const char* name;
  const char* type;
  int param;
};
// A leg: $1 and $3-$17 ($2 is the posting's time).
constexpr Column kLeg[] = {{"id", "text", 1},     {"i", "text", 3},    {"l", "text", 4},     {"t", "text", 5},
                           {"q", "numeric", 6},   {"r", "text", 7},    {"c", "numeric", 8},  {"s", "bigint", 9},
                           {"oh", "numeric", 10}, {"w", "numeric", 11}, {"lot", "text", 12}, {"lots", "json", 13},
                           {"trf", "text", 14},   {"rev", "text", 15},  {"ref", "text", 16}, {"md", "jsonb", 17}};
// Several legs: the balance deltas ($18-$21) and the item states ($22-$26) follow.
constexpr Column kDelta[] = {{"i", "text", 18}, {"l", "text", 19}, {"lot", "text", 20}, {"q", "numeric", 21}};
constexpr Column kState[] = {{"i", "text", 22}, {"oh", "numeric", 23}, {"w", "numeric", 24}, {"s", "bigint", 25}, {"m", "text", 26}};
// One leg: its own balance delta and item state, from its parameters.
constexpr Column kLegDelta[] = {{"i", "text", 3}, {"l", "text", 4}, {"lot", "text", 12}, {"q", "numeric", 6}};
constexpr Column kLegState[] = {{"i", "text", 3}, {"oh", "numeric", 10}, {"w", "numeric", 11}, {"s", "bigint", 9}, {"m", "text", 1}};
constexpr int kLegParams = 17, kPostingParams = 26;

std::string param(const Column& c, bool array) { return "$" + std::to_string(c.param) + "::" + c.type + (array ? "[]" : ""); }

// `alias` rows over the columns' parameters. Many rows unnest the arrays in the select
// list, where they stream row by row (ProjectSet); `FROM unnest(a, b, ...)` would first
// copy each array into a tuplestore of its own.
template <size_t N>
std::string rows_of(const Column (&columns)[N], const char* alias, bool many) {
  std::string sql = "(SELECT ";
  for (size_t k = 0; k < N; ++k) {
    if (k) sql += ", ";
    sql += many ? "unnest(" + param(columns[k], true) + ")" : param(columns[k], false);
    sql += std::string(" AS ") + columns[k].name;
  }
  return sql + ") AS " + alias;
}

// The item states: one item is one keyed update; several join their rows (reached by key
// through `= ANY`).
std::string item_state_update(const Column (&state)[5], bool many) {
  if (many)
    return "UPDATE sk.item_stock s SET on_hand = x.oh, wac = x.w, last_seq = x.s, last_movement_at = %AT%, "
           "last_movement_id = x.m FROM " + rows_of(state, "x", true) + " WHERE s.item_id = ANY (" + param(state[0], true) +
           ") AND s.item_id = x.i";
  return "UPDATE sk.item_stock s SET on_hand = " + param(state[1], false) + ", wac = " + param(state[2], false) +
         ", last_seq = " + param(state[3], false) + ", last_movement_at = %AT%, last_movement_id = " +
         param(state[4], false) + " WHERE s.item_id = " + param(state[0], false);
}

enum class Shape { kOneLeg, kOneItem, kManyItems };

Shape shape_of(const std::vector<Leg>& legs) {
  if (legs.size() == 1 && (legs[0].lots.empty() || (legs[0].lots.size() == 1 && dec::cmp(legs[0].lots[0].qty, legs[0].qty) == 0)))
    return Shape::kOneLeg;  // its balance delta is its quantity at its lot
  for (const auto& leg : legs)
    if (leg.item_id != legs[0].item_id) return Shape::kManyItems;
  return Shape::kOneItem;
}

// The statement with the outbox's delivery fan-out (or none) in place, the key row of the
// answer when there is one, and the shape of the posting: twelve texts, each made once.
const std::string& record_statement(bool answer, Shape shape) {
  events::FanOut f = events::fan_out("ev");
  static std::string variants[2][2][3];
  std::string& sql = variants[f.cte.empty()][answer][static_cast<int>(shape)];
  if (sql.empty()) {
    bool one = shape == Shape::kOneLeg;
    sql = kRecord;
    sql.replace(sql.find("%LEGS%"), 6, rows_of(kLeg, "l", !one));
    sql.replace(sql.find("%DELTAS%"), 8, one ? rows_of(kLegDelta, "x", false) : rows_of(kDelta, "x", true));
    sql.replace(sql.find("%ITEM_STATES%"), 13,
                one ? item_state_update(kLegState, false) : item_state_update(kState, shape == Shape::kManyItems));
    // One row reads the time parameter in place; many read it once, through an InitPlan
    // (a text parameter cast per row would be parsed per row).
    sql.replace(sql.find("%AT_CTE%"), 8, one ? "" : "at AS MATERIALIZED (SELECT $2::timestamptz AS t), ");
    for (size_t at; (at = sql.find("%AT%")) != std::string::npos;) sql.replace(at, 4, one ? "$2::timestamptz" : "(SELECT t FROM at)");
    sql.replace(sql.find("%EVENTS_RETURNING%"), 18, f.cte.empty() ? "" : "\n  RETURNING id, type");  // for the fan-out
    sql.replace(sql.find("%FAN_OUT%"), 9, f.cte);
    sql.replace(sql.find("%DELIVERIES%"), 12, f.count);
    // The answering leg: the only one, or the one whose id follows the key row's parameters.
    int first = (one ? kLegParams : kPostingParams) + 1;
    std::string key_row = idempotency::insert_row_sql(first, "ins.object::text") + " FROM ins";
    if (!one) key_row += " WHERE ins.id = $" + std::to_string(first + 4);
    sql.replace(sql.find("%ANSWER%"), 8, answer ? ", answer AS (" + key_row + ")" : "");
  }
  return sql;
}

// A leg's lot allocations as stored (and shown in the movement object); NULL when it
// has none and its item tracks no lots.
bool has_lots(const Leg& leg) { return leg.lot_tracked || !leg.lots.empty(); }
Value lots_json(const Leg& leg) {
  Value lots = Value::array();
  for (const auto& a : leg.lots) lots.push(Value::object({{"lot_id", opt(a.lot_id)}, {"qty", Value::string(dec::str(a.qty))}}));
  return lots;
}

// Numbers travel as numeric Datums, not as text to be parsed again; trimmed, they are
// stored as they were when they went through dec::str ("2.50" as 2.5).
pg::Binary numeric(dec::Num n) { return {"numeric", dec::trimmed(n).datum}; }

// A leg's values in the order of kLeg.
std::vector<pg::Cell> leg_values(const Leg& leg, const std::string& id) {
  pg::Text lot, lots;
  if (has_lots(leg)) lots = lots_json(leg).dump();
  if (leg.lots.size() == 1) lot = leg.lots[0].lot_id;
  return {id, leg.item_id, *leg.location_id, leg.type, numeric(leg.qty), leg.reason, numeric(leg.unit_cost),
          std::to_string(leg.seq), numeric(leg.on_hand_after), numeric(leg.wac_after), lot, lots,
          leg.transfer_id, leg.reverses, leg.reference, leg.metadata.is_null() ? pg::Text() : pg::Text(leg.metadata.dump())};
}

// A scalar parameter from a cell.
pg::Param param_of(pg::Cell&& cell) {
  return std::visit([](auto&& v) -> pg::Param { return std::move(v); }, std::move(cell));
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

// The element types of columns, for pg::ArrayColumns.
template <size_t N>
std::vector<const char*> types_of(const Column (&columns)[N]) {
  std::vector<const char*> out;
  for (const Column& c : columns) out.push_back(c.type);
  return out;
}

// What the posting adds to each balance (item, location, lot or none), summed: arrays
// in the order of kDelta.
std::vector<pg::Param> balance_deltas(const std::vector<Leg>& legs) {
  using Key = std::tuple<std::string, std::string, std::optional<std::string>>;
  std::map<Key, dec::Num> sums;
  for (const auto& leg : legs) {
    if (leg.lots.empty()) dec::add_to(sums, Key{leg.item_id, *leg.location_id, std::nullopt}, leg.qty);
    for (const auto& a : leg.lots) dec::add_to(sums, Key{leg.item_id, *leg.location_id, a.lot_id}, a.qty);
  }
  pg::ArrayColumns out(types_of(kDelta));
  for (const auto& [key, qty] : sums) out.add({std::get<0>(key), std::get<1>(key), std::get<2>(key), numeric(qty)});
  return out.finish();
}

// Each item's state after its last leg: rows in the order of kState.
std::vector<std::vector<pg::Cell>> item_states(const std::vector<Leg>& legs, const std::vector<std::string>& ids) {
  std::map<std::string, size_t> last;
  for (size_t k = 0; k < legs.size(); ++k) {
    auto [it, fresh] = last.try_emplace(legs[k].item_id, k);
    if (!fresh && legs[k].seq > legs[it->second].seq) it->second = k;
  }
  std::vector<std::vector<pg::Cell>> out;
  for (const auto& [item, k] : last)
    out.push_back({item, numeric(legs[k].on_hand_after), numeric(legs[k].wac_after), std::to_string(legs[k].seq), ids[k]});
  return out;
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

}  // namespace

std::vector<std::string> record(const std::vector<Leg>& legs, const Books& books,
                                const std::vector<std::pair<std::string, size_t>>& crossings, const Answer& answer) {
  const std::vector<std::string> ids = movement_ids(legs, books);
  // RFC 3339 UTC text of one width: the latest sorts last. Sent as a timestamptz, not as
  // text the statement would parse once per use.
  TimestampTz at = GetCurrentTimestamp();  // after the locks
  const std::string now = formats::rfc3339_string(at);
  const std::string* latest = &now;
  for (const auto& [_, item] : books.items)
    if (item.last_movement_at && *item.last_movement_at > *latest) latest = &*item.last_movement_at;
  if (latest != &now) at = posting_time(*latest);  // the clock is behind an item's last movement

  const Shape shape = shape_of(legs);
  std::vector<pg::Param> params;
  if (shape == Shape::kOneLeg) {
    for (auto& value : leg_values(legs[0], ids[0])) params.push_back(param_of(std::move(value)));
  } else {
    pg::ArrayColumns rows(types_of(kLeg));
    for (size_t k = 0; k < legs.size(); ++k) rows.add(leg_values(legs[k], ids[k]));
    params = rows.finish();
    for (auto& column : balance_deltas(legs)) params.push_back(std::move(column));
    auto states = item_states(legs, ids);
    if (shape == Shape::kOneItem) {
      for (auto& value : states[0]) params.push_back(param_of(std::move(value)));
    } else {
      pg::ArrayColumns columns(types_of(kState));
      for (auto& state : states) columns.add(std::move(state));
      for (auto& column : columns.finish()) params.push_back(std::move(column));
    }
  }
  const pg::Binary posted_at{"timestamptz", static_cast<uintptr_t>(TimestampTzGetDatum(at))};
  params.emplace(params.begin() + 1, posted_at);  // $2
  api::Response reply = api::json_response("");
  if (answer.claim) {
    for (auto& p : idempotency::row_params(*answer.claim, reply)) params.emplace_back(std::move(p));
    if (shape != Shape::kOneLeg) params.emplace_back(pg::Text(ids.at(answer.leg)));
  }
  const std::string& sql = record_statement(answer.claim != nullptr, shape);
  auto result = pg::exec_params(sql, params);
  std::map<std::pair<std::string, int64_t>, size_t> leg_of;
  for (size_t k = 0; k < legs.size(); ++k) leg_of[{legs[k].item_id, legs[k].seq}] = k;
  std::vector<std::string> objects(legs.size());
  for (auto& row : result.rows) objects.at(leg_of.at({row.text(0), std::stoll(row.text(1))})) = row.text(2);

  if (answer.claim) {
    reply.body = objects.at(answer.leg);
    answer.claim->stored = std::move(reply);
  }
  if (!result.rows.empty()) events::deliveries_written(std::stoull(result.rows[0].text(3)));
  for (const auto& [type, k] : crossings) events::emit(type, stock_after(legs, k));
  return objects;
}

}  // namespace sk::ledger
