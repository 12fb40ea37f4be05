// Idempotency-Key (DESIGN.md section 4). The key row is inserted with the response, in
// the transaction of the effects; a concurrent request with the same key waits on the
// unique index until the first one ends, then rolls its own effects back and replays
// the stored response: exactly one effect.
#pragma once
#include <optional>
#include <string>

#include "platform/api.hpp"

namespace sk::idempotency {

// 1–255 printable ASCII characters; throws ApiError 400 otherwise.
void check_key(const std::optional<std::string>& key);

// Stores the response of the request `request_hash` under `key` in the current
// (sub)transaction; false when the key is already taken. Waits, on the unique index,
// for a concurrent transaction holding the key to end.
bool store(const std::string& key, const std::string& request_hash, const api::Response& response);

// The stored response for a key found taken: replayed when it was stored for the same
// request; ApiError 409 idempotency_key_reused when for another.
api::Response replay(const std::string& key, const std::string& request_hash);

// Deletes keys older than sk.idempotency_retention (all tenants: the caller is the
// worker or a DBA); returns how many.
uint64_t prune();

}  // namespace sk::idempotency
