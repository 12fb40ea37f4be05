// Runtime configuration of sk-shim, read once from the environment at startup
// (DESIGN.md section 10). Everything has a default that works with `make run`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace sk::shim {

struct Config {
  std::string http_host = "127.0.0.1";  // SK_HTTP_HOST
  uint16_t http_port = 8080;            // SK_HTTP_PORT
  std::string database_url;             // SK_DATABASE_URL, or built from SK_PGPORT and the cwd
  unsigned pool_size = 0;               // SK_POOL_SIZE: write lanes, pooled connections; 0 until resolved
  unsigned read_lanes = 0;              // SK_READ_LANES; 0 until resolved from the machine
  unsigned read_lane_depth = 16;        // SK_READ_LANE_DEPTH: calls in flight per read lane
  unsigned request_timeout_ms = 30000;  // SK_REQUEST_TIMEOUT_MS: statement_timeout and pool wait
  double rate_limit = 1000;             // SK_RATE_LIMIT requests/s per API key; 0 disables
  size_t rate_limit_max_keys = 100000;  // SK_RATE_LIMIT_MAX_KEYS: bound on the bucket table
  unsigned max_connections = 256;       // SK_MAX_CONNECTIONS: open HTTP connections
  unsigned idle_timeout_s = 60;         // SK_IDLE_TIMEOUT_S: idle keep-alive connections
  unsigned shutdown_grace_ms = 10000;   // SK_SHUTDOWN_GRACE_MS: in-flight requests on SIGTERM
  size_t max_body_bytes = 1048576;      // 1 MiB, DESIGN.md section 4 "Limits"
};

// Throws std::runtime_error naming the variable when a value does not parse.
Config load_config();

}  // namespace sk::shim
