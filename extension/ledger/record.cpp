// Writing a posting: the log rows, the balance cache, the item states and the
// movement.recorded events with their deliveries in one set-based statement (one SPI
// round however many legs); threshold events follow in the same transaction.
#include <tuple>

#include "ledger/books.hpp"
#include "ledger/ledger.hpp"
#include "pg/spi.hpp"
#include "platform/ids.hpp"
#include "platform/events.hpp"
#include "platform/idempotency.hpp"

namespace sk::ledger {
namespace {

using json::Value;

Value opt(const std::optional<std::string>& s) { return s ? Value::string(*s) : Value::null(); }

// The statement time is taken once, after the locks were granted, and never earlier
// than the item's previous movement ($2, the latest last_movement_at of the items): per
// item, created_at follows seq, so ?as_of= cuts the log exactly where the items'
// histories were at that instant.
//
// Balance deltas ($3) and final item states ($4) are summed in C++ from the legs, so the
// statement needs no grouping, and item_stock is reached through its key ($5): its cost
// follows the size of the posting, never the size of the catalogue.
const char* kRecord = R"SQL(
WITH at AS MATERIALIZED (SELECT greatest(clock_timestamp(), $2::timestamptz) AS t),
ins AS (
  INSERT INTO sk.movements (id, item_id, location_id, type, qty, reason, unit_cost, lot_id, lots, transfer_id, reverses,
                            reference, metadata, seq, on_hand_after, wac_after, created_at)
  SELECT l.id, l.i, l.l, l.t, l.q, l.r, l.c, l.lot, l.lots, l.trf, l.rev, l.ref, coalesce(l.md, '{}'), l.s, l.oh, l.w,
         (SELECT t FROM at)
    FROM %LEGS%
  RETURNING id, item_id, seq, sk.movement_object(movements) AS object
), ev AS (
  INSERT INTO sk.events (type, data)       -- in the order of the legs, as ins returns them
  SELECT 'movement.recorded', sk.event_data(ins.object) FROM ins
  RETURNING id, type
)%FAN_OUT%, bal AS (
  INSERT INTO sk.stock_balances AS b (item_id, location_id, lot_id, on_hand, updated_at)
  SELECT x.i, x.l, x.lot, x.q, (SELECT t FROM at) FROM %DELTAS%
  ON CONFLICT ON CONSTRAINT stock_balances_key
  DO UPDATE SET on_hand = b.on_hand + excluded.on_hand, updated_at = excluded.updated_at
), st AS (%ITEM_STATES%)%ANSWER%
SELECT item_id, seq::text, object::text, %DELIVERIES%::text FROM ins
)SQL";

// What the statement is given: legs ($1), balance deltas ($3) and item states ($4) as
// JSON arrays, with the items' ids ($5) and the answer's key row ($6-$10)...
constexpr const char* kLegsJson = R"SQL(json_to_recordset($1::json) AS l(
           id text, i text, l text, t text, q numeric, r text, c numeric, s bigint, oh numeric, w numeric,
           lot text, lots json, trf text, rev text, ref text, md jsonb))SQL";
constexpr const char* kDeltasJson = "json_to_recordset($3::json) AS x(i text, l text, lot text, q numeric)";

// Item states ($4) by item ($5). One item is one keyed update: the join several items
// need is a hash join, whose set-up costs more than the update.
constexpr const char* kItemStates = R"SQL(
  UPDATE sk.item_stock s SET on_hand = x.oh, wac = x.w, last_seq = x.s, last_movement_at = (SELECT t FROM at),
         last_movement_id = x.m
    FROM json_to_recordset($4::json) AS x(i text, oh numeric, w numeric, s bigint, m text)
   WHERE s.item_id = ANY ($5::text[]) AND s.item_id = x.i
)SQL";
constexpr const char* kItemState = R"SQL(
  UPDATE sk.item_stock s SET (on_hand, wac, last_seq, last_movement_at, last_movement_id) =
         (SELECT x.oh, x.w, x.s, (SELECT t FROM at), x.m FROM json_to_recordset($4::json) AS x(oh numeric, w numeric, s bigint, m text))
   WHERE s.item_id = ANY ($5::text[])
)SQL";

