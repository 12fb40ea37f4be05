// The ledger's routes: record a movement, list and retrieve movements, reverse one.
// (Batch sync is in batch.cpp.)
#include "ledger/ledger.hpp"
#include "ledger/posting.hpp"
#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/list.hpp"

namespace sk::ledger {

using namespace sk::schema;
using api::text_param;

namespace {

api::Response create_movement(const api::Call& call) {
  std::vector<MovementRequest> requests{read_request(call.body, "")};
  std::vector<Leg> legs = expand(requests);
  auto objects = post(legs, {call.claim, 0});
  return api::json_response(objects[0]);  // a transfer answers with its source leg
}

api::Response get_movement(const api::Call& call) {
  return list::object_or_404("SELECT sk.movement_object(m)::text FROM sk.movements m WHERE m.id = $1", call);
}

api::Response list_movements(const api::Call& call) {
  const auto& q = call.query;
  auto item_id = text_param(q, "item_id");
  list::Query query("sk.movement_object(m)::text", "sk.movements m", "m");
  query.where("m.item_id = ?", item_id)
      .where("m.location_id = ?", text_param(q, "location_id"))
      .where("m.type = ?", text_param(q, "type"))
      .where("m.transfer_id = ?", text_param(q, "transfer_id"))
      .where("m.created_at >= ?::timestamptz", text_param(q, "created_gte"))
      .where("m.created_at < ?::timestamptz", text_param(q, "created_lt"));
  // One item's history pages along its (item, seq) index: seq sorts it as the ids do.
  // The cursor must then be a movement of that item, as the previous page returned.
  if (item_id) {
    query.order_by("m.seq", "(SELECT c.seq FROM sk.movements c WHERE c.id = ?)");
    for (const char* cursor : {"starting_after", "ending_before"}) {
      auto id = text_param(q, cursor);
      if (id && !pg::exec_value("SELECT 1 FROM sk.movements c WHERE c.id = $1 AND c.item_id = $2", {id, item_id}))
        api::fail(400, "parameter_invalid", std::string(cursor) + " must be a movement of item '" + *item_id + "'.",
                  std::string("/") + cursor);
    }
  }
  return query.run(call);
}

std::vector<Allocation> allocations_of(const pg::Text& lots_json) {
  std::vector<Allocation> out;
  if (!lots_json) return out;
  auto lots = json::parse(*lots_json);
  for (const auto& a : lots->items()) {
    const json::Value* lot = a.find("lot_id");
    out.push_back({lot && lot->is_string() ? std::optional<std::string>(lot->text()) : std::nullopt,
                   dec::neg(dec::parse(a.find("qty")->text()))});
  }
  return out;
}

// Reversing posts the opposite of the original (every leg of a transfer, out of the
// destination first), with the same lots, at the current WAC. Once only.
api::Response reverse_movement(const api::Call& call) {
  const char* select =
      "SELECT m.id, m.item_id, m.location_id, m.type, m.qty::text, m.reason, m.lots::text, m.transfer_id, m.reverses "
      "FROM sk.movements m ";
  auto original = pg::exec(std::string(select) + "WHERE m.id = $1", {call.id});
  if (original.empty()) api::not_found("movement", call.id);
  const pg::Row& o = original.rows[0];
  if (o[8]) api::fail(409, "movement_is_reversal", "This movement reverses " + *o[8] + "; record a new movement instead.");
  auto rows = o[7] ? pg::exec(std::string(select) + "WHERE m.transfer_id = $1 ORDER BY m.qty DESC", {*o[7]}) : original;

  // Under the item lock, a second reversal sees the first one.
  lock_items({o.text(1)}, {});
  json::Value ids = json::Value::array();
  for (const auto& r : rows.rows) ids.push(json::Value::string(r.text(0)));
  if (pg::exec_value("SELECT m.reverses FROM sk.movements m WHERE m.reverses IN (SELECT json_array_elements_text($1::json))",
                     {ids.dump()}))
    api::fail(409, "movement_already_reversed", "Movement '" + call.id + "' has already been reversed.");

  std::optional<std::string> transfer_id;
  if (o[7]) transfer_id = new_transfer_id();
  std::vector<Leg> legs;
  for (const auto& r : rows.rows) {
    Leg leg;
    leg.primary = r.text(0) == call.id;
    leg.item_id = r.text(1);
    leg.location_id = r.text(2);
    leg.type = r.text(3);
    leg.qty = dec::neg(dec::parse(r.text(4)));
    leg.reason = text_param(call.body, "reason").value_or(r.text(5));
    leg.fixed_allocations = allocations_of(r[6]);
    leg.transfer_id = transfer_id;
    leg.reverses = r.text(0);
    leg.reference = text_param(call.body, "reference");
    if (const json::Value* m = api::member(call.body, "metadata"); m && !m->is_null()) leg.metadata = *m;
    legs.push_back(std::move(leg));
  }
  size_t answer = 0;
  for (size_t k = legs.size(); k-- > 0;)
    if (legs[k].primary) answer = k;
  auto objects = post(legs, {call.claim, answer});
  return api::json_response(objects[answer]);
}

api::RouteSpec spec(const char* method, const char* path, const char* op, const char* summary, api::Scope scope) {
  api::RouteSpec s{method, path, op, summary, "Movements", scope};
  if (std::string(path).find("{id}") != std::string::npos) {
    s.id_prefix = "mov";
    s.resource = "movement";
  }
  s.response = movement_object_schema();
  return s;
}

}  // namespace

std::vector<api::Route> batch_route();

std::vector<api::Route> movement_routes() {
  std::vector<api::Route> routes;

  auto create = spec("POST", "/movements", "createMovement", "Record a movement", api::Scope::Write);
  create.body = movement_request_schema();
  create.errors = {404, 409};
  routes.push_back({create, create_movement});

  for (auto& r : batch_route()) routes.push_back(std::move(r));

  auto list = spec("GET", "/movements", "listMovements", "List movements, newest first", api::Scope::Read);
  list.query = list::query_schema("mov", {
      optional("item_id", id("itm"), "Only movements of this item."),
      optional("location_id", id("loc"), "Only movements at this location."),
      optional("type", movement_type_schema(), "Only movements of this type."),
      optional("transfer_id", id("trf"), "Only the legs of this transfer."),
      optional("created_gte", timestamp(), "Only movements created at or after this instant."),
      optional("created_lt", timestamp(), "Only movements created before this instant."),
  });
  list.response = list_of(movement_object_schema());
  routes.push_back({list, list_movements});

  routes.push_back({spec("GET", "/movements/{id}", "getMovement", "Retrieve a movement", api::Scope::Read), get_movement});

  auto reverse = spec("POST", "/movements/{id}/reverse", "reverseMovement",
                      "Reverse a movement (once): the opposite quantity, same location and lots, at the current WAC",
                      api::Scope::Write);
  reverse.body = object({
      optional("reason", pattern_string(schema::patterns::snake_case, "a snake_case reason code", 64),
               "Default: the original movement's reason."),
      optional("reference", string(255)),
      optional("metadata", metadata()),
  });
  reverse.errors = {409};
  routes.push_back({reverse, reverse_movement});
  return routes;
}

}  // namespace sk::ledger

extern "C" {
PG_FUNCTION_INFO_V1(sk_is_movement_type);

// sk.is_movement_type(text): the CHECK on sk.movements.type, over the API's own list.
// A C call rather than `type IN (...)`: PostgreSQL reads a CHECK's stored expression
// again for every statement that inserts, and the list's array constant made that a
// twentieth of a movement POST.
Datum sk_is_movement_type(PG_FUNCTION_ARGS) {
  text* t = PG_GETARG_TEXT_PP(0);
  std::string_view type(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  for (std::string_view known : sk::ledger::kMovementTypes)
    if (type == known) PG_RETURN_BOOL(true);
  PG_RETURN_BOOL(false);
}
}
