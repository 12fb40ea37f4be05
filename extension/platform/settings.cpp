#include "platform/settings.hpp"

#include "pg/postgres.hpp"
#include "webhooks/schedule.hpp"
#include "webhooks/ssrf.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace sk::settings {
namespace {
char* g_idempotency_retention = nullptr;
char* g_event_retention = nullptr;
char* g_retry_schedule = nullptr;
char* g_allowed_cidrs = nullptr;
char* g_worker_database = nullptr;
int g_webhook_timeout_ms = 10000;
int g_scheduler_interval_ms = 60000;

// Check hooks refuse a malformed value at SET / reload time instead of at delivery.
bool check_schedule(char** value, void**, GucSource) {
  try {
    if (*value && sk::webhooks::parse_schedule(*value)) return true;
  } catch (...) {
  }
  GUC_check_errdetail("Use comma-separated durations such as 5s,5min,30min,2h (units ms, s, min, h, d).");
  return false;
}

bool check_cidrs(char** value, void**, GucSource) {
  try {
    if (!*value || sk::webhooks::parse_cidrs(*value)) return true;
  } catch (...) {
  }
  GUC_check_errdetail("Use comma-separated CIDR blocks such as 10.0.0.0/8, fd00::/8.");
  return false;
}

bool check_interval(char** value, void**, GucSource) {
  // The value is cast to interval in SQL; only refuse what cannot possibly be one.
  if (*value && **value && strlen(*value) < 64) return true;
  GUC_check_errdetail("Use an interval such as 30d or 12 hours.");
  return false;
}
}  // namespace

void define() {
  DefineCustomStringVariable("sk.idempotency_retention",
                             "How long Idempotency-Key records are kept before pruning (an interval such as 30d).",
                             nullptr, &g_idempotency_retention, "30d", PGC_SIGHUP, 0, check_interval, nullptr, nullptr);
  DefineCustomStringVariable("sk.event_retention",
                             "How long events and their finished webhook deliveries are kept (an interval).",
                             nullptr, &g_event_retention, "90d", PGC_SIGHUP, 0, check_interval, nullptr, nullptr);
  DefineCustomStringVariable("sk.webhook_retry_schedule",
                             "Delays before each webhook retry after the first attempt.", nullptr, &g_retry_schedule,
                             "5s,5min,30min,2h,5h,10h,10h", PGC_SIGHUP, 0, check_schedule, nullptr, nullptr);
  DefineCustomStringVariable("sk.webhook_allowed_cidrs",
                             "Private address blocks that live-mode webhook endpoints may target anyway.", nullptr,
                             &g_allowed_cidrs, "", PGC_SIGHUP, 0, check_cidrs, nullptr, nullptr);
  DefineCustomIntVariable("sk.webhook_timeout_ms", "Timeout of one webhook attempt.", nullptr, &g_webhook_timeout_ms,
                          10000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("sk.scheduler_interval", "How often the worker looks for lots entering their expiry warning window.",
                          nullptr, &g_scheduler_interval_ms, 60000, 100, 86400000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomStringVariable("sk.worker_database", "The database whose webhooks the background worker delivers.",
                             nullptr, &g_worker_database, "sk", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("sk");
}

const char* idempotency_retention() { return g_idempotency_retention ? g_idempotency_retention : "30d"; }
const char* event_retention() { return g_event_retention ? g_event_retention : "90d"; }
std::string webhook_retry_schedule() { return g_retry_schedule ? g_retry_schedule : "5s,5min,30min,2h,5h,10h,10h"; }
std::string webhook_allowed_cidrs() { return g_allowed_cidrs ? g_allowed_cidrs : ""; }
int webhook_timeout_ms() { return g_webhook_timeout_ms; }
int scheduler_interval_ms() { return g_scheduler_interval_ms; }
const char* worker_database() { return g_worker_database ? g_worker_database : "sk"; }

}  // namespace sk::settings
