// The outbox: events are rows written in the same transaction as the change they
// describe, so a committed change always has its event and a rolled-back one never.
#pragma once
#include <string>
#include <vector>

namespace sk::events {

// `object_json` becomes data.object of the event.
void emit(const std::string& type, const std::string& object_json);
// The same for many objects of one type, in order, in one statement (batches), then their
// deliveries. The objects must be compact JSON (no raw newline), as the SQL renderers
// produce.
void emit_many(const std::string& type, const std::vector<std::string>& object_jsons);

// The deliveries of events already written (by emit_many, or without a statement by a
// posting, pg/tenant_writes): one per enabled endpoint of the tenant that subscribes to
// `type`, in the order of `event_ids`; the webhook worker wakes when the transaction
// commits. Nothing while the tenant has no endpoint receiving events (cached).
void deliver(const std::string& type, const std::vector<std::string>& event_ids);

// An event's data, {"object": object}, as a palloc'd text (sk.event_data in SQL).
// PostgreSQL-level: call inside pg::catching.
struct varlena* event_data(const struct varlena* object);

// From _PG_init: the fan-out's cache of endpoints follows sk.webhook_endpoints.
void register_callbacks();

}  // namespace sk::events
