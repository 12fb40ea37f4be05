// The shim's routing table. Everything under /inventory/v1 is forwarded to
// sk.invoke(); a few absolute paths are answered by the shim itself. New endpoints
// (/mcp, /docs) are added by appending a Route in default_routes(): the HTTP layer
// handles bodies, limits, rate limiting, Request-Id, logging and metrics for them.
//
// Handlers run on the one HTTP thread and must not block: they answer at once, or hand
// the work to a read lane or to Workers and answer from there (see Respond).
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sk::shim {

struct Config;
class Pool;
class Lanes;
class Metrics;
class RateLimiter;
class Workers;

// What a route handler may use. Owned by main(); outlives the HTTP server.
struct Services {
  const Config& config;
  Pool& pool;              // reads no read lane takes, retries, readiness
  Lanes& read_lanes;       // reads (GET, HEAD)
  Lanes& write_lanes;      // everything else
  Workers& workers;        // API calls that block: on the pool
  Workers& ops;            // /readyz and /metrics, never queued behind API calls
  Metrics& metrics;
  RateLimiter& limiter;
  std::function<size_t()> in_flight;  // requests currently being answered
  std::function<bool()> draining;     // shutdown has begun
};

struct Request {
  std::string method;
  std::string path;                  // as received: percent-encoding untouched, no query
  std::optional<std::string> query;  // raw text after '?', still URL-encoded
  std::optional<std::string> body;   // nullopt when the request had no body
  std::string request_id;            // req_<ULID>, also sent back as Request-Id
  std::chrono::steady_clock::time_point received;  // when its headers were in
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order

  // First value of a request header (case-insensitive name), if present.
  std::optional<std::string> header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool replayed = false;  // adds Idempotent-Replayed: true
  std::vector<std::pair<std::string, std::string>> headers;
};

Response problem(int status, std::string_view code, std::string_view detail, const std::string& request_id);
Response internal_error(const std::string& request_id);  // 500, with nothing internal in it

// Delivers a handler's answer; called exactly once per request, from any thread.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request&&, Services&, Respond)>;

struct Route {
  std::string path;                  // exact path, or a prefix when `prefix` is set
  bool prefix = false;               // matches `path` itself and `path` + "/..."
  std::vector<std::string> methods;  // allowed methods; empty = any (the handler decides)
  bool rate_limited = false;         // charge the bearer key's token bucket
  Handler handler;
};

std::vector<Route> default_routes();
const Route* match_route(const std::vector<Route>& routes, std::string_view path);

}  // namespace sk::shim
