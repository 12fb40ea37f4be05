// Prometheus metrics in text exposition format 0.0.4 (DESIGN.md section 10).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace sk::shim {

// The path with every id-like segment ("<lowercase prefix>_<26 alphanumerics>")
// replaced by {id}, so one label value stands for all objects of a route.
std::string route_label(std::string_view path);

// Known HTTP methods as themselves, anything else as OTHER: methods are client input.
std::string method_label(std::string_view method);

// A gauge sampled at scrape time (pool size, queue depth...).
struct Gauge {
  std::string name;
  std::string help;
  double value;
};

// The webhook gauges from the database's sk.metrics() document
//   {"webhook_queue_depth":n,"webhook_dead_letters":n,"webhook_attempts":{"succeeded":n,…}}
// in exposition format; empty when the document is not that shape.
std::string render_webhook_metrics(const std::string& json);

class Metrics {
 public:
  static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  5,     10};
  static constexpr const char* kOverflowRoute = "{other}";

  // Paths that match no route of the extension are client input too; past `max_routes`
  // distinct labels, new ones are counted under {other} so memory stays bounded.
  explicit Metrics(size_t max_routes = 256) : max_routes_(max_routes) {}

  void observe(const std::string& route, const std::string& method, int status, double seconds);
  void count_replay();
  std::string render(const std::vector<Gauge>& gauges) const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative; summed when rendered
    uint64_t count = 0;
    double sum = 0;
  };

  size_t max_routes_;
  mutable std::mutex mu_;
  std::set<std::string> routes_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> durations_;
  uint64_t replays_ = 0;
};

}  // namespace sk::shim
