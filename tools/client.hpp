// A small blocking HTTP client over libcurl, shared by the developer tools (sk-listen,
// sk-mcp). One Client keeps its connection alive between requests; not thread-safe,
// so each thread uses its own.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sk::tools {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  long status = 0;            // 0: no HTTP response (see error)
  std::string body;
  std::string content_type;
  std::string error;          // transport error, when status is 0
};

class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  HttpResponse request(const std::string& method, const std::string& url, const Headers& headers,
                       const std::optional<std::string>& body, long timeout_ms);

 private:
  void* curl_;
};

// Call once at program start, before any thread is created.
void init_http();

// The environment variable, or `fallback` when unset or empty.
std::string env_or(const char* name, const std::string& fallback);

// `n` random characters from [0-9a-z], for Idempotency-Keys.
std::string random_token(size_t n);

// "2026-01-31 12:00:00" in local time, for console lines.
std::string local_time_now();

// The `detail` (and `code`) of a problem document, or the body itself.
std::string problem_summary(const HttpResponse& r);

}  // namespace sk::tools
