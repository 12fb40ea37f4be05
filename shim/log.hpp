// One JSON object per line (DESIGN.md section 10): request lines on stdout, startup
// and error lines on stderr, so a collector can split access logs from diagnostics.
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sk::shim {

using ordered_json = nlohmann::ordered_json;

// RFC 3339 UTC with milliseconds, e.g. 2026-01-31T12:00:00.123Z.
std::string rfc3339(std::chrono::system_clock::time_point t);

// Writes {"ts":..,"level":..,"msg":..,<fields>} to stderr. Never pass secrets in fields.
void log_event(const char* level, const std::string& msg, const ordered_json& fields = ordered_json::object());

// One access line per request, on stdout.
struct AccessRecord {
  std::chrono::system_clock::time_point ts;
  std::string_view request_id, method, path, route;
  int status = 0;  // 0: the connection ended before a response was sent
  double seconds = 0;
  bool replayed = false;
  size_t bytes_in = 0, bytes_out = 0;
  int termination = -1;  // MHD's code when the request did not complete normally
};

// Formats the line directly (a JSON library's tree costs more than the rest of the
// shim's work on a small request) and buffers it; LogFlusher writes the buffer.
void log_access(const AccessRecord& r);

// While one exists, access lines are written in batches: every 100 ms, or at once
// when 64 KiB are waiting, so a busy shim makes one write() per batch instead of one
// per request. Without one (unit tests, early startup) each line is written at once.
// Destroying it writes what is left.
class LogFlusher {
 public:
  LogFlusher();
  ~LogFlusher();
  LogFlusher(const LogFlusher&) = delete;
  LogFlusher& operator=(const LogFlusher&) = delete;
};

}  // namespace sk::shim
