// The outbox: events are rows written in the same transaction as the change they
// describe, so a committed change always has its event and a rolled-back one never.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sk::events {

// `object_json` becomes data.object of the event.
void emit(const std::string& type, const std::string& object_json);
// The same for many objects of one type, in order, in one statement (batches). The
// objects must be compact JSON (no raw newline), as the SQL renderers produce.
void emit_many(const std::string& type, const std::vector<std::string>& object_jsons);

// For statements that write events themselves (with sk.event_data, the outbox rule in
// SQL): the delivery fan-out over a CTE of the inserted events (columns id, type), as a
// CTE to append (", deliveries AS (…)") and the expression that counts what it created.
// Both are empty ("", "0") while the tenant has no endpoint receiving events.
struct FanOut {
  std::string cte;
  std::string count;
};
FanOut fan_out(const std::string& events_cte);

// For events written without a statement (pg/tenant_writes): their deliveries, one per
// enabled endpoint of the tenant that subscribes to `type`, in the order of `event_ids`.
void deliver(const std::string& type, const std::vector<std::string>& event_ids);

// How many deliveries such a statement created, so the webhook worker wakes when the
// transaction commits.
void deliveries_written(uint64_t count);

// An event's data, {"object": object}, as a palloc'd text (sk.event_data in SQL).
// PostgreSQL-level: call inside pg::catching.
struct varlena* event_data(const struct varlena* object);

// From _PG_init: the fan-out's cache of endpoints follows sk.webhook_endpoints.
void register_callbacks();

}  // namespace sk::events
