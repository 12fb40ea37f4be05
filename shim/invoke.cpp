#include "invoke.hpp"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "config.hpp"
#include "log.hpp"
#include "pool.hpp"
#include "read_lanes.hpp"
#include "text.hpp"

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

Response internal(const std::string& request_id) {
  return problem(500, "internal_error",
                 "An internal error occurred. Quote the request_id when you contact support.", request_id);
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

  bool succeeded() const { return result && PQresultStatus(result.get()) == PGRES_TUPLES_OK; }
  const char* sqlstate() const { return result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr; }
};

void log_connect_failure(const Request& req, const std::string& error) {
  log_event("error", "database connection failed", {{"request_id", req.request_id}, {"error", error}});
}

Attempt on_pool(const char* const* values, const Request& req, Services& s) {
  Attempt a;
  Pool::Failure failure = Pool::Failure::none;
  Pool::Lease lease = s.pool.acquire(std::chrono::milliseconds(s.config.request_timeout_ms), &failure, &a.error);
  if (!lease) {
    if (failure == Pool::Failure::connect) log_connect_failure(req, a.error);
    else log_event("warn", "no database connection free within the request timeout", {{"request_id", req.request_id}});
    a.no_connection = true;
    return a;
  }
  a.result.reset(PQexecPrepared(lease.conn(), kStatement, 7, values, nullptr, nullptr, 0));
  if (a.succeeded()) return a;
  if (!a.result) a.error = PQerrorMessage(lease.conn());
  a.lost = PQstatus(lease.conn()) != CONNECTION_OK || connection_lost(a.sqlstate());
  if (a.lost) lease.discard(/*server_lost=*/true);
  else if (statement_stale(a.sqlstate())) lease.discard();
  return a;
}

// Reads share the pipelined read lanes; when every lane is full or stalled, a pooled
// connection of their own.
Attempt on_read_lane(const char* const* values, const Request& req, Services& s) {
  ReadLanes::Call call;
  call.statement = kStatement;
  call.n_params = 7;
  call.values = values;
  if (!s.read_lanes.run(call)) return on_pool(values, req, s);
  Attempt a;
  a.result.reset(call.result);
  a.error = call.error;
  if (call.connect_failed) {
    log_connect_failure(req, a.error);
    a.no_connection = true;
  } else if (!a.succeeded()) {
    a.lost = call.lost || connection_lost(a.sqlstate());
  }
  return a;
}

Response answer(const Attempt& a, const Request& req, bool may_retry, bool* retry) {
  if (a.no_connection) return unavailable(req.request_id);
  if (a.succeeded()) {
    const PGresult* r = a.result.get();
    if (PQntuples(r) != 1 || PQnfields(r) != 4 || PQgetisnull(r, 0, 0)) {
      log_event("error", "sk.invoke returned an unexpected result",
                {{"request_id", req.request_id}, {"rows", PQntuples(r)}});
      return internal(req.request_id);
    }
    Response out;
    out.status = std::atoi(PQgetvalue(r, 0, 0));
    if (out.status < 100 || out.status > 599) {
      log_event("error", "sk.invoke returned an invalid status", {{"request_id", req.request_id}, {"status", out.status}});
      return internal(req.request_id);
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
  if (sqlstate == "57014") {
    log_event("warn", "sk.invoke cancelled by statement_timeout", fields);
    return problem(503, "request_timeout",
                   "The request took longer than the service allows and was cancelled. Retry the request later.",
                   req.request_id);
  }
  log_event("error", "sk.invoke failed", fields);
  return internal(req.request_id);
}

Response invoke_once(const Request& req, const std::optional<std::string>& authorization,
                     const std::optional<std::string>& idempotency_key, Services& s, bool may_retry, bool* retry) {
  const char* values[7] = {req.method.c_str(), req.path.c_str(), param(req.query),          param(authorization),
                           param(idempotency_key), req.request_id.c_str(), param(req.body)};
  bool read = req.method == "GET" || req.method == "HEAD";
  return answer(read ? on_read_lane(values, req, s) : on_pool(values, req, s), req, may_retry, retry);
}

}  // namespace

bool prepare_invoke(PGconn* conn, std::string* error) {
  const Oid types[7] = {kTextOid, kTextOid, kTextOid, kTextOid, kTextOid, kTextOid, kTextOid};
  Result r(PQprepare(conn, kStatement, kSql, 7, types), &PQclear);
  if (r && PQresultStatus(r.get()) == PGRES_COMMAND_OK) return true;
  if (error) *error = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn);
  return false;
}

Response invoke(const Request& req, Services& s) {
  std::optional<std::string> authorization = req.header("Authorization");
  std::optional<std::string> idempotency_key = req.header("Idempotency-Key");
  // Such a body cannot be JSON (RFC 8259 requires UTF-8 and escaped control
  // characters), so it gets the code the extension uses for any unparsable body.
  if (req.body && !valid_text(*req.body))
    return problem(400, "body_invalid_json", "The request body is not valid JSON: it must be UTF-8 text.",
                   req.request_id);
  const std::pair<const char*, const std::optional<std::string>*> texts[] = {
      {"The query string", &req.query},
      {"The Authorization header", &authorization},
      {"The Idempotency-Key header", &idempotency_key}};
  if (!valid_text(req.path))
    return problem(400, "invalid_encoding", "The request path must be UTF-8 text without NUL characters.",
                   req.request_id);
  for (const auto& [what, value] : texts)
    if (*value && !valid_text(**value))
      return problem(400, "invalid_encoding", std::string(what) + " must be UTF-8 text without NUL characters.",
                     req.request_id);

  // A pooled connection can be stale after PostgreSQL restarted: then the request runs
  // once more on a fresh connection. That is safe for every request: reads have no
  // effect, and every mutation carries an Idempotency-Key, so a second run replays.
  for (int attempt = 0;; ++attempt) {
    bool retry = false;
    Response out = invoke_once(req, authorization, idempotency_key, s, attempt == 0, &retry);
    if (!retry) return out;
  }
}


}  // namespace sk::shim
