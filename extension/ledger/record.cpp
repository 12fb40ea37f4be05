// Writing a posting: the log rows, the balance cache and the item states in one
// set-based statement (one SPI round however many legs), then the events of the
// outbox in the same transaction.
#include "ledger/books.hpp"
#include "pg/spi.hpp"
#include "platform/events.hpp"

namespace sk::ledger {
namespace {

using json::Value;

Value opt(const std::optional<std::string>& s) { return s ? Value::string(*s) : Value::null(); }

// The statement time is taken once, after the locks were granted, and never earlier
// than the item's previous movement: per item, created_at follows seq, so ?as_of= cuts
// the log exactly where the items' histories were at that instant.
const char* kRecord = R"SQL(
WITH legs AS MATERIALIZED (
  SELECT * FROM json_to_recordset($1::json) AS x(
    ord integer, item_id text, location_id text, type text, qty numeric, reason text, unit_cost numeric,
    lot_id text, lots jsonb, transfer_id text, reverses text, reference text, metadata jsonb,
    seq bigint, on_hand_after numeric, wac_after numeric)
), at AS MATERIALIZED (
  SELECT greatest(clock_timestamp(), (SELECT max(t::timestamptz) FROM json_array_elements_text($2::json) t)) AS t
), ins AS (
  INSERT INTO sk.movements (item_id, location_id, type, qty, reason, unit_cost, lot_id, lots, transfer_id, reverses,
                            reference, metadata, seq, on_hand_after, wac_after, created_at)
  SELECT l.item_id, l.location_id, l.type, l.qty, l.reason, l.unit_cost, l.lot_id, l.lots, l.transfer_id, l.reverses,
         l.reference, coalesce(l.metadata, '{}'), l.seq, l.on_hand_after, l.wac_after, at.t
    FROM legs l CROSS JOIN at ORDER BY l.ord
  RETURNING id, item_id, seq, sk.movement_object(movements)::text AS object
), bal AS (
  INSERT INTO sk.stock_balances AS b (item_id, location_id, lot_id, on_hand, updated_at)
  SELECT l.item_id, l.location_id, a.lot_id, sum(coalesce(a.qty, l.qty)), max(at.t)
    FROM legs l CROSS JOIN at LEFT JOIN LATERAL jsonb_to_recordset(l.lots) AS a(lot_id text, qty numeric) ON true
   GROUP BY 1, 2, 3
  ON CONFLICT ON CONSTRAINT stock_balances_key
  DO UPDATE SET on_hand = b.on_hand + excluded.on_hand, updated_at = excluded.updated_at
), st AS (
  UPDATE sk.item_stock s
     SET on_hand = x.on_hand_after, wac = x.wac_after, last_seq = x.seq, last_movement_at = at.t
    FROM (SELECT DISTINCT ON (l.item_id) l.item_id, l.on_hand_after, l.wac_after, l.seq
            FROM legs l ORDER BY l.item_id, l.seq DESC) x CROSS JOIN at
   WHERE s.item_id = x.item_id
)
SELECT ins.item_id, ins.seq::text, ins.object FROM ins ORDER BY ins.id
)SQL";

Value leg_json(const Leg& leg, size_t ord) {
  Value lots = Value::null();
  std::optional<std::string> single_lot;
  if (leg.lot_tracked || !leg.lots.empty()) {
    lots = Value::array();
    for (const auto& a : leg.lots)
      lots.push(Value::object({{"lot_id", opt(a.lot_id)}, {"qty", Value::string(dec::str(a.qty))}}));
    if (leg.lots.size() == 1) single_lot = leg.lots[0].lot_id;
  }
  return Value::object({
      {"ord", Value::number(std::to_string(ord))},
      {"item_id", Value::string(leg.item_id)},
      {"location_id", Value::string(*leg.location_id)},
      {"type", Value::string(leg.type)},
      {"qty", Value::string(dec::str(leg.qty))},
      {"reason", Value::string(leg.reason)},
      {"unit_cost", Value::string(dec::str(leg.unit_cost))},
      {"lot_id", opt(single_lot)},
      {"lots", std::move(lots)},
      {"transfer_id", opt(leg.transfer_id)},
      {"reverses", opt(leg.reverses)},
      {"reference", opt(leg.reference)},
      {"metadata", leg.metadata},
      {"seq", Value::number(std::to_string(leg.seq))},
      {"on_hand_after", Value::string(dec::str(leg.on_hand_after))},
      {"wac_after", Value::string(dec::str(leg.wac_after))},
  });
}

// The stock object for a threshold event: the state right after the crossing leg.
// From the cache when no later leg of the posting moved the item, else from the log.
std::string stock_after(const std::vector<Leg>& legs, size_t k) {
  bool last_of_item = true;
  for (size_t j = k + 1; j < legs.size(); ++j) last_of_item = last_of_item && legs[j].item_id != legs[k].item_id;
  if (last_of_item)
    return *pg::exec_value("SELECT sk.stock_object(i)::text FROM sk.items i WHERE i.id = $1", {legs[k].item_id});
  return *pg::exec_value("SELECT sk.stock_object_at(i, NULL, $2::bigint)::text FROM sk.items i WHERE i.id = $1",
                         {legs[k].item_id, std::to_string(legs[k].seq)});
}

}  // namespace

std::vector<std::string> record(const std::vector<Leg>& legs, const Books& books,
                                const std::vector<std::pair<std::string, size_t>>& crossings) {
  Value rows = Value::array();
  for (size_t k = 0; k < legs.size(); ++k) rows.push(leg_json(legs[k], k));
  Value floors = Value::array();
  for (const auto& [_, item] : books.items)
    if (item.last_movement_at) floors.push(Value::string(*item.last_movement_at));

  auto result = pg::exec(kRecord, {rows.dump(), floors.dump()});
  std::map<std::pair<std::string, int64_t>, size_t> leg_of;
  for (size_t k = 0; k < legs.size(); ++k) leg_of[{legs[k].item_id, legs[k].seq}] = k;
  std::vector<std::string> objects(legs.size());
  for (auto& row : result.rows) objects.at(leg_of.at({row.text(0), std::stoll(row.text(1))})) = row.text(2);

  for (const auto& object : objects) events::emit("movement.recorded", object);
  for (const auto& [type, k] : crossings) events::emit(type, stock_after(legs, k));
  return objects;
}

}  // namespace sk::ledger
