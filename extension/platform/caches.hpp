// Backend-local caches of what a table holds (verified API keys, whether a tenant has a
// webhook endpoint), dropped whenever that table changes: the table's statement trigger
// (sk.invalidate_backend_caches) invalidates its relcache entry, which PostgreSQL sends to
// every backend when the change commits; each backend processes it before it next takes a
// lock or starts a transaction, so a cache is never read past a committed change.
#pragma once
#include <cstdint>

namespace sk::caches {

using Clear = void (*)();

// From _PG_init: `clear` runs when `table` ("sk.api_keys") changes, or when PostgreSQL
// resets every relcache entry.
void watch(const char* table, Clear clear);

// A cache of `table` was filled; `relid` is the table's oid, read in the same statement
// (the oid changes if the extension is dropped and created again).
void filled(const char* table, uint32_t relid);

}  // namespace sk::caches
