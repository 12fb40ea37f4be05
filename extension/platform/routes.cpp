#include "platform/routes.hpp"

#include "catalog/catalog.hpp"
#include "ledger/ledger.hpp"
#include "platform/api_keys.hpp"
#include "platform/openapi.hpp"
#include "purchasing/purchasing.hpp"
#include "reports/reports.hpp"
#include "webhooks/endpoints.hpp"

namespace sk::routes {
namespace {

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

api::Route openapi_route() {
  api::RouteSpec spec{"GET", "/openapi.json", "getOpenApi", "The OpenAPI 3.1 document of this API", "Meta"};
  spec.public_route = true;
  spec.response = schema::any_object();
  return {spec, [](const api::Call&) {
            static const std::string doc = openapi::document(specs());
            return api::json_response(doc);
          }};
}

std::vector<api::Route> build() {
  std::vector<api::Route> all;
  auto add = [&](std::vector<api::Route> more) {
    for (auto& r : more) all.push_back(std::move(r));
  };
  add(catalog::item_routes());
  add(catalog::location_routes());
  add(ledger::movement_routes());
  add(ledger::stock_routes());
  add(reports::routes());
  add(ledger::reason_code_routes());
  add(ledger::event_routes());
  add(purchasing::grn_routes());
  add(purchasing::lot_routes());
  add(purchasing::count_routes());
  add(purchasing::dayend_routes());
  add(platform::api_key_routes());
  add(webhooks::webhook_routes());
  all.push_back(openapi_route());
  return all;
}

}  // namespace

const std::vector<api::Route>& all() {
  static const std::vector<api::Route> table = build();
  return table;
}

std::vector<api::RouteSpec> specs() {
  std::vector<api::RouteSpec> out;
  for (const auto& r : all()) out.push_back(r.spec);
  return out;
}

namespace {

// Each route's path template split once, in the order of all().
const std::vector<std::vector<std::string>>& templates() {
  static const std::vector<std::vector<std::string>> split = [] {
    std::vector<std::vector<std::string>> out;
    for (const auto& r : all()) out.push_back(segments(r.spec.path));
    return out;
  }();
  return split;
}

}  // namespace

Match match(const std::string& method, const std::string& relative_path) {
  Match m;
  auto want = segments(relative_path);
  const auto& routes = all();
  for (size_t k = 0; k < routes.size(); ++k) {
    const auto& r = routes[k];
    const auto& have = templates()[k];
    if (have.size() != want.size()) continue;
    std::string id;
    bool ok = true;
    for (size_t i = 0; ok && i < have.size(); ++i) {
      if (have[i] == "{id}") {
        id = want[i];
        ok = !id.empty();
      } else {
        ok = have[i] == want[i];
      }
    }
    if (!ok) continue;
    m.path_exists = true;
    if (r.spec.method == method) {
      m.route = &r;
      m.id = id;
      return m;
    }
  }
  return m;
}

}  // namespace sk::routes
