#include "platform/events.hpp"

#include "pg/spi.hpp"
#include "webhooks/worker.hpp"

namespace sk::events {

void emit(const std::string& type, const std::string& object_json) {
  auto deliveries = pg::exec_value("SELECT sk.emit_event($1, $2::json)", {type, object_json});
  if (deliveries && *deliveries != "0") webhooks::wake_worker_at_commit();
}

}  // namespace sk::events
