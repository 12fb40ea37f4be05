#include "metrics.hpp"

#include <cmath>
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

namespace sk::shim {
namespace {

bool id_like(std::string_view seg) {
  size_t us = seg.find('_');
  if (us == 0 || us == std::string_view::npos || seg.size() - us - 1 != 26) return false;
  for (size_t i = 0; i < us; ++i)
    if (seg[i] < 'a' || seg[i] > 'z') return false;
  for (size_t i = us + 1; i < seg.size(); ++i) {
    char c = seg[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string format_le(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::string route_label(std::string_view path) {
  std::string out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    std::string_view seg = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    out += id_like(seg) ? std::string_view("{id}") : seg;
    if (slash == std::string_view::npos) break;
    out += '/';
    pos = slash + 1;
  }
  return out;
}

std::string method_label(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (auto m : kKnown)
    if (m == method) return std::string(m);
  return "OTHER";
}

std::string render_webhook_metrics(const std::string& json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return {};
  auto count = [&](const nlohmann::json& v) -> std::optional<uint64_t> {
    if (!v.is_number_unsigned()) return std::nullopt;
    return v.get<uint64_t>();
  };
  auto depth = count(doc.value("webhook_queue_depth", nlohmann::json()));
  auto dead = count(doc.value("webhook_dead_letters", nlohmann::json()));
  auto attempts = doc.value("webhook_attempts", nlohmann::json());
  if (!depth || !dead || !attempts.is_object()) return {};
  std::string out;
  out += "# HELP sk_webhook_queue_depth Webhook deliveries waiting to be sent (pending or retrying).\n";
  out += "# TYPE sk_webhook_queue_depth gauge\n";
  out += "sk_webhook_queue_depth " + std::to_string(*depth) + "\n";
  out += "# HELP sk_webhook_attempts Webhook delivery attempts in the attempt log, by outcome.\n";
  out += "# TYPE sk_webhook_attempts gauge\n";
  for (const char* outcome : {"succeeded", "retrying", "dead"}) {
    auto n = count(attempts.value(outcome, nlohmann::json()));
    if (!n) return {};
    out += std::string("sk_webhook_attempts{outcome=\"") + outcome + "\"} " + std::to_string(*n) + "\n";
  }
  out += "# HELP sk_webhook_dead_letters Webhook deliveries in the dead-letter state (replayable).\n";
  out += "# TYPE sk_webhook_dead_letters gauge\n";
  out += "sk_webhook_dead_letters " + std::to_string(*dead) + "\n";
  return out;
}

void Metrics::observe(const std::string& route, const std::string& method, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string* label = &route;
  static const std::string overflow = kOverflowRoute;
  if (!routes_.count(route)) {
    if (routes_.size() >= max_routes_) label = &overflow;
    else routes_.insert(route);
  }
  ++requests_[{*label, method, status}];
  Histogram& h = durations_[{*label, method}];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) { ++h.buckets[i]; break; }
  ++h.count;
  h.sum += seconds;
}

void Metrics::count_replay() {
  std::lock_guard<std::mutex> lock(mu_);
  ++replays_;
}

std::string Metrics::render(const std::vector<Gauge>& gauges) const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP sk_http_requests_total HTTP requests answered, by route, method and status.\n";
  out += "# TYPE sk_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += "sk_http_requests_total{route=\"" + escape_label(route) + "\",method=\"" + method + "\",status=\"" +
           std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP sk_http_request_duration_seconds Time from request start to response, by route and method.\n";
  out += "# TYPE sk_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : durations_) {
    std::string labels = "route=\"" + escape_label(key.first) + "\",method=\"" + key.second + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += "sk_http_request_duration_seconds_bucket{" + labels + ",le=\"" + format_le(kBuckets[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "sk_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "sk_http_request_duration_seconds_sum{" + labels + "} " + format_double(h.sum) + "\n";
    out += "sk_http_request_duration_seconds_count{" + labels + "} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP sk_idempotent_replays_total Responses replayed from a stored idempotency key.\n";
  out += "# TYPE sk_idempotent_replays_total counter\n";
  out += "sk_idempotent_replays_total " + std::to_string(replays_) + "\n";
  for (const auto& g : gauges) {
    out += "# HELP " + g.name + " " + g.help + "\n";
    out += "# TYPE " + g.name + " gauge\n";
    out += g.name + " " + format_double(g.value) + "\n";
  }
  return out;
}

}  // namespace sk::shim
