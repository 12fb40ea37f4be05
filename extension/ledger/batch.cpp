// POST /movements/batch: up to 1000 movements under one Idempotency-Key, all or
// nothing. The validators already point into the array (/movements/17/qty); the rules
// of every element run before anything is written, and one bad element fails the whole
// batch (the handler's subtransaction takes back whatever was done).
#include "ledger/ledger.hpp"
#include "ledger/posting.hpp"

namespace sk::ledger {

using namespace sk::schema;

namespace {

constexpr size_t kMaxBatch = 1000;

api::Response create_batch(const api::Call& call) {
  const json::Value& elements = *api::member(call.body, "movements");
  std::vector<MovementRequest> requests;
  requests.reserve(elements.items().size());
  for (size_t i = 0; i < elements.items().size(); ++i)
    requests.push_back(read_request(elements.items()[i], "/movements/" + std::to_string(i)));
  std::vector<Leg> legs = expand(requests);
  auto objects = post(legs);

  std::string body = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  for (size_t k = 0; k < legs.size(); ++k) {
    if (!legs[k].primary) continue;  // a transfer is answered by its source leg
    body += first ? "" : ",";
    body += objects[k];
    first = false;
  }
  body += "],\"has_more\":false,\"url\":" + json::quote(call.path) + "}";
  return api::json_response(std::move(body));
}

}  // namespace

std::vector<api::Route> batch_route() {
  api::RouteSpec s{"POST", "/movements/batch", "createMovementBatch",
                   "Record up to 1000 movements at once, all or nothing", "Movements", api::Scope::Write};
  s.body = object({
      required("movements", array(movement_request_schema(), kMaxBatch, 1),
               "The movements, applied in this order. A transfer is answered by its source leg."),
  });
  s.response = object({
      required("object", constant("list")),
      required("data", array(movement_object_schema(), kMaxBatch), "The created movements, in request order."),
      required("has_more", boolean(), "Always false."),
      required("url", string()),
  });
  s.errors = {404, 409};
  return {{s, create_batch}};
}

}  // namespace sk::ledger
