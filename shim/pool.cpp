#include "pool.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "log.hpp"

namespace sk::shim {
namespace {

using Clock = std::chrono::steady_clock;

// epoll data for the wake-up eventfd; connection sockets carry their slot index.
constexpr uint64_t kWakeTag = ~uint64_t{0};

bool connection_lost(const std::string& sqlstate) {
  // Every error the server sends carries a SQLSTATE; none means libpq itself failed
  // (socket closed, out of memory), which can leave PQstatus still CONNECTION_OK.
  // 08: connection exception; 57P01-57P03: the server is shutting down or starting up.
  return sqlstate.empty() || sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

bool is_error(const PGresult* r) {
  ExecStatusType s = PQresultStatus(r);
  return s == PGRES_FATAL_ERROR || s == PGRES_BAD_RESPONSE || s == PGRES_NONFATAL_ERROR;
}

std::string sqlstate_of(const PGresult* r) {
  const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s ? s : "";
}

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

struct Pool::Impl {
  struct Job {
    Query query;
    Done done;
    Clock::time_point deadline;
    bool retried = false;
  };

  enum class State { empty, connecting, idle, busy };
  struct Slot {
    State state = State::empty;
    PGconn* conn = nullptr;
    PGcancel* cancel = nullptr;
    unsigned long generation = 0;  // value of generation_ when connected
    bool writing = false;          // output is queued in libpq: also waiting for EPOLLOUT
    std::optional<Job> job;        // set while busy
    PgResult result{nullptr, &PQclear};
  };

  // A connection opened by the connector thread for `slot`, or why it could not be.
  struct Opened {
    size_t slot;
    PGconn* conn;
    std::string error;
  };

  Pool& owner;
  Setup setup;
  std::vector<std::string> keywords, values;
  int epoll_fd = -1;
  int wake_fd = -1;

  // Loop-thread state.
  std::vector<Slot> slots;
  std::deque<Job> pending;
  unsigned long generation = 0;  // bumped when the server is presumed gone

  // Shared with the submitting, connector and main threads.
  std::mutex mu;
  std::deque<Job> incoming;
  std::vector<Opened> opened;
  bool sleeping = false;  // the loop is (about to be) in epoll_wait: submit must wake it
  bool closed = false;
  bool cancel_requested = false;

  std::mutex connect_mu;
  std::condition_variable connect_cv;
  std::deque<size_t> to_connect;
  bool connector_stop = false;

  std::thread loop_thread, connector_thread;

  Impl(Pool& p, Setup s) : owner(p), setup(std::move(s)) {}

  static void on_notice(void*, const char* message) {
    log_event("warn", "database notice", {{"notice", trimmed(message ? message : "")}});
  }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  // ---- connector thread: the only place libpq blocks --------------------------------

  PGconn* open(std::string* error) {
    std::vector<const char*> k, v;
    for (size_t i = 0; i < keywords.size(); ++i) {
      k.push_back(keywords[i].c_str());
      v.push_back(values[i].c_str());
    }
    k.push_back(nullptr);
    v.push_back(nullptr);
    PGconn* c = PQconnectdbParams(k.data(), v.data(), 0);
    if (!c || PQstatus(c) != CONNECTION_OK) {
      *error = c ? PQerrorMessage(c) : "out of memory";
      PQfinish(c);
      return nullptr;
    }
    // libpq prints server notices (e.g. "terminating connection due to administrator
    // command") on stderr by default, which would break the one-JSON-object-per-line log.
    PQsetNoticeProcessor(c, &Impl::on_notice, nullptr);
    if ((setup && !setup(c, error)) || PQsetnonblocking(c, 1) != 0) {
      if (error->empty()) *error = PQerrorMessage(c);
      PQfinish(c);
      return nullptr;
    }
    return c;
  }

  void connector() {
    for (;;) {
      size_t slot;
      {
        std::unique_lock<std::mutex> lock(connect_mu);
        connect_cv.wait(lock, [this] { return connector_stop || !to_connect.empty(); });
        if (connector_stop) return;
        slot = to_connect.front();
        to_connect.pop_front();
      }
      std::string error;
      PGconn* c = open(&error);
      {
        std::lock_guard<std::mutex> lock(mu);
        opened.push_back({slot, c, trimmed(error)});
      }
      wake();
    }
  }

  // ---- loop thread ------------------------------------------------------------------

  void loop() {
    std::vector<epoll_event> events(64);
    for (;;) {
      int timeout_ms = 0;
      bool cancel = false, slept = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (closed) break;
        bool work = !incoming.empty() || !opened.empty();
        take_shared_work();
        // With nothing new, sleep until a socket, a submit or the first deadline; after
        // new work, only look at the sockets that are ready already.
        if (!work) {
          sleeping = slept = true;
          timeout_ms = next_timeout_ms();
        }
        std::swap(cancel, cancel_requested);
      }
      if (cancel) cancel_busy();
      schedule();
      int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (slept) {
        std::lock_guard<std::mutex> lock(mu);
        sleeping = false;
      }
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kWakeTag) {
          uint64_t count;
          [[maybe_unused]] ssize_t r = ::read(wake_fd, &count, sizeof count);
          continue;
        }
        on_socket(events[i].data.u64, events[i].events);
      }
      expire_pending();
    }
    shut_down();
  }

