// Like pg_cron and pg_net: sleeps on its latch, wakes when a committing transaction
// created deliveries (or a retry falls due), handles SIGTERM/SIGHUP, and is restarted
// by the postmaster if it dies. Each round: claim due deliveries with a lease (SKIP
// LOCKED, so no two workers send one attempt at once), send them concurrently, record
// every attempt. A lease held by a worker that no longer runs is released at start,
// so an attempt in flight when PostgreSQL stopped is sent again after it starts.
#include "webhooks/worker.hpp"

#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/idempotency.hpp"
#include "platform/json.hpp"
#include "platform/settings.hpp"
#include "purchasing/purchasing.hpp"
#include "webhooks/schedule.hpp"
#include "webhooks/sender.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

PGDLLEXPORT void sk_webhook_worker_main(Datum);
}

#include <curl/curl.h>

namespace sk::webhooks {
namespace {

constexpr int kBatch = 500;
constexpr const char* kLease = "60 seconds";

struct SharedState {
  Latch* worker_latch;  // null while no worker runs
};
SharedState* g_shared = nullptr;
shmem_request_hook_type g_prev_request = nullptr;
shmem_startup_hook_type g_prev_startup = nullptr;
bool g_wake_pending = false;

void request_shmem() {
  if (g_prev_request) g_prev_request();
  RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
}

void startup_shmem() {
  if (g_prev_startup) g_prev_startup();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  g_shared = static_cast<SharedState*>(ShmemInitStruct("sk_inventory webhooks", sizeof(SharedState), &found));
  if (!found) g_shared->worker_latch = nullptr;
  LWLockRelease(AddinShmemInitLock);
}

void on_xact(XactEvent event, void*) {
  if (event == XACT_EVENT_COMMIT && g_wake_pending && g_shared) {
    Latch* latch = g_shared->worker_latch;
    if (latch) SetLatch(latch);
  }
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
      event == XACT_EVENT_PARALLEL_COMMIT)
    g_wake_pending = false;
}

void clear_latch(int, Datum) {
  if (g_shared) g_shared->worker_latch = nullptr;
}

// One transaction of the worker; a PostgreSQL error aborts it and propagates.
template <class Body>
void in_transaction(Body&& body) {
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  try {
    pg::SpiSession spi;
    body();
  } catch (...) {
    AbortCurrentTransaction();
    throw;
  }
  PopActiveSnapshot();
  CommitTransactionCommand();
}

struct Claimed {
  std::string account_id, livemode, id, endpoint_id;
  int attempt;   // the number of this attempt over the delivery's life
  int tries;     // attempts since it was (re)queued, this one included
  Outgoing out;
};

// Queued deliveries the worker can send: to an endpoint of their own tenant that
// receives events, of an event that exists. Claiming and waiting both read this, so a
// delivery that cannot be sent neither holds up the queue nor makes the wait zero.
// OFFSET 0 keeps each EXISTS a per-row probe of a primary key, read along the queue's
// index: as a semi-join, a plan made while the queue looked large hashed every event.
constexpr const char* kSendable =
    "d.status IN ('pending', 'retrying') "
    "AND EXISTS (SELECT FROM sk.receiving_endpoints() w "
    "             WHERE (w.account_id, w.livemode, w.id) = (d.account_id, d.livemode, d.endpoint_id) OFFSET 0) "
    "AND EXISTS (SELECT FROM sk.events e "
    "             WHERE (e.account_id, e.livemode, e.id) = (d.account_id, d.livemode, d.event_id) OFFSET 0)";

std::vector<Claimed> claim() {
  std::vector<Claimed> claimed;
  in_transaction([&] {
    // The due rows are locked and leased by their ctids (a TID scan of exactly those
    // rows), and the endpoint and event joined to the leased rows only: a join of the
    // queue to the claimed batch was planned, on a misestimated queue, as a scan of the
    // queue for each claimed row (1 s per batch of 500).
    auto r = pg::exec(
        std::string("WITH leased AS ("
                    "  UPDATE sk.webhook_deliveries d SET lease_until = now() + $2::interval, lease_owner = $3::int "
                    "   WHERE d.ctid = ANY (ARRAY("
                    "     SELECT d.ctid FROM sk.webhook_deliveries d"  // `d`: the name kSendable uses
                    "       WHERE ") + kSendable + " AND d.next_attempt_at <= now()"
        "         AND (d.lease_until IS NULL OR d.lease_until < now())"
        "       ORDER BY d.next_attempt_at LIMIT $1::int FOR UPDATE OF d SKIP LOCKED)) "
        "  RETURNING d.account_id, d.livemode, d.id, d.endpoint_id, d.event_id, d.attempt_count, d.tries) "
        "SELECT l.account_id, l.livemode::text, l.id, l.endpoint_id, l.attempt_count + 1, l.tries + 1, "
        "  w.url, e.id, sk.event_object(e)::text, w.secret, "
        "  CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END "
        "  FROM leased l "
        "  JOIN sk.receiving_endpoints() w ON (w.account_id, w.livemode, w.id) = (l.account_id, l.livemode, l.endpoint_id) "
        "  JOIN sk.events e ON (e.account_id, e.livemode, e.id) = (l.account_id, l.livemode, l.event_id)",
        {std::to_string(kBatch), std::string(kLease), std::to_string(MyProcPid)});
    for (const auto& row : r.rows) {
      Claimed c{row.text(0), row.text(1), row.text(2), row.text(3), std::stoi(row.text(4)), std::stoi(row.text(5)), {}};
      c.out.url = row.text(6);
      c.out.msg_id = row.text(7);
      c.out.body = row.text(8);
      c.out.secrets.push_back(row.text(9));
      if (row[10]) c.out.secrets.push_back(*row[10]);
      c.out.enforce_public = c.livemode == "true";
      claimed.push_back(std::move(c));
    }
  });
  return claimed;
}

bool retryable(const Outcome& o) { return o.status_code == 0 || o.status_code == 429 || o.status_code >= 500; }

// Records every attempt and moves each delivery on: succeeded, retrying (at the next
// delay of the fixed schedule), or dead. 410 Gone disables the endpoint.
void record(const std::vector<Claimed>& claimed, const std::vector<Outcome>& outcomes) {
  auto schedule = parse_schedule(settings::webhook_retry_schedule()).value_or(std::vector<long long>{5000});
  json::Value rows = json::Value::array();
  json::Value gone = json::Value::array();
  for (size_t i = 0; i < claimed.size(); ++i) {
    const Claimed& c = claimed[i];
    const Outcome& o = outcomes[i];
    if (o.error == "shutdown") continue;  // never attempted to the end: the lease lapses, it is sent again
    std::string status;
    long long delay = 0;
    if (o.status_code >= 200 && o.status_code < 300) {
      status = "succeeded";
    } else if (retryable(o) && static_cast<size_t>(c.tries) <= schedule.size()) {
      status = "retrying";
      delay = schedule[static_cast<size_t>(c.tries) - 1];
    } else {
      status = "dead";
    }
    if (o.status_code == 410) gone.push(json::Value::object({{"account_id", json::Value::string(c.account_id)},
                                                             {"livemode", json::Value::boolean(c.livemode == "true")},
                                                             {"id", json::Value::string(c.endpoint_id)}}));
    rows.push(json::Value::object({
        {"account_id", json::Value::string(c.account_id)},
        {"livemode", json::Value::boolean(c.livemode == "true")},
        {"id", json::Value::string(c.id)},
        {"attempt", json::Value::number(std::to_string(c.attempt))},
        {"attempted_at_ms", json::Value::number(std::to_string(o.attempted_at_ms))},
        {"status_code", o.status_code ? json::Value::number(std::to_string(o.status_code)) : json::Value::null()},
        {"error", o.error.empty() ? json::Value::null() : json::Value::string(o.error)},
        {"latency_ms", json::Value::number(std::to_string(o.latency_ms))},
        {"excerpt", json::Value::string(o.excerpt)},
        {"status", json::Value::string(status)},
        {"delay_ms", json::Value::number(std::to_string(delay))},
    }));
  }
  if (rows.items().empty()) return;
  in_transaction([&] {
    // Invalid UTF-8 or NULs in a response excerpt must not lose the attempt record.
    pg::exec(
        "WITH r AS (SELECT * FROM json_to_recordset($1::json) AS x(account_id text, livemode boolean, id text, "
        "    attempt int, attempted_at_ms bigint, status_code int, error text, latency_ms int, excerpt text, "
        "    status text, delay_ms bigint)), "
        "a AS (INSERT INTO sk.webhook_attempts SELECT account_id, livemode, id, attempt, "
        "    to_timestamp(attempted_at_ms / 1000.0), status_code, error, latency_ms, excerpt FROM r) "
        // A delivery stopped while in flight (its endpoint was disabled: status dead)
        // stays a dead letter, with the reason it was stopped, unless this very attempt
        // delivered it. SET expressions read the row as it was before the update.
        "UPDATE sk.webhook_deliveries d SET attempt_count = r.attempt, tries = d.tries + 1, "
        "    status = CASE WHEN d.status = 'dead' AND r.status <> 'succeeded' THEN 'dead' ELSE r.status END, "
        "    next_attempt_at = CASE WHEN r.status = 'retrying' AND d.status <> 'dead' "
        "                           THEN now() + r.delay_ms * interval '1 ms' END, "
        "    lease_until = NULL, lease_owner = NULL, last_status_code = r.status_code, "
        "    last_error = CASE WHEN d.status = 'dead' AND r.status <> 'succeeded' THEN d.last_error ELSE r.error END, "
        "    updated_at = now() "
        "  FROM r WHERE (d.account_id, d.livemode, d.id) = (r.account_id, r.livemode, r.id)",
        {rows.dump()});
    if (!gone.items().empty())
      pg::exec(
          "WITH g AS (SELECT * FROM json_to_recordset($1::json) AS x(account_id text, livemode boolean, id text)), "
          "off AS (UPDATE sk.webhook_endpoints w SET status = 'disabled', disabled_reason = 'The endpoint answered 410 Gone.', "
          "    updated_at = now() FROM g WHERE (w.account_id, w.livemode, w.id) = (g.account_id, g.livemode, g.id)) "
          "SELECT sk.stop_queued_deliveries(g.account_id, g.livemode, g.id, 'endpoint disabled') FROM g",
          {gone.dump()});
  });
}

// Queued deliveries that can never be sent become dead letters, replayable once their
// endpoint receives again: an event written while its endpoint was being disabled
// queues a delivery the disabling did not see; an endpoint or event may be gone.
void bury_unsendable() {
  pg::exec(std::string("UPDATE sk.webhook_deliveries d SET status = 'dead', next_attempt_at = NULL, lease_until = NULL, "
                       "    lease_owner = NULL, last_error = 'endpoint not receiving', updated_at = now() "
                       "  WHERE d.status IN ('pending', 'retrying') AND NOT (") + kSendable + ")");
}

// Leases of workers that are gone (a crash, an immediate shutdown) are released.
void release_orphaned_leases() {
  in_transaction([] {
    pg::exec(
        "UPDATE sk.webhook_deliveries SET lease_until = NULL, lease_owner = NULL "
        " WHERE lease_owner IS NOT NULL AND lease_owner NOT IN ("
        "   SELECT pid FROM pg_stat_activity WHERE backend_type = 'sk_inventory webhook worker')");
  });
}

// Retention: idempotency keys, and events past sk.event_retention with their finished
// deliveries and attempts. Whole-table work, so it runs hourly, not every round.
void prune_expired() {
  in_transaction([] {
    idempotency::prune();
    pg::exec(
        "WITH old AS (DELETE FROM sk.webhook_deliveries WHERE created_at < now() - $1::interval "
        "   AND status IN ('succeeded', 'dead') RETURNING account_id, livemode, id) "
        "DELETE FROM sk.webhook_attempts a USING old "
        " WHERE (a.account_id, a.livemode, a.delivery_id) = (old.account_id, old.livemode, old.id)",
        {std::string(settings::event_retention())});
    pg::exec(
        "DELETE FROM sk.events e WHERE e.created_at < now() - $1::interval AND NOT EXISTS ("
        "  SELECT FROM sk.webhook_deliveries d WHERE (d.account_id, d.livemode, d.event_id) = (e.account_id, e.livemode, e.id))",
        {std::string(settings::event_retention())});
  });
}

// Runs `job` when `interval` has passed since it last ran.
template <class Job>
void every(std::chrono::steady_clock::time_point& last, std::chrono::milliseconds interval, Job&& job) {
  auto now = std::chrono::steady_clock::now();
  if (last != std::chrono::steady_clock::time_point{} && now - last < interval) return;
  job();
  last = now;
}

// Milliseconds until the next delivery falls due (capped: the latch covers new work).
long next_wait_ms() {
  long wait = 1000;
  in_transaction([&] {
    // The first sendable delivery along the queue's index; no row when there is none.
    auto v = pg::exec_value(
        std::string("SELECT greatest(0, ceil(extract(epoch FROM d.next_attempt_at - now()) * 1000))::bigint "
                    "  FROM sk.webhook_deliveries d WHERE ") + kSendable + " ORDER BY d.next_attempt_at LIMIT 1");
    if (v) wait = std::min(wait, std::stol(*v));
  });
  return wait;
}

void run() {
  Sender sender;
  bool leases_checked = false;
  std::chrono::steady_clock::time_point last_scan{}, last_prune{};
  while (!ShutdownRequestPending) {
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
    try {
      if (!leases_checked) {
        release_orphaned_leases();
        leases_checked = true;
      }
      for (;;) {
        auto claimed = claim();
        if (claimed.empty()) break;
        std::vector<Outgoing> batch;
        batch.reserve(claimed.size());
        for (const auto& c : claimed) batch.push_back(c.out);
        auto allow = parse_cidrs(settings::webhook_allowed_cidrs()).value_or(std::vector<Cidr>{});
        pgstat_report_activity(STATE_RUNNING, "delivering webhooks");
        auto outcomes = sender.send(batch, settings::webhook_timeout_ms(), allow,
                                    [] { return static_cast<bool>(ShutdownRequestPending); });
        record(claimed, outcomes);
        pgstat_report_activity(STATE_IDLE, nullptr);
        if (ShutdownRequestPending || claimed.size() < static_cast<size_t>(kBatch)) break;
      }
      // The scheduler: lot.expiring and unsendable deliveries every sk.scheduler_interval,
      // retention hourly.
      every(last_scan, std::chrono::milliseconds(settings::scheduler_interval_ms()), [] {
        in_transaction([] {
          purchasing::scan_expiring_lots();
          bury_unsendable();
        });
      });
      every(last_prune, std::chrono::hours(1), prune_expired);
      long wait = next_wait_ms();
      if (wait > 0 && !ShutdownRequestPending)
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait, PG_WAIT_EXTENSION);
    } catch (const std::exception& e) {
      // Typically the extension is not (yet) created in this database; a commit that
      // creates deliveries sets the latch, so waiting longer delays nothing real.
      elog(LOG, "sk_inventory webhook worker: %s", e.what());
      (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 5000, PG_WAIT_EXTENSION);
    }
  }
}

}  // namespace

