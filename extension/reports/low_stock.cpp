// GET /stock/low: the items to reorder. An item is low when its total on-hand is below
// its reorder point (the condition stock.low fires on); items without a reorder point
// and archived items never are. Each entry is the item's stock object.
#include "ledger/ledger.hpp"
#include "platform/list.hpp"
#include "reports/reports.hpp"

namespace sk::reports {

using namespace sk::schema;

namespace {

api::Response low_stock(const api::Call& call) {
  return list::Query("sk.stock_object(i)::text",
                     "sk.items i LEFT JOIN sk.item_stock s "
                     "ON s.account_id = i.account_id AND s.livemode = i.livemode AND s.item_id = i.id",
                     "i")
      .filter("i.archived_at IS NULL AND i.reorder_point IS NOT NULL AND coalesce(s.on_hand, 0) < i.reorder_point")
      .run(call);
}

}  // namespace

std::vector<api::Route> routes() {
  api::RouteSpec low{"GET", "/stock/low", "listLowStock", "Items whose on-hand is below their reorder point", "Stock",
                     api::Scope::Read};
  low.query = list::query_schema("itm");
  low.response = list_of(ledger::stock_object_schema());
  return {{low, low_stock}};
}

}  // namespace sk::reports
