// Generates the OpenAPI 3.1 document from the route specs: the same validators that
// check requests describe them, so the published contract is the enforced one.
#pragma once
#include <string>
#include <vector>

#include "platform/api.hpp"

namespace sk::openapi {

std::string document(const std::vector<api::RouteSpec>& routes);

}  // namespace sk::openapi
