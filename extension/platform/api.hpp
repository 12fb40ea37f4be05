// The vocabulary every route shares: requests, responses, errors and route specs.
// Pure C++ (no PostgreSQL headers) so OpenAPI generation is unit-testable.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "platform/json.hpp"
#include "platform/schema.hpp"

namespace sk::api {

// A problem the client can act on (RFC 9457). Thrown by handlers, rendered once.
struct ApiError {
  int status;
  std::string code;                    // stable snake_case
  std::string detail;
  std::optional<std::string> param;    // JSON Pointer of the offending field
};

[[noreturn]] inline void fail(int status, std::string code, std::string detail,
                              std::optional<std::string> param = std::nullopt) {
  throw ApiError{status, std::move(code), std::move(detail), std::move(param)};
}
[[noreturn]] inline void not_found(const std::string& resource, const std::string& id) {
  fail(404, "resource_missing", "No such " + resource + ": '" + id + "'.");
}

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool replayed = false;
  bool operator==(const Response& o) const {
    return status == o.status && content_type == o.content_type && body == o.body && replayed == o.replayed;
  }
};

// Who may call a route: secret keys always; restricted keys need the scope.
enum class Scope { Read, Write, SecretOnly };

// Declared once per route; drives validation, authorization and the OpenAPI document.
struct RouteSpec {
  std::string method;              // GET | POST | PATCH | DELETE
  std::string path;                // relative to /inventory/v1, e.g. "/items/{id}"
  std::string operation_id;
  std::string summary;
  std::string tag;
  Scope scope = Scope::Read;
  bool public_route = false;       // served without an API key (the OpenAPI document)
  std::string id_prefix;           // prefix of the {id} path parameter, if any
  std::string resource;            // noun for messages about {id}, e.g. "item"
  schema::Schema query;            // object of query parameters, or null
  schema::Schema body;             // request body, or null
  schema::Schema response;
  int success_status = 200;
  std::vector<int> errors;         // statuses documented besides the common ones
};

// The spec of a route on one kind of resource: when the path has an {id}, it names an
// object with `id_prefix` ("itm") called `resource` ("item") in messages.
RouteSpec resource_route(std::string method, std::string path, std::string operation_id, std::string summary,
                         std::string tag, Scope scope, const std::string& id_prefix, const std::string& resource,
                         schema::Schema response);

// The Idempotency-Key of a mutation, for a handler that writes the key row with its
// own answer inside its own statement (one statement fewer on the hottest path). It
// sets `stored` to the response it stored and must return exactly that; otherwise the
// caller stores the response after the handler.
struct IdempotencyClaim {
  std::string key;
  std::string request_hash;
  std::optional<Response> stored;
};

// What a handler sees: validated input and the request's identity.
struct Call {
  const RouteSpec& spec;
  std::string path;                // full request path, for list "url"
  std::string id;                  // {id} path parameter, if the route has one
  json::Value query;               // object of validated query parameters
  json::Value body;                // validated body (object) or null
  std::string request_id;
  IdempotencyClaim* claim = nullptr;  // mutations only
};

using Handler = std::function<Response(const Call&)>;

struct Route {
  RouteSpec spec;
  Handler handler;
};

// Common helpers for handlers.
inline const json::Value* member(const json::Value& obj, const char* name) {
  return obj.is_object() ? obj.find(name) : nullptr;
}
// Text of a scalar member for an SPI parameter: nullopt when absent or JSON null.
std::optional<std::string> text_param(const json::Value& obj, const char* name);
// RFC 9457 problem details; the one renderer for the extension and the shim.
std::string problem_json(const ApiError& e, const std::string& request_id);
const char* reason_phrase(int status);  // "Too Many Requests", or "Error" when unknown
inline Response json_response(std::string body, int status = 200) { return Response{status, "application/json", std::move(body), false}; }

}  // namespace sk::api
