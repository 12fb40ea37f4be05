// sk-shim: HTTP in front of sk.invoke() (DESIGN.md sections 1 and 10).
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <exception>

#include "config.hpp"
#include "http.hpp"
#include "invoke.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "pool.hpp"
#include "rate_limit.hpp"
#include "lanes.hpp"
#include "workers.hpp"

using namespace sk::shim;

namespace {

// Signals are taken synchronously by the main thread (sigwait), so no handler runs in
// a random worker thread and shutdown code may lock, log and allocate freely.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: all inherit it
  signal(SIGPIPE, SIG_IGN);                   // a client hanging up is not fatal
  return set;
}

}  // namespace

int main() {
  // glibc gives each new thread its own malloc arena, multiplying retained heap by the
  // number of workers. A few arenas suffice for a process that spends its time waiting
  // on PostgreSQL.
  mallopt(M_ARENA_MAX, 2);
  sigset_t signals = block_shutdown_signals();
  LogFlusher access_log_flusher;  // after the signal mask: its thread inherits it

  Config cfg;
  try {
    cfg = load_config();
  } catch (const std::exception& e) {
    log_event("error", "invalid configuration", {{"error", e.what()}});
    return 2;
  }

  try {
    Pool pool(cfg.database_url, cfg.pool_size, cfg.request_timeout_ms, prepare_invoke);
    // As many workers as pooled connections: what blocks is mostly waiting for one.
    Workers workers(cfg.pool_size);
    Workers ops(2, "sk-ops");
    const std::chrono::milliseconds timeout(cfg.request_timeout_ms);
    Lanes read_lanes(pool, cfg.read_lanes, cfg.read_lane_depth, Lanes::WhenFull::decline, timeout);
    Lanes write_lanes(pool, cfg.pool_size, 1, Lanes::WhenFull::queue, timeout);
    Metrics metrics;
    RateLimiter limiter(cfg.rate_limit, cfg.rate_limit_max_keys);
    HttpServer* server_ptr = nullptr;
    Services services{cfg, pool, read_lanes, write_lanes, workers, ops, metrics, limiter,
                      [&server_ptr] { return server_ptr ? server_ptr->in_flight() : 0; },
                      [&server_ptr] { return server_ptr && server_ptr->draining(); }};
    HttpServer server(services, default_routes());
    server_ptr = &server;
    server.start();
    log_event("info", "listening",
              {{"host", cfg.http_host}, {"port", cfg.http_port}, {"pool_size", cfg.pool_size}, {"read_lanes", cfg.read_lanes},
               {"request_timeout_ms", cfg.request_timeout_ms}, {"rate_limit", cfg.rate_limit},
               {"max_connections", cfg.max_connections}});

    int sig = 0;
    sigwait(&signals, &sig);
    log_event("info", "shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                                        {"in_flight", server.in_flight()}});
    server.quiesce();
    if (!server.wait_idle(std::chrono::milliseconds(cfg.shutdown_grace_ms))) {
      // Past the grace period: cancel the statements still running so their threads
      // return (with 503 request_timeout) and MHD can join them.
      log_event("warn", "grace period over, cancelling in-flight requests", {{"in_flight", server.in_flight()}});
      pool.cancel_in_use();
      read_lanes.cancel_in_flight();
      write_lanes.cancel_in_flight();
      server.wait_idle(std::chrono::milliseconds(2000));
    }
    // Every suspended connection is answered before MHD stops (it may not stop with one):
    // the lanes and workers finish what they hold, and a later request that needs a
    // worker is answered 503 at once.
    read_lanes.stop();
    write_lanes.stop();
    workers.stop();
    ops.stop();
    server.stop();
    pool.close();
    log_event("info", "stopped");
    return 0;
  } catch (const std::exception& e) {
    log_event("error", "fatal", {{"error", e.what()}});
    return 1;
  }
}
