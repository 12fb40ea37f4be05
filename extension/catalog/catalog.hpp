// The catalogue: items and locations (appendix A).
#pragma once
#include <vector>

#include "platform/api.hpp"

namespace sk::catalog {

std::vector<api::Route> item_routes();
std::vector<api::Route> location_routes();

schema::Schema item_object_schema();
schema::Schema location_object_schema();

}  // namespace sk::catalog
