#include "platform/events.hpp"

#include <map>

#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/caches.hpp"
#include "platform/context.hpp"
#include "webhooks/worker.hpp"

namespace sk::events {

namespace {

// Whether the tenant has an endpoint receiving events, per backend: most accounts have
// none, and then the fan-out (an insert into a table with three indexes, and a scan of the
// endpoints) is not run. Dropped when sk.webhook_endpoints changes.
constexpr const char* kTable = "sk.webhook_endpoints";
std::map<std::pair<std::string, bool>, bool> g_receivers;

void forget_receivers() { g_receivers.clear(); }

bool receivers_exist() {
  auto tenant = context::tenant();
  if (!tenant) return true;  // no tenant to cache for: always fan out
  auto key = std::make_pair(tenant->account_id, tenant->livemode);
  if (auto it = g_receivers.find(key); it != g_receivers.end()) return it->second;
  bool exist = pg::exec_value("SELECT EXISTS (SELECT FROM sk.tenant_receiving_endpoints())::text") == "true";
  caches::filled(kTable);
  return g_receivers[key] = exist;
}

}  // namespace

void register_callbacks() { caches::watch(kTable, forget_receivers); }

void emit(const std::string& type, const std::string& object_json) { emit_many(type, {object_json}); }

// The outbox statement: the events, in one statement however many, in the order given;
// then their deliveries.
void emit_many(const std::string& type, const std::vector<std::string>& object_jsons) {
  if (object_jsons.empty()) return;
  // One object per line (compact JSON has no raw newline): splitting lines is much
  // cheaper than parsing a JSON array only to take it apart again.
  std::string lines;
  for (size_t i = 0; i < object_jsons.size(); ++i) {
    if (object_jsons[i].find('\n') != std::string::npos) throw std::invalid_argument("events::emit_many takes compact JSON");
    lines += (i ? "\n" : "") + object_jsons[i];
  }
  std::vector<std::string> ids;
  for (const auto& row : pg::exec("INSERT INTO sk.events (type, data)"
                                  "  SELECT $1, sk.event_data(o.value::json)"
                                  "    FROM string_to_table($2, E'\\n') WITH ORDINALITY AS o(value, n) ORDER BY o.n"
                                  "  RETURNING id",
                                  {type, lines})
                             .rows)
    ids.push_back(row.text(0));
  deliver(type, ids);
}

void deliver(const std::string& type, const std::vector<std::string>& event_ids) {
  if (event_ids.empty() || !receivers_exist()) return;
  auto deliveries = pg::exec_value(
      "WITH d AS ("
      "  INSERT INTO sk.webhook_deliveries (endpoint_id, event_id)"
      "  SELECT s.endpoint_id, e.id FROM unnest($2::text[]) WITH ORDINALITY AS e(id, n) CROSS JOIN LATERAL sk.subscribers($1) s"
      "   ORDER BY e.n"
      "  RETURNING 1) SELECT count(*) FROM d",
      {type, pg::text_array(event_ids)});
  // The worker wakes when the transaction commits, if this created any.
  if (std::stoull(deliveries.value_or("0")) > 0) webhooks::wake_worker_at_commit();
}

}  // namespace sk::events

namespace sk::events {

// '{"object":' || object || '}'. The object is JSON already, so wrapping it keeps it
// valid without a second parse.
text* event_data(const text* object) {
  static constexpr char kOpen[] = "{\"object\":";
  size_t n = VARSIZE_ANY_EXHDR(object);
  size_t open = sizeof kOpen - 1;
  text* out = static_cast<text*>(palloc(VARHDRSZ + open + n + 1));
  SET_VARSIZE(out, VARHDRSZ + open + n + 1);
  memcpy(VARDATA(out), kOpen, open);
  memcpy(VARDATA(out) + open, VARDATA_ANY(object), n);
  VARDATA(out)[open + n] = '}';
  return out;
}

}  // namespace sk::events

extern "C" {
PG_FUNCTION_INFO_V1(sk_event_data);

// sk.event_data(object json): the outbox rule in SQL.
Datum sk_event_data(PG_FUNCTION_ARGS) { PG_RETURN_TEXT_P(sk::events::event_data(PG_GETARG_TEXT_PP(0))); }
}
