#include "platform/settings.hpp"

#include "pg/postgres.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace sk::settings {
namespace {
char* g_idempotency_retention = nullptr;
}

void define() {
  DefineCustomStringVariable("sk.idempotency_retention",
                             "How long Idempotency-Key records are kept before pruning (an interval such as 30d).",
                             nullptr, &g_idempotency_retention, "30d", PGC_SUSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("sk");
}

const char* idempotency_retention() { return g_idempotency_retention ? g_idempotency_retention : "30d"; }

}  // namespace sk::settings
