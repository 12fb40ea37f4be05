// Items: SKU unique per account and mode among active items; DELETE archives (an item
// with history must keep it). Each change emits item.created / item.updated.
#include "catalog/catalog.hpp"
#include "pg/spi.hpp"
#include "platform/events.hpp"
#include "platform/list.hpp"

namespace sk::catalog {

using namespace sk::schema;
using api::text_param;

namespace {

Schema sku() {
  return pattern_string(schema::patterns::trimmed_line, "1 to 100 characters without leading or trailing spaces", 100);
}
Schema quantity_threshold() { return nullable(decimal({.allow_negative = false})); }

api::Response create_item(const api::Call& call) {
  const auto& b = call.body;
  auto item = pg::exec_value(
      "INSERT INTO sk.items (sku, name, unit, reorder_point, track_lots, negative_stock, metadata) "
      "VALUES ($1, $2, coalesce($3, 'each'), $4::numeric, coalesce($5::boolean, false), coalesce($6, 'allow'), "
      "coalesce($7::jsonb, '{}')) RETURNING sk.item_object(items)::text",
      {text_param(b, "sku"), text_param(b, "name"), text_param(b, "unit"), text_param(b, "reorder_point"),
       text_param(b, "track_lots"), text_param(b, "negative_stock"), text_param(b, "metadata")});
  events::emit("item.created", *item);
  return api::json_response(*item);
}

api::Response get_item(const api::Call& call) {
  return list::object_or_404("SELECT sk.item_object(i)::text FROM sk.items i WHERE i.id = $1", call);
}

api::Response list_items(const api::Call& call) {
  return list::Query("sk.item_object(i)::text", "sk.items i", "i")
      .where("i.sku = ?", text_param(call.query, "sku"))
      .where("(i.archived_at IS NOT NULL) = ?::boolean", text_param(call.query, "archived"))
      // Name contains q (case-insensitive) or SKU starts with it; q's LIKE wildcards are literal.
      .where("EXISTS (SELECT FROM (SELECT replace(replace(replace(?, '\\', '\\\\'), '%', '\\%'), '_', '\\_') AS p) q "
             "WHERE i.name ILIKE '%' || q.p || '%' OR i.sku LIKE q.p || '%')",
             text_param(call.query, "q"))
      .run(call);
}

api::Response update_item(const api::Call& call) {
  const auto& b = call.body;
  bool reorder_given = api::member(b, "reorder_point") != nullptr;
  auto item = pg::exec_value(
      "UPDATE sk.items SET sku = coalesce($2, sku), name = coalesce($3, name), unit = coalesce($4, unit), "
      "reorder_point = CASE WHEN $5::boolean THEN $6::numeric ELSE reorder_point END, "
      "negative_stock = coalesce($7, negative_stock), metadata = sk.merge_metadata(metadata, $8::jsonb), "
      "archived_at = CASE WHEN $9::boolean IS NULL THEN archived_at WHEN $9::boolean THEN coalesce(archived_at, now()) END, "
      "updated_at = now() WHERE id = $1 RETURNING sk.item_object(items)::text",
      {call.id, text_param(b, "sku"), text_param(b, "name"), text_param(b, "unit"),
       std::string(reorder_given ? "true" : "false"), text_param(b, "reorder_point"), text_param(b, "negative_stock"),
       text_param(b, "metadata"), text_param(b, "archived")});
  std::string json = list::found(item, call);
  events::emit("item.updated", json);
  return api::json_response(json);
}

api::Response archive_item(const api::Call& call) {
  auto item = pg::exec_value(
      "UPDATE sk.items SET archived_at = coalesce(archived_at, now()), updated_at = now() WHERE id = $1 "
      "RETURNING sk.item_object(items)::text",
      {call.id});
  std::string json = list::found(item, call);
  events::emit("item.updated", json);
  return api::json_response(json);
}

api::RouteSpec spec(const char* method, const char* path, const char* op, const char* summary, api::Scope scope) {
  return api::resource_route(method, path, op, summary, "Items", scope, "itm", "item", item_object_schema());
}

}  // namespace

Schema item_object_schema() {
  static const Schema s = named("Item", api_object("itm", "item", {
      required("sku", string(100)),
      required("name", string(500)),
      required("unit", string(32)),
      required("reorder_point", nullable(decimal_string()), "stock.low fires when on-hand falls below this."),
      required("track_lots", boolean()),
      required("negative_stock", enumeration({"allow", "reject"})),
      required("archived", boolean()),
      required("metadata", metadata()),
      required("updated_at", timestamp()),
  }));
  return s;
}

std::vector<api::Route> item_routes() {
  std::vector<api::Route> routes;

  auto create = spec("POST", "/items", "createItem", "Create an item", api::Scope::Write);
  create.body = object({
      required("sku", sku(), "Your stock-keeping unit; unique among active items."),
      required("name", string(500, 1)),
      optional("unit", string(32, 1), "Unit of measure (default \"each\")."),
      optional("reorder_point", quantity_threshold(), "stock.low fires when on-hand falls below this."),
      optional("track_lots", boolean(), "Receipts name a lot; issues are allocated first-expiry-first-out."),
      optional("negative_stock", enumeration({"allow", "reject"}), "reject: an issue beyond on-hand is refused (409)."),
      optional("metadata", metadata()),
  });
  create.errors = {409};
  routes.push_back({create, create_item});

  auto list = spec("GET", "/items", "listItems", "List items", api::Scope::Read);
  list.query = list::query_schema("itm", {
      optional("sku", string(100), "Only the active item with this SKU."),
      optional("archived", boolean(), "Only archived (true) or active (false) items."),
      optional("q", string(100, 1), "Search: items whose name contains this text (case-insensitive) or whose SKU starts with it."),
  });
  list.response = list_of(item_object_schema());
  routes.push_back({list, list_items});

  routes.push_back({spec("GET", "/items/{id}", "getItem", "Retrieve an item", api::Scope::Read), get_item});

  auto update = spec("PATCH", "/items/{id}", "updateItem", "Update an item", api::Scope::Write);
  update.body = object({
      optional("sku", sku()),
      optional("name", string(500, 1)),
      optional("unit", string(32, 1)),
      optional("reorder_point", quantity_threshold(), "null removes the threshold."),
      optional("negative_stock", enumeration({"allow", "reject"})),
      optional("metadata", metadata(), "Merged into the existing metadata; a key set to \"\" is removed."),
      optional("archived", boolean(), "false restores an archived item."),
  });
  update.errors = {409};
  routes.push_back({update, update_item});

  routes.push_back({spec("DELETE", "/items/{id}", "archiveItem", "Archive an item (its history stays)", api::Scope::Write),
                    archive_item});
  return routes;
}

}  // namespace sk::catalog
