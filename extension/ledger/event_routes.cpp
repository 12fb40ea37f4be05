// GET /events and GET /events/{id}: the outbox as the API shows it. Events are written
// by the changes themselves (events::emit, same transaction); delivery is the webhooks'.
#include "ledger/ledger.hpp"
#include "pg/spi.hpp"
#include "platform/list.hpp"

namespace sk::ledger {

using namespace sk::schema;
using api::text_param;

namespace {

api::Response get_event(const api::Call& call) {
  return list::object_or_404("SELECT sk.event_object(e)::text FROM sk.events e WHERE e.id = $1", call);
}

// The movement.recorded events are most of the log and have no type index (see
// events_type_idx): they page along the primary key, every other type along that index.
constexpr const char* kMostCommonType = "movement.recorded";

api::Response list_events(const api::Call& call) {
  const auto& q = call.query;
  auto type = text_param(q, "type");
  list::Query query("sk.event_object(e)::text", "sk.events e", "e");
  query.where("e.type = ?", type)
      .where("e.created_at >= ?::timestamptz", text_param(q, "created_gte"))
      .where("e.created_at < ?::timestamptz", text_param(q, "created_lt"));
  if (type && *type != kMostCommonType) query.filter(std::string("e.type <> '") + kMostCommonType + "'");
  return query.run(call);
}

}  // namespace

std::vector<api::Route> event_routes() {
  std::vector<api::Route> routes;

  api::RouteSpec list{"GET", "/events", "listEvents", "List events, newest first", "Events", api::Scope::Read};
  list.query = list::query_schema("evt", {
      optional("type", pattern_string(schema::patterns::event_type, "an event type such as movement.recorded", 100),
               "Only events of this type."),
      optional("created_gte", timestamp(), "Only events created at or after this instant."),
      optional("created_lt", timestamp(), "Only events created before this instant."),
  });
  list.response = list_of(event_object_schema());
  routes.push_back({list, list_events});

  api::RouteSpec get{"GET", "/events/{id}", "getEvent", "Retrieve an event", "Events", api::Scope::Read};
  get.id_prefix = "evt";
  get.resource = "event";
  get.response = event_object_schema();
  routes.push_back({get, get_event});
  return routes;
}

}  // namespace sk::ledger
