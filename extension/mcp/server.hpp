// The Model Context Protocol endpoint (DESIGN.md section 7): JSON-RPC 2.0 over
// Streamable HTTP at POST /mcp, authenticated with the same bearer keys as REST.
// sk.invoke() hands it every request for /mcp; each tool call then runs its route
// through the very pipeline an HTTP request takes (platform::handle).
#pragma once
#include "platform/invoke.hpp"

namespace sk::mcp {

// Answers one POST /mcp: 200 with a JSON-RPC response, 202 with no body for
// notifications and responses, 400 for a body that is not one JSON-RPC message,
// 401 (a problem document) without a valid key.
api::Response serve(const platform::Request& req);

}  // namespace sk::mcp
