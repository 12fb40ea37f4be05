#include "log.hpp"

#include <cstdio>
#include <ctime>

namespace sk::shim {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // sized for any int fields, which silences -Wformat-truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

namespace {
// A single fwrite per line: stdio locks the stream for the call, so lines written by
// concurrent connection threads never interleave. Invalid UTF-8 from a client (a path,
// say) is replaced rather than allowed to throw and lose the line.
void emit(std::FILE* f, const ordered_json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), f);
  std::fflush(f);
}
}  // namespace

void log_event(const char* level, const std::string& msg, const ordered_json& fields) {
  ordered_json j;
  j["ts"] = rfc3339(std::chrono::system_clock::now());
  j["level"] = level;
  j["msg"] = msg;
  for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = it.value();
  emit(stderr, j);
}

void log_line(const ordered_json& line) { emit(stdout, line); }

}  // namespace sk::shim
