#include "platform/openapi.hpp"

#include <map>

namespace sk::openapi {
namespace {

using json::Value;

Value str(const std::string& s) { return Value::string(s); }

Value problem_schema() {
  return Value::object({
      {"type", str("object")},
      {"description", str("RFC 9457 problem details with a stable code.")},
      {"properties", Value::object({
                         {"type", Value::object({{"type", str("string")}, {"format", str("uri")}})},
                         {"title", Value::object({{"type", str("string")}})},
                         {"status", Value::object({{"type", str("integer")}})},
                         {"detail", Value::object({{"type", str("string")}})},
                         {"code", Value::object({{"type", str("string")}, {"description", str("Stable snake_case error code.")}})},
                         {"param", Value::object({{"type", Value::array({str("string"), str("null")})},
                                                  {"description", str("JSON Pointer of the offending field.")}})},
                         {"request_id", Value::object({{"type", Value::array({str("string"), str("null")})}})},
                     })},
      {"required", Value::array({str("type"), str("title"), str("status"), str("detail"), str("code"), str("request_id")})},
  });
}

const char* status_description(int status) {
  switch (status) {
    case 400: return "Invalid request: the `param` member names the offending field.";
    case 401: return "Missing, malformed, revoked or unknown API key.";
    case 403: return "The restricted key lacks the scope this operation needs.";
    case 404: return "No such object in this account and mode.";
    case 405: return "Method not allowed on this path.";
    case 409: return "Conflict: idempotency key reused with another request, or a state conflict.";
    case 413: return "Request body larger than 1 MiB.";
    case 429: return "Rate limit exceeded; see Retry-After.";
    case 503: return "The database is unavailable; retry with the same Idempotency-Key.";
    default: return "Error.";
  }
}

Value problem_response(int status) {
  return Value::object({
      {"description", str(status_description(status))},
      {"content", Value::object({{"application/problem+json",
                                  Value::object({{"schema", Value::object({{"$ref", str("#/components/schemas/Problem")}})}})}})},
  });
}

bool is_mutation(const std::string& method) { return method != "GET"; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Value operation(const api::RouteSpec& r, schema::Components& components) {
  Value op = Value::object();
  op.set("operationId", str(r.operation_id));
  op.set("summary", str(r.summary));
  op.set("tags", Value::array({str(r.tag)}));
  const char* scope = r.scope == api::Scope::Read ? "read" : r.scope == api::Scope::Write ? "write" : "secret";
  op.set("x-sk-scope", str(scope));

  Value params = Value::array();
  if (!r.id_prefix.empty()) {
    Value p = Value::object({{"name", str("id")}, {"in", str("path")}, {"required", Value::boolean(true)}});
    p.set("schema", schema::id(r.id_prefix)->to_json_schema(components));
    params.push(std::move(p));
  }
  if (r.query)
    if (const auto* fields = r.query->object_fields())
      for (const auto& f : *fields) {
        Value p = Value::object({{"name", str(f.name)}, {"in", str("query")}, {"required", Value::boolean(f.required)}});
        if (!f.description.empty()) p.set("description", str(f.description));
        p.set("schema", f.schema->to_json_schema(components));
        params.push(std::move(p));
      }
  if (is_mutation(r.method))
    params.push(Value::object({{"$ref", str("#/components/parameters/IdempotencyKey")}}));
  if (!params.items().empty()) op.set("parameters", std::move(params));

  if (r.body)
    op.set("requestBody", Value::object({{"required", Value::boolean(true)},
                                         {"content", Value::object({{"application/json",
                                                                     Value::object({{"schema", r.body->to_json_schema(components)}})}})}}));

  Value responses = Value::object();
  Value ok = Value::object({{"description", str("Success.")}});
  if (r.response)
    ok.set("content", Value::object({{"application/json", Value::object({{"schema", r.response->to_json_schema(components)}})}}));
  responses.set(std::to_string(r.success_status), std::move(ok));
  std::vector<int> statuses = {400};
  if (r.public_route) op.set("security", Value::array());
  else statuses.insert(statuses.end(), {401, 403});
  if (!r.id_prefix.empty()) statuses.push_back(404);
  if (is_mutation(r.method)) statuses.push_back(409);
  for (int s : r.errors) statuses.push_back(s);
  statuses.push_back(429);
  std::map<int, bool> seen;
  for (int s : statuses) {
    if (seen[s]) continue;
    seen[s] = true;
    responses.set(std::to_string(s), Value::object({{"$ref", str("#/components/responses/Problem" + std::to_string(s))}}));
  }
  op.set("responses", std::move(responses));
  return op;
}

}  // namespace

std::string document(const std::vector<api::RouteSpec>& routes) {
  schema::Components components;
  Value paths = Value::object();
  std::vector<std::string> tags;
  for (const auto& r : routes) {
    Value* path = paths.find_mutable(r.path);
    if (!path) path = &paths.set(r.path, Value::object());
    path->set(lower(r.method), operation(r, components));
    bool known = false;
    for (const auto& t : tags) known = known || t == r.tag;
    if (!known) tags.push_back(r.tag);
  }

  Value schemas = Value::object();
  for (auto& [name, s] : components) schemas.set(name, s);
  schemas.set("Problem", problem_schema());

  Value responses = Value::object();
  for (int s : {400, 401, 403, 404, 405, 409, 413, 429, 503}) responses.set("Problem" + std::to_string(s), problem_response(s));

  Value tag_list = Value::array();
  for (const auto& t : tags) tag_list.push(Value::object({{"name", str(t)}}));

  Value doc = Value::object({
      {"openapi", str("3.1.0")},
      {"info", Value::object({
                   {"title", str("SK Inventory API")},
                   {"version", str("0.1.0")},
                   {"description", str("A stock ledger: append-only movements, derived on-hand and weighted average cost, "
                                       "idempotent mutations, cursor pagination and signed webhooks. Decimal quantities "
                                       "and money are exact: send JSON numbers or decimal strings; responses use strings.")},
               })},
      {"servers", Value::array({Value::object({{"url", str("/inventory/v1")}})})},
      {"security", Value::array({Value::object({{"bearerAuth", Value::array()}})})},
      {"tags", std::move(tag_list)},
      {"paths", std::move(paths)},
      {"components", Value::object({
                         {"securitySchemes", Value::object({{"bearerAuth", Value::object({
                                                                               {"type", str("http")},
                                                                               {"scheme", str("bearer")},
                                                                               {"description", str("sk_test_…, sk_live_…, rk_test_… or rk_live_…")},
                                                                           })}})},
                         {"parameters", Value::object({{"IdempotencyKey", Value::object({
                                                                              {"name", str("Idempotency-Key")},
                                                                              {"in", str("header")},
                                                                              {"required", Value::boolean(true)},
                                                                              {"description", str("1–255 printable ASCII characters; a retry with the same key and request replays the first response.")},
                                                                              {"schema", Value::object({{"type", str("string")}, {"minLength", Value::number("1")}, {"maxLength", Value::number("255")}})},
                                                                          })}})},
                         {"schemas", std::move(schemas)},
                         {"responses", std::move(responses)},
                     })},
  });
  return doc.dump_pretty();
}

}  // namespace sk::openapi
