#include "config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace sk::shim {
namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : nullptr;
}

// Misconfiguration should stop the process at startup rather than surface as odd
// behaviour under load, so anything that is not a clean number in range is fatal.
unsigned long long env_uint(const char* name, unsigned long long fallback, unsigned long long min,
                            unsigned long long max) {
  const char* v = env(name);
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n < min || n > max)
    throw std::runtime_error(std::string(name) + " must be an integer between " + std::to_string(min) + " and " +
                             std::to_string(max));
  return n;
}

double env_rate(const char* name, double fallback) {
  const char* v = env(name);
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(v, &end);
  if (errno != 0 || end == v || *end != '\0' || !std::isfinite(d) || d < 0 || d > 1e9)
    throw std::runtime_error(std::string(name) + " must be a non-negative number of requests per second");
  return d;
}

// conninfo values are single-quoted so a checkout path with spaces still works.
std::string conninfo_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string default_database_url() {
  std::string cwd = ".";
  char buf[4096];
  if (::getcwd(buf, sizeof buf)) cwd = buf;
  unsigned long long port = env_uint("SK_PGPORT", 54329, 1, 65535);
  return "host=" + conninfo_quote(cwd + "/.run") + " port=" + std::to_string(port) + " dbname=sk user=sk_shim";
}

}  // namespace

Config load_config() {
  Config c;
  if (const char* h = env("SK_HTTP_HOST")) c.http_host = h;
  c.http_port = static_cast<uint16_t>(env_uint("SK_HTTP_PORT", c.http_port, 1, 65535));
  if (const char* u = env("SK_DATABASE_URL")) c.database_url = u;
  else c.database_url = default_database_url();
  // Four connections per core (at least 8): a commit waits for its WAL flush without
  // using the CPU, so more transactions in flight than cores keeps both busy (group
  // commit) without queueing a crowd of backends behind the same CPUs.
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  c.pool_size = static_cast<unsigned>(env_uint("SK_POOL_SIZE", std::max(8u, 4 * hw), 1, 1000));
  // One read lane per two cores: a lane keeps one backend busy with a stream of reads,
  // and the other core serves HTTP. 0 sends reads through the pool.
  c.read_lanes = static_cast<unsigned>(env_uint("SK_READ_LANES", std::max(1u, hw / 2), 0, 1000));
  c.read_lane_depth = static_cast<unsigned>(env_uint("SK_READ_LANE_DEPTH", c.read_lane_depth, 1, 10000));
  c.request_timeout_ms = static_cast<unsigned>(env_uint("SK_REQUEST_TIMEOUT_MS", c.request_timeout_ms, 1, 3600000));
  c.rate_limit = env_rate("SK_RATE_LIMIT", c.rate_limit);
  c.rate_limit_max_keys = static_cast<size_t>(env_uint("SK_RATE_LIMIT_MAX_KEYS", c.rate_limit_max_keys, 1, 100000000));
  c.max_connections = static_cast<unsigned>(env_uint("SK_MAX_CONNECTIONS", c.max_connections, 1, 100000));
  // An idle timeout shorter than a database call would let MHD drop a connection whose
  // answer is still being computed, so the default stays above the request timeout.
  unsigned idle_default = std::max(60u, c.request_timeout_ms / 1000 + 5);
  c.idle_timeout_s = static_cast<unsigned>(env_uint("SK_IDLE_TIMEOUT_S", idle_default, 1, 86400));
  c.shutdown_grace_ms = static_cast<unsigned>(env_uint("SK_SHUTDOWN_GRACE_MS", c.shutdown_grace_ms, 0, 600000));
  return c;
}

}  // namespace sk::shim
