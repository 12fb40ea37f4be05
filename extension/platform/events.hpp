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

// For statements that write events themselves (with sk.event_data and sk.subscribers,
// the outbox rules in SQL): how many deliveries they created, so the webhook worker
// wakes when the transaction commits.
void deliveries_written(uint64_t count);

}  // namespace sk::events
