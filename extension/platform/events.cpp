#include "platform/events.hpp"

#include "pg/spi.hpp"
#include "webhooks/worker.hpp"

namespace sk::events {

void emit(const std::string& type, const std::string& object_json) {
  auto deliveries = pg::exec_value("SELECT sk.emit_event($1, $2::json)", {type, object_json});
  if (deliveries && *deliveries != "0") webhooks::wake_worker_at_commit();
}

// sk.emit_event's statement for many objects at once: the same delivery rule (keep the
// two identical), one statement however many events, in the order given.
void emit_many(const std::string& type, const std::vector<std::string>& object_jsons) {
  if (object_jsons.empty()) return;
  std::string array = "[";
  for (size_t i = 0; i < object_jsons.size(); ++i) array += (i ? "," : "") + object_jsons[i];
  array += "]";
  auto deliveries = pg::exec_value(
      "WITH e AS ("
      "  INSERT INTO sk.events (type, data)"
      "  SELECT $1, ('{\"object\":' || o.value::text || '}')::json"
      "    FROM json_array_elements($2::json) WITH ORDINALITY AS o(value, n) ORDER BY o.n"
      "  RETURNING id, type"
      "), d AS ("
      "  INSERT INTO sk.webhook_deliveries (endpoint_id, event_id)"
      "  SELECT w.id, e.id FROM e JOIN sk.webhook_endpoints w"
      "    ON w.status = 'enabled' AND w.deleted_at IS NULL"
      "   AND (w.enabled_events = '{*}' OR e.type = ANY (w.enabled_events))"
      "  RETURNING 1"
      ") SELECT count(*) FROM d",
      {type, array});
  if (deliveries && *deliveries != "0") webhooks::wake_worker_at_commit();
}

}  // namespace sk::events
