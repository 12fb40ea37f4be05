// The extension's settings (GUCs), defined once at load (appendix B).
#pragma once
#include <string>

namespace sk::settings {

void define();
const char* idempotency_retention();   // interval, default 30d
const char* event_retention();         // interval, default 90d
std::string webhook_retry_schedule();  // e.g. "5s,5min,30min,2h,5h,10h,10h"
std::string webhook_allowed_cidrs();   // live-mode allow-list for private addresses
int webhook_timeout_ms();
int scheduler_interval_ms();          // how often the worker runs its scheduled jobs
const char* worker_database();

}  // namespace sk::settings
