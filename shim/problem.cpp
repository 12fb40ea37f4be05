#include "problem.hpp"

#include <nlohmann/json.hpp>

namespace sk::shim {

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

std::string problem_json(int status, std::string_view code, std::string_view detail, std::string_view request_id) {
  nlohmann::ordered_json j;
  j["type"] = "https://docs.softknack.com/inventory/errors/" + std::string(code);
  j["title"] = reason_phrase(status);
  j["status"] = status;
  j["detail"] = std::string(detail);
  j["code"] = std::string(code);
  j["param"] = nullptr;
  j["request_id"] = std::string(request_id);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sk::shim
