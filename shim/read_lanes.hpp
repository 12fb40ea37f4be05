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
// will take a call, submit() says so and the caller uses the pool instead.
//
// The lanes have no thread of their own: the HTTP thread sends each call, polls the
// lanes' sockets together with its HTTP connections, and answers a connection in the
// same pass that reads its result. Only opening a connection, which blocks, runs on a
// thread of the lanes' own.
#pragma once
#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "workers.hpp"

namespace sk::shim {

class Pool;

class ReadLanes {
 public:
  static constexpr std::chrono::milliseconds kStall{20};

  // One execution of a prepared statement. Its owner keeps it alive until done().
  struct Call {
    virtual ~Call() = default;
    // The outcome is in. Runs once: on the driving thread, on the submitting thread when
    // sending failed, or on the connector when no connection could be opened. The lane
    // never touches the call again.
    virtual void done() = 0;

    const char* statement = nullptr;
    int n_params = 0;
    const char* const* values = nullptr;

    // The outcome: `result` (the owner's to PQclear), or none and `error`.
    PGresult* result = nullptr;
    std::string error;
    bool connect_failed = false;  // no connection could be opened: nothing was sent
    bool lost = false;            // the connection broke with the call sent

   private:
    friend class ReadLanes;
    std::chrono::steady_clock::time_point sent_at;
  };

  // Connections come from `connector` (Pool::open: its parameters and statement
  // setup). `lanes` may be 0: then submit() always declines.
  ReadLanes(Pool& connector, unsigned lanes, unsigned depth);
  ~ReadLanes();
  ReadLanes(const ReadLanes&) = delete;
  ReadLanes& operator=(const ReadLanes&) = delete;

  // Sends `call` on the first lane with room; its done() follows. False when every lane
  // is full or stalled (or stopped): then nothing was sent and done() will not run.
  bool submit(Call& call);

  // The driving thread polls what add_poll_fds() appends (one entry per lane, in order)
  // and passes the polled entries to on_polled(), which completes calls. `wake` must
  // interrupt its poll: a lane has a new socket. Call before the first submit().
  void drive(std::function<void()> wake);
  void add_poll_fds(std::vector<pollfd>& fds) const;
  void on_polled(const pollfd* fds);

  size_t size() const { return lanes_.size(); }
  size_t in_flight() const;  // calls sent or waiting for a connection
  size_t connected() const;
  // Asks PostgreSQL to cancel the statement each busy lane is running (shutdown).
  void cancel_in_flight();
  // Declines new calls and waits until the driving thread has completed those in flight.
  // Safe while other threads submit. The connections close with the lanes.
  void stop();

 private:
  class Lane;
  unsigned depth_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  Workers connector_{1, "sk-lane-connect"};  // destroyed first, while the lanes exist
};

}  // namespace sk::shim
