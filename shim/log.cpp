#include "log.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "text.hpp"

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
// concurrent threads never interleave. Invalid UTF-8 from a client (a path,
// say) is replaced rather than allowed to throw and lose the line.
void emit(std::FILE* f, const ordered_json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), f);
  std::fflush(f);
}

constexpr size_t kAccessBufferBytes = 64 * 1024;
constexpr auto kAccessFlushEvery = std::chrono::milliseconds(100);

// Writes `lines` to stdout and empties it.
void write_out(std::string& lines) {
  if (lines.empty()) return;
  std::fwrite(lines.data(), 1, lines.size(), stdout);
  std::fflush(stdout);
  lines.clear();
}

// Other threads only append; the flusher thread is the one writer, and writes outside
// the lock, so no request waits for a write() and batches keep their order.
struct AccessBuffer {
  std::mutex mu;
  std::condition_variable cv;
  std::string lines;
  bool batching = false;  // a LogFlusher exists
  bool stop = false;
  std::thread flusher;
};

AccessBuffer& access_buffer() {
  static AccessBuffer b;
  return b;
}

// A JSON string; text that is not UTF-8 goes through the JSON library, which replaces
// the invalid bytes.
void append_string(std::string& out, std::string_view s) {
  if (!valid_text(s)) {
    out += ordered_json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
          out += esc;
        } else {
          out += c;
        }
    }
  }
  out += '"';
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

void log_access(const AccessRecord& r) {
  std::string line;
  line.reserve(256 + r.path.size());
  line += "{\"ts\":\"";
  line += rfc3339(r.ts);
  line += "\",\"request_id\":";
  append_string(line, r.request_id);
  line += ",\"method\":";
  append_string(line, r.method);
  line += ",\"path\":";
  append_string(line, r.path);
  line += ",\"route\":";
  append_string(line, r.route);
  char numbers[160];
  // duration_ms to the microsecond, as before: 1.332
  int n = std::snprintf(numbers, sizeof numbers,
                        ",\"status\":%d,\"duration_ms\":%.3f,\"replayed\":%s,\"bytes_in\":%zu,\"bytes_out\":%zu", r.status,
                        r.seconds * 1e3, r.replayed ? "true" : "false", r.bytes_in, r.bytes_out);
  line.append(numbers, static_cast<size_t>(std::max(n, 0)));
  if (r.termination >= 0) line += ",\"termination\":" + std::to_string(r.termination);
  line += "}\n";

  AccessBuffer& b = access_buffer();
  std::lock_guard<std::mutex> lock(b.mu);
  b.lines += line;
  if (!b.batching) {
    write_out(b.lines);  // under the lock: lines from several threads never interleave
  } else if (b.lines.size() >= kAccessBufferBytes) {
    b.cv.notify_one();
  }
}

LogFlusher::LogFlusher() {
  AccessBuffer& b = access_buffer();
  std::lock_guard<std::mutex> lock(b.mu);
  b.batching = true;
  b.stop = false;
  b.flusher = std::thread([&b] {
    std::string batch;
    std::unique_lock<std::mutex> lock(b.mu);
    for (;;) {
      b.cv.wait_for(lock, kAccessFlushEvery, [&b] { return b.stop || b.lines.size() >= kAccessBufferBytes; });
      batch.swap(b.lines);
      bool stop = b.stop;
      lock.unlock();
      write_out(batch);
      if (stop) return;
      lock.lock();
    }
  });
}

LogFlusher::~LogFlusher() {
  AccessBuffer& b = access_buffer();
  {
    std::lock_guard<std::mutex> lock(b.mu);
    b.stop = true;
  }
  b.cv.notify_all();
  b.flusher.join();
  std::lock_guard<std::mutex> lock(b.mu);
  write_out(b.lines);  // lines added while the flusher wrote its last batch
  b.batching = false;
}

}  // namespace sk::shim
