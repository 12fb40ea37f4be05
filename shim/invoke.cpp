#include "invoke.hpp"

#include <chrono>
#include <cstdlib>
#include <memory>

#include "config.hpp"
#include "log.hpp"
#include "pool.hpp"
#include "text.hpp"

namespace sk::shim {
namespace {

constexpr const char* kStatement = "sk_invoke";
constexpr const char* kSql =
    "SELECT status, content_type, body, replayed FROM sk.invoke($1, $2, $3, $4, $5, $6, $7)";
constexpr Oid kTextOid = 25;

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

// Maps what the pool reports to the client's answer; never returns SQL or server
// error text.
Response answer(Pool::Outcome&& o, const std::string& request_id) {
  switch (o.failure) {
    case Pool::Failure::timeout:
      log_event("warn", "no database connection free within the request timeout", {{"request_id", request_id}});
      return unavailable(request_id);
    case Pool::Failure::connect:  // logged by the pool
    case Pool::Failure::lost:
      return unavailable(request_id);
    case Pool::Failure::none:
      break;
  }
  const PGresult* r = o.result.get();
  if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    if (PQntuples(r) != 1 || PQnfields(r) != 4 || PQgetisnull(r, 0, 0)) {
      log_event("error", "sk.invoke returned an unexpected result", {{"request_id", request_id}, {"rows", PQntuples(r)}});
      return internal(request_id);
    }
    Response out;
    out.status = std::atoi(PQgetvalue(r, 0, 0));
    if (out.status < 100 || out.status > 599) {
      log_event("error", "sk.invoke returned an invalid status", {{"request_id", request_id}, {"status", out.status}});
      return internal(request_id);
    }
    if (!PQgetisnull(r, 0, 1)) out.content_type = PQgetvalue(r, 0, 1);
    if (!PQgetisnull(r, 0, 2)) out.body.assign(PQgetvalue(r, 0, 2), static_cast<size_t>(PQgetlength(r, 0, 2)));
    out.replayed = !PQgetisnull(r, 0, 3) && PQgetvalue(r, 0, 3)[0] == 't';
    return out;
  }

  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  std::string sqlstate = state ? state : "";
  std::string message = PQresultErrorMessage(r);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  ordered_json fields = {{"request_id", request_id}, {"sqlstate", sqlstate}, {"error", message}};
  if (sqlstate == "57014") {
    log_event("warn", "sk.invoke cancelled by statement_timeout", fields);
    return problem(503, "request_timeout",
                   "The request took longer than the service allows and was cancelled. Retry the request later.",
                   request_id);
  }
  log_event("error", "sk.invoke failed", fields);
  return internal(request_id);
}

}  // namespace

bool prepare_invoke(PGconn* conn, std::string* error) {
  const Oid types[7] = {kTextOid, kTextOid, kTextOid, kTextOid, kTextOid, kTextOid, kTextOid};
  PgResult r(PQprepare(conn, kStatement, kSql, 7, types), &PQclear);
  if (r && PQresultStatus(r.get()) == PGRES_COMMAND_OK) return true;
  if (error) *error = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn);
  return false;
}

void invoke(Request& req, Services& s, Respond respond) {
  std::optional<std::string> authorization = req.header("Authorization");
  std::optional<std::string> idempotency_key = req.header("Idempotency-Key");
  // Such a body cannot be JSON (RFC 8259 requires UTF-8 and escaped control
  // characters), so it gets the code the extension uses for any unparsable body.
  if (req.body && !valid_text(*req.body))
    return respond(problem(400, "body_invalid_json", "The request body is not valid JSON: it must be UTF-8 text.",
                           req.request_id));
  const std::pair<const char*, const std::optional<std::string>*> texts[] = {
      {"The query string", &req.query},
      {"The Authorization header", &authorization},
      {"The Idempotency-Key header", &idempotency_key}};
  if (!valid_text(req.path))
    return respond(problem(400, "invalid_encoding", "The request path must be UTF-8 text without NUL characters.",
                           req.request_id));
  for (const auto& [what, value] : texts)
    if (*value && !valid_text(**value))
      return respond(problem(400, "invalid_encoding",
                             std::string(what) + " must be UTF-8 text without NUL characters.", req.request_id));

  Pool::Query q;
  q.label = req.request_id;
  q.statement = kStatement;
  q.params = {req.method, req.path, std::move(req.query), std::move(authorization), std::move(idempotency_key),
              req.request_id, std::move(req.body)};
  q.wait = std::chrono::milliseconds(s.config.request_timeout_ms);
  // A pooled connection can be stale after PostgreSQL restarted: then the request runs
  // once more on a fresh connection. That is safe for every request: reads have no
  // effect, and every mutation carries an Idempotency-Key, so a second run replays.
  q.retry_if_lost = true;
  s.pool.submit(std::move(q), [id = req.request_id, respond = std::move(respond)](Pool::Outcome&& o) {
    respond(answer(std::move(o), id));
  });
}

}  // namespace sk::shim
