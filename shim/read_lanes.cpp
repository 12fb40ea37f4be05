#include "read_lanes.hpp"

#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "pool.hpp"

namespace sk::shim {

using Clock = std::chrono::steady_clock;

// A bare futex rather than a condition variable: the waiter may return, and destroy its
// Call, the moment it sees `done`, so the waker must not touch a mutex or condition
// variable after setting it, and notifying under a lock would wake the waiter only to
// block it on that lock. A wake-up sent to an address already reused is harmless: every
// waiter checks its word again.
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word");

void ReadLanes::complete(Call* c) {
  c->done.store(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&c->done), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void ReadLanes::wait_for(Call& c) {
  while (c.done.load(std::memory_order_acquire) == 0)
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&c.done), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
}

// One connection in pipeline mode. A submitting thread sends its own call under the
// lane's lock, so a call costs the lane thread no wake-up; the lane thread connects,
// reads results and completes calls in the order they were sent.
class ReadLanes::Lane {
 public:
  explicit Lane(Pool& connector) : connector_(connector) {
    thread_ = std::thread([this] { loop(); });
    pthread_setname_np(thread_.native_handle(), "sk-read-lane");
  }

  ~Lane() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake();
    thread_.join();
    close(wake_fd_);
  }

  // Sends (or, while connecting, queues) `c` if the lane has room and is not stalled.
  bool offer(Call* c, unsigned depth, Clock::time_point now) {
    std::vector<Call*> failed;
    bool wake_thread = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ || in_flight_.size() + queued_.size() >= depth) return false;
      if (!in_flight_.empty() && now - in_flight_.front()->sent_at >= kStall) return false;
      c->sent_at = now;
      if (!conn_) {
        queued_.push_back(c);
        wake_thread = true;
      } else if (!send(c)) {
        failed.push_back(c);
        wake_thread = true;  // to notice the broken connection
      } else if (!flush() || want_write_) {
        wake_thread = true;
      }
    }
    if (wake_thread) wake();
    finish(failed);
    return true;
  }

  size_t load() const {
    std::lock_guard<std::mutex> lock(mu_);
    return in_flight_.size() + queued_.size();
  }

  bool connected() const {
    std::lock_guard<std::mutex> lock(mu_);
    return conn_ != nullptr;
  }

  void cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!cancel_ || in_flight_.empty()) return;
    char err[256];
    PQcancel(cancel_, err, sizeof err);
  }

 private:
  void wake() {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }

  static void finish(std::vector<Call*>& calls) {
    for (Call* c : calls) complete(c);
    calls.clear();
  }

  // The functions below run with mu_ held.

  bool send(Call* c) {
    if (PQsendQueryPrepared(conn_, c->statement, c->n_params, c->values, nullptr, nullptr, 0) &&
        PQpipelineSync(conn_)) {
      in_flight_.push_back(c);
      return true;
    }
    c->lost = true;
    c->error = PQerrorMessage(conn_);
    return false;
  }

  bool flush() {
    int f = PQflush(conn_);
    want_write_ = f == 1;
    return f >= 0;
  }

  void drop_connection(const std::string& why, std::vector<Call*>& done) {
    for (Call* c : in_flight_) {
      c->lost = true;
      c->error = why;
      done.push_back(c);
    }
    in_flight_.clear();
    if (cancel_) PQfreeCancel(cancel_);
    cancel_ = nullptr;
    PQfinish(conn_);
    conn_ = nullptr;
    want_write_ = false;
  }

  // Hands every complete result to its call. Each call is one query and its own Sync:
  // its result (or error), a null, then PGRES_PIPELINE_SYNC.
  void drain(std::vector<Call*>& done) {
    bool stale = false;
    while (!in_flight_.empty() && !PQisBusy(conn_)) {
      PGresult* r = PQgetResult(conn_);
      if (!r) continue;
      Call* c = in_flight_.front();
      if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        in_flight_.pop_front();
        done.push_back(c);
        continue;
      }
      stale = stale || statement_stale(PQresultErrorField(r, PG_DIAG_SQLSTATE));
      if (!c->result) c->result = r;
      else PQclear(r);
    }
    // The calls still in flight would fail the same way: they go round once more on a
    // new connection, as after any lost connection.
    if (stale) drop_connection("the prepared statement is stale", done);
  }

  // The rest takes mu_ itself.

  void connect(std::vector<Call*>& done) {
    std::string error;
    PGconn* c = connector_.open(&error);  // slow, so unlocked
    if (c && (!PQenterPipelineMode(c) || PQsetnonblocking(c, 1) != 0)) {
      error = PQerrorMessage(c);
      PQfinish(c);
      c = nullptr;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!c) {
      for (Call* q : queued_) {
        q->connect_failed = true;
        q->error = error;
      }
      done.insert(done.end(), queued_.begin(), queued_.end());
      queued_.clear();
      return;
    }
    conn_ = c;
    cancel_ = PQgetCancel(c);
    for (Call* q : queued_)
      if (!send(q)) done.push_back(q);
    queued_.clear();
    if (!flush()) drop_connection(PQerrorMessage(conn_), done);
  }

  void loop() {
    std::vector<Call*> done;
    for (;;) {
      pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {-1, 0, 0}};
      bool need_connect;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (conn_ && PQstatus(conn_) == CONNECTION_BAD) drop_connection(PQerrorMessage(conn_), done);
        if (stopping_ && queued_.empty() && in_flight_.empty()) break;
        need_connect = !conn_ && !queued_.empty();
        // Readable also while idle: that is how a connection the server closed is noticed.
        if (conn_) fds[1] = {PQsocket(conn_), static_cast<short>(POLLIN | (want_write_ ? POLLOUT : 0)), 0};
      }
      finish(done);
      if (need_connect) {
        connect(done);
        finish(done);
        continue;
      }
      if (poll(fds, fds[1].fd >= 0 ? 2 : 1, -1) < 0) continue;  // EINTR
      if (fds[0].revents) {
        uint64_t n;
        (void)!read(wake_fd_, &n, sizeof n);
      }
      if (fds[1].fd < 0 || !fds[1].revents) continue;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!conn_ || PQsocket(conn_) != fds[1].fd) continue;
        if ((want_write_ && !flush()) || !PQconsumeInput(conn_)) drop_connection(PQerrorMessage(conn_), done);
        else drain(done);
      }
      finish(done);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (conn_) drop_connection("the shim is stopping", done);
    finish(done);
  }

  Pool& connector_;
  mutable std::mutex mu_;  // guards the members below and every libpq call on conn_
  PGconn* conn_ = nullptr;
  PGcancel* cancel_ = nullptr;
  bool want_write_ = false;     // PQflush left output behind: poll for POLLOUT
  std::deque<Call*> in_flight_; // sent, oldest first
  std::vector<Call*> queued_;   // waiting for a connection
  bool stopping_ = false;
  int wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::thread thread_;
};

ReadLanes::ReadLanes(Pool& connector, unsigned lanes, unsigned depth) : depth_(depth) {
  for (unsigned i = 0; i < lanes; ++i) lanes_.push_back(std::make_unique<Lane>(connector));
}

ReadLanes::~ReadLanes() { stop(); }

void ReadLanes::stop() { lanes_.clear(); }

bool ReadLanes::run(Call& call) {
  // The first lane with room, not the emptiest: calls that share a lane share its
  // backend's wake-ups, which is the point of lanes.
  Clock::time_point now = Clock::now();
  for (auto& lane : lanes_) {
    if (!lane->offer(&call, depth_, now)) continue;
    wait_for(call);
    return true;
  }
  return false;
}

size_t ReadLanes::in_flight() const {
  size_t n = 0;
  for (const auto& lane : lanes_) n += lane->load();
  return n;
}

size_t ReadLanes::connected() const {
  size_t n = 0;
  for (const auto& lane : lanes_) n += lane->connected();
  return n;
}

void ReadLanes::cancel_in_flight() {
  for (auto& lane : lanes_) lane->cancel();
}

}  // namespace sk::shim