  // Called under `mu`: moves submitted jobs and opened connections to the loop's side.
  void take_shared_work() {
    while (!incoming.empty()) {
      pending.push_back(std::move(incoming.front()));
      incoming.pop_front();
    }
    for (Opened& o : opened) adopt(o);
    opened.clear();
  }

  int next_timeout_ms() const {
    if (pending.empty()) return -1;
    auto first = std::min_element(pending.begin(), pending.end(),
                                  [](const Job& a, const Job& b) { return a.deadline < b.deadline; })->deadline;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(first - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 60000));
  }

  void adopt(Opened& o) {
    Slot& s = slots[o.slot];
    if (!o.conn) {
      s.state = State::empty;
      // The query that asked for this connection fails now, as it would have had it
      // connected itself; with PostgreSQL down every waiting request fails fast this way.
      if (!pending.empty()) {
        Job job = std::move(pending.front());
        pending.pop_front();
        log_event("error", "database connection failed", {{"request_id", job.query.label}, {"error", o.error}});
        complete(job, Failure::connect, PgResult(nullptr, &PQclear), o.error);
      }
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = o.slot;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, PQsocket(o.conn), &ev) != 0) {
      PQfinish(o.conn);
      s.state = State::empty;
      return;
    }
    s.conn = o.conn;
    s.cancel = PQgetCancel(o.conn);
    s.generation = generation;
    s.state = State::idle;
    ++owner.connected_;
  }

  void disconnect(Slot& s) {
    if (s.conn) {
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, PQsocket(s.conn), nullptr);
      PQfinish(s.conn);
      --owner.connected_;
    }
    if (s.cancel) PQfreeCancel(s.cancel);
    if (s.state == State::busy) --owner.in_use_;
    s.conn = nullptr;
    s.cancel = nullptr;
    s.writing = false;
    s.result.reset();
    s.state = State::empty;
  }

  // Starts pending jobs on idle connections and asks for connections when short.
  void schedule() {
    size_t next = 0;
    while (!pending.empty()) {
      while (next < slots.size() && slots[next].state != State::idle) ++next;
      if (next == slots.size()) break;
      Slot& s = slots[next];
      if (s.generation != generation) {  // opened before the server went away
        disconnect(s);
        continue;
      }
      Job job = std::move(pending.front());
      pending.pop_front();
      start(next, std::move(job));
    }
    size_t connecting = 0;
    for (const Slot& s : slots) connecting += s.state == State::connecting;
    if (pending.size() <= connecting) return;
    size_t wanted = pending.size() - connecting;
    std::lock_guard<std::mutex> lock(connect_mu);
    for (size_t i = 0; i < slots.size() && wanted > 0; ++i) {
      if (slots[i].state != State::empty) continue;
      slots[i].state = State::connecting;
      to_connect.push_back(i);
      --wanted;
    }
    connect_cv.notify_one();
  }

  void start(size_t index, Job job) {
    Slot& s = slots[index];
    const Query& q = job.query;
    std::vector<const char*> params(q.params.size());
    for (size_t i = 0; i < params.size(); ++i) params[i] = q.params[i] ? q.params[i]->c_str() : nullptr;
    int sent = q.statement ? PQsendQueryPrepared(s.conn, q.statement, static_cast<int>(params.size()),
                                                 params.data(), nullptr, nullptr, 0)
                           : PQsendQuery(s.conn, q.sql.c_str());
    s.job = std::move(job);
    s.state = State::busy;
    ++owner.in_use_;
    if (!sent) {
      connection_died(index, PQerrorMessage(s.conn), "");
      return;
    }
    flush(index);
  }

  void watch(size_t index, bool writable) {
    Slot& s = slots[index];
    if (s.writing == writable) return;
    s.writing = writable;
    epoll_event ev{};
    ev.events = EPOLLIN | (writable ? EPOLLOUT : 0u);
    ev.data.u64 = index;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, PQsocket(s.conn), &ev);
  }

  void flush(size_t index) {
    Slot& s = slots[index];
    int f = PQflush(s.conn);
    if (f < 0) {
      connection_died(index, PQerrorMessage(s.conn), "");
      return;
    }
    watch(index, f == 1);
  }

  void on_socket(uint64_t index, uint32_t events) {
    if (index >= slots.size()) return;
    Slot& s = slots[index];
    if (!s.conn) return;
    if (!PQconsumeInput(s.conn)) {
      if (s.state == State::busy) connection_died(index, PQerrorMessage(s.conn), "");
      else disconnect(s);  // an idle connection closed by the server
      return;
    }
    if (s.state != State::busy) {
      if (PQstatus(s.conn) != CONNECTION_OK) disconnect(s);
      return;
    }
    if (s.writing || (events & EPOLLOUT)) {
      flush(index);
      if (s.state != State::busy) return;
    }
    while (!PQisBusy(s.conn)) {
      PGresult* r = PQgetResult(s.conn);
      if (!r) {
        finish(index);
        return;
      }
      // Keep the first error, else the last result (a script's final statement).
      if (!s.result || !is_error(s.result.get())) s.result.reset(r);
      else PQclear(r);
    }
  }

  void finish(size_t index) {
    Slot& s = slots[index];
    PgResult r = std::move(s.result);
    s.result.reset();
    Job job = std::move(*s.job);
    s.job.reset();
    std::string sqlstate = r && is_error(r.get()) ? sqlstate_of(r.get()) : "";
    if (!r || (is_error(r.get()) && (PQstatus(s.conn) != CONNECTION_OK || connection_lost(sqlstate)))) {
      s.job = std::move(job);
      connection_died(index, r ? PQresultErrorMessage(r.get()) : PQerrorMessage(s.conn), sqlstate);
      return;
    }
    s.state = State::idle;
    --owner.in_use_;
    // A missing or stale prepared statement (26000, 0A000 "cached plan must not change
    // result type" after an upgrade) stays broken on this connection: start it afresh.
    if (sqlstate == "26000" || sqlstate == "0A000") disconnect(s);
    complete(job, Failure::none, std::move(r), "");
  }

  // The server went away (restart, failover): every other connection is presumed dead
  // too and is replaced before its next use, instead of failing one more request each.
  // The query runs once more on a fresh connection if its caller allowed it.
  void connection_died(size_t index, const std::string& message, const std::string& sqlstate) {
    Slot& s = slots[index];
    Job job = std::move(*s.job);
    s.job.reset();
    log_event("error", "database connection lost",
              {{"request_id", job.query.label}, {"sqlstate", sqlstate}, {"error", trimmed(message)}});
    ++generation;
    disconnect(s);
    if (job.query.retry_if_lost && !job.retried) {
      job.retried = true;
      pending.push_front(std::move(job));
      return;
    }
    complete(job, Failure::lost, PgResult(nullptr, &PQclear), trimmed(message));
  }

  void expire_pending() {
    auto now = Clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->deadline > now) {
        ++it;
        continue;
      }
      Job job = std::move(*it);
      it = pending.erase(it);
      complete(job, Failure::timeout, PgResult(nullptr, &PQclear), "");
    }
  }

  void cancel_busy() {
    for (Slot& s : slots) {
      if (s.state != State::busy || !s.cancel) continue;
      char err[256];
      PQcancel(s.cancel, err, sizeof err);
    }
  }

  static void complete(Job& job, Failure failure, PgResult result, const std::string& error) {
    Outcome o;
    o.failure = failure;
    o.result = std::move(result);
    o.error = error;
    try {
      job.done(std::move(o));
    } catch (const std::exception& e) {
      // The callback answers an HTTP request; nothing may unwind out of the loop.
      log_event("error", "database callback failed", {{"request_id", job.query.label}, {"error", e.what()}});
    }
  }

  void shut_down() {
    std::deque<Job> left;
    {
      std::lock_guard<std::mutex> lock(mu);
      left.swap(incoming);
      for (Opened& o : opened) PQfinish(o.conn);
      opened.clear();
    }
    for (Job& job : pending) complete(job, Failure::timeout, PgResult(nullptr, &PQclear), "");
    pending.clear();
    for (Job& job : left) complete(job, Failure::timeout, PgResult(nullptr, &PQclear), "");
    for (Slot& s : slots) {
      if (s.job) {
        Job job = std::move(*s.job);
        s.job.reset();
        complete(job, Failure::lost, PgResult(nullptr, &PQclear), "the service is shutting down");
      }
      disconnect(s);
    }
  }
};

