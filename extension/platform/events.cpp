#include "platform/events.hpp"

#include "pg/spi.hpp"
#include "webhooks/worker.hpp"

namespace sk::events {

void emit(const std::string& type, const std::string& object_json) { emit_many(type, {object_json}); }

// The outbox statement: the events and, for each, one delivery per enabled endpoint that
// subscribes to its type, in one statement however many events, in the order given.
void emit_many(const std::string& type, const std::vector<std::string>& object_jsons) {
  if (object_jsons.empty()) return;
  // One object per line (compact JSON has no raw newline): splitting lines is much
  // cheaper than parsing a JSON array only to take it apart again.
  std::string lines;
  for (size_t i = 0; i < object_jsons.size(); ++i) {
    if (object_jsons[i].find('\n') != std::string::npos) throw std::invalid_argument("events::emit_many takes compact JSON");
    lines += (i ? "\n" : "") + object_jsons[i];
  }
  auto deliveries = pg::exec_value(
      "WITH e AS ("
      "  INSERT INTO sk.events (type, data)"
      "  SELECT $1, ('{\"object\":' || o.value || '}')::json"
      "    FROM string_to_table($2, E'\\n') WITH ORDINALITY AS o(value, n) ORDER BY o.n"
      "  RETURNING id, type"
      "), d AS ("
      "  INSERT INTO sk.webhook_deliveries (endpoint_id, event_id)"
      "  SELECT w.id, e.id FROM e JOIN sk.webhook_endpoints w"
      "    ON w.status = 'enabled' AND w.deleted_at IS NULL"
      "   AND (w.enabled_events = '{*}' OR e.type = ANY (w.enabled_events))"
      "  RETURNING 1"
      ") SELECT count(*) FROM d",
      {type, lines});
  if (deliveries && *deliveries != "0") webhooks::wake_worker_at_commit();
}

}  // namespace sk::events