void install_shmem_hooks() {
  g_prev_request = shmem_request_hook;
  shmem_request_hook = request_shmem;
  g_prev_startup = shmem_startup_hook;
  shmem_startup_hook = startup_shmem;
  RegisterXactCallback(on_xact, nullptr);
}

void register_worker() {
  BackgroundWorker w;
  memset(&w, 0, sizeof w);
  w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  w.bgw_start_time = BgWorkerStart_RecoveryFinished;
  w.bgw_restart_time = 5;
  snprintf(w.bgw_library_name, BGW_MAXLEN, "sk_inventory");
  snprintf(w.bgw_function_name, BGW_MAXLEN, "sk_webhook_worker_main");
  snprintf(w.bgw_name, BGW_MAXLEN, "sk_inventory webhook worker");
  snprintf(w.bgw_type, BGW_MAXLEN, "sk_inventory webhook worker");
  RegisterBackgroundWorker(&w);
}

void wake_worker_at_commit() { g_wake_pending = true; }

}  // namespace sk::webhooks

extern "C" void sk_webhook_worker_main(Datum) {
  pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(sk::settings::worker_database(), nullptr, 0);
  pgstat_report_appname("sk_inventory webhook worker");
  if (sk::webhooks::g_shared) sk::webhooks::g_shared->worker_latch = MyLatch;
  on_shmem_exit(sk::webhooks::clear_latch, 0);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int status = 0;  // exit 0 unregisters a background worker: only for a requested shutdown
  try {
    sk::webhooks::run();
  } catch (...) {
    // run() handles its own errors; anything else ends the process and the postmaster
    // restarts the worker after bgw_restart_time.
    status = 1;
  }
  curl_global_cleanup();
  proc_exit(status);
}
