#include "invoke.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>

#include "config.hpp"
#include "log.hpp"
#include "pool.hpp"
#include "lanes.hpp"
#include "text.hpp"
#include "workers.hpp"

namespace sk::shim {
namespace {

constexpr const char* kStatement = "sk_invoke";
constexpr const char* kSql =
    "SELECT status, content_type, body, replayed FROM sk.invoke($1, $2, $3, $4, $5, $6, $7)";
constexpr Oid kTextOid = 25;

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

const char* param(const std::optional<std::string>& v) { return v ? v->c_str() : nullptr; }

Response unavailable(const std::string& request_id) {
  Response r = problem(503, "service_unavailable", "The service is temporarily unavailable. Retry the request later.",
                       request_id);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

bool connection_lost(const char* sqlstate) {
  // Every error the server sends carries a SQLSTATE; none (null or empty) means libpq
  // itself failed (socket closed, out of memory), which can leave PQstatus still
  // CONNECTION_OK. 08: connection exception; 57P01-57P03: the server is shutting down or
  // starting up.
  std::string_view s = sqlstate ? sqlstate : "";
  return s.empty() || s.rfind("08", 0) == 0 || s == "57P01" || s == "57P02" || s == "57P03";
}

// One execution of the sk.invoke statement, on whichever connection ran it.
struct Attempt {
  Result result{nullptr, &PQclear};
  std::string error;           // libpq's message when there is no result
  bool no_connection = false;  // nothing was sent (logged already): 503
  bool lost = false;           // the connection broke: 503, or one retry
  bool stale = false;          // the prepared statement is stale: 500, or one retry

  bool succeeded() const { return result && PQresultStatus(result.get()) == PGRES_TUPLES_OK; }
  const char* sqlstate() const { return result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr; }
};

void log_connect_failure(const Request& req, const std::string& error) {
  log_event("error", "database connection failed", {{"request_id", req.request_id}, {"error", error}});
}

void log_no_connection(const Request& req) {
  log_event("warn", "no database connection free within the request timeout", {{"request_id", req.request_id}});
}

// The wait for a connection counts from the request's arrival: time spent queued for a
// worker is part of it.
Attempt on_pool(const char* const* values, const Request& req, Services& s) {
  Attempt a;
  Pool::Failure failure = Pool::Failure::none;
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - req.received);
  auto wait = std::max(std::chrono::milliseconds(0), std::chrono::milliseconds(s.config.request_timeout_ms) - waited);
  Pool::Lease lease = s.pool.acquire(wait, &failure, &a.error);
  if (!lease) {
    if (failure == Pool::Failure::connect) log_connect_failure(req, a.error);
    else log_no_connection(req);
    a.no_connection = true;
    return a;
  }
  a.result.reset(PQexecPrepared(lease.conn(), kStatement, 7, values, nullptr, nullptr, 0));
  if (a.succeeded()) return a;
  if (!a.result) a.error = PQerrorMessage(lease.conn());
  a.lost = PQstatus(lease.conn()) != CONNECTION_OK || connection_lost(a.sqlstate());
  a.stale = statement_stale(a.sqlstate());
  if (a.lost) lease.discard(/*server_lost=*/true);
  else if (a.stale) lease.discard();
  return a;
}

Response answer(const Attempt& a, const Request& req, bool may_retry, bool* retry) {
  if (a.no_connection) return unavailable(req.request_id);
  if (a.succeeded()) {
    const PGresult* r = a.result.get();
    if (PQntuples(r) != 1 || PQnfields(r) != 4 || PQgetisnull(r, 0, 0)) {
      log_event("error", "sk.invoke returned an unexpected result",
                {{"request_id", req.request_id}, {"rows", PQntuples(r)}});
      return internal_error(req.request_id);
    }
    Response out;
    out.status = std::atoi(PQgetvalue(r, 0, 0));
    if (out.status < 100 || out.status > 599) {
      log_event("error", "sk.invoke returned an invalid status", {{"request_id", req.request_id}, {"status", out.status}});
      return internal_error(req.request_id);
    }
    if (!PQgetisnull(r, 0, 1)) out.content_type = PQgetvalue(r, 0, 1);
    if (!PQgetisnull(r, 0, 2)) out.body.assign(PQgetvalue(r, 0, 2), static_cast<size_t>(PQgetlength(r, 0, 2)));
    out.replayed = !PQgetisnull(r, 0, 3) && PQgetvalue(r, 0, 3)[0] == 't';
    return out;
  }

  const char* state = a.sqlstate();
  std::string sqlstate = state ? state : "";
  std::string message = a.result ? PQresultErrorMessage(a.result.get()) : a.error;
  while (!message.empty() && message.back() == '\n') message.pop_back();
  ordered_json fields = {{"request_id", req.request_id}, {"sqlstate", sqlstate}, {"error", message}};

  if (a.lost) {
    log_event("error", "database connection lost", fields);
    *retry = may_retry;
    return unavailable(req.request_id);
  }
  if (a.stale) {  // e.g. the extension was upgraded under the connection
    log_event("warn", "the prepared sk.invoke statement was stale", fields);
    *retry = may_retry;
    return internal_error(req.request_id);
  }
  if (sqlstate == "57014") {
    log_event("warn", "sk.invoke cancelled by statement_timeout", fields);
    return problem(503, "request_timeout",
                   "The request took longer than the service allows and was cancelled. Retry the request later.",
                   req.request_id);
  }
  log_event("error", "sk.invoke failed", fields);
  return internal_error(req.request_id);
}

// One request's sk.invoke() call. It owns the texts its parameters point into, and
// travels from the HTTP thread to a lane or a worker, which answers it.
struct Invocation final : Lanes::Call {
  Invocation(Request&& r, Services& s, Respond respond)
      : req(std::move(r)), services(s), respond(std::move(respond)) {
    authorization = req.header("Authorization");
    idempotency_key = req.header("Idempotency-Key");
    params[0] = req.method.c_str();
    params[1] = req.path.c_str();
    params[2] = param(req.query);
    params[3] = param(authorization);
    params[4] = param(idempotency_key);
    params[5] = req.request_id.c_str();
    params[6] = param(req.body);
    statement = kStatement;
    n_params = 7;
    values = params;
  }

