// The route table: every API route of every domain, assembled in one place.
#pragma once
#include <string>
#include <vector>

#include "platform/api.hpp"

namespace sk::routes {

const std::vector<api::Route>& all();
std::vector<api::RouteSpec> specs();

struct Match {
  const api::Route* route = nullptr;  // null: no route for this method
  bool path_exists = false;           // some method serves this path (405 vs 404)
  std::string id;                     // the {id} segment
};
Match match(const std::string& method, const std::string& relative_path);

}  // namespace sk::routes
