#include "routes.hpp"

#include <libpq-fe.h>

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>

#include "config.hpp"
#include "docs.hpp"
#include "invoke.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "pool.hpp"
#include "lanes.hpp"
#include "problem.hpp"
#include "rate_limit.hpp"
#include "workers.hpp"

namespace sk::shim {

std::optional<std::string> Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  return std::nullopt;
}

Response problem(int status, std::string_view code, std::string_view detail, const std::string& request_id) {
  Response r;
  r.status = status;
  r.content_type = kProblemContentType;
  r.body = problem_json(status, code, detail, request_id);
  return r;
}

Response internal_error(const std::string& request_id) {
  return problem(500, "internal_error", "An internal error occurred. Quote the request_id when you contact support.",
                 request_id);
}

namespace {

Response shutting_down(const std::string& request_id) {
  return problem(503, "service_unavailable", "The service is shutting down.", request_id);
}

using Answer = Response (*)(const Request&, Services&);

// A handler that answers at once, on the HTTP thread.
template <Answer answer>
void now(Request&& req, Services& s, Respond respond) {
  respond(answer(req, s));
}

// An operational handler that may wait (for a pooled connection, for the database): it
// answers from a thread of its own, so a stalled API never stalls monitoring.
template <Answer answer>
void blocking(Request&& req, Services& s, Respond respond) {
  std::string request_id = req.request_id;
  bool posted = s.ops.post([req = std::move(req), &s, respond] {
    Response r;
    try {
      r = answer(req, s);
    } catch (const std::exception& e) {
      log_event("error", "route handler failed", {{"request_id", req.request_id}, {"error", e.what()}});
      r = internal_error(req.request_id);
    }
    respond(std::move(r));
  });
  if (!posted) respond(shutting_down(request_id));
}

Response healthz(const Request&, Services&) {
  Response r;
  r.body = R"({"status":"ok"})";
  return r;
}

// Ready means a request could be served now: a pooled connection answers SELECT 1.
// The wait is short so orchestrators probing a saturated shim get an answer quickly.
Response readyz(const Request& req, Services& s) {
  if (s.draining()) return shutting_down(req.request_id);
  auto wait = std::chrono::milliseconds(std::min(s.config.request_timeout_ms, 2000u));
  Pool::Failure failure = Pool::Failure::none;
  std::string error;
  Pool::Lease lease = s.pool.acquire(wait, &failure, &error);
  bool ready = false;
  if (lease) {
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(lease.conn(), "SELECT 1"), &PQclear);
    ready = res && PQresultStatus(res.get()) == PGRES_TUPLES_OK;
    if (!ready) {
      error = res ? PQresultErrorMessage(res.get()) : PQerrorMessage(lease.conn());
      if (PQstatus(lease.conn()) != CONNECTION_OK) lease.discard(/*server_lost=*/true);
    }
  }
  if (ready) {
    Response r;
    r.body = R"({"status":"ready"})";
    return r;
  }
  log_event("warn", "not ready", {{"request_id", req.request_id}, {"error", error}});
  return problem(503, "service_unavailable", "The database is not reachable.", req.request_id);
}

// The webhook gauges come from the database (sk.metrics(), counts across tenants). A
// scrape never fails or stalls for them: with the database down, the pool busy or the
// query slower than a second, they are left out and the shim's own metrics remain.
std::string webhook_gauges(Services& s) {
  constexpr unsigned kTimeoutMs = 1000;
  Pool::Failure failure = Pool::Failure::none;
  std::string error;
  Pool::Lease lease = s.pool.acquire(std::chrono::milliseconds(std::min(s.config.request_timeout_ms, kTimeoutMs)),
                                     &failure, &error);
  if (!lease) return {};
  // One implicit transaction: SET LOCAL bounds this statement only.
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(lease.conn(), "SET LOCAL statement_timeout = 1000; SELECT sk.metrics()"), &PQclear);
  if (res && PQresultStatus(res.get()) == PGRES_TUPLES_OK && PQntuples(res.get()) == 1 && !PQgetisnull(res.get(), 0, 0))
    return render_webhook_metrics(PQgetvalue(res.get(), 0, 0));
  error = res ? PQresultErrorMessage(res.get()) : PQerrorMessage(lease.conn());
  log_event("warn", "webhook metrics unavailable", {{"error", error}});
  if (PQstatus(lease.conn()) != CONNECTION_OK) lease.discard(/*server_lost=*/true);
  return {};
}

