// Module entry: PostgreSQL loads this from shared_preload_libraries (the webhook worker
// needs it) or on first use.
#include "pg/postgres.hpp"
#include "platform/context.hpp"
#include "platform/settings.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
void _PG_init(void) {
  sk::settings::define();
  sk::context::register_callbacks();
}
}
