// sk-mcp: the MCP tools of SK Inventory over stdio, for desktop agents that launch
// their servers as processes. Each newline-delimited JSON-RPC message read from stdin
// is POSTed to $SK_API_BASE/mcp with the key from $SK_API_KEY, and each answer is
// written to stdout as one line; notifications get none. Diagnostics go to stderr.
//
//   {"mcpServers": {"sk-inventory": {"command": "/path/to/sk-mcp",
//     "env": {"SK_API_KEY": "rk_test_…", "SK_API_BASE": "http://127.0.0.1:8080"}}}}
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "client.hpp"

namespace {

constexpr long kTimeoutMs = 60000;

void emit(const nlohmann::json& message) {
  std::cout << message.dump() << '\n' << std::flush;
}

nlohmann::json rpc_error(const nlohmann::json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  sk::tools::init_http();
  std::string base = sk::tools::env_or("SK_API_BASE", "http://127.0.0.1:8080");
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string key = sk::tools::env_or("SK_API_KEY", "");
  if (key.empty()) std::cerr << "sk-mcp: SK_API_KEY is not set; every call will be refused (401)\n";

  sk::tools::Headers headers = {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
  if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
  sk::tools::Client client;

  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto message = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded()) {
      emit(rpc_error(nullptr, -32700, "Parse error: a line is not a JSON message."));
      continue;
    }
    // Requests carry an id and expect an answer; notifications and responses do not.
    bool request = message.is_object() && message.contains("id") && message.contains("method");
    nlohmann::json id = request ? message["id"] : nlohmann::json(nullptr);

    sk::tools::HttpResponse r = client.request("POST", base + "/mcp", headers, line, kTimeoutMs);
    if (r.status == 202 || (r.status == 200 && r.body.empty())) continue;
    auto answer = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (answer.is_object() && answer.contains("jsonrpc")) {
      emit(answer);
      continue;
    }
    // No JSON-RPC answer: the API is unreachable, or refused the key (a problem document).
    std::string why = r.status == 0 ? "cannot reach " + base + "/mcp: " + r.error
                                    : "HTTP " + std::to_string(r.status) + ": " + sk::tools::problem_summary(r);
    std::cerr << "sk-mcp: " << why << '\n';
    if (request) emit(rpc_error(id, -32000, why));
  }
  return 0;
}
