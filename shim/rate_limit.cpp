#include "rate_limit.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace sk::shim {

std::optional<std::string_view> bearer_token(const char* authorization) {
  if (!authorization) return std::nullopt;
  std::string_view h(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (h.size() <= kScheme.size() || h[kScheme.size()] != ' ') return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(h[i])) != kScheme[i]) return std::nullopt;
  h.remove_prefix(kScheme.size());
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (h.empty()) return std::nullopt;
  return h;
}

size_t RateLimiter::DigestHash::operator()(const Digest& d) const noexcept {
  size_t h;  // already uniformly distributed: SHA-256 output
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

// A fractional rate below one request still has to admit a first request.
RateLimiter::RateLimiter(double rate, size_t max_keys)
    : rate_(rate), capacity_(std::max(rate, 1.0)), max_keys_(std::max<size_t>(max_keys, 1)) {}

void RateLimiter::sweep(Clock::time_point now) {
  // A bucket that has refilled to capacity behaves exactly like a missing one, so
  // dropping it changes no decision; the table then only holds recently active keys.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double idle = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + idle * rate_ >= capacity_) it = buckets_.erase(it);
    else ++it;
  }
  last_sweep_ = now;
}

RateDecision RateLimiter::take(std::string_view api_key, Clock::time_point now) {
  RateDecision d;
  if (!enabled()) return d;
  Digest key;
  unsigned char full[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(api_key.data()), api_key.size(), full);
  std::memcpy(key.data(), full, key.size());

  std::lock_guard<std::mutex> lock(mu_);
  if (now - last_sweep_ >= std::chrono::seconds(1)) sweep(now);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      sweep(now);
      // Still full of active keys (a flood of distinct tokens): forget an arbitrary one.
      // That key gets a fresh burst, which is the cheapest failure that keeps memory bounded.
      if (buckets_.size() >= max_keys_) buckets_.erase(buckets_.begin());
    }
    it = buckets_.emplace(key, Bucket{capacity_, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) b.tokens = std::min(capacity_, b.tokens + elapsed * rate_);
  b.updated = std::max(b.updated, now);

  // Tolerance for rounding in the refill arithmetic, so exactly 1/rate seconds later
  // a request is admitted.
  constexpr double kEpsilon = 1e-9;
  if (b.tokens + kEpsilon >= 1.0) {
    b.tokens = std::max(0.0, b.tokens - 1.0);
    d.allowed = true;
  } else {
    d.allowed = false;
    d.retry_after_s = std::max(1L, static_cast<long>(std::ceil((1.0 - b.tokens) / rate_ - kEpsilon)));
  }
  d.remaining = static_cast<long>(std::floor(b.tokens + kEpsilon));
  d.reset_s = std::max(0L, static_cast<long>(std::ceil((capacity_ - b.tokens) / rate_ - kEpsilon)));
  return d;
}

std::string RateLimiter::policy_header() const {
  char q[64];
  if (rate_ == std::floor(rate_)) std::snprintf(q, sizeof q, "%.0f", rate_);
  else std::snprintf(q, sizeof q, "%.3f", rate_);
  return std::string("\"default\";q=") + q + ";w=1";
}

std::string RateLimiter::limit_header(const RateDecision& d) {
  return "\"default\";r=" + std::to_string(d.remaining) + ";t=" + std::to_string(d.reset_s);
}

size_t RateLimiter::tracked_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace sk::shim