// The reference page (docs/index.html, compiled in): it renders the OpenAPI document
// that the API serves, so it needs nothing at runtime and fetches nothing elsewhere.
Response docs(const Request&, Services&) {
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body.assign(kDocsHtml, kDocsHtmlSize);
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                         "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'");
  return r;
}

Response metrics(const Request&, Services& s) {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = s.metrics.render({
      {"sk_db_pool_size", "Connections the database pool may hold.", static_cast<double>(s.pool.size())},
      {"sk_db_pool_in_use", "Pooled connections currently checked out.", static_cast<double>(s.pool.in_use())},
      {"sk_db_pool_connected", "Pooled connections currently open.", static_cast<double>(s.pool.connected())},
      {"sk_db_read_lanes", "Pipelined connections that carry reads.", static_cast<double>(s.read_lanes.size())},
      {"sk_db_read_lanes_connected", "Read lanes currently connected.", static_cast<double>(s.read_lanes.connected())},
      {"sk_db_read_lane_calls", "Reads sent on a read lane and not yet answered.",
       static_cast<double>(s.read_lanes.in_flight())},
      {"sk_db_write_lanes", "Connections that carry writes, one at a time.", static_cast<double>(s.write_lanes.size())},
      {"sk_db_write_lanes_connected", "Write lanes currently connected.", static_cast<double>(s.write_lanes.connected())},
      {"sk_db_write_calls", "Writes sent on a write lane or waiting for one, not yet answered.",
       static_cast<double>(s.write_lanes.in_flight())},
      {"sk_db_writes_queued", "Writes waiting for a free write lane.", static_cast<double>(s.write_lanes.queued())},
      {"sk_http_requests_in_flight", "Requests currently being answered.", static_cast<double>(s.in_flight())},
      {"sk_workers", "Threads for API calls on the pool: reads no lane takes, retries.",
       static_cast<double>(s.workers.size())},
      {"sk_workers_queued", "Requests waiting for a worker thread.", static_cast<double>(s.workers.queued())},
      {"sk_rate_limit_tracked_keys", "API keys with a partly used rate-limit bucket.",
       static_cast<double>(s.limiter.tracked_keys())},
  });
  r.body += webhook_gauges(s);
  return r;
}

}  // namespace

std::vector<Route> default_routes() {
  const std::vector<std::string> read_only = {"GET", "HEAD"};
  return {
      // The whole REST API: one sk.invoke() call per request; routing, auth and
      // validation happen in the database. Method checks are the extension's too.
      {"/inventory/v1", true, {}, true, invoke},
      {"/healthz", false, read_only, false, now<healthz>},
      {"/readyz", false, read_only, false, blocking<readyz>},
      {"/metrics", false, read_only, false, blocking<metrics>},
      // MCP (Streamable HTTP): JSON-RPC answered by the extension through the same
      // sk.invoke() call; the tools run the REST routes. No SSE stream: GET is 405.
      {"/mcp", false, {"POST"}, true, invoke},
      {"/docs", false, read_only, false, now<docs>},
  };
}

const Route* match_route(const std::vector<Route>& routes, std::string_view path) {
  for (const auto& r : routes) {
    if (path == r.path) return &r;
    if (r.prefix && path.size() > r.path.size() && path.compare(0, r.path.size(), r.path) == 0 &&
        path[r.path.size()] == '/')
      return &r;
  }
  return nullptr;
}

}  // namespace sk::shim
