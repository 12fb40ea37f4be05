// The webhook worker: a background worker inside PostgreSQL that delivers the outbox.
#pragma once

namespace sk::webhooks {

// From _PG_init while shared_preload_libraries is being processed.
void register_worker();
void install_shmem_hooks();
// Called by the outbox writer (events::deliver) when it created deliveries: the worker's latch is
// set when this transaction commits, so the happy path has no polling delay.
void wake_worker_at_commit();

}  // namespace sk::webhooks