Pool::Pool(const std::string& conninfo, unsigned size, unsigned statement_timeout_ms, Setup setup)
    : impl_(std::make_unique<Impl>(*this, std::move(setup))), size_(size) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    // libpq's message quotes the offending text, which may hold a password: not logged.
    PQfreemem(err);
    throw std::runtime_error("SK_DATABASE_URL is not a valid libpq connection string or URI");
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> guard(opts, &PQconninfoFree);
  std::string options, application_name, connect_timeout;
  auto& keywords = impl_->keywords;
  auto& values = impl_->values;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    std::string k = o->keyword;
    if (k == "options") options = o->val;
    else if (k == "application_name") application_name = o->val;
    else if (k == "connect_timeout") connect_timeout = o->val;
    else { keywords.push_back(k); values.push_back(o->val); }
  }
  // statement_timeout travels in the startup packet, so every connection has it from
  // the first statement on and no extra round trip is needed.
  if (!options.empty()) options += ' ';
  options += "-c statement_timeout=" + std::to_string(statement_timeout_ms);
  keywords.push_back("options");
  values.push_back(options);
  keywords.push_back("application_name");
  values.push_back(application_name.empty() ? "sk-shim" : application_name);
  // Without a bound, an unreachable host would hold the connector for minutes.
  keywords.push_back("connect_timeout");
  values.push_back(connect_timeout.empty() ? "5" : connect_timeout);

  impl_->slots.resize(size);
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (impl_->epoll_fd < 0 || impl_->wake_fd < 0 || epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->wake_fd, &ev) != 0)
    throw std::runtime_error("cannot create the database event loop");
  impl_->loop_thread = std::thread([this] { impl_->loop(); });
  impl_->connector_thread = std::thread([this] { impl_->connector(); });
}

