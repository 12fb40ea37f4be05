// Key routes (appendix A): restricted keys with scopes, revocation and rolling.
#pragma once
#include <string>
#include <vector>

#include "platform/api.hpp"

namespace sk::platform {

std::vector<api::Route> api_key_routes();

// Issues a successor of `key_id` (same kind, scopes and name) and lets the old key
// expire after `grace` (an interval). Needs the key's tenant as context. Returns the
// new key's object with its secret.
std::string roll_key(const std::string& key_id, const std::string& grace);

// The account's shared shapes.
schema::Schema api_key_object_schema();

}  // namespace sk::platform
