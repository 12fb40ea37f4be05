// A fixed-size pool of libpq connections driven by one event-loop thread.
//
// Callers submit a query with a callback and return at once; the loop sends it on an
// idle connection (non-blocking libpq), waits for the socket with epoll, and calls the
// callback with the result. The HTTP thread therefore never blocks on PostgreSQL, and
// one thread watches every connection instead of one thread per request.
//
// Connections are opened lazily, by a connector thread (libpq's connect blocks), and
// replaced after failures, so the shim starts before PostgreSQL does and survives
// PostgreSQL restarts.
#pragma once
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sk::shim {

using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

class Pool {
 public:
  // Runs once on every new connection, in the connector thread (e.g. PQprepare); false
  // means the connection is unusable and is closed again. `error` receives a message.
  using Setup = std::function<bool(PGconn*, std::string* error)>;

  struct Query {
    std::string label;                // request id, for the log
    const char* statement = nullptr;  // name of a statement prepared by Setup, or
    std::string sql;                  // simple-protocol text when `statement` is null
    std::vector<std::optional<std::string>> params;  // text; nullopt is SQL NULL
    std::chrono::milliseconds wait{0};  // how long it may wait for a free connection
    // Run once more on a fresh connection when the connection turns out to be dead
    // (PostgreSQL restarted). Callers set it only for requests that are safe to repeat.
    bool retry_if_lost = false;
  };

  enum class Failure {
    none,     // `result` holds the answer: the last result, or the first error result
    timeout,  // no connection was free within `wait` (or the pool closed)
    connect,  // opening a connection for this query failed; `error` says why
    lost,     // the connection died under the query (after the one retry, if allowed)
  };
  struct Outcome {
    Failure failure = Failure::none;
    PgResult result{nullptr, &PQclear};
    std::string error;
  };
  // Called once per query, in the pool's thread: it must not block.
  using Done = std::function<void(Outcome&&)>;

  // `conninfo` is a libpq keyword string or URI. application_name, connect_timeout and
  // `-c statement_timeout=<statement_timeout_ms>` are added unless the caller set them.
  // Throws std::runtime_error if `conninfo` does not parse or the threads cannot start.
  Pool(const std::string& conninfo, unsigned size, unsigned statement_timeout_ms, Setup setup);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  void submit(Query query, Done done);

  size_t size() const { return size_; }
  size_t in_use() const { return in_use_.load(); }
  size_t connected() const { return connected_.load(); }
  // Asks PostgreSQL to cancel whatever the connections are running (shutdown).
  void cancel_in_use();
  // Answers every query not yet answered (Failure::timeout, or lost if it was running),
  // closes the connections and stops the threads.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t size_;
  std::atomic<size_t> in_use_{0};
  std::atomic<size_t> connected_{0};
};

}  // namespace sk::shim
