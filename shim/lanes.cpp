#include "lanes.hpp"

#include <algorithm>
#include <deque>
#include <thread>

#include "log.hpp"
#include "pool.hpp"

namespace sk::shim {

using Clock = std::chrono::steady_clock;

// One connection in pipeline mode. The submitting thread sends its call under the lane's
// lock; the driving thread reads results and completes calls in the order they were
// sent; the connector thread opens the connection (blocking) and sends what queued
// meanwhile.
class Lanes::Lane {
 public:
  Lane(Pool& connector, Workers& connect_thread, std::chrono::milliseconds give_up)
      : connector_(connector), connect_thread_(connect_thread), give_up_(give_up) {}

  ~Lane() {
    std::vector<Call*> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      drop_connection("the shim is stopping", done);
      fail_queued("the shim is stopping", done);
    }
    finish(done);
  }

  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  // Sends (or, while connecting, queues) `c` if the lane has room and is not stalled.
  bool offer(Call* c, unsigned depth, Clock::time_point now) {
    std::vector<Call*> done;
    bool connect_now = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_.size() + queued_.size() >= depth) return false;
      if (!in_flight_.empty() && now - in_flight_.front()->sent_at >= kStall) return false;
      c->sent_at = now;
      if (!conn_) {
        queued_.push_back(c);
        connect_now = !connecting_;
        connecting_ = true;
      } else {
        send(c, done);
      }
    }
    if (connect_now && !connect_thread_.post([this] { connect(); })) {
      std::lock_guard<std::mutex> lock(mu_);  // stopping: no connection will come
      connecting_ = false;
      fail_queued("the shim is stopping", done);
    }
    finish(done);
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

  // PQcancel opens a connection of its own, which may block: not under the lock the
  // driving thread needs.
  void cancel() {
    PGcancel* cancel = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (conn_ && !in_flight_.empty()) cancel = PQgetCancel(conn_);
    }
    if (!cancel) return;
    char err[256];
    PQcancel(cancel, err, sizeof err);
    PQfreeCancel(cancel);
  }

  // Readable also while idle: that is how a connection the server closed is noticed.
  pollfd poll_fd() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!conn_ || PQsocket(conn_) < 0) return {-1, 0, 0};
    return {PQsocket(conn_), static_cast<short>(POLLIN | (want_write_ ? POLLOUT : 0)), 0};
  }

  // Every pass of the driving thread, polled or not: a connection libpq found broken
  // while sending has no socket left to poll, and a call unanswered for give_up_ (a
  // network gone silent) would otherwise wait for TCP to give up.
  void on_polled(const pollfd& p, Clock::time_point now) {
    std::vector<Call*> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!conn_) {
        if (!queued_.empty() && now - queued_.front()->sent_at >= give_up_)
          fail_queued("no database connection could be opened in time", done);
      } else if (PQstatus(conn_) == CONNECTION_BAD) {
        drop_connection(PQerrorMessage(conn_), done);
      } else if (!in_flight_.empty() && now - in_flight_.front()->sent_at >= give_up_) {
        drop_connection("no answer from the database in time", done);
      } else if (p.fd >= 0 && p.fd == PQsocket(conn_) && p.revents) {
        if ((want_write_ && !flush()) || !PQconsumeInput(conn_)) drop_connection(PQerrorMessage(conn_), done);
        else drain(done);
      }
    }
    finish(done);
  }

 private:
  // Every call gets its done(), whatever one of them throws.
  static void finish(std::vector<Call*>& calls) {
    for (Call* c : calls) {
      try {
        c->done();
      } catch (const std::exception& e) {
        log_event("error", "completing a database call failed", {{"error", e.what()}});
      }
    }
    calls.clear();
  }

  // The functions below run with mu_ held.

  // A call that cannot be sent means the connection is broken: it and every call before
  // it are lost (and retried once on the pool by their owners).
  void send(Call* c, std::vector<Call*>& done) {
    in_flight_.push_back(c);
    if (!PQsendQueryPrepared(conn_, c->statement, c->n_params, c->values, nullptr, nullptr, 0) ||
        !PQpipelineSync(conn_) || !flush())
      drop_connection(PQerrorMessage(conn_), done);
  }

  bool flush() {
    int f = PQflush(conn_);
    want_write_ = f == 1;
    return f >= 0;
  }

  // Moves `calls` to `done`, each failed with `why` and its `flag` set.
  template <class Calls>
  static void fail(Calls& calls, bool Call::*flag, const std::string& why, std::vector<Call*>& done) {
    for (Call* c : calls) {
      c->*flag = true;
      c->error = why;
      done.push_back(c);
    }
    calls.clear();
  }

  void drop_connection(const std::string& why, std::vector<Call*>& done) {
    fail(in_flight_, &Call::lost, why, done);
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    want_write_ = false;
  }

  void fail_queued(const std::string& why, std::vector<Call*>& done) { fail(queued_, &Call::connect_failed, why, done); }

  // Hands every complete result to its call. Each call is one query and its own Sync:
  // its result (or error), a null, then PGRES_PIPELINE_SYNC.
  void drain(std::vector<Call*>& done) {
    bool stale = false;
    while (!in_flight_.empty() && !PQisBusy(conn_)) {
      PGresult* r = PQgetResult(conn_);
      if (!r) {
        // Between a call's results; unless libpq gave up on the connection.
        if (PQstatus(conn_) == CONNECTION_BAD) return drop_connection(PQerrorMessage(conn_), done);
        continue;
      }
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

  // On the connector thread.
  void connect() {
    std::vector<Call*> done;
    std::string error;
    PGconn* c = connector_.open(&error);
    if (c && (!PQenterPipelineMode(c) || PQsetnonblocking(c, 1) != 0)) {
      error = PQerrorMessage(c);
      PQfinish(c);
      c = nullptr;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      connecting_ = false;
      if (!c) {
        fail_queued(error, done);
      } else {
        conn_ = c;
        std::vector<Call*> unsent;
        for (Call* q : queued_)
          if (conn_) send(q, done);
          else unsent.push_back(q);
        queued_.clear();
        fail(unsent, &Call::lost, "the new connection broke", done);
      }
    }
    if (wake_) wake_();  // the HTTP thread polls the new socket from now on
    finish(done);
  }

  Pool& connector_;
  Workers& connect_thread_;
  const std::chrono::milliseconds give_up_;
  std::function<void()> wake_;  // set before the first call
  mutable std::mutex mu_;  // guards the members below and every libpq call on conn_
  PGconn* conn_ = nullptr;
  bool want_write_ = false;     // PQflush left output behind: poll for POLLOUT
  bool connecting_ = false;     // the connector is opening the connection
  std::deque<Call*> in_flight_; // sent, oldest first
  std::vector<Call*> queued_;   // waiting for a connection, oldest first
};

Lanes::Lanes(Pool& connector, unsigned lanes, unsigned depth, WhenFull when_full,
             std::chrono::milliseconds request_timeout)
    : depth_(depth),
      when_full_(when_full),
      queue_timeout_(request_timeout),
      connector_(std::clamp(lanes, 1u, 4u), "sk-lane-connect") {
  // The statement timeout ends a call first; past this, the connection is presumed dead.
  const auto give_up = request_timeout + std::chrono::seconds(5);
  for (unsigned i = 0; i < lanes; ++i) lanes_.push_back(std::make_unique<Lane>(connector, connector_, give_up));
}

// main() stops the lanes while the HTTP thread still drives them, so nothing is in
// flight here; a lane closing with calls would complete them as lost.
Lanes::~Lanes() = default;

void Lanes::drive(std::function<void()> wake) {
  for (auto& lane : lanes_) lane->set_wake(wake);
}

void Lanes::add_poll_fds(std::vector<pollfd>& fds) const {
  for (const auto& lane : lanes_) fds.push_back(lane->poll_fd());
}

void Lanes::on_polled(const pollfd* fds) {
  Clock::time_point now = Clock::now();
  for (size_t i = 0; i < lanes_.size(); ++i) lanes_[i]->on_polled(fds[i], now);
  if (when_full_ == WhenFull::queue) {
    send_queued();
    expire_queued();
  }
}

int Lanes::poll_timeout_ms() const {
  std::lock_guard<std::mutex> lock(queue_mu_);
  if (queue_.empty()) return -1;
  auto left = queue_.front()->sent_at + queue_timeout_ - Clock::now();
  return static_cast<int>(std::max<long long>(0, std::chrono::ceil<std::chrono::milliseconds>(left).count()));
}

bool Lanes::offer(Call& call, Clock::time_point now) {
  // The first lane with room, not the emptiest: calls that share a lane share its
  // backend's wake-ups, which is the point of read lanes; a write finds a warm connection.
  for (auto& lane : lanes_)
    if (lane->offer(&call, depth_, now)) return true;
  return false;
}

bool Lanes::submit(Call& call) {
  // Under queue_mu_ throughout: stop() cannot fall between the check and the send.
  std::lock_guard<std::mutex> lock(queue_mu_);
  if (stopping_) return false;
  Clock::time_point now = Clock::now();
  if (offer(call, now)) return true;
  if (when_full_ == WhenFull::decline || lanes_.empty()) return false;
  call.sent_at = now;
  queue_.push_back(&call);
  return true;
}

void Lanes::send_queued() {
  // Locked, like submit(): a call is always in the queue or on a lane when stop() looks.
  // A call whose send fails is done() inside offer(), which never comes back here.
  std::lock_guard<std::mutex> lock(queue_mu_);
  Clock::time_point now = Clock::now();
  while (!queue_.empty() && offer(*queue_.front(), now)) queue_.pop_front();
}

void Lanes::expire_queued() {
  std::vector<Call*> expired;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    Clock::time_point now = Clock::now();
    while (!queue_.empty() && now - queue_.front()->sent_at >= queue_timeout_) {
      queue_.front()->timed_out = true;
      expired.push_back(queue_.front());
      queue_.pop_front();
    }
  }
  for (Call* c : expired) c->done();
}

void Lanes::stop() {
  // New calls are declined (their callers use the pool); what is queued still goes out.
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  // The HTTP thread completes what is in flight: answers, the statement timeout, or
  // giving up on a silent connection end every call.
  while (in_flight() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  connector_.stop();  // a failed connect may still be completing its calls
}

size_t Lanes::in_flight() const {
  size_t n = queued();
  for (const auto& lane : lanes_) n += lane->load();
  return n;
}

size_t Lanes::queued() const {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return queue_.size();
}

size_t Lanes::connected() const {
  size_t n = 0;
  for (const auto& lane : lanes_) n += lane->connected();
  return n;
}

void Lanes::cancel_in_flight() {
  for (auto& lane : lanes_) lane->cancel();
}

}  // namespace sk::shim
