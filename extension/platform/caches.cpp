#include "platform/caches.hpp"

#include <cstring>
#include <vector>

#include "pg/postgres.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/inval.h"
}

namespace sk::caches {
namespace {

struct Watched {
  const char* table;
  Clear clear;
  Oid relid = InvalidOid;  // learnt when the cache is filled
};

std::vector<Watched>& watched() {
  static std::vector<Watched> w;
  return w;
}

void on_relcache_invalidation(Datum, Oid relid) {
  for (auto& w : watched())
    if (relid == InvalidOid || relid == w.relid) {
      w.clear();
      w.relid = InvalidOid;
    }
}

}  // namespace

void watch(const char* table, Clear clear) {
  if (watched().empty()) CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
  watched().push_back({table, clear});
}

void filled(const char* table) {
  for (auto& w : watched())
    if (w.relid == InvalidOid && std::strcmp(w.table, table) == 0)
      w.relid = static_cast<Oid>(std::stoul(pg::exec_value("SELECT to_regclass($1)::oid::text", {std::string(table)}).value()));
}

}  // namespace sk::caches

extern "C" {
PG_FUNCTION_INFO_V1(sk_invalidate_backend_caches);

// Statement trigger on a cached table: every backend drops its caches of it once this
// transaction commits (nothing happens if it rolls back).
Datum sk_invalidate_backend_caches(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errmsg("sk.invalidate_backend_caches must be called as a trigger")));
  CacheInvalidateRelcache(reinterpret_cast<TriggerData*>(fcinfo->context)->tg_relation);
  return PointerGetDatum(nullptr);
}
}
