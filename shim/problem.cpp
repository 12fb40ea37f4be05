#include "problem.hpp"

#include "platform/api.hpp"

namespace sk::shim {

const char* reason_phrase(int status) { return api::reason_phrase(status); }

std::string problem_json(int status, std::string_view code, std::string_view detail, std::string_view request_id) {
  return api::problem_json(api::ApiError{status, std::string(code), std::string(detail), std::nullopt},
                           std::string(request_id));
}

}  // namespace sk::shim
