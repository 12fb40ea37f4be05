// sk.metrics(): the webhook gauges of the shim's /metrics, across every tenant.
//
// The shim's role may only execute entry functions, and every table keeps row-level
// security forced, so this SECURITY DEFINER function (owned by sk_owner, which RLS
// binds) reads through a dedicated policy, metrics_read, that is true only while this
// C++ code is running its own fixed aggregate statements: the same idea as the
// auth_lookup policies of key verification. Nothing but counts leaves the function.
#include "pg/guard.hpp"
#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/json.hpp"

namespace sk::ops {
namespace {

bool g_metrics_read = false;

class MetricsReadScope {
 public:
  MetricsReadScope() { g_metrics_read = true; }
  ~MetricsReadScope() { g_metrics_read = false; }
  MetricsReadScope(const MetricsReadScope&) = delete;
  MetricsReadScope& operator=(const MetricsReadScope&) = delete;
};

// Outcome of each logged attempt: succeeded (2xx); dead (the failed last attempt of a
// delivery that is now dead); retrying (any other failure: another attempt followed or
// is scheduled).
constexpr const char* kSql =
    "SELECT (SELECT count(*) FROM sk.webhook_deliveries WHERE status IN ('pending', 'retrying'))::text, "
    "       (SELECT count(*) FROM sk.webhook_deliveries WHERE status = 'dead')::text, "
    "       count(*) FILTER (WHERE a.status_code BETWEEN 200 AND 299)::text, "
    "       count(*) FILTER (WHERE NOT coalesce(a.status_code BETWEEN 200 AND 299, false) "
    "                         AND NOT (d.status = 'dead' AND a.attempt = d.attempt_count))::text, "
    "       count(*) FILTER (WHERE NOT coalesce(a.status_code BETWEEN 200 AND 299, false) "
    "                         AND d.status = 'dead' AND a.attempt = d.attempt_count)::text "
    "  FROM sk.webhook_attempts a "
    "  LEFT JOIN sk.webhook_deliveries d "
    "    ON (d.account_id, d.livemode, d.id) = (a.account_id, a.livemode, a.delivery_id)";

std::string metrics_json() {
  pg::SpiSession spi;
  MetricsReadScope scope;
  auto r = pg::exec(kSql);
  const pg::Row& row = r.rows.at(0);
  using json::Value;
  return Value::object({
                           {"webhook_queue_depth", Value::number(row.text(0))},
                           {"webhook_dead_letters", Value::number(row.text(1))},
                           {"webhook_attempts", Value::object({
                                                    {"succeeded", Value::number(row.text(2))},
                                                    {"retrying", Value::number(row.text(3))},
                                                    {"dead", Value::number(row.text(4))},
                                                })},
                       })
      .dump();
}

}  // namespace
}  // namespace sk::ops

extern "C" {
PG_FUNCTION_INFO_V1(sk_metrics);
PG_FUNCTION_INFO_V1(sk_metrics_read_active);

Datum sk_metrics(PG_FUNCTION_ARGS) {
  return sk::pg::guarded([&]() -> Datum { return sk::pg::text_datum(sk::ops::metrics_json()); });
}

Datum sk_metrics_read_active(PG_FUNCTION_ARGS) { return BoolGetDatum(sk::ops::g_metrics_read); }
}
