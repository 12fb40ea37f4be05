// One JSON object per line (DESIGN.md section 10): request lines on stdout, startup
// and error lines on stderr, so a collector can split access logs from diagnostics.
#pragma once
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace sk::shim {

using ordered_json = nlohmann::ordered_json;

// RFC 3339 UTC with milliseconds, e.g. 2026-01-31T12:00:00.123Z.
std::string rfc3339(std::chrono::system_clock::time_point t);

// Writes {"ts":..,"level":..,"msg":..,<fields>} to stderr. Never pass secrets in fields.
void log_event(const char* level, const std::string& msg, const ordered_json& fields = ordered_json::object());

// Writes one complete line to stdout atomically with respect to other log lines.
void log_line(const ordered_json& line);

}  // namespace sk::shim
