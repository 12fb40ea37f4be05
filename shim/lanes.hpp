// Lanes: database connections in libpq pipeline mode, driven by the HTTP thread, that
// carry sk.invoke() calls without a thread per call.
//
// Read lanes (a few, deep): a read costs PostgreSQL little; what it costs on a small
// machine is the round trip. Every statement on its own connection wakes one more
// backend, which sleeps again as soon as it has answered, and 16 backends taking turns on
// 2 cores spend more time being scheduled than reading. A lane sends each call as soon as
// it arrives, with its own Sync, behind the calls already in flight: the backend finds
// the next statement waiting when it finishes one, and answers a stream of them without
// sleeping. Every call is still its own implicit transaction, exactly as with
// PQexecPrepared. A slow call holds up every call behind it on its lane, so a lane takes
// no new call while its oldest has been running for kStall (or while it holds `depth`
// calls); when no lane will take a read, submit() says so and the caller uses the pool.
//
// Write lanes (one per pooled connection, depth 1): a commit waits for its WAL flush, and
// a call pipelined behind it would wait too, so a write has a connection to itself and
// many commits share a flush. When every write lane is busy the write queues, first come
// first served, for at most the request timeout.
//
// Lanes have no thread of their own: the HTTP thread sends each call, polls the lanes'
// sockets together with its HTTP connections, and answers a connection in the same pass
// that reads its result. Only opening a connection, which blocks, runs on a thread of the
// lanes' own.
#pragma once
#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "workers.hpp"

namespace sk::shim {

class Pool;

class Lanes {
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
    bool timed_out = false;       // queued for a free lane past the timeout: nothing was sent
    bool lost = false;            // the connection broke with the call sent

   private:
    friend class Lanes;
    std::chrono::steady_clock::time_point sent_at;  // or queued at
  };

  // What submit() does when no lane has room.
  enum class WhenFull { decline, queue };

  // Connections come from `connector` (Pool::open: its parameters and statement
  // setup). `lanes` may be 0: then submit() always declines. A queued call waits at most
  // `request_timeout`; a lane whose oldest call has had no answer for 5 s longer (the
  // statement timeout would have ended it) drops its connection, and its calls are lost.
  Lanes(Pool& connector, unsigned lanes, unsigned depth, WhenFull when_full,
        std::chrono::milliseconds request_timeout);
  ~Lanes();
  Lanes(const Lanes&) = delete;
  Lanes& operator=(const Lanes&) = delete;

  // Sends `call` on the first lane with room, or queues it (WhenFull::queue); its done()
  // follows. False when it was declined (full, stalled, stopped): then nothing was sent
  // and done() will not run.
  bool submit(Call& call);

  // The driving thread polls what add_poll_fds() appends (one entry per lane, in order)
  // and passes the polled entries to on_polled(), which completes calls. `wake` must
  // interrupt its poll: a lane has a new socket. Call before the first submit().
  // on_polled() also sends queued calls, and fails those queued past the timeout; the
  // driving thread polls at most poll_timeout_ms() (-1: no queued call).
  void drive(std::function<void()> wake);
  void add_poll_fds(std::vector<pollfd>& fds) const;
  void on_polled(const pollfd* fds);
  int poll_timeout_ms() const;

  size_t size() const { return lanes_.size(); }
  size_t in_flight() const;  // calls sent, waiting for a connection, or queued
  size_t queued() const;     // calls waiting for a free lane
  size_t connected() const;
  // Asks PostgreSQL to cancel the statement each busy lane is running (shutdown).
  void cancel_in_flight();
  // Declines new calls and waits until the driving thread has completed those in flight.
  // Safe while other threads submit. The connections close with the lanes.
  void stop();

 private:
  class Lane;
  bool offer(Call& call, std::chrono::steady_clock::time_point now);
  void send_queued();  // as many as lanes take, oldest first
  void expire_queued();

  unsigned depth_;
  WhenFull when_full_;
  std::chrono::milliseconds queue_timeout_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  mutable std::mutex queue_mu_;  // guards stopping_ and queue_
  bool stopping_ = false;
  std::deque<Call*> queue_;  // WhenFull::queue: oldest first
  // Opens connections, up to 4 at once: 16 first writes at once on a fresh shim waited up
  // to 103-111 ms with one connector, 84-87 ms with four (85-89 ms when each request
  // thread connected for itself). Destroyed first, while the lanes exist.
  Workers connector_;
};

}  // namespace sk::shim
