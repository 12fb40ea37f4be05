// Idempotency-Key (DESIGN.md section 4). The key row is inserted before the handler
// runs, so a concurrent request with the same key waits on the unique index until the
// first one commits and then replays its stored response: exactly one effect.
#pragma once
#include <optional>
#include <string>

#include "platform/api.hpp"

namespace sk::idempotency {

// 1–255 printable ASCII characters; throws ApiError 400 otherwise.
void check_key(const std::optional<std::string>& key);

// Claims `key` for a request with `request_hash`. Returns the stored response when the
// same request already ran (replay); throws 409 when the key was used for another one;
// returns nullopt when this request is the first and must run.
std::optional<api::Response> claim(const std::string& key, const std::string& request_hash);

// Stores the response of the claimed key in the current transaction.
void record(const std::string& key, const api::Response& response);

// Deletes keys older than sk.idempotency_retention (all tenants: the caller is the
// worker or a DBA); returns how many.
uint64_t prune();

}  // namespace sk::idempotency
