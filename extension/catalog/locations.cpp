// Locations: warehouses, stores and bins. Every account and mode has exactly one
// default location, so a movement may omit location_id.
#include "catalog/catalog.hpp"
#include "pg/spi.hpp"
#include "platform/list.hpp"

namespace sk::catalog {

using namespace sk::schema;
using api::text_param;

namespace {

Schema location_type() { return enumeration({"warehouse", "store", "bin", "other"}); }

api::Response create_location(const api::Call& call) {
  const auto& b = call.body;
  auto loc = pg::exec_value(
      "INSERT INTO sk.locations (name, code, type, metadata) VALUES ($1, $2, coalesce($3, 'warehouse'), "
      "coalesce($4::jsonb, '{}')) RETURNING sk.location_object(locations)::text",
      {text_param(b, "name"), text_param(b, "code"), text_param(b, "type"), text_param(b, "metadata")});
  return api::json_response(*loc);
}

api::Response get_location(const api::Call& call) {
  return list::object_or_404("SELECT sk.location_object(l)::text FROM sk.locations l WHERE l.id = $1", call);
}

api::Response list_locations(const api::Call& call) {
  return list::Query("sk.location_object(l)::text", "sk.locations l", "l")
      .where("l.type = ?", text_param(call.query, "type"))
      .run(call);
}

api::Response update_location(const api::Call& call) {
  const auto& b = call.body;
  // The default moves in two steps because at most one row may hold it at any instant.
  auto make_default = text_param(b, "is_default");
  if (make_default && *make_default == "false")
    api::fail(400, "parameter_invalid", "Make another location the default instead of unsetting this one.", "/is_default");
  if (make_default) {
    if (pg::exec("SELECT 1 FROM sk.locations WHERE id = $1", {call.id}).empty()) api::not_found("location", call.id);
    pg::exec("UPDATE sk.locations SET is_default = false, updated_at = now() WHERE is_default AND id <> $1", {call.id});
  }
  bool code_given = api::member(b, "code") != nullptr;
  auto loc = pg::exec_value(
      "UPDATE sk.locations SET name = coalesce($2, name), code = CASE WHEN $3::boolean THEN $4 ELSE code END, "
      "type = coalesce($5, type), metadata = sk.merge_metadata(metadata, $6::jsonb), "
      "is_default = is_default OR coalesce($7::boolean, false), updated_at = now() "
      "WHERE id = $1 RETURNING sk.location_object(locations)::text",
      {call.id, text_param(b, "name"), std::string(code_given ? "true" : "false"), text_param(b, "code"),
       text_param(b, "type"), text_param(b, "metadata"), make_default});
  return api::json_response(list::found(loc, call));
}

api::RouteSpec spec(const char* method, const char* path, const char* op, const char* summary, api::Scope scope) {
  return api::resource_route(method, path, op, summary, "Locations", scope, "loc", "location", location_object_schema());
}

}  // namespace

Schema location_object_schema() {
  static const Schema s = named("Location", api_object("loc", "location", {
      required("name", string(200)),
      required("code", nullable(string(64)), "Your short code, unique per account and mode."),
      required("type", location_type()),
      required("is_default", boolean(), "Movements without location_id use the default location."),
      required("metadata", metadata()),
      required("updated_at", timestamp()),
  }));
  return s;
}

std::vector<api::Route> location_routes() {
  std::vector<api::Route> routes;

  auto create = spec("POST", "/locations", "createLocation", "Create a location", api::Scope::Write);
  create.body = object({
      required("name", string(200, 1)),
      optional("code", string(64, 1), "Your short code, unique per account and mode."),
      optional("type", location_type(), "Default warehouse."),
      optional("metadata", metadata()),
  });
  create.errors = {409};
  routes.push_back({create, create_location});

  auto list = spec("GET", "/locations", "listLocations", "List locations", api::Scope::Read);
  list.query = list::query_schema("loc", {optional("type", location_type(), "Only locations of this type.")});
  list.response = list_of(location_object_schema());
  routes.push_back({list, list_locations});

  routes.push_back({spec("GET", "/locations/{id}", "getLocation", "Retrieve a location", api::Scope::Read), get_location});

  auto update = spec("PATCH", "/locations/{id}", "updateLocation", "Update a location", api::Scope::Write);
  update.body = object({
      optional("name", string(200, 1)),
      optional("code", nullable(string(64, 1)), "null removes the code."),
      optional("type", location_type()),
      optional("metadata", metadata(), "Merged into the existing metadata; a key set to \"\" is removed."),
      optional("is_default", boolean(), "true makes this the default location (the previous default stops being one)."),
  });
  update.errors = {409};
  routes.push_back({update, update_location});
  return routes;
}

}  // namespace sk::catalog
