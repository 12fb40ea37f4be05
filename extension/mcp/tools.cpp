#include "mcp/tools.hpp"

#include <cctype>
#include <functional>
#include <stdexcept>

#include "platform/crypto.hpp"
#include "platform/routes.hpp"
#include "platform/schema.hpp"
#include "platform/ulid.hpp"

namespace sk::mcp {
namespace {

using json::Value;
using namespace sk::schema;

constexpr const char* kBasePath = "/inventory/v1";

// Fills the route's {id} from tool arguments the route does not know (get_stock's
// sku); returns nullopt to use the id argument as given.
using Resolver = std::function<std::optional<std::string>(const Value& args, const platform::Request& origin)>;

struct Tool {
  std::string name;
  std::string title;
  std::string method, path;       // the API route this tool runs
  std::string description;        // added to the route's summary, for agents
  std::string id_argument = {};   // the argument that fills {id}, if the route has one
  bool id_required = true;
  std::vector<Field> extra_arguments = {};  // arguments of the tool itself
  Resolver resolve = nullptr;
};

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string scalar_text(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::String:
    case Value::Kind::Number: return v.text();
    case Value::Kind::Bool: return v.as_bool() ? "true" : "false";
    default: return v.dump();
  }
}

// get_stock by SKU: the active item with that SKU, found through GET /items?sku=,
// so the lookup obeys the same key, scope and validation as the REST filter.
std::optional<std::string> item_by_sku(const Value& args, const platform::Request& origin) {
  const Value* id = args.find("item_id");
  const Value* sku = args.find("sku");
  if (id && sku) api::fail(400, "parameter_invalid", "Give item_id or sku, not both.", "/sku");
  if (!id && !sku) api::fail(400, "parameter_missing", "Give item_id or sku.", "/item_id");
  if (!sku) return std::nullopt;
  if (!sku->is_string()) api::fail(400, "parameter_invalid", "/sku must be a string.", "/sku");
  platform::Request lookup{"GET", std::string(kBasePath) + "/items", "limit=1&sku=" + percent_encode(sku->text()),
                           origin.authorization, std::nullopt, origin.request_id, std::nullopt};
  api::Response r = platform::handle(lookup);
  auto list = json::parse(r.body);
  const Value* data = list ? list->find("data") : nullptr;
  if (r.status != 200 || !data || !data->is_array())
    throw std::runtime_error("GET /items answered " + std::to_string(r.status) + " to a SKU lookup");
  if (data->items().empty()) api::fail(404, "resource_missing", "No active item has SKU '" + sku->text() + "'.", "/sku");
  return data->items()[0].find("id")->text();
}

// The tool table. A tool over another route is one more entry; a tool whose route is
// not (yet) in the route table is left out of tools/list.
const std::vector<Tool>& table() {
  static const std::vector<Tool> tools = {
      {"get_stock", "Stock of an item", "GET", "/items/{id}/stock",
       "Give the item's id (item_id) or its SKU (sku). The numbers are exactly those of GET /items/{id}/stock: "
       "on_hand, wac and value, split by location and by lot.",
       "item_id", false,
       {optional("sku", string(100, 1), "The SKU of an active item, instead of item_id.")}, item_by_sku},
      {"search_items", "Search items", "GET", "/items",
       "q matches names (case-insensitive substring) and SKUs (prefix); sku finds one active item exactly."},
      {"list_low_stock", "Low stock", "GET", "/stock/low",
       "Items whose on-hand is below their reorder point, with their stock: what to reorder."},
      {"list_expiring_lots", "Expiring lots", "GET", "/lots",
       "With expiring_before (a date), only the lots that expire before it: what to sell or write off first."},
      {"list_movements", "Movement history", "GET", "/movements",
       "The append-only log of stock movements, newest first; filter by item, location, type or time."},
      {"record_movement", "Record a movement", "POST", "/movements",
       "Writes to the ledger; needs a key with the write scope. idempotency_key makes retries safe: the same key "
       "with the same arguments returns the first result and records nothing more."},
  };
  return tools;
}

const api::Route* route_of(const Tool& t) {
  for (const auto& r : routes::all())
    if (r.spec.method == t.method && r.spec.path == t.path) return &r;
  return nullptr;
}

// Schemas met once as components are written inline: a tool's schema stands alone.
Value inline_refs(const Value& v, const Components& components, int depth = 0) {
  if (depth > 32) return Value::object();
  if (v.is_array()) {
    Value out = Value::array();
    for (const auto& item : v.items()) out.push(inline_refs(item, components, depth + 1));
    return out;
  }
  if (!v.is_object()) return v;
  if (const Value* ref = v.find("$ref"); ref && ref->is_string()) {
    static const std::string prefix = "#/components/schemas/";
    auto it = components.find(ref->text().substr(prefix.size()));
    if (ref->text().rfind(prefix, 0) == 0 && it != components.end()) return inline_refs(it->second, components, depth + 1);
  }
  Value out = Value::object();
  for (const auto& [k, member] : v.members()) out.set(k, inline_refs(member, components, depth + 1));
  return out;
}

Schema idempotency_key_schema() {
  return pattern_string(schema::patterns::printable_ascii, "1 to 255 printable ASCII characters", 255);
}

// The tool's arguments: the route's own input, declared once in its RouteSpec.
std::vector<Field> argument_fields(const Tool& t, const api::RouteSpec& spec) {
  std::vector<Field> fields;
  if (!t.id_argument.empty()) {
    std::string d = "The " + spec.resource + "'s id.";
    fields.push_back(t.id_required ? required(t.id_argument, id(spec.id_prefix), d) : optional(t.id_argument, id(spec.id_prefix), d));
  }
  for (const auto& f : t.extra_arguments) fields.push_back(f);
  const Schema& input = spec.method == "GET" ? spec.query : spec.body;
  if (input)
    if (const auto* own = input->object_fields())
      for (const auto& f : *own) fields.push_back(f);
  if (spec.method != "GET")
    fields.push_back(required("idempotency_key", idempotency_key_schema(),
                              "Your unique key for this change (like the Idempotency-Key header): a retry with the "
                              "same key and arguments replays the first result."));
  return fields;
}

Value tool_json(const Tool& t, const api::RouteSpec& spec) {
  Components components;
  Value input = inline_refs(object(argument_fields(t, spec))->to_json_schema(components), components);
  bool read = spec.scope == api::Scope::Read;
  return Value::object({
      {"name", Value::string(t.name)},
      {"title", Value::string(t.title)},
      {"description", Value::string(spec.summary + ". " + t.description)},
      {"inputSchema", std::move(input)},
      {"annotations", Value::object({
                          {"title", Value::string(t.title)},
                          {"readOnlyHint", Value::boolean(read)},
                          {"destructiveHint", Value::boolean(false)},
                          {"idempotentHint", Value::boolean(true)},
                          {"openWorldHint", Value::boolean(false)},
                      })},
      // The API operation the tool runs: the same one in the OpenAPI document.
      {"_meta", Value::object({{"sk-inventory/operation", Value::string(spec.method + " " + spec.path)},
                               {"sk-inventory/operation_id", Value::string(spec.operation_id)}})},
  });
}

bool is_tool_argument(const Tool& t, const std::string& name) {
  if (name == t.id_argument) return true;
  for (const auto& f : t.extra_arguments)
    if (f.name == name) return true;
  return false;
}

// The HTTP request this tool call stands for.
platform::Request route_request(const Tool& t, const api::RouteSpec& spec, const Value& args,
                                const platform::Request& origin) {
  std::optional<std::string> id = t.resolve ? t.resolve(args, origin) : std::nullopt;
  if (!t.id_argument.empty() && !id) {
    const Value* given = args.find(t.id_argument);
    if (!given) api::fail(400, "parameter_missing", "/" + t.id_argument + " is required.", "/" + t.id_argument);
    if (!given->is_string())
      api::fail(400, "parameter_invalid", "/" + t.id_argument + " must be a string.", "/" + t.id_argument);
    id = given->text();
  }
  // As over HTTP, an id that cannot name an object is simply not found.
  if (id && !ulid::is_id(*id, spec.id_prefix)) api::not_found(spec.resource, *id);

  std::string path = spec.path;
  if (id) path.replace(path.find("{id}"), 4, *id);

  platform::Request r;
  r.method = spec.method;
  r.path = kBasePath + path;
  r.authorization = origin.authorization;
  r.request_id = origin.request_id;
  Value rest = Value::object();
  for (const auto& [name, v] : args.members()) {
    if (is_tool_argument(t, name)) continue;
    if (spec.method != "GET" && name == "idempotency_key") {
      if (!v.is_string()) api::fail(400, "idempotency_key_invalid", "idempotency_key must be a string.", "/idempotency_key");
      r.idempotency_key = v.text();
      continue;
    }
    rest.set(name, v);
  }
  if (spec.method == "GET") {
    std::string query;
    for (const auto& [name, v] : rest.members()) {
      if (v.is_null()) continue;
      query += (query.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(scalar_text(v));
    }
    if (!query.empty()) r.query = query;
  } else {
    r.body = rest.dump();
    // The key covers the tool and its arguments, not an HTTP request.
    r.request_hash = crypto::sha256_hex("mcp tools/call\n" + t.name + "\n" + args.dump(true));
  }
  return r;
}

}  // namespace

Value list_tools() {
  Value tools = Value::array();
  for (const auto& t : table())
    if (const api::Route* route = route_of(t)) tools.push(tool_json(t, route->spec));
  return tools;
}

std::optional<api::Response> call_tool(const std::string& name, const Value& arguments, const platform::Request& origin) {
  const Tool* tool = nullptr;
  for (const auto& t : table())
    if (t.name == name) tool = &t;
  const api::Route* route = tool ? route_of(*tool) : nullptr;
  if (!route) return std::nullopt;
  try {
    return platform::handle(route_request(*tool, route->spec, arguments, origin));
  } catch (const api::ApiError& e) {
    if (e.code == "idempotency_key_missing")
      return platform::problem({400, e.code, name + " needs an idempotency_key argument: a key of your own that makes "
                                "retries of this call safe.", "/idempotency_key"}, origin.request_id);
    if (e.code == "idempotency_key_reused")
      return platform::problem({409, e.code, "This idempotency_key was already used for another call (another tool, "
                                "other arguments, or a REST request); use a new key for a new change.", "/idempotency_key"},
                               origin.request_id);
    return platform::problem(e, origin.request_id);
  }
}

}  // namespace sk::mcp
