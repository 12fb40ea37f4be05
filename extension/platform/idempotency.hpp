// Idempotency-Key (DESIGN.md section 4). The key row is inserted with the response, in
// the transaction of the effects; a concurrent request with the same key waits on the
// unique index until the first one ends, then rolls its own effects back and replays
// the stored response: exactly one effect.
#pragma once
#include <optional>
#include <string>

#include "pg/spi.hpp"
#include "pg/tenant_writes.hpp"
#include "platform/api.hpp"

namespace sk::idempotency {

// 1–255 printable ASCII characters; throws ApiError 400 otherwise.
void check_key(const std::optional<std::string>& key);

// The key row for a writer without a statement (pg/tenant_writes, a posting's): its
// columns, and their values with the body left for the caller (NULL at kRowBody), since a
// posting's body is the movement it renders while writing. Text values are palloc'd.
constexpr int kRowWidth = 6, kRowBody = 4;
extern const pg::WriterColumn kRowColumns[kRowWidth];
struct RowValues {
  uintptr_t values[kRowWidth];
  bool nulls[kRowWidth];
};
RowValues row_values(const api::IdempotencyClaim& claim, const api::Response& response);

// Whether `e` is the unique violation of a key already taken (by a retry, or by a
// concurrent request the insert waited for). The (sub)transaction is then aborted.
bool key_taken(const pg::PgError& e);

// Inserts the key row inside a subtransaction the caller rolls back when it fails with
// `key_taken`: a plain insert costs less than ON CONFLICT's speculative insertion.
void insert(const api::IdempotencyClaim& claim, const api::Response& response);

// The same where an error must not abort the transaction: false when the key is taken.
bool store(const api::IdempotencyClaim& claim, const api::Response& response);

// The stored response for a key found taken: replayed when it was stored for the same
// request; ApiError 409 idempotency_key_reused when for another.
api::Response replay(const std::string& key, const std::string& request_hash);

// Deletes keys older than sk.idempotency_retention (all tenants: the caller is the
// worker or a DBA); returns how many.
uint64_t prune();

}  // namespace sk::idempotency
