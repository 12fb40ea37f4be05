#include "platform/api_keys.hpp"

#include "pg/spi.hpp"
#include "platform/auth.hpp"
#include "platform/list.hpp"

namespace sk::platform {

using namespace sk::schema;

Schema api_key_object_schema() {
  static const Schema s = named("ApiKey", api_object("key", "api_key", {
      required("name", nullable(string(200))),
      required("type", enumeration({"secret", "restricted"})),
      required("scopes", array(enumeration({"read", "write"}), 2)),
      required("redacted", string(), "The key with all but its last four characters hidden."),
      required("expires_at", nullable(timestamp()), "Set once the key is revoked or rolled."),
      optional("secret", string(), "The key itself. Present only in the response that created it."),
  }));
  return s;
}

std::string roll_key(const std::string& key_id, const std::string& grace) {
  auto r = pg::exec(
      "SELECT kind, array_to_string(scopes, ','), name FROM sk.api_keys "
      "WHERE id = $1 AND (expires_at IS NULL OR expires_at > now())",
      {key_id});
  if (r.empty()) api::not_found("API key", key_id);
  const auto& row = r.rows[0];
  std::vector<std::string> scopes = row.text(1) == "read" ? std::vector<std::string>{"read"}
                                                          : std::vector<std::string>{"read", "write"};
  auto issued = auth::issue(row.text(0) == "restricted", scopes, row[2]);
  pg::exec("UPDATE sk.api_keys SET expires_at = now() + $2::interval WHERE id = $1", {key_id, grace});
  return issued.object_json;
}

namespace {

api::Response create(const api::Call& call) {
  const auto& scopes_json = call.body.find("scopes")->items();
  std::vector<std::string> scopes;
  for (const auto& s : scopes_json) scopes.push_back(s.text());
  bool has_read = false, has_write = false;
  for (const auto& s : scopes) {
    has_read = has_read || s == "read";
    has_write = has_write || s == "write";
  }
  if (!has_read) api::fail(400, "parameter_invalid", "scopes must include read.", "/scopes");
  scopes = has_write ? std::vector<std::string>{"read", "write"} : std::vector<std::string>{"read"};
  return api::json_response(auth::issue(true, scopes, api::text_param(call.body, "name")).object_json);
}

api::Response list_keys(const api::Call& call) {
  return list::Query("sk.api_key_object(k)::text", "sk.api_keys k", "k").run(call);
}

api::Response revoke(const api::Call& call) {
  auto v = pg::exec_value(
      "UPDATE sk.api_keys SET expires_at = least(coalesce(expires_at, now()), now()) WHERE id = $1 "
      "RETURNING sk.api_key_object(api_keys)::text",
      {call.id});
  if (!v) api::not_found("API key", call.id);
  return api::json_response(*v);
}

api::Response roll(const api::Call& call) {
  auto hours = api::text_param(call.body, "expires_in_hours").value_or("0");
  return api::json_response(roll_key(call.id, hours + " hours"));
}

}  // namespace

std::vector<api::Route> api_key_routes() {
  const Schema key = api_key_object_schema();
  std::vector<api::Route> routes;

  api::RouteSpec create_spec{"POST", "/api_keys", "createApiKey", "Create a restricted key", "API keys", api::Scope::SecretOnly};
  create_spec.body = object({
      optional("name", string(200), "A label for the key, e.g. the agent that uses it."),
      required("scopes", array(enumeration({"read", "write"}), 2, 1), "[\"read\"] for read-only agents, or [\"read\",\"write\"]."),
  });
  create_spec.response = key;
  routes.push_back({create_spec, create});

  api::RouteSpec list_spec{"GET", "/api_keys", "listApiKeys", "List the keys of this account and mode", "API keys", api::Scope::SecretOnly};
  list_spec.query = list::query_schema("key");
  list_spec.response = list_of(key);
  routes.push_back({list_spec, list_keys});

  api::RouteSpec revoke_spec{"DELETE", "/api_keys/{id}", "revokeApiKey", "Revoke a key immediately", "API keys", api::Scope::SecretOnly};
  revoke_spec.id_prefix = "key";
  revoke_spec.resource = "API key";
  revoke_spec.response = key;
  routes.push_back({revoke_spec, revoke});

  api::RouteSpec roll_spec{"POST", "/api_keys/{id}/roll", "rollApiKey", "Replace a key with a new secret", "API keys", api::Scope::SecretOnly};
  roll_spec.id_prefix = "key";
  roll_spec.resource = "API key";
  roll_spec.body = object({
      optional("expires_in_hours", integer(0, 168), "How long the old key keeps working (default 0: expires now)."),
  });
  roll_spec.response = key;
  routes.push_back({roll_spec, roll});
  return routes;
}

}  // namespace sk::platform
