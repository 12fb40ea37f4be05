// RFC 9457 problem documents for the errors the shim answers itself (DESIGN.md section
// 4, "Errors"). Everything else comes from sk.invoke() byte for byte.
#pragma once
#include <string>
#include <string_view>

namespace sk::shim {

inline constexpr const char* kProblemContentType = "application/problem+json";

// Standard reason phrase ("Too Many Requests"), or "Error" for an unknown status.
const char* reason_phrase(int status);

// {"type":"https://docs.softknack.com/inventory/errors/<code>","title":..,"status":..,
//  "detail":..,"code":..,"param":null,"request_id":..} in exactly that key order.
std::string problem_json(int status, std::string_view code, std::string_view detail, std::string_view request_id);

}  // namespace sk::shim
