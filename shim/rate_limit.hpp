// Per-API-key token bucket (DESIGN.md section 4, "Limits") and the IETF RateLimit
// headers (draft-ietf-httpapi-ratelimit-headers, structured-field form).
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sk::shim {

// The token of "Authorization: Bearer <token>" (scheme case-insensitive), if any.
std::optional<std::string_view> bearer_token(const char* authorization);

struct RateDecision {
  bool allowed = true;
  long remaining = 0;     // whole requests left in the bucket after this one
  long reset_s = 0;       // seconds until the bucket is full again
  long retry_after_s = 0; // when refused: seconds until one request fits (>= 1)
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate` requests per second with a burst of the same size; 0 disables limiting.
  RateLimiter(double rate, size_t max_keys);

  bool enabled() const { return rate_ > 0; }
  RateDecision take(std::string_view api_key, Clock::time_point now = Clock::now());

  std::string policy_header() const;                       // "default";q=1000;w=1
  static std::string limit_header(const RateDecision& d);  // "default";r=999;t=1
  size_t tracked_keys() const;

 private:
  // Keys are secrets: the table holds a SHA-256 prefix, never the key itself.
  using Digest = std::array<uint8_t, 16>;
  struct DigestHash {
    size_t operator()(const Digest& d) const noexcept;
  };
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };

  void sweep(Clock::time_point now);

  double rate_;
  double capacity_;
  size_t max_keys_;
  mutable std::mutex mu_;
  std::unordered_map<Digest, Bucket, DigestHash> buckets_;
  Clock::time_point last_sweep_{};
};

}  // namespace sk::shim
