// The request pipeline behind sk.invoke(): route, authenticate, authorize, validate,
// claim the Idempotency-Key, run the handler in a subtransaction, record the response.
// Exposed so that other front doors (the MCP endpoint) run routes through exactly the
// same code as HTTP.
#pragma once
#include <optional>
#include <string>

#include "platform/api.hpp"

namespace sk::platform {

struct Request {
  std::string method;
  std::string path;                            // absolute, e.g. /inventory/v1/items
  std::optional<std::string> query;            // raw query string, still percent-encoded
  std::optional<std::string> authorization;
  std::optional<std::string> idempotency_key;
  std::string request_id;
  std::optional<std::string> body;
  // What makes two requests "the same" for the Idempotency-Key. Unset: the HTTP
  // request (method, path, query, canonical body). The MCP endpoint sets its own
  // (tool name and canonical arguments).
  std::optional<std::string> request_hash = std::nullopt;
};

// One API request. Problems decided before the handler ran (routing, key, scope,
// validation of GETs) are thrown as ApiError; the handler's own are returned.
api::Response handle(const Request& req);

api::Response problem(const api::ApiError& e, const std::string& request_id);

}  // namespace sk::platform
