// Day-end close: each count of the day is compared with the on-hand the log shows at
// its counting instant (not at closing: sales after the count are not variances), and
// every difference is booked forward as a current-dated `count_variance` adjustment.
// History is never rewritten. A day (or a location's day) closes once.
#include "ledger/decimal.hpp"
#include "ledger/posting.hpp"
#include "pg/spi.hpp"
#include "platform/events.hpp"
#include "platform/list.hpp"
#include "purchasing/common.hpp"
#include "purchasing/purchasing.hpp"

namespace sk::purchasing {

using namespace sk::schema;
using api::text_param;
namespace dec = ledger::dec;

namespace {

const char* kSelectClose = "SELECT sk.dayend_close_object(d)::text FROM sk.dayend_closes d WHERE d.id = $1";

struct Counted {
  std::string count_id, counted_at, item_id, location_id;
  std::optional<std::string> lot_id;
  std::string counted_qty, expected_qty;
  dec::Num variance;
};

api::Response close_day(const api::Call& call) {
  const std::string business_date = *text_param(call.body, "business_date");
  auto location = text_param(call.body, "location_id");
  if (location) location_or_default(location, "/location_id");

  lock_business_day(business_date);
  if (auto closed = pg::exec_value(
          "SELECT id FROM sk.dayend_closes WHERE business_date = $1::date "
          "AND ($2::text IS NULL OR location_id IS NULL OR location_id = $2) LIMIT 1",
          {business_date, location}))
    api::fail(409, "day_already_closed", "Business day " + business_date + " is already closed (" + *closed + ").",
              "/business_date");

  // The latest count of each (item, location, lot) that day, with the log's on-hand at
  // its counting instant.
  auto rows = pg::exec(
      "SELECT DISTINCT ON (l.item_id, l.location_id, l.lot_id) c.id, c.counted_at::text, l.item_id, l.location_id, "
      "       l.lot_id, l.counted_qty::text, sk.on_hand_at(l.item_id, l.location_id, l.lot_id, c.counted_at)::text "
      "  FROM sk.counts c JOIN sk.count_lines l ON (l.account_id, l.livemode, l.count_id) = (c.account_id, c.livemode, c.id) "
      " WHERE c.business_date = $1::date AND ($2::text IS NULL OR l.location_id = $2) "
      " ORDER BY l.item_id, l.location_id, l.lot_id, c.counted_at DESC, c.id DESC",
      {business_date, location});
  std::vector<Counted> counted;
  for (const auto& r : rows.rows)
    counted.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r[4], r.text(5), r.text(6),
                       dec::sub(dec::parse(r.text(5)), dec::parse(r.text(6)))});

  std::string close_id = *pg::exec_value(
      "INSERT INTO sk.dayend_closes (business_date, location_id) VALUES ($1::date, $2) RETURNING id",
      {business_date, location});

  std::vector<ledger::MovementRequest> requests;
  std::vector<size_t> booked;  // index into counted, per request
  for (size_t i = 0; i < counted.size(); ++i) {
    const Counted& c = counted[i];
    if (dec::sign(c.variance) == 0) continue;
    ledger::MovementRequest m;
    m.pointer = "";
    m.item_id = c.item_id;
    m.type = "adjustment";
    m.qty = dec::str(c.variance);
    m.reason = "count_variance";
    m.location_id = c.location_id;
    m.lot_id = c.lot_id;
    m.reference = close_id;
    m.metadata = json::Value::object({{"dayend_close_id", json::Value::string(close_id)},
                                      {"count_id", json::Value::string(c.count_id)}});
    requests.push_back(std::move(m));
    booked.push_back(i);
  }
  std::vector<std::string> movements;
  if (!requests.empty()) {
    auto legs = ledger::expand(requests);
    movements = ledger::post(legs);
  }

