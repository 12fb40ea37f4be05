// A fixed-size pool of libpq connections shared by the worker threads.
// Connections are opened lazily and replaced after failures, so the shim starts
// before PostgreSQL does and survives PostgreSQL restarts.
#pragma once
#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace sk::shim {

class Pool {
 public:
  // Runs once on every new connection (e.g. PQprepare); false means the connection is
  // unusable and is closed again. `error` receives a message for the log.
  using Setup = std::function<bool(PGconn*, std::string* error)>;

  // `conninfo` is a libpq keyword string or URI. application_name, connect_timeout and
  // `-c statement_timeout=<statement_timeout_ms>` are added unless the caller set them.
  // Throws std::runtime_error if `conninfo` does not parse.
  Pool(const std::string& conninfo, unsigned size, unsigned statement_timeout_ms, Setup setup);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : pool_(o.pool_), slot_(o.slot_) { o.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    explicit operator bool() const { return pool_ != nullptr; }
    PGconn* conn() const;
    // The connection is broken or in an unknown state: close it now so the next
    // checkout of this slot connects afresh. `server_lost` says the server went away
    // (restart, failover): then every other pooled connection is presumed dead too and
    // is replaced at its next checkout, instead of failing one more request each.
    void discard(bool server_lost = false);

   private:
    friend class Pool;
    Lease(Pool* p, size_t slot) : pool_(p), slot_(slot) {}
    Pool* pool_ = nullptr;
    size_t slot_ = 0;
  };

  enum class Failure { none, timeout, connect };
  // Waits up to `wait` for a free slot and makes sure it holds a working connection.
  Lease acquire(std::chrono::milliseconds wait, Failure* failure, std::string* error);

  // A new connection with the pool's parameters and setup, owned by the caller.
  PGconn* open(std::string* error);

  size_t size() const { return slots_.size(); }
  size_t in_use() const;
  size_t connected() const;
  // Asks PostgreSQL to cancel whatever leased connections are running (shutdown).
  void cancel_in_use();
  void close();

 private:
  struct Slot {
    PGconn* conn = nullptr;
    PGcancel* cancel = nullptr;  // made at connect time: PQcancel is safe from any thread
    bool leased = false;
    unsigned long generation = 0;  // value of generation_ when connected
  };

  static void on_notice(void* arg, const char* message);
  bool connect(size_t slot, std::string* error);
  void disconnect(size_t slot);
  void release(size_t slot);

  std::vector<std::string> keywords_;
  std::vector<std::string> values_;
  Setup setup_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  std::vector<size_t> free_;  // a stack: the most recently used (warm) connection first
  size_t in_use_ = 0;
  unsigned long generation_ = 0;  // bumped whenever the server is seen to go away
  bool closed_ = false;
};

// A result with this SQLSTATE means the connection's prepared statements are unusable
// and it must be replaced: 26000, the statement does not exist; 0A000, "cached plan
// must not change result type" after the extension was upgraded under it.
bool statement_stale(const char* sqlstate);

}  // namespace sk::shim