// ...or, for one leg with at most one lot (a single movement POST, the hot path), the
// leg's fields as parameters $1 and $3-$17 (one_leg_params), the answer's key row
// after them: starting json_to_recordset three times and parsing its JSON cost more
// than the inserts themselves. The balance delta is the leg's quantity at its lot.
constexpr const char* kLegParams = R"SQL((SELECT $1 AS id, $3 AS i, $4 AS l, $5 AS t, $6::numeric AS q, $7 AS r,
           $8::numeric AS c, $9::bigint AS s, $10::numeric AS oh, $11::numeric AS w, $12 AS lot, $13::json AS lots,
           $14 AS trf, $15 AS rev, $16 AS ref, $17::jsonb AS md) AS l)SQL";
constexpr const char* kDeltaParams = "(SELECT $3 AS i, $4 AS l, $12 AS lot, $6::numeric AS q) AS x";
constexpr const char* kItemStateParams = R"SQL(
  UPDATE sk.item_stock s SET on_hand = $10::numeric, wac = $11::numeric, last_seq = $9::bigint,
         last_movement_at = (SELECT t FROM at), last_movement_id = $1
   WHERE s.item_id = $3
)SQL";
constexpr int kLegParamCount = 17;

enum class Shape { kManyItems, kOneItem, kOneLeg };

bool one_leg(const std::vector<Leg>& legs) {
  if (legs.size() != 1) return false;
  const Leg& leg = legs[0];
  return leg.lots.empty() || (leg.lots.size() == 1 && dec::cmp(leg.lots[0].qty, leg.qty) == 0);
}

