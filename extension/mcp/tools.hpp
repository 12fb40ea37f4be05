// The MCP tool table. A tool is one declaration that names an API route; its input
// schema is generated from that route's validators (the {id} path parameter and the
// query schema of a GET, the body schema of a POST), and calling it runs the route
// through the same pipeline as HTTP: authentication, scopes, validation, idempotency.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "platform/invoke.hpp"
#include "platform/json.hpp"

namespace sk::mcp {

// The tools whose routes exist, as tools/list shows them.
json::Value list_tools();

// Runs tool `name` with `arguments` (a JSON object) on behalf of the MCP request
// `origin` (its key and request id). nullopt when there is no such tool. API problems
// come back as problem responses, never as exceptions.
std::optional<api::Response> call_tool(const std::string& name, const json::Value& arguments,
                                       const platform::Request& origin);

}  // namespace sk::mcp