Pool::~Pool() {
  close();
  if (impl_->epoll_fd >= 0) ::close(impl_->epoll_fd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

void Pool::submit(Query query, Done done) {
  Impl::Job job{std::move(query), std::move(done), Clock::now(), false};
  job.deadline += job.query.wait;
  bool queued = false, wake = false;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->closed) {
      impl_->incoming.push_back(std::move(job));
      queued = true;
      // Only a sleeping loop needs the eventfd; a busy one picks the job up on its
      // next turn, which saves a system call per request under load.
      wake = impl_->sleeping;
      impl_->sleeping = false;
    }
  }
  if (!queued) Impl::complete(job, Failure::timeout, PgResult(nullptr, &PQclear), "");
  else if (wake) impl_->wake();
}

void Pool::cancel_in_use() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->cancel_requested = true;
  }
  impl_->wake();
}

void Pool::close() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->closed = true;
  }
  impl_->wake();
  if (impl_->loop_thread.joinable()) impl_->loop_thread.join();
  {
    std::lock_guard<std::mutex> lock(impl_->connect_mu);
    impl_->connector_stop = true;
  }
  impl_->connect_cv.notify_all();
  if (impl_->connector_thread.joinable()) impl_->connector_thread.join();
  // A connection the connector finished after the loop stopped.
  for (auto& o : impl_->opened) PQfinish(o.conn);
  impl_->opened.clear();
}

}  // namespace sk::shim
