#include "platform/events.hpp"

#include "pg/spi.hpp"

namespace sk::events {

void emit(const std::string& type, const std::string& object_json) {
  pg::exec("INSERT INTO sk.events (type, data) VALUES ($1, ('{\"object\":' || $2 || '}')::json)", {type, object_json});
}

}  // namespace sk::events