  // The lane's outcome: on the HTTP thread, or on the lanes' connector when no
  // connection could be opened.
  void done() override;

  Request req;
  std::optional<std::string> authorization;
  std::optional<std::string> idempotency_key;
  const char* params[7];
  Services& services;
  Respond respond;
};

// Runs on a worker: on a pooled connection, and once more on a fresh one if it was lost.
// A pooled connection can be stale after PostgreSQL restarted. Running again is safe for
// every request: reads have no effect, and every mutation carries an Idempotency-Key,
// so a second run replays.
void on_worker(std::unique_ptr<Invocation> owned, bool may_retry) {
  std::shared_ptr<Invocation> inv(std::move(owned));  // a Workers::Task is copyable
  Workers& workers = inv->services.workers;
  bool posted = workers.post([inv, may_retry] {
    Response out;
    try {
      for (bool first = true;; first = false) {
        bool retry = false;
        out = answer(on_pool(inv->values, inv->req, inv->services), inv->req, may_retry && first, &retry);
        if (!retry) break;
      }
    } catch (const std::exception& e) {
      log_event("error", "sk.invoke failed", {{"request_id", inv->req.request_id}, {"error", e.what()}});
      out = internal_error(inv->req.request_id);
    }
    inv->respond(std::move(out));
  });
  if (!posted) inv->respond(unavailable(inv->req.request_id));  // the shim is stopping
}

// Texts PostgreSQL would refuse are answered here, before a database call.
std::optional<Response> invalid_text(const Invocation& inv) {
  const Request& req = inv.req;
  // Such a body cannot be JSON (RFC 8259 requires UTF-8 and escaped control
  // characters), so it gets the code the extension uses for any unparsable body.
  if (req.body && !valid_text(*req.body))
    return problem(400, "body_invalid_json", "The request body is not valid JSON: it must be UTF-8 text.",
                   req.request_id);
  if (!valid_text(req.path))
    return problem(400, "invalid_encoding", "The request path must be UTF-8 text without NUL characters.",
                   req.request_id);
  const std::pair<const char*, const std::optional<std::string>*> texts[] = {
      {"The query string", &req.query},
      {"The Authorization header", &inv.authorization},
      {"The Idempotency-Key header", &inv.idempotency_key}};
  for (const auto& [what, value] : texts)
    if (*value && !valid_text(**value))
      return problem(400, "invalid_encoding", std::string(what) + " must be UTF-8 text without NUL characters.",
                     req.request_id);
  return std::nullopt;
}

void Invocation::done() {
  std::unique_ptr<Invocation> self(this);
  Response out;
  bool retry = false;
  try {
    Attempt a;
    a.result.reset(result);
    result = nullptr;
    a.error = error;
    if (connect_failed) {
      log_connect_failure(req, a.error);
      a.no_connection = true;
    } else if (timed_out) {
      log_no_connection(req);
      a.no_connection = true;
    } else if (!a.succeeded()) {
      a.lost = lost || connection_lost(a.sqlstate());
      a.stale = statement_stale(a.sqlstate());
    }
    out = answer(a, req, /*may_retry=*/true, &retry);
  } catch (const std::exception& e) {
    log_event("error", "sk.invoke failed", {{"request_id", req.request_id}, {"error", e.what()}});
    out = internal_error(req.request_id);
    retry = false;
  }
  if (!retry) return respond(std::move(out));
  Respond answer_once = respond;  // the Invocation may be gone if on_worker throws
  std::string request_id = req.request_id;
  try {
    on_worker(std::move(self), /*may_retry=*/false);
  } catch (const std::exception& e) {
    log_event("error", "sk.invoke retry failed", {{"request_id", request_id}, {"error", e.what()}});
    answer_once(internal_error(request_id));
  }
}

}  // namespace

bool prepare_invoke(PGconn* conn, std::string* error) {
  const Oid types[7] = {kTextOid, kTextOid, kTextOid, kTextOid, kTextOid, kTextOid, kTextOid};
  Result r(PQprepare(conn, kStatement, kSql, 7, types), &PQclear);
  if (r && PQresultStatus(r.get()) == PGRES_COMMAND_OK) return true;
  if (error) *error = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn);
  return false;
}

void invoke(Request&& req, Services& s, Respond respond) {
  auto inv = std::make_unique<Invocation>(std::move(req), s, std::move(respond));
  if (auto refusal = invalid_text(*inv)) return inv->respond(std::move(*refusal));
  bool read = inv->req.method == "GET" || inv->req.method == "HEAD";
  // Once submitted, the call is done()'s to delete, maybe before submit() returns.
  Invocation* call = inv.release();
  if ((read ? s.read_lanes : s.write_lanes).submit(*call)) return;
  inv.reset(call);
  on_worker(std::move(inv), /*may_retry=*/true);
}

}  // namespace sk::shim
