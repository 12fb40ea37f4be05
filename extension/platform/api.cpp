#include "platform/api.hpp"

namespace sk::api {

std::optional<std::string> text_param(const json::Value& obj, const char* name) {
  const json::Value* v = member(obj, name);
  if (!v || v->is_null()) return std::nullopt;
  switch (v->kind()) {
    case json::Value::Kind::Bool: return std::string(v->as_bool() ? "true" : "false");
    case json::Value::Kind::Number:
    case json::Value::Kind::String: return v->text();
    default: return v->dump();  // objects (metadata) and arrays travel as JSON text
  }
}

RouteSpec resource_route(std::string method, std::string path, std::string operation_id, std::string summary,
                         std::string tag, Scope scope, const std::string& id_prefix, const std::string& resource,
                         schema::Schema response) {
  RouteSpec s;
  s.method = std::move(method);
  s.path = std::move(path);
  s.operation_id = std::move(operation_id);
  s.summary = std::move(summary);
  s.tag = std::move(tag);
  s.scope = scope;
  if (s.path.find("{id}") != std::string::npos) {
    s.id_prefix = id_prefix;
    s.resource = resource;
  }
  s.response = std::move(response);
  return s;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

std::string problem_json(const ApiError& e, const std::string& request_id) {
  using json::Value;
  Value p = Value::object({
      {"type", Value::string("https://docs.softknack.com/inventory/errors/" + e.code)},
      {"title", Value::string(reason_phrase(e.status))},
      {"status", Value::number(std::to_string(e.status))},
      {"detail", Value::string(e.detail)},
      {"code", Value::string(e.code)},
      {"param", e.param ? Value::string(*e.param) : Value::null()},
      {"request_id", request_id.empty() ? Value::null() : Value::string(request_id)},
  });
  return p.dump();
}

}  // namespace sk::api
