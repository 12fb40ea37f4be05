// Stock counts: what was physically counted, where, and when. A count belongs to a
// business day; a closed day takes no more counts.
#include <set>

#include "pg/spi.hpp"
#include "platform/list.hpp"
#include "purchasing/common.hpp"
#include "purchasing/purchasing.hpp"

namespace sk::purchasing {

using namespace sk::schema;
using api::text_param;

namespace {

const char* kSelectCount = "SELECT sk.count_object(c)::text FROM sk.counts c WHERE c.id = $1";

api::Response create_count(const api::Call& call) {
  const auto& b = call.body;
  const std::string business_date = *text_param(b, "business_date");
  const auto& lines = b.find("lines")->items();

  std::vector<std::string> ids, params;
  for (size_t i = 0; i < lines.size(); ++i) {
    ids.push_back(*text_param(lines[i], "item_id"));
    params.push_back("/lines/" + std::to_string(i) + "/item_id");
  }
  auto items = load_items(ids, params);

  lock_business_day(business_date);
  json::Value resolved = json::Value::array();
  std::set<std::string> checked_locations;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string at = "/lines/" + std::to_string(i);
    const json::Value& line = lines[i];
    std::string location = location_or_default(text_param(line, "location_id"), at + "/location_id");
    if (checked_locations.insert(location).second) check_day_open(business_date, location, at + "/location_id");
    auto lot = text_param(line, "lot_id");
    if (items.at(ids[i]).track_lots && !lot)
      api::fail(400, "parameter_missing", "Item '" + ids[i] + "' is lot-tracked: count each lot.", at + "/lot_id");
    if (!items.at(ids[i]).track_lots && lot)
      api::fail(400, "parameter_invalid", "Item '" + ids[i] + "' does not track lots.", at + "/lot_id");
    if (lot && pg::exec("SELECT 1 FROM sk.lots WHERE id = $1 AND item_id = $2", {lot, ids[i]}).empty())
      api::fail(404, "resource_missing", "No such lot of item '" + ids[i] + "': '" + *lot + "'.", at + "/lot_id");
    resolved.push(json::Value::object({
        {"item_id", json::Value::string(ids[i])},
        {"location_id", json::Value::string(location)},
        {"lot_id", lot ? json::Value::string(*lot) : json::Value::null()},
        {"counted_qty", json::Value::string(*text_param(line, "counted_qty"))},
    }));
  }

  std::string count_id = *pg::exec_value(
      "INSERT INTO sk.counts (business_date, counted_at, reference, metadata) "
      "VALUES ($1::date, coalesce($2::timestamptz, now()), $3, coalesce($4::jsonb, '{}')) RETURNING id",
      {business_date, text_param(b, "counted_at"), text_param(b, "reference"), text_param(b, "metadata")});
  pg::exec(
      "INSERT INTO sk.count_lines (count_id, line_no, item_id, location_id, lot_id, counted_qty) "
      "SELECT $1, x.n, x.l->>'item_id', x.l->>'location_id', x.l->>'lot_id', (x.l->>'counted_qty')::numeric "
      "  FROM json_array_elements($2::json) WITH ORDINALITY AS x(l, n)",
      {count_id, resolved.dump()});
  return api::json_response(*pg::exec_value(kSelectCount, {count_id}));
}

api::Response get_count(const api::Call& call) { return list::object_or_404(kSelectCount, call); }

api::Response list_counts(const api::Call& call) {
  return list::Query("sk.count_object(c)::text", "sk.counts c", "c")
      .where("c.business_date = ?::date", text_param(call.query, "business_date"))
      .run(call);
}

Schema count_schema() {
  static const Schema s = named("Count", api_object("cnt", "count", {
      required("business_date", date()),
      required("counted_at", timestamp(), "The instant the stock was counted: variances compare with the log at this instant."),
      required("reference", nullable(string(200))),
      required("lines", array(object({
          required("item_id", id("itm")),
          required("location_id", id("loc")),
          required("lot_id", nullable(id("lot"))),
          required("counted_qty", decimal_string()),
      }), 1000)),
      required("metadata", metadata()),
  }));
  return s;
}

}  // namespace

std::vector<api::Route> count_routes() {
  std::vector<api::Route> routes;
  auto create = api::resource_route("POST", "/counts", "createCount", "Record a stock count", "Counts", api::Scope::Write,
                                    "cnt", "count", count_schema());
  create.body = object({
      required("business_date", date(), "The business day the count belongs to."),
      optional("counted_at", timestamp(), "When the stock was counted (default: now)."),
      optional("reference", string(200)),
      required("lines", array(object({
          required("item_id", id("itm")),
          optional("location_id", id("loc"), "Default location if omitted."),
          optional("lot_id", id("lot"), "Required for lot-tracked items: counts are per lot."),
          required("counted_qty", decimal({.allow_negative = false})),
      }), 1000, 1)),
      optional("metadata", metadata()),
  });
  create.errors = {404, 409};
  routes.push_back({create, create_count});

  auto list = api::resource_route("GET", "/counts", "listCounts", "List stock counts", "Counts", api::Scope::Read, "cnt",
                                  "count", list_of(count_schema()));
  list.query = list::query_schema("cnt", {optional("business_date", date(), "Only counts of this business day.")});
  routes.push_back({list, list_counts});
  routes.push_back({api::resource_route("GET", "/counts/{id}", "getCount", "Retrieve a stock count", "Counts",
                                        api::Scope::Read, "cnt", "count", count_schema()),
                    get_count});
  return routes;
}

}  // namespace sk::purchasing
