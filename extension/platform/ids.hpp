// Prefixed ULIDs issued by this backend (sk.new_id is the same generator from SQL).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "platform/ulid.hpp"

namespace sk::ids {

ulid::Generator& generator();  // the backend's: ids it issues are strictly increasing

// A new id greater than `floor_id` (an id with the same prefix, possibly issued by another
// backend in the same millisecond). No floor: just the next id.
std::string next_after(std::string_view prefix, const std::optional<std::string>& floor_id);

}  // namespace sk::ids
