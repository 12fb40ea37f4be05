#include "webhooks/schedule.hpp"

#include <regex>

namespace sk::webhooks {

std::optional<std::vector<long long>> parse_schedule(const std::string& text) {
  static const std::regex element(R"(\s*([0-9]+)\s*(ms|s|min|h|d)\s*)");
  std::vector<long long> delays;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::smatch m;
    std::string part = text.substr(start, end - start);
    if (!std::regex_match(part, m, element)) return std::nullopt;
    long long n = std::stoll(m[1].str());
    const std::string unit = m[2].str();
    long long scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "min" ? 60000 : unit == "h" ? 3600000 : 86400000;
    if (n > 365LL * 86400000 / scale) return std::nullopt;
    delays.push_back(n * scale);
    start = end + 1;
  }
  if (delays.empty()) return std::nullopt;
  return delays;
}

}  // namespace sk::webhooks
