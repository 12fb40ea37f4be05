#include "platform/list.hpp"

#include <algorithm>

namespace sk::list {

using namespace sk::schema;

Schema query_schema(const std::string& id_prefix, std::vector<Field> filters) {
  std::vector<Field> fields = {
      optional("limit", integer(1, 100), "Page size, 1 to 100 (default 10)."),
      optional("starting_after", id(id_prefix), "Cursor: return objects older than this id."),
      optional("ending_before", id(id_prefix), "Cursor: return objects newer than this id."),
  };
  for (auto& f : filters) fields.push_back(std::move(f));
  return object(std::move(fields));
}

std::string found(const std::optional<std::string>& row, const api::Call& call) {
  if (!row) api::not_found(call.spec.resource, call.id);
  return *row;
}

api::Response object_or_404(const std::string& sql, const api::Call& call) {
  return api::json_response(found(pg::exec_value(sql, {call.id}), call));
}

Query::Query(std::string select, std::string from, std::string alias)
    : select_(std::move(select)), from_(std::move(from)), alias_(std::move(alias)) {}

Query& Query::where(const std::string& condition, const pg::Text& value) {
  if (!value) return *this;
  std::string numbered = condition;
  size_t at = numbered.find('?');
  numbered.replace(at, 1, "$" + std::to_string(params_.size() + 1));
  conditions_.push_back(std::move(numbered));
  params_.push_back(value);
  return *this;
}

Query& Query::filter(const std::string& condition) {
  conditions_.push_back(condition);
  return *this;
}

Query& Query::order_by(const std::string& column, const std::string& cursor_value) {
  order_column_ = column;
  cursor_value_ = cursor_value;
  return *this;
}

api::Response Query::run(const api::Call& call) const {
  auto after = api::text_param(call.query, "starting_after");
  auto before = api::text_param(call.query, "ending_before");
  if (after && before)
    api::fail(400, "parameter_invalid", "starting_after and ending_before cannot be combined.", "/ending_before");
  long limit = std::stol(api::text_param(call.query, "limit").value_or("10"));

  // Each combination of present filters is its own statement text, so every plan is
  // specific and index-friendly; the plan cache keys on the text.
  std::vector<std::string> conds = conditions_;
  std::vector<pg::Text> params = params_;
  const std::string order = order_column_.empty() ? alias_ + ".id" : order_column_;
  auto cursor = [&](const pg::Text& id, const char* op) {
    params.push_back(id);
    std::string placeholder = "$" + std::to_string(params.size());
    std::string value = placeholder;
    if (!cursor_value_.empty()) {
      value = cursor_value_;
      value.replace(value.find('?'), 1, placeholder);
    }
    conds.push_back(order + op + value);
  };
  if (after) cursor(after, " < ");
  if (before) cursor(before, " > ");
  params.push_back(std::to_string(limit + 1));
  std::string sql = "SELECT " + select_ + " FROM " + from_;
  for (size_t i = 0; i < conds.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + conds[i];
  sql += " ORDER BY " + order + (before ? " ASC" : " DESC") + " LIMIT $" + std::to_string(params.size()) + "::bigint";

  auto rows = pg::exec(sql, params).rows;
  bool has_more = rows.size() > static_cast<size_t>(limit);
  if (has_more) rows.pop_back();
  if (before) std::reverse(rows.begin(), rows.end());

  std::string body = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < rows.size(); ++i) body += (i ? "," : "") + rows[i].text(0);
  body += "],\"has_more\":";
  body += has_more ? "true" : "false";
  body += ",\"url\":" + json::quote(call.path) + "}";
  return api::json_response(std::move(body));
}

}  // namespace sk::list
