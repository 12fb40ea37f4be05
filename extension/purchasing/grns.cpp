// Goods received notes: a draft lists what arrived and what it cost to land; completing
// it posts one receipt per line at unit cost plus its share of landed cost, atomically,
// and emits grn.completed. Drafts can be cancelled; completed GRNs are final.
#include "ledger/ledger.hpp"
#include "ledger/posting.hpp"
#include "pg/spi.hpp"
#include "platform/events.hpp"
#include "platform/list.hpp"
#include "purchasing/common.hpp"
#include "purchasing/landed_cost.hpp"
#include "purchasing/purchasing.hpp"

namespace sk::purchasing {

using namespace sk::schema;
using api::text_param;
namespace dec = ledger::dec;

namespace {

const char* kSelectGrn = "SELECT sk.grn_object(g)::text FROM sk.grns g WHERE g.id = $1";

// The GRN's object; callers have just created or locked it, so it exists.
std::string grn_json(const std::string& id) { return *pg::exec_value(kSelectGrn, {id}); }

api::Response create_grn(const api::Call& call) {
  const auto& b = call.body;
  const auto& lines = b.find("lines")->items();
  std::vector<std::string> ids, params;
  for (size_t i = 0; i < lines.size(); ++i) {
    ids.push_back(*text_param(lines[i], "item_id"));
    params.push_back("/lines/" + std::to_string(i) + "/item_id");
  }
  auto items = load_items(ids, params);
  for (size_t i = 0; i < lines.size(); ++i) {
    const ItemInfo& item = items.at(ids[i]);
    std::string at = "/lines/" + std::to_string(i);
    if (item.archived) api::fail(409, "item_archived", "Item '" + ids[i] + "' is archived.", at + "/item_id");
    bool has_lot = api::member(lines[i], "lot") != nullptr;
    if (item.track_lots && !has_lot)
      api::fail(400, "parameter_missing", "Item '" + ids[i] + "' is lot-tracked: the line needs a lot.", at + "/lot");
    if (!item.track_lots && has_lot)
      api::fail(400, "parameter_invalid", "Item '" + ids[i] + "' does not track lots.", at + "/lot");
  }
  std::string location = location_or_default(text_param(b, "location_id"), "/location_id");

  std::string grn_id = *pg::exec_value(
      "INSERT INTO sk.grns (supplier, reference, location_id, metadata) VALUES ($1, $2, $3, coalesce($4::jsonb, '{}')) "
      "RETURNING id",
      {text_param(b, "supplier"), text_param(b, "reference"), location, text_param(b, "metadata")});
  pg::exec(
      "INSERT INTO sk.grn_lines (grn_id, line_no, item_id, qty, unit_cost, lot_code, lot_expires_on) "
      "SELECT $1, x.n, x.l->>'item_id', (x.l->>'qty')::numeric, (x.l->>'unit_cost')::numeric, x.l->'lot'->>'code', "
      "       (x.l->'lot'->>'expires_on')::date "
      "  FROM json_array_elements($2::json) WITH ORDINALITY AS x(l, n)",
      {grn_id, b.find("lines")->dump()});
  if (const json::Value* costs = api::member(b, "landed_costs"))
    pg::exec(
        "INSERT INTO sk.grn_landed_costs (grn_id, line_no, description, amount, allocation) "
        "SELECT $1, x.n, x.c->>'description', (x.c->>'amount')::numeric, x.c->>'allocation' "
        "  FROM json_array_elements($2::json) WITH ORDINALITY AS x(c, n)",
        {grn_id, costs->dump()});
  return api::json_response(grn_json(grn_id));
}

// Locks the GRN and checks it is still a draft.
void lock_draft(const std::string& id, const char* action) {
  auto status = pg::exec_value("SELECT status FROM sk.grns WHERE id = $1 FOR UPDATE", {id});
  if (!status) api::not_found("GRN", id);
  if (*status != "draft")
    api::fail(409, "grn_not_draft", "GRN '" + id + "' is " + *status + " and cannot be " + action + ".");
}

api::Response complete_grn(const api::Call& call) {
  lock_draft(call.id, "completed");
  auto head = pg::exec("SELECT location_id, reference FROM sk.grns WHERE id = $1", {call.id}).rows.at(0);
  auto line_rows = pg::exec(
      "SELECT line_no, item_id, qty::text, unit_cost::text, lot_code, lot_expires_on::text FROM sk.grn_lines "
      "WHERE grn_id = $1 ORDER BY line_no",
      {call.id});
  auto cost_rows = pg::exec(
      "SELECT amount::text, allocation, line_no FROM sk.grn_landed_costs WHERE grn_id = $1 ORDER BY line_no", {call.id});

  std::vector<GrnLine> lines;
  for (const auto& r : line_rows.rows) lines.push_back({dec::parse(r.text(2)), dec::parse(r.text(3))});
  std::vector<LandedCost> costs;
  for (const auto& r : cost_rows.rows)
    costs.push_back({dec::parse(r.text(0)), r.text(1) == "value", static_cast<size_t>(std::stoul(r.text(2)) - 1)});
  auto unit_costs = landed_unit_costs(lines, costs, currency_exponent());

  json::Value grn_ref = json::Value::object({{"grn_id", json::Value::string(call.id)}});
  std::vector<ledger::MovementRequest> requests;
  for (size_t i = 0; i < line_rows.rows.size(); ++i) {
    const auto& r = line_rows.rows[i];
    ledger::MovementRequest m;
    m.pointer = "/lines/" + std::to_string(i);
    m.item_id = r.text(1);
    m.type = "receipt";
    m.qty = r.text(2);
    m.reason = "purchase_received";
    m.location_id = head.text(0);
    m.unit_cost = dec::str(unit_costs[i]);
    m.lot_code = r[4];
    m.lot_expires_on = r[5];
    m.reference = head[1] ? head[1] : std::optional<std::string>(call.id);
    m.metadata = grn_ref;
    requests.push_back(std::move(m));
  }
  auto legs = ledger::expand(requests);
  auto movements = ledger::post(legs);

  json::Value posted = json::Value::array();
  for (size_t i = 0; i < movements.size(); ++i)
    posted.push(json::Value::object({
        {"line_no", json::Value::number(line_rows.rows[i].text(0))},
        {"movement_id", json::Value::string(member_text(movements[i], "id"))},
        {"lot_id", [&] {
           auto lot = member_text(movements[i], "lot_id");
           return lot.empty() ? json::Value::null() : json::Value::string(lot);
         }()},
        {"landed_unit_cost", json::Value::string(dec::str(unit_costs[i]))},
    }));
  pg::exec(
      "UPDATE sk.grn_lines l SET movement_id = p.movement_id, lot_id = p.lot_id, landed_unit_cost = p.landed_unit_cost "
      "  FROM json_to_recordset($2::json) AS p(line_no int, movement_id text, lot_id text, landed_unit_cost numeric) "
      " WHERE l.grn_id = $1 AND l.line_no = p.line_no",
      {call.id, posted.dump()});
  pg::exec("UPDATE sk.grns SET status = 'completed', completed_at = now(), updated_at = now() WHERE id = $1", {call.id});
  std::string grn = grn_json(call.id);
  events::emit("grn.completed", grn);
  return api::json_response(grn);
}

api::Response cancel_grn(const api::Call& call) {
  lock_draft(call.id, "cancelled");
  pg::exec("UPDATE sk.grns SET status = 'cancelled', cancelled_at = now(), updated_at = now() WHERE id = $1", {call.id});
  return api::json_response(grn_json(call.id));
}

api::Response get_grn(const api::Call& call) { return list::object_or_404(kSelectGrn, call); }

api::Response list_grns(const api::Call& call) {
  return list::Query("sk.grn_object(g)::text", "sk.grns g", "g")
      .where("g.status = ?", text_param(call.query, "status"))
      .run(call);
}

Schema grn_schema() {
  static const Schema s = named("Grn", api_object("grn", "grn", {
      required("status", enumeration({"draft", "completed", "cancelled"})),
      required("supplier", nullable(string(200))),
      required("reference", nullable(string(200))),
      required("location_id", id("loc")),
      required("currency", string(3)),
      required("lines", array(object({
          required("item_id", id("itm")),
          required("qty", decimal_string()),
          required("unit_cost", decimal_string()),
          required("lot", nullable(object({required("code", string(100)), required("expires_on", nullable(date()))}))),
          required("lot_id", nullable(id("lot")), "Set on completion for lot-tracked items."),
          required("landed_unit_cost", nullable(decimal_string()),
                   "Set on completion: unit cost plus this line's share of landed cost, per unit."),
          required("movement_id", nullable(id("mov")), "Set on completion: the receipt posted for this line."),
      }), 500)),
      required("landed_costs", array(object({
          required("description", nullable(string(200))),
          required("amount", decimal_string()),
          required("allocation", enumeration({"value", "quantity"})),
      }), 20)),
      required("metadata", metadata()),
      required("completed_at", nullable(timestamp())),
      required("cancelled_at", nullable(timestamp())),
      required("updated_at", timestamp()),
  }));
  return s;
}

api::RouteSpec spec(const char* method, const char* path, const char* op, const char* summary, api::Scope scope) {
  return api::resource_route(method, path, op, summary, "GRNs", scope, "grn", "GRN", grn_schema());
}

}  // namespace

std::vector<api::Route> grn_routes() {
  std::vector<api::Route> routes;
  auto create = spec("POST", "/grns", "createGrn", "Create a draft goods received note", api::Scope::Write);
  create.body = object({
      optional("supplier", string(200)),
      optional("reference", string(200), "Your reference, e.g. the supplier's delivery note; becomes the receipts' reference."),
      optional("location_id", id("loc"), "Where the goods arrived (default location if omitted)."),
      required("lines", array(object({
          required("item_id", id("itm")),
          required("qty", decimal({.allow_negative = false, .allow_zero = false})),
          required("unit_cost", decimal({.allow_negative = false})),
          optional("lot", object({
              required("code", string(100, 1)),
              optional("expires_on", nullable(date())),
          }), "Required for lot-tracked items."),
      }), 500, 1)),
      optional("landed_costs", array(object({
          optional("description", string(200)),
          required("amount", decimal({.allow_negative = false, .max_scale = 4})),
          required("allocation", enumeration({"value", "quantity"}), "Share by line value (qty × unit cost) or by quantity."),
      }), 20)),
      optional("metadata", metadata()),
  });
  create.errors = {404, 409};
  routes.push_back({create, create_grn});

  auto list = spec("GET", "/grns", "listGrns", "List GRNs", api::Scope::Read);
  list.query = list::query_schema("grn", {optional("status", enumeration({"draft", "completed", "cancelled"}))});
  list.response = list_of(grn_schema());
  routes.push_back({list, list_grns});

  routes.push_back({spec("GET", "/grns/{id}", "getGrn", "Retrieve a GRN", api::Scope::Read), get_grn});

  auto complete = spec("POST", "/grns/{id}/complete", "completeGrn",
                       "Post the GRN: one receipt per line at unit cost plus allocated landed cost", api::Scope::Write);
  complete.errors = {409};
  routes.push_back({complete, complete_grn});

  auto cancel = spec("POST", "/grns/{id}/cancel", "cancelGrn", "Cancel a draft GRN", api::Scope::Write);
  cancel.errors = {409};
  routes.push_back({cancel, cancel_grn});
  return routes;
}

}  // namespace sk::purchasing