// The statement with the outbox's delivery fan-out (or none) in place, the key row of the
// answer when there is one, and the shape of its inputs: twelve texts, each made once.
const std::string& record_statement(bool answer, Shape shape) {
  events::FanOut f = events::fan_out("ev");
  static std::string variants[2][2][3];
  std::string& sql = variants[f.cte.empty()][answer][static_cast<int>(shape)];
  if (sql.empty()) {
    bool one = shape == Shape::kOneLeg;
    sql = kRecord;
    sql.replace(sql.find("%LEGS%"), 6, one ? kLegParams : kLegsJson);
    sql.replace(sql.find("%DELTAS%"), 8, one ? kDeltaParams : kDeltasJson);
    sql.replace(sql.find("%ITEM_STATES%"), 13,
                one ? kItemStateParams : shape == Shape::kOneItem ? kItemState : kItemStates);
    sql.replace(sql.find("%FAN_OUT%"), 9, f.cte);
    sql.replace(sql.find("%DELIVERIES%"), 12, f.count);
    std::string key_row;
    if (answer && one) key_row = ", answer AS (" + idempotency::insert_row_sql(kLegParamCount + 1, "ins.object::text") + " FROM ins)";
    if (answer && !one) key_row = ", answer AS (" + idempotency::insert_row_sql(6, "ins.object::text") + " FROM ins WHERE ins.id = $10)";
    sql.replace(sql.find("%ANSWER%"), 8, key_row);
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

// One leg as a compact JSON object, appended to `out`: short keys and no nulls, since a
// batch sends 2000 of them through json_to_recordset (absent keys read as NULL). Written
// straight into the text: a Value tree per leg cost a batch as much as its index inserts.
void append_leg(std::string& out, const Leg& leg, const std::string& id) {
  auto text = [&](const char* key, const std::string& value) {
    out += key;
    json::append_quoted(out, value);
  };
  auto number = [&](const char* key, const std::string& literal) {
    out += key;
    out += literal;
  };
  text("{\"id\":", id);
  text(",\"i\":", leg.item_id);
  text(",\"l\":", *leg.location_id);
  text(",\"t\":", leg.type);
  number(",\"q\":", dec::str(leg.qty));
  text(",\"r\":", leg.reason);
  number(",\"c\":", dec::str(leg.unit_cost));
  number(",\"s\":", std::to_string(leg.seq));
  number(",\"oh\":", dec::str(leg.on_hand_after));
  number(",\"w\":", dec::str(leg.wac_after));
  if (has_lots(leg)) {
    number(",\"lots\":", lots_json(leg).dump());
    if (leg.lots.size() == 1 && leg.lots[0].lot_id) text(",\"lot\":", *leg.lots[0].lot_id);
  }
  if (leg.transfer_id) text(",\"trf\":", *leg.transfer_id);
  if (leg.reverses) text(",\"rev\":", *leg.reverses);
  if (leg.reference) text(",\"ref\":", *leg.reference);
  if (!leg.metadata.is_null()) number(",\"md\":", leg.metadata.dump());
  out += '}';
}

// $1 and $3-$17 of the one-leg statement ($2, the time floor, is set by the caller).
std::vector<pg::Text> one_leg_params(const Leg& leg, const std::string& id) {
  pg::Text lot, lots;
  if (has_lots(leg)) lots = lots_json(leg).dump();
  if (leg.lots.size() == 1) lot = leg.lots[0].lot_id;
  return {id, std::nullopt, leg.item_id, *leg.location_id, leg.type, dec::str(leg.qty), leg.reason,
          dec::str(leg.unit_cost), std::to_string(leg.seq), dec::str(leg.on_hand_after), dec::str(leg.wac_after), lot, lots,
          leg.transfer_id, leg.reverses, leg.reference,
          leg.metadata.is_null() ? pg::Text() : pg::Text(leg.metadata.dump())};
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
Value balance_deltas(const std::vector<Leg>& legs) {
  using Key = std::tuple<std::string, std::string, std::optional<std::string>>;
  std::map<Key, dec::Num> sums;
  for (const auto& leg : legs) {
    if (leg.lots.empty()) dec::add_to(sums, Key{leg.item_id, *leg.location_id, std::nullopt}, leg.qty);
    for (const auto& a : leg.lots) dec::add_to(sums, Key{leg.item_id, *leg.location_id, a.lot_id}, a.qty);
  }
  Value out = Value::array();
  for (const auto& [key, qty] : sums)
    out.push(Value::object({{"i", Value::string(std::get<0>(key))},
                            {"l", Value::string(std::get<1>(key))},
                            {"lot", opt(std::get<2>(key))},
                            {"q", Value::number(dec::str(qty))}}));
  return out;
}

// Each item's state after its last leg.
Value item_states(const std::vector<Leg>& legs, const std::vector<std::string>& ids, std::vector<std::string>* item_ids) {
  std::map<std::string, size_t> last;
  for (size_t k = 0; k < legs.size(); ++k) {
    auto [it, fresh] = last.try_emplace(legs[k].item_id, k);
    if (!fresh && legs[k].seq > legs[it->second].seq) it->second = k;
  }
  Value out = Value::array();
  for (const auto& [item, k] : last) {
    item_ids->push_back(item);
    out.push(Value::object({{"i", Value::string(item)},
                            {"oh", Value::number(dec::str(legs[k].on_hand_after))},
                            {"w", Value::number(dec::str(legs[k].wac_after))},
                            {"s", Value::number(std::to_string(legs[k].seq))},
                            {"m", Value::string(ids[k])}}));
  }
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

}  // namespace

std::vector<std::string> record(const std::vector<Leg>& legs, const Books& books,
                                const std::vector<std::pair<std::string, size_t>>& crossings, const Answer& answer) {
  const std::vector<std::string> ids = movement_ids(legs, books);
  // RFC 3339 UTC text of one width: the latest sorts last.
  pg::Text floor;
  for (const auto& [_, item] : books.items)
    if (item.last_movement_at && (!floor || *item.last_movement_at > *floor)) floor = item.last_movement_at;

  const bool one = one_leg(legs);
  pg::IdList statement;
  std::vector<pg::Text> params;
  if (one) {
    statement.sql = record_statement(answer.claim != nullptr, Shape::kOneLeg);
    params = one_leg_params(legs[0], ids[0]);
    params[1] = floor;
  } else {
    std::string rows = "[";
    for (size_t k = 0; k < legs.size(); ++k) {
      if (k) rows += ',';
      append_leg(rows, legs[k], ids[k]);
    }
    rows += ']';
    std::vector<std::string> item_ids;
    Value states = item_states(legs, ids, &item_ids);
    statement = pg::id_list(record_statement(answer.claim != nullptr, item_ids.size() == 1 ? Shape::kOneItem : Shape::kManyItems),
                            item_ids);
    params = {std::move(rows), floor, balance_deltas(legs).dump(), states.dump(), statement.param};
  }
  api::Response reply = api::json_response("");
  if (answer.claim) {
    for (auto& p : idempotency::row_params(*answer.claim, reply)) params.push_back(std::move(p));
    if (!one) params.push_back(ids.at(answer.leg));
  }
  auto result = pg::exec(statement.sql, params);
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
