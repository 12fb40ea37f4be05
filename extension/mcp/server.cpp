#include "mcp/server.hpp"

#include "mcp/tools.hpp"
#include "platform/auth.hpp"

namespace sk::mcp {
namespace {

using json::Value;

// Protocol revisions this server speaks; the first is the one it prefers.
constexpr const char* kVersions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};

// JSON-RPC 2.0 error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;

struct RpcError {
  int code;
  std::string message;
};

api::Response json_rpc(int status, const Value& message) { return api::json_response(message.dump(), status); }

Value error_message(const Value& id, int code, const std::string& message) {
  return Value::object({
      {"jsonrpc", Value::string("2.0")},
      {"id", id},
      {"error", Value::object({{"code", Value::number(std::to_string(code))}, {"message", Value::string(message)}})},
  });
}

Value initialize(const Value& params) {
  std::string version = kVersions[0];
  if (const Value* asked = params.is_object() ? params.find("protocolVersion") : nullptr; asked && asked->is_string())
    for (const char* v : kVersions)
      if (asked->text() == v) version = v;
  return Value::object({
      {"protocolVersion", Value::string(version)},
      {"capabilities", Value::object({{"tools", Value::object({{"listChanged", Value::boolean(false)}})}})},
      {"serverInfo", Value::object({{"name", Value::string("sk-inventory")},
                                    {"title", Value::string("SK Inventory")},
                                    {"version", Value::string("0.1.0")}})},
      {"instructions", Value::string(
           "A stock ledger. Quantities and money are exact decimal strings. Read tools need a key with the read "
           "scope; record_movement needs the write scope and an idempotency_key of your choosing (reuse it only to "
           "retry the same call). Errors come back as tool results with isError and the API's problem document.")},
  });
}

// A tool result: the API's JSON as text, and parsed as structured content.
Value tool_result(const api::Response& r) {
  Value result = Value::object();
  result.set("content", Value::array({Value::object({{"type", Value::string("text")}, {"text", Value::string(r.body)}})}));
  if (auto parsed = json::parse(r.body); parsed && parsed->is_object()) result.set("structuredContent", std::move(*parsed));
  result.set("isError", Value::boolean(r.status >= 400));
  if (r.replayed) result.set("_meta", Value::object({{"sk-inventory/idempotent_replayed", Value::boolean(true)}}));
  return result;
}

Value call(const Value& params, const platform::Request& req) {
  const Value* name = params.is_object() ? params.find("name") : nullptr;
  if (!name || !name->is_string()) throw RpcError{kInvalidParams, "tools/call needs params.name, a tool name."};
  const Value* arguments = params.find("arguments");
  Value empty = Value::object();
  if (arguments && arguments->is_null()) arguments = nullptr;
  if (arguments && !arguments->is_object()) throw RpcError{kInvalidParams, "params.arguments must be an object."};
  auto response = call_tool(name->text(), arguments ? *arguments : empty, req);
  if (!response) throw RpcError{kInvalidParams, "Unknown tool: " + name->text() + "."};
  return tool_result(*response);
}

Value dispatch(const std::string& method, const Value& params, const platform::Request& req) {
  if (method == "initialize") return initialize(params);
  if (method == "ping") return Value::object();
  if (method == "tools/list") return Value::object({{"tools", list_tools()}});
  if (method == "tools/call") return call(params, req);
  throw RpcError{kMethodNotFound, "Method not found: " + method + "."};
}

}  // namespace

api::Response serve(const platform::Request& req) {
  if (req.method != "POST")
    api::fail(405, "method_not_allowed", req.method + " is not supported on /mcp; send JSON-RPC messages with POST.");
  // Every message needs a valid key, as every REST call does; the 401 is a problem.
  // Tool calls verify it again as part of their route's pipeline.
  auth::verify(req.authorization);

  json::ParseError err;
  auto message = json::parse(req.body.value_or(""), &err);
  if (!message) return json_rpc(400, error_message(Value::null(), kParseError, "Parse error: " + err.message + "."));
  if (message->is_array())
    return json_rpc(400, error_message(Value::null(), kInvalidRequest, "Batches are not supported; send one message per request."));
  if (!message->is_object())
    return json_rpc(400, error_message(Value::null(), kInvalidRequest, "A JSON-RPC message must be an object."));

  const Value* id = message->find("id");
  const Value* method = message->find("method");
  const Value* version = message->find("jsonrpc");
  bool valid_id = id && (id->is_string() || id->is_number());
  if (!version || !version->is_string() || version->text() != "2.0")
    return json_rpc(400, error_message(valid_id ? *id : Value::null(), kInvalidRequest, "jsonrpc must be \"2.0\"."));
  // Notifications (no id) and responses to server requests need no answer.
  const api::Response accepted{202, "application/json", "", false};
  if (method && !id) return accepted;
  if (!method && id && (message->find("result") || message->find("error"))) return accepted;
  if (!method || !valid_id || !method->is_string())
    return json_rpc(400, error_message(valid_id ? *id : Value::null(), kInvalidRequest,
                                       "A request needs a string method and a string or number id."));

  const Value* params = message->find("params");
  Value none = Value::object();
  try {
    Value result = dispatch(method->text(), params ? *params : none, req);
    return json_rpc(200, Value::object({{"jsonrpc", Value::string("2.0")}, {"id", *id}, {"result", std::move(result)}}));
  } catch (const RpcError& e) {
    return json_rpc(200, error_message(*id, e.code, e.message));
  }
}

}  // namespace sk::mcp
