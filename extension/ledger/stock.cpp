// Stock in one call: on-hand, WAC and value with the split by location and by lot.
// Now from the balance cache, or ?as_of= from the log for any past instant.
#include "ledger/ledger.hpp"
#include "pg/spi.hpp"
#include "platform/list.hpp"
#include "platform/ulid.hpp"

namespace sk::ledger {

using namespace sk::schema;
using api::text_param;

namespace {

constexpr size_t kMaxItems = 100;

api::Response item_stock(const api::Call& call) {
  if (auto as_of = text_param(call.query, "as_of")) {
    auto stock = pg::exec_value("SELECT sk.stock_object_at(i, $2::timestamptz)::text FROM sk.items i WHERE i.id = $1",
                                {call.id, as_of});
    return api::json_response(list::found(stock, call));
  }
  auto stock = stock_objects({call.id});
  if (stock.empty()) api::not_found("item", call.id);
  return api::json_response(std::move(stock.begin()->second));
}

// "a, b,a" -> ["a","b"]: trimmed, de-duplicated, order kept.
std::vector<std::string> split_list(const std::string& text, const std::string& param) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string v = text.substr(start, end - start);
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of(' ') + 1);
    if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    start = end + 1;
  }
  if (out.empty() || out.size() > kMaxItems)
    api::fail(400, "parameter_invalid", param.substr(1) + " must list 1 to 100 comma-separated values.", param);
  return out;
}

api::Response stock_list(const api::Call& call) {
  auto ids = text_param(call.query, "item_ids");
  auto skus = text_param(call.query, "skus");
  if (ids.has_value() == skus.has_value())
    api::fail(400, ids ? "parameter_invalid" : "parameter_missing", "Give either item_ids or skus (comma-separated).",
              ids ? "/skus" : "/item_ids");
  std::vector<std::string> values = split_list(ids ? *ids : *skus, ids ? "/item_ids" : "/skus");
  json::Value list = json::Value::array();
  for (const auto& v : values) {
    if (ids && !ulid::is_id(v, "itm"))
      api::fail(400, "parameter_invalid", "item_ids must be item ids (itm_…); '" + v + "' is not.", "/item_ids");
    list.push(json::Value::string(v));
  }
  auto as_of = text_param(call.query, "as_of");
  // One text column per item found, in the order asked: by id, or by SKU among active items.
  auto found = [&](const std::string& column) {
    std::string join = ids ? "i.id = r.v" : "i.sku = r.v AND i.archived_at IS NULL";
    std::vector<pg::Text> params{list.dump()};
    if (as_of) params.push_back(as_of);
    std::string sql = "SELECT " + column + " FROM json_array_elements_text($1::json) WITH ORDINALITY AS r(v, n) " +
                      "JOIN sk.items i ON " + join + " ORDER BY r.n";
    std::vector<std::string> out;
    for (auto& row : pg::exec(sql, params).rows) out.push_back(row.text(0));
    return out;
  };
  std::vector<std::string> objects;
  if (as_of) {
    objects = found("sk.stock_object_at(i, $2::timestamptz)::text");
  } else {
    std::vector<std::string> item_ids = ids ? values : found("i.id");
    auto now = stock_objects(item_ids);
    for (const auto& id : item_ids)
      if (auto it = now.find(id); it != now.end()) objects.push_back(std::move(it->second));
  }

  std::string body = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < objects.size(); ++i) body += (i ? "," : "") + objects[i];
  body += "],\"has_more\":false,\"url\":" + json::quote(call.path) + "}";
  return api::json_response(std::move(body));
}

}  // namespace

std::vector<api::Route> stock_routes() {
  std::vector<api::Route> routes;

  api::RouteSpec one{"GET", "/items/{id}/stock", "getItemStock", "On-hand, WAC and value of an item, by location and lot",
                     "Stock", api::Scope::Read};
  one.id_prefix = "itm";
  one.resource = "item";
  one.query = object({optional("as_of", timestamp(), "Answer from the log as of this instant (default: now).")});
  one.response = stock_object_schema();
  routes.push_back({one, item_stock});

  api::RouteSpec many{"GET", "/stock", "listStock", "Stock of up to 100 items in one call, by id or by SKU", "Stock",
                      api::Scope::Read};
  many.query = object({
      optional("item_ids", string(3100), "Comma-separated item ids (up to 100)."),
      optional("skus", string(10100), "Comma-separated SKUs of active items (up to 100)."),
      optional("as_of", timestamp(), "Answer from the log as of this instant (default: now)."),
  });
  many.response = object({
      required("object", constant("list")),
      required("data", array(stock_object_schema(), kMaxItems), "Stock of the items found, in the order asked; unknown ones are left out."),
      required("has_more", boolean(), "Always false."),
      required("url", string()),
  });
  routes.push_back({many, stock_list});
  return routes;
}

}  // namespace sk::ledger
