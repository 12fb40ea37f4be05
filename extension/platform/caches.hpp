// Backend-local caches of what a table holds (verified API keys, whether a tenant has a
// webhook endpoint), dropped whenever that table changes: the table's statement trigger
// (sk.invalidate_backend_caches) invalidates its relcache entry, which PostgreSQL sends to
// every backend when the change commits; each backend processes it before it next takes a
// lock or starts a transaction, so a cache is never read past a committed change.
#pragma once

namespace sk::caches {

using Clear = void (*)();

// From _PG_init: `clear` runs when `table` ("sk.api_keys") changes, or when PostgreSQL
// resets every relcache entry.
void watch(const char* table, Clear clear);

// A cache of `table` was filled (in this transaction, which therefore holds a lock on
// the table): its oid is learnt now, after each invalidation, since it changes when the
// extension is dropped and created again.
void filled(const char* table);

}  // namespace sk::caches
