#include "purchasing/common.hpp"

#include "platform/api.hpp"
#include "platform/json.hpp"

namespace sk::purchasing {

std::map<std::string, ItemInfo> load_items(const std::vector<std::string>& ids, const std::vector<std::string>& params) {
  json::Value list = json::Value::array();
  for (const auto& id : ids) list.push(json::Value::string(id));
  auto r = pg::exec(
      "SELECT i.id, i.track_lots::text, (i.archived_at IS NOT NULL)::text FROM sk.items i "
      "WHERE i.id IN (SELECT json_array_elements_text($1::json))",
      {list.dump()});
  std::map<std::string, ItemInfo> items;
  for (const auto& row : r.rows) items[row.text(0)] = ItemInfo{row.text(1) == "true", row.text(2) == "true"};
  for (size_t i = 0; i < ids.size(); ++i)
    if (!items.count(ids[i])) api::fail(404, "resource_missing", "No such item: '" + ids[i] + "'.", params[i]);
  return items;
}

std::string location_or_default(const pg::Text& location_id, const std::string& param) {
  if (location_id) {
    if (pg::exec("SELECT 1 FROM sk.locations WHERE id = $1", {location_id}).empty())
      api::fail(404, "resource_missing", "No such location: '" + *location_id + "'.", param);
    return *location_id;
  }
  return *pg::exec_value("SELECT id FROM sk.locations WHERE is_default");
}

int currency_exponent() {
  return std::stoi(*pg::exec_value("SELECT sk.currency_exponent(currency) FROM sk.accounts"));
}

std::string member_text(const std::string& object_json, const char* name) {
  auto v = json::parse(object_json);
  const json::Value* m = v ? v->find(name) : nullptr;
  return m && m->is_string() ? m->text() : "";
}

}  // namespace sk::purchasing
