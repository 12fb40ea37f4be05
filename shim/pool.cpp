#include "pool.hpp"

#include <cstring>
#include <memory>
#include <stdexcept>

#include "log.hpp"

namespace sk::shim {

Pool::Pool(const std::string& conninfo, unsigned size, unsigned statement_timeout_ms, Setup setup)
    : setup_(std::move(setup)), slots_(size) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    // libpq's message quotes the offending text, which may hold a password: not logged.
    PQfreemem(err);
    throw std::runtime_error("SK_DATABASE_URL is not a valid libpq connection string or URI");
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> guard(opts, &PQconninfoFree);
  std::string options, application_name, connect_timeout;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    std::string k = o->keyword;
    if (k == "options") options = o->val;
    else if (k == "application_name") application_name = o->val;
    else if (k == "connect_timeout") connect_timeout = o->val;
    else { keywords_.push_back(k); values_.push_back(o->val); }
  }
  // statement_timeout travels in the startup packet, so every connection has it from
  // the first statement on and no extra round trip is needed.
  if (!options.empty()) options += ' ';
  options += "-c statement_timeout=" + std::to_string(statement_timeout_ms);
  keywords_.push_back("options");
  values_.push_back(options);
  keywords_.push_back("application_name");
  values_.push_back(application_name.empty() ? "sk-shim" : application_name);
  // Without a bound, an unreachable host would hold a worker for minutes.
  keywords_.push_back("connect_timeout");
  values_.push_back(connect_timeout.empty() ? "5" : connect_timeout);

  free_.reserve(size);
  for (size_t i = size; i-- > 0;) free_.push_back(i);
}

Pool::~Pool() { close(); }

void Pool::on_notice(void*, const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && m.back() == '\n') m.pop_back();
  log_event("warn", "database notice", {{"notice", m}});
}

Pool::Lease::~Lease() {
  if (pool_) pool_->release(slot_);
}

PGconn* Pool::Lease::conn() const { return pool_ ? pool_->slots_[slot_].conn : nullptr; }

void Pool::Lease::discard(bool server_lost) {
  if (!pool_) return;
  if (server_lost) {
    std::lock_guard<std::mutex> lock(pool_->mu_);
    ++pool_->generation_;
  }
  pool_->disconnect(slot_);
}

PGconn* Pool::open(std::string* error) {
  std::vector<const char*> k, v;
  for (size_t i = 0; i < keywords_.size(); ++i) {
    k.push_back(keywords_[i].c_str());
    v.push_back(values_[i].c_str());
  }
  k.push_back(nullptr);
  v.push_back(nullptr);
  PGconn* c = PQconnectdbParams(k.data(), v.data(), 0);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    if (error) *error = c ? PQerrorMessage(c) : "out of memory";
    PQfinish(c);
    return nullptr;
  }
  // libpq prints server notices (e.g. "terminating connection due to administrator
  // command") on stderr by default, which would break the one-JSON-object-per-line log.
  PQsetNoticeProcessor(c, &Pool::on_notice, nullptr);
  if (setup_ && !setup_(c, error)) {
    PQfinish(c);
    return nullptr;
  }
  return c;
}

bool Pool::connect(size_t slot, std::string* error) {
  PGconn* c = open(error);
  if (!c) return false;
  PGcancel* cancel = PQgetCancel(c);
  std::lock_guard<std::mutex> lock(mu_);
  slots_[slot].conn = c;
  slots_[slot].cancel = cancel;
  slots_[slot].generation = generation_;
  return true;
}

void Pool::disconnect(size_t slot) {
  PGconn* c;
  PGcancel* cancel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c = slots_[slot].conn;
    cancel = slots_[slot].cancel;
    slots_[slot].conn = nullptr;
    slots_[slot].cancel = nullptr;
  }
  if (cancel) PQfreeCancel(cancel);
  if (c) PQfinish(c);
}

void Pool::release(size_t slot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    slots_[slot].leased = false;
    free_.push_back(slot);
    --in_use_;
  }
  cv_.notify_one();
}

Pool::Lease Pool::acquire(std::chrono::milliseconds wait, Failure* failure, std::string* error) {
  size_t slot;
  bool stale;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, wait, [this] { return closed_ || !free_.empty(); }) || closed_) {
      if (failure) *failure = Failure::timeout;
      return {};
    }
    slot = free_.back();
    free_.pop_back();
    slots_[slot].leased = true;
    stale = slots_[slot].generation != generation_;
    ++in_use_;
  }
  Lease lease(this, slot);
  // Only the lease holder touches a slot's connection, so connecting runs unlocked and
  // a slow connect never blocks other checkouts.
  PGconn* c = slots_[slot].conn;
  if (c && (stale || PQstatus(c) != CONNECTION_OK)) {
    lease.discard();
    c = nullptr;
  }
  if (!c && !connect(slot, error)) {
    if (failure) *failure = Failure::connect;
    return {};
  }
  if (failure) *failure = Failure::none;
  return lease;
}

size_t Pool::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

size_t Pool::connected() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& s : slots_) n += s.conn != nullptr;
  return n;
}

void Pool::cancel_in_use() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& s : slots_) {
    if (!s.leased || !s.cancel) continue;
    char err[256];
    PQcancel(s.cancel, err, sizeof err);
  }
}

void Pool::close() {
  std::vector<size_t> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    for (size_t i = 0; i < slots_.size(); ++i)
      if (!slots_[i].leased) idle.push_back(i);
  }
  cv_.notify_all();
  for (size_t i : idle) disconnect(i);
}

bool statement_stale(const char* sqlstate) {
  return sqlstate && (std::strcmp(sqlstate, "26000") == 0 || std::strcmp(sqlstate, "0A000") == 0);
}

}  // namespace sk::shim