  json::Value variances = json::Value::array();
  size_t next = 0;
  for (size_t i = 0; i < counted.size(); ++i) {
    const Counted& c = counted[i];
    std::optional<std::string> movement, wac;
    if (next < booked.size() && booked[next] == i) {
      movement = member_text(movements[next], "id");
      wac = member_text(movements[next], "wac_after");
      ++next;
    }
    variances.push(json::Value::object({
        {"line_no", json::Value::number(std::to_string(i + 1))},
        {"count_id", json::Value::string(c.count_id)},
        {"item_id", json::Value::string(c.item_id)},
        {"location_id", json::Value::string(c.location_id)},
        {"lot_id", c.lot_id ? json::Value::string(*c.lot_id) : json::Value::null()},
        {"counted_at", json::Value::string(c.counted_at)},
        {"counted_qty", json::Value::string(c.counted_qty)},
        {"expected_qty", json::Value::string(c.expected_qty)},
        {"variance_qty", json::Value::string(dec::str(c.variance))},
        {"wac", json::Value::string(wac.value_or("0"))},
        {"movement_id", movement ? json::Value::string(*movement) : json::Value::null()},
    }));
  }
  pg::exec(
      "INSERT INTO sk.dayend_variances (close_id, line_no, count_id, item_id, location_id, lot_id, counted_at, "
      "    counted_qty, expected_qty, variance_qty, variance_value, movement_id) "
      "SELECT $1, v.line_no, v.count_id, v.item_id, v.location_id, v.lot_id, v.counted_at, v.counted_qty, "
      "       v.expected_qty, v.variance_qty, v.variance_qty * v.wac, v.movement_id "
      "  FROM json_to_recordset($2::json) AS v(line_no int, count_id text, item_id text, location_id text, lot_id text, "
      "       counted_at timestamptz, counted_qty numeric, expected_qty numeric, variance_qty numeric, wac numeric, "
      "       movement_id text)",
      {close_id, variances.dump()});
  std::string close = *pg::exec_value(kSelectClose, {close_id});
  events::emit("dayend.closed", close);
  return api::json_response(close);
}

api::Response get_close(const api::Call& call) { return list::object_or_404(kSelectClose, call); }

api::Response list_closes(const api::Call& call) {
  return list::Query("sk.dayend_close_object(d)::text", "sk.dayend_closes d", "d")
      .where("d.business_date = ?::date", text_param(call.query, "business_date"))
      .run(call);
}

Schema close_schema() {
  static const Schema s = named("DayendClose", api_object("dec", "dayend_close", {
      required("business_date", date()),
      required("location_id", nullable(id("loc")), "null: the whole account."),
      required("currency", string(3)),
      required("variances", array(object({
          required("count_id", id("cnt")),
          required("item_id", id("itm")),
          required("location_id", id("loc")),
          required("lot_id", nullable(id("lot"))),
          required("counted_at", timestamp()),
          required("counted_qty", decimal_string()),
          required("expected_qty", decimal_string(), "On-hand from the log at the counting instant."),
          required("variance_qty", decimal_string(), "counted_qty − expected_qty."),
          required("variance_value", decimal_string(), "variance_qty at the item's WAC when booked, in the account currency."),
          required("movement_id", nullable(id("mov")), "The count_variance adjustment; null when there was no variance."),
      }), 100000)),
      required("variance_value_total", decimal_string()),
  }));
  return s;
}

}  // namespace

std::vector<api::Route> dayend_routes() {
  std::vector<api::Route> routes;
  auto create = api::resource_route("POST", "/dayend_closes", "closeDay",
                                    "Close a business day: book count variances forward as adjustments", "Day-end",
                                    api::Scope::Write, "dec", "day-end close", close_schema());
  create.body = object({
      required("business_date", date()),
      optional("location_id", id("loc"), "Close only this location's day (default: the whole account)."),
  });
  create.errors = {404, 409};
  routes.push_back({create, close_day});

  auto list = api::resource_route("GET", "/dayend_closes", "listDayendCloses", "List day-end closes", "Day-end",
                                  api::Scope::Read, "dec", "day-end close", list_of(close_schema()));
  list.query = list::query_schema("dec", {optional("business_date", date())});
  routes.push_back({list, list_closes});
  routes.push_back({api::resource_route("GET", "/dayend_closes/{id}", "getDayendClose", "Retrieve a day-end close",
                                        "Day-end", api::Scope::Read, "dec", "day-end close", close_schema()),
                    get_close});
  return routes;
}

}  // namespace sk::purchasing
