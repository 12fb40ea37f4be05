// Module entry: PostgreSQL loads this from shared_preload_libraries (the webhook worker
// needs it) or on first use.
#include "ledger/catalog_facts.hpp"
#include "ledger/ledger.hpp"
#include "pg/postgres.hpp"
#include "platform/auth.hpp"
#include "platform/context.hpp"
#include "platform/currency.hpp"
#include "platform/events.hpp"
#include "platform/settings.hpp"
#include "webhooks/worker.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
void _PG_init(void) {
  sk::settings::define();
  sk::context::register_callbacks();
  sk::auth::register_callbacks();
  sk::events::register_callbacks();
  sk::currency::register_callbacks();
  sk::ledger::register_catalog_facts_callbacks();
  sk::ledger::register_stock_callbacks();
  // The worker and its wake-up latch need shared memory, so only a preloaded library
  // starts them (shared_preload_libraries = 'sk_inventory').
  if (process_shared_preload_libraries_in_progress) {
    sk::webhooks::install_shmem_hooks();
    sk::webhooks::register_worker();
  }
}
}
