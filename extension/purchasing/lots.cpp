// Lots and their stock (GET /lots, /lots/{id}), and the lot.expiring scan: once per
// lot with stock, when it enters its account's warning window.
#include "pg/spi.hpp"
#include "platform/context.hpp"
#include "platform/events.hpp"
#include "platform/list.hpp"
#include "purchasing/purchasing.hpp"

namespace sk::purchasing {

using namespace sk::schema;
using api::text_param;

namespace {

api::Response get_lot(const api::Call& call) {
  return list::object_or_404("SELECT sk.lot_stock_object(l)::text FROM sk.lots l WHERE l.id = $1", call);
}

api::Response list_lots(const api::Call& call) {
  return list::Query("sk.lot_stock_object(l)::text", "sk.lots l", "l")
      .where("l.item_id = ?", text_param(call.query, "item_id"))
      .where("l.expires_on < ?::date", text_param(call.query, "expiring_before"))
      .run(call);
}

Schema lot_schema() {
  static const Schema s = named("Lot", api_object("lot", "lot", {
      required("item_id", id("itm")),
      required("code", string(100), "Unique per item."),
      required("expires_on", nullable(date())),
      required("expired", nullable(boolean()), "Past its expiry date: issues skip it, sales from it are refused."),
      required("on_hand", decimal_string()),
      required("locations", array(object({required("location_id", id("loc")), required("on_hand", decimal_string())}), 1000)),
  }));
  return s;
}

}  // namespace

std::vector<api::Route> lot_routes() {
  std::vector<api::Route> routes;
  auto list = api::resource_route("GET", "/lots", "listLots", "List lots with their stock", "Lots", api::Scope::Read, "lot",
                                  "lot", list_of(lot_schema()));
  list.query = list::query_schema("lot", {
      optional("item_id", id("itm"), "Only lots of this item."),
      optional("expiring_before", date(), "Only lots that expire before this date."),
  });
  routes.push_back({list, list_lots});
  routes.push_back({api::resource_route("GET", "/lots/{id}", "getLot", "Retrieve a lot with its stock", "Lots",
                                        api::Scope::Read, "lot", "lot", lot_schema()),
                    get_lot});
  return routes;
}

int scan_expiring_lots() {
  auto due = pg::exec(
      "SELECT l.account_id, l.livemode::text, l.id FROM sk.lots l JOIN sk.accounts a ON a.id = l.account_id "
      " WHERE l.expires_on IS NOT NULL AND l.expiring_notified_at IS NULL "
      "   AND l.expires_on <= current_date + a.lot_expiry_warning_days "
      "   AND EXISTS (SELECT FROM sk.stock_balances b "
      "                WHERE (b.account_id, b.livemode, b.lot_id) = (l.account_id, l.livemode, l.id) AND b.on_hand > 0) "
      " ORDER BY l.account_id, l.livemode, l.id FOR UPDATE OF l SKIP LOCKED");
  for (const auto& row : due.rows) {
    // The event belongs to the lot's tenant: act for it, as the API would.
    context::TenantScope tenant(context::Tenant{row.text(0), row.text(1) == "true"});
    // By its full key: the worker bypasses RLS, whose tenant predicate would otherwise
    // lead the lookup into the primary key.
    auto lot = pg::exec_value(
        "UPDATE sk.lots l SET expiring_notified_at = now() WHERE (l.account_id, l.livemode, l.id) = ($1, $2::boolean, $3) "
        "RETURNING sk.lot_stock_object(l)::text",
        {row.text(0), row.text(1), row.text(2)});
    events::emit("lot.expiring", *lot);
  }
  return static_cast<int>(due.rows.size());
}

}  // namespace sk::purchasing
