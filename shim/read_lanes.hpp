// Read lanes: a few database connections in libpq pipeline mode that carry the
// sk.invoke() calls of many concurrent GET requests at once.
//
// Why: a read costs PostgreSQL little; what it costs on a small machine is the round
// trip. Every statement on its own connection wakes one more backend, which sleeps again
// as soon as it has answered, and 16 backends taking turns on 2 cores spend more time
// being scheduled than reading. A lane sends each call as soon as it arrives, with its
// own Sync, behind the calls already in flight: the backend finds the next statement
// waiting when it finishes one, and answers a stream of them without sleeping. Every call
// is still its own implicit transaction, exactly as with PQexecPrepared.
//
// Writes do not use lanes: a commit waits for its WAL flush, and everything pipelined
// behind it would wait too. They keep one pooled connection each (Pool), so that many
// commits share a flush.
//
// A slow call holds up every call behind it on its lane. A lane takes no new call while
// its oldest has been running for kStall (or while it holds `depth` calls); when no lane
// will take a call, run() says so and the caller uses the pool instead.
#pragma once
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sk::shim {

class Pool;

class ReadLanes {
 public:
  static constexpr std::chrono::milliseconds kStall{20};

  // One execution of a prepared statement. The caller owns it and waits on it.
  struct Call {
    const char* statement = nullptr;
    int n_params = 0;
    const char* const* values = nullptr;

    // The outcome: `result` (the caller's to PQclear), or none and `error`.
    PGresult* result = nullptr;
    std::string error;
    bool connect_failed = false;  // no connection could be opened: nothing was sent
    bool lost = false;            // the connection broke with the call sent

   private:
    friend class ReadLanes;
    std::chrono::steady_clock::time_point sent_at;
    std::atomic<uint32_t> done{0};  // a futex word: 1 once the outcome is in
  };

  // Connections come from `connector` (Pool::open: its parameters and statement
  // setup). `lanes` may be 0: then run() always declines.
  ReadLanes(Pool& connector, unsigned lanes, unsigned depth);
  ~ReadLanes();
  ReadLanes(const ReadLanes&) = delete;
  ReadLanes& operator=(const ReadLanes&) = delete;

  // Runs `call` on the first lane with room and waits for its outcome. False when every
  // lane is full or stalled: then nothing was sent.
  bool run(Call& call);

  size_t size() const { return lanes_.size(); }
  size_t in_flight() const;  // calls sent or waiting for a connection
  size_t connected() const;
  // Asks PostgreSQL to cancel the statement each busy lane is running (shutdown).
  void cancel_in_flight();
  // Completes what is in flight, closes the connections and joins the lane threads.
  void stop();

 private:
  class Lane;
  static void complete(Call* c);
  static void wait_for(Call& c);
  unsigned depth_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace sk::shim
